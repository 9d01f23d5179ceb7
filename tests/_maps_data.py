"""Small synthetic atlases for the map tests and benchmarks (built in code, seeded)."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, box

SECTORS = ("design", "media", "film_tv", "publishing", "animation_games", "performing_arts",
           "expos_folk_arts", "art_exchange", "think_tanks")
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>window.__pwned=1</script>"


def synthetic_atlas(n_enterprises: int = 2000, seed: int = 7) -> SimpleNamespace:
    """A 3 x 3 grid of 'districts' over central Beijing with every layer kind."""
    rng = np.random.default_rng(seed)
    x0, y0, step = 116.10, 39.70, 0.15
    cells = [box(x0 + i * step, y0 + j * step, x0 + (i + 1) * step, y0 + (j + 1) * step)
             for j in range(3) for i in range(3)]
    districts = gpd.GeoDataFrame({
        "id": [f"d{i}" for i in range(9)],
        "name_zh": [f"第{i}区" for i in range(9)],
        "name_en": [f"District {i}" for i in range(9)],
        "adcode": [str(110101 + i) for i in range(9)],
        "level": "district", "province": "Beijing",
    }, geometry=cells, crs=4326)
    districts.loc[4, "name_en"] = XSS_IMG
    districts.loc[4, "name_zh"] = XSS_IMG
    areas = gpd.GeoDataFrame({
        "id": ["fa1", "fa2"], "name_zh": ["中关村", XSS_SCRIPT], "name_en": ["Zhongguancun",
                                                                           XSS_SCRIPT],
        "district": ["110108", "110105"], "designated": [2018, 2018],
        "sectors": ["design;media", "film_tv"],
    }, geometry=[box(116.25, 39.92, 116.33, 39.99), box(116.45, 39.90, 116.52, 39.96)], crs=4326)
    pts = lambda n: gpd.points_from_xy(rng.uniform(116.15, 116.5, n),  # noqa: E731
                                       rng.uniform(39.75, 40.1, n))
    zones = gpd.GeoDataFrame({
        "id": [f"z{i}" for i in range(6)], "name_zh": [f"园区{i}" for i in range(6)],
        "name_en": [f"Park {i}" for i in range(6)],
        "kind": ["park", "base", "cluster", "park", "park", "base"],
        "status": "operating", "sectors": ["design", "media", "film_tv", "design", "media",
                                           "publishing"],
    }, geometry=pts(6), crs=4326)
    regions = gpd.GeoDataFrame({
        "id": ["r1", "r2"], "name_zh": ["示范区一", "示范区二"],
        "name_en": ["Region 1", "Region 2"],
        "level": ["national", "municipal"], "designated": [2019, 2020]}, geometry=pts(2), crs=4326)
    factories = gpd.GeoDataFrame({
        "id": [f"f{i}" for i in range(8)], "name_zh": [f"厂房{i}" for i in range(8)],
        "name_en": [f"Factory {i}" for i in range(8)],
        "former_use": "textiles", "built_year": 1960, "floor_area_m2": rng.uniform(1e3, 5e4, 8),
        "status": ["reused", "vacant", "candidate", "candidate", "reused", "vacant", "candidate",
                   "reused"],
        "heritage": [True, False, False, True, False, False, False, False],
        "district": "110105"}, geometry=pts(8), crs=4326)
    venues = gpd.GeoDataFrame({
        "id": [f"v{i}" for i in range(10)], "name_zh": [f"场馆{i}" for i in range(10)],
        "name_en": [f"Venue {i}" for i in range(10)],
        "kind": ["library", "museum", "gallery", "theatre", "library"] * 2,
        "open_space_m2": rng.uniform(500, 5000, 10)}, geometry=pts(10), crs=4326)
    venues.loc[0, "name_en"] = XSS_IMG
    venues.loc[0, "name_zh"] = XSS_IMG
    nodes = gpd.GeoDataFrame({
        "id": ["beijing", "tianjin"], "name_zh": ["北京", "天津"],
        "name_en": ["Beijing", "Tianjin"],
        "province": ["Beijing", "Tianjin"], "role": ["core", "twin city"]},
        geometry=[Point(116.39, 39.91), Point(117.21, 39.13)], crs=4326)
    corridors = gpd.GeoDataFrame({
        "id": ["c1"], "name_zh": ["京津走廊"], "name_en": ["Beijing–Tianjin"], "kind": ["axis"],
        "node_ids": ["beijing;tianjin"]},
        geometry=[LineString([(116.39, 39.91), (117.21, 39.13)])], crs=4326)
    enterprises = synthetic_enterprises(n_enterprises, seed=seed)
    layers = {"districts": districts, "functional_areas": areas, "demonstrative_regions": regions,
              "zones": zones, "factory_sites": factories, "venues": venues, "nodes": nodes,
              "corridors": corridors, "enterprises": enterprises}
    prov = {k: {"source": f"test fixture {k}", "licence": "CC0", "datum": "wgs84",
                "status": "synthetic" if k == "enterprises" else "approximate"} for k in layers}
    return SimpleNamespace(layers=layers, provenance=prov, metric_crs="EPSG:32650")


def synthetic_enterprises(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` enterprises clustered around a few centres in central Beijing."""
    rng = np.random.default_rng(seed)
    centres = np.array([[116.30, 39.98], [116.47, 39.92], [116.40, 39.90], [116.50, 39.98]])
    which = rng.integers(0, len(centres), n)
    xy = centres[which] + rng.normal(0, 0.03, (n, 2))
    return gpd.GeoDataFrame({
        "id": [f"e{i}" for i in range(n)],
        "name_zh": [f"企业{i}" for i in range(n)],
        "name_en": [f"Enterprise {i}" for i in range(n)],
        "sector": np.array(SECTORS)[rng.integers(0, 9, n)],
        "revenue_cny": np.round(rng.lognormal(15, 1, n)),
        "employees": rng.integers(1, 500, n),
        "founded": rng.integers(1990, 2024, n),
        "district": pd.Series(rng.integers(110101, 110110, n)).astype(str),
    }, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326)
