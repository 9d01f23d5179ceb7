import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from cci_geo import SchemaError, datum, read_layer, write_layer
from cci_geo.errors import DataError, OutputWriteError

PARKS_ZH = ["798艺术区", "郎园Vintage", "首钢园"]
LON = np.array([116.488283, 116.470, 116.14522])
LAT = np.array([39.983898, 39.906, 39.91057])


@pytest.fixture
def parks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["P1", "P2", "P3"], "name_zh": PARKS_ZH,
                             "kind": ["park"] * 3, "sectors": ["design"] * 3},
                            geometry=gpd.points_from_xy(LON, LAT), crs="EPSG:4326")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb", ".parquet"])
def test_round_trip_formats_and_inputs_untouched(tmp_path, parks, suffix, digest):
    path = write_layer(parks, tmp_path / f"parks{suffix}")
    before = digest(path)
    out = read_layer(path, "zones")
    assert list(out["name_zh"]) == PARKS_ZH
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(out.geometry.x, LON, atol=1e-9)
    assert digest(path) == before


def test_gbk_shapefile_with_cpg_is_decoded(tmp_path, parks):
    path = tmp_path / "园区.shp"
    pyogrio.write_dataframe(parks, path, encoding="GBK")
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("GBK", "CP936")
    assert list(read_layer(path, "zones")["name_zh"]) == PARKS_ZH


