"""Write a suitability result: ranked CSV, GeoPackage, GeoTIFFs and a provenance record."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._files import Staging, check_writable, transaction
from ..tables import add_district_names, criterion_columns, write_csv, write_xlsx

if TYPE_CHECKING:
    from .overlay import SuitabilityResult

__all__ = ["check_outputs", "output_names", "output_paths", "ranking_table", "stage_outputs",
           "write_outputs"]

# Columns of a candidate layer that only matter to the data's maintainer, not to a reader.
_HIDDEN = ("confidence", "source", "notes", "geometry")

logger = logging.getLogger(__name__)


def _slug(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name.strip().lower())
    return keep.strip("_") or "suitability"


def output_names(scenario_name: str, criteria: list[str] | tuple[str, ...], *,
                 xlsx: bool = False) -> dict[str, str]:
    """Return the file names :func:`write_outputs` writes for a scenario, by role.

    Roles: ``csv``, ``gpkg``, ``provenance``, ``composite``, ``criterion:<name>``, ``xlsx``
    (with ``xlsx``), ``html`` and ``whatif html`` (the maps the CLI adds). Known before any
    work, so callers can check them first.

    Examples
    --------
    >>> names = output_names("Old factory reuse", ["metro_access"])
    >>> names["csv"], names["criterion:metro_access"]
    ('old_factory_reuse_ranking.csv', 'old_factory_reuse_criterion_metro_access.tif')
    >>> sorted(names)
    ['composite', 'criterion:metro_access', 'csv', 'gpkg', 'html', 'provenance', 'whatif html']
    """
    stem = _slug(scenario_name)
    names = {"csv": f"{stem}_ranking.csv", "gpkg": f"{stem}.gpkg",
             "provenance": f"{stem}_provenance.json", "composite": f"{stem}_composite.tif"}
    for name in criteria:
        names[f"criterion:{name}"] = f"{stem}_criterion_{_slug(name)}.tif"
    if xlsx:
        names["xlsx"] = f"{stem}.xlsx"
    names["html"] = f"{stem}.html"
    names["whatif html"] = f"{stem}_whatif.html"
    return names


def output_paths(result: SuitabilityResult, out_dir: str | os.PathLike[str], *,
                 xlsx: bool = False) -> dict[str, Path]:
    """Return the files :func:`write_outputs` writes, by role.

    Roles: ``csv``, ``gpkg``, ``provenance``, ``composite``, ``criterion:<name>`` and, with
    ``xlsx``, ``xlsx``.

    Examples
    --------
    One criterion (distance to a metro station) scored at three sites:

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from cci_geo import suitability as su
    >>> metro = gpd.GeoDataFrame(geometry=[Point(116.40, 39.90)], crs="EPSG:4326")
    >>> sites = gpd.GeoDataFrame({"id": ["a", "b", "c"]}, crs="EPSG:4326", geometry=[
    ...     Point(116.41, 39.90), Point(116.43, 39.91), Point(116.45, 39.92)])
    >>> near_metro = su.Criterion(name="metro_access", measure="distance", layer="metro",
    ...                           value=su.linear(0, 5000, decreasing=True), weight=1.0)
    >>> res = su.score([near_metro], layers={"metro": metro}, candidates=sites,
    ...                sensitivity=False)
    >>> paths = output_paths(res, "out")
    >>> paths["csv"].as_posix(), paths["criterion:metro_access"].name
    ('out/suitability_ranking.csv', 'suitability_criterion_metro_access.tif')
    >>> sorted(output_paths(res, "out", xlsx=True))
    ['composite', 'criterion:metro_access', 'csv', 'gpkg', 'provenance', 'xlsx']
    """
    names = output_names(result.scenario.name, list(result.criteria), xlsx=xlsx)
    names.pop("html")
    names.pop("whatif html")
    return {role: Path(out_dir) / n for role, n in names.items()}


def check_outputs(scenario_name: str, criteria: list[str] | tuple[str, ...],
                  out_dir: str | os.PathLike[str], *, overwrite: bool, xlsx: bool = False,
                  html: bool = False) -> None:
    """Refuse, before any work, outputs that exist (without ``overwrite``) or cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from cci_geo.errors import CciGeoError
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> check_outputs("Old factory reuse", ["metro_access"], out, overwrite=False)  # all free
    >>> _ = (out / "old_factory_reuse.gpkg").write_text("an earlier run")
    >>> try:
    ...     check_outputs("Old factory reuse", ["metro_access"], out, overwrite=False)
    ... except CciGeoError as exc:
    ...     print(str(exc).split(" already")[0].endswith("old_factory_reuse.gpkg"))
    True
    >>> check_outputs("Old factory reuse", ["metro_access"], out, overwrite=True)
    """
    for role, name in output_names(scenario_name, criteria, xlsx=xlsx).items():
        if role not in ("html", "whatif html") or html:
            check_writable(Path(out_dir) / name, overwrite=overwrite)


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
    """Write every output of a suitability run into ``out_dir``, as one transaction.

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
    - ``<stem>_provenance.json``: scenario hash, data sources, version, seed, date, weights
      and the list of files: the manifest of the set, moved into place last.

    The files are staged in a temporary folder inside ``out_dir`` and moved into place
    together (see :func:`cci_geo._files.transaction`): an error, a full disk or an interrupt
    leaves the previous complete set or nothing; if any target exists and ``overwrite`` is
    false nothing is written. ``result`` is not modified. ``districts`` (a districts layer)
    adds district names in Chinese and English beside the candidates' district column.

    Returns
    -------
    dict
        Role -> written path.

    Raises
    ------
    cci_geo.errors.OutputExistsError
        If an output exists and ``overwrite`` is false (nothing is written).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import cci_geo
    >>> from cci_geo import suitability as su
    >>> from cci_geo._resources import resource_path
    >>> res = su.score(resource_path("scenarios/old_factory_reuse.toml"),
    ...                atlas=cci_geo.load_demo(), sensitivity=False)
    >>> paths = su.write_outputs(res, pathlib.Path(tempfile.mkdtemp()))
    >>> sorted(p.suffix for p in paths.values())[:3]
    ['.csv', '.gpkg', '.json']
    """
    paths = output_paths(result, out_dir, xlsx=xlsx)
    for p in paths.values():  # refuse before writing anything
        check_writable(p, overwrite=overwrite)
    with transaction(out_dir, overwrite=overwrite,
                     manifest=paths["provenance"].name) as stage:
        stage_outputs(result, stage, xlsx=xlsx, districts=districts)
    logger.info("wrote %d suitability outputs to %s", len(paths), out_dir)
    return paths


def stage_outputs(result: SuitabilityResult, stage: Staging, *, xlsx: bool = False,
                  districts: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write every output of :func:`write_outputs` into an open transaction; return targets.

    Examples
    --------
    One criterion (distance to a metro station) scored at three sites:

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from cci_geo import suitability as su
    >>> metro = gpd.GeoDataFrame(geometry=[Point(116.40, 39.90)], crs="EPSG:4326")
    >>> sites = gpd.GeoDataFrame({"id": ["a", "b", "c"]}, crs="EPSG:4326", geometry=[
    ...     Point(116.41, 39.90), Point(116.43, 39.91), Point(116.45, 39.92)])
    >>> near_metro = su.Criterion(name="metro_access", measure="distance", layer="metro",
    ...                           value=su.linear(0, 5000, decreasing=True), weight=1.0)
    >>> res = su.score([near_metro], layers={"metro": metro}, candidates=sites,
    ...                sensitivity=False)
    >>> import pathlib, tempfile
    >>> from cci_geo._files import transaction
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with transaction(out) as stage:
    ...     targets = stage_outputs(res, stage)
    ...     in_place = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    >>> in_place                              # nothing was in place before the block ended
    []
    >>> for p in sorted(targets.values()):   # all five moved into place together
    ...     print(p.name, p.exists())
    suitability.gpkg True
    suitability_composite.tif True
    suitability_criterion_metro_access.tif True
    suitability_provenance.json True
    suitability_ranking.csv True
    """
    paths = output_paths(result, stage.out_dir, xlsx=xlsx)
    prov = result.provenance
    table = ranking_table(result, districts)
    columns = criterion_columns(result.criteria_table)
    write_csv(table, stage.path(paths["csv"].name), columns=columns, overwrite=True)
    if xlsx:
        sheets = {"ranking": table, "criteria": result.criteria_table}
        if result.one_at_a_time is not None:
            sheets["stability"] = result.one_at_a_time
        keys = ("scenario", "scenario_sha256", "cci_geo_version", "seed", "created")
        meta: dict[str, Any] = {k: prov[k] for k in keys if k in prov}
        write_xlsx(sheets, stage.path(paths["xlsx"].name), sources=prov.get("layers", {}),
                   metadata=meta, columns=columns, overwrite=True)
    gpkg = stage.path(paths["gpkg"].name)
    sites = result.sites.copy()
    for col in sites.columns:
        if col != sites.geometry.name and sites[col].dtype == object:
            sites[col] = sites[col].map(lambda v: v if v is None else str(v))
    sites.to_file(gpkg, layer="sites", driver="GPKG")
    _table_layer(result.criteria_table.reset_index(), gpkg, "criteria")
    if result.one_at_a_time is not None:
        _table_layer(result.one_at_a_time.reset_index(), gpkg, "stability")
    flat = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in prov.items()}
    _table_layer(pd.DataFrame({"key": list(flat), "value": list(flat.values())}), gpkg,
                 "provenance")
    tags = {"scenario_sha256": str(prov.get("scenario_sha256", "")),
            "data_sources": json.dumps(prov.get("layers", {}), ensure_ascii=False),
            "seed": str(prov.get("seed"))}
    surfaces = {"composite": result.composite,
                **{f"criterion:{n}": s for n, s in result.criteria.items()}}
    for role, surf in surfaces.items():  # tagged copies: the result keeps its own tags
        tagged = dataclasses.replace(surf, tags={**surf.tags, **tags})
        tagged.to_geotiff(stage.path(paths[role].name), overwrite=True)
    record = {**prov, "files": {k: p.name for k, p in paths.items()}}
    if result.one_at_a_time is not None:
        record["one_at_a_time"] = json.loads(result.one_at_a_time.to_json(orient="index"))
    stage.path(paths["provenance"].name).write_text(
        json.dumps(record, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return paths


def _table_layer(df: pd.DataFrame, path: Path, layer: str) -> None:
    """Append a non-spatial table to a GeoPackage."""
    import pyogrio  # noqa: PLC0415

    pyogrio.write_dataframe(df, path, layer=layer, driver="GPKG", append=path.exists())
