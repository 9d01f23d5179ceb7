"""Maps of the CCI atlas and analysis results: folium briefings, offline HTML, static PNG.

The main entry points are :func:`briefing_map` (a folium map of an atlas and any analysis
results), :func:`save_html` (one self-contained file that opens offline) and
:func:`save_png` (a printable static map). How each layer kind and each analysis result is
drawn is decided by the renderer registry (:mod:`cci_geo.maps.registry`): register a
renderer for a new result kind (:func:`cci_geo.results.result_kind`) with
:func:`register_renderer` and every map writer draws it. A result records the layers it
was computed from with :func:`derived_from`, so a map of results derived from synthetic data
says so even without the synthetic layer.
"""

from __future__ import annotations

from . import render_layers as _render_layers  # noqa: F401  (registers renderers)
from . import render_monitoring as _render_monitoring  # noqa: F401  (registers renderers)
from . import render_results as _render_results  # noqa: F401  (registers renderers)
from .basemaps import BASEMAPS, Basemap, get_basemap
from .briefing import add_to_map, briefing_layers, briefing_map
from .export import AssetError, save_html
from .labels import label
from .layers import Legend, LegendItem, MapLayer, PointLayer, RasterLayer, VectorLayer
from .registry import register_renderer, registered, render, renderer_for, result_type
from .sources import derived_from, result_sources, synthetic_inputs
from .static import save_png
from .whatif import save_whatif_html, whatif_map

__all__ = [
    "BASEMAPS",
    "AssetError",
    "Basemap",
    "Legend",
    "LegendItem",
    "MapLayer",
    "PointLayer",
    "RasterLayer",
    "VectorLayer",
    "add_to_map",
    "briefing_layers",
    "briefing_map",
    "derived_from",
    "get_basemap",
    "label",
    "register_renderer",
    "registered",
    "render",
    "renderer_for",
    "result_sources",
    "result_type",
    "save_html",
    "save_png",
    "save_whatif_html",
    "synthetic_inputs",
    "whatif_map",
]
