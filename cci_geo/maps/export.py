"""Write maps as HTML files that open offline, on machines where CDNs are unreachable.

folium, branca and the folium plugins load Leaflet, jQuery, Bootstrap, Font Awesome and the
plugin scripts from CDNs. :func:`save_html` with ``self_contained=True`` replaces every such
``<script src>`` and ``<link rel="stylesheet">`` by the copy shipped in
``cci_geo/maps/assets`` (npm packages with their licences, listed in ``assets.json`` and
refreshed by ``tools/refresh_map_assets.py``), so the file needs nothing but a browser.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import folium

from .._files import atomic_path
from ..errors import CciGeoError

__all__ = ["asset_manifest", "inline_assets", "save_html"]

logger = logging.getLogger(__name__)

_SCRIPT_RE = re.compile(r'<script\s+src="([^"]+)"\s*>\s*</script>', re.IGNORECASE)
_CSS_RE = re.compile(r'<link\s+rel="stylesheet"\s+href="([^"]+)"\s*/?>', re.IGNORECASE)
_REMOTE_RE = re.compile(r'<(?:script|link|img)\b[^>]*\s(?:src|href)="((?:https?:)?//[^"]+)"',
                        re.IGNORECASE)


class AssetError(CciGeoError, LookupError):
    """A map references a script or stylesheet that cci_geo does not ship."""


@functools.lru_cache(maxsize=1)
def asset_manifest() -> dict[str, dict[str, Any]]:
    """Return ``{cdn_url: manifest entry}`` for every shipped asset (see ``assets.json``)."""
    folder = resources.files("cci_geo.maps").joinpath("assets")
    manifest = json.loads(folder.joinpath("assets.json").read_text(encoding="utf-8"))
    return {url: entry for entry in manifest["assets"] for url in entry["urls"]}


@functools.lru_cache(maxsize=64)
def _asset_text(name: str) -> str:
    folder = resources.files("cci_geo.maps").joinpath("assets")
    return folder.joinpath(name).read_text(encoding="utf-8")


def _lookup(url: str) -> dict[str, Any]:
    manifest = asset_manifest()
    if url in manifest:
        return manifest[url]
    msg = (f"the map references {url}, which cci_geo does not ship for offline use; add it to "
           "SOURCES in tools/refresh_map_assets.py and run that script, or save with "
           "self_contained=False.")
    raise AssetError(msg)


def inline_assets(html: str) -> str:
    """Return ``html`` with every known CDN script and stylesheet in its head inlined.

    Raises
    ------
    AssetError
        If the head references a remote script or stylesheet that is not shipped.

    Examples
    --------
    >>> url = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
    >>> page = inline_assets(f'<html><head><script src="{url}"></script></head></html>')
    >>> url in page, page.startswith("<html><head><script>/* leaflet 1.9.3")
    (False, True)
    """
    head_end = html.find("</head>")
    if head_end < 0:
        head_end = len(html)
    head, body = html[:head_end], html[head_end:]

    def script(match: re.Match[str]) -> str:
        entry = _lookup(match.group(1))
        code = re.sub(r"</(script)", r"<\\/\1", _asset_text(entry["name"]), flags=re.I)
        return (f"<script>/* {entry['package']} {entry['version']} ({entry['licence']}) */\n"
                f"{code}\n</script>")

    def css(match: re.Match[str]) -> str:
        entry = _lookup(match.group(1))
        code = re.sub(r"</(style)", r"<\\/\1", _asset_text(entry["name"]), flags=re.I)
        return f"<style>/* {entry['package']} {entry['version']} */\n{code}\n</style>"

    head = _SCRIPT_RE.sub(lambda m: script(m) if _is_remote(m.group(1)) else m.group(0), head)
    head = _CSS_RE.sub(lambda m: css(m) if _is_remote(m.group(1)) else m.group(0), head)
    left = _REMOTE_RE.findall(head)
    if left:
        msg = (f"remote assets left after inlining: {left}; see tools/refresh_map_assets.py "
               "to ship them, or save with self_contained=False.")
        raise AssetError(msg)
    return head + body


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def save_html(m: folium.Map | folium.Figure, path: str | os.PathLike[str], *,
              self_contained: bool = True, overwrite: bool = False) -> Path:
    """Write map ``m`` to ``path`` as one HTML file, atomically.

    Parameters
    ----------
    m
        A folium map (e.g. from :func:`~cci_geo.maps.briefing_map`).
    path
        Output file; parent folders are created.
    self_contained
        Inline every script and stylesheet (default) so the file works with no internet;
        with False the page loads Leaflet and the plugins from their CDNs, as folium does.
    overwrite
        Replace an existing file (never done otherwise).

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false.
    AssetError
        If the map uses a plugin whose assets are not shipped (self-contained only).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import folium
    >>> path = save_html(folium.Map(tiles=None), pathlib.Path(tempfile.mkdtemp()) / "m.html")
    >>> '<script src="http' in path.read_text(encoding="utf-8")   # nothing from a CDN
    False
    """
    html = m.get_root().render()
    if self_contained:
        html = inline_assets(html)
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_text(html, encoding="utf-8")
    logger.info("wrote %s (%.1f MB%s)", target, len(html.encode("utf-8")) / 1e6,
                ", self-contained" if self_contained else "")
    return target
