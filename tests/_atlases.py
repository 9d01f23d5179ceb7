"""Planners' own atlases (not the demo), built in code and seeded, for the workflow tests.

- :func:`zones_enterprises_atlas`: only zones and enterprises (a planner's park survey and
  firm list), declared real;
- :func:`no_district_atlas`: every layer but nodes, enterprises without a ``district``
  column;
- :func:`shanghai_atlas`: another city, metric CRS EPSG:32651, study region Shanghai's bbox,
  no corridors and no functional areas.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import box

import cci_geo

SECTORS = ("design", "media", "film_tv", "publishing", "animation_games", "performing_arts",
           "expos_folk_arts", "art_exchange", "think_tanks")

#: Shanghai's bounding box (west, south, east, north), EPSG:4326.
SHANGHAI_BBOX = (120.85, 30.67, 122.2, 31.88)

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


def shanghai_atlas(n: int = 3000) -> cci_geo.Atlas:
    """Six districts, zones, factory sites, venues and enterprises in Shanghai; no corridors."""
    rng = np.random.default_rng(13)
    names = [("黄浦区", "Huangpu", "310101"), ("徐汇区", "Xuhui", "310104"),
             ("长宁区", "Changning", "310105"), ("静安区", "Jing'an", "310106"),
             ("普陀区", "Putuo", "310107"), ("杨浦区", "Yangpu", "310110")]
    x0, y0, dx, dy = 121.35, 31.15, 0.08, 0.08
    cells = [box(x0 + (i % 3) * dx, y0 + (i // 3) * dy, x0 + (i % 3 + 1) * dx,
                 y0 + (i // 3 + 1) * dy) for i in range(6)]
    districts = gpd.GeoDataFrame({
        "id": [c for _, _, c in names], "name_zh": [z for z, _, _ in names],
        "name_en": [e for _, e, _ in names], "adcode": [c for _, _, c in names],
        "level": "district", "province": "Shanghai"}, geometry=cells, crs=4326)

    def pts(k: int) -> gpd.array.GeometryArray:
        return gpd.points_from_xy(rng.uniform(x0 + 0.01, x0 + 3 * dx - 0.01, k),
                                  rng.uniform(y0 + 0.01, y0 + 2 * dy - 0.01, k))

    zones = gpd.GeoDataFrame({
        "id": [f"SZ{i}" for i in range(8)], "name_zh": [f"上海园区{i}" for i in range(8)],
        "name_en": [f"Shanghai park {i}" for i in range(8)],
        "kind": ["park", "base", "cluster", "park"] * 2, "status": "operating",
        "sectors": ["design", "media", "film_tv", "design;media"] * 2}, geometry=pts(8), crs=4326)
    factories = gpd.GeoDataFrame({
        "id": [f"SF{i}" for i in range(24)], "name_zh": [f"厂房{i}" for i in range(24)],
        "name_en": [f"Mill {i}" for i in range(24)], "former_use": "textiles",
        "built_year": rng.integers(1930, 1990, 24), "floor_area_m2": rng.uniform(2e3, 4e4, 24),
        "status": (["vacant", "candidate", "reused"] * 8), "heritage": [i % 5 == 0
                                                                         for i in range(24)]},
        geometry=pts(24), crs=4326)
    venues = gpd.GeoDataFrame({
        "id": [f"SV{i}" for i in range(8)], "name_zh": [f"场馆{i}" for i in range(8)],
        "name_en": [f"Venue {i}" for i in range(8)],
        "kind": ["library", "museum", "gallery", "theatre"] * 2,
        "open_space_m2": rng.uniform(800, 6000, 8)}, geometry=pts(8), crs=4326)
    centres = np.array([[121.44, 31.22], [121.40, 31.25], [121.50, 31.27]])
    ent = _enterprises(rng, centres, n, 0.012, "S")
    layers = {"districts": districts, "zones": zones, "factory_sites": factories,
              "venues": venues, "enterprises": ent}
    return cci_geo.Atlas(layers, dict.fromkeys(layers, REAL), name="上海市文化创意产业",
                         metric_crs="EPSG:32651", region=SHANGHAI_BBOX)
