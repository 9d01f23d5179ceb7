"""``cci-geo score`` on the demo atlas: outputs, provenance, overwrite protection, errors."""

import json
import re
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import rasterio

from cci_geo.cli.main import main
from cci_geo.tables import BOM, header


def _ranking(path):
    """The ranked CSV with machine column names back (headers are bilingual with units)."""
    df = pd.read_csv(path, encoding="utf-8-sig")
    names = {header(c): c for c in ("rank", "score", "p_top_k", "rank_median", "excluded_by",
                                    "missing")}
    return df.rename(columns=names)

# rasterio.transform.from_bounds (used when the HTML map warps the composite) still multiplies
# Affine objects with `*`, which affine >= 3 flags; the warning is rasterio's, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "old_factory_reuse.toml"


@pytest.fixture(scope="module")
def coarse_scenario(tmp_path_factory):
    """The demo scenario on a 1 km grid, so the test runs in seconds."""
    text = re.sub(r"(?m)^cell_size_m = 100\b", "cell_size_m = 1000", SCENARIO.read_text())
    assert "cell_size_m = 1000" in text
    path = tmp_path_factory.mktemp("scn") / "old_factory_reuse.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_once(coarse_scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    code = main(["-q", "score", str(coarse_scenario), "--out", str(out), "--lang", "en",
                 "--xlsx"])
    return code, out


def test_score_writes_every_output(run_once, capsys):
    code, out = run_once
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert "old_factory_reuse_ranking.csv" in names
    assert "old_factory_reuse.gpkg" in names
    assert "old_factory_reuse_composite.tif" in names
    assert "old_factory_reuse_provenance.json" in names
    assert "old_factory_reuse.html" in names
    assert "old_factory_reuse_whatif.html" in names  # weights to move in the browser
    assert sum(n.startswith("old_factory_reuse_criterion_") for n in names) == 5
    assert not [n for n in names if n.startswith(".")]  # no temporary files left


def test_ranked_csv_has_contributions_and_stability(run_once):
    _, out = run_once
    path = out / "old_factory_reuse_ranking.csv"
    assert path.read_bytes()[:3] == BOM  # Excel reads it as UTF-8
    assert not path.read_text(encoding="utf-8-sig").startswith("#")
    df = _ranking(path)
    assert len(df) == 60  # vacant + candidate sites of the demo
    ranked = df[df["rank"].notna()]
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    contrib = df.filter(like=", contribution").sum(axis=1)
    assert contrib.notna().all() and len(df.filter(like=", contribution").columns) == 7
    assert (abs(contrib - df["score"]) < 0.004)[df["missing"].isna()].all()  # 3 decimals
    assert {"p_top_k", "rank_median", "excluded_by"} <= set(df.columns)
    assert ranked["p_top_k"].between(0, 100).all()  # a percentage
    assert (ranked["p_top_k"] > 1).any()
    assert df.loc[df["rank"].isna(), "p_top_k"].isna().all()  # excluded: not ranked
    assert (df["score"].dropna().round(3) == df["score"].dropna()).all()
    # districts by name in both languages beside the code, units in the headers
    assert {"所在区 / District in Chinese", "所在区英文名 / District"} <= set(df.columns)
    assert "朝阳区" in set(df["所在区 / District in Chinese"])
    assert "邻近文创园区 测量值 / Near CCI zones, measured (m)" in df.columns
    assert "建筑面积 / Floor area (m²)" in df.columns


def test_xlsx_has_a_sheet_per_table_and_sources(run_once):
    import openpyxl

    _, out = run_once
    wb = openpyxl.load_workbook(out / "old_factory_reuse.xlsx")
    assert wb.sheetnames == ["ranking", "criteria", "stability", "sources", "about"]
    ws = wb["ranking"]
    assert ws.freeze_panes == "A3"  # two frozen header rows
    zh = [c.value for c in ws[1]]
    en = [c.value for c in ws[2]]
    assert "综合得分 (0-1)" in zh and "Score (0-1)" in en
    col = en.index("Probability of top k (%)") + 1
    assert ws.cell(3, col).number_format == "0.0%"
    assert 0 <= ws.cell(3, col).value <= 1
    src = pd.read_excel(out / "old_factory_reuse.xlsx", sheet_name="sources", header=1)
    flags = dict(zip(src["Layer"], src["Synthetic"], strict=True))
    assert flags["enterprises"] and not flags["districts"]


def test_gpkg_tiff_and_provenance(run_once):
    _, out = run_once
    layers = dict(pyogrio.list_layers(out / "old_factory_reuse.gpkg"))
    assert set(layers) == {"sites", "criteria", "stability", "provenance"}
    prov = json.loads((out / "old_factory_reuse_provenance.json").read_text())
    assert len(prov["scenario_sha256"]) == 64
    assert prov["seed"] == 2018
    assert prov["cci_geo_version"]
    assert prov["created"]
    assert "enterprises" in prov["layers"] and prov["layers"]["enterprises"]["status"]
    with rasterio.open(out / "old_factory_reuse_composite.tif") as src:
        assert src.crs.to_epsg() == 32650
        assert src.tags()["scenario_sha256"] == prov["scenario_sha256"]
        assert src.tags()["cci_geo_result"] == "suitability"
        data = src.read(1, masked=True)
        assert data.min() >= 0 and data.max() <= 1
        assert data.mask.any()  # outside Beijing is nodata


def test_existing_outputs_are_not_replaced_without_overwrite(run_once, coarse_scenario, capsys):
    _, out = run_once
    before = (out / "old_factory_reuse_ranking.csv").stat().st_mtime_ns
    code = main(["-q", "score", str(coarse_scenario), "--out", str(out), "--no-sensitivity"])
    assert code == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "old_factory_reuse_ranking.csv").stat().st_mtime_ns == before
    code = main(["-q", "score", str(coarse_scenario), "--out", str(out), "--overwrite",
                 "--no-sensitivity", "--no-html"])
    assert code == 0
    df = _ranking(out / "old_factory_reuse_ranking.csv")
    assert "p_top_k" not in df.columns


def test_bad_scenario_reports_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(SCENARIO.read_text().replace('layer = "venues"', 'layer = "musems"'))
    code = main(["-q", "score", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "(venue_access).layer = 'musems' is not a known layer" in err
    assert not (tmp_path / "o").exists()
