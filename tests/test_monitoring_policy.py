"""Policy target progress, park scorecards and the designation permutation test."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from cci_geo.errors import ParameterError
from cci_geo.monitoring import (
    designated_areas,
    designation_effect,
    park_scorecards,
    target_progress,
)


def _firms() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    ent = gpd.GeoDataFrame(
        {"id": ["A", "B", "C", "D"], "sector": ["design", "media", "design", "film_tv"],
         "founded": [2010, 2010, 2019, 2010], "closed": pd.array([pd.NA, 2020, pd.NA, pd.NA],
                                                                  dtype="Int64"),
         "brand": [True, True, False, False]},
        geometry=[Point(450_100, 4_420_100), Point(450_200, 4_420_200),
                  Point(460_000, 4_430_000), Point(450_300, 4_420_300)], crs="EPSG:32650")
    panel = pd.DataFrame({"enterprise_id": ["A", "A", "B", "C", "D"],
                          "year": [2018, 2019, 2018, 2019, 2019],
                          "revenue_cny": [120e9, 60e9, 55e9, 1e6, 2e6],
                          "supported": [False, False, True, True, True]})
    return ent, panel


def test_targets_count_thresholds_flags_and_supported_per_year() -> None:
    ent, panel = _firms()
    out = target_progress(ent, panel, brand="brand", supported="supported")
    city = out[out["scope"] == "city"].pivot(index="year", columns="target_id", values="value")
    assert city.loc[2018].tolist() == [1, 2, 2, 1]   # PT21 >100bn, PT22 >50bn, brands, SMEs
    assert city.loc[2019].tolist() == [0, 1, 2, 2]
    row = out[(out["scope"] == "city") & (out["target_id"] == "PT22") & (out["year"] == 2018)]
    assert row["share_of_target"].iloc[0] == pytest.approx(2 / 5)
    assert not bool(row["met"].iloc[0])


def test_targets_by_area_and_id_lists() -> None:
    ent, panel = _firms()
    district = gpd.GeoDataFrame({"id": ["d1"], "name_en": ["West"]},
                                geometry=[box(449_000, 4_419_000, 451_000, 4_421_000)],
                                crs="EPSG:32650")
    out = target_progress(ent, panel, brand=["C"], supported={2019: ["D"]},
                          areas={"district": district})
    d = out[(out["scope"] == "district") & (out["year"] == 2019)].set_index("target_id")
    assert d.loc["PT23", "value"] == 0 and d.loc["PT24", "value"] == 1
    assert d["met"].isna().all()
    with pytest.raises(ParameterError, match="brand"):
        target_progress(ent, panel, brand="flagship")


def _town(seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Parks designated in 2016 that attract births; elsewhere older firms that close."""
    rng = np.random.default_rng(seed)
    parks = [(450_000 + 6000 * i, 4_420_000 + 5000 * (i % 2)) for i in range(4)]
    rows = []
    for px, py in parks:
        for _ in range(40):
            rows.append((px + rng.normal(0, 300), py + rng.normal(0, 300),
                         int(rng.integers(2016, 2021)), pd.NA))
    for _ in range(1500):
        rows.append((rng.uniform(440_000, 480_000), rng.uniform(4_410_000, 4_440_000),
                     int(rng.integers(2000, 2012)),
                     int(rng.integers(2013, 2021)) if rng.random() < 0.3 else pd.NA))
    x, y, f, c = zip(*rows, strict=True)
    ent = gpd.GeoDataFrame({"id": [f"E{i}" for i in range(len(rows))], "sector": "design",
                            "founded": f, "closed": pd.array(c, dtype="Int64")},
                           geometry=gpd.points_from_xy(x, y), crs="EPSG:32650")
    zones = gpd.GeoDataFrame({"id": [f"Z{i}" for i in range(4)], "designated": 2016},
                             geometry=[Point(p) for p in parks], crs="EPSG:32650")
    return ent, zones


def test_scorecards_and_permutation_test_find_the_designation_effect() -> None:
    ent, zones = _town()
    areas = designated_areas(zones=zones.to_crs("EPSG:4326"))
    cards = park_scorecards(ent, areas, years=range(2012, 2021), n_matches=4,
                            metric_crs="EPSG:32650")
    assert (cards["growth_since_designation_pct"] > cards["comparison_growth_pct"]).all()
    assert (cards["baseline_year"] == 2015).all()
    assert cards["lq_design"].round(6).eq(1.0).all()
    res = designation_effect(cards, n_permutations=999, seed=3)
    assert res.n_areas == 4 and res.statistic > 0 and res.p_value <= 0.01
    again = designation_effect(cards, n_permutations=999, seed=3)
    assert again.p_value == res.p_value                      # seeded


def test_permutation_test_finds_nothing_without_an_effect() -> None:
    ent, zones = _town(1)
    ent = ent.assign(founded=2005, closed=pd.array([pd.NA] * len(ent), dtype="Int64"))
    cards = park_scorecards(ent, designated_areas(zones=zones.to_crs("EPSG:4326")),
                            years=range(2012, 2021), metric_crs="EPSG:32650")
    res = designation_effect(cards, n_permutations=499, seed=0)
    assert res.statistic == pytest.approx(0.0) and res.p_value > 0.5
    empty = cards.copy()
    empty.attrs = {}
    with pytest.raises(ParameterError, match="comparison sets"):
        designation_effect(empty)
