"""The briefing map: every atlas layer and analysis result on one folium map.

:func:`briefing_map` only draws: the analyses are run by :mod:`cci_geo.workflows`
(:func:`cci_geo.workflows.run_briefing`, used by ``cci-geo briefing``), which passes their
results here with the title, first view and notes of the run.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from folium import plugins
from folium.template import Template

from .. import __version__
from ..errors import ParameterError, ParameterTypeError
from .basemaps import Basemap, add_basemap, get_basemap
from .folium_layers import BriefingFoliumMap, add_layer, add_script, js_json
from .labels import LABELS, Lang, check_lang, credit_text, label, status_label
from .layers import MapLayer, PointLayer, RasterLayer, VectorLayer, shift_layer
from .registry import render, result_parts, result_type
from .sources import result_sources, synthetic_inputs

__all__ = ["ATLAS_ORDER", "ATLAS_VISIBLE", "BRIEFING_VISIBLE", "add_to_map", "briefing_layers",
           "briefing_map", "default_title"]

logger = logging.getLogger(__name__)

#: Atlas layers switched on when a map opens; the others (enterprises, venues, factory
#: sites ...) are listed in the layer control, off.
ATLAS_VISIBLE = frozenset({"districts", "functional_areas", "demonstrative_regions", "zones",
                           "nodes", "corridors"})

#: Layers switched on when ``cci-geo briefing`` opens (layer kinds / result types), so the first
#: view of a map with every analysis on it reads clearly; the rest are in the layer control.
BRIEFING_VISIBLE = ATLAS_VISIBLE | frozenset({
    "kernel_density", "density", "designation_gap_clusters", "designation_gap", "layout_sites",
    "selected_sites", "layout",
})

#: Atlas layers drawn by the briefing, in this order (others follow alphabetically).
ATLAS_ORDER = ("districts", "functional_areas", "corridors", "demonstrative_regions", "zones",
               "factory_sites", "venues", "nodes", "transit_lines", "stations",
               "station_entrances", "enterprises")


def _atlas_layers(atlas: Any) -> dict[str, gpd.GeoDataFrame]:
    layers = atlas.layers if hasattr(atlas, "layers") else atlas
    if not isinstance(layers, Mapping):
        msg = ("atlas must be a cci_geo Atlas or a mapping of layer kind -> GeoDataFrame, got "
               f"{type(atlas).__name__}.")
        raise ParameterTypeError(msg)
    return dict(layers)


def _provenance(atlas: Any) -> dict[str, dict[str, str]]:
    prov = getattr(atlas, "provenance", None)
    return dict(prov) if isinstance(prov, Mapping) else {}


def briefing_layers(atlas: Any, *results: Any, lang: Lang = "zh", datum: str = "wgs84",
                    visible: frozenset[str] | None = None) -> list[MapLayer]:
    """Return the map layers of ``atlas`` and ``results`` in drawing order.

    With ``datum="gcj02"`` every layer is shifted from WGS-84 to GCJ-02 (for Gaode tiles).
    ``visible`` lists the layer kinds / result types switched on at first; by default atlas
    layers in :data:`ATLAS_VISIBLE` are on and results follow their renderer.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import maps
    >>> layers = maps.briefing_layers(cci_geo.load_demo(), lang="en")
    >>> "districts" in [layer.key for layer in layers]
    True
    """
    lang = check_lang(lang)
    layers = _atlas_layers(atlas)
    kinds = [k for k in ATLAS_ORDER if k in layers] + sorted(set(layers) - set(ATLAS_ORDER))
    out: list[MapLayer] = []
    for kind in kinds:
        gdf = layers[kind]
        if gdf is None or len(gdf) == 0:
            continue
        drawn = render(gdf, kind=kind, lang=lang)
        for layer in drawn:
            layer.group = layer.group or "group_atlas"
            if visible is None:
                layer.show = layer.show and kind in ATLAS_VISIBLE
        out.extend(drawn)
    for result in results:
        drawn = render(result, lang=lang)
        for layer in drawn:
            layer.group = layer.group or "group_results"
        out.extend(drawn)
    if visible is not None:
        for layer in out:
            layer.show = layer.show and layer.key in visible
    if datum == "gcj02":
        from ..datum import wgs84_to_gcj02

        out = [shift_layer(layer, wgs84_to_gcj02) for layer in out]
    order = {id(layer): i for i, layer in enumerate(out)}
    return sorted(out, key=lambda layer: (layer.z, order[id(layer)]))


def _layer_bounds(layer: MapLayer) -> tuple[float, float, float, float] | None:
    if isinstance(layer, VectorLayer) and len(layer.gdf):
        b = layer.gdf.total_bounds
        return float(b[1]), float(b[0]), float(b[3]), float(b[2])
    if isinstance(layer, PointLayer) and len(layer.lon):
        return (float(np.min(layer.lat)), float(np.min(layer.lon)), float(np.max(layer.lat)),
                float(np.max(layer.lon)))
    if isinstance(layer, RasterLayer):
        return layer.bounds_latlon()
    return None


#: Grid fills shown one at a time together with the classed district fills.
_GRID_FILLS = frozenset({"hot_spots", "local_morans", "grid_counts", "enterprise_grid"})


def is_classed_fill(layer: MapLayer) -> bool:
    """Whether ``layer`` fills areas by class (choropleth or grid), so only one may be on."""
    if not isinstance(layer, VectorLayer) or not len(layer.gdf):
        return False
    polygons = set(layer.gdf.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    classed = layer.legend is not None and layer.legend.kind == "classed"
    return polygons and (classed or layer.key in _GRID_FILLS)


def one_classed_fill(layers: Sequence[MapLayer]) -> list[MapLayer]:
    """Return ``layers`` with only the first classed fill that is on (as the HTML map shows).

    Static maps (PNG, PDF) have no layer control, so they draw what the interactive map
    shows when it opens: one classed fill, the others left out.

    Examples
    --------
    >>> from cci_geo.maps.layers import RasterLayer
    >>> import numpy as np
    >>> layers = [RasterLayer(name=n, rgba=np.zeros((1, 1, 4), np.uint8),
    ...                       bounds_3857=(0, 0, 1, 1)) for n in ("a", "b")]
    >>> [lyr.name for lyr in one_classed_fill(layers)]  # rasters are not classed fills
    ['a', 'b']
    """
    fills = [layer for layer in layers if layer.show and is_classed_fill(layer)]
    if len(fills) > 1:
        logger.info("static map: drawing the classed fill %r, leaving out %s", fills[0].name,
                    [layer.name for layer in fills[1:]])
    dropped = {id(layer) for layer in fills[1:]}
    return [layer for layer in layers if id(layer) not in dropped]


#: Layer-control groups, in the order they are listed; the others follow in layer order.
GROUP_ORDER = ("group_atlas", "group_results", "lq_sectors", "gi_years")
#: Groups folded in the layer control unless one of their layers starts on.
GROUPS_FOLDED = frozenset({"lq_sectors", "gi_years"})
#: Fewest layers for which the layer control is grouped (a short list reads better flat).
GROUP_MIN_LAYERS = 9


def layer_groups(layers: Sequence[MapLayer], lang: Lang) -> list[tuple[str, bool]]:
    """Return each layer's layer-control group label and whether the group starts unfolded.

    An empty list when the control stays a flat list: fewer than :data:`GROUP_MIN_LAYERS`
    layers, or all of them in one group. Long runs of one kind (a sector per location quotient,
    a year per Gi* layer) get their own group, folded unless one of its layers is on.

    Examples
    --------
    >>> from cci_geo.maps.layers import RasterLayer
    >>> import numpy as np
    >>> def raster(name, group, show=False):
    ...     return RasterLayer(name=name, rgba=np.zeros((1, 1, 4), np.uint8),
    ...                        bounds_3857=(0, 0, 1, 1), show=show, group=group)
    >>> layers = [raster(f"r{i}", "group_atlas", True) for i in range(3)]
    >>> layers += [raster(f"{y}", "gi_years") for y in range(2012, 2018)]
    >>> groups = layer_groups(layers, "en")
    >>> groups[0], groups[-1]
    (('Atlas layers', True), ('Hot spots by year (Gi*)', False))
    >>> layer_groups(layers[:3], "en")
    []
    """
    keys = [layer.group or "group_results" for layer in layers]
    if len(layers) < GROUP_MIN_LAYERS or len(set(keys)) < 2:
        return []
    unfolded = {k for k, layer in zip(keys, layers, strict=True)
                if k not in GROUPS_FOLDED or layer.show}
    return [(label(k, lang), k in unfolded) for k in keys]


def study_region_bounds(atlas: Any, layers: Iterable[MapLayer],  # noqa: ARG001
                        datum: str = "wgs84",  # noqa: ARG001
                        ) -> tuple[float, float, float, float] | None:
    """Return ``(south, west, north, east)`` of all ``layers`` (already in their datum), or None.

    The map draws what it is given; the study region and first view of a briefing come from
    its workflow (``bounds=`` of :func:`briefing_map`).
    """
    boxes = [b for b in (_layer_bounds(layer) for layer in layers) if b is not None]
    if not boxes:
        return None
    arr = np.array(boxes)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()),
            float(arr[:, 3].max()))


def default_title(atlas: Any, lang: Lang) -> str:
    """Return the atlas's name, or a generic briefing title in ``lang`` when it has none.

    Examples
    --------
    >>> import cci_geo
    >>> default_title(cci_geo.load_demo(), "en")
    'Beijing CCI demo atlas'
    >>> default_title(cci_geo.load_demo(), "zh")
    '北京文化创意产业示例图集'
    """
    name = (getattr(atlas, "name_zh", None) if lang == "zh" else None) or getattr(
        atlas, "name", None)
    return str(name) if name else label("briefing_title", lang)


def _view_bounds(bounds: Sequence[float], datum: str) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` in EPSG:4326 -> ``(south, west, north, east)`` in datum."""
    w, s, e, n = (float(v) for v in bounds)
    if not (w < e and s < n):
        msg = ("bounds must be (west, south, east, north) with west < east and south < north, "
               f"got {tuple(bounds)}.")
        raise ParameterError(msg)
    if datum == "gcj02":
        from ..datum import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
        w, e, s, n = float(lon[0]), float(lon[1]), float(lat[0]), float(lat[1])
    return s, w, n, e


