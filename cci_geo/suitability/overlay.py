"""Weighted overlay: score a scenario on the analysis grid and at the candidate sites."""

from __future__ import annotations

import datetime as dt
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from rasterio import features as rio_features

from .._crs import resolve_metric_crs
from .._validate import check_seed
from ..errors import DataError, ParameterError, ParameterTypeError, ScenarioError
from ..raster import Surface
from ..results import RESULT_KEY, tag_result
from ..settings import Settings
from ._layers import LayerBook, file_sha256
from .ahp import ahp_weights
from .criteria import Constraint, Criterion
from .evaluate import Evaluated, Sites, evaluate
from .grid import AnalysisGrid, build_grid
from .scenario import GridSpec, Scenario, load_scenario, parse_scenario
from .sensitivity import MonteCarloResult, monte_carlo, one_at_a_time, rank_scores

__all__ = ["SuitabilityResult", "resolve_weights", "score"]

logger = logging.getLogger(__name__)

_SUM_TOL = 1e-6


@dataclass
class SuitabilityResult:
    """Everything a suitability run produced.

    Attributes
    ----------
    sites
        The candidates (caller's CRS, index and row order kept) with, for every criterion
        ``c``: ``raw_<c>`` (the measure, in ``criteria_table.unit``), ``value_<c>`` (0-1) and
        ``contrib_<c>`` (weight x value); then ``score`` (sum of contributions, 0-1), ``rank``
        (1 = best, ties broken by ascending id; missing for excluded or incomplete sites),
        ``excluded_by`` (';'-joined constraint names, '' if none), ``missing`` (criteria
        without data at the site) and, with sensitivity, ``rank_p05``, ``rank_median``,
        ``rank_p95``, ``rank_mean`` and ``p_top_k``. Result kind ``"suitability"``.
    composite
        Weighted overlay of the spatial criteria (weights renormalised over them when the
        scenario also has ``site_attribute`` criteria); NaN outside the study area, in
        excluded cells and where any criterion lacks data.
    criteria
        Per spatial criterion, its 0-1 value surface (excluded cells are kept).
    weights
        Normalised weights by criterion name.
    criteria_table
        One row per criterion: measure, layer, unit, value function, weight.
    consistency_ratio
        AHP consistency ratio (None for direct weights).
    monte_carlo, one_at_a_time
        Sensitivity results (None when disabled or fewer than two rankable sites).
    grid, scenario, provenance
        The analysis grid, the scenario, and the provenance record written with outputs.
    """

    sites: gpd.GeoDataFrame
    composite: Surface
    criteria: dict[str, Surface]
    weights: pd.Series
    criteria_table: pd.DataFrame
    consistency_ratio: float | None
    monte_carlo: MonteCarloResult | None
    one_at_a_time: pd.DataFrame | None
    grid: AnalysisGrid
    scenario: Scenario
    provenance: dict[str, Any] = field(default_factory=dict)

    def ranking(self) -> pd.DataFrame:
        """Return the sites as a table sorted by rank (excluded sites last), without geometry."""
        return ranking_table(self.sites, self.scenario.id_column)

    def to_files(self, out_dir: str | os.PathLike[str], *, overwrite: bool = False,
                 xlsx: bool = False, districts: gpd.GeoDataFrame | None = None,
                 ) -> dict[str, Path]:
        """Write the ranked CSV, GeoPackage, GeoTIFFs and provenance JSON (and a workbook).

        See :func:`~cci_geo.suitability.write_outputs`.
        """
        from .outputs import write_outputs  # noqa: PLC0415

        return write_outputs(self, out_dir, overwrite=overwrite, xlsx=xlsx,
                             districts=districts)


def ranking_table(sites: gpd.GeoDataFrame, id_column: str) -> pd.DataFrame:
    """Scored sites as a table sorted by rank (ties by id; excluded sites last), no geometry."""
    df = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    key = id_column
    order = np.lexsort((df[key].astype(str).to_numpy() if key in df else np.arange(len(df)),
                        df["rank"].fillna(len(df) + 1).to_numpy()))
    return df.iloc[order].reset_index(drop=True)


