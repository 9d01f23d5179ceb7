"""Tests for cci_geo.maps without a browser: registry, renderers, export, datums, static PNG."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from _maps_data import XSS_IMG, XSS_SCRIPT, synthetic_atlas, synthetic_enterprises
from affine import Affine
from shapely.geometry import LineString, Point, box

import cci_geo.maps as cm
from cci_geo.maps import folium_layers
from cci_geo.maps.export import AssetError, asset_manifest, inline_assets
from cci_geo.raster import Surface
from cci_geo.results import RESULT_KEY, tag_result

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def atlas():
    return synthetic_atlas(1500)


def _payloads(html: str) -> list[object]:
    """Decode every compressed layer payload in a page."""
    out = []
    for packed in re.findall(r'cciGeo\.unpack\("([A-Za-z0-9+/=]+)"\)', html):
        out.append(json.loads(zlib.decompress(base64.b64decode(packed)).decode("utf-8")))
    return out


def _grid(n: int = 6, x0: float = 116.3, y0: float = 39.85, step: float = 0.01):
    cells = [box(x0 + i * step, y0 + j * step, x0 + (i + 1) * step, y0 + (j + 1) * step)
             for j in range(n) for i in range(n)]
    return gpd.GeoDataFrame({"id": [f"c{i}" for i in range(n * n)]}, geometry=cells, crs=4326)


def _surface() -> Surface:
    data = np.outer(np.hanning(40), np.hanning(50)) * 500.0
    data[0, 0] = np.nan
    s = Surface(data, Affine(200.0, 0, 440_000, 0, -200.0, 4_425_000), "EPSG:32650",
                units="enterprises per km²", name="density")
    tag_result(s, "kernel_density")
    return s


# --- registry ---------------------------------------------------------------------------------


def test_registry_has_every_layer_kind_and_result_type():
    names = set(cm.registered())
    kinds = {"districts", "functional_areas", "demonstrative_regions", "zones", "factory_sites",
             "venues", "enterprises", "nodes", "corridors", "stations"}
    results = {"kernel_density", "hot_spots", "local_morans", "location_quotient", "clusters",
               "designation_gap_clusters", "designation_gap_designated", "grid_counts",
               "accessibility", "access_by_district", "enterprise_grid", "isochrones",
               "suitability", "corridor_zones", "flows", "corridor_membership",
               "cooperation_candidates", "layout_sites", "selected_sites", "layout_allocations",
               "allocations", "layout_demand", "coverage", "layout_facilities",
               "layout_uncovered"}
    assert kinds | results <= names


def test_register_renderer_plugs_in_a_new_result_type():
    gdf = _grid(2)
    tag_result(gdf, "noise_contours_test")

    @cm.register_renderer("noise_contours_test")
    def render_noise(obj, *, lang, name=None):
        return [cm.VectorLayer(name or "Noise", obj, fields=(("id", "ID"),))]

    try:
        layers = cm.render(gdf, lang="en")
        assert [lyr.name for lyr in layers] == ["Noise"]
        assert layers[0].key == "noise_contours_test"
        with pytest.raises(ValueError, match="already registered"):
            cm.register_renderer("noise_contours_test")(lambda obj, **kw: [])
    finally:
        from cci_geo.maps import registry

        registry._RENDERERS.pop("noise_contours_test")


def test_unknown_result_type_falls_back_by_geometry(caplog):
    gdf = _grid(3).assign(value=np.arange(9.0))
    tag_result(gdf, "never_heard_of_it")
    with caplog.at_level("INFO", logger="cci_geo.maps.registry"):
        layers = cm.render(gdf, lang="en")
    assert "never_heard_of_it" in caplog.text
    assert layers[0].key == "polygons"
    assert layers[0].legend is not None and layers[0].legend.kind == "classed"


def test_render_rejects_other_types_and_languages():
    with pytest.raises(TypeError, match="cannot map"):
        cm.render(pd.DataFrame({"a": [1]}), lang="en")
    with pytest.raises(ValueError, match="lang must be 'zh' or 'en'"):
        cm.render(_grid(2), lang="fr")


def test_render_unpacks_result_objects_with_map_parts():
    a, b = _grid(2), _grid(2)
    tag_result(a, "clusters")
    tag_result(b, "layout_uncovered")
    b["uncovered_weight"] = [1.0, 2.0, 3.0, 4.0]

    class Proposal:
        def to_map_parts(self):
            return [a, b]

    keys = [lyr.key for lyr in cm.render(Proposal(), lang="zh")]
    assert keys == ["clusters", "layout_uncovered"]


# --- renderers --------------------------------------------------------------------------------


def test_atlas_layers_render_with_bilingual_labels(atlas):
    zh = {lyr.name for lyr in cm.briefing_layers(atlas, lang="zh")}
    en = {lyr.name for lyr in cm.briefing_layers(atlas, lang="en")}
    assert {"行政区", "文化创意企业", "老旧厂房"} <= zh
    assert {"Districts", "Creative enterprises", "Old factory sites"} <= en
    assert cm.label("share_animation_games", "zh") == "动漫游戏占比"
    assert cm.label("lq_design", "en") == "LQ: Creative design"
    assert cm.label("my_own_column", "en") == "my own column"
    factories = cm.render(atlas.layers["factory_sites"], kind="factory_sites", lang="zh")[0]
    assert set(factories.gdf["status"]) <= {"已利用", "闲置", "候选"}
    assert factories.gdf["_name"].str.startswith("厂房").all()


def test_enterprises_render_as_one_canvas_layer_by_sector(atlas):
    layer = cm.render(atlas.layers["enterprises"], kind="enterprises", lang="en")[0]
    assert isinstance(layer, cm.PointLayer)
    assert len(layer.lon) == len(atlas.layers["enterprises"])
    sectors = atlas.layers["enterprises"]["sector"].to_numpy()
    codes = list(cm.style.SECTOR_COLORS)
    assert all(codes[c] == s for c, s in zip(layer.category[:50], sectors[:50], strict=True))
    labels = [i.label for i in layer.legend.items]
    assert "Creative design" in labels


def test_hot_spots_use_arcgis_classes_and_colours():
    g = _grid(3).assign(gi_z=np.linspace(-3, 3, 9), gi_p=0.5)
    g["gi_class"] = ["Cold Spot - 99% Confidence", "Cold Spot - 95% Confidence", "Not Significant",
                     "Not Significant", "Not Significant", "Hot Spot - 90% Confidence",
                     "Hot Spot - 90% Confidence", "Hot Spot - 95% Confidence",
                     "Hot Spot - 99% Confidence"]
    tag_result(g, "hot_spots")
    layer = cm.render(g, lang="en")[0]
    assert list(layer.gdf["_fill"]) == ["#4575b5", "#849eba", "#eeeeee", "#eeeeee", "#eeeeee",
                                        "#fab984", "#fab984", "#ed7551", "#d62f27"]
    assert layer.legend.items[0].label == "Hot spot, 99% confidence"


def test_hot_spot_class_from_z_scores_when_labels_are_missing():
    g = _grid(2).assign(gi_z=[3.0, 2.0, 0.1, -1.7])
    tag_result(g, "hot_spots")
    fills = list(cm.render(g, lang="en")[0].gdf["_fill"])
    assert fills == ["#d62f27", "#ed7551", "#eeeeee", "#c0ccbe"]


def test_location_quotient_one_layer_per_sector_with_fixed_classes():
    g = _grid(2).assign(lq_design=[0.5, 1.0, 1.5, 3.0], lq_media=[1.0, 1.0, 1.0, np.nan],
                        total=10.0)
    tag_result(g, "location_quotient")
    layers = cm.render(g, lang="zh")
    assert [lyr.name for lyr in layers] == ["区位商：创意设计", "区位商：媒体融合"]
    assert [lyr.show for lyr in layers] == [True, False]
    assert list(layers[0].gdf["_fill"]) == ["#4393c3", "#f7f7f7", "#f4a582", "#b2182b"]
    assert layers[1].gdf["_fill"].iloc[3] == "#ffffff"  # NaN: no data


def test_lisa_and_designation_gap_and_layout_categories():
    g = _grid(2).assign(lisa_class=["HH", "LL", "not significant", "HL"],
                        lisa_p=[0.01, 0.02, 0.5, 0.04])
    tag_result(g, "local_morans")
    assert list(cm.render(g, lang="en")[0].gdf["_fill"]) == ["#d7191c", "#2c7bb6", "#eeeeee",
                                                              "#fdae61"]
    gap = _grid(2).assign(designation=["designated", "partly", "undesignated", "undesignated"])
    tag_result(gap, "designation_gap_clusters")
    assert list(cm.render(gap, lang="en")[0].gdf["_fill"]) == ["#4d9221", "#f1b6da", "#c51b7d",
                                                                "#c51b7d"]
    places = gpd.GeoDataFrame({"id": ["a", "b"], "cluster_present": [True, False]},
                              geometry=[Point(116.4, 39.9), Point(116.5, 39.9)], crs=4326)
    tag_result(places, "designation_gap_designated")
    layer = cm.render(places, lang="zh")[0]
    assert list(layer.gdf["gap"]) == ["有集聚", "无集聚"]
    sites = gpd.GeoDataFrame({"id": ["z1", "f9"], "fixed": [True, False],
                              "status": ["candidate", "candidate"]},
                             geometry=[Point(116.4, 39.9), Point(116.5, 39.9)], crs=4326)
    tag_result(sites, "layout_sites")
    layer = cm.render(sites, lang="en")[0]
    assert list(layer.gdf["layout_status"]) == ["Existing", "Proposed"]


def _rgb_distance(a: str, b: str) -> float:
    """'Redmean' colour distance (0-765), a cheap approximation of perceived difference."""
    (r1, g1, b1), (r2, g2, b2) = (np.array(cm.style.mpl.colors.to_rgb(c)) * 255 for c in (a, b))
    rm = (r1 + r2) / 2
    return float(np.sqrt((2 + rm / 256) * (r1 - r2) ** 2 + 4 * (g1 - g2) ** 2
                         + (2 + (255 - rm) / 256) * (b1 - b2) ** 2))


def test_meanings_drawn_together_have_distinct_colours():
    def swatches(gdf, key):
        tag_result(gdf, key)
        legend = cm.render(gdf, lang="en")[0].legend
        return {i.label: i.fill or i.color for i in legend.items}

    pts = gpd.points_from_xy([116.40, 116.41, 116.42, 116.43], [39.9] * 4)
    hot = swatches(_grid(2).assign(gi_class=["Hot Spot - 99% Confidence",
                                             "Hot Spot - 95% Confidence",
                                             "Hot Spot - 90% Confidence", "Not Significant"]),
                   "hot_spots")
    gap = swatches(_grid(2).assign(designation=["undesignated", "partly", "designated",
                                                "designated"]), "designation_gap_clusters")
    sites = swatches(gpd.GeoDataFrame({"fixed": [True, False, False, True]}, geometry=pts,
                                      crs=4326), "layout_sites")
    cover = swatches(gpd.GeoDataFrame({"covered": [True, False, True, False]}, geometry=pts,
                                      crs=4326), "coverage")
    assert hot["Hot spot, 99% confidence"] == "#d62f27"  # ArcGIS's scheme is kept
    clashes = [(hot["Hot spot, 99% confidence"], gap["Not designated"]),
               (hot["Hot spot, 95% confidence"], gap["Not designated"]),
               (hot["Hot spot, 95% confidence"], gap["Partly designated"]),
               (hot["Hot spot, 90% confidence"], gap["Partly designated"]),
               (sites["Proposed"], cover["Not covered"]),
               (sites["Proposed"], hot["Hot spot, 99% confidence"]),
               (sites["Proposed"], gap["Not designated"])]
    for a, b in clashes:
        assert _rgb_distance(a, b) > 120, (a, b)


def test_isochrones_flows_and_accessibility():
    iso = gpd.GeoDataFrame({"source": ["a", "a"], "minutes": [5.0, 15.0]},
                           geometry=[Point(116.4, 39.9).buffer(0.01),
                                     Point(116.4, 39.9).buffer(0.03)], crs=4326)
    tag_result(iso, "isochrones")
    layer = cm.render(iso, lang="en")[0]
    assert list(layer.gdf["minutes"]) == [15.0, 5.0]  # largest drawn first
    assert [i.label for i in layer.legend.items] == ["≤ 5 min", "≤ 15 min"]
    flows = gpd.GeoDataFrame({"origin": ["a", "b"], "destination": ["c", "c"],
                              "flow": [1.0, 100.0]},
                             geometry=[LineString([(116, 39), (117, 39)]),
                                       LineString([(116, 40), (117, 39)])], crs=4326)
    tag_result(flows, "flows")
    w = cm.render(flows, lang="en")[0].gdf.set_index("origin")["_weight"]
    assert w["b"] == pytest.approx(10.0) and w["a"] == pytest.approx(1.9)
    acc = _grid(3).assign(access=np.arange(9.0), supply_in_reach=1)
    tag_result(acc, "accessibility")
    layer = cm.render(acc, lang="en")[0]
    assert layer.legend.kind == "classed"
    assert layer.gdf["_fill"].nunique() >= 3


def _legend_labels(gdf, key):
    tag_result(gdf, key)
    return [i.label for i in cm.render(gdf, lang="en")[0].legend.items]


def test_legends_show_no_data_only_for_missing_values_and_no_empty_classes():
    pts = gpd.points_from_xy(np.linspace(116.3, 116.5, 10), [39.9] * 10)
    cands = gpd.GeoDataFrame({"candidate_score": np.linspace(0.1, 0.9, 10)}, geometry=pts,
                             crs=4326)
    assert "No data" not in _legend_labels(cands, "cooperation_candidates")
    cands.loc[3, "candidate_score"] = np.nan
    assert _legend_labels(cands, "cooperation_candidates")[-1] == "No data"
    lines = [LineString([(116 + i / 10, 39), (117, 39.5)]) for i in range(5)]
    flows = gpd.GeoDataFrame({"origin": list("abcde"), "destination": "z",
                              "flow": [1.0, 5.0, 20.0, 80.0, 300.0]}, geometry=lines, crs=4326)
    assert "No data" not in _legend_labels(flows, "flows")
    # 2SFCA: most cells reach no venue (0); a quantile class "0 – 0" or an empty class is noise
    access = _grid(5).assign(access=[0.0] * 15 + list(np.linspace(0.1, 2.0, 10)))
    tag_result(access, "accessibility")
    layer = cm.render(access, lang="en")[0]
    labels = [i.label for i in layer.legend.items]
    assert labels[0] == "0" and "0 – 0" not in labels and "No data" not in labels
    fills = set(layer.gdf["_fill"])
    assert {i.fill or i.color for i in layer.legend.items} == fills  # every class is used
    idx, upper, vmin = cm.style.classify([0, 0, 0, 0, 1, 2], scheme="Quantiles", k=5)
    assert sorted(set(idx)) == list(range(len(upper))) and upper[0] == 0


def test_density_surface_is_warped_to_web_mercator_in_quantile_classes():
    s = _surface()
    layer = cm.render(s, lang="en")[0]
    assert isinstance(layer, cm.RasterLayer)
    assert layer.rgba.dtype == np.uint8 and layer.rgba.shape[2] == 4
    south, west, north, east = layer.bounds_latlon()
    lon, lat = gpd.GeoSeries([Point(440_000 + 5000, 4_425_000 - 4000)],
                             crs=32650).to_crs(4326).iloc[0].coords[0]
    assert west < lon < east and south < lat < north
    assert (layer.rgba[..., 3] == 0).any()  # near-zero density left transparent
    legend = layer.legend
    assert legend.kind == "classed" and len(legend.items) == 7  # no "No data" row
    top = float(legend.items[-1].label.split("–")[1].replace(",", ""))
    assert top == pytest.approx(500, rel=0.05) and "Quantile classes" in legend.note
    # every class holds about a seventh of the shaded cells (a linear ramp put most of a
    # heavy-tailed surface in its palest colour)
    shaded = layer.rgba[layer.rgba[..., 3] > 0][:, :3]
    colors, counts = np.unique(shaded, axis=0, return_counts=True)
    assert len(colors) == 7 and counts.min() > 0.6 * counts.max()


def test_heavy_tailed_density_is_not_mostly_pale():
    rng = np.random.default_rng(3)
    data = rng.pareto(1.2, (80, 80)) + 0.5  # a few very dense cells, a long low tail
    s = Surface(data, Affine(250.0, 0, 440_000, 0, -250.0, 4_425_000), "EPSG:32650",
                tags={RESULT_KEY: "kernel_density"})
    layer = cm.render(s, lang="zh")[0]
    shaded = layer.rgba[layer.rgba[..., 3] > 0][:, :3].astype(float)
    palest = np.array(cm.style.mpl.colors.to_rgb(cm.style.ramp("YlOrRd", 7)[0])) * 255
    share_palest = np.mean(np.abs(shaded - palest).sum(axis=1) < 3)
    assert share_palest < 0.25
    linear = cm.style.surface_layer(s, name="d", cmap="YlOrRd", transparent_below=0.015)
    assert linear.legend.kind == "colorbar"  # the linear stretch stays available
    assert "分位数分级" in layer.legend.note


def test_beijing_districts_do_not_wash_out_surfaces_under_them(atlas):
    # Leaflet draws vectors above image overlays: a district fill would veil the density
    layer = cm.render(atlas.layers["districts"], kind="districts", lang="en")[0]
    assert (layer.gdf["_fill_opacity"] == 0).all()  # all 9 fixture districts are in Beijing


# --- briefing map and HTML export -------------------------------------------------------------


def test_briefing_map_has_controls_legends_and_provenance(atlas, tmp_path):
    m = cm.briefing_map(atlas, lang="en")
    html = m.get_root().render()
    for needle in ("L.control.layers", "L.control.fullscreen", "L.Control.MiniMap",
                   "L.Control.Measure", "cciGeo.scale", "cciGeo.legend", "cciGeo.sources",
                   "fitBounds"):
        assert needle in html, needle
    assert "SYNTHETIC data: Creative enterprises" in html
    assert "cciGeo.title" in html


def test_layers_added_after_the_briefing_render_before_the_layer_control(atlas):
    import folium

    m = cm.briefing_map({"districts": atlas.layers["districts"]}, lang="en")
    added = cm.add_to_map(m, atlas.layers["zones"], kind="zones", lang="en")
    native = folium.GeoJson(atlas.layers["nodes"].__geo_interface__, name="Nodes (folium)")
    native.add_to(m)  # a plain folium layer added after the control
    html = m.get_root().render()
    zones_var = [el for el in m._children.values()
                 if isinstance(el, folium_layers._JsLayer)][-1].get_name()
    assert [lyr.name for lyr in added] == ["CCI parks and bases"]
    control = html.index("_layers = {")  # the control's list of layers, then the control
    for var in (zones_var, native.get_name()):
        assert html.index(f"var {var} =") < control, var  # defined before it is listed
    listed = html[control:html.index("L.control.layers(")]
    assert f'"CCI parks and bases" : {zones_var}' in listed
    assert f'"Nodes (folium)" : {native.get_name()}' in listed
    # add_to_map on a plain folium map moves its layer control after the new layers too
    plain = folium.Map()
    folium.LayerControl().add_to(plain)
    assert cm.add_to_map(plain, atlas.layers["zones"], kind="zones", lang="en")
    assert isinstance(list(plain._children.values())[-1], folium.LayerControl)


def js_json_text(text: str) -> str:
    return folium_layers.js_json(text)


def _attribution_lines(m) -> list[str]:
    html = m.get_root().render()
    return [json.loads(t) for t in re.findall(r"cciGeo\.attribution\([^,]+, (\[.*?\])\);", html)]


def test_results_derived_from_synthetic_data_are_flagged_without_their_input(atlas, tmp_path):
    base = {k: atlas.layers[k] for k in ("districts", "zones")}
    base_prov = {k: atlas.provenance[k] for k in base}
    subset = type(atlas)(layers=base, provenance=base_prov)  # no enterprises on this map
    density = cm.derived_from(_surface(), atlas, "enterprises")
    grid = _grid(3).assign(gi_z=np.linspace(-3, 3, 9))
    tag_result(grid, "hot_spots")
    hot = cm.derived_from(grid, atlas, "enterprises", "districts")
    assert "cci_geo_sources" not in grid.attrs  # a copy is marked, not the input
    assert cm.result_sources(hot) == {"districts": "approximate", "enterprises": "synthetic"}
    assert json.loads(density.tags["cci_geo_sources"]) == {"enterprises": "synthetic"}
    # before: nothing said synthetic; now the result names its synthetic input
    plain = cm.briefing_map(subset, _surface(), lang="en")
    assert not any("SYNTHETIC" in t for lines in _attribution_lines(plain) for t in lines)
    m = cm.briefing_map(subset, density, hot, lang="en")
    lines = _attribution_lines(m)[0]
    assert lines[0] == ("SYNTHETIC data: Creative enterprises; results computed from it: "
                        "Enterprise density, Hot spots (Gi*)")
    html = m.get_root().render()
    assert "input of: Enterprise density, Hot spots (Gi*)" in html  # a Data sources row
    gap = cm.derived_from(_grid(2).assign(designation="partly"), atlas, "enterprises")
    tag_result(gap, "designation_gap_clusters")
    sites = cm.derived_from(gpd.GeoDataFrame({"fixed": [False]}, geometry=[Point(116.4, 39.9)],
                                             crs=4326), atlas, "enterprises")
    tag_result(sites, "selected_sites")
    many = cm.briefing_map(subset, density, hot, gap, sites, lang="en")
    short = _attribution_lines(many)[0][0]
    assert short.endswith("Enterprise density, Hot spots (Gi*), Clusters vs designation and 1 more")
    full = ("SYNTHETIC data: Creative enterprises; results computed from it: Enterprise density, "
            "Hot spots (Gi*), Clusters vs designation, Layout optimisation")
    assert js_json_text(full) in many.get_root().render()  # in the Data sources notes
    zh = _attribution_lines(cm.briefing_map(subset, density, lang="zh"))[0][0]
    assert zh.startswith("模拟数据 SYNTHETIC: 文化创意企业；据此计算的结果：")
    # results that do not declare inputs share the atlas's synthetic data, conservatively
    undeclared = _attribution_lines(cm.briefing_map(atlas, _surface(), lang="en"))[0][0]
    assert undeclared.startswith("SYNTHETIC data: Creative enterprises")
    assert undeclared.endswith("(and any result computed from it)")
    # status-free declarations take the atlas's status; real inputs are not flagged
    kinds_only = _grid(2)
    tag_result(kinds_only, "accessibility").attrs.update(cci_geo_sources="enterprises;venues")
    assert cm.synthetic_inputs(kinds_only, atlas) == ["enterprises"]
    real = cm.derived_from(_grid(2).assign(access=1.0), {"venues": {"status": "real"}}, "venues")
    assert cm.synthetic_inputs(real, atlas) == []
    # added later, and on the printed map
    later = cm.briefing_map(subset, lang="en")
    cm.add_to_map(later, density, lang="en")
    assert any(t.startswith("SYNTHETIC data: Creative enterprises")
               for lines in _attribution_lines(later) for t in lines)
    from cci_geo.maps.static import _source_line

    assert _source_line(subset, "en", [density])[0].startswith("SYNTHETIC data: Creative")
    with pytest.raises(ValueError, match="layer kind"):
        cm.derived_from(density, atlas)


def test_save_html_is_self_contained_and_atomic(atlas, tmp_path):
    m = cm.briefing_map(atlas, lang="zh")
    path = cm.save_html(m, tmp_path / "b.html")
    html = path.read_text(encoding="utf-8")
    assert not re.search(r'<script[^>]+src="https?:', html)
    assert not re.search(r'<link[^>]+href="https?:', html)
    assert "Leaflet" in html and "leaflet 1.9.3" in html
    with pytest.raises(FileExistsError, match="overwrite"):
        cm.save_html(m, path)
    cm.save_html(m, path, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["b.html"]


def test_every_folium_default_asset_is_shipped_with_a_licence():
    manifest = asset_manifest()
    import folium.folium

    for _, url in folium.folium._default_js + folium.folium._default_css:
        assert url in manifest, url
    for entry in {e["name"]: e for e in manifest.values()}.values():
        folium_layers.asset_text(entry["licence"])
        assert folium_layers.asset_text(entry["name"])


def test_inline_assets_refuses_unknown_remote_assets():
    html = '<html><head><script src="https://example.org/x.js"></script></head><body></body>'
    with pytest.raises(AssetError, match="example.org"):
        inline_assets(html)


def test_data_is_escaped_in_the_page(atlas, tmp_path):
    g = atlas.layers["districts"].copy()
    g.loc[0, "name_en"] = "{{ 7*7 }} {% raw %} {# c"
    layers = dict(atlas.layers, districts=g)
    html = cm.briefing_map(layers, lang="en").get_root().render()
    assert XSS_IMG not in html and XSS_SCRIPT not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    assert "{{ 7*7 }}" not in html
    assert "\\u007b{ 7*7 }}" in html and "\\u007b% raw %}" in html


def _gl_payload(html: str) -> tuple[dict, list[str]]:
    (meta, blobs) = re.findall(r'cciGeo\.glPoints\((\{.*?\}), (\[".*?"\]), \{"radius"', html)[0]
    return json.loads(meta), json.loads(blobs)


def _column(col: dict, blobs: list[str], n: int) -> np.ndarray:
    """Decode one WebGL payload column as the page does (base64, inflate where flagged,
    byte planes interleaved again, little-endian)."""
    planes = []
    for index, compressed in col["planes"]:
        raw = base64.b64decode(blobs[index])
        planes.append(np.frombuffer(zlib.decompress(raw) if compressed else raw, np.uint8))
    dtype = np.dtype(col["dtype"]).newbyteorder("<")
    return np.stack(planes, axis=1).copy().view(dtype).ravel()[:n]


def _lonlat(meta: dict, blobs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Undo the zig-zag deltas and the Web Mercator units independently of the writer."""
    n, world = meta["n"], 2.0 ** (8 + meta["unitsZoom"])

    def units(col: dict) -> np.ndarray:
        z = _column(col, blobs, n).astype(np.int64)
        return np.cumsum((z >> 1) ^ -(z & 1))

    x, y = units(meta["x"]), units(meta["y"])
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * y / world))))
    return x / world * 360 - 180, lat


