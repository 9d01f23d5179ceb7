"""The renderer registry: how a layer kind or an analysis result becomes map layers.

This is the extension point of :mod:`cci_geo.maps`. Analysis modules mark what they return
with :func:`cci_geo.results.tag_result` (``attrs`` of a frame, ``tags`` of a
:class:`~cci_geo.raster.Surface`) and the registry reads it back with
:func:`cci_geo.results.result_kind`, which also recognises a result whose tag a pandas merge
dropped by its signature columns; atlas layers are known by their kind
(``"districts"``, ``"enterprises"`` ...). A renderer is a function registered under one or
more of those names::

    from cci_geo.maps import register_renderer, VectorLayer

    @register_renderer("noise_contours")
    def render_noise(gdf, *, lang, name=None):
        return [VectorLayer(name or "Noise", gdf.to_crs(4326), ...)]

and every map writer (``briefing_map``, ``add_to_map``, ``save_png``) then draws that result
with no other change. A new result type never touches the other renderers. Objects with no
registered renderer fall back to a generic one chosen by geometry type, with a logged note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd

from ..errors import ParameterError, ParameterTypeError
from ..raster import Surface
from ..results import RESULT_KEY, result_kind
from .labels import Lang, check_lang
from .layers import MapLayer

__all__ = [
    "Renderer",
    "register_renderer",
    "registered",
    "render",
    "renderer_for",
    "result_parts",
    "result_type",
]

logger = logging.getLogger(__name__)

Renderer = Callable[..., list[MapLayer]]

_RENDERERS: dict[str, Renderer] = {}


def register_renderer(*names: str, replace: bool = False) -> Callable[[Renderer], Renderer]:
    """Register a renderer for layer kinds or result types (a decorator).

    Parameters
    ----------
    *names
        Layer kinds (``"venues"``) and/or result kinds (``"hot_spots"``).
    replace
        Allow replacing a renderer that is already registered under one of ``names``.

    Returns
    -------
    callable
        A decorator that registers the function and returns it unchanged. The function is
        called as ``renderer(obj, *, lang, name)`` and returns a list of map layers
        (:class:`~cci_geo.maps.layers.VectorLayer`, ``PointLayer`` or ``RasterLayer``).

    Raises
    ------
    ValueError
        If no name is given, or a name is taken and ``replace`` is false.

    Examples
    --------
    >>> from cci_geo.maps import VectorLayer
    >>> @register_renderer("noise_contours_example", replace=True)
    ... def render_noise(gdf, *, lang, name=None):
    ...     return [VectorLayer(name or "Noise", gdf.to_crs(4326))]
    >>> renderer_for("noise_contours_example") is render_noise
    True
    """
    if not names:
        msg = "register_renderer needs at least one layer kind or result type name."
        raise ParameterError(msg)

    def decorator(func: Renderer) -> Renderer:
        for key in names:
            if key in _RENDERERS and not replace and _RENDERERS[key] is not func:
                msg = (f"a renderer for {key!r} is already registered "
                       f"({_RENDERERS[key].__module__}.{_RENDERERS[key].__name__}); "
                       "pass replace=True to override it.")
                raise ParameterError(msg)
            _RENDERERS[key] = func
        return func
    return decorator


def registered() -> list[str]:
    """Return the sorted names that have a renderer.

    Examples
    --------
    >>> {"hot_spots", "kernel_density", "venues"} <= set(registered())
    True
    """
    return sorted(_RENDERERS)


def renderer_for(name: str) -> Renderer | None:
    """Return the renderer registered under ``name``, or None.

    Examples
    --------
    >>> renderer_for("hot_spots").__name__, renderer_for("no_such_kind")
    ('render_hot_spots', None)
    """
    return _RENDERERS.get(name)


def result_type(obj: Any) -> str | None:
    """Return the result kind / layer kind of ``obj``, or None.

    The tag set by :func:`cci_geo.results.tag_result` wins, then a layer kind in ``attrs``
    (``"cci_geo_kind"`` or ``"kind"``), then an attribute named like the tag, and last the
    result kind recognised from the frame's signature columns (so a hot-spot table merged
    with another frame is still drawn as hot spots).

    Examples
    --------
    >>> import pandas as pd
    >>> from cci_geo.results import tag_result
    >>> hot = tag_result(pd.DataFrame({"id": [1], "gi_z": [3.1], "gi_p": [0.002],
    ...                                "gi_class": ["hot spot 99%"]}), "hot_spots")
    >>> result_type(hot.merge(pd.DataFrame({"id": [1], "name": ["798"]}), on="id"))
    'hot_spots'
    """
    tagged = result_kind(obj, guess=False)
    if tagged:
        return tagged
    attrs = getattr(obj, "attrs", None)
    if isinstance(attrs, dict):
        for key in ("cci_geo_kind", "kind"):
            value = attrs.get(key)
            if isinstance(value, str) and value:
                return value
    value = getattr(obj, RESULT_KEY, None)
    if isinstance(value, str) and value:
        return value
    return result_kind(obj)


def _fallback(obj: Any) -> str:
    if isinstance(obj, Surface):
        return "surface"
    if isinstance(obj, gpd.GeoDataFrame):
        kinds = set(obj.geometry.geom_type.dropna().unique())
        if kinds and kinds <= {"Point", "MultiPoint"}:
            return "points"
        if kinds and kinds <= {"LineString", "MultiLineString"}:
            return "lines"
        return "polygons"
    msg = (f"cannot map an object of type {type(obj).__name__}; pass a GeoDataFrame, a "
           "Surface, or an object whose parts are (register a renderer for new types).")
    raise ParameterTypeError(msg)


def render(obj: Any, *, kind: str | None = None, lang: Lang = "en",
           name: str | None = None) -> list[MapLayer]:
    """Return the map layers for ``obj`` using the registered renderer.

    Parameters
    ----------
    obj
        A GeoDataFrame, a Surface, or a container (tuple, list, dict, or an object with a
        ``to_map_parts()`` method) of those; containers are rendered part by part.
    kind
        Layer kind or result type to use instead of the one ``obj`` declares.
    lang
        ``"zh"`` or ``"en"``.
    name
        Layer name overriding the renderer's default.

    Returns
    -------
    list
        Map layers in drawing order.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import concentration as cc
    >>> grid = cc.grid_counts(cci_geo.load_demo()["enterprises"], 5000)
    >>> [layer.key for layer in render(cc.hot_spots(grid, "count"))]
    ['hot_spots']
    """
    lang = check_lang(lang)
    if isinstance(obj, dict):
        return [lyr for part in obj.values() for lyr in render(part, lang=lang)]
    if isinstance(obj, (list, tuple)):
        return [lyr for part in obj for lyr in render(part, lang=lang)]
    key = kind or result_type(obj)
    if key is None and hasattr(obj, "to_map_parts"):
        return render(list(obj.to_map_parts()), lang=lang)
    if key is None and not isinstance(obj, (gpd.GeoDataFrame, Surface)):
        parts = _object_parts(obj)
        if parts:
            return render(parts, lang=lang)
    if isinstance(obj, gpd.GeoDataFrame) and len(obj) == 0:
        logger.info("nothing to draw for empty %s", key or "GeoDataFrame")
        return []
    func = _RENDERERS.get(key) if key else None
    if func is None:
        fallback = _fallback(obj)
        if key is not None:
            logger.info("no renderer registered for %r; drawing it as generic %s", key, fallback)
        func = _RENDERERS[fallback]
    layers = list(func(obj, lang=lang, name=name))
    for layer in layers:  # remember what produced each layer (the briefing's visibility rules)
        layer.key = layer.key or (key if key in _RENDERERS else _fallback(obj))
    return layers


def result_parts(obj: Any) -> list[Any]:
    """Return the parts of ``obj`` (GeoDataFrames, Surfaces) that :func:`render` would draw.

    Examples
    --------
    >>> import pandas as pd
    >>> a, b = pd.DataFrame({"x": [1]}), pd.DataFrame({"y": [2]})
    >>> len(result_parts({"a": a, "b": [b]}))
    2
    """
    if isinstance(obj, dict):
        return [p for part in obj.values() for p in result_parts(part)]
    if isinstance(obj, (list, tuple)):
        return [p for part in obj for p in result_parts(part)]
    if result_type(obj) is None and hasattr(obj, "to_map_parts"):
        return result_parts(list(obj.to_map_parts()))
    if result_type(obj) is None and not isinstance(obj, (gpd.GeoDataFrame, Surface)):
        parts = _object_parts(obj)
        if parts:
            return result_parts(parts)
    return [obj]


def _object_parts(obj: Any) -> list[Any]:
    """Return the GeoDataFrame/Surface attributes of a result object (e.g. a dataclass)."""
    names: Iterable[str] = getattr(obj, "__dataclass_fields__", None) or vars(obj) \
        if hasattr(obj, "__dict__") or hasattr(obj, "__dataclass_fields__") else ()
    parts = []
    for attr in names:
        value = getattr(obj, attr, None)
        if isinstance(value, (gpd.GeoDataFrame, Surface)) and result_type(value):
            parts.append(value)
    return parts
