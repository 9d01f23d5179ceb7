"""Planners' own atlases (not the demo), built in code and seeded, for the workflow tests.

- :func:`zones_enterprises_atlas`: only zones and enterprises (a planner's park survey and
  firm list), declared real;
- :func:`no_district_atlas`: every layer but nodes, enterprises without a ``district``
  column.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

import cci_geo

SECTORS = ("design", "media", "film_tv", "publishing", "animation_games", "performing_arts",
           "expos_folk_arts", "art_exchange", "think_tanks")

REAL = {"source": "planner's survey (test fixture)", "licence": "internal", "datum": "WGS-84",
        "status": "real"}


def _enterprises(rng: np.random.Generator, centres: np.ndarray, n: int, spread: float,
                 prefix: str) -> gpd.GeoDataFrame:
    which = rng.integers(0, len(centres), n)
    xy = centres[which] + rng.normal(0, spread, (n, 2))
    return gpd.GeoDataFrame({
        "id": [f"{prefix}{i:05d}" for i in range(n)],
        "sector": np.array(SECTORS)[rng.integers(0, 9, n)],
        "revenue_cny": np.round(rng.lognormal(15, 1, n)),
        "employees": rng.integers(1, 300, n),
        "founded": rng.integers(1995, 2024, n),
    }, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326)


def zones_enterprises_atlas(demo: cci_geo.Atlas, n: int = 3000) -> cci_geo.Atlas:
    """Zones and enterprises only, around Chaoyang; both declared real (a planner's survey)."""
    rng = np.random.default_rng(11)
    zones = demo["zones"]
    zones = zones[zones.geometry.representative_point().x.between(116.40, 116.62)]
    centres = np.array([[116.49, 39.98], [116.45, 39.92], [116.56, 39.93]])
    ent = _enterprises(rng, centres, n, 0.012, "C")
    return cci_geo.Atlas({"zones": zones.reset_index(drop=True), "enterprises": ent},
                         {"zones": REAL, "enterprises": REAL}, name="朝阳区文创园区调查")


def no_district_atlas(demo: cci_geo.Atlas, n: int = 3000) -> cci_geo.Atlas:
    """The demo's layers but nodes, with ``n`` enterprises that have no ``district`` column."""
    rng = np.random.default_rng(12)
    ent = demo["enterprises"]
    ent = ent.iloc[np.sort(rng.choice(len(ent), n, replace=False))]
    ent = ent.drop(columns=["district"]).reset_index(drop=True)
    layers = {k: demo[k] for k in demo.layers if k not in ("nodes", "enterprises")}
    layers["enterprises"] = ent
    prov = {k: demo.provenance[k] for k in layers}
    return cci_geo.Atlas(layers, prov, name="Haidian firms without districts")