def test_webgl_payload_keeps_every_point_with_its_attributes():
    ent = synthetic_enterprises(5000, seed=3)
    ent.loc[7, "name_en"] = "line\nbreak 北京 " + XSS_IMG
    ent.loc[8, "employees"] = 2**31 + 5  # too large for Int32: sent as Float64
    m = cm.briefing_map({"enterprises": ent}, lang="en")
    meta, blobs = _gl_payload(m.get_root().render())
    n = meta["n"]
    assert n == 5000
    assert all(set(b) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
               for b in blobs)  # base64 only: nothing in the blobs can end the script
    lon, lat = _lonlat(meta, blobs)
    lengths = _column(meta["title"]["lengths"], blobs, n).astype(int)
    text = _column({"dtype": "uint8", "planes": [meta["title"]["text"]]}, blobs, 10**9).tobytes()
    ends = np.cumsum(lengths)
    names = [text[e - k:e].decode("utf-8") for e, k in zip(ends, lengths, strict=True)]
    emp_field = next(f for f in meta["fields"] if f["label"] == "Employees")
    assert emp_field["dtype"] == "float64"
    emp = _column(emp_field, blobs, n)
    sector_field = next(f for f in meta["fields"] if f.get("same_as_category"))
    sectors = np.array(sector_field["codes"])[_column(meta["cat"], blobs, n)]
    decoded = sorted(zip(names, lon, lat, emp, sectors, strict=True))
    from cci_geo.maps.labels import sector_label

    expected = sorted(zip(ent["name_en"], ent.geometry.x, ent.geometry.y,
                          ent["employees"].astype(float),
                          [sector_label(c, "en") for c in ent["sector"]], strict=True))
    assert [d[0] for d in decoded] == [e[0] for e in expected]  # names, newline included
    # one unit is 360 / 2^25 degrees of longitude (about 0.9 m in Beijing)
    assert np.allclose([d[1:3] for d in decoded], [e[1:3] for e in expected], atol=1.1e-5)
    assert [d[3:] for d in decoded] == [e[3:] for e in expected]


