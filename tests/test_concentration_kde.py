"""Kernel density: accuracy against exact summation, mass, bandwidth rule, GeoTIFF, errors."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest

from cci_geo.concentration import default_bandwidth, kernel_density
from cci_geo.concentration import kde as kde_module
from cci_geo.errors import CRSMismatchError, DataError
from cci_geo.raster import Surface
from cci_geo.results import result_kind

X0, Y0 = 440_000.0, 4_420_000.0


def _points(n_cluster: int, n_background: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(X0, 800, n_cluster), rng.uniform(X0 - 4000, X0 + 4000, n_background)]
    y = np.r_[rng.normal(Y0, 1200, n_cluster), rng.uniform(Y0 - 4000, Y0 + 4000, n_background)]
    w = rng.uniform(0.5, 3.0, x.size)
    return gpd.GeoDataFrame({"w": w}, geometry=gpd.points_from_xy(x, y), crs="EPSG:32650")


def _exact(surface: Surface, pts: gpd.GeoDataFrame, kernel: str, h: float,
           w: np.ndarray) -> np.ndarray:
    cx, cy = surface.cell_centers()
    X, Y = np.meshgrid(cx, cy)
    out = np.zeros(X.shape)
    for xi, yi, wi in zip(pts.geometry.x, pts.geometry.y, w, strict=True):
        r2 = (X - xi) ** 2 + (Y - yi) ** 2
        if kernel == "quartic":
            out += wi * 3 / (math.pi * h * h) * np.clip(1 - r2 / (h * h), 0, None) ** 2
        else:
            out += wi * np.exp(-r2 / (2 * h * h)) / (2 * math.pi * h * h)
    return out * 1e6


def _max_rel_error(approx: np.ndarray, exact: np.ndarray) -> float:
    m = exact >= 0.01 * exact.max()
    return float(np.max(np.abs(approx - exact)[m] / exact[m]))


@pytest.mark.parametrize(("kernel", "h"), [("quartic", 300.0), ("quartic", 2000.0),
                                           ("gaussian", 150.0), ("gaussian", 600.0)])
def test_fft_path_within_one_percent_of_exact_summation(monkeypatch, kernel, h):
    monkeypatch.setattr(kde_module, "_EXACT_BUDGET", 0)  # force binning + FFT
    pts = _points(1500, 500)
    surf = kernel_density(pts, cell_size_m=100, bandwidth_m=h, kernel=kernel, weight="w")
    exact = _exact(surf, pts, kernel, h, pts["w"].to_numpy())
    assert _max_rel_error(surf.data, exact) <= 0.01


def test_sparse_quartic_is_summed_exactly():
    pts = _points(60, 40)
    surf = kernel_density(pts, cell_size_m=100, bandwidth_m=250)
    exact = _exact(surf, pts, "quartic", 250, np.ones(len(pts)))
    assert _max_rel_error(surf.data, exact) <= 1e-9


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_mass_equals_total_weight_away_from_edges(kernel):
    pts = _points(800, 0)
    surf = kernel_density(pts, cell_size_m=50, bandwidth_m=400, kernel=kernel, weight="w")
    mass = surf.data.sum() * (surf.cell_size / 1000) ** 2
    assert mass == pytest.approx(pts["w"].sum(), rel=0.01)
    assert surf.units == "w per km²"
    assert result_kind(surf) == "kernel_density"
    assert float(surf.tags["total_weight"]) == pytest.approx(pts["w"].sum())
    assert surf.crs.to_epsg() == 32650


def test_geographic_input_is_measured_in_metres():
    pts = _points(300, 0)
    a = kernel_density(pts, cell_size_m=100, bandwidth_m=500)
    b = kernel_density(pts.to_crs("EPSG:4326"), cell_size_m=100, bandwidth_m=500)
    assert b.crs.to_epsg() == 32650 and b.shape == a.shape
    np.testing.assert_allclose(a.data, b.data, atol=1e-6 * a.data.max())


def test_extent_grid_is_reused_and_outside_points_still_contribute():
    pts = _points(500, 100)
    full = kernel_density(pts, cell_size_m=100, bandwidth_m=800)
    window = (X0 - 1000.0, Y0 - 999.0, X0 + 999.0, Y0 + 1000.0)
    part = kernel_density(pts, cell_size_m=100, bandwidth_m=800, extent=window)
    np.testing.assert_allclose(part.data, full.data[np.ix_(
        (full.cell_centers()[1] > window[1]) & (full.cell_centers()[1] < window[3]),
        (full.cell_centers()[0] > window[0]) & (full.cell_centers()[0] < window[2]))],
        rtol=1e-9, atol=1e-9)
    again = kernel_density(pts, bandwidth_m=800, extent=part)
    assert again.transform == part.transform and again.shape == part.shape


def test_default_bandwidth_is_the_arcgis_rule():
    pts = _points(400, 100)
    xy = np.column_stack((pts.geometry.x, pts.geometry.y))
    d = np.hypot(*(xy - xy.mean(axis=0)).T)
    sd = math.sqrt((d**2).mean())
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * np.median(d)) * len(xy) ** -0.2
    assert default_bandwidth(pts) == pytest.approx(expected, rel=0.01)
    surf = kernel_density(pts)
    assert float(surf.tags["bandwidth_m"]) == pytest.approx(default_bandwidth(pts), rel=1e-5)
    assert surf.tags["bandwidth_rule"].startswith("arcgis")


def test_geotiff_round_trip(tmp_path):
    surf = kernel_density(_points(200, 0), cell_size_m=100, bandwidth_m=500, kernel="gaussian")
    path = surf.to_geotiff(tmp_path / "density.tif")
    back = Surface.from_geotiff(path)
    np.testing.assert_allclose(back.data, surf.data.astype("float32"), rtol=1e-6)
    assert back.tags["kernel"] == "gaussian" and back.units == "points per km²"
    with pytest.raises(FileExistsError):
        surf.to_geotiff(path)


def test_bad_input_errors():
    pts = _points(50, 0)
    with pytest.raises(DataError, match="empty"):
        kernel_density(pts.iloc[:0], bandwidth_m=100)
    same = gpd.GeoDataFrame(geometry=gpd.points_from_xy([X0] * 5, [Y0] * 5), crs="EPSG:32650")
    with pytest.raises(DataError, match="same location"):
        kernel_density(same)
    assert kernel_density(same, bandwidth_m=300).data.max() > 0  # explicit bandwidth is fine
    with pytest.raises(ValueError, match="bandwidth_m must be > 0"):
        kernel_density(pts, bandwidth_m=0)
    with pytest.raises(ValueError, match="bandwidth_m must be > 0"):
        kernel_density(pts, bandwidth_m=-10)
    with pytest.raises(DataError, match="not degrees"):
        kernel_density(pts, bandwidth_m=300, extent=(116.3, 39.8, 116.5, 40.0))
    bad = pts.copy()
    bad.loc[bad.index[3], "w"] = np.nan
    with pytest.raises(DataError, match=r"NaN.*rows \[3\]"):
        kernel_density(bad, bandwidth_m=300, weight="w")
    with pytest.raises(DataError, match="no column"):
        kernel_density(pts, bandwidth_m=300, weight="employees")
    with pytest.raises(ValueError, match="kernel"):
        kernel_density(pts, bandwidth_m=300, kernel="epanechnikov")  # type: ignore[arg-type]
    with pytest.raises(CRSMismatchError, match="no CRS"):
        kernel_density(pts.set_crs(None, allow_override=True), bandwidth_m=300)
    feet = pts.to_crs("EPSG:2263")  # NY state plane, US feet
    with pytest.raises(CRSMismatchError, match="metric CRS"):
        kernel_density(feet, bandwidth_m=300)
    with pytest.raises(DataError, match="Point"):
        kernel_density(gpd.GeoDataFrame(geometry=pts.buffer(5), crs=pts.crs), bandwidth_m=300)


def test_points_are_point_locations_and_other_shapes_are_named():
    from shapely.geometry import LineString, MultiPoint, Point, box

    from cci_geo.concentration import kernel_density
    from cci_geo.errors import DataError

    pts = [Point(450_000 + 37 * i, 4_420_000 + 53 * (i % 17)) for i in range(200)]
    base = gpd.GeoSeries(pts, crs="EPSG:32650")
    ref = kernel_density(base, cell_size_m=100, bandwidth_m=500)
    # a MultiPoint of one point is that location: the same surface
    one = gpd.GeoSeries([MultiPoint([pts[0]]), *pts[1:]], crs="EPSG:32650")
    np.testing.assert_array_equal(kernel_density(one, cell_size_m=100, bandwidth_m=500).data,
                                  ref.data)
    for shape in (box(450_000, 4_420_000, 450_100, 4_420_100),
                  LineString([(450_000, 4_420_000), (450_500, 4_420_000)]),
                  MultiPoint([(450_000, 4_420_000), (450_300, 4_420_000)])):
        bad = gpd.GeoSeries([*pts[:7], shape, *pts[8:]], crs="EPSG:32650")
        with pytest.raises(DataError, match=r"must hold Point geometries, found \['\w+'\] in "
                                            r"rows \[7\]"):
            kernel_density(bad, cell_size_m=100, bandwidth_m=500)
    with pytest.raises(DataError, match=r"empty points in rows \[3\]"):
        kernel_density(gpd.GeoSeries([*pts[:3], Point(), *pts[4:]], crs="EPSG:32650"),
                       cell_size_m=100, bandwidth_m=500)
    with pytest.raises(DataError, match=r"missing geometries in rows \[5\]"):
        kernel_density(gpd.GeoSeries([*pts[:5], None, *pts[6:]], crs="EPSG:32650"),
                       cell_size_m=100, bandwidth_m=500)