def test_gbk_shapefile_without_cpg_needs_encoding_and_warns(tmp_path, parks, digest):
    path = tmp_path / "parks.shp"
    pyogrio.write_dataframe(parks, path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    digests = {p.name: digest(p) for p in tmp_path.iterdir()}
    with pytest.warns(UserWarning, match="encoding='gbk'"):
        garbled = read_layer(path)
    assert list(garbled["name_zh"]) != PARKS_ZH
    assert list(read_layer(path, "zones", encoding="gbk")["name_zh"]) == PARKS_ZH
    assert list(read_layer(path, encoding="gb18030")["name_zh"]) == PARKS_ZH
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == digests


def test_csv_with_chinese_headers_and_amap_coordinates(tmp_path):
    gx, gy = datum.wgs84_to_gcj02(LON, LAT)
    df = pd.DataFrame({"id": ["P1", "P2", "P3"], "name_zh": PARKS_ZH, "kind": ["park"] * 3,
                       "经度": gx, "纬度": gy})
    path = tmp_path / "parks_amap.csv"
    df.to_csv(path, index=False, encoding="utf-8")
    out = read_layer(path, "zones", datum="gcj02")
    np.testing.assert_allclose(out.geometry.x, LON, atol=1e-8)
    np.testing.assert_allclose(out.geometry.y, LAT, atol=1e-8)


def test_csv_baidu_coordinates_and_explicit_columns(tmp_path):
    bx, by = datum.wgs84_to_bd09(LON, LAT)
    path = tmp_path / "baidu.csv"
    pd.DataFrame({"id": ["1", "2", "3"], "bd_x": bx, "bd_y": by, "kind": ["park"] * 3}
                 ).to_csv(path, index=False)
    out = read_layer(path, "zones", datum="baidu", lon="bd_x", lat="bd_y")
    np.testing.assert_allclose(out.geometry.x, LON, atol=1e-8)


def test_gbk_csv_error_names_the_fix(tmp_path):
    path = tmp_path / "excel.csv"
    pd.DataFrame({"id": ["1"], "name_zh": ["北京画院"], "lon": [116.4], "lat": [39.9]}
                 ).to_csv(path, index=False, encoding="gbk")
    with pytest.raises(DataError, match="encoding='gbk'"):
        read_layer(path)
    assert read_layer(path, encoding="gbk")["name_zh"].iloc[0] == "北京画院"


def test_csv_without_coordinates_and_bad_values(tmp_path):
    path = tmp_path / "nocoords.csv"
    pd.DataFrame({"id": ["1"], "address": ["酒仙桥路4号"]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="no coordinate columns found"):
        read_layer(path)
    path2 = tmp_path / "badcoords.csv"
    pd.DataFrame({"id": ["1", "2"], "lon": ["116.4", "east"], "lat": [39.9, 39.8]}
                 ).to_csv(path2, index=False)
    with pytest.raises(DataError, match=r"non-numeric coordinates in rows \[1\]"):
        read_layer(path2)


def test_csv_with_wkt_column(tmp_path):
    path = tmp_path / "wkt.csv"
    pd.DataFrame({"id": ["A"], "kind": ["park"], "wkt": ["POINT (116.4 39.9)"]}
                 ).to_csv(path, index=False)
    assert read_layer(path, "zones").geometry.iloc[0].equals(Point(116.4, 39.9))


def test_projected_file_is_reprojected(tmp_path, parks):
    path = write_layer(parks.to_crs("EPSG:4547"), tmp_path / "cgcs2000.gpkg")
    out = read_layer(path, "zones")
    np.testing.assert_allclose(out.geometry.x, LON, atol=1e-7)


def test_file_without_crs(tmp_path, parks):
    path = tmp_path / "nocrs.geojson"
    path.write_text(parks.set_crs(None, allow_override=True).to_json(), encoding="utf-8")
    # GeoJSON implies WGS-84, so use a shapefile without .prj
    shp = tmp_path / "nocrs.shp"
    pyogrio.write_dataframe(parks, shp)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(SchemaError, match="declares no coordinate reference system.*crs="):
        read_layer(shp)
    assert read_layer(shp, crs="EPSG:4326").crs.to_epsg() == 4326


def test_multi_layer_gpkg_needs_a_layer(tmp_path, parks):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(parks, path, layer="zones")
    pyogrio.write_dataframe(parks, path, layer="other")
    with pytest.raises(DataError, match=r"holds 2 layers.*layer=\.\.\."):
        read_layer(path)
    assert len(read_layer(path, "zones", layer="zones")) == 3


def test_read_validates_kind(tmp_path, parks):
    bad = parks.assign(kind=["park", "mall", "park"])
    path = write_layer(bad, tmp_path / "bad.gpkg")
    with pytest.raises(SchemaError, match=r"(?s)bad.gpkg.*'mall'.*row 1"):
        read_layer(path, "zones")


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_layer("no/such/file.gpkg")


def test_write_refuses_to_overwrite_and_is_atomic(tmp_path, parks, monkeypatch, digest):
    path = write_layer(parks, tmp_path / "out.gpkg")
    before = digest(path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_layer(parks, path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pyogrio, "write_dataframe", boom)
    with pytest.raises(OutputWriteError, match="no space left on the device"):
        write_layer(parks, path, overwrite=True)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]

    def bug(*args, **kwargs):
        raise RuntimeError("a writer bug")

    monkeypatch.setattr(pyogrio, "write_dataframe", bug)
    with pytest.raises(RuntimeError, match="a writer bug"):  # a bug is not disguised
        write_layer(parks, path, overwrite=True)
    assert digest(path) == before


def test_write_shapefile_and_csv(tmp_path, parks):
    shp = write_layer(parks, tmp_path / "parks.shp")
    assert {p.suffix for p in tmp_path.iterdir()} >= {".shp", ".dbf", ".shx", ".prj", ".cpg"}
    assert list(read_layer(shp)["name_zh"]) == PARKS_ZH
    csv = write_layer(parks, tmp_path / "parks.csv")
    assert read_layer(csv, "zones").geometry.iloc[0].equals(parks.geometry.iloc[0])


@pytest.mark.parametrize(("text", "match"), [
    ("wkt\n,\n", "blank 'wkt'"),                                   # no geometry in a row
    ("id,wkt\nA,POINT (116.4 39.9)\nB,\n", "blank 'wkt'"),
    ("id,lon,lat\n1,116.4,39.9,3\n2,116.4,39.9\n", "more fields than the header"),
])
def test_csv_rows_without_geometry_or_with_extra_fields_are_refused(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    for kind in (None, "zones"):
        with pytest.raises(DataError, match=match):
            read_layer(path, kind)
