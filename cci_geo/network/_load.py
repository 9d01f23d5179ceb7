"""Load a street graph from an OSM XML file, an osmnx GraphML or an online osmnx query."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import socket
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .._crs import estimate_utm_crs, resolve_metric_crs
from .._resources import DEMO_STREETS as _DEMO_STREETS
from .._resources import resource_path
from ..errors import (
    CciGeoError,
    CRSMismatchError,
    DataError,
    MissingFileError,
    NetworkUnavailableError,
    ParameterError,
    ParameterTypeError,
)
from ..settings import Settings
from ._speeds import EXTRA_WAY_TAGS, edge_allowed, edge_speed_kph, resolve_speeds

__all__ = ["DEMO_STREETS", "demo_streets_path", "load_graph"]

logger = logging.getLogger(__name__)

DEMO_STREETS = _DEMO_STREETS
"""File name of the synthetic street network around the 798/751 art district."""

_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml", ".xml.bz2", ".xml.gz")
_GRAPHML_SUFFIXES = (".graphml",)
_FILE_LIKE = re.compile(r"^\S+\.[a-z0-9]{1,8}$")  # "streets.osm.bz", not "St. Louis"


def demo_streets_path() -> Path:
    """Return the path of the bundled synthetic street network around 798/751.

    The file is found in an installed wheel (``cci_geo/_data/``) or in a source checkout
    (``<repo>/data/``).

    Returns
    -------
    Path
        Path of ``beijing_798_streets.osm.gz`` (OSM XML, WGS-84).

    Raises
    ------
    cci_geo.errors.DataError
        If neither location holds the file; rebuild it with ``python data/build_streets.py``.

    Examples
    --------
    >>> from cci_geo import network
    >>> network.demo_streets_path().name
    'beijing_798_streets.osm.gz'
    """
    return resource_path(DEMO_STREETS)


@contextlib.contextmanager
def _osmnx_settings(settings: Settings, cache_dir: Path, *, online: bool) -> Iterator[Any]:
    """Apply our settings to osmnx's module-level settings, restoring them afterwards."""
    import osmnx as ox

    wanted: dict[str, Any] = {
        "use_cache": settings.use_cache,
        "cache_folder": str(cache_dir),
        "requests_timeout": settings.http_timeout_s,
        "useful_tags_way": sorted(set(ox.settings.useful_tags_way) | set(EXTRA_WAY_TAGS)),
    }
    if not online:
        # No route to the servers: do not wait for rate-limit pauses or DNS-over-HTTPS, so a
        # request that is not in the cache fails at once instead of after minutes.
        wanted.update(overpass_rate_limit=False, doh_url_template=None)
    saved = {name: getattr(ox.settings, name) for name in wanted}
    try:
        for name, value in wanted.items():
            setattr(ox.settings, name, value)
        yield ox
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)


def _reachable(url: str, timeout_s: float) -> bool:
    """Return True if a TCP connection to the host of ``url`` can be opened."""
    parsed = urllib.parse.urlsplit(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout_s):
            return True
    except OSError as exc:
        logger.info("cannot reach %s (%s); only cached OpenStreetMap responses can be used",
                    parsed.hostname, exc)
        return False


def _classify(source: object) -> str:
    if isinstance(source, (str, os.PathLike)):
        name = str(source).lower()
        if name.endswith(_GRAPHML_SUFFIXES):
            return "graphml"
        if name.endswith(_XML_SUFFIXES):
            return "xml"
        looks_like_file = (isinstance(source, os.PathLike) or Path(source).is_file()
                           or "/" in name or "\\" in name or _FILE_LIKE.search(name))
        if looks_like_file:
            if not Path(source).exists():
                msg = f"street file {str(source)!r} does not exist; check the path."
                raise MissingFileError(msg)
            msg = (f"cannot tell the format of {str(source)!r}; name it *.osm, *.osm.bz2, "
                   "*.osm.gz (OSM XML) or *.graphml (osmnx GraphML).")
            raise ParameterError(msg)
        return "place"
    if isinstance(source, (Polygon, MultiPolygon, gpd.GeoDataFrame, gpd.GeoSeries)):
        return "polygon"
    if isinstance(source, Sequence) and len(source) == 4:
        return "bbox"
    msg = (f"source must be a file path, a place name, a bbox (west, south, east, north) or a "
           f"shapely (Multi)Polygon in EPSG:4326, got {type(source).__name__} {source!r:.80}.")
    raise ParameterTypeError(msg)