def test_webgl_units_are_web_mercator_pixels_and_runs_follow_the_z_curve():
    from pyproj import Transformer

    from cci_geo.maps._pointdata import UNITS_ZOOM, mercator_units, points_payload

    ent = synthetic_enterprises(20_000, seed=5)
    lon, lat = ent.geometry.x.to_numpy(), ent.geometry.y.to_numpy()
    x, y = mercator_units(lon, lat)
    mx, my = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    half = np.pi * 6378137.0
    world = 2.0 ** (8 + UNITS_ZOOM)
    assert np.abs(x - (mx + half) / (2 * half) * world).max() <= 0.5 + 1e-6
    assert np.abs(y - (half - my) / (2 * half) * world).max() <= 0.5 + 1e-6
    layer = cm.render(ent, kind="enterprises", lang="en")[0]
    meta, blobs = points_payload(layer)
    ux = np.cumsum(_signed(_column(meta["x"], blobs, meta["n"])))
    uy = np.cumsum(_signed(_column(meta["y"], blobs, meta["n"])))
    # the page relies on it: every aligned square block (culling grid, count cells) is one run
    for shift in (0, 3, 6, 9, 12, 15):
        keys = (uy >> shift) * (1 << 30) + (ux >> shift)
        changes = 1 + int((keys[1:] != keys[:-1]).sum())
        assert changes == len(np.unique(keys)), shift


