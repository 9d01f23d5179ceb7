"""Draw :mod:`cci_geo.maps.layers` objects on a folium map.

Data never reaches the page as HTML: it is embedded as JSON in which ``<``, ``>`` and ``&``
are escaped (so ``</script>`` in a name cannot end the script), and ``cci_geo_maps.js``
builds tooltips, popups and legends with ``textContent``. Layer names shown in Leaflet's
layer control (which inserts them as HTML) are HTML-escaped here.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import zlib
from importlib import resources
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement
from jinja2 import Template

from ..errors import ParameterTypeError
from ._pointdata import points_payload
from .layers import STYLE_COLUMNS, Legend, MapLayer, PointLayer, RasterLayer, VectorLayer

__all__ = ["BriefingFoliumMap", "add_layer", "asset_text", "controls_last", "js_json"]

_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
            "\u2029": "\\u2029"}


_TEMPLATE_OPENER = re.compile(r"\{(?=[{%#])")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    return value


def js_json(obj: Any, *, clean: bool = True) -> str:
    """Return ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    NaN/inf become ``null`` (pass ``clean=False`` when ``obj`` holds only plain Python
    values already); ``<``, ``>``, ``&``, U+2028 and U+2029 are written as ``\\uXXXX``
    escapes, so no string can close the script or open a comment.

    Examples
    --------
    >>> print(js_json({"share": float("nan"), "name": "</script>"}))
    {"share":null,"name":"\\u003c/script\\u003e"}
    """
    text = json.dumps(_clean(obj) if clean else obj, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
    for char, esc in _ESCAPES.items():
        if char in text:
            text = text.replace(char, esc)
    # A structural "{" is always followed by '"' or "}", so "{{", "{%" and "{#" only occur
    # inside strings; escaping them keeps data from ever reading as template syntax.
    return _TEMPLATE_OPENER.sub(r"\\u007b", text)


#: How point layers are drawn: ``"webgl"`` (typed-array payload, GPU drawing, aggregated when
#: zoomed out, the canvas layer as fallback without WebGL) or ``"canvas"`` (the JSON payload
#: and the 2D canvas layer, kept for comparison in ``benchmarks/bench_maps.py``).
POINT_ENGINE = "webgl"

#: JSON payloads larger than this are zlib-compressed and base64-encoded in the page.
COMPRESS_ABOVE = 64_000


def js_payload(obj: Any, *, clean: bool = True) -> str:
    """Return a JavaScript expression evaluating to ``obj``; large data is compressed.

    Base64 text cannot contain markup, so compressed data is as inert as escaped JSON.
    """
    text = js_json(obj, clean=clean)
    if len(text) <= COMPRESS_ABOVE:
        return text
    packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 1)).decode("ascii")
    return f'cciGeo.unpack("{packed}")'


def asset_text(name: str) -> str:
    """Return the text of a file shipped in ``cci_geo/maps/assets``.

    Examples
    --------
    >>> "cciGeo" in asset_text("cci_geo_maps.js")
    True
    """
    folder = resources.files("cci_geo.maps").joinpath("assets")
    return folder.joinpath(name).read_text(encoding="utf-8")


class _Raw(Element):
    """Literal HTML (no template compilation of large strings)."""

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class CciAssets(MacroElement):
    """Inline cci_geo's own map script and stylesheet, pako, and Leaflet's default icons."""

    _template = Template("")

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the inline scripts and style to the page header (once per figure)."""
        figure = self.get_root()
        if isinstance(figure, Figure):
            js = asset_text("cci_geo_maps.js").replace("</", "<\\/")
            js += "\n" + asset_text("cci_geo_points.js").replace("</", "<\\/")
            pako = asset_text("pako_inflate.min.js").replace("</", "<\\/")
            icons = asset_text("leaflet-marker-icons.json")
            figure.header.add_child(
                _Raw(f"<script>{pako}</script>\n<script>{js}\n"
                     f"cciGeo.setDefaultIcons({icons});</script>"), name="cci_geo_maps_js")
            figure.header.add_child(_Raw(f"<style>{asset_text('cci_geo_maps.css')}</style>"),
                                    name="cci_geo_maps_css")
        super().render(**kwargs)


def _render_raw(element: MacroElement, **kwargs: Any) -> None:
    """Render ``element``'s script macro into the figure without re-parsing it as a template.

    branca's ``MacroElement.render`` wraps the rendered script in a new ``Element``, which
    compiles it as a Jinja template again: slow for megabytes of data, and any ``{{`` in the
    data would be evaluated. Here the output is added as literal text.
    """
    figure = element.get_root()
    module = element._template.module
    if isinstance(figure, Figure) and hasattr(module, "script"):
        figure.script.add_child(_Raw(module.script(element, kwargs)), name=element.get_name())
    for child in list(element._children.values()):
        child.render(**kwargs)


class _Script(MacroElement):
    """A script run after the map is created; ``code`` may use ``{map}``."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "CciScript"
        self.raw = code

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Substitute the map's variable name and add the script."""
        assert self._parent is not None, "add the script to a map first"
        self.code = self.raw.replace("{map}", self._parent.get_name())
        _render_raw(self, **kwargs)