def _bbox(source: Sequence[Any]) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in source)
    except (TypeError, ValueError) as exc:
        msg = f"bbox must be four numbers (west, south, east, north), got {source!r}."
        raise ParameterTypeError(msg) from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        msg = (f"bbox must be (west, south, east, north) in degrees with west < east and "
               f"south < north, got {source!r}; did you pass (south, west, north, east)?")
        raise ParameterError(msg)
    return west, south, east, north


def _polygon(source: Any) -> BaseGeometry:
    if isinstance(source, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if source.crs is None:
            msg = "source polygon layer has no CRS; set it with .set_crs('EPSG:4326')."
            raise CRSMismatchError(msg)
        source = source.to_crs("EPSG:4326").geometry.union_all()
    if source.is_empty or source.geom_type not in ("Polygon", "MultiPolygon"):
        msg = f"source polygon must be a non-empty (Multi)Polygon, got {source.geom_type}."
        raise ParameterError(msg)
    return source


def _download(source: Any, kind: str, mode: str, settings: Settings, cache_dir: Path,
              retain_all: bool) -> nx.MultiDiGraph:
    import osmnx as ox
    import requests

    if kind == "bbox":
        source = _bbox(source)
    elif kind == "polygon":
        source = _polygon(source)
    online = _reachable(ox.settings.overpass_url, min(10.0, settings.http_timeout_s))
    kwargs: dict[str, Any] = {"network_type": mode, "simplify": False, "retain_all": retain_all}
    logger.info("querying OpenStreetMap for %s %r (mode=%s, cache %s)", kind, source, mode,
                cache_dir if settings.use_cache else "off")
    try:
        with _osmnx_settings(settings, cache_dir, online=online):
            if kind == "place":
                return ox.graph_from_place(source, **kwargs)
            if kind == "bbox":
                return ox.graph_from_bbox(source, **kwargs)
            return ox.graph_from_polygon(source, **kwargs)
    except (requests.exceptions.RequestException, OSError) as exc:
        msg = (f"cannot download the street network for {source!r:.80}: OpenStreetMap "
               f"(Overpass/Nominatim) is unreachable ({type(exc).__name__}: {exc}) and the "
               f"query is not in the cache {cache_dir}. Connect to the internet, or load a "
               "saved file instead, e.g. load_graph('area.osm.gz') or "
               "load_graph(cci_geo.network.demo_streets_path()).")
        raise NetworkUnavailableError(msg) from exc


def _filter_mode(G: nx.MultiDiGraph, mode: str, retain_all: bool) -> nx.MultiDiGraph:
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not edge_allowed(d, mode)]
    H = G.copy()
    H.remove_edges_from(drop)
    H.remove_nodes_from([n for n in list(H.nodes) if H.degree(n) == 0])
    if not retain_all and H.number_of_nodes():
        biggest = max(nx.weakly_connected_components(H), key=len)
        H = H.subgraph(biggest).copy()
    return H


def _make_bidirectional(G: nx.MultiDiGraph) -> None:
    """Add the reverse of every edge that has none (walkers ignore one-way streets)."""
    for u, v, data in list(G.edges(data=True)):
        if G.has_edge(v, u):
            continue
        rev = dict(data)
        geom = rev.get("geometry")
        if geom is not None:
            rev["geometry"] = geom.reverse()
        rev["reversed"] = True
        G.add_edge(v, u, **rev)


def _add_travel_times(G: nx.MultiDiGraph, mode: str, table: Mapping[str, float]) -> None:
    for u, v, k, data in G.edges(keys=True, data=True):
        length = data.get("length")
        if length is None or not math.isfinite(float(length)) or float(length) < 0:
            msg = (f"edge ({u}, {v}, {k}) has length {length!r}; a street graph needs a finite "
                   "'length' in metres on every edge (osmnx adds it).")
            raise DataError(msg)
        speed = edge_speed_kph(data, mode, table)
        data["speed_kph"] = speed
        data["travel_time"] = float(length) / (speed / 3.6)