def resolve_weights(criteria: Sequence[Criterion], *, method: str = "direct",
                    matrix: Sequence[Sequence[float]] | None = None,
                    allow_inconsistent: bool = False) -> tuple[np.ndarray, float | None]:
    """Return normalised criterion weights and the AHP consistency ratio (None if direct).

    Direct weights that do not sum to one are **normalised** (divided by their sum) with a
    ``UserWarning`` naming the sum; all-zero or negative weights are an error.

    Raises
    ------
    ScenarioError
        Missing or all-zero weights, or an invalid / inconsistent AHP matrix.

    Examples
    --------
    >>> from cci_geo.suitability import Criterion, linear
    >>> crits = [Criterion("a", "site_attribute", linear(0, 1), weight=0.75,
    ...                    params={"column": "a"}),
    ...          Criterion("b", "site_attribute", linear(0, 1), weight=0.25,
    ...                    params={"column": "b"})]
    >>> w, cr = resolve_weights(crits)
    >>> w.tolist(), cr
    ([0.75, 0.25], None)
    """
    if method == "ahp":
        if matrix is None:
            msg = "[weights] method = 'ahp' needs matrix = [[...], ...]."
            raise ScenarioError(msg)
        w, cr = ahp_weights(matrix, allow_inconsistent=allow_inconsistent)
        if len(w) != len(criteria):
            msg = f"the AHP matrix is {len(w)} x {len(w)} but there are {len(criteria)} criteria."
            raise ScenarioError(msg)
        return w, cr
    missing = [c.name for c in criteria if c.weight is None]
    if missing:
        msg = (f"criteria {missing} have no weight; give each a weight (scenario: weight = ...) "
               "or use an AHP matrix.")
        raise ScenarioError(msg)
    w = np.array([float(c.weight) for c in criteria])  # type: ignore[arg-type]
    total = float(w.sum())
    if total <= 0:
        msg = ("all criterion weights are 0; give at least one criterion a positive weight "
               "(weights are relative importances, normalised to sum to 1).")
        raise ScenarioError(msg)
    if abs(total - 1.0) > _SUM_TOL:
        norm = ", ".join(f"{c.name}={v:.3f}" for c, v in zip(criteria, w / total, strict=True))
        warnings.warn(f"criterion weights sum to {total:g}, not 1; they were normalised to "
                      f"{norm}. Make them sum to 1 to silence this warning.", UserWarning,
                      stacklevel=3)
        return w / total, None
    return w, None


def _is_criteria(obj: object) -> TypeGuard[Sequence[Criterion]]:
    return isinstance(obj, Sequence) and all(isinstance(c, Criterion) for c in obj)


def _grid_value(ev: Evaluated, name: str) -> np.ndarray:
    """The value grid of a spatial criterion (only ``site_attribute`` has none)."""
    if ev.grid_value is None:
        msg = f"criterion {name!r} has no value grid: only spatial criteria are mapped."
        raise ParameterError(msg)
    return ev.grid_value


def _as_scenario(scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str]
                 | Sequence[Criterion], candidates: str | gpd.GeoDataFrame | None,
                 extra: dict[str, gpd.GeoDataFrame]) -> Scenario:
    if isinstance(scenario, Scenario):
        sc = scenario
    elif isinstance(scenario, (str, os.PathLike)):
        sc = load_scenario(scenario)
    elif isinstance(scenario, Mapping):
        sc = parse_scenario(scenario)
    elif _is_criteria(scenario):
        if candidates is None:
            msg = "score(criteria, ...) needs candidates= (a layer name or a GeoDataFrame)."
            raise ScenarioError(msg)
        sc = Scenario(name="suitability", criteria=tuple(scenario))
    else:
        msg = (f"scenario must be a Scenario, a TOML path, a mapping or a list of Criterion, "
               f"got {type(scenario).__name__}.")
        raise ParameterTypeError(msg)
    if isinstance(candidates, gpd.GeoDataFrame):
        extra["__candidates__"] = candidates
        sc = replace(sc, candidates="__candidates__")
    elif isinstance(candidates, str):
        sc = replace(sc, candidates=candidates)
    return sc


