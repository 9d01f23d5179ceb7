import numpy as np
import pytest
import rasterio

from cci_geo.raster import Surface, grid_for_bounds


def test_grid_for_bounds_snaps_and_covers():
    transform, (rows, cols) = grid_for_bounds((1050.0, 2010.0, 1990.0, 2400.0), 100)
    assert (transform.c, transform.f) == (1000.0, 2400.0)
    assert cols == 10 and rows == 4
    with pytest.raises(ValueError, match="cell_size_m must be > 0"):
        grid_for_bounds((0, 0, 1, 1), 0)


def test_surface_geotiff_round_trip(tmp_path):
    transform, shape = grid_for_bounds((440000, 4410000, 470000, 4440000), 100)
    data = np.arange(shape[0] * shape[1], dtype=float).reshape(shape)
    data[0, 0] = np.nan
    s = Surface(data, transform, "EPSG:32650", units="per km²", name="density",
                tags={"bandwidth_m": "500"})
    path = s.to_geotiff(tmp_path / "d.tif")
    with rasterio.open(path) as src:
        assert src.profile["compress"] == "deflate" and src.profile["tiled"]
        assert src.descriptions[0] == "density"
        assert np.isnan(src.nodata)
    back = Surface.from_geotiff(path)
    assert back.units == "per km²" and back.name == "density"
    assert back.tags["bandwidth_m"] == "500"
    np.testing.assert_allclose(back.data, data.astype("float32"), equal_nan=True)
    assert back.crs.to_epsg() == 32650 and back.bounds == s.bounds
    with pytest.raises(FileExistsError):
        s.to_geotiff(path)


def test_sample_and_centres():
    transform, shape = grid_for_bounds((0, 0, 300, 200), 100)
    s = Surface(np.array([[1.0, 2, 3], [4, 5, 6]]), transform, "EPSG:32650")
    np.testing.assert_array_equal(s.sample(np.array([50, 250, 999]), np.array([150, 50, 50])),
                                  [1.0, 6.0, np.nan])
    x, y = s.cell_centers()
    np.testing.assert_array_equal(x, [50, 150, 250])
    np.testing.assert_array_equal(y, [150, 50])
    with pytest.raises(ValueError, match="2-D"):
        Surface(np.zeros(3), transform, "EPSG:32650")