def _statuses(prov: Mapping[str, Any]) -> list[str]:
    return [s.strip() for s in str(prov.get("status", "")).split(";") if s.strip()]


def synthetic_note(atlas: Any, results: Sequence[Any], lang: Lang, *,
                   names: Mapping[str, str] | None = None, limit: int | None = None) -> str | None:
    """Return the line flagging synthetic data on a map of ``atlas`` and ``results``, or None.

    It names the atlas's synthetic layers (drawn or not) and the synthetic layers the results
    declare they were computed from (``cci_geo_sources``, see :mod:`cci_geo.maps.sources`),
    followed by the results derived from them — so a density surface of synthetic
    enterprises is flagged on a map that does not draw the enterprises. Results that do not
    declare their inputs are, conservatively, said to share the atlas's synthetic data.
    ``names`` maps result types to the layer names shown on the map; ``limit`` shortens the
    list of derived results to that many names and a count.
    """
    prov = _provenance(atlas)
    kinds = {k for k, p in prov.items() if "synthetic" in _statuses(p)}
    derived: list[str] = []
    undeclared = False
    for part in result_parts(list(results)):
        inputs = synthetic_inputs(part, atlas)
        if inputs is None:
            undeclared = True
            continue
        if inputs:
            kinds.update(inputs)
            key = result_type(part) or "results"
            name = label(key, lang) if key in LABELS else (names or {}).get(key) or \
                label(key, lang)
            if name not in derived:
                derived.append(name)
    if not kinds:
        return None
    sep = "、" if lang == "zh" else ", "
    head = "模拟数据 SYNTHETIC" if lang == "zh" else "SYNTHETIC data"
    text = f"{head}: {sep.join(label(k, lang) for k in sorted(kinds))}"
    if derived:
        shown = sep.join(derived[:limit])
        if limit is not None and len(derived) > limit:
            more = len(derived) - limit
            shown += f" 等另外 {more} 项" if lang == "zh" else f" and {more} more"
        text += (f"；据此计算的结果：{shown}" if lang == "zh" else
                 f"; results computed from it: {shown}")
    if undeclared:
        text += ("（及由其计算的分析结果）" if lang == "zh" else
                 " (and any result computed from it)")
    return text