def _grid_for(spec: GridSpec, book: LayerBook, cand: gpd.GeoDataFrame,
              metric_crs: str, settings: Settings | None = None) -> AnalysisGrid:
    if spec.extent == "candidates":
        return build_grid(cand, cell_size_m=spec.cell_size_m, crs=metric_crs,
                          buffer_m=spec.buffer_m, mask_to_polygons=False, settings=settings)
    if isinstance(spec.extent, tuple):
        t = Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)
        box = t.transform_bounds(*spec.extent)
        return build_grid(box, cell_size_m=spec.cell_size_m, crs=metric_crs,
                          buffer_m=spec.buffer_m, settings=settings)
    ext = book.get(spec.extent, key="[grid].extent", where=spec.where)
    return build_grid(ext, cell_size_m=spec.cell_size_m, crs=metric_crs,
                      buffer_m=spec.buffer_m, mask_to_polygons=spec.mask, settings=settings)


def _refuse_outside(cand_m: gpd.GeoDataFrame, inside: np.ndarray, id_col: str) -> None:
    if not inside.all():
        bad = list(cand_m[id_col].astype(str).to_numpy()[~inside][:20])
        msg = (f"{int((~inside).sum())} candidate site(s) lie outside the analysis grid or the "
               f"study area: {bad}. Enlarge [grid] extent / buffer_m, or drop them with "
               "[candidates] where = {...}.")
        raise DataError(msg)


def _site_points(cand_m: gpd.GeoDataFrame, id_col: str) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """``(x, y, is_point)``: each site's point (a polygon's representative point)."""
    geoms = cand_m.geometry
    is_point = (geoms.geom_type == "Point").to_numpy()
    ok_type = geoms.geom_type.isin(["Point", "Polygon", "MultiPolygon"]).to_numpy()
    if not ok_type.all():
        rows = list(cand_m[id_col].to_numpy()[~ok_type][:10])
        msg = f"candidates {rows} are neither points nor polygons; give sites as either."
        raise DataError(msg)
    rep = geoms.where(is_point, geoms.representative_point())
    return rep.x.to_numpy(), rep.y.to_numpy(), is_point


def _sites(cand_m: gpd.GeoDataFrame, grid: AnalysisGrid, id_col: str) -> Sites:
    x, y, is_point = _site_points(cand_m, id_col)
    row, col, inside = grid.cell_index(x, y)
    _refuse_outside(cand_m, inside, id_col)
    return Sites(cand_m, x, y, is_point, row, col)


def _exclude_union(c: Constraint, book: LayerBook) -> Any:
    area = book.get(c.layer, key=f"{c.key}.layer", where=c.where)  # type: ignore[arg-type]
    geoms = area.geometry if c.buffer_m <= 0 else area.geometry.buffer(c.buffer_m)
    return shapely.union_all(np.asarray(geoms.values))


