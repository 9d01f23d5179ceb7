"""Basemaps for briefing maps, and the datum each one is drawn in.

========== ========================================= ========= ==============================
name       tiles                                     datum     notes
========== ========================================= ========= ==============================
none       no tiles (the default; works offline)     WGS-84    districts give the context
osm        OpenStreetMap standard                    WGS-84    needs internet
cartodb    CARTO Positron (light grey)               WGS-84    needs internet
gaode      Gaode/Amap road map (``amap`` too)        GCJ-02    overlays are shifted to GCJ-02
tianditu   Tianditu vector map + Chinese labels      CGCS2000  needs a key (see below)
========== ========================================= ========= ==============================

Gaode's tiles are drawn in GCJ-02, China's obfuscated datum, which is offset from WGS-84 by
several hundred metres in Beijing. When ``gaode`` is chosen every overlay is moved from WGS-84
to GCJ-02 with :func:`cci_geo.datum.wgs84_to_gcj02` so it lines up with the streets.
Tianditu uses CGCS2000, which agrees with WGS-84 to well under a metre at map scale, so
nothing is shifted. Tianditu requires a free developer key ("tk") from the Tianditu console;
pass it as ``tianditu_key=`` or set the ``TIANDITU_KEY`` environment variable. The key ends up
in the HTML file, so only share briefings made with a key you may publish.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import folium

from ..errors import ParameterError

__all__ = ["BASEMAPS", "Basemap", "add_basemap", "get_basemap"]


@dataclass(frozen=True)
class Basemap:
    """A tile source: URL template(s), attribution and datum."""

    name: str
    label_zh: str
    label_en: str
    tiles: tuple[str, ...] = ()
    attribution: str = ""
    datum: Literal["wgs84", "gcj02", "cgcs2000"] = "wgs84"
    subdomains: str = "abc"
    max_zoom: int = 18
    needs_key: bool = False

    @property
    def offline(self) -> bool:
        """True when the basemap loads nothing from the network."""
        return not self.tiles


BASEMAPS: dict[str, Basemap] = {
    "none": Basemap("none", "无底图", "No basemap"),
    "osm": Basemap("osm", "OpenStreetMap", "OpenStreetMap",
                   ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
                   "&copy; OpenStreetMap contributors", max_zoom=19),
    "cartodb": Basemap("cartodb", "CARTO 浅色底图", "CARTO Positron",
                       ("https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",),
                       "&copy; OpenStreetMap contributors &copy; CARTO", subdomains="abcd",
                       max_zoom=20),
    "gaode": Basemap("gaode", "高德地图", "Gaode (Amap)",
                     ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                      "&style=8&x={x}&y={y}&z={z}",),
                     "&copy; 高德地图 AutoNavi (GCJ-02)", datum="gcj02", subdomains="1234"),
    "tianditu": Basemap("tianditu", "天地图", "Tianditu",
                        ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                         "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                         "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
                         "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                         "&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                         "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"),
                        "&copy; 天地图 Tianditu (GS(2024)0650)", datum="cgcs2000",
                        subdomains="01234567", needs_key=True),
}
BASEMAPS["amap"] = BASEMAPS["gaode"]
BASEMAPS["openstreetmap"] = BASEMAPS["osm"]
BASEMAPS["carto"] = BASEMAPS["cartodb"]


def get_basemap(name: str) -> Basemap:
    """Return the basemap called ``name`` (case-insensitive); raise ``ValueError`` otherwise.

    Examples
    --------
    >>> get_basemap("none").tiles
    ()
    """
    key = str(name).strip().lower()
    if key not in BASEMAPS:
        names = ", ".join(sorted(BASEMAPS))
        msg = f"basemap={name!r} is not known; choose one of: {names}."
        raise ParameterError(msg)
    return BASEMAPS[key]


def add_basemap(m: folium.Map, basemap: Basemap, *, tianditu_key: str | None = None,
                lang: str = "zh") -> list[folium.TileLayer]:
    """Add ``basemap``'s tile layers to ``m`` (nothing for ``none``) and return them.

    Raises
    ------
    ValueError
        If Tianditu is chosen without a key.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> [layer.tiles for layer in add_basemap(m, get_basemap("osm"))]
    ['https://tile.openstreetmap.org/{z}/{x}/{y}.png']
    >>> add_basemap(m, get_basemap("none"))            # offline: no tiles at all
    []
    >>> layers = add_basemap(m, get_basemap("tianditu"), tianditu_key="abc123")
    >>> len(layers), layers[0].tiles.endswith("&tk=abc123")   # roads, then Chinese labels
    (2, True)
    """
    if basemap.offline:
        return []
    key = ""
    if basemap.needs_key:
        key = tianditu_key or os.environ.get("TIANDITU_KEY", "")
        if not key:
            msg = ("basemap='tianditu' needs a Tianditu developer key: pass tianditu_key=... "
                   "or set the TIANDITU_KEY environment variable (free at the Tianditu "
                   "developer console), or choose basemap='none'.")
            raise ParameterError(msg)
    layers = []
    for i, url in enumerate(basemap.tiles):
        tiles = url.replace("{key}", key)
        layer = folium.TileLayer(
            tiles=tiles, attr=basemap.attribution if i == 0 else " ",
            name=basemap.label_zh if lang == "zh" else basemap.label_en,
            subdomains=basemap.subdomains, max_zoom=basemap.max_zoom, overlay=i > 0,
            control=i == 0)
        layer.add_to(m)
        layers.append(layer)
    return layers
