"""Street networks: load a graph, travel-time matrices and isochrones.

Graphs come from OSM XML files, osmnx GraphML or (when asked) online OpenStreetMap queries
through osmnx; they are filtered to one travel mode, given travel times and projected to the
metric CRS. Shortest paths are computed with :mod:`scipy.sparse.csgraph` on the whole set of
origins at once.

>>> from cci_geo import network
>>> G = network.load_graph(network.demo_streets_path(), mode="drive")
>>> sorted(G.graph["speeds_kph"])[:3]
['default', 'living_street', 'motorway']
"""

from __future__ import annotations

from ._arrays import SnapWarning as SnapWarning
from ._load import DEMO_STREETS as DEMO_STREETS
from ._load import demo_streets_path as demo_streets_path
from ._load import load_graph as load_graph
from ._routing import isochrones as isochrones
from ._routing import travel_time_matrix as travel_time_matrix
from ._routing import travel_time_pairs as travel_time_pairs
from ._speeds import DEFAULT_SPEEDS_KPH as DEFAULT_SPEEDS_KPH
from ._speeds import MODES as MODES
from ._speeds import parse_maxspeed as parse_maxspeed

__all__ = [
    "DEFAULT_SPEEDS_KPH",
    "DEMO_STREETS",
    "MODES",
    "SnapWarning",
    "demo_streets_path",
    "isochrones",
    "load_graph",
    "parse_maxspeed",
    "travel_time_matrix",
    "travel_time_pairs",
]
