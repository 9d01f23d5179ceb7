"""Audit the error contract: try a few hundred bad inputs and faults, count what held.

Run from the repository root (needs no network; a few minutes)::

    python tools/audit_errors.py            # prints a table and the failures
    python tools/audit_errors.py --tinyfs /mnt/tiny   # also a real full disk (a mounted
                                                      # tmpfs of a few hundred kB)

Each case is a call and an expectation: ``error`` (a CciGeoError, or on the CLI exit 1 with
one line and no traceback), ``ok`` (a correct result) or ``either``. A case *fails* when it
raises anything else, shows a traceback, returns when it should refuse, modifies an input,
leaves a partial output set or a staging folder. This is a tool, not a test: it is slow and
its cases change as the library grows.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, Polygon, box

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cci_geo  # noqa: E402
from cci_geo import concentration as cc  # noqa: E402
from cci_geo import layout, suitability  # noqa: E402
from cci_geo.cli.main import main as cli_main  # noqa: E402
from cci_geo.errors import CciGeoError  # noqa: E402
from cci_geo.settings import Settings  # noqa: E402


@dataclass
class Outcome:
    group: str
    name: str
    expect: str
    status: str  # "clear error", "ok", "FAIL"
    detail: str


RESULTS: list[Outcome] = []
TMP = Path(tempfile.mkdtemp(prefix="cci_audit_"))


def case(group: str, name: str, fn: Callable[[], object], expect: str = "error",
         check: Callable[[object], bool] | None = None) -> None:
    """Run ``fn`` and classify the outcome against ``expect``."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = fn()
    except CciGeoError as exc:
        ok = expect in ("error", "either") and len(str(exc)) > 20
        RESULTS.append(Outcome(group, name, expect, "clear error" if ok else "FAIL",
                               f"{type(exc).__name__}: {str(exc)[:140]}"))
        return
    except Exception as exc:  # noqa: BLE001 - the audit records anything else as a failure
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        RESULTS.append(Outcome(group, name, expect, "FAIL",
                               f"raw {type(exc).__name__}: {str(exc)[:120]} "
                               f"@{Path(tb.filename).name}:{tb.lineno}"))
        return
    good = expect in ("ok", "either") and (check is None or bool(check(value)))
    RESULTS.append(Outcome(group, name, expect, "ok" if good else "FAIL",
                           "returned" + ("" if good else f" (expected {expect}): "
                                         f"{str(value)[:100]}")))