def _attribution(atlas: Any, lang: Lang, basemap: Basemap, results: Sequence[Any] = (),
                 names: Mapping[str, str] | None = None) -> list[str]:
    """Return short attribution lines: where the provenance is, what is synthetic/approximate."""
    prov = _provenance(atlas)
    sep = "、" if lang == "zh" else ", "
    texts = []
    synthetic = synthetic_note(atlas, results, lang, names=names, limit=3)
    approx = [label(k, lang) for k, p in sorted(prov.items()) if "approximate" in _statuses(p)]
    if synthetic:
        texts.append(synthetic)
    if approx:
        head = "近似位置：" if lang == "zh" else "approximate positions: "
        texts.append(f"{head}{sep.join(approx)}")
    for line in dict.fromkeys(str(p.get("attribution", "")) for _, p in sorted(prov.items())):
        if line:  # required credits (e.g. ODbL) and stated coverage gaps of the layers
            texts.append(credit_text(line, lang))
    if prov:
        texts.append("完整来源见「数据来源」" if lang == "zh" else "full provenance: Data sources")
    today = _dt.date.today().isoformat()
    texts.append(f"cci_geo {__version__}，{today}" if lang == "zh" else
                 f"cci_geo {__version__}, {today}")
    if basemap.datum == "gcj02":
        texts.append("overlays shifted to GCJ-02" if lang == "en" else "叠加图层已转换至 GCJ-02")
    # Leaflet joins attributions with ", "; Chinese text reads them as one, split by "；"
    return ["；".join(texts)] if lang == "zh" else texts


