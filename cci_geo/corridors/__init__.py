"""Jing-Jin-Ji cooperation corridors: axes, zones, membership, interaction, candidates.

Workflow (every result is a plain GeoDataFrame tagged with :func:`cci_geo.results.tag_result` for
:mod:`cci_geo.maps`; all measuring happens in the metric CRS, results come back in the CRS of
the input):

1. :func:`corridors_from_nodes` (ordered node ids, e.g. the atlas ``nodes`` and ``corridors``
   layers) or :func:`corridors_from_lines` (a planner's own line layer) -> ``"corridors"``;
2. :func:`corridor_zones` buffers the axes by ``width_km`` and clips them to the region
   -> ``"corridor_zones"``;
3. :func:`membership` lists the districts, sites or enterprises in each zone, with km along the
   corridor from the Beijing end and km from the axis -> ``"corridor_membership"``;
4. :func:`city_places`, :func:`place_masses`, :func:`gravity_flows` and
   :func:`calibrate_gravity`: creative-industry interaction between cities -> ``"flows"``
   (weighted lines);
5. :func:`cooperation_candidates` ranks sites outside Beijing inside a zone
   -> ``"cooperation_candidates"``.
"""

from __future__ import annotations

from ._common import BEIJING_LONLAT
from .candidates import cooperation_candidates
from .gravity import GravityFit, calibrate_gravity, decay_factor, gravity_flows
from .membership import MEMBERSHIP_COLUMNS, membership
from .model import corridor_zones, corridors_from_lines, corridors_from_nodes
from .places import city_places, place_masses

__all__ = [
    "BEIJING_LONLAT",
    "MEMBERSHIP_COLUMNS",
    "GravityFit",
    "calibrate_gravity",
    "city_places",
    "cooperation_candidates",
    "corridor_zones",
    "corridors_from_lines",
    "corridors_from_nodes",
    "decay_factor",
    "gravity_flows",
    "membership",
    "place_masses",
]
