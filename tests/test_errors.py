"""The error contract: CciGeoErrors with the fix, a clean CLI, guards, and fuzzing that hunts.

Fuzz tests assert the contract, not a particular message: every generated bad input gives a
:class:`CciGeoError` (or a correct result), the CLI exits 0/1 with one message and never a
traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import string
import sys
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

import cci_geo
from cci_geo import _validate
from cci_geo.cli.main import EXIT_BUG, EXIT_ERROR, EXIT_USAGE, main
from cci_geo.concentration import grid_counts, kernel_density
from cci_geo.errors import (
    CciGeoError,
    DataError,
    ParameterError,
    ResourceLimitError,
    ScenarioError,
    SchemaError,
    opt,
)
from cci_geo.settings import Settings

REPO = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


# -- the contract --------------------------------------------------------------------------


def test_every_error_class_is_a_cci_geo_error_and_a_builtin():
    for cls in (ParameterError, DataError, ScenarioError, SchemaError):
        assert issubclass(cls, CciGeoError) and issubclass(cls, ValueError)
    assert issubclass(ResourceLimitError, MemoryError)


def test_hints_name_python_arguments_in_python_and_flags_on_the_cli(tmp_path):
    csv = tmp_path / "gbk.csv"
    csv.write_bytes("id,kind,lon,lat\nA,园区,116.4,39.9\n".encode("gbk"))
    with pytest.raises(DataError) as err:
        cci_geo.read_layer(csv)
    assert "encoding='gbk'" in str(err.value) and "--encoding" not in str(err.value)
    code, _, text = run_cli(["validate", str(csv), "--kind", "zones"])
    assert code == EXIT_ERROR and "--encoding gbk" in text and "encoding='gbk'" not in text
    assert str(DataError("x " + opt("a=1", "--a 1"))) == "x a=1"


@pytest.mark.parametrize("argv, needle", [
    (["validate", "{csv}", "--kind", "zones", "--encoding", "klingon"], "unknown text encoding"),
    (["validate", "{csv}", "--kind", "zones", "--assume-crs", "EPSG:99999"], "EPSG:99999"),
    (["validate", "{csv}", "--kind", "zones", "--datum", "moon"], "unknown datum"),
    (["validate", "{dir}", "--kind", "zones"], "is a folder"),
    (["score", "{scenario}", "--seed", "-1", "--out", "{dir}/o"], "--seed 42"),
    (["score", "{scenario}", "--out", "{csv}"], "not a folder"),
    (["briefing", "--out", "{dir}"], "is a folder"),
    (["briefing", "--out", "{dir}/b.html", "--basemap", "tianditu"], "--tianditu-key"),
    (["info", "{csv}"], "no table named after a layer kind"),
    (["optimise", "{bad_toml}"], "not valid TOML"),
])
def test_cli_user_errors_give_one_message_and_exit_1(tmp_path, monkeypatch, argv, needle):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    csv = tmp_path / "ok.csv"
    csv.write_text("id,kind,lon,lat\nA,park,116.4,39.9\n", encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text("[model\ntype = 'p_median'\n", encoding="utf-8")
    fill = {"csv": str(csv), "dir": str(tmp_path), "bad_toml": str(bad),
            "scenario": str(REPO / "scenarios" / "old_factory_reuse.toml")}
    code, _, err = run_cli([a.format(**fill) for a in argv])
    assert code == EXIT_ERROR, err
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1  # one message (in English or Chinese)


def test_usage_errors_exit_2_and_bugs_exit_70_with_a_report_request(monkeypatch, capsys):
    code, _, _ = run_cli(["score"])  # missing SCENARIO
    assert code == EXIT_USAGE
    from cci_geo.cli import info

    def boom(_args):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(info, "run", boom)
    code, _, err = run_cli(["info"])
    assert code == EXIT_BUG and "bug in cci_geo" in err and "--debug" in err
    assert "Traceback" not in err
    code, _, err = run_cli(["--debug", "info"])
    assert code == EXIT_BUG and "Traceback" in err and "RuntimeError" in err


def test_cli_ctrl_c_is_130(monkeypatch):
    from cci_geo.cli import info

    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(info, "run", interrupted)
    code, _, err = run_cli(["info"])
    assert code == 130 and "interrupted" in err and "Traceback" not in err


# -- inputs checked where they enter --------------------------------------------------------


def _points(xy, crs="EPSG:4326", **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(x, y) for x, y in xy], crs=crs)


@pytest.mark.parametrize("xy, needle", [
    ([(116.4, 39.9), (float("nan"), 39.9)], "NaN or infinite"),
    ([(116.4, 39.9), (450_000.0, 4_420_000.0)], "projected metres"),
    ([(116.4, 39.9), (18.4, -33.9)], "far outside the study region"),  # Cape Town
    ([(116.4, 39.9), (39.9, 116.4)], "latitude, longitude"),
    ([(116.4, 39.9), (40.0, 80.0)], "far outside the study region"),
])
def test_analysis_entry_points_refuse_unusable_coordinates(xy, needle):
    pts = _points(xy * 3)
    for call in (lambda: kernel_density(pts, bandwidth_m=1000),
                 lambda: grid_counts(pts, 500),
                 lambda: cci_geo.layout.cost_matrix(pts, pts)):
        with pytest.raises(DataError, match=needle):
            call()


def test_a_region_stamped_on_the_layer_is_honoured():
    pts = _points([(18.40, -33.90), (18.42, -33.91), (18.43, -33.92)])
    pts.attrs["cci_geo_region"] = (18.0, -34.5, 19.0, -33.5)
    assert kernel_density(pts, bandwidth_m=1000, cell_size_m=200).data.max() > 0


def test_validate_reports_blank_coordinates_infinite_values_and_duplicate_columns(tmp_path):
    csv = tmp_path / "firms.csv"
    csv.write_text("id,sector,revenue_cny,employees,lon,lat\nA,design,inf,3,116.4,39.9\n"
                   "B,media,1,2,,\n", encoding="utf-8")
    with pytest.raises(DataError, match="blank, NaN or infinite coordinate"):
        cci_geo.read_layer(csv)
    csv.write_text("id,sector,revenue_cny,employees,lon,lat\nA,design,inf,3,116.4,39.9\n",
                   encoding="utf-8")
    with pytest.raises(SchemaError, match="'revenue_cny' has infinite values"):
        cci_geo.read_layer(csv, "enterprises")
    csv.write_text("id,id,lon,lat\nA,B,116.4,39.9\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"duplicate column names \['id'\]"):
        cci_geo.read_layer(csv)
    gdf = _points([(116.4, 39.9)], id=["a"], kind=["park"])
    gdf.columns = ["id", "id", "geometry"]
    with pytest.raises(SchemaError, match="duplicate column names"):
        cci_geo.validate(gdf, "zones")


def test_duplicate_candidate_ids_are_refused():
    pts = _points([(116.40, 39.90), (116.41, 39.91), (116.42, 39.92)], id=["dup"] * 3)
    with pytest.raises(DataError, match=r"duplicate id values \['dup'\]"):
        cci_geo.layout.p_median(pts, pts, p=1)


def test_statuses_as_a_string_is_refused(tmp_path):
    toml = tmp_path / "layout.toml"
    toml.write_text('[model]\ntype = "max_coverage"\n[candidates]\nstatuses = "vacant"\n',
                    encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"statuses = \['vacant'\]"):
        cci_geo.layout.load_scenario(toml)


def test_a_utf8_bom_in_a_scenario_is_accepted(tmp_path):
    toml = tmp_path / "layout.toml"
    toml.write_bytes(b"\xef\xbb\xbf" + b'[model]\ntype = "p_median"\n')
    assert cci_geo.layout.load_scenario(toml)["model"]["type"] == "p_median"


def test_read_layer_on_a_folder_names_its_files(tmp_path):
    (tmp_path / "a.shp").write_bytes(b"")
    (tmp_path / "b.shp").write_bytes(b"")
    with pytest.raises(ParameterError, match=r"is a folder.*'a.shp', 'b.shp'"):
        cci_geo.read_layer(tmp_path)


@pytest.mark.parametrize("name, data, needle", [
    ("t.gpkg", b"SQLite format 3\x00" + b"\x00" * 50, "damaged, truncated"),
    ("t.parquet", b"PAR1\x00\x00garbage", "damaged, truncated"),
    ("t.geojson", b'{"type": "FeatureCollection", "features": [', "damaged, truncated"),
    ("t.csv", b"", "is empty"),
    ("t.csv", b"id,wkt\nA,POINT (1\n", "broken WKT"),
])
def test_damaged_files_name_the_file_and_the_fix(tmp_path, name, data, needle):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataError, match=needle) as err:
        cci_geo.read_layer(path)
    assert name in str(err.value)


def test_a_tif_that_is_no_raster(tmp_path):
    fake = tmp_path / "slope.tif"
    fake.write_text("not a raster")
    with pytest.raises(DataError, match="not a raster GDAL can read"):
        cci_geo.raster.Surface.from_geotiff(fake)


# -- resource guards -----------------------------------------------------------------------


BEIJING = _points([(115.5, 39.5), (117.4, 41.0), (116.4, 39.9)])


def test_grids_are_refused_before_allocating_with_size_and_fix():
    with pytest.raises(ResourceLimitError, match=r"GiB.*larger cell size \(at least"):
        kernel_density(BEIJING, cell_size_m=1, bandwidth_m=1000)
    with pytest.raises(ResourceLimitError, match="count grid"):
        grid_counts(BEIJING, 1)
    small = replace(Settings(), max_cells=1000)
    with pytest.raises(ResourceLimitError, match="1,000 cells"):
        kernel_density(BEIJING, cell_size_m=1000, bandwidth_m=5000, settings=small)


def test_a_bandwidth_out_of_proportion_is_refused():
    with pytest.raises(ParameterError, match="out of proportion"):
        kernel_density(BEIJING, bandwidth_m=1e7)


def test_identical_points_get_a_clear_message():
    same = _points([(116.4, 39.9)] * 5)
    with pytest.raises(DataError, match="same location"):
        kernel_density(same)
    assert kernel_density(same, bandwidth_m=500, cell_size_m=100).data.max() > 0


def test_suitability_writer_does_not_change_the_result(tmp_path, monkeypatch):
    from cci_geo.suitability import outputs

    class Surf:
        def __init__(self):
            self.tags = {"a": "1"}

    captured = {}

    def fake_replace(obj, **kw):
        captured["tags"] = kw["tags"]
        raise RuntimeError("stop after tagging")

    monkeypatch.setattr(outputs.dataclasses, "replace", fake_replace)
    surf = Surf()
    result = type("R", (), {})()
    result.composite, result.criteria = surf, {}
    result.provenance = {"seed": 1}
    result.one_at_a_time = None
    result.scenario = type("S", (), {"name": "t"})()
    result.ranking = lambda: pd.DataFrame({"a": [1]})
    result.sites = _points([(116.4, 39.9)], id=["a"])
    result.criteria_table = pd.DataFrame({"w": [1.0]})
    with pytest.raises(RuntimeError, match="stop after tagging"):
        outputs.write_outputs(result, tmp_path)
    assert surf.tags == {"a": "1"} and "seed" in captured["tags"]
    assert not any(tmp_path.iterdir())  # nothing half-written


# -- fuzzing -------------------------------------------------------------------------------

_cell = st.one_of(st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True).map(str),
                  st.integers(-10**12, 10**12).map(str), st.just(""), st.just("nan"),
                  st.just("inf"), st.sampled_from(["116.4", "39.9", "POINT (116 40)",
                                                   "POINT (1", "design", "park", "中文"]))
_header = st.lists(st.sampled_from(["id", "kind", "lon", "lat", "wkt", "经度", "纬度", "x", "y",
                                    "sector", "revenue_cny", "employees", "name", "id"]),
                   min_size=0, max_size=6)


@FUZZ
@given(header=_header, rows=st.lists(st.lists(_cell, min_size=0, max_size=7), max_size=5),
       sep=st.sampled_from([",", ";", "\t"]), encoding=st.sampled_from(["utf-8", "gbk"]))
def test_fuzz_read_layer_csv(header, rows, sep, encoding):
    text = sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.csv"
        try:
            path.write_bytes(text.encode(encoding))
        except UnicodeEncodeError:
            return
        for kind in (None, "zones", "enterprises"):
            try:
                out = cci_geo.read_layer(path, kind)
            except CciGeoError:
                continue
            assert out.crs.to_epsg() == 4326
            b = out.geometry.bounds.to_numpy()
            assert np.isfinite(b[~out.geometry.is_empty.to_numpy()]).all()


_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                         st.floats(allow_nan=False, allow_infinity=False))
_coord = st.one_of(st.floats(-1e7, 1e7, allow_nan=False), st.sampled_from([116.4, 39.9]))
_geometry = st.one_of(
    st.none(),
    st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, _coord, _coord),
    st.builds(lambda c: {"type": "Point", "coordinates": c},
              st.lists(_json_scalar, max_size=3)),
    st.builds(lambda r: {"type": "Polygon", "coordinates": [r]},
              st.lists(st.tuples(_coord, _coord).map(list), max_size=5)),
    st.just({"type": "Unknown"}))


@FUZZ
@given(features=st.lists(st.fixed_dictionaries({
    "type": st.just("Feature"), "geometry": _geometry,
    "properties": st.dictionaries(st.sampled_from(["id", "kind", "sector", "name", "ID"]),
                                  _json_scalar, max_size=4)}), max_size=5),
    truncate=st.integers(0, 3))
def test_fuzz_read_layer_geojson(features, truncate):
    text = json.dumps({"type": "FeatureCollection", "features": features})
    if truncate:
        text = text[: len(text) * truncate // 4]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.geojson"
        path.write_text(text, encoding="utf-8")
        for kind in (None, "zones"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # warnings (e.g. mixed-type JSON) are fine
                with contextlib.suppress(CciGeoError):
                    cci_geo.read_layer(path, kind)


_value = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                   st.integers(-5, 10**9), st.text(max_size=6), st.booleans(),
                   st.sampled_from(["design", "media", "park", "vacant", "是", "2001"]))


@FUZZ
@given(n=st.integers(0, 6), kind=st.sampled_from(list(cci_geo.schema.LAYER_KINDS)),
       cols=st.lists(st.sampled_from(["id", "kind", "sector", "sectors", "status", "level",
                                      "revenue_cny", "employees", "adcode", "province",
                                      "designated", "heritage", "open_space_m2"]),
                     max_size=5, unique=True),
       data=st.data(), crs=st.sampled_from(["EPSG:4326", "EPSG:32650", None]))
def test_fuzz_validate(n, kind, cols, data, crs):
    xs = data.draw(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32),
                            min_size=2 * n, max_size=2 * n))
    geoms = [Point(xs[2 * i], xs[2 * i + 1]) for i in range(n)]
    frame = {c: data.draw(st.lists(_value, min_size=n, max_size=n)) for c in cols}
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
    try:
        out = cci_geo.validate(gdf, kind)
    except CciGeoError:
        return
    assert out is not gdf and out.crs.to_epsg() == 4326


_toml_value = st.one_of(
    st.integers(-3, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf") if math.isinf(f)
        else repr(f)),
    st.text(string.ascii_letters + "中 ", max_size=6).map(json.dumps),
    st.sampled_from(['"vacant"', '["vacant"]', "[]", "true", '"../x.gpkg"', '"/etc/x"',
                     "{ function = 'linear', low = 0, high = 1 }", '"p_median"',
                     '"max_coverage"', "[1, 2]"]))


@FUZZ
@given(lines=st.lists(st.tuples(
    st.sampled_from(["[model]", "[candidates]", "[output]", "[demand]", "[balance]",
                     "[scenario]", "[grid]", "[criteria.a]", "[weights]", "[[criteria]]",
                     None]),
    st.sampled_from(["type", "k", "standard_m", "statuses", "score_weight", "sites", "cell_m",
                     "district_max", "name", "seed", "cell_size_m", "layer", "measure",
                     "value", "weight", "extent"]),
    _toml_value), max_size=10), bom=st.booleans())
def test_fuzz_scenario_loaders(lines, bom):
    body = "\n".join((f"{sec}\n" if sec else "") + f"{key} = {val}" for sec, key, val in lines)
    raw = (b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "s.toml"
        path.write_bytes(raw)
        for loader in (cci_geo.layout.load_scenario, cci_geo.suitability.load_scenario):
            with contextlib.suppress(CciGeoError):
                loader(path)


@FUZZ
@given(command=st.sampled_from(["validate", "info", "score", "optimise"]),
       content=st.binary(max_size=60), suffix=st.sampled_from([".csv", ".gpkg", ".geojson",
                                                              ".toml", ".shp", ".parquet"]),
       extra=st.lists(st.sampled_from(["--kind", "zones", "--encoding", "gb18030", "latin-9",
                                       "--datum", "gcj02", "bd09", "--assume-crs", "EPSG:4326",
                                       "EPSG:0", "--seed", "-5", "7", "--layer", "x",
                                       "--no-sensitivity", "--overwrite"]), max_size=4))
def test_fuzz_cli_never_shows_a_traceback(command, content, suffix, extra):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"in{suffix}"
        path.write_bytes(content)
        argv = [command, str(path), *extra]
        if command in ("score", "optimise"):
            argv += ["--out", str(Path(d) / "out")]
        code, _, err = run_cli(argv)
        assert code in (0, EXIT_ERROR, EXIT_USAGE), (argv, err)
        assert "Traceback" not in err and "internal error" not in err, (argv, err)
        out_dir = Path(d) / "out"
        assert not out_dir.exists() or not list(out_dir.rglob(".cci_geo-staging-*"))


def test_python_errors_are_not_cli_spelled():
    with pytest.raises(ParameterError) as err:
        _validate.check_seed(-1)
    assert "seed=42" in str(err.value) and "--seed" not in str(err.value)
    assert "--seed 42" in err.value.for_cli()
    assert sys.modules["cci_geo.errors"].render("x") == "x"