def _site_hits(c: Constraint, gdf: gpd.GeoDataFrame, evals: Mapping[str, Evaluated],
               union: Any = None) -> np.ndarray:
    """Which candidate sites constraint ``c`` excludes (``union``: its exclusion area)."""
    if c.kind == "exclude":
        return shapely.intersects(np.asarray(gdf.geometry.values), union)
    if c.kind == "threshold":
        raw = pd.to_numeric(pd.Series(evals[c.criterion].site_raw),  # type: ignore[index]
                            errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore"):
            return ((raw < c.min) if c.min is not None else np.zeros(len(raw), bool)) | \
                   ((raw > c.max) if c.max is not None else np.zeros(len(raw), bool))
    return _site_rule(c, gdf)


def _site_reasons(constraints: Sequence[Constraint], book: LayerBook, gdf: gpd.GeoDataFrame,
                  evals: Mapping[str, Evaluated]) -> list[list[str]]:
    """The names of the constraints that exclude each site (no grid involved)."""
    reasons: list[list[str]] = [[] for _ in range(len(gdf))]
    for c in constraints:
        union = _exclude_union(c, book) if c.kind == "exclude" else None
        hit = _site_hits(c, gdf, evals, union)
        for i in np.flatnonzero(hit):
            reasons[i].append(c.name)
        logger.info("constraint %s excludes %d site(s)", c.name, int(np.sum(hit)))
    return reasons


def _apply_constraints(constraints: Sequence[Constraint], book: LayerBook, grid: AnalysisGrid,
                       sites: Sites, evals: Mapping[str, Evaluated]) -> tuple[
                           np.ndarray, list[list[str]]]:
    allowed = grid.mask.copy()
    reasons: list[list[str]] = [[] for _ in range(len(sites.gdf))]
    for c in constraints:
        union = None
        if c.kind == "exclude":
            union = _exclude_union(c, book)
            inside = rio_features.geometry_mask([union], out_shape=grid.shape,
                                                transform=grid.transform, invert=True)
            allowed &= ~inside
        elif c.kind == "threshold":
            ev = evals[c.criterion]  # type: ignore[index]
            if ev.grid_raw is not None:
                with np.errstate(invalid="ignore"):
                    bad = ((ev.grid_raw < c.min) if c.min is not None else False) | \
                          ((ev.grid_raw > c.max) if c.max is not None else False)
                allowed &= ~np.asarray(bad, dtype=bool)
        hit = _site_hits(c, sites.gdf, evals, union)
        for i in np.flatnonzero(hit):
            reasons[i].append(c.name)
        logger.info("constraint %s excludes %d site(s)", c.name, int(np.sum(hit)))
    return allowed, reasons


def _site_rule(c: Constraint, gdf: gpd.GeoDataFrame) -> np.ndarray:
    if c.column not in gdf.columns:
        msg = (f"{c.key}.column = {c.column!r} is not a column of the candidates; they have "
               f"{[x for x in gdf.columns if x != gdf.geometry.name]}.")
        raise ScenarioError(msg)
    col = gdf[c.column]
    hit = np.zeros(len(gdf), dtype=bool)
    if c.min is not None or c.max is not None:
        num = pd.to_numeric(col, errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore"):
            if c.min is not None:
                hit |= ~(num >= c.min)
            if c.max is not None:
                hit |= ~(num <= c.max)
    text = col.astype("string").fillna("").to_numpy(dtype=object)
    if c.allowed is not None:
        hit |= ~np.isin(text, [str(v) for v in c.allowed])
    if c.not_allowed is not None:
        hit |= np.isin(text, [str(v) for v in c.not_allowed])
    return hit


def _criteria_table(criteria: Sequence[Criterion], w: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "measure": [c.measure for c in criteria],
        "layer": [c.layer if isinstance(c.layer, str) else ("<GeoDataFrame>" if c.layer
                                                             is not None else "")
                  for c in criteria],
        "unit": [c.unit for c in criteria],
        "value_function": [c.value_function.describe() for c in criteria],
        "weight": w,
    }, index=pd.Index([c.name for c in criteria], name="criterion"))


def _composite(criteria: Sequence[Criterion], w: np.ndarray, evals: Mapping[str, Evaluated],
               allowed: np.ndarray) -> tuple[np.ndarray, float]:
    spatial = [i for i, c in enumerate(criteria) if c.spatial]
    ws = float(w[spatial].sum())
    if ws <= 0:
        return np.full(allowed.shape, np.nan), ws
    comp = np.zeros(allowed.shape)
    term = np.empty(allowed.shape)
    for i in spatial:
        np.multiply(_grid_value(evals[criteria[i].name], criteria[i].name), w[i] / ws, out=term)
        comp += term  # NaN (nodata) in any criterion propagates
    comp[~allowed] = np.nan
    return comp, ws


class _Setup(NamedTuple):
    scenario: Scenario
    layers: dict[str, gpd.GeoDataFrame]   # the caller's layers (and candidates given as a frame)
    metric_crs: str
    book: LayerBook
    weights: np.ndarray
    consistency_ratio: float | None
    candidates: gpd.GeoDataFrame


def _setup(scenario: Any, *, atlas: Mapping[str, gpd.GeoDataFrame] | None,
           layers: Mapping[str, gpd.GeoDataFrame] | None, candidates: Any, seed: int | None,
           metric_crs: str | None) -> _Setup:
    """Resolve what every overlay (in memory or chunked) starts from.

    The scenario (with ``seed`` checked and applied), the caller's layers, the metric CRS, the
    layer book, the criterion weights and consistency ratio, and the candidate layer.
    """
    extra = dict(layers or {})
    sc = _as_scenario(scenario, candidates, extra)
    if seed is not None:
        sc = replace(sc, seed=check_seed(seed))
    frames = [*extra.values(), *(atlas.values() if isinstance(atlas, Mapping) else ())]
    metric_crs = resolve_metric_crs(*frames, metric_crs=metric_crs or sc.metric_crs)
    book = LayerBook(atlas, extra, sc.layers, metric_crs=metric_crs)
    w, cr = resolve_weights(sc.criteria, method=sc.weights_method, matrix=sc.ahp_matrix,
                            allow_inconsistent=sc.allow_inconsistent)
    cand = book.get(sc.candidates, key="[candidates].layer", where=sc.candidates_where)
    return _Setup(sc, extra, metric_crs, book, w, cr, cand)


def _check_candidates(sc: Scenario, cand_src: gpd.GeoDataFrame) -> None:
    """Refuse a missing id or label column and duplicated ids (they break ties)."""
    if sc.id_column not in cand_src.columns:
        msg = (f"[candidates].id_column = {sc.id_column!r} is not a column of the candidates; "
               f"they have {[c for c in cand_src.columns if c != cand_src.geometry.name]}.")
        raise ScenarioError(msg)
    if sc.label_column is not None and sc.label_column not in cand_src.columns:
        msg = (f"[candidates].label_column = {sc.label_column!r} is not a column of the "
               "candidates; remove it or name an existing column.")
        raise ScenarioError(msg)
    dup = cand_src[sc.id_column][cand_src[sc.id_column].duplicated()].unique().tolist()
    if dup:
        msg = f"candidate ids must be unique (they break ties); duplicated: {dup[:10]}."
        raise DataError(msg)


def score(scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str] | Sequence[Criterion],
          *, atlas: Mapping[str, gpd.GeoDataFrame] | None = None,
          layers: Mapping[str, gpd.GeoDataFrame] | None = None,
          candidates: str | gpd.GeoDataFrame | None = None,
          constraints: Sequence[Constraint] | None = None,
          sensitivity: bool | None = None, seed: int | None = None,
          metric_crs: str | None = None, settings: Settings | None = None) -> SuitabilityResult:
    """Score and rank candidate sites by a weighted multi-criteria overlay.

    Parameters
    ----------
    scenario
        A :class:`Scenario`, the path of a TOML scenario file, a scenario mapping, or a list
        of :class:`Criterion` (then ``candidates`` is required).
    atlas
        Where layer names are looked up: an :class:`~cci_geo.atlas.Atlas` or any mapping of
        name -> GeoDataFrame. Default: none (use ``layers``); the CLI passes the demo atlas.
    layers
        Extra in-memory layers by name; they take precedence over the atlas.
    candidates
        Override the scenario's candidate layer (a name or a GeoDataFrame of points and/or
        polygons).
    constraints
        Extra constraints added to the scenario's.
    sensitivity
        Run the Monte Carlo and one-at-a-time analyses (default: the scenario's
        ``[sensitivity] enabled``).
    seed
        Override the scenario's seed.
    metric_crs
        Projected CRS of the analysis grid and distances. Default: the scenario's
        ``metric_crs``, else as :func:`cci_geo._crs.resolve_metric_crs` over the layers
        (the atlas's metric CRS, a projected layer's CRS, or the UTM zone of the data).
    settings
        Only ``max_cells``/``max_bytes`` are used: they bound the analysis grid.

    Returns
    -------
    SuitabilityResult

    Raises
    ------
    ScenarioError
        Unknown layer or column, missing or all-zero weights, inconsistent AHP matrix...
    DataError
        Candidates outside the grid, an all-nodata raster, an empty layer.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import suitability as su
    >>> res = su.score("scenarios/old_factory_reuse.toml", atlas=cci_geo.load_demo(),
    ...                sensitivity=False)  # run from the repository root
    >>> top = res.ranking()                  # ranked sites first, excluded ones last
    >>> list(top["id"].head(3)), int(top["rank"].max())
    (['SF055', 'SF007', 'SF003'], 58)
    """
    sc, _, metric_crs, book, w, cr, cand_src = _setup(scenario, atlas=atlas, layers=layers,
                                                      candidates=candidates, seed=seed,
                                                      metric_crs=metric_crs)
    if constraints:
        sc = replace(sc, constraints=(*sc.constraints, *constraints))
    _check_candidates(sc, cand_src)
    grid = _grid_for(sc.grid, book, cand_src, metric_crs, settings)
    sites = _sites(cand_src, grid, sc.id_column)
    evals: dict[str, Evaluated] = {}
    for c in sc.criteria:
        layer = (book.get(c.layer, key=f"{c.key}.layer", where=c.where)
                 if c.layer is not None and c.measure not in ("raster", "site_attribute")
                 else None)
        where = c.layer if isinstance(c.layer, str) else c.params.get("path", "layer")
        logger.info("criterion %s: %s on %s", c.name, c.measure, where)
        evals[c.name] = evaluate(c, layer, grid, sites)
    allowed, reasons = _apply_constraints(sc.constraints, book, grid, sites, evals)
    comp, w_spatial = _composite(sc.criteria, w, evals, allowed)
    result = _site_table(sc, w, evals, sites, reasons)
    mc, oat = _sensitivity(sc, w, evals, result, sensitivity)
    if mc is not None:
        result = result.join(mc.summary, on=sc.id_column)
    prov = _provenance(sc, book, w, cr, grid, metric_crs)
    tags = {RESULT_KEY: "suitability", "scenario": sc.name,
            "scenario_sha256": sc.sha256 or "", "cci_geo_version": prov["cci_geo_version"],
            "created": prov["created"]}
    crit_surfaces = {
        c.name: grid.surface(_grid_value(evals[c.name], c.name), name=c.name,
                             units="value 0-1", copy=False,
                             tags={**tags, RESULT_KEY: "suitability_criterion",
                                   "measure": c.measure, "weight": f"{w[i]:.6g}",
                                   "value_function": c.value_function.describe()})
        for i, c in enumerate(sc.criteria) if c.spatial}
    note = ("weighted overlay of the spatial criteria" if w_spatial >= 1 - _SUM_TOL else
            f"spatial criteria only (weights renormalised from {w_spatial:.3f} to 1)")
    composite = grid.surface(comp, name="suitability", units="score 0-1", copy=False,
                             tags={**tags, "note": note,
                                   "weights": ";".join(f"{c.name}={w[i]:.4f}" for i, c in
                                                       enumerate(sc.criteria) if c.spatial)})
    out = cand_src.to_crs(_original_crs(sc, book))
    for col in result.columns.drop(sc.id_column):
        out[col] = result[col].array
    tag_result(out, "suitability")
    return SuitabilityResult(out, composite, crit_surfaces,
                             pd.Series(w, index=[c.name for c in sc.criteria], name="weight"),
                             _criteria_table(sc.criteria, w), cr, mc, oat, grid, sc, prov)