class _JsLayer(folium.map.Layer):
    """A Leaflet layer built by a JavaScript expression ``js`` (shown in the layer control)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.js }};
        {% if this.legend %}cciGeo.legend({{ this._parent.get_name() }},
            {{ this.get_name() }}, {{ this.legend }});{% endif %}
        {% endmacro %}""")

    def __init__(self, js: str, *, name: str, legend: Legend | None, show: bool) -> None:
        # Leaflet's layer control inserts names as HTML; folium renders them through Jinja
        safe = html.escape(name).replace("{", "&#123;").replace("}", "&#125;")
        super().__init__(name=safe, overlay=True, control=True, show=show)
        self._name = "CciLayer"
        self.js = js
        self.legend = js_json(legend.to_json()) if legend else ""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the layer's script (and its add-to-map call when shown) as literal text."""
        assert self._parent is not None, "add the layer to a map first"
        if self.show:
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        _render_raw(self, **kwargs)


#: Point layers with at least this many features hide markers that would overlap on screen
#: (closer than ``DECLUTTER_PX`` pixels) until the map is zoomed in far enough.
DECLUTTER_ABOVE = 20
DECLUTTER_PX = 9

#: Polygon/line layers with more vertices than this are simplified for display (about 3 m).
SIMPLIFY_ABOVE = 20_000
SIMPLIFY_TOLERANCE_DEG = 0.00003


def _display_geometries(gdf: Any) -> Any:
    """Round coordinates to 1e-6 degrees; simplify very detailed polygons and lines."""
    geoms = gdf.geometry.values
    if shapely.get_num_coordinates(geoms).sum() > SIMPLIFY_ABOVE:
        geoms = shapely.simplify(geoms, SIMPLIFY_TOLERANCE_DEG, preserve_topology=True)
    return shapely.transform(geoms, lambda c: np.round(c, 6))


def _geojson(layer: VectorLayer) -> dict[str, Any]:
    gdf = layer.gdf
    data_cols = [c for c in gdf.columns if c != "geometry" and c not in STYLE_COLUMNS]
    style_cols = [c for c in STYLE_COLUMNS if c in gdf.columns]
    geoms = _display_geometries(gdf)
    records = gdf[data_cols].to_dict("records") if data_cols else [{}] * len(gdf)
    styles = gdf[style_cols].to_dict("records") if style_cols else [{}] * len(gdf)
    features = []
    for geom, props, style in zip(geoms, records, styles, strict=True):
        props = {k: _clean(v) for k, v in props.items()}
        props["_s"] = {STYLE_COLUMNS[k]: _clean(v) for k, v in style.items()
                       if _clean(v) is not None}
        features.append({"type": "Feature", "properties": props,
                         "geometry": None if geom is None else geom.__geo_interface__})
    return {"type": "FeatureCollection", "features": features}


