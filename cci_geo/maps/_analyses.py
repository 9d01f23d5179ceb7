"""Run the analyses a briefing shows (the only place in ``cci_geo.maps`` that computes any).

Each step calls the public functions of one analysis module. A module that is not installed
is skipped with a logged note; a step that fails is reported (logged and listed on the map)
and the briefing goes on with the others.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

__all__ = ["BriefingRun", "briefing_results"]

logger = logging.getLogger(__name__)

#: Steps in order: (name, analysis module, function).
Step = tuple[str, str, Callable[[Any], list[Any]]]


@dataclass
class BriefingRun:
    """What the briefing computed: the results in map order and notes on skipped steps."""

    results: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _beijing(atlas: Any) -> gpd.GeoDataFrame:
    d = atlas["districts"]
    return d[d["adcode"].astype(str).str.startswith("11")]


def _concentration(atlas: Any) -> list[Any]:
    from .. import concentration as cc

    ent = atlas["enterprises"]
    bj = _beijing(atlas)
    out: list[Any] = [cc.kernel_density(ent, cell_size=250.0)]
    grid = cc.grid_counts(ent, 1000.0, region=bj)
    out.append(cc.hot_spots(grid, "count", weights="queen"))
    out.append(cc.location_quotient(ent, bj))
    clusters = cc.clusters(ent, eps_m=400.0, min_samples=25)
    gap = cc.designation_gap(clusters, atlas)
    out.extend([gap.clusters, gap.designated])
    return out


def _access(atlas: Any) -> list[Any]:
    from .. import access

    return [access.venue_access_by_district(atlas["venues"], atlas["enterprises"],
                                            _beijing(atlas))]


def _scenario_path() -> Path | None:
    # the working directory, the source checkout, then the copy shipped in the wheel
    here = Path(__file__).resolve()
    for base in (Path.cwd(), here.parents[2], here.parents[1] / "_data"):
        path = base / "scenarios" / "old_factory_reuse.toml"
        if path.is_file():
            return path
    return None


def _suitability(atlas: Any) -> list[Any]:
    from .. import suitability

    path = _scenario_path()
    if path is None:
        msg = "scenarios/old_factory_reuse.toml not found (reinstall cci_geo)"
        raise FileNotFoundError(msg)
    result = suitability.score(path, atlas=atlas, sensitivity=False)
    return [result.composite, result.sites]


def _layout(atlas: Any) -> list[Any]:
    from .. import layout

    proposal = layout.propose_zones(atlas, k=6, time_limit_s=20.0)
    return list(proposal.to_map_parts())


def _corridors(atlas: Any) -> list[Any]:
    from .. import corridors as co

    axes = co.corridors_from_lines(atlas["corridors"])
    zones = co.corridor_zones(axes, width_km=20.0, region=atlas["districts"])
    out: list[Any] = [zones]
    places = co.place_masses(co.city_places(atlas["districts"]), atlas["enterprises"])
    if int((places["mass"] > 0).sum()) >= 2:
        out.append(co.gravity_flows(places, mass="mass", beta=2.0, top_n=30))
    else:
        logger.info("gravity flows skipped: creative-industry mass is known for fewer than two "
                    "cities (the demo's synthetic enterprises lie only in Beijing)")
    out.append(co.cooperation_candidates(atlas["factory_sites"], zones, axes,
                                         districts=atlas["districts"]))
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
    for name, module, func in STEPS:
        if progress:
            progress(name)
        if not _available(module):
            note = f"{name}: cci_geo.{module} is not installed; skipped"
            logger.info(note)
            run.notes.append(note)
            continue
        try:
            run.results.extend(func(atlas))
        except Exception as exc:  # noqa: BLE001 - one failed analysis must not sink the briefing
            note = f"{name}: failed ({type(exc).__name__}: {exc}); left out of the map"
            logger.warning(note)
            run.notes.append(note)
    return run