def _signed(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.int64)
    return (z >> 1) ^ -(z & 1)


def test_webgl_planes_are_compressed_only_when_that_pays():
    from cci_geo.maps._pointdata import _Blobs

    blobs = _Blobs()
    rng = np.random.default_rng(0)
    noisy_values = rng.integers(0, 2**31, 200_000).astype(np.int32)
    small_values = rng.integers(0, 300, 200_000).astype(np.int32)
    noisy, small = blobs.column(noisy_values), blobs.column(small_values)
    texts = blobs.texts()
    assert [c for _, c in noisy["planes"]] == [False, False, False, False]  # random: raw
    assert [c for _, c in small["planes"]] == [False, True, True, True]  # mostly zero bytes
    np.testing.assert_array_equal(_column(noisy, texts, 200_000), noisy_values)
    np.testing.assert_array_equal(_column(small, texts, 200_000), small_values)


def test_canvas_engine_keeps_the_json_payload(monkeypatch):
    from cci_geo.maps import folium_layers

    monkeypatch.setattr(folium_layers, "POINT_ENGINE", "canvas")
    ent = synthetic_enterprises(5000, seed=3)
    layer = cm.render(ent, kind="enterprises", lang="en")[0]
    m = cm.briefing_map({"enterprises": ent}, lang="en")
    html = m.get_root().render()
    (data,) = [p for p in _payloads(html) if isinstance(p, dict) and "cat" in p]
    assert len(data["x"]) == 5000
    lon = data["x0"] + np.cumsum(data["x"]) / data["scale"]
    assert sorted(np.round(lon, 5)) == pytest.approx(sorted(np.round(layer.lon, 5)), abs=1e-9)
    emp = next(f for f in data["fields"] if f["label"] == "Employees")
    assert sorted(emp["values"]) == sorted(ent["employees"].tolist())


