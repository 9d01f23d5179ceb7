"""Colours, classification and raster colour mapping shared by every renderer.

One palette per meaning (sectors, hot/cold spots, designation status ...) keeps a layer kind
looking the same on every map. Numeric values are classified with mapclassify schemes;
Surfaces are warped to Web Mercator with rasterio and colour-mapped with matplotlib.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import mapclassify
import matplotlib as mpl
import numpy as np
import pandas as pd
from affine import Affine
from rasterio.warp import Resampling, reproject, transform_bounds

from ..errors import ParameterError
from ..raster import Surface
from .labels import Lang, label
from .layers import Legend, LegendItem, RasterLayer

__all__ = [
    "HOT_SPOT_COLORS",
    "SECTOR_COLORS",
    "classify",
    "colorbar_legend",
    "quantile_classes",
    "ramp",
    "surface_layer",
]

logger = logging.getLogger(__name__)

#: One colour per priority sector (colour-blind-safe qualitative palette).
SECTOR_COLORS: dict[str, str] = {
    "design": "#e6194b", "media": "#4363d8", "film_tv": "#f58231", "publishing": "#3cb44b",
    "animation_games": "#911eb4", "performing_arts": "#f032e6", "expos_folk_arts": "#9a6324",
    "art_exchange": "#008080", "think_tanks": "#808000",
}
OTHER_COLOR = "#8c8c8c"

#: ArcGIS's Gi* hot spot colours, hot 99 % to cold 99 %.
HOT_SPOT_COLORS: dict[str, str] = {
    "hot spot 99%": "#d62f27", "hot spot 95%": "#ed7551", "hot spot 90%": "#fab984",
    "not significant": "#eeeeee",
    "cold spot 90%": "#c0ccbe", "cold spot 95%": "#849eba", "cold spot 99%": "#4575b5",
    "no neighbours": "#bdbdbd",  # not tested: the unit has no neighbours under the weights
}


def ramp(cmap: str, n: int) -> list[str]:
    """Return ``n`` evenly spaced hex colours of the matplotlib colour map ``cmap``.

    Examples
    --------
    >>> ramp("Blues", 3)[0].startswith("#")
    True
    """
    cm = mpl.colormaps[cmap]
    if n <= 0:
        return []
    if n == 1:
        return [mpl.colors.to_hex(cm(0.75))]
    return [mpl.colors.to_hex(cm(0.12 + 0.83 * i / (n - 1))) for i in range(n)]


def classify(values: Any, *, scheme: str = "NaturalBreaks", k: int = 5,
             bins: list[float] | None = None) -> tuple[np.ndarray, list[float], float]:
    """Classify numeric ``values`` with a mapclassify scheme.

    Parameters
    ----------
    values
        Numbers; NaN/None are left unclassified.
    scheme
        A mapclassify class name (``"Quantiles"``, ``"EqualInterval"``, ``"FisherJenks"``,
        ...); ignored when ``bins`` is given. ``"NaturalBreaks"`` means Jenks breaks computed
        exactly (``FisherJenks``, deterministic) up to 3,000 values and quantiles above.
    k
        Number of classes (reduced when there are fewer distinct values).
    bins
        Upper class bounds for ``mapclassify.UserDefined`` (e.g. fixed LQ classes).

    Returns
    -------
    tuple
        ``(class_index, upper_bounds, minimum)``; ``class_index`` is -1 where the value is
        missing.

    Examples
    --------
    >>> classes, bins, vmax = classify([1, 2, 3, 10, 20, 30], scheme="EqualInterval", k=3)
    >>> classes.tolist()
    [0, 0, 0, 0, 1, 2]
    """
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(arr)
    idx = np.full(arr.shape, -1, dtype=int)
    if not ok.any():
        return idx, [], float("nan")
    y = arr[ok]
    if bins is not None:
        upper = sorted(b for b in bins if b < y.max()) + [float(y.max())]
        classifier = mapclassify.UserDefined(y, upper)
    else:
        k_eff = int(min(k, len(np.unique(y))))
        if k_eff < 2:
            idx[ok] = 0
            return idx, [float(y.max())], float(y.min())
        if scheme == "NaturalBreaks":  # Jenks, computed exactly (deterministic) when affordable
            scheme = "FisherJenks" if len(y) <= 3000 else "Quantiles"
        cls = getattr(mapclassify, scheme, None)
        if cls is None:
            msg = f"scheme={scheme!r} is not a mapclassify classifier; try 'NaturalBreaks'."
            raise ParameterError(msg)
        kwargs: dict[str, Any] = {"k": k_eff}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            classifier = cls(y, **kwargs)  # may lower k when values tie (intended here)
        for w in caught:
            logger.debug("mapclassify: %s", w.message)
    upper = [float(b) for b in classifier.bins]
    if bins is None:  # drop classes that hold no value (tied quantiles, for example)
        counts = np.bincount(classifier.yb, minlength=len(upper))
        upper = [b for b, n in zip(upper, counts, strict=True) if n > 0]
        idx[ok] = np.searchsorted(np.asarray(upper), y, side="left")
    else:
        idx[ok] = classifier.yb
    return idx, upper, float(y.min())


def class_labels(upper: list[float], vmin: float, *, digits: int | None = None) -> list[str]:
    """Return ``"a – b"`` labels for classes with upper bounds ``upper``.

    A class whose bounds print the same (all its values equal, such as a class of zeros)
    is labelled with that one value, never ``"0 – 0"``.
    """
    def fmt(v: float) -> str:
        if digits is not None:
            return f"{v:,.{digits}f}"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    lows = [vmin, *upper[:-1]]
    return [fmt(hi) if fmt(lo) == fmt(hi) else f"{fmt(lo)} – {fmt(hi)}"
            for lo, hi in zip(lows, upper, strict=True)]


def classed_legend(title: str, colors: list[str], upper: list[float], vmin: float, lang: Lang,
                   *, units: str = "", note: str = "", shape: str = "square",
                   missing: bool = False) -> Legend:
    """Return a classed legend; with ``missing`` (some values are NaN) adds a 'No data' row."""
    items = [LegendItem(c, lab, shape=shape)  # type: ignore[arg-type]
             for c, lab in zip(colors, class_labels(upper, vmin), strict=True)]
    if missing:
        items.append(LegendItem("#bdbdbd", label("missing", lang), fill="#ffffff",
                                shape=shape))  # type: ignore[arg-type]
    return Legend(title, kind="classed", items=tuple(items), units=units, note=note)


def colorbar_legend(title: str, cmap: str, vmin: float, vmax: float, *, units: str = "",
                    note: str = "") -> Legend:
    """Return a colour-bar legend of ``cmap`` from ``vmin`` to ``vmax``.

    Examples
    --------
    >>> colorbar_legend("Score", "RdYlGn", 0.0, 1.0).kind
    'colorbar'
    """
    cm = mpl.colormaps[cmap]
    colors = tuple(mpl.colors.to_hex(cm(i / 8)) for i in range(9))
    return Legend(title, kind="colorbar", colors=colors, vmin=vmin, vmax=vmax, units=units,
                  note=note)


def quantile_classes(values: np.ndarray, k: int) -> list[float]:
    """Return the upper bounds of up to ``k`` quantile classes of finite ``values``.

    Tied quantiles (many equal values) are merged, so no class is empty or ``a – a``.

    Examples
    --------
    >>> import numpy as np
    >>> quantile_classes(np.arange(1.0, 101.0), 4)
    [25.75, 50.5, 75.25, 100.0]
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return []
    qs = np.quantile(finite, np.linspace(0, 1, k + 1)[1:])
    return [float(v) for v in np.unique(qs)]


