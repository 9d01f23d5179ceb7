"""``cci-geo optimise SCENARIO``: outputs, overwrite protection and errors."""

import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from cci_geo.cli.main import main
from cci_geo.tables import BOM, header

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "layout_new_zones.toml"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimise")
    assert main(["optimise", str(SCENARIO), "--out", str(out), "--no-map", "--xlsx"]) == 0
    return out


def test_writes_sites_allocations_and_summary(outputs, capsys):
    sites = pyogrio.read_dataframe(outputs / "layout_new_zones_sites.gpkg")
    assert (~sites["fixed"]).sum() == 6 and sites["fixed"].sum() == 24
    alloc = pyogrio.read_dataframe(outputs / "layout_new_zones_allocations.gpkg")
    assert set(alloc.geometry.geom_type) == {"LineString"}
    assert set(alloc["site_id"]) <= set(sites["id"])
    raw = (outputs / "layout_new_zones_summary.csv").read_bytes()
    assert raw.startswith(BOM) and b"\n#" not in raw and not raw[3:].startswith(b"#")
    meta = json.loads((outputs / "layout_new_zones_summary_metadata.json").read_text())
    assert meta["scenario"].endswith("layout_new_zones.toml") and meta["cci_geo_version"]
    table = pd.read_csv(outputs / "layout_new_zones_summary.csv", encoding="utf-8-sig",
                        dtype={header("district"): str}).set_index(header("district"))
    assert table.loc["total", header("new_sites")] == 6
    after, before = header("share_after"), header("share_before")
    assert after.endswith("(%)")
    assert 50 < table.loc["total", after] <= 100  # a percentage, rounded to 0.1
    assert table.loc["total", after] >= table.loc["total", before]
    assert table.loc["110105", header("district_zh")] == "朝阳区"
    assert table.loc["110105", header("district_en")] == "Chaoyang"


def test_xlsx_workbook(outputs):
    book = pd.read_excel(outputs / "layout_new_zones.xlsx", sheet_name=None, header=[0, 1])
    assert list(book) == ["summary", "sites", "sources", "about"]
    summary = book["summary"]
    assert ("方案覆盖率 (%)", "Share covered with plan (%)") in summary.columns
    share = summary[("方案覆盖率 (%)", "Share covered with plan (%)")]
    assert share.between(0, 1).all()  # stored as a ratio, shown with a percent format
    sources = book["sources"]
    assert sources[("合成数据", "Synthetic")].any()


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