# --- basemaps and datums -----------------------------------------------------------------------


def test_gaode_basemap_shifts_overlays_to_gcj02(atlas):
    from cci_geo.datum import wgs84_to_gcj02

    plain = {lyr.name: lyr for lyr in cm.briefing_layers(atlas, lang="en")}
    shifted = {lyr.name: lyr for lyr in cm.briefing_layers(atlas, lang="en", datum="gcj02")}
    v0, v1 = plain["Cultural venues"].gdf, shifted["Cultural venues"].gdf
    ex, ey = wgs84_to_gcj02(v0.geometry.x.to_numpy(), v0.geometry.y.to_numpy())
    np.testing.assert_allclose(v1.geometry.x, ex, atol=1e-9)
    np.testing.assert_allclose(v1.geometry.y, ey, atol=1e-9)
    shift_m = np.hypot((ex - v0.geometry.x) * 85_000, (ey - v0.geometry.y) * 111_000)
    assert (shift_m > 100).all()  # Beijing's GCJ-02 offset is hundreds of metres
    p0, p1 = plain["Creative enterprises"], shifted["Creative enterprises"]
    np.testing.assert_allclose(p1.lon, wgs84_to_gcj02(p0.lon, p0.lat)[0], atol=1e-9)
    raster = cm.render(_surface(), lang="en")[0]
    moved = cm.layers.shift_layer(raster, wgs84_to_gcj02)
    s0, w0, n0, e0 = raster.bounds_latlon()
    s1, w1, n1, e1 = moved.bounds_latlon()
    cx, cy = wgs84_to_gcj02(np.array([(w0 + e0) / 2]), np.array([(s0 + n0) / 2]))
    assert (w1 + e1) / 2 == pytest.approx(cx[0], abs=2e-5)
    assert (s1 + n1) / 2 == pytest.approx(cy[0], abs=2e-5)
    assert moved.rgba is raster.rgba
    html = cm.briefing_map(atlas, lang="en", basemap="gaode").get_root().render()
    assert "autonavi.com" in html and "GCJ-02" in html


