"""The headline concentration workflow on the embedded Beijing demo atlas."""

from __future__ import annotations

import numpy as np
import pytest

from cci_geo import concentration as cc
from cci_geo.results import result_kind


@pytest.fixture(scope="module")
def beijing(demo):
    d = demo["districts"]
    return d[d["adcode"].astype(str).str.startswith("11") & (d["level"] == "district")]


def test_headline_workflow_on_demo_atlas(demo, beijing):
    ent = demo["enterprises"]
    # 1. density of enterprises (quartic, 1 km radius, 250 m cells over the core)
    core = beijing[beijing["adcode"].astype(str).isin(["110101", "110102", "110105", "110108"])]
    surf = cc.kernel_density(ent, cell_size_m=250, bandwidth_m=1000, extent=core)
    assert result_kind(surf) == "kernel_density"
    assert np.nanmax(surf.data) > 0 and surf.units == "points per km²"
    # 2. location quotients by Beijing district
    lq = cc.location_quotient(ent, beijing)
    assert len(lq) == 16 and lq["total"].sum() > 0.9 * len(ent)
    lq_cols = [c for c in lq.columns if c.startswith("lq_")]
    assert len(lq_cols) == 9
    weighted = (lq[lq_cols].fillna(0).mul(lq["total"], axis=0)).sum() / lq["total"].sum()
    np.testing.assert_allclose(weighted, 1.0)  # employment-weighted mean LQ is 1
    # 3. hot spots on grid counts
    grid = cc.grid_counts(ent, 1000, region=beijing)
    hot = cc.hot_spots(grid, "count")
    assert (hot["gi_bin"] == 3).sum() > 0
    # 4. clusters and 5. the designation gap against the atlas's designated places
    cl = cc.clusters(ent, eps_m=300, min_samples=20)
    assert len(cl) > 0 and set(cl["dominant_sector"]) <= {
        "design", "media", "film_tv", "publishing", "animation_games", "performing_arts",
        "expos_folk_arts", "art_exchange", "think_tanks"}
    gap = cc.designation_gap(cl, demo)
    assert set(gap.clusters["designation"]) <= {"designated", "partly", "undesignated"}
    assert set(gap.designated["kind"]) == {"zones", "functional_areas", "demonstrative_regions"}
    assert gap.designated["cluster_present"].any()