def _original_crs(sc: Scenario, book: LayerBook) -> Any:
    src = book._extra.get(sc.candidates)  # noqa: SLF001 - same package
    if src is None and sc.candidates in book._atlas:  # noqa: SLF001
        src = book._atlas[sc.candidates]  # noqa: SLF001
    return src.crs if src is not None and src.crs is not None else "EPSG:4326"


def _site_table(sc: Scenario, w: np.ndarray, evals: Mapping[str, Evaluated], sites: Sites,
                reasons: list[list[str]]) -> pd.DataFrame:
    n = len(sites.gdf)
    df = pd.DataFrame(index=range(n))
    df[sc.id_column] = sites.gdf[sc.id_column].to_numpy()
    total = np.zeros(n)
    missing: list[list[str]] = [[] for _ in range(n)]
    for i, c in enumerate(sc.criteria):
        ev = evals[c.name]
        df[f"raw_{c.name}"] = ev.site_raw
        df[f"value_{c.name}"] = ev.site_value
        df[f"contrib_{c.name}"] = w[i] * ev.site_value
        total += w[i] * np.nan_to_num(ev.site_value, nan=0.0)
        for j in np.flatnonzero(np.isnan(ev.site_value)):
            missing[j].append(c.name)
    has_missing = np.array([bool(m) for m in missing])
    df["score"] = np.where(has_missing, np.nan, total)
    df["excluded_by"] = [";".join(r) for r in reasons]
    df["missing"] = [";".join(m) for m in missing]
    ok = ~has_missing & (df["excluded_by"] == "").to_numpy()
    rank = pd.array([pd.NA] * n, dtype="Int64")
    if ok.any():
        rank[ok] = rank_scores(df["score"].to_numpy()[ok], df[sc.id_column].to_numpy()[ok])
    df["rank"] = rank
    logger.info("%d of %d candidate sites ranked", int(ok.sum()), n)
    return df