def _graph_metric_crs(G: nx.MultiDiGraph, source: object, metric_crs: str | None) -> str:
    """Resolve the metric CRS of a graph in lon/lat and check it covers the graph."""
    xs = np.fromiter((d["x"] for _, d in G.nodes(data=True)), float)
    ys = np.fromiter((d["y"] for _, d in G.nodes(data=True)), float)
    bounds = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    if metric_crs is None and isinstance(source, (gpd.GeoDataFrame, gpd.GeoSeries)):
        metric_crs = resolve_metric_crs(source) if source.attrs.get("cci_geo_metric_crs") \
            else None
    if metric_crs is None:
        crs_text = estimate_utm_crs(bounds)
        logger.info("street graph measured in %s (UTM zone estimated from its extent); pass "
                    "metric_crs= to choose", crs_text)
        return crs_text
    crs_text = resolve_metric_crs(metric_crs=metric_crs)
    aou = CRS.from_user_input(crs_text).area_of_use
    lon = float(np.median(xs))
    if aou is not None and not aou.west - 3 <= lon <= aou.east + 3:
        msg = (f"the graph lies at longitude {lon:.2f}, outside the area of use of "
               f"metric_crs {crs_text} ({aou.west}..{aou.east}); pass "
               f"metric_crs={estimate_utm_crs(bounds)!r} (its UTM zone) or another metric CRS "
               "that covers the area.")
        raise CRSMismatchError(msg)
    return crs_text


@contextlib.contextmanager
def _street_file_errors(path: Path) -> Iterator[None]:
    """Wrap parser errors of an OSM XML / GraphML file with the file and the fix."""
    import xml.etree.ElementTree as ET  # noqa: N817, PLC0415
    import zlib  # noqa: PLC0415

    try:
        yield
    except (ET.ParseError, EOFError, zlib.error, OSError, ValueError, KeyError,
            UnicodeDecodeError) as exc:
        if isinstance(exc, (FileNotFoundError, CciGeoError)):
            raise
        detail = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        msg = (f"cannot read the street file {path}: {detail}. The file is empty, truncated "
               "or not OpenStreetMap XML (.osm/.osm.gz) or GraphML; export or download it "
               "again.")
        raise DataError(msg) from exc


