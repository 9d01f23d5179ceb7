"""Static maps for printed reports: the briefing's layers drawn with matplotlib.

The same renderers as the interactive briefing produce the layers, so colours and legends
match. Chinese labels need a CJK font (:mod:`cci_geo.maps.fonts`); without one a
:class:`~cci_geo.maps.fonts.MissingFontWarning` names the fix.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle

from .. import __version__
from .._files import atomic_path
from ..errors import ParameterError
from .briefing import briefing_layers, default_title, one_classed_fill, study_region_bounds
from .fonts import cjk_font, font_context
from .labels import Lang, check_lang, label
from .layers import Legend, MapLayer, PointLayer, RasterLayer, VectorLayer, _lonlat_to_merc

__all__ = ["cjk_font", "draw_map", "map_extent", "save_png"]

logger = logging.getLogger(__name__)

def _style_arrays(layer: VectorLayer, col: str, default: Any) -> np.ndarray:
    if col in layer.gdf.columns:
        values = layer.gdf[col].to_numpy(dtype=object)
        return np.array([default if v is None or (isinstance(v, float) and math.isnan(v))
                         else v for v in values], dtype=object)
    return np.full(len(layer.gdf), default, dtype=object)


def _draw_vector(ax: Any, layer: VectorLayer) -> None:
    g = layer.gdf.to_crs(3857)
    color = _style_arrays(layer, "_color", "#3388ff")
    fill = _style_arrays(layer, "_fill", None)
    fill = np.where(fill == None, color, fill)  # noqa: E711  (object array comparison)
    weight = _style_arrays(layer, "_weight", 1.0).astype(float)
    fop = _style_arrays(layer, "_fill_opacity", 0.2).astype(float)
    radius = _style_arrays(layer, "_radius", 5.0).astype(float)
    gtype = g.geometry.geom_type.to_numpy()
    poly = np.isin(gtype, ["Polygon", "MultiPolygon"])
    line = np.isin(gtype, ["LineString", "MultiLineString"])
    point = np.isin(gtype, ["Point", "MultiPoint"])
    if poly.any():
        face = [mpl.colors.to_rgba(c, a) for c, a in zip(fill[poly], fop[poly], strict=True)]
        g[poly].plot(ax=ax, facecolor=face, edgecolor=list(color[poly]),
                     linewidth=list(weight[poly] * 0.6), zorder=layer.z)
    if line.any():
        g[line].plot(ax=ax, color=list(color[line]), linewidth=list(weight[line] * 0.6),
                     zorder=layer.z)
    if point.any():
        pts = g[point].geometry.representative_point()
        face = [mpl.colors.to_rgba(c, a) for c, a in zip(fill[point], fop[point], strict=True)]
        ax.scatter(pts.x, pts.y, s=(radius[point] * 1.1) ** 2, c=face,
                   edgecolors=list(color[point]), linewidths=list(weight[point] * 0.5),
                   zorder=layer.z)
    if layer.labels_column and layer.labels_column in g.columns and poly.any():
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        for geom, text in zip(g.geometry, g[layer.labels_column], strict=True):
            p = geom.representative_point()
            if x0 <= p.x <= x1 and y0 <= p.y <= y1 and text:
                ax.annotate(str(text), (p.x, p.y), fontsize=6.5, color="#3c4650", ha="center",
                            va="center", zorder=90)


def _draw(ax: Any, layer: MapLayer) -> None:
    if isinstance(layer, VectorLayer):
        _draw_vector(ax, layer)
    elif isinstance(layer, PointLayer):
        x, y = _lonlat_to_merc(np.asarray(layer.lon, float), np.asarray(layer.lat, float))
        colors = np.asarray(layer.colors, dtype=object)[np.asarray(layer.category, int)]
        ax.scatter(x, y, s=0.6 if len(x) > 20_000 else 2.0, c=list(colors), linewidths=0,
                   alpha=0.7, zorder=layer.z, rasterized=True)
    elif isinstance(layer, RasterLayer):
        xmin, ymin, xmax, ymax = layer.bounds_3857
        ax.imshow(layer.rgba, extent=(xmin, xmax, ymin, ymax), alpha=layer.opacity,
                  zorder=layer.z, interpolation="bilinear")


def _nice_length(max_m: float) -> float:
    for step in (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100):
        if step <= max_m:
            return float(step)
    return 50.0


def _furniture(ax: Any, lang: Lang, bounds_merc: tuple[float, float, float, float],
               bold: str = "bold") -> None:
    xmin, ymin, xmax, ymax = bounds_merc
    lat = math.degrees(2 * math.atan(math.exp((ymin + ymax) / 2 / 6378137.0)) - math.pi / 2)
    k = math.cos(math.radians(lat))  # ground metres per Web Mercator metre
    length_m = _nice_length((xmax - xmin) * k * 0.25)
    bar = length_m / k
    x0, y0 = xmin + (xmax - xmin) * 0.04, ymin + (ymax - ymin) * 0.04
    h = (ymax - ymin) * 0.008
    for i in range(2):
        ax.add_patch(Rectangle((x0 + i * bar / 2, y0), bar / 2, h, zorder=95,
                               facecolor="#222222" if i == 0 else "#ffffff", edgecolor="#222222"))
    unit = "公里" if lang == "zh" else "km"
    text = f"{length_m / 1000:g} {unit}" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(x0, y0 + 2.2 * h, "0", fontsize=7, ha="center", zorder=95)
    ax.text(x0 + bar, y0 + 2.2 * h, text, fontsize=7, ha="center", zorder=95)
    ax_x, ax_y = xmin + (xmax - xmin) * 0.95, ymin + (ymax - ymin) * 0.86
    arrow_len = (ymax - ymin) * 0.07
    ax.add_patch(FancyArrow(ax_x, ax_y, 0, arrow_len, width=(xmax - xmin) * 0.006,
                            head_width=(xmax - xmin) * 0.025, head_length=arrow_len * 0.45,
                            length_includes_head=True, color="#222222", zorder=95))
    ax.text(ax_x, ax_y + arrow_len * 1.08, label("north", lang), ha="center", va="bottom",
            fontsize=11, fontweight=bold, zorder=95)


def _legend_handles(legends: list[Legend]) -> tuple[list[Any], list[str]]:
    handles: list[Any] = []
    texts: list[str] = []
    for lg in legends:
        if lg.kind == "colorbar":
            continue
        handles.append(Patch(visible=False))
        texts.append(lg.title)
        for item in lg.items:
            if item.shape == "line":
                handles.append(Line2D([], [], color=item.color, linewidth=2,
                                      linestyle="--" if item.dash else "-"))
            elif item.shape == "circle":
                handles.append(Line2D([], [], marker="o", linestyle="", markersize=6,
                                      markerfacecolor=item.fill or item.color,
                                      markeredgecolor=item.color))
            else:
                handles.append(Patch(facecolor=item.fill or item.color, edgecolor=item.color))
            texts.append(item.label)
    return handles, texts


def _colorbars(fig: Figure, legends: list[Legend],
               at: tuple[float, float, float] = (0.08, 0.085, 0.9)) -> None:
    bars = [lg for lg in legends if lg.kind == "colorbar"]
    x, y, width = at
    for i, lg in enumerate(bars[:3]):
        cax = fig.add_axes((x + width / 3 * i, y, width / 3 * 0.75, 0.015))
        cmap = mpl.colors.LinearSegmentedColormap.from_list("bar", list(lg.colors))
        mpl.colorbar.ColorbarBase(cax, cmap=cmap, orientation="horizontal",
                                  norm=mpl.colors.Normalize(lg.vmin or 0.0, lg.vmax or 1.0))
        cax.tick_params(labelsize=6)
        cax.set_title(f"{lg.title} ({lg.units})" if lg.units else lg.title, fontsize=7)


def _source_line(atlas: Any, lang: Lang, results: Sequence[Any] = ()) -> list[str]:
    """Provenance for print: each layer's source, with synthetic/approximate data flagged.

    When results are drawn, the line starts with the synthetic-data note (which also names
    synthetic inputs of the results that the atlas does not hold).
    """
    from .briefing import _provenance, _statuses, synthetic_note

    note = synthetic_note(atlas, results, lang) if results else None
    parts = [note] if note else []
    for kind, prov in sorted(_provenance(atlas).items()):
        source = str(prov.get("source", "")).strip()
        source = source if len(source) <= 70 else source[:69].rstrip() + "…"
        flags = [s for s in _statuses(prov) if s in ("synthetic", "approximate")]
        flag = f" [{', '.join(f.upper() if f == 'synthetic' else f for f in flags)}]" \
            if flags else ""
        parts.append(f"{label(kind, lang)}: {source}{flag}")
    credit = (str(p.get("attribution", "")) for _, p in sorted(_provenance(atlas).items()))
    parts.extend(c for c in dict.fromkeys(credit) if c)  # required credits, coverage gaps
    parts.append(f"cci_geo {__version__}, {_dt.date.today().isoformat()}")
    return parts


Extent = tuple[float, float, float, float]


def map_extent(atlas: Any, layers: Sequence[MapLayer],
               extent: Extent | None = None) -> Extent:
    """Return the Web Mercator ``(xmin, ymin, xmax, ymax)`` a static map shows.

    ``extent`` is ``(west, south, east, north)`` in EPSG:4326; by default the bounds of all
    ``layers``, padded by 4 %.

    Examples
    --------
    >>> [round(v) for v in map_extent({}, [], (116.3, 39.8, 116.5, 40.0))]
    [12945566, 4835760, 12969611, 4867103]
    """
    if extent is not None:
        west, south, east, north = (float(v) for v in extent)
        if not (west < east and south < north and south >= -90 and north <= 90):
            msg = (f"extent {extent!r} is not (west, south, east, north) in degrees with "
                   "west < east and south < north")
            raise ParameterError(msg)
        bounds = (south, west, north, east)
    else:
        bounds = study_region_bounds(atlas, layers) or (-60.0, -170.0, 75.0, 170.0)
    xs, ys = _lonlat_to_merc(np.array([bounds[1], bounds[3]]), np.array([bounds[0], bounds[2]]))
    pad_x, pad_y = (xs[1] - xs[0]) * 0.04, (ys[1] - ys[0]) * 0.04
    return (float(xs[0] - pad_x), float(ys[0] - pad_y), float(xs[1] + pad_x),
            float(ys[1] + pad_y))


def draw_map(fig: Figure, rect: tuple[float, float, float, float], layers: Sequence[MapLayer],
             lang: Lang, extent: Extent, *, legend_at: tuple[float, float] | None = None,
             colorbar_at: tuple[float, float, float] | None = None, bold: str = "bold",
             legend_fontsize: float = 7.0) -> Any:
    """Draw ``layers`` into a new axes at ``rect`` of ``fig``, framed on ``extent``.

    Adds a north arrow and a scale bar; with ``legend_at`` (figure coordinates of the upper
    left corner) the layers' legends, and with ``colorbar_at`` (x, y, width) their colour bars.
    ``extent`` comes from :func:`map_extent`. Returns the axes.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from matplotlib.figure import Figure
    >>> from shapely.geometry import Point
    >>> from cci_geo.maps.layers import VectorLayer
    >>> art = gpd.GeoDataFrame({"name": ["798"]}, geometry=[Point(116.495, 39.984)],
    ...                        crs="EPSG:4326")
    >>> fig = Figure(figsize=(3, 3))
    >>> ax = draw_map(fig, (0, 0, 1, 1), [VectorLayer("Art districts", art)], "en",
    ...               map_extent({}, [], (116.3, 39.8, 116.6, 40.1)))
    >>> len(ax.collections), [t.get_text() for t in ax.texts]   # the point, scale bar, arrow
    (1, ['0', '5 km', 'N'])
    """
    ax = fig.add_axes(rect)
    ax.set_aspect("equal")
    ax.set_anchor("NW")
    ax.set_facecolor("#eef0f2")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    for layer in layers:
        _draw(ax, layer)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _furniture(ax, lang, extent, bold)
    legends = [lyr.legend for lyr in layers if lyr.legend is not None]
    handles, texts = _legend_handles(legends)
    if handles and legend_at is not None:
        leg = fig.legend(handles, texts, loc="upper left", bbox_to_anchor=legend_at,
                         fontsize=legend_fontsize, frameon=False, handlelength=1.4)
        for text, handle in zip(leg.get_texts(), handles, strict=True):
            if isinstance(handle, Patch) and not handle.get_visible():
                text.set_fontweight(bold)
    if colorbar_at is not None:
        _colorbars(fig, legends, colorbar_at)
    return ax


def save_png(atlas: Any, *results: Any, path: str | os.PathLike[str], lang: Lang = "zh",
             title: str | None = None, overwrite: bool = False, dpi: int = 200,
             figsize: tuple[float, float] = (10.0, 9.0),
             extent: Extent | None = None) -> Path:
    """Write a static briefing map of ``atlas`` and ``results`` as a PNG, atomically.

    Draws the layers that are switched on in the interactive briefing (of several classed fills,
    the first only, as the interactive map opens), with a title, north
    arrow, scale bar, legend (colour bars for surfaces) and a source line naming the data
    provenance (and which data are synthetic), the cci_geo version and the date.

    Parameters
    ----------
    atlas
        A :class:`cci_geo.atlas.Atlas` or a mapping of layer kind -> GeoDataFrame.
    *results
        Analysis results, drawn by their registered renderers.
    path
        Output PNG file.
    lang
        ``"zh"`` or ``"en"``.
    title
        Map title (default: the briefing title).
    overwrite
        Replace an existing file.
    dpi, figsize
        Resolution and size in inches.
    extent
        ``(west, south, east, north)`` in EPSG:4326 to show (default: all drawn layers).

    Returns
    -------
    pathlib.Path
        The written path.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import cci_geo
    >>> from cci_geo import maps
    >>> atlas = cci_geo.Atlas({"venues": cci_geo.load_demo()["venues"]}, name="venues")
    >>> png = maps.save_png(atlas, path=pathlib.Path(tempfile.mkdtemp()) / "venues.png",
    ...                     lang="en", dpi=40, figsize=(3, 3))
    >>> png.suffix, png.stat().st_size > 0
    ('.png', True)
    """
    lang = check_lang(lang)
    layers = one_classed_fill([lyr for lyr in briefing_layers(atlas, *results, lang=lang)
                               if lyr.show])
    bounds = map_extent(atlas, layers, extent)
    with font_context(lang) as bold:
        fig = Figure(figsize=figsize, dpi=dpi)
        draw_map(fig, (0.02, 0.13, 0.7, 0.8), layers, lang, bounds, legend_at=(0.73, 0.93),
                 colorbar_at=(0.08, 0.085, 0.9), bold=bold)
        fig.suptitle(title or default_title(atlas, lang), x=0.02, y=0.975, ha="left",
                     fontsize=15, fontweight=bold)
        source = " · ".join(_source_line(atlas, lang, results))
        fig.text(0.02, 0.02, f"{label('source', lang)}: {source}", fontsize=6, color="#444444",
                 wrap=True, ha="left", va="bottom")
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)
    logger.info("wrote %s", path)
    return Path(path)
