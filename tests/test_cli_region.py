"""A planner's own atlas from another city on the command line: ``--region`` and whole-atlas
validation.

A GeoPackage not written by cci_geo carries no study region, so its layers are checked against
the default (Beijing-Tianjin-Hebei). The error must name the command-line fix, and ``--region``
must reach every command that reads an atlas.
"""

from __future__ import annotations

import pytest
from _atlases import SHANGHAI_BBOX, shanghai_atlas

import cci_geo
from cci_geo.cli.main import main
from cci_geo.cli.options import load_atlas, region_arg
from cci_geo.errors import ParameterError

BOX = [str(v) for v in SHANGHAI_BBOX]


@pytest.fixture(scope="module")
def plain_gpkg(tmp_path_factory):
    """Shanghai layers written with geopandas only: no cci_geo metadata, no stored region."""
    path = tmp_path_factory.mktemp("own") / "shanghai_layers.gpkg"
    atlas = shanghai_atlas(n=400)
    for kind in atlas:
        atlas[kind].to_file(path, layer=kind, driver="GPKG")
    return path


def test_the_region_error_names_the_command_line_fix(plain_gpkg, capsys):
    assert main(["info", str(plain_gpkg)]) == 1
    err = capsys.readouterr().err
    assert "outside the Beijing-Tianjin-Hebei" in err
    assert "--region WEST SOUTH EAST NORTH (or --region data)" in err
    assert "region=(west" not in err  # the Python spelling is for Python callers
    with pytest.raises(cci_geo.SchemaError, match=r"pass region=\(west, south, east, north\)"):
        cci_geo.Atlas.read(plain_gpkg)


@pytest.mark.parametrize("region", [BOX, ["data"]])
def test_region_reaches_the_atlas(plain_gpkg, capsys, region):
    assert main(["info", str(plain_gpkg), "--region", *region]) == 0
    assert "enterprises" in capsys.readouterr().out
    atlas = load_atlas(plain_gpkg, region)
    assert set(atlas) == {"districts", "zones", "factory_sites", "venues", "enterprises"}
    if region == BOX:
        assert atlas.region == SHANGHAI_BBOX
    else:  # the layers' own extent
        w, s, e, n = atlas.region
        bw, bs, be, bn = atlas["enterprises"].total_bounds
        assert w <= bw and s <= bs and be <= e and bn <= n and (e - w) < 2


@pytest.mark.parametrize("command", ["briefing", "report", "monitor", "optimise", "score"])
def test_every_atlas_command_takes_region(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "--region W S E N|data" in capsys.readouterr().out


def test_bad_region_values_are_refused():
    with pytest.raises(ParameterError, match="four numbers"):
        region_arg(["120", "30", "122"])
    with pytest.raises(ParameterError, match="are not four numbers"):
        region_arg(["a", "b", "c", "d"])
    with pytest.raises(ParameterError, match="west < east"):
        region_arg(["122", "30", "120", "31"])


def test_validate_checks_every_layer_of_an_atlas(plain_gpkg, tmp_path, capsys):
    assert main(["validate", str(plain_gpkg), "--region", *BOX]) == 0
    out = capsys.readouterr().out
    for kind in ("districts", "zones", "factory_sites", "venues", "enterprises"):
        assert f"{plain_gpkg.name}:{kind} as {kind}:" in out
    assert "5 layers and tables checked, 0 error(s) in all" in out
    # without the region every layer is outside the default one: one error each, exit 1
    assert main(["validate", str(plain_gpkg)]) == 1
    assert "5 layers and tables checked, 5 error(s) in all" in capsys.readouterr().out
    # a broken layer and a broken table are found among good ones
    demo = cci_geo.load_demo()
    ent = demo["enterprises"].head(50)
    years = demo.table("enterprise_years")
    years = years[years["enterprise_id"].isin(ent["id"])].copy()
    years.loc[years.index[0], "enterprise_id"] = "no-such-firm"
    zones = demo["zones"].copy()
    zones.loc[zones.index[0], "kind"] = "theme park"
    bad = cci_geo.Atlas({"enterprises": ent, "districts": demo["districts"]}, demo.provenance)
    path = bad.to_gpkg(tmp_path / "bad.gpkg")
    zones.to_file(path, layer="zones", driver="GPKG")
    import pyogrio

    pyogrio.write_dataframe(years.reset_index(drop=True), path, layer="enterprise_years",
                            driver="GPKG", append=False)
    assert main(["validate", str(path), "--lang", "zh"]) == 1
    out = capsys.readouterr().out
    assert "bad.gpkg:zones（按 zones 检查）" in out and "theme park" in out
    assert "bad.gpkg:enterprise_years" in out and "no-such-firm" in out
    assert "共 2 个错误" in out
    # --kind with a layer of that name checks that layer alone
    assert main(["validate", str(path), "--kind", "enterprises"]) == 0
    assert "bad.gpkg as enterprises: 50 features" in capsys.readouterr().out


def test_a_missing_scenario_is_said_in_chinese(tmp_path, capsys):
    for command in ("optimise", "score"):
        assert main([command, str(tmp_path / "nope.toml"), "--lang", "zh"]) == 1
        err = capsys.readouterr().err
        assert f"找不到情景文件 {tmp_path / 'nope.toml'}。" in err, err
        assert "does not exist" not in err and "not found" not in err
