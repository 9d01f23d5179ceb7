import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cci_geo import datum

# Mainland China (kept away from the edges of the algorithm's box)
lons = st.floats(min_value=73.7, max_value=134.7, allow_nan=False)
lats = st.floats(min_value=18.2, max_value=53.5, allow_nan=False)

M_PER_DEG = 111_320.0


def _ref_wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Scalar transcription of the published algorithm (math module), as an oracle."""
    import math

    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    radlat = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (a / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def test_forward_matches_published_algorithm_scalar_oracle():
    rng = np.random.default_rng(1)
    lon = rng.uniform(74, 134, 500)
    lat = rng.uniform(19, 53, 500)
    gx, gy = datum.wgs84_to_gcj02(lon, lat)
    ref = np.array([_ref_wgs84_to_gcj02(a, b) for a, b in zip(lon, lat, strict=True)])
    np.testing.assert_allclose(gx, ref[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(gy, ref[:, 1], rtol=0, atol=1e-12)


def test_beijing_shift_is_a_few_hundred_metres_east_and_north():
    gx, gy = datum.wgs84_to_gcj02(116.391242, 39.905905)  # Tiananmen
    dx = (gx - 116.391242) * M_PER_DEG * np.cos(np.radians(39.9))
    dy = (gy - 39.905905) * M_PER_DEG
    assert 400 < dx < 700 and 50 < dy < 300


def test_identity_outside_china():
    lon, lat = np.array([2.35, -74.0, 139.7]), np.array([48.85, 40.7, 35.7])
    for fn in (datum.wgs84_to_gcj02, datum.gcj02_to_wgs84):
        x, y = fn(lon, lat)
        np.testing.assert_array_equal(x, lon)
        np.testing.assert_array_equal(y, lat)


def test_bd09_known_pair_and_shapes():
    # Baidu's published offset of GCJ-02: about +0.0065 lon, +0.006 lat in Beijing
    bx, by = datum.gcj02_to_bd09(np.array([[116.4, 116.5]]), np.array([[39.9, 40.0]]))
    assert bx.shape == (1, 2)
    dx, dy = bx - np.array([[116.4, 116.5]]), by - np.array([[39.9, 40.0]])
    assert np.all((dx > 0.006) & (dx < 0.0075) & (dy > 0.005) & (dy < 0.0075))


@settings(max_examples=300, deadline=None)
@given(lons, lats)
def test_gcj02_inverse_better_than_half_a_metre(lon, lat):
    gx, gy = datum.wgs84_to_gcj02(lon, lat)
    wx, wy = datum.gcj02_to_wgs84(gx, gy)
    err_m = np.hypot((wx - lon) * M_PER_DEG * np.cos(np.radians(lat)), (wy - lat) * M_PER_DEG)
    assert err_m < 0.5
    assert err_m < 0.001  # in fact sub-millimetre


@settings(max_examples=300, deadline=None)
@given(lons, lats)
def test_bd09_round_trips(lon, lat):
    bx, by = datum.wgs84_to_bd09(lon, lat)
    wx, wy = datum.bd09_to_wgs84(bx, by)
    err_m = np.hypot((wx - lon) * M_PER_DEG * np.cos(np.radians(lat)), (wy - lat) * M_PER_DEG)
    assert err_m < 0.5
    gx, gy = datum.bd09_to_gcj02(*datum.gcj02_to_bd09(lon, lat))
    assert abs(gx - lon) < 1e-8 and abs(gy - lat) < 1e-8


def test_vectorised_over_a_million_points_is_consistent_with_scalar_calls():
    rng = np.random.default_rng(7)
    lon = rng.uniform(115.4, 117.6, 1_000_000)
    lat = rng.uniform(39.4, 41.1, 1_000_000)
    gx, gy = datum.wgs84_to_gcj02(lon, lat)
    sx, sy = datum.wgs84_to_gcj02(lon[12345], lat[12345])
    assert gx[12345] == sx and gy[12345] == sy
    wx, wy = datum.gcj02_to_wgs84(gx, gy)
    assert np.max(np.abs(wx - lon)) < 1e-8 and np.max(np.abs(wy - lat)) < 1e-8


def test_convert_gdf_handles_every_geometry_type_and_keeps_input():
    import geopandas as gpd
    from shapely.geometry import LineString, MultiPolygon, Point, Polygon

    poly = Polygon([(116.3, 39.9), (116.4, 39.9), (116.4, 40.0), (116.3, 40.0)],
                   holes=[[(116.33, 39.93), (116.36, 39.93), (116.36, 39.96)]])
    gdf = gpd.GeoDataFrame(
        {"id": list("abcd")},
        geometry=[Point(116.39, 39.9), LineString([(116.3, 39.9), (116.5, 40.1)]), poly,
                  MultiPolygon([poly, Polygon([(117, 40), (117.1, 40), (117.1, 40.1)])])],
        crs="EPSG:4326")
    before = gdf.copy()
    out = datum.convert_gdf(gdf, "gcj02", "wgs84")
    assert gdf.geom_equals(before.geometry).all()  # input untouched
    assert list(out.geom_type) == list(gdf.geom_type)
    assert len(out.geometry.iloc[2].interiors) == 1
    back = datum.convert_gdf(out, "wgs84", "gcj02")
    assert back.geom_equals_exact(gdf.geometry, tolerance=1e-8).all()
    assert not out.geom_equals_exact(gdf.geometry, tolerance=1e-4).any()


def test_convert_gdf_refuses_projected_and_unknown_datum():
    import geopandas as gpd
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame(geometry=[Point(450000, 4420000)], crs="EPSG:32650")
    with pytest.raises(ValueError, match="reproject to EPSG:4326"):
        datum.convert_gdf(gdf, "gcj02")
    with pytest.raises(ValueError, match="unknown datum 'mars2'"):
        datum.normalise_datum("mars2")
    assert datum.normalise_datum("Amap") == "gcj02"
    assert datum.normalise_datum("BD-09") == "bd09"


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="same shape"):
        datum.wgs84_to_gcj02([116.0, 116.1], [39.9])