def _morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return the permutation that sorts integer points along a Z-order curve."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64) & np.uint64(0xFFFFFFFF)
        for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                            (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                            (1, 0x5555555555555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v
    gx = (x - x.min()) >> 4 if len(x) else x
    gy = (y - y.min()) >> 4 if len(y) else y
    return np.argsort(spread(gx) | (spread(gy) << np.uint64(1)), kind="stable")


def _plain(values: np.ndarray) -> list[Any]:
    """Return ``values`` as JSON-ready Python values (NaN -> None, whole floats -> int)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return arr.tolist()
    if arr.dtype.kind == "f":
        arr = np.round(arr, 2)
        finite = np.isfinite(arr)
        whole = finite & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
        out = np.where(whole, arr, 0).astype(np.int64).tolist()
        if whole.all():
            return out
        return [o if w else (float(v) if f else None)
                for o, w, f, v in zip(out, whole.tolist(), finite.tolist(), arr.tolist(),
                                      strict=True)]
    return [None if v is None or (isinstance(v, float) and v != v) else str(v)
            for v in arr.tolist()]


def _points_payload(layer: PointLayer) -> dict[str, Any]:
    """Columnar data: Z-ordered, delta-encoded integer coordinates (1e-5 degrees, about 1 m)."""
    scale = 100_000
    lon = np.round(np.asarray(layer.lon, float) * scale).astype(np.int64)
    lat = np.round(np.asarray(layer.lat, float) * scale).astype(np.int64)
    order = _morton_order(lon, lat)
    lon, lat = lon[order], lat[order]
    x0, y0 = (int(lon[0]), int(lat[0])) if len(lon) else (0, 0)
    category = np.asarray(layer.category, int)[order]
    fields: list[dict[str, Any]] = []
    for lab, values in layer.fields:
        if isinstance(values, tuple):
            codes, cats = values
            codes = np.asarray(codes)[order]
            if np.array_equal(codes, category):
                fields.append({"label": lab, "values": "cat", "codes": list(cats)})
            else:
                fields.append({"label": lab, "values": codes.tolist(), "codes": list(cats)})
        else:
            fields.append({"label": lab, "values": _plain(np.asarray(values)[order])})
    title = None
    if layer.title is not None:
        names = np.asarray(layer.title, dtype=object)[order]
        title = {"values": _plain(names)}
    return {"x0": x0 / scale, "y0": y0 / scale, "scale": scale,
            "x": np.diff(lon, prepend=x0).tolist(), "y": np.diff(lat, prepend=y0).tolist(),
            "cat": category.tolist(), "colors": list(layer.colors), "fields": fields,
            "title": title}


def _png_data_uri(rgba: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    image = Image.fromarray(np.ascontiguousarray(rgba, dtype=np.uint8), "RGBA")
    image.save(buf, "PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def add_layer(m: folium.Map, layer: MapLayer) -> folium.map.Layer:
    """Add one map layer (with its legend) to ``m`` and return the folium element.

    Examples
    --------
    >>> import folium, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from cci_geo.maps.layers import VectorLayer
    >>> places = gpd.GeoDataFrame({"name": ["798 Art District"]}, crs="EPSG:4326",
    ...                           geometry=[Point(116.495, 39.984)])
    >>> m = folium.Map(tiles=None)
    >>> element = add_layer(m, VectorLayer("Art districts", places, fields=(("name", "Name"),),
    ...                                    title_column="name"))
    >>> element.layer_name, "798 Art District" in m.get_root().render()
    ('Art districts', True)
    """
    ensure_assets(m)
    if isinstance(layer, VectorLayer):
        opts: dict[str, Any] = {"fields": [list(f) for f in layer.fields],
                                "titleKey": layer.title_column}
        types = set(layer.gdf.geometry.geom_type) if len(layer.gdf) else set()
        if types and types <= {"LineString", "MultiLineString"}:
            opts["pane"] = "cciLines"
        if types and types <= {"Point"} and len(layer.gdf) >= DECLUTTER_ABOVE:
            opts["declutterPx"] = DECLUTTER_PX
        js = f"cciGeo.features({js_payload(_geojson(layer), clean=False)}, {js_json(opts)})"
        element = _JsLayer(js, name=layer.name, legend=layer.legend, show=layer.show)
    elif isinstance(layer, PointLayer):
        if POINT_ENGINE == "webgl":
            meta, blobs = points_payload(layer)
            # base64 has no quote, backslash or markup: the blobs go in as they are
            packed = '","'.join(blobs)
            js = (f"cciGeo.glPoints({js_json(meta, clean=False)}, [\"{packed}\"], "
                  f"{js_json({'radius': layer.radius})})")
        else:
            js = (f"cciGeo.points({js_payload(_points_payload(layer), clean=False)}, "
                  f"{js_json({'radius': layer.radius})})")
        element = _JsLayer(js, name=layer.name, legend=layer.legend, show=layer.show)
    elif isinstance(layer, RasterLayer):
        s, w, n, e = layer.bounds_latlon()
        url = _png_data_uri(layer.rgba)
        js = (f"L.imageOverlay({js_json(url)}, [[{s}, {w}], [{n}, {e}]], "
              f"{js_json({'opacity': layer.opacity, 'interactive': False})})")
        element = _JsLayer(js, name=layer.name, legend=layer.legend, show=layer.show)
    else:
        msg = f"layer must be a VectorLayer, PointLayer or RasterLayer, got {type(layer).__name__}."
        raise ParameterTypeError(msg)
    element.add_to(m)
    controls_last(m)
    return element


def controls_last(m: folium.Map) -> None:
    """Move ``m``'s layer controls after every other child, so they render last.

    A ``folium.LayerControl`` lists the layers of its map when it renders, but its script runs
    where it sits in the page: a layer added after the control would be referenced before its
    variable is defined (``Cannot read properties of undefined (reading 'setZIndex')``).

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> _ = folium.LayerControl().add_to(m)
    >>> _ = folium.FeatureGroup(name="parks").add_to(m)
    >>> controls_last(m)
    >>> [type(child).__name__ for child in m._children.values()]
    ['FeatureGroup', 'LayerControl']
    """
    children = m._children
    controls = [k for k, v in children.items() if isinstance(v, folium.LayerControl)]
    for key in controls:
        children[key] = children.pop(key)


class BriefingFoliumMap(folium.Map):
    """A ``folium.Map`` whose layer control always renders after every layer.

    Layers added with folium after the control (``folium.GeoJson(...).add_to(m)``) then
    appear in it and the page has no script error.
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Move the layer controls last, then render as ``folium.Map`` does."""
        controls_last(self)
        super().render(**kwargs)


def ensure_assets(m: folium.Map) -> None:
    """Add the :class:`CciAssets` element to ``m`` once."""
    if not any(isinstance(c, CciAssets) for c in m._children.values()):
        CciAssets().add_to(m)


def add_script(m: folium.Map, code: str) -> None:
    """Run JavaScript ``code`` (which may refer to the map as ``{map}``) after map creation."""
    ensure_assets(m)
    _Script(code).add_to(m)