def surface_layer(surface: Surface, *, name: str, cmap: str, units: str = "",
                  transparent_below: float = 0.0, opacity: float = 0.75,
                  max_cells: int = 1_500_000, show: bool = True, classes: int = 0,
                  lang: Lang = "en") -> RasterLayer:
    """Warp ``surface`` to EPSG:3857 and colour-map it into a :class:`RasterLayer`.

    Cells that are NaN, or below ``transparent_below`` times the maximum, are transparent, so
    the map under a density surface stays visible where there is nothing to see.

    With ``classes=0`` the colours stretch linearly from the minimum to the maximum (a colour
    bar). With ``classes=k`` the shaded cells are split into ``k`` quantile classes (a classed
    legend with each class's range, in ``lang``): a heavy-tailed surface such as a kernel
    density, whose few peak cells would otherwise leave the rest of the city near-white,
    then shows its structure at every level.

    Examples
    --------
    A 2 km x 2 km density grid in UTM 50N with one cell without data:

    >>> import numpy as np
    >>> from affine import Affine
    >>> from cci_geo.raster import Surface
    >>> grid = Surface(np.array([[0.0, 1.0], [2.0, np.nan]]), crs="EPSG:32650",
    ...                transform=Affine(1000, 0, 440000, 0, -1000, 4420000))
    >>> layer = surface_layer(grid, name="Density", cmap="Reds", units="firms per km²")
    >>> layer.rgba.ndim, layer.rgba.shape[2]                  # RGBA cells in Web Mercator
    (3, 4)
    >>> bool((layer.rgba[..., 3] == 0).any())                 # the NaN cell is transparent
    True
    >>> [round(v, 2) for v in layer.bounds_latlon()]          # south, west, north, east
    [39.9, 116.3, 39.93, 116.32]
    >>> layer.legend.kind, layer.legend.units
    ('colorbar', 'firms per km²')
    """
    src = np.asarray(surface.data, dtype="float64")
    rows, cols = surface.shape
    scale = max(1.0, float(np.sqrt(rows * cols / max_cells)))
    xmin, ymin, xmax, ymax = transform_bounds(surface.crs, "EPSG:3857", *surface.bounds,
                                              densify_pts=21)
    # keep about the source's number of cells (fewer when over max_cells)
    res = float(np.sqrt((xmax - xmin) * (ymax - ymin) / (rows * cols))) * scale
    width = max(1, int(np.ceil((xmax - xmin) / res)))
    height = max(1, int(np.ceil((ymax - ymin) / res)))
    dst_transform = Affine(res, 0.0, xmin, 0.0, -res, ymax)
    dst = np.full((height, width), np.nan)
    reproject(src, dst, src_transform=surface.transform, src_crs=surface.crs,
              src_nodata=np.nan, dst_transform=dst_transform, dst_crs="EPSG:3857",
              dst_nodata=np.nan, resampling=Resampling.bilinear)
    finite = dst[np.isfinite(dst)]
    vmin = float(finite.min()) if finite.size else 0.0
    vmax = float(finite.max()) if finite.size else 1.0
    if vmax <= vmin:
        vmax = vmin + 1.0
    hidden = ~np.isfinite(dst)
    threshold = vmin + transparent_below * (vmax - vmin)
    if transparent_below > 0:
        hidden |= dst < threshold
    units = units or surface.units
    if classes > 0:
        upper = quantile_classes(dst[~hidden], classes)
        colors = ramp(cmap, len(upper))
        idx = np.searchsorted(np.asarray(upper), np.nan_to_num(dst, nan=vmin), side="left")
        table = np.array([mpl.colors.to_rgba(c, alpha=1.0) for c in colors] or [(0, 0, 0, 0)])
        rgba = (table[np.clip(idx, 0, max(len(upper) - 1, 0))] * 255).round().astype(np.uint8)
        low = float(np.nanmin(dst[~hidden])) if (~hidden).any() else vmin
        note = label("quantile_note", lang).format(_fmt(threshold))
        legend = classed_legend(name, colors, upper, low, lang, units=units, note=note,
                                missing=False)
    else:
        norm = (dst - vmin) / (vmax - vmin)
        rgba = mpl.colormaps[cmap](np.nan_to_num(norm, nan=0.0), bytes=True)
        legend = colorbar_legend(name, cmap, vmin, vmax, units=units)
    rgba[..., 3] = np.where(hidden, 0, 255).astype(np.uint8)
    xmin, ymax = dst_transform.c, dst_transform.f
    xmax, ymin = xmin + width * dst_transform.a, ymax + height * dst_transform.e
    logger.debug("surface %s warped to %d x %d (EPSG:3857)", name, height, width)
    return RasterLayer(name, rgba, (xmin, ymin, xmax, ymax), legend=legend, opacity=opacity,
                       show=show, meta={"units": units})


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
