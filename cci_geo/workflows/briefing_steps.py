"""The briefing's steps: concentration, accessibility, suitability, layout, corridors.

Each step is declared (:class:`~cci_geo.workflows.steps.Step`) with the layers and columns it
reads and its parameters with their defaults, and registered in running order. A step calls
the public functions of one analysis module and marks every result with the atlas layers it
was computed from (:func:`cci_geo.maps.derived_from`), so a map of results derived from
synthetic data says so. What a step leaves out for lack of an optional layer it says in a
note.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd

from .._toml import read_toml
from ..errors import DataError, ScenarioError
from ..maps.labels import label
from ..maps.registry import result_parts
from ..maps.sources import derived_from
from ..raster import Surface
from .steps import Need, Step, StepContext, register_step

__all__ = ["DESIGNATED", "scenario_layers", "suitability_scenario"]

logger = logging.getLogger(__name__)

#: Layers holding designated places (zones, parks, regions) for the designation gap.
DESIGNATED = ("functional_areas", "demonstrative_regions", "zones")


def _mark(results: list[Any], ctx: StepContext, *kinds: str) -> list[Any]:
    """Record on each drawable part of ``results`` the atlas layers it was computed from."""
    held = [k for k in dict.fromkeys(kinds) if ctx.has(k)]
    if not held:
        return results
    return [derived_from(part, ctx.atlas, *held)
            if isinstance(part, (gpd.GeoDataFrame, Surface)) else part
            for part in result_parts(results)]


def _districts(ctx: StepContext) -> gpd.GeoDataFrame | None:
    """The study region's districts (None when the atlas has no districts layer)."""
    if not ctx.has("districts"):
        return None
    d = ctx.atlas["districts"]
    ids = set(ctx.region["id"].astype(str))
    return d[d["id"].astype(str).isin(ids)] if "id" in d.columns else d


# -- concentration ------------------------------------------------------------------------


def _concentration(ctx: StepContext) -> list[Any]:
    from .. import concentration as cc

    p = ctx.params
    ent = ctx.atlas["enterprises"]
    out: list[Any] = [cc.kernel_density(ent, cell_size_m=float(p["kde_cell_size_m"]))]
    grid = cc.grid_counts(ent, float(p["grid_cell_size_m"]), region=ctx.region)
    out.append(cc.hot_spots(grid, "count", weights=p["weights"]))
    districts = _districts(ctx)
    if districts is not None and "sector" in ent.columns:
        out.append(cc.location_quotient(ent, districts))
    elif "sector" not in ent.columns:
        ctx.note("concentration: location quotients left out: enterprises have no 'sector' "
                 "column", zh="集聚分析：未计算区位商：企业图层没有 sector（行业）列")
    else:
        ctx.note("concentration: location quotients left out: the atlas has no 'districts' "
                 "layer to compare areas with",
                 zh="集聚分析：未计算区位商：图集没有可供比较的行政区图层")
    out = _mark(out, ctx, "enterprises", "districts")
    clusters = cc.clusters(ent, eps_m=float(p["eps_m"]), min_samples=int(p["min_samples"]))
    designated = [k for k in DESIGNATED if ctx.has(k)]
    if designated:
        gap = cc.designation_gap(clusters, {k: ctx.atlas[k] for k in designated})
        out.extend(_mark([gap.clusters, gap.designated], ctx, "enterprises", *designated))
    else:
        out.extend(_mark([clusters], ctx, "enterprises"))
        ctx.note("concentration: designation gap left out: the atlas has none of the layers "
                 f"{', '.join(DESIGNATED)}",
                 zh="集聚分析：未比较集聚与认定：图集中没有"
                    f"{'、'.join(label(k, 'zh') for k in DESIGNATED)}图层")
    return out


register_step(Step(
    "concentration", run=_concentration,
    needs=(Need("enterprises"),
           Need("districts", optional=True, without="location quotients by district"),
           Need("enterprises", ("sector",), optional=True, without="location quotients"),
           Need("zones", optional=True, without="the designation gap",
                alternatives=("functional_areas", "demonstrative_regions"))),
    params={"kde_cell_size_m": 250.0, "grid_cell_size_m": 1000.0, "weights": "queen",
            "eps_m": 400.0, "min_samples": 25},
    param_help={"kde_cell_size_m": "cell of the kernel density surface, metres",
                "grid_cell_size_m": "cell of the grid tested for hot spots (Gi*), metres",
                "weights": "spatial weights of the hot-spot test (queen, rook, knn:6 ...)",
                "eps_m": "DBSCAN neighbourhood radius of enterprise clusters, metres",
                "min_samples": "enterprises needed to seed a cluster"},
    summary="where creative enterprises cluster: density, hot spots, location quotients, "
            "clusters and the designation gap"))


