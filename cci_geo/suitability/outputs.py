"""Write a suitability result: ranked CSV, GeoPackage, GeoTIFFs and a provenance record."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._files import atomic_path, check_writable

if TYPE_CHECKING:
    from .overlay import SuitabilityResult

__all__ = ["output_paths", "write_outputs"]

logger = logging.getLogger(__name__)


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name.strip().lower())
    return keep.strip("_") or "suitability"


def output_paths(result: SuitabilityResult, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Return the files :func:`write_outputs` writes, by role.

    Roles: ``csv``, ``gpkg``, ``provenance``, ``composite`` and ``criterion:<name>``.
    """
    d = Path(out_dir)
    stem = _slug(result.scenario.name)
    paths = {"csv": d / f"{stem}_ranking.csv", "gpkg": d / f"{stem}.gpkg",
             "provenance": d / f"{stem}_provenance.json",
             "composite": d / f"{stem}_composite.tif"}
    for name in result.criteria:
        paths[f"criterion:{name}"] = d / f"{stem}_criterion_{name}.tif"
    return paths


def write_outputs(result: SuitabilityResult, out_dir: str | os.PathLike[str], *,
                  overwrite: bool = False) -> dict[str, Path]:
    """Write every output of a suitability run into ``out_dir``.

    Files (``<stem>`` is the scenario name in lower case):

    - ``<stem>_ranking.csv``: one row per candidate, best first, with raw measures, values,
      contributions, score, rank, exclusion reasons and rank stability;
    - ``<stem>.gpkg``: layers ``sites`` (the same, with geometry, EPSG:4326 or the
      candidates' CRS), ``criteria`` (the criteria table), ``stability`` (one-at-a-time
      weight ranges) and ``provenance`` (key/value);
    - ``<stem>_composite.tif`` and ``<stem>_criterion_<name>.tif``: Float32 GeoTIFFs, NaN
      nodata, provenance in the metadata tags;
    - ``<stem>_provenance.json``: scenario hash, data sources, version, seed, date, weights.

    Every file is written atomically; if any target exists and ``overwrite`` is false nothing
    is written.

    Returns
    -------
    dict
        Role -> written path.

    Raises
    ------
    FileExistsError
        If an output exists and ``overwrite`` is false.
    """
    paths = output_paths(result, out_dir)
    for p in paths.values():  # refuse before writing anything
        check_writable(p, overwrite=overwrite)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    prov = result.provenance
    table = result.ranking()
    with atomic_path(paths["csv"], overwrite=overwrite) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8")
    with atomic_path(paths["gpkg"], overwrite=overwrite) as tmp:
        sites = result.sites.copy()
        for col in sites.columns:
            if col != sites.geometry.name and sites[col].dtype == object:
                sites[col] = sites[col].map(lambda v: v if v is None else str(v))
        sites.to_file(tmp, layer="sites", driver="GPKG")
        crit = result.criteria_table.reset_index()
        _table_layer(crit, tmp, "criteria")
        if result.one_at_a_time is not None:
            _table_layer(result.one_at_a_time.reset_index(), tmp, "stability")
        flat = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in prov.items()}
        _table_layer(pd.DataFrame({"key": list(flat), "value": list(flat.values())}), tmp,
                     "provenance")
    tags = {"scenario_sha256": str(prov.get("scenario_sha256", "")),
            "data_sources": json.dumps(prov.get("layers", {}), ensure_ascii=False),
            "seed": str(prov.get("seed"))}
    result.composite.tags.update(tags)
    result.composite.to_geotiff(paths["composite"], overwrite=overwrite)
    for name, surf in result.criteria.items():
        surf.tags.update(tags)
        surf.to_geotiff(paths[f"criterion:{name}"], overwrite=overwrite)
    with atomic_path(paths["provenance"], overwrite=overwrite) as tmp:
        record = {**prov, "files": {k: p.name for k, p in paths.items()}}
        if result.one_at_a_time is not None:
            record["one_at_a_time"] = json.loads(result.one_at_a_time.to_json(orient="index"))
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str),
                       encoding="utf-8")
    logger.info("wrote %d suitability outputs to %s", len(paths), out_dir)
    return paths


def _table_layer(df: pd.DataFrame, path: Path, layer: str) -> None:
    """Append a non-spatial table to a GeoPackage."""
    import pyogrio  # noqa: PLC0415

    pyogrio.write_dataframe(df, path, layer=layer, driver="GPKG", append=path.exists())
