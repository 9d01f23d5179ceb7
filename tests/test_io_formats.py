"""Excel workbooks and Esri File Geodatabases in read_layer / write_layer / Atlas."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

import cci_geo
from cci_geo import Atlas, datum, read_layer, write_layer
from cci_geo.cli.main import main
from cci_geo.errors import DataError

AMAP = pd.DataFrame({"id": ["001", "002"], "名称": ["七九八艺术区", "郎园"],
                     "kind": ["park", "park"], "经度": [116.494344, 116.4762],
                     "纬度": [39.985157, 39.9073]})


def _workbook(path, **sheets):
    with pd.ExcelWriter(path, engine="openpyxl") as w:
        for name, df in sheets.items():
            df.to_excel(w, sheet_name=name, index=False)
    return path


def test_xlsx_with_chinese_headers_is_converted_from_gcj02(tmp_path, digest):
    path = _workbook(tmp_path / "parks.xlsx", 园区=AMAP)
    before = digest(path)
    out = read_layer(path, "zones", datum="gcj02")
    x, y = datum.gcj02_to_wgs84(AMAP["经度"].to_numpy(), AMAP["纬度"].to_numpy())
    np.testing.assert_allclose(out.geometry.x, x, atol=1e-9)
    np.testing.assert_allclose(out.geometry.y, y, atol=1e-9)
    assert list(out["id"]) == ["001", "002"]  # ids stay text, leading zeros kept
    assert list(out["名称"]) == list(AMAP["名称"]) and "经度" not in out
    assert digest(path) == before


def test_legacy_xls_is_read(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("园区")
    for j, name in enumerate(AMAP.columns):
        sheet.write(0, j, name)
        for i, value in enumerate(AMAP[name]):
            sheet.write(i + 1, j, value)
    path = tmp_path / "parks.xls"
    book.save(str(path))
    out = read_layer(path, "zones", datum="gcj02")
    assert list(out["id"]) == ["001", "002"] and list(out["名称"]) == list(AMAP["名称"])
    x, _ = datum.gcj02_to_wgs84(AMAP["经度"].to_numpy(), AMAP["纬度"].to_numpy())
    np.testing.assert_allclose(out.geometry.x, x, atol=1e-9)


def test_xlsx_sheet_choice(tmp_path):
    notes = pd.DataFrame({"说明": ["坐标为高德 GCJ-02"]})
    other = AMAP.rename(columns={"经度": "lon", "纬度": "lat"})
    one = _workbook(tmp_path / "one.xlsx", 说明=notes, 园区=AMAP)
    assert len(read_layer(one)) == 2  # the only sheet with coordinates
    two = _workbook(tmp_path / "two.xlsx", 说明=notes, 园区=AMAP, venues=other.head(1))
    with pytest.raises(DataError, match=r"holds 3 sheets \['说明', '园区', 'venues'\].*layer="):
        read_layer(two)
    assert len(read_layer(two, layer="venues")) == 1
    assert len(read_layer(two, layer=1)) == 2
    with pytest.raises(DataError, match="no sheet 'parks'; its sheets are"):
        read_layer(two, layer="parks")
    with pytest.raises(DataError, match="sheet index 7 is out of range"):
        read_layer(two, layer=7)
    blank = _workbook(tmp_path / "blank.xlsx", a=notes, b=notes)
    with pytest.raises(DataError, match="none with coordinate columns"):
        read_layer(blank)


def test_xlsx_errors_match_csv(tmp_path):
    bad = AMAP.astype(object).copy()
    bad.loc[1, "经度"] = "东经116度"
    path = _workbook(tmp_path / "bad.xlsx", s=bad)
    with pytest.raises(DataError,
                       match=r"'经度'/'纬度' hold non-numeric coordinates in rows \[1\]"):
        read_layer(path)
    path = _workbook(tmp_path / "nocoords.xlsx", s=AMAP.drop(columns=["经度", "纬度"]))
    with pytest.raises(DataError, match="no coordinate columns found"):
        read_layer(path)
    with pytest.raises(DataError, match="lat column 'y_gcj' not found|latitude column 'y_gcj'"):
        read_layer(_workbook(tmp_path / "ok.xlsx", s=AMAP), lat="y_gcj")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("id,lon,lat\n1,116.4,39.9\n", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read fake.xlsx as an Excel workbook"):
        read_layer(fake)
    old = tmp_path / "old.xls"
    old.write_bytes(b"not a BIFF file at all")
    with pytest.raises(DataError, match="cannot read old.xls as an Excel workbook"):
        read_layer(old)


def test_cli_validate_xlsx(tmp_path, capsys):
    path = _workbook(tmp_path / "parks.xlsx", 园区=AMAP)
    assert main(["validate", str(path), "--kind", "zones", "--datum", "gcj02"]) == 0
    assert "2 features, 0 error(s)" in capsys.readouterr().out
    wrong = _workbook(tmp_path / "venues.xlsx", s=AMAP)
    assert main(["validate", str(wrong), "--kind", "venues"]) == 1
    assert "open_space_m2" in capsys.readouterr().out


@pytest.fixture
def parks():
    return gpd.GeoDataFrame(
        {"id": ["P1", "P2"], "名称": ["七九八艺术区", "郎园"], "kind": ["park", "park"],
         "建筑面积_m2": [230000.0, 30000.0], "开园年份": [2002, 2009]},
        geometry=[Point(116.4883, 39.9839), Point(116.4702, 39.9062)], crs="EPSG:4326")


def test_gdb_is_writable_by_this_gdal():
    assert "OpenFileGDB" in pyogrio.list_drivers(write=True)


def test_gdb_round_trip_with_chinese_fields(tmp_path, parks):
    gdb = write_layer(parks, tmp_path / "规划.gdb", layer="zones")
    assert gdb.is_dir()
    out = read_layer(gdb, "zones")  # one feature class: no layer= needed
    assert list(out["名称"]) == ["七九八艺术区", "郎园"]
    assert list(out["开园年份"]) == [2002, 2009] and out["建筑面积_m2"].iloc[0] == 230000.0
    np.testing.assert_allclose(out.geometry.x, parks.geometry.x, atol=1e-8)
    write_layer(parks.head(1), gdb, layer="venues_draft")  # a second feature class is added
    assert sorted(n for n, _ in pyogrio.list_layers(gdb)) == ["venues_draft", "zones"]
    with pytest.raises(DataError, match="holds 2 layers.*Atlas.from_gdb"):
        read_layer(gdb)
    with pytest.raises(FileExistsError, match=r"already holds \['zones'\]"):
        write_layer(parks.head(1), gdb, layer="zones")
    assert len(read_layer(gdb, layer="zones")) == 2  # the refused write changed nothing
    write_layer(parks.head(1), gdb, layer="zones", overwrite=True)
    assert len(read_layer(gdb, layer="zones")) == 1
    assert len(read_layer(gdb, layer="venues_draft")) == 1


def test_atlas_gdb_round_trip_keeps_provenance(tmp_path, parks):
    demo = cci_geo.load_demo()
    kinds = ["districts", "venues", "stations", "transit_lines"]
    atlas = Atlas({k: demo[k] for k in kinds} | {"zones": parks},
                  demo.provenance | {"zones": {"status": "synthetic", "source": "test"}},
                  name="北京 test", metric_crs="EPSG:4547")
    path = atlas.to_gdb(tmp_path / "atlas.gdb")
    back = Atlas.from_gdb(path)
    assert set(back) == set(atlas) and back.name == "北京 test"
    assert back.metric_crs == "EPSG:4547"
    assert back.provenance == atlas.provenance
    assert "ODbL" in back.provenance["stations"]["attribution"]
    for k in atlas:
        assert len(back[k]) == len(atlas[k])
    assert list(back["zones"]["名称"]) == list(parks["名称"])
    assert back["transit_lines"]["loop"].dtype == "boolean"
    with pytest.raises(FileExistsError):
        atlas.to_gdb(path)
    Atlas({"zones": parks}).to_gdb(path, overwrite=True)
    assert set(Atlas.from_gdb(path)) == {"zones"}  # replaced as a whole
    assert set(Atlas.read(path)) == {"zones"}


def test_cli_validates_and_summarises_a_geodatabase(tmp_path, parks, capsys):
    demo = cci_geo.load_demo()
    gdb = Atlas({"zones": parks, "venues": demo["venues"]}, demo.provenance,
                name="规划").to_gdb(tmp_path / "规划.gdb")
    assert main(["validate", str(gdb), "--kind", "zones", "--layer", "zones"]) == 0
    assert "2 features, 0 error(s)" in capsys.readouterr().out
    assert main(["info", str(gdb)]) == 0
    out = capsys.readouterr().out
    assert "规划" in out and "venues" in out and "zones" in out