def _sources_table(atlas: Any, lang: Lang, results: Sequence[Any] = ()) -> list[list[str]]:
    """Full provenance rows ``[layer, source, licence, datum, status, notes]``.

    Inputs the results declare but the atlas does not hold get a row too (status as declared,
    notes naming the results computed from them).
    """
    prov = _provenance(atlas)
    rows = []
    for kind, rec in sorted(prov.items()):
        rows.append([label(kind, lang), *(str(rec.get(k, "")) for k in
                                          ("source", "licence", "datum")),
                     status_label(rec.get("status", ""), lang), str(rec.get("notes", ""))])
    extra: dict[str, tuple[str, list[str]]] = {}
    for part in result_parts(list(results)):
        for kind, status in (result_sources(part) or {}).items():
            if kind in prov:
                continue
            name = label(result_type(part) or "results", lang)
            names = extra.setdefault(kind, (status or "unknown", []))[1]
            if name not in names:
                names.append(name)
    head = "计算输入：" if lang == "zh" else "input of: "
    sep = "、" if lang == "zh" else ", "
    for kind, (status, names) in sorted(extra.items()):
        rows.append([label(kind, lang), "", "", "", status_label(status, lang),
                     head + sep.join(names)])
    return rows


def _outline_minimap_layer(atlas: Any) -> str:
    districts = _atlas_layers(atlas).get("districts")
    if districts is None or not len(districts):
        return "L.layerGroup()"
    g = districts.to_crs(4326)
    g = gpd.GeoDataFrame(geometry=g.geometry.simplify(0.005), crs=4326)
    return (f"L.geoJSON({js_json(g.__geo_interface__)}, {{style: {{color: '#4d5b6a', "
            "weight: 1, fillColor: '#dde3ea', fillOpacity: 0.6}})")