def _sensitivity(sc: Scenario, w: np.ndarray, evals: Mapping[str, Evaluated],
                 table: pd.DataFrame, enabled: bool | None) -> tuple[
                     MonteCarloResult | None, pd.DataFrame | None]:
    spec = sc.sensitivity
    if not (spec.enabled if enabled is None else enabled):
        return None, None
    ok = table["rank"].notna().to_numpy()
    if ok.sum() < 2:
        logger.warning("sensitivity analysis skipped: fewer than two rankable sites")
        return None, None
    V = np.column_stack([evals[c.name].site_value[ok] for c in sc.criteria])
    ids = table[sc.id_column].to_numpy()[ok]
    mc = monte_carlo(V, w, ids, draws=spec.draws, concentration=spec.concentration,
                     top_k=spec.top_k, seed=sc.seed)
    oat = one_at_a_time(V, w, ids, [c.name for c in sc.criteria], top_k=spec.top_k)
    return mc, oat


def _provenance(sc: Scenario, book: LayerBook, w: np.ndarray, cr: float | None,
                grid: AnalysisGrid, metric_crs: str) -> dict[str, Any]:
    from .. import __version__  # noqa: PLC0415

    rasters = {c.name: {"path": c.params["path"],
                        "sha256": file_sha256(Path(c.params["path"]))}
               for c in sc.criteria if c.measure == "raster"}
    return {
        "scenario": sc.name, "scenario_source": sc.source or "", "scenario_sha256": sc.sha256,
        "cci_geo_version": __version__, "seed": sc.seed,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "metric_crs": metric_crs, "cell_size_m": grid.cell_size,
        "grid_shape": list(grid.shape), "grid_cells_in_study_area": grid.n_cells,
        "weights_method": sc.weights_method, "consistency_ratio": cr,
        "weights": {c.name: float(x) for c, x in zip(sc.criteria, w, strict=True)},
        "layers": {k: v for k, v in book.used.items() if k != "__candidates__"},
        "rasters": rasters,
        "sensitivity": {"draws": sc.sensitivity.draws,
                        "concentration": sc.sensitivity.concentration,
                        "top_k": sc.sensitivity.top_k},
    }

