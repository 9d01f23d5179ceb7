"""GeoParquet points decoded straight to arrays: WKB and GeoArrow, byte orders, bad rows, CRS."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

pytest.importorskip("dask")
pytest.importorskip("dask_geopandas")

from cci_geo.concentration import kernel_density  # noqa: E402
from cci_geo.concentration._parquet_points import (  # noqa: E402
    decode_wkb_points,
    open_parquet_points,
)
from cci_geo.concentration.kde import bin_moments  # noqa: E402
from cci_geo.errors import DataError  # noqa: E402

X0, Y0 = 440_000.0, 4_420_000.0


def _points(n: int, seed: int = 0, crs: str = "EPSG:32650") -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = np.c_[rng.normal(X0, 1500, n), rng.normal(Y0, 1000, n)]
    return gpd.GeoDataFrame({"w": rng.uniform(0.5, 3.0, n)}, geometry=shapely.points(xy),
                            crs=crs)


def _write_parts(gdf: gpd.GeoDataFrame, folder, parts: int = 3, **kw) -> str:
    for i, rows in enumerate(np.array_split(np.arange(len(gdf)), parts)):
        gdf.iloc[rows].to_parquet(folder / f"part{i}.parquet", **kw)
    return str(folder / "*.parquet")


def _assert_same(got, ref):
    assert got.transform == ref.transform and got.shape == ref.shape
    assert got.tags == ref.tags
    np.testing.assert_allclose(got.data, ref.data, rtol=1e-12, atol=1e-12 * ref.data.max())


@pytest.mark.parametrize("order", [0, 1])
def test_wkb_points_decode_in_either_byte_order(order):
    xy = np.random.default_rng(1).normal(0, 1e5, (50, 2))
    wkb = shapely.to_wkb(shapely.points(xy), byte_order=order)
    x, y = decode_wkb_points(pa.array(list(wkb), type=pa.binary()))
    np.testing.assert_array_equal(np.c_[x, y], xy)
    big = decode_wkb_points(pa.array(list(wkb), type=pa.large_binary()))
    np.testing.assert_array_equal(np.column_stack(big), xy)


def test_wkb_points_of_mixed_byte_order_and_sliced_arrays():
    xy = np.arange(40.0).reshape(20, 2) * 1.5
    geoms = shapely.points(xy)
    wkb = [shapely.to_wkb(g, byte_order=i % 2) for i, g in enumerate(geoms)]
    arr = pa.array(wkb, type=pa.binary())
    x, y = decode_wkb_points(arr)
    np.testing.assert_array_equal(np.c_[x, y], xy)
    x, y = decode_wkb_points(arr.slice(5, 10))  # an offset into the buffers
    np.testing.assert_array_equal(np.c_[x, y], xy[5:15])


@pytest.mark.parametrize("geom", [shapely.Point(1, 2, 3), shapely.LineString([(0, 0), (1, 1)]),
                                  shapely.MultiPoint([(1, 2)]), None])
def test_wkb_that_is_not_a_plain_2d_point_is_left_to_shapely(geom):
    wkb = [shapely.to_wkb(shapely.Point(5, 6)), None if geom is None else shapely.to_wkb(geom)]
    assert decode_wkb_points(pa.array(wkb, type=pa.binary())) is None


def test_file_with_big_endian_wkb_equals_in_memory(tmp_path):
    pts = _points(3000)
    pts.to_parquet(tmp_path / "a.parquet")
    table = pq.read_table(tmp_path / "a.parquet")
    big = pa.array(list(shapely.to_wkb(pts.geometry.values, byte_order=0)), type=pa.binary())
    table = table.set_column(table.schema.get_field_index("geometry"), "geometry", big)
    pq.write_table(table, tmp_path / "b.parquet")
    (tmp_path / "a.parquet").unlink()
    ref = kernel_density(pts, cell_size_m=100, bandwidth_m=600, kernel="gaussian", weight="w")
    got = kernel_density(str(tmp_path / "b.parquet"), cell_size_m=100, bandwidth_m=600,
                         kernel="gaussian", weight="w")
    _assert_same(got, ref)


@pytest.mark.parametrize(("kernel", "bandwidth", "cell"), [
    ("quartic", 300.0, 100.0),    # exact summation, added over files
    ("quartic", 2000.0, 100.0),   # moments
    ("gaussian", 500.0, 100.0),
])
def test_geoparquet_directory_equals_in_memory(tmp_path, kernel, bandwidth, cell):
    pts = _points(4000)
    _write_parts(pts, tmp_path)
    ref = kernel_density(pts, cell_size_m=cell, bandwidth_m=bandwidth, kernel=kernel)
    got = kernel_density(tmp_path, cell_size_m=cell, bandwidth_m=bandwidth, kernel=kernel)
    _assert_same(got, ref)


def test_geoarrow_point_encoding_equals_in_memory(tmp_path):
    pts = _points(3000, seed=2)
    _write_parts(pts, tmp_path, geometry_encoding="geoarrow")
    info = open_parquet_points(str(tmp_path / "*.parquet"))
    assert info is not None and info.encoding == "point"
    ref = kernel_density(pts, cell_size_m=100, bandwidth_m=800, kernel="gaussian", weight="w")
    got = kernel_density(str(tmp_path / "*.parquet"), cell_size_m=100, bandwidth_m=800,
                         kernel="gaussian", weight="w")
    _assert_same(got, ref)


def test_lonlat_files_are_measured_in_the_same_utm_zone_as_in_memory(tmp_path):
    pts = _points(3000, seed=3).to_crs("EPSG:4326")
    glob = _write_parts(pts, tmp_path)
    ref = kernel_density(pts, cell_size_m=100, bandwidth_m=700, kernel="gaussian")
    got = kernel_density(glob, cell_size_m=100, bandwidth_m=700, kernel="gaussian")
    assert got.crs.to_epsg() == ref.crs.to_epsg() == 32650
    _assert_same(got, ref)
    ref51 = kernel_density(pts, cell_size_m=100, bandwidth_m=700, kernel="gaussian",
                           metric_crs="EPSG:32651")
    got51 = kernel_density(glob, cell_size_m=100, bandwidth_m=700, kernel="gaussian",
                           metric_crs="EPSG:32651")
    assert got51.crs.to_epsg() == 32651
    _assert_same(got51, ref51)


def test_projected_metres_labelled_as_degrees_are_refused(tmp_path):
    pts = _points(200).set_crs("EPSG:4326", allow_override=True)
    glob = _write_parts(pts, tmp_path, parts=1)
    with pytest.raises(DataError, match="projected metres"):
        kernel_density(glob, bandwidth_m=500)


def test_non_point_rows_are_named(tmp_path):
    pts = _points(300)
    pts.loc[7, "geometry"] = shapely.box(X0, Y0, X0 + 10, Y0 + 10)
    glob = _write_parts(pts, tmp_path, parts=2)
    with pytest.raises(DataError, match=r"points \(part0\.parquet\) must hold Point "
                                        r"geometries, found \['Polygon'\] in rows \[7\]"):
        kernel_density(glob, bandwidth_m=500)


@pytest.mark.parametrize(("geom", "needle"), [(shapely.Point(), "empty points"),
                                              (None, "missing geometries")])
def test_empty_and_missing_points_are_named(tmp_path, geom, needle):
    pts = _points(300)
    pts.loc[4, "geometry"] = geom
    glob = _write_parts(pts, tmp_path, parts=1)
    with pytest.raises(DataError, match=rf"{needle} in rows \[4\]"):
        kernel_density(glob, bandwidth_m=500)


def test_bad_weights_are_named(tmp_path):
    pts = _points(300)
    pts.loc[9, "w"] = np.nan
    glob = _write_parts(pts, tmp_path, parts=1)
    with pytest.raises(DataError, match=r"NaN.*rows \[9\]"):
        kernel_density(glob, bandwidth_m=500, weight="w")
    with pytest.raises(DataError, match="no column 'employees'"):
        kernel_density(glob, bandwidth_m=500, weight="employees")


def test_bbox_metadata_that_misses_points_is_refused(tmp_path):
    pts = _points(500)
    pts.to_parquet(tmp_path / "a.parquet")
    table = pq.read_table(tmp_path / "a.parquet")
    meta = dict(table.schema.metadata)
    geo = json.loads(meta[b"geo"])
    geo["columns"]["geometry"]["bbox"] = [X0, Y0, X0 + 1.0, Y0 + 1.0]
    meta[b"geo"] = json.dumps(geo).encode()
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "b.parquet")
    path = str(tmp_path / "b.parquet")
    with pytest.raises(DataError, match="bbox metadata"):
        kernel_density(path, bandwidth_m=800, kernel="gaussian")
    ext = tuple(float(v) for v in pts.total_bounds)
    ref = kernel_density(pts, bandwidth_m=800, kernel="gaussian", extent=ext)
    _assert_same(kernel_density(path, bandwidth_m=800, kernel="gaussian", extent=ext), ref)


def test_moments_added_into_a_grid_equal_one_binning():
    xy = np.random.default_rng(4).uniform(0, 1000, (5000, 2))
    w = np.random.default_rng(5).uniform(0, 2, 5000)
    whole, n = bin_moments(xy, w, (0.0, 1000.0), 10.0, (101, 101))
    acc = np.zeros_like(whole)
    total = 0
    for part in np.array_split(np.arange(5000), 4):
        _, k = bin_moments(xy[part], w[part], (0.0, 1000.0), 10.0, (101, 101), out=acc)
        total += k
    assert total == n == 5000
    np.testing.assert_array_equal(acc, whole)  # same additions in the same order