# -- accessibility ------------------------------------------------------------------------


def _accessibility(ctx: StepContext) -> list[Any]:
    from .. import access

    p = ctx.params
    kw: dict[str, Any] = {"cell_size_m": float(p["cell_size_m"]),
                          "threshold_m": float(p["threshold_m"]), "decay": p["decay"],
                          "supply_weight": p["supply_weight"],
                          "weight": p["demand_weight"] or None}
    venues, ent = ctx.atlas["venues"], ctx.atlas["enterprises"]
    station_kind = next((k for k in ("stations", "station_entrances") if ctx.has(k)), None)
    if station_kind is not None:
        kw["stations"] = ctx.atlas[station_kind]
    districts = _districts(ctx)
    if districts is None:
        ctx.note("accessibility: drawn per grid cell, not per district: the atlas has no "
                 "'districts' layer",
                 zh="公共文化设施可达性：按网格而非按行政区显示：图集没有行政区图层")
        return _mark([access.venue_access_grid(venues, ent, **kw)], ctx, "venues",
                     "enterprises", *([station_kind] if station_kind else []))
    kw["station_walk_m"] = float(p["station_walk_m"])
    return _mark([access.venue_access_by_district(venues, ent, districts, **kw)], ctx,
                 "venues", "enterprises", "districts",
                 *([station_kind] if station_kind else []))


register_step(Step(
    "accessibility", run=_accessibility,
    needs=(Need("venues", ("{supply_weight}",)), Need("enterprises", ("{demand_weight}",)),
           Need("districts", optional=True, without="the per-district summary (the access "
                                                    "grid is drawn instead)"),
           Need("stations", optional=True, alternatives=("station_entrances",),
                without="metro access (share of employees near a station)")),
    params={"cell_size_m": 1000.0, "threshold_m": 10_000.0, "decay": "gaussian",
            "supply_weight": "open_space_m2", "demand_weight": "employees",
            "station_walk_m": 800.0},
    param_help={"cell_size_m": "enterprises are aggregated to cells of this size, metres",
                "threshold_m": "catchment of a venue, metres",
                "decay": "distance decay inside the catchment: gaussian, none ...",
                "supply_weight": "venues column measuring supply",
                "demand_weight": "enterprises column measuring demand (\"\" counts firms)",
                "station_walk_m": "walk to a metro station counted as near, metres (with a "
                                  "stations layer)"},
    summary="creative workers' access to libraries, museums and galleries (2SFCA)"))


# -- suitability --------------------------------------------------------------------------


def _bundled_scenario(name: str) -> Path:
    # the copy shipped in the wheel, else the source checkout's scenarios folder
    from .._resources import resource_path

    try:
        return resource_path(f"scenarios/{name}")
    except DataError as exc:
        msg = f"the bundled scenario {name} is missing; reinstall cci_geo."
        raise ScenarioError(msg) from exc


def suitability_scenario(params: Any, base_dir: Path | None) -> Path:
    """Return the suitability scenario file of the step's ``scenario`` parameter.

    An empty value means the bundled ``old_factory_reuse.toml``; a relative path is resolved
    against ``base_dir`` (the folder of the briefing config), never the working directory.

    Raises
    ------
    cci_geo.errors.ScenarioError
        If the file does not exist (the message says where it was looked for).

    Examples
    --------
    >>> suitability_scenario({"scenario": ""}, None).name
    'old_factory_reuse.toml'
    """
    name = str(params.get("scenario") or "")
    if not name:
        return _bundled_scenario("old_factory_reuse.toml")
    path = Path(name).expanduser()
    if not path.is_absolute():
        if base_dir is None:
            msg = (f"[steps.suitability] scenario = {name!r} is a relative path but there is "
                   "no config file to resolve it against; give an absolute path.")
            raise ScenarioError(msg)
        path = Path(base_dir) / path
    if not path.is_file():
        msg = (f"[steps.suitability] scenario = {name!r}: {path} does not exist; paths are "
               "relative to the briefing config file.")
        raise ScenarioError(msg)
    return path


