"""Run the analyses a briefing shows (the only place in ``cci_geo.maps`` that computes any).

Each step calls the public functions of one analysis module. A module that is not installed
is skipped with a logged note; a step that fails is reported (logged and listed on the map)
and the briefing goes on with the others. Every result is marked with the atlas layers it was
computed from (:func:`cci_geo.maps.sources.derived_from`), so the map flags results derived
from synthetic data.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from ..raster import Surface
from .registry import result_parts
from .sources import derived_from

__all__ = ["BriefingRun", "briefing_results"]

logger = logging.getLogger(__name__)

#: Steps in order: (name, analysis module, function). A function takes the atlas and a dict
#: shared by the steps of one run (later steps reuse earlier results, e.g. suitability scores
#: weight the layout proposal) and returns the results to draw.
Step = tuple[str, str, Callable[[Any, dict[str, Any]], list[Any]]]

_DESIGNATED = ("functional_areas", "demonstrative_regions", "zones")


@dataclass
class BriefingRun:
    """What the briefing computed: the results in map order and notes on skipped steps."""

    results: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _beijing(atlas: Any) -> gpd.GeoDataFrame:
    d = atlas["districts"]
    return d[d["adcode"].astype(str).str.startswith("11")]


def _mark(results: list[Any], atlas: Any, *kinds: str) -> list[Any]:
    """Record on each drawable part of ``results`` that it was computed from layers ``kinds``."""
    layers = atlas.layers if hasattr(atlas, "layers") else atlas
    held = [k for k in dict.fromkeys(kinds) if k in layers]
    if not held:
        return results
    return [derived_from(part, atlas, *held)
            if isinstance(part, (gpd.GeoDataFrame, Surface)) else part
            for part in result_parts(results)]


def _concentration(atlas: Any, shared: dict[str, Any]) -> list[Any]:  # noqa: ARG001
    from .. import concentration as cc

    ent = atlas["enterprises"]
    bj = _beijing(atlas)
    out: list[Any] = [cc.kernel_density(ent, cell_size=250.0)]
    grid = cc.grid_counts(ent, 1000.0, region=bj)
    out.append(cc.hot_spots(grid, "count", weights="queen"))
    out.append(cc.location_quotient(ent, bj))
    clusters = cc.clusters(ent, eps_m=400.0, min_samples=25)
    gap = cc.designation_gap(clusters, atlas)
    out = _mark(out, atlas, "enterprises", "districts")
    out.extend(_mark([gap.clusters, gap.designated], atlas, "enterprises", *_DESIGNATED))
    return out


def _access(atlas: Any, shared: dict[str, Any]) -> list[Any]:  # noqa: ARG001
    from .. import access

    return _mark([access.venue_access_by_district(atlas["venues"], atlas["enterprises"],
                                                  _beijing(atlas))],
                 atlas, "venues", "enterprises", "districts")


def _scenario_path() -> Path | None:
    # the working directory, the source checkout, then the copy shipped in the wheel
    here = Path(__file__).resolve()
    for base in (Path.cwd(), here.parents[2], here.parents[1] / "_data"):
        path = base / "scenarios" / "old_factory_reuse.toml"
        if path.is_file():
            return path
    return None


def _scenario_layers(path: Path) -> list[str]:
    """Return every ``layer = "..."`` named in a scenario file."""
    import tomllib

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

    walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return found


def _suitability(atlas: Any, shared: dict[str, Any]) -> list[Any]:
    from .. import suitability

    path = _scenario_path()
    if path is None:
        msg = "scenarios/old_factory_reuse.toml not found (reinstall cci_geo)"
        raise FileNotFoundError(msg)
    result = suitability.score(path, atlas=atlas, sensitivity=False)
    shared["suitability"] = result.sites.set_index("id")["score"]
    return _mark([result.composite, result.sites], atlas,
                 "factory_sites", *_scenario_layers(path))


def _layout(atlas: Any, shared: dict[str, Any]) -> list[Any]:
    from .. import layout

    # new zones among the candidate factory sites, favouring suitable ones when scored
    score = shared.get("suitability")
    proposal = layout.propose_zones(atlas, k=6, time_limit_s=20.0, suitability=score,
                                    score_weight=0.2 if score is not None else 0.0)
    return _mark(list(proposal.to_map_parts()), atlas, "zones", "factory_sites", "enterprises",
                 "districts")


def _corridors(atlas: Any, shared: dict[str, Any]) -> list[Any]:  # noqa: ARG001
    from .. import corridors as co

    axes = co.corridors_from_lines(atlas["corridors"])
    zones = co.corridor_zones(axes, width_km=20.0, region=atlas["districts"])
    out: list[Any] = _mark([zones], atlas, "corridors", "districts")
    places = co.place_masses(co.city_places(atlas["districts"]), atlas["enterprises"])
    if int((places["mass"] > 0).sum()) >= 2:
        out.extend(_mark([co.gravity_flows(places, mass="mass", beta=2.0, top_n=30)], atlas,
                         "districts", "enterprises"))
    else:
        logger.info("gravity flows skipped: creative-industry mass is known for fewer than two "
                    "cities (the demo's synthetic enterprises lie only in Beijing)")
    out.extend(_mark([co.cooperation_candidates(atlas["factory_sites"], zones, axes,
                                                districts=atlas["districts"])],
                     atlas, "factory_sites", "corridors", "districts"))
    return out


STEPS: tuple[Step, ...] = (
    ("concentration", "concentration", _concentration),
    ("accessibility", "access", _access),
    ("suitability", "suitability", _suitability),
    ("layout", "layout", _layout),
    ("corridors", "corridors", _corridors),
)


def _available(module: str) -> bool:
    try:
        importlib.import_module(f"cci_geo.{module}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("cci_geo"):
            return False
        raise
    return True


def briefing_results(atlas: Any, *,
                     progress: Callable[[str], None] | None = None) -> BriefingRun:
    """Run every available briefing analysis on ``atlas``.

    Parameters
    ----------
    atlas
        The atlas (``atlas[kind]`` GeoDataFrames).
    progress
        Called with each step's name before it runs.

    Returns
    -------
    BriefingRun
        The results (GeoDataFrames and Surfaces) and notes on skipped or failed steps.
    """
    run = BriefingRun()
    shared: dict[str, Any] = {}
    for name, module, func in STEPS:
        if progress:
            progress(name)
        if not _available(module):
            note = f"{name}: cci_geo.{module} is not installed; skipped"
            logger.info(note)
            run.notes.append(note)
            continue
        try:
            run.results.extend(func(atlas, shared))
        except Exception as exc:  # noqa: BLE001 - one failed analysis must not sink the briefing
            note = f"{name}: failed ({type(exc).__name__}: {exc}); left out of the map"
            logger.warning(note)
            run.notes.append(note)
    return run