def test_basemap_choices_and_tianditu_key(atlas, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(ValueError, match="TIANDITU_KEY"):
        cm.briefing_map(atlas, basemap="tianditu")
    html = cm.briefing_map(atlas, basemap="tianditu", tianditu_key="abc123").get_root().render()
    assert "tk=abc123" in html
    with pytest.raises(ValueError, match="choose one of"):
        cm.get_basemap("google")
    assert cm.get_basemap("amap").datum == "gcj02"
    html = cm.briefing_map(atlas, basemap="none").get_root().render()
    assert "L.tileLayer(" not in html.split("L.Control.MiniMap")[0]


# --- static PNG --------------------------------------------------------------------------------


def test_save_png_renders_chinese_with_legend(atlas, tmp_path):
    from cci_geo.maps.static import cjk_font

    if cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    s = _surface()
    path = cm.save_png(atlas, s, path=tmp_path / "map.png", lang="zh", dpi=80)
    from PIL import Image

    img = Image.open(path)
    assert img.size == (800, 720)
    assert np.asarray(img.convert("L")).std() > 10
    with pytest.raises(FileExistsError):
        cm.save_png(atlas, path=path)


# --- CLI ---------------------------------------------------------------------------------------


# --- the embedded demo atlas -------------------------------------------------------------------


def test_demo_atlas_briefing_flags_synthetic_data(demo, tmp_path):
    m = cm.briefing_map(demo, lang="zh")
    path = cm.save_html(m, tmp_path / "demo.html")
    html = path.read_text(encoding="utf-8")
    assert "模拟数据 SYNTHETIC" in html
    assert path.stat().st_size < 6e6
    names = {lyr.name for lyr in cm.briefing_layers(demo, lang="zh")}
    assert {"行政区", "文化创意企业", "京津冀协同廊道", "老旧厂房"} <= names
