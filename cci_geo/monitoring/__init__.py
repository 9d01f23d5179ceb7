"""Change over time: emerging hot spots, policy targets and park scorecards.

- :func:`space_time_cube` — enterprises (or panel sums) per grid cell and year;
  :func:`operating` — the enterprises operating in a year;
- :func:`space_time_gi`, :func:`mann_kendall`, :func:`emerging_hot_spots` — Gi* per year with
  a space-time neighbourhood, the Mann-Kendall trend and the seventeen categories of ArcGIS
  Pro's Emerging Hot Spot Analysis (rules and choices in :mod:`cci_geo.monitoring.emerging`);
- :func:`target_progress` — progress toward the 2018 Opinions' enterprise targets (PT21-PT24);
- :func:`park_scorecards`, :func:`designation_effect` — designated areas against the city and
  matched comparison areas, with a seeded permutation test.
"""

from __future__ import annotations

from .cube import SpaceTimeCube, operating, space_time_cube, years_of
from .emerging import CATEGORIES, classify, emerging_hot_spots
from .gistar import significance_bins, space_time_gi
from .scorecards import DesignationEffect, designated_areas, designation_effect, park_scorecards
from .targets import OPINIONS_2018_TARGETS, target_progress
from .trend import MannKendall, mann_kendall

__all__ = [
    "CATEGORIES",
    "OPINIONS_2018_TARGETS",
    "DesignationEffect",
    "MannKendall",
    "SpaceTimeCube",
    "classify",
    "designated_areas",
    "designation_effect",
    "emerging_hot_spots",
    "mann_kendall",
    "operating",
    "park_scorecards",
    "significance_bins",
    "space_time_cube",
    "space_time_gi",
    "target_progress",
    "years_of",
]
