"""The planning workflow on the demo atlas, and layout scenarios."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cci_geo.errors import ScenarioError
from cci_geo.layout import load_scenario, propose_zones, run_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "layout_new_zones.toml"


@pytest.fixture(scope="module")
def atlas():
    from cci_geo.datasets import load_demo

    return load_demo()


@pytest.fixture(scope="module")
def proposal(atlas):
    return propose_zones(atlas, k=5, standard_m=3000, district_max=2)


def test_keeps_zones_and_adds_k_balanced_sites(atlas, proposal):
    sites = proposal.result.sites
    assert set(atlas["zones"]["id"]) <= set(sites.loc[sites["fixed"], "id"])
    new = proposal.new_sites
    assert len(new) == 5
    assert set(new["source"]) == {"factory_sites"}
    assert new["district"].value_counts().max() <= 2
    assert set(new["id"]) <= set(atlas["factory_sites"]["id"])


def test_before_after_table(proposal):
    t = proposal.table
    total = t.loc["total"]
    assert total["covered_after"] >= total["covered_before"]
    assert total["share_after"] == pytest.approx(proposal.after.coverage)
    assert total["share_before"] == pytest.approx(proposal.before.coverage)
    assert total["new_sites"] == 5
    assert t.drop(index="total")["new_sites"].sum() == 5
    assert (t.drop(index="total")["covered_after"] >= t.drop(index="total")["covered_before"]
            - 1e-9).all()
    # the model's objective is the covered weight after
    assert proposal.result.objective == pytest.approx(total["covered_after"])


def test_suitability_series_steers_the_choice(atlas, proposal):
    chosen = set(proposal.new_sites["id"])
    cands = atlas["factory_sites"]
    cands = cands[cands["status"].isin(["vacant", "candidate"])]
    score = pd.Series(np.where(cands["id"].isin(chosen), 0.0, 1.0), index=cands["id"])
    steered = propose_zones(atlas, k=5, standard_m=3000, suitability=score, score_weight=0.9)
    assert len(set(steered.new_sites["id"]) & chosen) < len(chosen)


@pytest.mark.parametrize("model", ["p_median", "p_center"])
def test_other_models_run_on_demo(atlas, model):
    prop = propose_zones(atlas, k=3, model=model, cell_size_m=3000, time_limit_s=30)
    assert len(prop.new_sites) == 3
    assert prop.result.status == "optimal"


def test_scenario_file_runs(atlas):
    data = load_scenario(SCENARIO)
    assert data["model"]["type"] == "max_coverage"
    prop = run_scenario(SCENARIO, atlas)
    assert len(prop.new_sites) == data["model"]["k"]


def test_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError, match=r"unknown key\(s\) \['kk'\]"):
        load_scenario({"model": {"type": "p_median", "kk": 3}})
    with pytest.raises(ScenarioError, match="type"):
        load_scenario({"model": {"type": "gravity"}})
    with pytest.raises(ScenarioError, match=r"\[model\]"):
        load_scenario({"demand": {"cell_m": 500}})
    with pytest.raises(ScenarioError, match="k must be a positive"):
        load_scenario({"model": {"type": "p_median", "k": 0}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\ntype=", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)
    with pytest.raises(FileNotFoundError):
        load_scenario(tmp_path / "missing.toml")


def test_scenario_scores_candidates_with_a_suitability_scenario(demo):
    scenarios = Path(__file__).resolve().parents[1] / "scenarios"
    data = load_scenario(scenarios / "layout_new_zones.toml")
    assert data["candidates"]["suitability_scenario"] == "old_factory_reuse.toml"
    prop = run_scenario(data, demo, base_dir=scenarios)
    new = prop.result.sites.loc[~prop.result.sites["fixed"], "score"]
    assert len(new) == 6 and new.notna().all() and new.between(0, 1).all()
    with pytest.raises(ScenarioError, match="suitability_scenario = 'nope.toml'"):
        run_scenario(data | {"candidates": {"suitability_scenario": "nope.toml"}}, demo,
                     base_dir=scenarios)


# --- planners' atlases without districts ----------------------------------------------------


def _without_districts(demo, *, keep_districts_layer):
    import cci_geo

    kinds = ["zones", "factory_sites", "enterprises"] + (["districts"] if keep_districts_layer
                                                         else [])
    layers = {k: demo[k] for k in kinds}
    layers["enterprises"] = layers["enterprises"].drop(columns=["district"])
    return cci_geo.Atlas(layers, name="own atlas")


def test_enterprises_without_district_get_it_from_the_districts_layer(demo, proposal):
    atlas = _without_districts(demo, keep_districts_layer=True)
    derived = propose_zones(atlas, k=5, standard_m=3000, district_max=2)
    t = derived.table
    assert len(t) > 10 and t.loc["total", "new_sites"] == 5
    assert t.drop(index="total")["new_sites"].max() <= 2
    # the spatial join puts 19,999 of the 20,000 demo enterprises in their recorded district
    pd.testing.assert_index_equal(t.index, proposal.table.index)
    assert t.loc["total", "demand"] == pytest.approx(proposal.table.loc["total", "demand"])


def test_atlas_without_districts_proposes_without_the_balance_rule(demo, caplog):
    atlas = _without_districts(demo, keep_districts_layer=False)
    with caplog.at_level("WARNING", logger="cci_geo.layout.plan"):
        prop = propose_zones(atlas, k=4, standard_m=3000, district_max=2)
    assert "balance rule (district_max=2" in caplog.text
    t = prop.table
    assert list(t.index) == ["total"]
    assert t.loc["total", "new_sites"] == 4 and t.loc["total", "zones_before"] == 24
    assert t.loc["total", "share_before"] == pytest.approx(prop.before.coverage)
    assert t.loc["total", "share_after"] == pytest.approx(prop.after.coverage)
    assert t.loc["total", "covered_after"] >= t.loc["total", "covered_before"]


def test_cli_optimise_on_an_atlas_without_districts(demo, tmp_path, capsys):
    from cci_geo.cli.main import main

    gpkg = _without_districts(demo, keep_districts_layer=False).to_gpkg(tmp_path / "own.gpkg")
    # the demo scenario scores sites with a suitability scenario that reads the districts
    # layer: a clear error naming it, not an AssertionError
    assert main(["optimise", str(SCENARIO), "--atlas", str(gpkg), "--out", str(tmp_path),
                 "--no-map"]) == 1
    assert "'districts' is not a known layer" in capsys.readouterr().err
    own = tmp_path / "own.toml"
    own.write_text("\n".join(line for line in SCENARIO.read_text(encoding="utf-8").splitlines()
                             if not line.startswith(("suitability_scenario", "score_weight"))),
                   encoding="utf-8")
    assert main(["optimise", str(own), "--atlas", str(gpkg), "--out", str(tmp_path),
                 "--no-map"]) == 0
    assert "total" in capsys.readouterr().out


def test_station_access_as_demand(atlas):
    """With stations as demand, coverage is the share of station weight within the standard."""
    prop = propose_zones(atlas, k=3, demand="stations", weight="n_lines", standard_m=1500,
                         cell_size_m=100, district_max=None)
    assert prop.scenario["demand"] == "stations"
    sites = prop.result.sites.to_crs(32650)
    st = atlas["stations"].to_crs(32650)
    n_lines = st["lines"].str.split(";").map(lambda v: len([x for x in v if x]))
    near = np.array([sites.distance(p).min() <= 1500 for p in st.geometry])
    expected = n_lines[near].sum() / n_lines.sum()
    assert prop.after.coverage == pytest.approx(expected, abs=0.01)
    assert prop.after.coverage > prop.before.coverage
    # the new sites are factory sites, chosen where stations are (not where firms are)
    new = sites[~sites["fixed"]]
    assert len(new) == 3
    assert all(st.distance(p).min() <= 1500 for p in new.geometry)


def test_station_demand_errors(atlas):
    with pytest.raises(ValueError, match="weight 'employees' is not a column of the stations"):
        propose_zones(atlas, k=2, demand="stations", weight="employees")
    with pytest.raises(ValueError, match="demand must be one of"):
        propose_zones(atlas, k=2, demand="metro")
    with pytest.raises(ScenarioError, match=r"\[demand\] source = 'metro'"):
        load_scenario({"model": {"type": "max_coverage"}, "demand": {"source": "metro"}})
    prop = run_scenario({"model": {"type": "max_coverage", "k": 2, "standard_m": 1200.0},
                         "demand": {"source": "stations", "weight": "", "cell_m": 500.0}},
                        atlas)
    assert prop.scenario["demand"] == "stations" and len(prop.new_sites) == 2


def test_a_place_without_zones_plans_its_first_ones(demo, tmp_path, capsys):
    from cci_geo import Atlas
    from cci_geo.cli.main import main

    atlas = Atlas({k: demo[k] for k in demo if k != "zones"}, demo.provenance, name="no zones")
    prop = propose_zones(atlas, k=4, standard_m=3000, time_limit_s=20)
    assert not prop.result.sites["fixed"].any() and len(prop.result.sites) == 4
    assert prop.before.coverage == 0.0 and prop.after.coverage > 0.2
    t = prop.table
    assert t.loc["total", "zones_before"] == 0 and t.loc["total", "new_sites"] == 4
    assert (t["covered_before"] == 0).all() and t["mean_cost_before"].isna().all()
    assert t.loc["total", "covered_after"] == pytest.approx(prop.after.coverage
                                                            * t.loc["total", "demand"])
    # the same four sites as a p-median with nothing fixed would choose for coverage
    for model in ("p_median", "p_center"):
        other = propose_zones(atlas, k=4, model=model, standard_m=3000, time_limit_s=20)
        assert len(other.new_sites) == 4 and other.before.coverage == 0.0
    own = tmp_path / "own.toml"
    own.write_text("\n".join(line for line in SCENARIO.read_text(encoding="utf-8").splitlines()
                             if not line.startswith(("suitability_scenario", "score_weight"))),
                   encoding="utf-8")
    gpkg = atlas.to_gpkg(tmp_path / "nozones.gpkg")
    assert main(["optimise", str(own), "--atlas", str(gpkg), "--out", str(tmp_path / "o"),
                 "--no-map"]) == 0
    assert "total" in capsys.readouterr().out


def test_diagnose_without_facilities_covers_nothing(demo):
    from cci_geo.layout import diagnose

    ent = demo["enterprises"].head(200)
    none = demo["zones"].iloc[0:0]
    diag = diagnose(none, ent, standard_m=3000, weight="employees")
    assert diag.coverage == 0.0 and not diag.demand["covered"].any()
    assert diag.demand["cost"].isna().all() and diag.demand["nearest_facility"].isna().all()
    assert len(diag.facilities) == 0
    assert diag.uncovered["uncovered_weight"].sum() == pytest.approx(ent["employees"].sum())
