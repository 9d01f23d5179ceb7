"""``cci-geo optimise SCENARIO``: outputs, overwrite protection and errors."""

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from cci_geo.cli.main import main

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "layout_new_zones.toml"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimise")
    assert main(["optimise", str(SCENARIO), "--out", str(out), "--no-map"]) == 0
    return out


def test_writes_sites_allocations_and_summary(outputs, capsys):
    sites = pyogrio.read_dataframe(outputs / "layout_new_zones_sites.gpkg")
    assert (~sites["fixed"]).sum() == 6 and sites["fixed"].sum() == 24
    alloc = pyogrio.read_dataframe(outputs / "layout_new_zones_allocations.gpkg")
    assert set(alloc.geometry.geom_type) == {"LineString"}
    assert set(alloc["site_id"]) <= set(sites["id"])
    text = (outputs / "layout_new_zones_summary.csv").read_text(encoding="utf-8")
    assert "# scenario:" in text and "# cci_geo_version:" in text
    table = pd.read_csv(outputs / "layout_new_zones_summary.csv", comment="#",
                        index_col="district")
    assert table.loc["total", "new_sites"] == 6
    assert table.loc["total", "share_after"] >= table.loc["total", "share_before"]


def test_refuses_to_overwrite_then_overwrites(outputs, capsys):
    argv = ["optimise", str(SCENARIO), "--out", str(outputs), "--no-map"]
    assert main(argv) == 1
    assert "already exists" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
    assert "wrote" in capsys.readouterr().out


def test_bad_scenario_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\ntype = "gravity"\n', encoding="utf-8")
    assert main(["optimise", str(bad), "--out", str(tmp_path)]) == 1
    assert "gravity" in capsys.readouterr().err


@pytest.mark.slow
def test_writes_html_map(tmp_path):
    assert main(["optimise", str(SCENARIO), "--out", str(tmp_path)]) == 0
    html = (tmp_path / "layout_new_zones.html").read_text(encoding="utf-8")
    assert "<html" in html.lower() and "leaflet" in html.lower()
