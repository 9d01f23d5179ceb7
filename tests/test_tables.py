"""Excel-ready tables: BOM, headers with units, rounding, percentages, workbooks, no overwrite."""

import json

import openpyxl
import pandas as pd
import pytest

from cci_geo import tables
from cci_geo.tables import BOM, Column, write_csv, write_xlsx

DISTRICTS = pd.DataFrame({"adcode": ["110105", "110108"], "name_zh": ["朝阳区", "海淀区"],
                          "name_en": ["Chaoyang", "Haidian"]})


def _table():
    return pd.DataFrame({"district": ["110105", "110108"], "share_after": [0.08353, 0.5],
                         "score": [0.5597643405781698, 0.1], "floor_area_m2": [17900.4, 3.0]})


def test_csv_opens_in_excel(tmp_path):
    path = write_csv(tables.add_district_names(_table(), DISTRICTS), tmp_path / "t.csv",
                     metadata={"scenario": "s.toml"})
    raw = path.read_bytes()
    assert raw[:3] == BOM
    text = raw[3:].decode("utf-8")
    assert text.splitlines()[0].split(",")[:3] == [
        "所在区代码 / District code", "所在区 / District in Chinese", "所在区英文名 / District"]
    assert "#" not in text
    df = pd.read_csv(path, encoding="utf-8-sig", dtype={"所在区代码 / District code": str})
    assert df["方案覆盖率 / Share covered with plan (%)"].tolist() == [8.4, 50.0]
    assert df["综合得分 / Score (0-1)"].tolist() == [0.56, 0.1]
    assert df["建筑面积 / Floor area (m²)"].tolist() == [17900, 3]
    assert df["所在区 / District in Chinese"].tolist() == ["朝阳区", "海淀区"]
    meta = json.loads((tmp_path / "t_metadata.json").read_text(encoding="utf-8"))
    assert meta == {"scenario": "s.toml"}


def test_never_replaces_without_overwrite(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("keep", encoding="utf-8")
    with pytest.raises(FileExistsError, match="overwrite"):
        write_csv(_table(), path)
    assert path.read_text(encoding="utf-8") == "keep"
    with pytest.raises(FileExistsError):
        write_xlsx({"t": _table()}, path)
    write_csv(_table(), path, overwrite=True)
    assert path.read_bytes()[:3] == BOM
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary file left


def test_sidecar_is_checked_before_writing(tmp_path):
    (tmp_path / "t_metadata.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_csv(_table(), tmp_path / "t.csv", metadata={"a": 1})
    assert not (tmp_path / "t.csv").exists()


def test_workbook_sheets_headers_formats_sources(tmp_path):
    prov = {"enterprises": {"source": "build_demo.py", "status": "synthetic"},
            "zones": {"source": "cci_sites.csv", "status": "approximate"}}
    custom = {"n": Column("企业数", "Enterprises", fmt="int")}
    path = write_xlsx({"summary": _table(), "counts": pd.DataFrame({"n": [1200.4]})},
                      tmp_path / "t.xlsx", sources=prov, metadata={"date": "2026-01-01"},
                      columns=custom)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["summary", "counts", "sources", "about"]
    ws = wb["summary"]
    assert ws.freeze_panes == "A3"
    assert [c.value for c in ws[1]][1] == "方案覆盖率 (%)"
    assert [c.value for c in ws[2]][1] == "Share covered with plan (%)"
    assert ws["B3"].value == pytest.approx(0.0835) and ws["B3"].number_format == "0.0%"
    assert ws["C3"].value == 0.56
    assert wb["counts"]["A3"].value == 1200 and wb["counts"]["A3"].number_format == "#,##0"
    assert wb["counts"]["A1"].value == "企业数"
    src = pd.read_excel(path, sheet_name="sources", header=1)
    assert src.set_index("Layer")["Synthetic"].to_dict() == {"enterprises": True, "zones": False}
    assert src.set_index("Layer")["Approximate"].to_dict() == {"enterprises": False,
                                                                "zones": True}


def test_district_names_from_names_or_codes():
    t = pd.DataFrame({"district": ["Haidian", "海淀区", "110108", "elsewhere"]})
    out = tables.add_district_names(t, DISTRICTS)
    assert out["district_zh"].tolist() == ["海淀区", "海淀区", "海淀区", ""]
    assert out["district_en"].tolist() == ["Haidian", "Haidian", "Haidian", ""]
