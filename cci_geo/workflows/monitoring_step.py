"""The briefing's ``monitoring`` step: emerging hot spots, park scorecards, target progress.

It runs when the enterprises carry ``founded`` and ``closed`` years (``closed`` may be empty
for every firm); the ``enterprise_years`` table, when the atlas has one, fixes the years and
adds employment and revenue to the scorecards. Without designated layers it leaves the
scorecards out and says so. The city-wide progress toward the 2018 Opinions' enterprise
targets (PT21-PT24) in the last year is drawn as a card on the map (``target_card``).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..maps.labels import label
from ..results import tag_result
from .briefing_steps import DESIGNATED, _mark
from .steps import Need, Step, StepContext, register_step

__all__: list[str] = []

logger = logging.getLogger(__name__)


def _years(ctx: StepContext, panel: pd.DataFrame | None) -> range:
    p = ctx.params
    ent = ctx.atlas["enterprises"]
    founded = pd.to_numeric(ent["founded"], errors="coerce")
    if panel is not None:
        first, last = int(panel["year"].min()), int(panel["year"].max())
    else:
        last = int(np.nanmax(founded.to_numpy(dtype="float64", na_value=np.nan)))
        first = max(last - int(p["span_years"]) + 1,
                    int(np.nanmin(founded.to_numpy(dtype="float64", na_value=np.nan))))
    first = int(p["first_year"]) or first
    last = int(p["last_year"]) or last
    return range(first, last + 1)


def _target_card(ctx: StepContext, panel: pd.DataFrame | None, year: int) -> gpd.GeoDataFrame:
    """City-wide target progress in ``year``, one row per target (no geometry: a map card)."""
    from ..monitoring import target_progress

    ent = ctx.atlas["enterprises"]
    brand = "brand" if "brand" in ent.columns else None
    supported = "supported_sme" if panel is not None and "supported_sme" in panel.columns \
        else None
    prog = target_progress(ent, panel, years=[year], brand=brand, supported=supported)
    city = prog[prog["scope"] == "city"].reset_index(drop=True)
    card = gpd.GeoDataFrame(city, geometry=gpd.GeoSeries([None] * len(city), crs=4326))
    return tag_result(card, "target_card")


def _monitoring(ctx: StepContext) -> list[Any]:
    from ..monitoring import (
        designated_areas,
        emerging_hot_spots,
        park_scorecards,
        space_time_cube,
    )

    p = ctx.params
    tables = getattr(ctx.atlas, "tables", {}) or {}
    panel = tables.get("enterprise_years")
    years = _years(ctx, panel)
    ent = ctx.atlas["enterprises"]
    cube = space_time_cube(ent, years=years, cell_size_m=float(p["cell_size_m"]),
                           region=ctx.region, metric_crs=getattr(ctx.atlas, "metric_crs", None))
    out: list[Any] = _mark([emerging_hot_spots(cube, k=int(p["k"]), alpha=float(p["alpha"]))],
                           ctx, "enterprises")
    card = _target_card(ctx, panel, years.stop - 1)
    if len(card):
        out.extend(_mark([card], ctx, "enterprises"))
    else:
        ctx.note("monitoring: target card left out: no target could be counted",
                 zh="动态监测：未生成政策目标卡片：没有可统计的指标")
    designated = [k for k in DESIGNATED if ctx.has(k)]
    if not designated:
        ctx.note("monitoring: park scorecards left out: the atlas has none of the layers "
                 f"{', '.join(DESIGNATED)}",
                 zh="动态监测：未生成园区计分卡：图集中没有"
                    f"{'、'.join(label(k, 'zh') for k in DESIGNATED)}图层")
        return out
    areas = designated_areas(**{k: ctx.atlas[k] for k in designated})
    cards = park_scorecards(ent, areas, panel, years=years,
                            stations=ctx.atlas["stations"] if ctx.has("stations") else None,
                            venues=ctx.atlas["venues"] if ctx.has("venues") else None,
                            metric_crs=getattr(ctx.atlas, "metric_crs", None))
    out.extend(_mark([cards], ctx, "enterprises", *designated))
    ctx.note(f"monitoring: {years.start}-{years.stop - 1}, {len(cube.cells)} cells of "
             f"{float(p['cell_size_m']):g} m, k={int(p['k'])}",
             zh=f"动态监测：{years.start}–{years.stop - 1} 年，{len(cube.cells)} 个 "
                f"{float(p['cell_size_m']):g} 米网格，k={int(p['k'])}")
    return out


register_step(Step(
    "monitoring", run=_monitoring,
    needs=(Need("enterprises", ("founded", "closed")),
           Need("zones", optional=True, without="park scorecards",
                alternatives=("functional_areas", "demonstrative_regions"))),
    params={"cell_size_m": 1000.0, "k": 1, "alpha": 0.10, "first_year": 0, "last_year": 0,
            "span_years": 14},
    param_help={"cell_size_m": "grid cell of the space-time cube, metres",
                "k": "previous years in the Gi* neighbourhood",
                "alpha": "significance of hot/cold spots and trends (0.10: 90 %)",
                "first_year": "first year (0: the enterprise_years table's, else last - span)",
                "last_year": "last year (0: the table's, else the latest founding year)",
                "span_years": "years analysed when there is no enterprise_years table"},
    summary="is the policy working? emerging hot spots over the years and park scorecards "
            "against matched comparison areas"))
