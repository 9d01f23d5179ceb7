"""The conventions shared by every module: metric CRS, study region, result kind, bundled files,
no demo fallback and no Beijing assumed (tested on a Shanghai-like atlas in UTM 51N)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

import cci_geo
from cci_geo import access, concentration, corridors, layout
from cci_geo._crs import METRIC_CRS_ATTR, resolve_metric_crs
from cci_geo._resources import resource_path
from cci_geo.errors import CRSMismatchError, DataError, ParameterError
from cci_geo.maps import registry
from cci_geo.results import RESULT_KEY, SIGNATURES, result_kind, tag_result

SHANGHAI = (120.85, 30.67, 122.2, 31.88)
UTM51 = "EPSG:32651"


def _lonlat(x: np.ndarray, y: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(x, y), crs=UTM51).to_crs("EPSG:4326")


@pytest.fixture(scope="module")
def shanghai() -> cci_geo.Atlas:
    """A synthetic Shanghai atlas: districts, zones, factory sites, enterprises, nodes."""
    rng = np.random.default_rng(51)
    x0, y0 = 354_000.0, 3_456_000.0          # about (121.47 E, 31.23 N) in UTM 51N
    cells = [box(x0 + i * 10_000, y0 + j * 10_000, x0 + (i + 1) * 10_000, y0 + (j + 1) * 10_000)
             for i in range(-2, 2) for j in range(-2, 2)]
    districts = gpd.GeoDataFrame(
        {"id": [f"d{k}" for k in range(16)], "adcode": [f"3101{k:02d}" for k in range(16)],
         "level": "district", "province": "Shanghai", "name_en": [f"D{k}" for k in range(16)]},
        geometry=gpd.GeoSeries(cells, crs=UTM51).to_crs("EPSG:4326"))
    n = 600
    xy = np.r_[rng.normal([x0, y0], 2500, (n // 2, 2)),
               rng.uniform([x0 - 19_000, y0 - 19_000], [x0 + 19_000, y0 + 19_000], (n // 2, 2))]
    sectors = np.array(cci_geo.SECTORS)[rng.integers(0, 9, n)]
    enterprises = gpd.GeoDataFrame(
        {"id": [f"e{k}" for k in range(n)], "sector": sectors,
         "employees": rng.integers(1, 80, n), "revenue_cny": rng.uniform(1e5, 1e7, n),
         "founded": 2010},
        geometry=_lonlat(xy[:, 0], xy[:, 1]))
    joined = gpd.sjoin(enterprises, districts[["adcode", "geometry"]], how="left")
    enterprises["district"] = joined["adcode"][~joined.index.duplicated()].fillna("310100")
    zones = gpd.GeoDataFrame(
        {"id": ["z1", "z2"], "kind": "park", "name_en": ["M50", "Tianzifang"]},
        geometry=_lonlat(np.array([x0, x0 + 6000]), np.array([y0, y0 - 4000])))
    fx = rng.uniform(x0 - 15_000, x0 + 15_000, 12)
    fy = rng.uniform(y0 - 15_000, y0 + 15_000, 12)
    factories = gpd.GeoDataFrame(
        {"id": [f"f{k}" for k in range(12)], "status": ["vacant", "candidate", "reused"] * 4,
         "former_use": "mill", "built_year": 1960, "floor_area_m2": 5000.0},
        geometry=_lonlat(fx, fy))
    nodes = gpd.GeoDataFrame(
        {"id": ["shanghai", "suzhou", "kunshan", "hangzhou"],
         "province": ["Shanghai", "Jiangsu", "Jiangsu", "Zhejiang"],
         "role": ["Capital of the delta; core", "node", "node", "node"]},
        geometry=gpd.GeoSeries([Point(121.47, 31.23), Point(120.62, 31.30),
                                Point(120.98, 31.38), Point(120.16, 30.27)], crs="EPSG:4326"))
    return cci_geo.Atlas({"districts": districts, "enterprises": enterprises, "zones": zones,
                          "factory_sites": factories, "nodes": nodes},
                         name="Shanghai test atlas", region=(119.5, 29.5, 122.5, 32.5))


# ------------------------------------------------------------------------------ metric CRS


def test_atlas_estimates_and_stamps_its_metric_crs(shanghai, caplog):
    assert shanghai.metric_crs == UTM51
    for kind in shanghai:
        assert shanghai[kind].attrs[METRIC_CRS_ATTR] == UTM51
    with caplog.at_level(logging.INFO, logger="cci_geo"):
        cci_geo.Atlas({"zones": shanghai["zones"]}, region=SHANGHAI)
    assert "EPSG:32651" in caplog.text and "pass metric_crs= to choose" in caplog.text
    demo = cci_geo.load_demo()
    assert demo.metric_crs == "EPSG:32650"               # stored in the GeoPackage
    chosen = cci_geo.Atlas({"zones": shanghai["zones"]}, region=SHANGHAI, metric_crs="EPSG:4549")
    assert chosen["zones"].attrs[METRIC_CRS_ATTR] == "EPSG:4549"
    with pytest.raises(ParameterError, match="projected CRS in metres"):
        cci_geo.Atlas({"zones": shanghai["zones"]}, region=SHANGHAI, metric_crs="EPSG:4326")


def test_resolution_order(shanghai, caplog):
    zones = shanghai["zones"]
    plain = zones.copy()
    plain.attrs = {}
    assert resolve_metric_crs(zones, metric_crs="EPSG:4549") == "EPSG:4549"    # explicit
    stamped = zones.copy()
    stamped.attrs[METRIC_CRS_ATTR] = "EPSG:4549"
    assert resolve_metric_crs(stamped) == "EPSG:4549"                          # atlas's
    assert resolve_metric_crs(plain, plain.to_crs("EPSG:3857")) == "EPSG:3857"  # projected
    with caplog.at_level(logging.INFO, logger="cci_geo._crs"):
        assert resolve_metric_crs(plain) == UTM51                              # estimated
    assert "UTM zone 51N" in caplog.text and "pass metric_crs= to choose" in caplog.text
    assert resolve_metric_crs(plain.set_geometry([Point(-74.0, 40.7)] * 2)) == "EPSG:32618"
    assert resolve_metric_crs(plain.set_geometry([Point(151.2, -33.9)] * 2)) == "EPSG:32756"
    with pytest.raises(CRSMismatchError, match="no input has a CRS"):
        resolve_metric_crs(pd.DataFrame({"a": [1]}))


def test_every_measuring_function_honours_the_atlas_metric_crs(shanghai):
    ent = shanghai["enterprises"]
    assert concentration.kernel_density(ent, cell_size_m=500).crs.to_epsg() == 32651
    grid = concentration.grid_counts(ent, 1000, region=shanghai["districts"])
    assert grid.crs.to_epsg() == 32651
    hot = concentration.hot_spots(grid, "count")
    assert hot.crs.to_epsg() == 32651                      # the grid's own CRS
    assert access.enterprise_grid(ent).crs.to_epsg() == 32651
    cl = concentration.clusters(ent, eps_m=600, min_samples=15)
    assert cl.crs == ent.crs                                 # vector result: input CRS
    assert cl.attrs[METRIC_CRS_ATTR] == UTM51
    gap = concentration.designation_gap(cl, shanghai)
    assert gap.clusters.crs == ent.crs
    demand = layout.aggregate_demand(ent, weight="employees", by=None)
    assert demand.crs == ent.crs
    prop = layout.propose_zones(shanghai, k=2, time_limit_s=10)
    assert prop.scenario["metric_crs"] == UTM51
    assert int((~prop.result.sites["fixed"]).sum()) == 2
    # the same frame with another stamp is measured in that CRS instead
    other = ent.copy()
    other.attrs[METRIC_CRS_ATTR] = "EPSG:32650"
    assert concentration.kernel_density(other, cell_size_m=500).crs.to_epsg() == 32650
    assert concentration.grid_counts(other, 1000).crs.to_epsg() == 32650


def test_settings_hold_io_only():
    assert not hasattr(cci_geo.Settings(), "metric_crs")


# ------------------------------------------------------------------------------ region


def test_shanghai_atlas_validates_with_its_region(shanghai, tmp_path):
    zones = shanghai["zones"]
    with pytest.raises(cci_geo.SchemaError, match="pass region="):
        cci_geo.Atlas({"zones": zones})                      # default region: Jing-Jin-Ji
    sh = cci_geo.Atlas({"zones": zones}, region=SHANGHAI)
    assert sh.region == SHANGHAI
    est = cci_geo.Atlas({"zones": zones}, region="data")
    w, s, e, n = est.region
    assert w < 121.47 < e and s < 31.2 < n and e - w < 2
    path = tmp_path / "sh.gpkg"
    sh.to_gpkg(path)
    back = cci_geo.Atlas.from_gpkg(path)
    assert back.region == SHANGHAI and back.metric_crs == UTM51
    csv = tmp_path / "parks.csv"
    csv.write_text("id,kind,lon,lat\np1,park,121.47,31.23\n", encoding="utf-8")
    with pytest.raises(cci_geo.SchemaError, match="outside"):
        cci_geo.read_layer(csv, "zones")
    assert len(cci_geo.read_layer(csv, "zones", region=SHANGHAI)) == 1
    assert cci_geo.load_demo().region == cci_geo.schema.STUDY_REGION


# ------------------------------------------------------------------------------ result kind


def test_result_kind_survives_merge_and_concat(shanghai):
    grid = concentration.grid_counts(shanghai["enterprises"], 2000)
    hot = concentration.hot_spots(grid, "count")
    names = pd.DataFrame({"id": hot["id"], "label": "cell"})
    merged = hot.merge(names, on="id")
    stacked = pd.concat([hot, names.assign(extra=1)], ignore_index=True)
    for frame in (merged, stacked):
        assert RESULT_KEY not in frame.attrs                 # pandas dropped the tag...
        assert result_kind(frame) == "hot_spots"            # ...the columns say what it is
        assert registry.result_type(frame) == "hot_spots"
    assert result_kind(merged, guess=False) is None
    lisa = concentration.local_morans(grid, "count", permutations=9)
    assert result_kind(lisa.merge(names, on="id")) == "local_morans"
    layers = registry.render(gpd.GeoDataFrame(merged, geometry="geometry", crs=hot.crs))
    assert layers and layers[0].key == "hot_spots"


def test_tag_result_and_signatures():
    df = tag_result(pd.DataFrame({"x": [1]}), "custom")
    assert result_kind(df) == "custom"
    with pytest.raises(TypeError, match="no 'attrs' or 'tags'"):
        tag_result(object(), "custom")
    kinds = [k for k, _ in SIGNATURES]
    assert {"hot_spots", "local_morans", "clusters", "corridors"} <= set(kinds)
    assert result_kind(pd.DataFrame({"a": [1]})) is None


# ------------------------------------------------------------------------------ bundled files


def test_resource_path_finds_every_bundled_file():
    for name in ("beijing_cci_demo.gpkg", "beijing_798_streets.osm.gz",
                 "scenarios/old_factory_reuse.toml", "scenarios/layout_new_zones.toml"):
        assert resource_path(name).is_file()
    assert cci_geo.datasets.demo_path() == resource_path("beijing_cci_demo.gpkg")
    with pytest.raises(DataError, match="not found"):
        resource_path("no_such_file.gpkg")
    with pytest.raises(DataError, match="relative"):
        resource_path("../pyproject.toml")


# ------------------------------------------------------------------------------ no demo, no Beijing


def test_no_analysis_loads_the_demo_by_itself(shanghai, monkeypatch):
    def boom() -> None:
        raise AssertionError("the demo must not be loaded")

    monkeypatch.setattr(cci_geo.datasets, "load_demo", boom)
    monkeypatch.setattr(cci_geo, "load_demo", boom)
    cl = concentration.clusters(shanghai["enterprises"], eps_m=600, min_samples=15)
    with pytest.raises(ParameterError, match="designated"):
        concentration.designation_gap(cl, None)
    with pytest.raises(ParameterError, match="atlas"):
        layout.run_scenario({"model": {"type": "max_coverage", "k": 1}}, None)
    with pytest.raises(TypeError):
        layout.run_scenario({"model": {"type": "max_coverage", "k": 1}})  # type: ignore[call-arg]


def test_corridors_without_beijing(shanghai):
    nodes = shanghai["nodes"]
    spec = {"HZ": "shanghai;hangzhou", "SZ": "suzhou;kunshan;shanghai"}
    axes = corridors.corridors_from_nodes(nodes, spec)
    assert axes["origin_node"].tolist() == ["shanghai", "shanghai"]   # its role, not its name
    sz = axes.set_index("id").loc["SZ"]
    assert sz["origin_km"] == pytest.approx(sz["length_km"])         # Shanghai is the far end
    first = corridors.corridors_from_nodes(nodes.drop(columns="role"), spec)
    assert first["origin_node"].tolist() == ["shanghai", "suzhou"]    # no role: first node
    # lines are kept as drawn unless an origin is given
    drawn = gpd.GeoDataFrame({"id": ["L"]}, crs="EPSG:4326",
                             geometry=[LineString([(120.16, 30.27), (121.47, 31.23)])])
    kept = corridors.corridors_from_lines(drawn)
    assert kept.geometry[0].coords[0] == pytest.approx((120.16, 30.27))
    turned = corridors.corridors_from_lines(drawn, origin=(121.47, 31.23))
    assert turned.geometry[0].coords[0] == pytest.approx((121.47, 31.23))
    zones = corridors.corridor_zones(axes, width_km=30)
    assert zones.crs == nodes.crs
    # nothing is excluded by default: Shanghai's own node may be a candidate
    cand = corridors.cooperation_candidates(nodes, zones, axes)
    assert "shanghai" in set(cand["id"])
    assert cand["site_province"].tolist().count("Shanghai") == 1
    partners = corridors.cooperation_candidates(nodes, zones, axes, exclude_province="Shanghai")
    assert "shanghai" not in set(partners["id"]) and len(partners) == 3
    # lengths are measured in the atlas's metric CRS (UTM 51N): compare with a geodesic
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    hz = geod.inv(121.47, 31.23, 120.16, 30.27)[2] / 1000
    assert axes.set_index("id").loc["HZ", "length_km"] == pytest.approx(hz, rel=2e-3)


# ------------------------------------------------------------------------------ examples


def _public_modules() -> list[str]:
    """Every importable module of cci_geo whose dotted name has no private part; the CLI
    subcommand modules are left out (their `add_parser`/`run` are shown by `--help` examples)."""
    import pkgutil

    names = ["cci_geo"]
    for info in pkgutil.walk_packages(cci_geo.__path__, "cci_geo."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] == "cli":
            continue
        names.append(info.name)
    return names


def _missing_examples(module_name: str) -> list[str]:
    import importlib
    import inspect

    mod = importlib.import_module(module_name)
    return [f"{module_name}.{name}" for name in getattr(mod, "__all__", [])
            if inspect.isfunction(getattr(mod, name, None))
            and ">>> " not in (getattr(mod, name).__doc__ or "")]


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_exported_function_has_a_runnable_example(module_name):
    missing = _missing_examples(module_name)
    assert not missing, f"no Examples section in {missing}"

