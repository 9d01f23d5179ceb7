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


@pytest.mark.parametrize("how", ["option", "global", "env"])
def test_info_speaks_chinese_when_asked(capsys, monkeypatch, how):
    argv = {"option": ["info", "--lang", "zh"], "global": ["--lang", "zh", "info"],
            "env": ["info"]}[how]
    if how == "env":
        monkeypatch.setenv("CCI_GEO_LANG", "zh")
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "北京文化创意产业示例图集" in out.splitlines()[0]  # the atlas's Chinese name
    assert "度量坐标系：EPSG:32650" in out and "数据来源：" in out
    assert "图层" in out and "要素数" in out and "20000" in out
    assert "合成数据（非真实记录）：factory_sites, enterprises" in out
    assert "Sources:" not in out and "Synthetic data" not in out


def test_validate_speaks_chinese_when_asked(capsys, monkeypatch, tmp_path):
    bad = gpd.GeoDataFrame({"id": ["E1", "E1"], "sector": ["design", "media"],
                            "revenue_cny": [1.0, 2.0], "employees": [1, 2]},
                           geometry=[Point(116.4, 39.9), Point(116.5, 39.95)], crs=4326)
    path = tmp_path / "firms.gpkg"
    bad.to_file(path)
    code, out, _ = run(capsys, "validate", str(path), "--kind", "enterprises", "--lang", "zh")
    assert code == 1
    assert "（按 enterprises 检查）：2 个要素，" in out and "个错误" in out
    assert "错误" in out and "[duplicate_id]" in out and "修正：" not in out and "修正:" in out
    assert "fix:" not in out and "ERROR" not in out
    monkeypatch.setenv("CCI_GEO_LANG", "zh")
    code, _, err = run(capsys, "validate", str(tmp_path / "unknown.gpkg"))
    assert code == 2 and "无法判断 unknown.gpkg 的图层类型" in err
    monkeypatch.setenv("CCI_GEO_LANG", "en")
    code, out, _ = run(capsys, "validate", str(path), "--kind", "enterprises")
    assert code == 1 and "as enterprises: 2 features" in out and "fix:" in out