def cli(group: str, name: str, argv: list[str], expect: str = "error") -> None:
    """Run the CLI in-process; an error must be exit 1, one line, no traceback."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                code = cli_main(argv)
            except SystemExit as exc:
                code = int(exc.code or 0)
            except BaseException as exc:  # noqa: BLE001
                RESULTS.append(Outcome(group, name, expect, "FAIL",
                                       f"escaped main(): {type(exc).__name__}: {exc}"))
                return
    text = err.getvalue()
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if "Traceback" in text or code == 70:
        status = "FAIL"
    elif expect == "error":
        status = "clear error" if (code == 1 and lines) or code == 2 else "FAIL"
        if code == 1 and len(lines) != 1:
            status = "FAIL"
    elif expect == "ok":
        status = "ok" if code == 0 else "FAIL"
    else:
        status = "clear error" if code in (1, 2) else ("ok" if code == 0 else "FAIL")
    RESULTS.append(Outcome(group, name, expect, status, f"exit {code}: {text.strip()[:160]}"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pts(xy, crs="EPSG:4326", **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(x, y) for x, y in xy], crs=crs)


def write(name: str, data: bytes | str) -> Path:
    p = TMP / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


# ---------------------------------------------------------------------------------- readers


def readers() -> None:
    g = "read_layer"
    good = pts([(116.4, 39.9), (116.5, 39.95)], id=["a", "b"], kind=["park", "base"])
    gpkg = TMP / "good.gpkg"
    cci_geo.write_layer(good, gpkg)
    two = TMP / "two.gpkg"
    cci_geo.write_layer(good, two, layer="a")
    import pyogrio

    pyogrio.write_dataframe(good, two, layer="b", append=True)
    plain_parquet = TMP / "plain.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(plain_parquet)
    shp = TMP / "good.shp"
    cci_geo.write_layer(good, shp)
    noshx = TMP / "noshx" / "x.shp"
    noshx.parent.mkdir()
    shutil.copy(shp, noshx)
    badprj = TMP / "badprj" / "x.shp"
    badprj.parent.mkdir()
    for ext in (".shp", ".shx", ".dbf"):
        shutil.copy(shp.with_suffix(ext), badprj.with_suffix(ext))
    badprj.with_suffix(".prj").write_text("GEOGCS[garbage")
    files = {
        "header only": write("h.csv", "id,kind,lon,lat\n"),
        "semicolon sep": write("semi.csv", "id;kind;lon;lat\nA;park;116.4;39.9\n"),
        "comma decimals": write("dec.csv", 'id,kind,lon,lat\nA,park,"116,4","39,9"\n'),
        "1e308 coords": write("big.csv", "id,kind,lon,lat\nA,park,1e308,1e308\n"),
        "-inf lon": write("ninf.csv", "id,kind,lon,lat\nA,park,-inf,39.9\n"),
        "only lon": write("onlylon.csv", "id,kind,lon\nA,park,116.4\n"),
        "ragged rows": write("ragged.csv", "id,kind,lon,lat\nA,park,116.4,39.9,extra,more\n"),
        "quote never closed": write("quote.csv", 'id,kind,lon,lat\n"A,park,116.4,39.9\n'),
        "binary junk csv": write("junk.csv", bytes(range(256)) * 4),
        "utf-16 csv": write("u16.csv", "id,kind,lon,lat\nA,park,116.4,39.9\n".encode("utf-16")),
        "wkt empty string": write("wkte.csv", "id,kind,wkt\nA,park,\n"),
        "wkt garbage": write("wktg.csv", "id,kind,wkt\nA,park,hello\n"),
        "wkt line": write("wktl.csv", "id,kind,wkt\nA,park,LINESTRING (116 40, 116.1 40)\n"),
        "geojson empty": write("e.geojson", ""),
        "geojson list": write("l.geojson", "[1, 2, 3]"),
        "geojson no features": write("nf.geojson", '{"type": "FeatureCollection"}'),
        "geojson 3857 crs": write("c.geojson", json.dumps({
            "type": "FeatureCollection", "crs": {"type": "name", "properties": {
                "name": "urn:ogc:def:crs:EPSG::3857"}},
            "features": [{"type": "Feature", "properties": {"id": "a"},
                          "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}}]})),
        "geojson NaN literal": write("nan.geojson", '{"type":"FeatureCollection","features":['
                                     '{"type":"Feature","properties":{},"geometry":{"type":'
                                     '"Point","coordinates":[NaN, 39.9]}}]}'),
        "zero-byte gpkg": write("z.gpkg", b""),
        "text as gpkg": write("t.gpkg", "hello"),
        "half gpkg": write("half.gpkg", gpkg.read_bytes()[: gpkg.stat().st_size // 2]),
        "zero-byte parquet": write("z.parquet", b""),
        "half parquet": write("h.parquet", plain_parquet.read_bytes()[:40]),
        "plain parquet (no geo)": plain_parquet,
        "garbage fgb": write("g.fgb", b"fgb\x03" + b"\x00" * 100),
        "garbage shp": write("g.shp", b"\x00" * 100),
        "shp without shx": noshx,
        "shp with broken prj": badprj,
        "unknown suffix": write("x.xyz", "hello"),
        "garbage zip": write("x.zip", b"PK\x03\x04garbage"),
        "garbage xlsx": write("x.xlsx", b"PK\x03\x04garbage"),
        "garbage xls": write("x.xls", b"\xd0\xcf\x11\xe0garbage"),
    }
    for name, path in files.items():
        case(g, name, lambda p=path: cci_geo.read_layer(p), "either")
    case(g, "header only as zones", lambda: cci_geo.read_layer(files["header only"], "zones"),
         "either")
    case(g, "gpkg with two layers", lambda: cci_geo.read_layer(two))
    case(g, "missing layer name", lambda: cci_geo.read_layer(gpkg, layer="nope"))
    case(g, "layer index 99", lambda: cci_geo.read_layer(gpkg, layer=99))
    case(g, "NUL in path", lambda: cci_geo.read_layer("a\x00b.csv"))
    case(g, "path 5000 chars", lambda: cci_geo.read_layer("x" * 5000 + ".csv"))
    case(g, "unknown kind", lambda: cci_geo.read_layer(gpkg, "parks"))
    case(g, "encoding=123", lambda: cci_geo.read_layer(gpkg, encoding=123))
    case(g, "datum=None", lambda: cci_geo.read_layer(gpkg, datum=None))
    case(g, "crs=object()", lambda: cci_geo.read_layer(files["header only"], crs=object()))
    case(g, "crs='WGS84 please'", lambda: cci_geo.read_layer(gpkg, crs="WGS84 please"))
    case(g, "lon= missing column", lambda: cci_geo.read_layer(files["semicolon sep"], lon="x"))
    link = TMP / "loop.csv"
    with contextlib.suppress(OSError):
        link.symlink_to(link)
    case(g, "symlink loop", lambda: cci_geo.read_layer(link))
    case(g, "folder of shapefiles", lambda: cci_geo.read_layer(TMP / "noshx"))
    before = {p: digest(p) for p in files.values() if p.is_file()}
    changed = [p.name for p, d in before.items() if digest(p) != d]
    RESULTS.append(Outcome(g, "inputs unchanged after reads", "ok",
                           "ok" if not changed else "FAIL", f"changed: {changed}"))


# ------------------------------------------------------------------------------- validate


def validation() -> None:
    g = "validate"
    base = pts([(116.4, 39.9), (116.5, 39.95)], id=["a", "b"], kind=["park", "base"])
    frames = {
        "GeoSeries": base.geometry,
        "plain DataFrame": pd.DataFrame({"id": ["a"]}),
        "empty frame": base.iloc[:0],
        "all geometries None": base.set_geometry(gpd.GeoSeries([None, None], crs=4326)),
        "list values in id": base.assign(id=[["a"], ["b"]]),
        "integer ids": base.assign(id=[1, 2]),
        "duplicated index": base.set_axis([0, 0]),
        "EPSG:3857 degrees": base.set_crs(3857, allow_override=True),
        "polygon with NaN": base.set_geometry(gpd.GeoSeries(
            [Polygon([(116, 40), (np.nan, 40), (116, 41)]), box(116, 39, 116.1, 39.1)],
            crs=4326)),
        "LineString zones": base.set_geometry(gpd.GeoSeries(
            [LineString([(116, 40), (116.1, 40)])] * 2, crs=4326)),
        "MultiIndex columns": base.set_axis(pd.MultiIndex.from_tuples(
            [("a", "id"), ("a", "kind"), ("g", "geometry")]), axis=1)
        if False else base.rename(columns={"kind": ("k", "t")}),
        "tuple column name": base.rename(columns={"kind": ("k",)}),
        "inf designated": base.assign(designated=[np.inf, 2001]),
        "bool kind": base.assign(kind=[True, False]),
        "Africa": pts([(18.4, -33.9)], id=["a"], kind=["park"]),
        "swapped": pts([(39.9, 116.4)], id=["a"], kind=["park"]),
        "metres as degrees": pts([(450000, 4420000)], id=["a"], kind=["park"]),
        "no crs": base.set_crs(None, allow_override=True),
    }
    for name, frame in frames.items():
        case(g, name, lambda f=frame: cci_geo.validate(f, "zones"), "error"
             if name not in ("integer ids", "duplicated index", "tuple column name",
                             "bool kind", "empty frame", "list values in id", "inf designated")
             else "either")
    case(g, "kind=None", lambda: cci_geo.validate(base, None))
    case(g, "assume_crs garbage", lambda: cci_geo.validate(
        base.set_crs(None, allow_override=True), "zones", assume_crs="EPSG:-1"))
    before = base.copy()
    with contextlib.suppress(CciGeoError):
        cci_geo.validate(base, "zones")
    RESULTS.append(Outcome(g, "input frame unchanged", "ok",
                           "ok" if base.equals(before) else "FAIL", ""))


# ------------------------------------------------------------------------------- analyses


def analyses() -> None:
    g = "analyses"
    rng = np.random.default_rng(1)
    xy = np.c_[116.3 + rng.random(40) * 0.3, 39.8 + rng.random(40) * 0.3]
    P = pts(xy, id=[f"p{i}" for i in range(40)], w=rng.random(40),
            t=["x"] * 40, employees=rng.integers(1, 50, 40), district=["a", "b"] * 20)
    for name, kw in {
        "cell_size_m=0": {"cell_size_m": 0}, "cell_size_m=-1": {"cell_size_m": -1},
        "cell_size_m=nan": {"cell_size_m": float("nan")},
        "cell_size_m='100'": {"cell_size_m": "100"},
        "cell_size_m=True": {"cell_size_m": True}, "bandwidth=0": {"bandwidth_m": 0},
        "bandwidth=inf": {"bandwidth_m": float("inf")}, "bandwidth=-5": {"bandwidth_m": -5},
        "bandwidth='1000'": {"bandwidth_m": "1000"}, "kernel epan": {"kernel": "epan"},
        "weight missing": {"weight": "nope"}, "weight text": {"weight": "t"},
        "extent zeros": {"extent": (0, 0, 0, 0), "bandwidth_m": 500},
        "extent 3 numbers": {"extent": (1, 2, 3)}, "extent string": {"extent": "beijing"},
        "extent in degrees": {"extent": (116, 39, 117, 40), "bandwidth_m": 500},
        "extent reversed": {"extent": (460000, 4430000, 450000, 4420000)},
        "cell 0.5 m": {"cell_size_m": 0.5, "bandwidth_m": 500},
        "bandwidth 5e6": {"bandwidth_m": 5e6},
        "tiny max_cells": {"settings": replace(Settings(), max_cells=10), "bandwidth_m": 500},
    }.items():
        case(g, f"kernel_density {name}", lambda k=kw: cc.kernel_density(P, **k))
    P_inf = P.copy()
    P_inf.loc[3, "w"] = np.inf
    P_neg = P.copy()
    P_neg.loc[3, "w"] = -1.0
    case(g, "kde weight inf", lambda: cc.kernel_density(P_inf, weight="w"))
    case(g, "kde weight negative", lambda: cc.kernel_density(P_neg, weight="w"))
    case(g, "kde on polygons", lambda: cc.kernel_density(P.set_geometry(P.buffer(0.01))))
    case(g, "kde one point, no bandwidth", lambda: cc.kernel_density(P.iloc[:1]))
    case(g, "kde GeoSeries ok", lambda: cc.kernel_density(P.geometry, bandwidth_m=800), "ok")
    nan_pts = P.copy()
    nan_pts.loc[5, "geometry"] = Point(np.nan, np.nan)
    far = P.copy()
    far.loc[5, "geometry"] = Point(-74.0, 40.7)  # New York
    metres = P.copy()
    metres.loc[5, "geometry"] = Point(450000, 4420000)
    for name, frame in {"NaN point": nan_pts, "New York point": far,
                        "metres point": metres}.items():
        case(g, f"grid_counts {name}", lambda f=frame: cc.grid_counts(f, 500))
        case(g, f"hot_spots {name}", lambda f=frame: cc.hot_spots(f, "w", weights="knn:4"))
        case(g, f"location_quotient {name}",
             lambda f=frame: cc.location_quotient(f, "district"), "error")
        case(g, f"cost_matrix {name}", lambda f=frame: layout.cost_matrix(f, P))
        case(g, f"two_step_fca {name}",
             lambda f=frame: cci_geo.access.two_step_fca(f, P, cost="distance",
                                                          threshold=1000))
    case(g, "grid_counts cell 0.2 m", lambda: cc.grid_counts(P, 0.2))
    case(g, "grid_counts by missing", lambda: cc.grid_counts(P, 500, by="nope"))
    case(g, "hot_spots weights nonsense", lambda: cc.hot_spots(P, "w", weights="nonsense"))
    case(g, "hot_spots fdr=2", lambda: cc.hot_spots(P, "w", fdr=2))
    case(g, "hot_spots text column", lambda: cc.hot_spots(P, "t", weights="knn:4"))
    case(g, "hot_spots 2 units", lambda: cc.hot_spots(P.iloc[:2], "w", weights="knn:1"))
    isl = cc.hot_spots(P, "w", weights=50.0, fdr=None) if True else None
    RESULTS.append(Outcome(g, "hot_spots islands not labelled hot", "ok",
                           "ok" if not isl.loc[isl["gi_z"].isna(), "gi_class"].str.contains(
                               "Hot|hot").any() else "FAIL", ""))
    case(g, "morans_i permutations=-1", lambda: cc.morans_i(P, "w", weights="knn:4",
                                                             permutations=-1))
    case(g, "morans_i seed=-1", lambda: cc.morans_i(P, "w", weights="knn:4", seed=-1))
    case(g, "local_morans seed='x'", lambda: cc.local_morans(P, "w", weights="knn:4",
                                                              seed="x"))
    dup = P.assign(id=["dup"] * 40)
    for name, fn in {
        "p_median dup ids": lambda: layout.p_median(P, dup, p=3),
        "p_median dup demand ids": lambda: layout.p_median(dup, P, p=3),
        "p_median p=0": lambda: layout.p_median(P, P, p=0),
        "p_median p=41": lambda: layout.p_median(P, P, p=41),
        "p_median p='2'": lambda: layout.p_median(P, P, p="2"),
        "p_median p=2.5": lambda: layout.p_median(P, P, p=2.5),
        "p_median empty candidates": lambda: layout.p_median(P, P.iloc[:0], p=1),
        "p_median weights negative": lambda: layout.p_median(P.assign(w=-P["w"]), P, p=2,
                                                             weight="w"),
        "p_median weights text": lambda: layout.p_median(P, P, p=2, weight="t"),
        "max_coverage standard -1": lambda: layout.max_coverage(P, P, p=2, standard_m=-1),
        "max_coverage standard nan": lambda: layout.max_coverage(P, P, p=2,
                                                                 standard_m=float("nan")),
        "set_cover standard 0": lambda: layout.set_cover(P, P, standard_m=0),
        "p_center crs mismatch": lambda: layout.p_center(P, P.to_crs(32650), p=2),
        "p_median seed=-3": lambda: layout.p_median(P, P, p=2, seed=-3),
        "p_median ok": lambda: layout.p_median(P, P, p=2),
    }.items():
        case(g, name, fn, "ok" if name.endswith(" ok") else "error")
    for name, m in {"non-square": [[1, 2, 3], [0.5, 1, 2]], "zeros": [[1, 0], [0, 1]],
                    "negative": [[1, -2], [-0.5, 1]], "text": [["a", 1], [1, 1]],
                    "nan": [[1, np.nan], [np.nan, 1]], "1x1": [[1]]}.items():
        case(g, f"ahp_weights {name}", lambda mm=m: suitability.ahp_weights(mm),
             "either" if name == "1x1" else "error")
    case(g, "two_step_fca threshold -1", lambda: cci_geo.access.two_step_fca(
        P, P, cost="distance", threshold=-1))
    case(g, "two_step_fca cost nonsense", lambda: cci_geo.access.two_step_fca(
        P, P, cost="teleport", threshold=1000))
    case(g, "load_graph missing file", lambda: cci_geo.network.load_graph(TMP / "none.osm"))
    case(g, "load_graph empty .osm", lambda: cci_geo.network.load_graph(write("e.osm", "")))
    case(g, "load_graph html as osm", lambda: cci_geo.network.load_graph(
        write("h.osm", "<html><body>404</body></html>")))
    case(g, "load_graph gz of text", lambda: cci_geo.network.load_graph(
        write("t.osm.gz", b"\x1f\x8b\x08\x00garbage")))
    case(g, "load_graph mode=fly", lambda: cci_geo.network.load_graph(
        cci_geo.network.demo_streets_path(), mode="fly"))
    case(g, "Surface.from_geotiff text", lambda: cci_geo.raster.Surface.from_geotiff(
        write("n.tif", "not a raster")))
    case(g, "Surface.from_geotiff empty", lambda: cci_geo.raster.Surface.from_geotiff(
        write("e.tif", b"")))
    before = P.copy()
    with contextlib.suppress(CciGeoError):
        cc.kernel_density(P, bandwidth_m=800)
    RESULTS.append(Outcome(g, "analysis input unchanged", "ok",
                           "ok" if P.equals(before) else "FAIL", ""))


# ------------------------------------------------------------------------------- scenarios


def scenarios() -> None:
    g = "scenarios"
    good = (REPO / "scenarios" / "old_factory_reuse.toml").read_text(encoding="utf-8")
    lay = (REPO / "scenarios" / "layout_new_zones.toml").read_text(encoding="utf-8")
    mutations = {
        "utf-16": ("utf16", lambda t: t.encode("utf-16")),
        "gbk bytes": ("gbk", lambda t: ("# 注释\n" + t).encode("gbk")),
        "BOM": ("bom", lambda t: b"\xef\xbb\xbf" + t.encode()),
        "truncated half": ("half", lambda t: t[: len(t) // 2].encode()),
        "seed -1": ("seedneg", lambda t: t.replace("[scenario]", "[scenario]\nseed = -1", 1)
                    .encode()),
        "seed 1.5": ("seedf", lambda t: t.replace("[scenario]", "[scenario]\nseed = 1.5", 1)
                     .encode()),
        "duplicate table": ("dup", lambda t: (t + "\n[scenario]\nname='x'\n").encode()),
        "NUL byte": ("nul", lambda t: t.replace("\n", "\n\x00", 1).encode()),
        "empty file": ("empty", lambda _t: b""),
        "cell_size_m 0": ("cell0", lambda t: t.replace("cell_size_m = 100", "cell_size_m = 0")
                          .encode()),
        "cell_size_m nan": ("cellnan", lambda t: t.replace("cell_size_m = 100",
                                                           "cell_size_m = nan").encode()),
        "cell_size_m 0.01": ("celltiny", lambda t: t.replace("cell_size_m = 100",
                                                             "cell_size_m = 0.01").encode()),
        "weight inf": ("winf", lambda t: t.replace("weight = 0.", "weight = inf", 1).encode()),
        "name 300 chars": ("long", lambda t: t.replace("[scenario]",
                                                       "[scenario]\nname = '" + "园" * 300
                                                       + "'", 1).encode()),
    }
    for name, (stem, mut) in mutations.items():
        path = TMP / "scn" / f"{stem}.toml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(mut(good))
        # a file cut in half may still be valid TOML (whole sections): either outcome is right
        exp = "ok" if name == "BOM" else "either" if name in (
            "cell_size_m 0.01", "name 300 chars", "duplicate table", "truncated half") else "error"
        case(g, f"suitability {name}", lambda p=path: suitability.load_scenario(p), exp)
    # the loaders accept a valid name that is long; writing its outputs must refuse cleanly
    for name, (stem, mut) in mutations.items():
        path = TMP / "lay" / f"{stem}.toml"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(mut(lay))
        case(g, f"layout {name}", lambda p=path: layout.load_scenario(p), "either")
    for key, val in {"statuses": "'vacant'", "statuses ": "[]", "score_weight": "2",
                     "suitability": "3", "cell_m": "-5", "district_max": "-1",
                     "k": "0", "standard_m": "'far'", "sites": "''"}.items():
        sec = {"statuses": "candidates", "statuses ": "candidates", "score_weight": "candidates",
               "suitability": "candidates", "cell_m": "demand", "district_max": "balance",
               "k": "model", "standard_m": "model", "sites": "output"}[key]
        body = f'[model]\ntype = "max_coverage"\n[{sec}]\n{key.strip()} = {val}\n'
        if sec == "model":
            body = f'[model]\ntype = "max_coverage"\n{key} = {val}\n'
        p = write(f"lay_{key.strip()}_{abs(hash(val))}.toml", body)
        case(g, f"layout {key.strip()} = {val}", lambda pp=p: layout.load_scenario(pp))


# ------------------------------------------------------------------------------------- CLI


def cli_cases() -> None:
    g = "cli"
    scn = str(REPO / "scenarios" / "old_factory_reuse.toml")
    lay = str(REPO / "scenarios" / "layout_new_zones.toml")
    csv = write("ok.csv", "id,kind,lon,lat\nA,park,116.4,39.9\n")
    out = TMP / "cli_out"
    for name, argv in {
        "no command": [],
        "unknown command": ["frobnicate"],
        "info missing file": ["info", str(TMP / "none.gpkg")],
        "info csv": ["info", str(csv)],
        "info folder": ["info", str(TMP)],
        "validate --layer on csv": ["validate", str(csv), "--kind", "zones", "--layer", "x"],
        "validate unknown kind": ["validate", str(csv), "--kind", "parks"],
        "validate guessed kind fails": ["validate", str(write("foo.csv", "a\n1\n"))],
        "validate encoding utf-32": ["validate", str(csv), "--kind", "zones", "--encoding",
                                     "utf-32"],
        "validate assume-crs garbage": ["validate", str(csv), "--kind", "zones",
                                        "--assume-crs", "+proj=nonsense"],
        "score missing scenario": ["score", str(TMP / "none.toml")],
        "score scenario is folder": ["score", str(TMP)],
        "score --seed huge": ["score", scn, "--seed", str(2**70), "--out", str(out / "a")],
        "score --seed text": ["score", scn, "--seed", "x"],
        "score --atlas garbage": ["score", scn, "--atlas", str(write("g.gpkg", "garbage")),
                                  "--out", str(out / "b")],
        "score --atlas missing": ["score", scn, "--atlas", str(TMP / "no.gpkg"),
                                  "--out", str(out / "c")],
        "score --out in /proc": ["score", scn, "--out", "/proc/cci_geo_out"],
        "score --out under a file": ["score", scn, "--out", str(csv / "x")],
        "score --out name too long": ["score", scn, "--out", str(TMP / ("d" * 300))],
        "optimise --out file": ["optimise", lay, "--out", str(csv)],
        "optimise missing": ["optimise", str(TMP / "none.toml")],
        "optimise escaping output": ["optimise", str(write("esc.toml",
                                     '[model]\ntype = "max_coverage"\n[output]\n'
                                     'sites = "../../escape.gpkg"\n'))],
        "optimise absolute output": ["optimise", str(write("abs.toml",
                                     '[model]\ntype = "max_coverage"\n[output]\n'
                                     'sites = "/tmp/abs_escape.gpkg"\n'))],
        "optimise same names": ["optimise", str(write("same.toml",
                                '[model]\ntype = "max_coverage"\n[output]\n'
                                'sites = "a.gpkg"\nallocations = "a.gpkg"\n')),
                                "--out", str(out / "d")],
        "briefing --atlas folder": ["briefing", "--atlas", str(TMP), "--out",
                                    str(out / "b.html")],
        "briefing --basemap tianditu no key": ["briefing", "--basemap", "tianditu", "--out",
                                               str(out / "t.html")],
        "briefing --out in missing root": ["briefing", "--out", "/nonexistent_root/x.html",
                                           "--atlas", str(TMP / "no.gpkg")],
        "report --out folder": ["report", "--out", str(TMP)],
    }.items():
        os.environ.pop("TIANDITU_KEY", None)
        cli(g, name, argv, "error")
    cli(g, "validate ok", ["validate", str(csv), "--kind", "zones"], "ok")


# ---------------------------------------------------------------------------------- faults


def faults(tinyfs: Path | None) -> None:
    g = "faults"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    lay = str(REPO / "scenarios" / "layout_new_zones.toml")
    # interrupts at different moments of cci-geo optimise: 130, no staging, all or nothing
    for i, delay in enumerate((0.5, 2.0, 4.0, 6.0, 9.0, 12.0)):
        for sig in (signal.SIGINT, signal.SIGTERM):
            out = TMP / f"int_{i}_{sig}"
            proc = subprocess.Popen([sys.executable, "-m", "cci_geo.cli.main", "optimise", lay,
                                     "--out", str(out), "--no-map"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(delay)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=120)
            files = sorted(p.name for p in out.rglob("*")) if out.exists() else []
            staging = [f for f in files if f.startswith(".cci_geo-staging")]
            complete = len(files) in (0, 4)  # nothing, or the whole set (--no-map: 4 files)
            tb = "Traceback" in err
            # -15: SIGTERM after main() returned (the handler is restored): the set is whole
            ok = not staging and complete and not tb and proc.returncode in (0, 130, -15)
            RESULTS.append(Outcome(g, f"{signal.Signals(sig).name} optimise after {delay}s",
                                   "either", "ok" if ok else "FAIL",
                                   f"rc {proc.returncode}, files {files}, traceback {tb}"))
    # concurrent writers in separate processes, several formats and write_outputs-like sets
    script = textwrap.dedent("""
        import sys, time
        import geopandas as gpd
        from shapely.geometry import Point
        from cci_geo import write_layer
        from cci_geo.errors import OutputExistsError
        path, tag, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
        gdf = gpd.GeoDataFrame({"tag": [tag] * 3000},
                               geometry=[Point(116.4, 39.9)] * 3000, crs=4326)
        while time.time() < start:
            pass
        try:
            write_layer(gdf, path)
            print("ok")
        except OutputExistsError:
            print("exists")
    """)
    for suffix in (".gpkg", ".geojson", ".shp", ".fgb", ".parquet", ".csv"):
        for trial in range(3):
            target = TMP / f"race_{trial}{suffix}"
            start = time.time() + 2.5
            procs = [subprocess.Popen([sys.executable, "-c", script, str(target), tag,
                                       str(start)], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for tag in "ab"]
            outs = [p.communicate(timeout=120)[0].strip() for p in procs]
            winner_ok = sorted(outs) == ["exists", "ok"]
            RESULTS.append(Outcome(g, f"two writers {suffix} #{trial}", "either",
                                   "ok" if winner_ok else "FAIL", f"{outs}"))
    # a full disk: injected ENOSPC while staging a score-like set, then a real tiny tmpfs
    from cci_geo._files import transaction

    for k in range(1, 5):
        out = TMP / f"enospc_{k}"
        out.mkdir()
        for n in ("a.csv", "b.tif", "c.gpkg", "m.json"):
            (out / n).write_text(f"old {n}")
        try:
            with transaction(out, overwrite=True, manifest="m.json") as st:
                for j, n in enumerate(("a.csv", "b.tif", "c.gpkg", "m.json")):
                    if j == k - 1:
                        raise OSError(errno.ENOSPC, "No space left on device")
                    st.path(n).write_text(f"new {n}")
        except OSError:
            pass
        kept = {p.name: p.read_text() for p in out.iterdir()}
        good = kept == {n: f"old {n}" for n in ("a.csv", "b.tif", "c.gpkg", "m.json")}
        RESULTS.append(Outcome(g, f"ENOSPC at file {k} of 4", "either",
                               "ok" if good else "FAIL", f"{kept}"))
    if tinyfs is not None:
        noise = np.random.default_rng(0).integers(0, 2**62, 20000)
        big = pts([(116.4 + i * 1e-4, 39.9) for i in range(20000)],
                  name=[f"园区{v:x}" * 4 for v in noise])  # incompressible text
        for fmt in (".gpkg", ".geojson", ".csv", ".shp", ".parquet", ".fgb"):
            for leftover in tinyfs.iterdir():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            target = tinyfs / f"full{fmt}"
            case(g, f"real full disk {fmt}", lambda t=target: cci_geo.write_layer(big, t),
                 "error")
            left = sorted(p.name for p in tinyfs.iterdir())
            RESULTS.append(Outcome(g, f"nothing left after full disk {fmt}", "ok",
                                   "ok" if not left else "FAIL", f"{left}"))
        for leftover in tinyfs.iterdir():
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        cli(g, "cli score into a full disk", ["score", str(REPO / "scenarios" /
                                                            "old_factory_reuse.toml"),
                                              "--out", str(tinyfs / "s"), "--no-sensitivity"])
        left = [p.name for p in tinyfs.rglob("*")]
        RESULTS.append(Outcome(g, "cli score full disk leaves nothing", "ok",
                               "ok" if not left else "FAIL", f"{left[:5]}"))
    # writers never mutate; overwrite=False never replaces a sidecar
    (TMP / "side").mkdir()
    (TMP / "side" / "x.cpg").write_text("GBK")
    case(g, "shapefile with existing .cpg", lambda: cci_geo.write_layer(
        pts([(116.4, 39.9)], id=["a"]), TMP / "side" / "x.shp"))
    RESULTS.append(Outcome(g, ".cpg untouched", "ok",
                           "ok" if (TMP / "side" / "x.cpg").read_text() == "GBK" else "FAIL",
                           ""))
    case(g, "NUL in a name column", lambda: cci_geo.write_layer(
        pts([(116.4, 39.9)], name=["a\x00b"]), TMP / "nul.gpkg"))
    case(g, "NUL in a column name", lambda: cci_geo.write_layer(
        pts([(116.4, 39.9)], **{"na\x00me": ["a"]}), TMP / "nulc.gpkg"), "either")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tinyfs", type=Path, default=None,
                        help="an empty, tiny mounted file system for real full-disk faults")
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument("--only-faults", action="store_true")
    args = parser.parse_args()
    if not args.only_faults:
        readers()
        validation()
        analyses()
        scenarios()
        cli_cases()
    if not args.skip_faults:
        faults(args.tinyfs)
    table = pd.DataFrame([r.__dict__ for r in RESULTS])
    summary = table.groupby("group")["status"].value_counts().unstack(fill_value=0)
    summary["tried"] = summary.sum(axis=1)
    print(summary.to_string())
    total = len(table)
    fails = table[table["status"] == "FAIL"]
    print(f"\ntried {total}: clear error {int((table['status'] == 'clear error').sum())}, "
          f"correct result {int((table['status'] == 'ok').sum())}, failures {len(fails)}")
    for r in fails.itertuples():
        print(f"  FAIL [{r.group}] {r.name}: {r.detail}")
    shutil.rmtree(TMP, ignore_errors=True)
    return 1 if len(fails) else 0


if __name__ == "__main__":
    sys.exit(main())