def load_graph(source: str | os.PathLike[str] | Sequence[float] | BaseGeometry
               | gpd.GeoDataFrame | gpd.GeoSeries, *, mode: str = "walk",
               cache_dir: str | os.PathLike[str] | None = None,
               settings: Settings | None = None,
               speeds_kph: Mapping[str, float] | None = None,
               simplify: bool = True, retain_all: bool = False,
               metric_crs: str | None = None) -> nx.MultiDiGraph:
    """Load a street graph for one travel mode, with travel times, in the metric CRS.

    Parameters
    ----------
    source
        Where the streets come from:

        - an OSM XML file (``.osm``, ``.osm.bz2``, ``.osm.gz``), read with osmnx; only ways with
          a ``highway`` tag that ``mode`` may use are kept;
        - a GraphML file written by osmnx (``.graphml``), projected or not;
        - a place name, geocoded by Nominatim (a string that looks like a file name, such
          as ``"streets.osm.bz"`` or one with a ``/``, is treated as a file, never queried);
        - a bbox ``(west, south, east, north)`` in degrees (EPSG:4326);
        - a shapely ``Polygon``/``MultiPolygon`` in EPSG:4326, or a GeoDataFrame/GeoSeries
          (in any CRS) whose union is the area.

        The last three download from OpenStreetMap through osmnx, and only then; responses are
        cached on disk, so a repeated query works offline.
    mode
        ``"walk"`` (one-way streets are walked both ways), ``"bike"`` or ``"drive"`` (one-way
        streets are followed). The ways each mode may use follow osmnx's network types.
    cache_dir
        Folder of osmnx's HTTP cache; default ``settings.cache_dir / "osmnx"``.
    settings
        HTTP timeout and whether to use the cache (I/O only); default ``Settings()``.
    speeds_kph
        Speeds overriding :data:`cci_geo.network.DEFAULT_SPEEDS_KPH` for ``mode``, keyed by
        OSM ``highway`` value (``"default"`` for the rest), in km/h.
    simplify
        Merge chains of street segments between intersections into single edges (osmnx's
        ``simplify_graph``); lengths and travel times are summed.
    retain_all
        Keep every connected piece instead of only the largest weakly connected component.
    metric_crs
        Projected CRS the graph is returned in. Default: the metric CRS an atlas stamped on
        a GeoDataFrame ``source``, else the UTM zone of the graph's extent (logged).

    Returns
    -------
    networkx.MultiDiGraph
        Projected to the metric CRS (node ``x``/``y`` in metres, ``G.graph["crs"]``).
        Every edge has ``length`` (m), ``speed_kph`` and ``travel_time`` (s);
        ``G.graph["mode"]`` records the mode.

        Speeds (km/h, :data:`~cci_geo.network.DEFAULT_SPEEDS_KPH`): walk 4.8 (steps 2.4);
        bike 15 (cycleway 16, residential 14, service 12, living street 10, path/track 10,
        pedestrian 8); drive free-flow urban speeds by class (motorway 80, link 40, trunk 60,
        primary 50, secondary 40, tertiary 30, unclassified 25, residential 20, service 15,
        living street 10), replaced by a numeric ``maxspeed`` tag where one is present.

    Raises
    ------
    FileNotFoundError
        If a file path does not exist.
    NetworkUnavailableError
        If an online query is needed but OpenStreetMap cannot be reached and the answer is not
        cached.
    DataError
        If no street usable by ``mode`` remains.
    ValueError
        For an unknown ``mode``, a malformed bbox or a non-positive speed.
    CRSMismatchError
        If ``metric_crs`` does not cover the area.

    Examples
    --------
    >>> from cci_geo import network
    >>> G = network.load_graph(network.demo_streets_path(), mode="walk")
    >>> G.graph["crs"], G.graph["mode"]
    ('EPSG:32650', 'walk')
    """
    import osmnx as ox

    settings = settings or Settings()
    table = resolve_speeds(mode, speeds_kph)
    cache = Path(cache_dir) if cache_dir is not None else Path(settings.cache_dir) / "osmnx"
    kind = _classify(source)
    if kind in ("xml", "graphml"):
        path = Path(source)  # type: ignore[arg-type]
        if not path.is_file():
            msg = f"street file {str(path)!r} does not exist; check the path."
            raise MissingFileError(msg)
        logger.info("reading %s as %s (mode=%s)", path, kind, mode)
        with _osmnx_settings(settings, cache, online=False), _street_file_errors(path):
            if path.stat().st_size == 0:
                msg = f"street file {path} is empty; export the OSM extract again."
                raise DataError(msg)
            if kind == "xml":
                G = ox.graph_from_xml(path, bidirectional=mode == "walk", simplify=False,
                                      retain_all=True)
            else:
                G = ox.load_graphml(path)
                if G.graph.get("crs") and not CRS.from_user_input(G.graph["crs"]).is_geographic:
                    G = ox.project_graph(G, to_latlong=True)
                if mode == "walk":
                    _make_bidirectional(G)
    else:
        G = _download(source, kind, mode, settings, cache, retain_all)
    G = _filter_mode(G, mode, retain_all)
    if G.number_of_edges() == 0:
        msg = (f"no street usable by mode={mode!r} in {source!r:.80}; check the file holds "
               "OSM ways with a 'highway' tag, or try another mode.")
        raise DataError(msg)
    _add_travel_times(G, mode, table)
    if simplify and not G.graph.get("simplified", False):
        G = ox.simplify_graph(G, edge_attr_aggs={"length": sum, "travel_time": sum})
        for _, _, data in G.edges(data=True):
            data["speed_kph"] = (data["length"] / data["travel_time"] * 3.6
                                 if data["travel_time"] > 0 else edge_speed_kph(data, mode, table))
    crs = _graph_metric_crs(G, source, metric_crs)
    G = ox.project_graph(G, to_crs=crs)
    G.graph["crs"] = crs
    G.graph["mode"] = mode
    G.graph["speeds_kph"] = dict(table)
    logger.info("street graph: %d nodes, %d edges (mode=%s, %s)", G.number_of_nodes(),
                G.number_of_edges(), mode, crs)
    return G

