import geopandas as gpd
import pytest
from shapely.geometry import Point

from cci_geo.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_info_on_demo(capsys):
    code, out, _ = run(capsys, "info")
    assert code == 0
    assert "enterprises" in out and "20000" in out and "EPSG:32650" in out
    assert "Synthetic data (not real records): factory_sites, enterprises" in out


def test_info_on_a_file(capsys, tmp_path, demo):
    from cci_geo import Atlas

    path = Atlas({"zones": demo["zones"]}, name="my parks").to_gpkg(tmp_path / "a.gpkg")
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0 and "my parks" in out and "zones" in out


def test_validate_reports_every_problem_and_exits_1(capsys, tmp_path):
    bad = gpd.GeoDataFrame(
        {"id": ["E1", "E1", "E3"], "sector": ["design", "fashion", "media"],
         "revenue_cny": [1.0, None, 3.0], "employees": [1, 2, 3]},
        geometry=[Point(116.4, 39.9), Point(39.9, 116.4), Point(116.5, 39.95)], crs=4326)
    path = tmp_path / "firms.gpkg"
    bad.to_file(path)
    code, out, _ = run(capsys, "validate", str(path), "--kind", "enterprises")
    assert code == 1
    for check in ("duplicate_id", "sector", "nan", "swapped_coordinates"):
        assert f"[{check}]" in out
    assert "fix:" in out


def test_validate_ok_and_guessed_kind(capsys, tmp_path, venue_point):
    path = tmp_path / "venues.geojson"
    venue_point.to_file(path)
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 0 and "OK" in out and "as venues" in out


def test_validate_unguessable_kind(capsys, tmp_path, venue_point):
    path = tmp_path / "stuff.geojson"
    venue_point.to_file(path)
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2 and "--kind" in err


def test_missing_file_is_a_clean_error(capsys):
    code, _, err = run(capsys, "validate", "nope.gpkg", "--kind", "zones")
    assert code == 1 and "does not exist" in err


def test_help_shows_examples(capsys):
    with pytest.raises(SystemExit) as ei:
        main(["--help"])
    assert ei.value.code == 0
    assert "examples:" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "--kind enterprises --datum gcj02" in capsys.readouterr().out