def add_to_map(m: folium.Map, *objs: Any, lang: Lang = "zh",
               kind: str | None = None) -> list[MapLayer]:
    """Render ``objs`` with the registry and add them (with legends) to an existing map.

    The new layers are listed in the map's layer control (which is moved after them, so it
    renders last) and their legends follow their visibility.

    Returns
    -------
    list
        The map layers that were added.

    Examples
    --------
    >>> import folium
    >>> import cci_geo
    >>> from cci_geo import maps
    >>> m = folium.Map(location=(39.9, 116.4), zoom_start=9, tiles=None)
    >>> venues = cci_geo.load_demo()["venues"]
    >>> [layer.key for layer in maps.add_to_map(m, venues, lang="en", kind="venues")]
    ['venues']
    """
    layers: list[MapLayer] = []
    for obj in objs:
        layers.extend(render(obj, kind=kind, lang=lang))
    for layer in sorted(layers, key=lambda lyr: lyr.z):
        add_layer(m, layer)
    note = synthetic_note({}, objs, lang)
    if note:  # results computed from synthetic data say so, whatever the map showed before
        add_script(m, f"cciGeo.attribution({{map}}, {js_json([note])});")
    return layers


def briefing_map(atlas: Any, *results: Any, lang: Lang = "zh", basemap: str = "none",
                 title: str | None = None, subtitle: str | None = None,
                 bounds: Sequence[float] | None = None, tianditu_key: str | None = None,
                 notes: Sequence[str] = (), show: Iterable[str] | None = None) -> folium.Map:
    """Return a briefing map of ``atlas`` and analysis ``results``.

    Parameters
    ----------
    atlas
        A :class:`cci_geo.atlas.Atlas` (or a mapping of layer kind -> GeoDataFrame).
    *results
        GeoDataFrames and Surfaces returned by the analysis modules (or containers of them);
        each is drawn by the renderer registered for its result kind
        (:func:`cci_geo.results.result_kind`).
    lang
        ``"zh"`` or ``"en"``: language of every label, legend and popup.
    basemap
        ``"none"`` (offline, default), ``"osm"``, ``"cartodb"``, ``"gaode"`` (overlays are
        shifted to GCJ-02) or ``"tianditu"`` (needs ``tianditu_key`` or ``TIANDITU_KEY``).
    title, subtitle
        Shown top left (default: the atlas's name, else a generic title; "Planning briefing
        map" in ``lang``).
    bounds
        First view ``(west, south, east, north)`` in EPSG:4326 (default: all drawn layers).
    tianditu_key
        Tianditu developer key.
    notes
        Lines shown under the data sources (e.g. analyses that were skipped).
    show
        Layer kinds / result types switched on when the map opens; every other layer is
        listed in the layer control, off. By default the atlas layers in
        :data:`ATLAS_VISIBLE` and every result (as its renderer chooses) are on;
        ``cci-geo briefing`` passes :data:`BRIEFING_VISIBLE`.

    Returns
    -------
    folium.Map
        With a layer control, legends, scale bar, fullscreen button, minimap and measure
        tool, zoomed to ``bounds`` (or to all layers), and the data provenance in the
        attribution.

    Raises
    ------
    ValueError
        For an unknown ``lang`` or ``basemap``, Tianditu without a key, or bounds that are not
        ``(west, south, east, north)``.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import concentration as cc, maps
    >>> atlas = cci_geo.load_demo()
    >>> hot = cc.hot_spots(cc.grid_counts(atlas["enterprises"], 5000), "count")
    >>> m = maps.briefing_map(atlas, hot, lang="en", title="Hot spots")
    >>> type(m).__name__
    'BriefingFoliumMap'
    """
    lang = check_lang(lang)
    base = get_basemap(basemap)
    datum = "gcj02" if base.datum == "gcj02" else "wgs84"
    visible = None if show is None else frozenset(show)
    layers = briefing_layers(atlas, *results, lang=lang, datum=datum, visible=visible)
    view = _view_bounds(bounds, datum) if bounds is not None else \
        study_region_bounds(atlas, layers, datum=datum) or (-60.0, -170.0, 75.0, 170.0)
    center = [(view[0] + view[2]) / 2, (view[1] + view[3]) / 2]
    m = BriefingFoliumMap(location=center, zoom_start=9, tiles=None, control_scale=False,
                          max_zoom=base.max_zoom, zoom_snap=0.25)
    add_basemap(m, base, tianditu_key=tianditu_key, lang=lang)
    elements = [add_layer(m, layer) for layer in layers]
    fills = [el.get_name() for el, layer in zip(elements, layers, strict=True)
             if is_classed_fill(layer)]
    if len(fills) > 1:  # one classed fill at a time: they would stack and hide each other
        add_script(m, f"cciGeo.exclusive({{map}}, [{', '.join(fills)}]);")
    groups = layer_groups(layers, lang)
    if groups:
        entries = ", ".join(f"[{el.get_name()}, {js_json(group)}, {'true' if is_open else 'false'}]"
                            for el, (group, is_open) in zip(elements, groups, strict=True))
        add_script(m, f"cciGeo.groups({{map}}, [{entries}]);")
    names: dict[str, str] = {}
    for layer in layers:
        names.setdefault(layer.key, layer.name)
    full = synthetic_note(atlas, results, lang, names=names)
    if full and results:  # the whole list in the Data sources panel; the attribution is short
        notes = [*notes, full]
    main = title or default_title(atlas, lang)
    sub = subtitle or label("briefing_subtitle", lang)
    add_script(m, f"cciGeo.title({{map}}, {js_json(main)}, {js_json(sub)});")
    add_script(m, f"cciGeo.attribution({{map}}, "
                  f"{js_json(_attribution(atlas, lang, base, results, names))});")
    heads = (["图层", "来源", "许可", "坐标系", "状态", "说明"] if lang == "zh" else
             ["Layer", "Source", "Licence", "Datum", "Status", "Notes"])
    add_script(m, f"cciGeo.sources({{map}}, {js_json(label('data_sources', lang))}, "
                  f"{js_json(heads)}, {js_json(_sources_table(atlas, lang, results))}, "
                  f"{js_json(list(notes))});")
    add_script(m, "cciGeo.scale({map});")
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    plugins.Fullscreen(position="topleft").add_to(m)
    plugins.MeasureControl(position="topleft", primary_length_unit="kilometers",
                           secondary_length_unit="meters", primary_area_unit="hectares").add_to(m)
    _minimap(m, atlas, base, tianditu_key)
    m.fit_bounds([[view[0], view[1]], [view[2], view[3]]])
    logger.info("briefing map with %d layers (lang=%s, basemap=%s)", len(layers), lang,
                base.name)
    return m


class _VectorMiniMap(plugins.MiniMap):
    """leaflet-minimap showing a vector layer (district outlines) instead of tiles."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.MiniMap(
                {{ this.layer_js }}, {{ this.options|tojavascript }});
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}""")

    def __init__(self, layer_js: str, **kwargs: Any) -> None:
        # the parent keeps a tile layer object; this template never renders it
        super().__init__(tile_layer=folium.TileLayer(tiles="about:blank", attr=" ",
                                                     name="minimap"), **kwargs)
        self.layer_js = layer_js


def _minimap(m: folium.Map, atlas: Any, base: Basemap, tianditu_key: str | None) -> None:
    opts = {"position": "bottomleft", "toggle_display": True, "zoom_level_offset": -4,
            "width": 150, "height": 130}
    if base.offline:
        _VectorMiniMap(_outline_minimap_layer(atlas), **opts).add_to(m)
        return
    key = tianditu_key or os.environ.get("TIANDITU_KEY", "")
    tiles = base.tiles[0].replace("{key}", key)
    plugins.MiniMap(tile_layer=folium.TileLayer(tiles=tiles, attr=base.attribution,
                                                subdomains=base.subdomains), **opts).add_to(m)
