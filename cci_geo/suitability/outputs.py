"""Write a suitability result: ranked CSV, GeoPackage, GeoTIFFs and a provenance record."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._files import atomic_path, check_writable
from ..tables import add_district_names, criterion_columns, write_csv, write_xlsx

if TYPE_CHECKING:
    from .overlay import SuitabilityResult

__all__ = ["output_paths", "ranking_table", "write_outputs"]

# Columns of a candidate layer that only matter to the data's maintainer, not to a reader.
_HIDDEN = ("confidence", "source", "notes", "geometry")

logger = logging.getLogger(__name__)


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name.strip().lower())
    return keep.strip("_") or "suitability"


def output_paths(result: SuitabilityResult, out_dir: str | os.PathLike[str], *,
                 xlsx: bool = False) -> dict[str, Path]:
    """Return the files :func:`write_outputs` writes, by role.

    Roles: ``csv``, ``gpkg``, ``provenance``, ``composite``, ``criterion:<name>`` and, with
    ``xlsx``, ``xlsx``.
    """
    d = Path(out_dir)
    stem = _slug(result.scenario.name)
    paths = {"csv": d / f"{stem}_ranking.csv", "gpkg": d / f"{stem}.gpkg",
             "provenance": d / f"{stem}_provenance.json",
             "composite": d / f"{stem}_composite.tif"}
    for name in result.criteria:
        paths[f"criterion:{name}"] = d / f"{stem}_criterion_{name}.tif"
    if xlsx:
        paths["xlsx"] = d / f"{stem}.xlsx"
    return paths


def ranking_table(result: SuitabilityResult,
                  districts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the ranked sites as a person reads them (machine column names, full values).

    Best first; the candidate's own columns except maintenance ones (``source``, ``notes``,
    ``confidence``), with ``district_zh``/``district_en`` beside ``district`` when
    ``districts`` (a districts layer) is given, then per criterion the measured value, the 0-1
    value and the contribution to the score, then score, rank and rank stability. Pass it to
    :func:`cci_geo.tables.write_csv` with ``columns=criterion_columns(...)`` for headers.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import suitability as su
    >>> res = su.score("scenarios/old_factory_reuse.toml", atlas=cci_geo.load_demo(),
    ...                sensitivity=False)
    >>> t = ranking_table(res, cci_geo.load_demo()["districts"])
    >>> t[["district", "district_zh", "district_en"]].iloc[0].tolist()
    ['Chaoyang', '朝阳区', 'Chaoyang']
    """
    table = result.ranking()
    table = table.drop(columns=[c for c in _HIDDEN if c in table.columns])
    if districts is not None and "district" in table.columns:
        table = add_district_names(table, districts)
    return table


def write_outputs(result: SuitabilityResult, out_dir: str | os.PathLike[str], *,
                  overwrite: bool = False, xlsx: bool = False,
                  districts: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write every output of a suitability run into ``out_dir``.

    Files (``<stem>`` is the scenario name in lower case):

    - ``<stem>_ranking.csv``: one row per candidate, best first, with raw measures, values,
      contributions, score, rank, exclusion reasons and rank stability
      (:func:`ranking_table`), made for Excel by :func:`cci_geo.tables.write_csv`: UTF-8 with
      BOM, bilingual headers with units, rounded values, percentages;
    - ``<stem>.xlsx`` (with ``xlsx``): the ranking, criteria and stability tables as sheets,
      with a sources sheet;
    - ``<stem>.gpkg``: layers ``sites`` (the same, with geometry, EPSG:4326 or the
      candidates' CRS), ``criteria`` (the criteria table), ``stability`` (one-at-a-time
      weight ranges) and ``provenance`` (key/value);
    - ``<stem>_composite.tif`` and ``<stem>_criterion_<name>.tif``: Float32 GeoTIFFs, NaN
      nodata, provenance in the metadata tags;
    - ``<stem>_provenance.json``: scenario hash, data sources, version, seed, date, weights.

    Every file is written atomically; if any target exists and ``overwrite`` is false nothing
    is written. ``districts`` (a districts layer) adds district names in Chinese and English
    beside the candidates' district column.

    Returns
    -------
    dict
        Role -> written path.

    Raises
    ------
    FileExistsError
        If an output exists and ``overwrite`` is false.
    """
    paths = output_paths(result, out_dir, xlsx=xlsx)
    for p in paths.values():  # refuse before writing anything
        check_writable(p, overwrite=overwrite)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    prov = result.provenance
    table = ranking_table(result, districts)
    columns = criterion_columns(result.criteria_table)
    write_csv(table, paths["csv"], columns=columns, overwrite=overwrite)
    if xlsx:
        sheets = {"ranking": table, "criteria": result.criteria_table}
        if result.one_at_a_time is not None:
            sheets["stability"] = result.one_at_a_time
        keys = ("scenario", "scenario_sha256", "cci_geo_version", "seed", "created")
        meta: dict[str, Any] = {k: prov[k] for k in keys if k in prov}
        write_xlsx(sheets, paths["xlsx"], sources=prov.get("layers", {}), metadata=meta,
                   columns=columns, overwrite=overwrite)
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