def scenario_layers(path: Path) -> list[str]:
    """Return every ``layer = "..."`` named in a scenario file, in order.

    Examples
    --------
    >>> scenario_layers(suitability_scenario({"scenario": ""}, None))[:2]
    ['factory_sites', 'zones']
    """
    data = read_toml(path, "scenario file")
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "layer" and isinstance(value, str) and value not in found:
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return found


def _suitability_needs(params: Any, base_dir: Path | None) -> tuple[Need, ...]:
    path = suitability_scenario(params, base_dir)
    hint = (f"set [steps.suitability] scenario to one that does not read it ({path.name} "
            "does)")
    return tuple(Need(layer, hint=hint) for layer in scenario_layers(path))


def _suitability(ctx: StepContext) -> list[Any]:
    from .. import suitability

    path = suitability_scenario(ctx.params, ctx.base_dir)
    result = suitability.score(path, atlas=ctx.atlas, sensitivity=False)
    ctx.shared["suitability"] = result.sites.set_index("id")["score"]
    return _mark([result.composite, result.sites], ctx, "factory_sites", *scenario_layers(path))


register_step(Step(
    "suitability", run=_suitability,
    needs=(Need("factory_sites"),), needs_for=_suitability_needs,
    params={"scenario": ""},
    param_help={"scenario": "suitability scenario (TOML), relative to this file; \"\" = the "
                            "bundled old_factory_reuse.toml"},
    summary="how well old factory sites suit creative reuse (multi-criteria scoring)"))


# -- layout -------------------------------------------------------------------------------


def _layout(ctx: StepContext) -> list[Any]:
    from .. import layout

    p = ctx.params
    score = ctx.shared.get("suitability")
    district_max = p["district_max"] if p["district_max"] != 0 else None
    if not ctx.has("districts"):
        ctx.note("layout: no per-district balance rule and no per-district table: the atlas "
                 "has no 'districts' layer",
                 zh="布局优化：未设分区均衡规则，也无分区统计表：图集没有行政区图层")
    proposal = layout.propose_zones(
        ctx.atlas, k=int(p["k"]), model=p["model"], standard_m=float(p["standard_m"]),
        weight=p["weight"] or None, cell_size_m=float(p["cell_size_m"]),
        statuses=tuple(p["statuses"]), district_max=district_max if ctx.has("districts")
        else None, suitability=score, score_weight=float(p["score_weight"])
        if score is not None else 0.0, time_limit_s=float(p["time_limit_s"]))
    ctx.shared["layout"] = proposal
    return _mark(list(proposal.to_map_parts()), ctx, "zones", "factory_sites", "enterprises",
                 "districts")


register_step(Step(
    "layout", run=_layout,
    needs=(Need("zones", optional=True, without="existing zones to keep (every zone is new)"),
           Need("factory_sites", ("status",)), Need("enterprises", ("{weight}",)),
           Need("districts", optional=True, without="the per-district balance rule and table"),
           Need("enterprises", ("district",), optional=True,
                without="the per-district table")),
    params={"k": 6, "model": "max_coverage", "standard_m": 3000.0, "weight": "employees",
            "cell_size_m": 1000.0, "statuses": ["vacant", "candidate"], "district_max": 2,
            "score_weight": 0.2, "time_limit_s": 20.0},
    param_help={"k": "new zones to propose",
                "model": "max_coverage | p_median | p_center | set_cover",
                "standard_m": "service standard, metres",
                "weight": "enterprises column weighting demand (\"\" counts firms)",
                "cell_size_m": "enterprises are aggregated to cells of this size, metres",
                "statuses": "factory-site statuses that may become zones",
                "district_max": "new zones per district at most (0: no rule)",
                "score_weight": "weight of suitability scores when the suitability step ran",
                "time_limit_s": "solver time limit, seconds"},
    uses=("suitability",),
    summary="where new zones should go among candidate factory sites (location-allocation)"))


# -- corridors ----------------------------------------------------------------------------


