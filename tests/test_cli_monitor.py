"""``cci-geo monitor`` on the demo atlas: tables, map, provenance, overwrite protection."""

import json

import pandas as pd
import pytest

from cci_geo.cli.main import main
from cci_geo.monitoring.report import MONITORING_COLUMNS
from cci_geo.tables import BOM

FAST = ["--cell-size-m", "3000", "--permutations", "199"]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    d = tmp_path_factory.mktemp("monitor")
    assert main(["monitor", "--out", str(d), *FAST, "--lang", "en", "--xlsx"]) == 0
    return d


def test_writes_excel_ready_tables_with_units_and_provenance(out) -> None:
    for name in ("emerging_hot_spots", "target_progress", "park_scorecards",
                 "designation_effect"):
        assert (out / f"{name}.csv").read_bytes()[:3] == BOM
        meta = json.loads((out / f"{name}_metadata.json").read_text(encoding="utf-8"))
        assert meta["synthetic_inputs"] == "enterprise_years;enterprises"
        assert meta["seed"] == 2018
    cards = pd.read_csv(out / "park_scorecards.csv", encoding="utf-8-sig")
    assert MONITORING_COLUMNS["growth_since_designation"].header() in cards.columns
    assert "面积 / Area (km²)" in cards.columns
    effect = pd.read_csv(out / "designation_effect.csv", encoding="utf-8-sig")
    assert effect[MONITORING_COLUMNS["p_value"].header()].iloc[0] < 0.05
    assert (out / "monitoring.xlsx").stat().st_size > 0


def test_map_has_the_category_legend_and_year_layers(out) -> None:
    html = (out / "monitoring_map.html").read_text(encoding="utf-8")
    assert "Emerging hot spots (synthetic data)" in html
    assert "Gi* hot spots 2025" in html and "Park scorecards" in html


def test_refuses_to_overwrite_without_the_flag(out, capsys) -> None:
    before = (out / "target_progress.csv").read_bytes()
    assert main(["monitor", "--out", str(out), *FAST, "--no-html"]) != 0
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "target_progress.csv").read_bytes() == before
    assert main(["monitor", "--out", str(out), *FAST, "--no-html", "--overwrite"]) == 0