def _corridor_origin(ctx: StepContext) -> tuple[tuple[float, float] | None, str | None]:
    """Return ``((lon, lat), province)`` of the atlas's origin node (by its role), or Nones.

    Corridors are oriented from that node and cooperation candidates are sought outside its
    province; an atlas without such a node keeps its lines as drawn and excludes nothing.
    """
    from ..corridors._common import feature_ids, origin_node_from_roles

    if not ctx.has("nodes"):
        return None, None
    nodes = ctx.atlas["nodes"].to_crs("EPSG:4326")
    ids = feature_ids(nodes, "id", "nodes")
    node = origin_node_from_roles(nodes, ids)
    if node is None:
        return None, None
    row = nodes[(ids == node).to_numpy()].iloc[0]
    province = str(row["province"]) if "province" in nodes.columns else None
    return (float(row.geometry.x), float(row.geometry.y)), province


def _home_province(ctx: StepContext, districts: gpd.GeoDataFrame,
                   origin_province: str | None) -> str | None:
    """The province cooperation candidates are sought outside of.

    The step's ``exclude_province`` when set (``"none"`` keeps every province); otherwise the
    province of the origin node, else of the study region's districts when they all lie in
    one, else None.
    """
    given = str(ctx.params["exclude_province"])
    if given:
        return None if given.lower() == "none" else given
    if origin_province:
        return origin_province
    region = _districts(ctx)
    if region is None or "province" not in districts.columns:
        return None
    provinces = region["province"].dropna().astype(str).unique()
    return str(provinces[0]) if len(provinces) == 1 else None



def _corridors(ctx: StepContext) -> list[Any]:
    from .. import corridors as co

    p = ctx.params
    origin, province = _corridor_origin(ctx)
    axes = co.corridors_from_lines(ctx.atlas["corridors"], origin=origin)
    districts = ctx.atlas["districts"] if ctx.has("districts") else None
    zones = co.corridor_zones(axes, width_km=float(p["width_km"]), region=districts)
    out: list[Any] = _mark([zones], ctx, "corridors", "districts")
    if districts is None or not ctx.has("enterprises"):
        ctx.note("corridors: gravity flows left out: they need 'districts' and 'enterprises' "
                 "layers", zh="京津冀协同廊道：未计算引力联系：需要行政区和文化创意企业图层")
    else:
        places = co.place_masses(co.city_places(districts), ctx.atlas["enterprises"])
        n = int((places["mass"] > 0).sum())
        if n >= 2:
            out.extend(_mark([co.gravity_flows(places, mass="mass", beta=float(p["beta"]),
                                               top_n=int(p["top_n"]))], ctx,
                             "districts", "enterprises"))
        else:
            ctx.note(f"corridors: gravity flows left out: the atlas's enterprises lie in {n} "
                     "city (flows need enterprises in at least two)",
                     zh=f"京津冀协同廊道：未计算引力联系：图集中的企业只位于 {n} 个城市"
                        "（至少需要两个城市）")
    if ctx.has("factory_sites") and districts is not None:
        home = _home_province(ctx, districts, province)
        out.extend(_mark([co.cooperation_candidates(ctx.atlas["factory_sites"], zones, axes,
                                                    districts=districts,
                                                    exclude_province=home)],
                         ctx, "factory_sites", "corridors", "districts"))
    else:
        ctx.note("corridors: cooperation candidates left out: they need 'factory_sites' and "
                 "'districts' layers",
                 zh="京津冀协同廊道：未筛选协同合作候选地：需要老旧厂房和行政区图层")
    return out


register_step(Step(
    "corridors", run=_corridors,
    needs=(Need("corridors"),
           Need("districts", optional=True, without="clipping to the region and gravity flows"),
           Need("enterprises", optional=True, without="gravity flows"),
           Need("factory_sites", optional=True, without="cooperation candidates")),
    params={"width_km": 20.0, "beta": 2.0, "top_n": 30, "exclude_province": ""},
    param_help={"width_km": "full width of a corridor zone, km",
                "beta": "distance-decay exponent of the gravity flows",
                "top_n": "strongest flows drawn",
                "exclude_province": "cooperation candidates lie outside it; \"\" = the study "
                                    "region's province, \"none\" = keep all"},
    summary="Jing-Jin-Ji style corridors: zones, gravity flows, cooperation candidates"))
