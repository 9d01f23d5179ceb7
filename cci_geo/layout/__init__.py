"""Layout optimisation: diagnose today's CCI layout and propose where new zones should go.

Location models (:func:`p_median`, :func:`max_coverage`, :func:`set_cover`, :func:`p_center`)
work on demand and candidate geometries or a precomputed cost matrix and return a
:class:`LayoutResult`; :func:`diagnose` measures how well existing facilities serve demand;
:func:`propose_zones` and :func:`run_scenario` run the planning workflow on an atlas.
"""

from __future__ import annotations

from .costs import Instance, cost_matrix
from .diagnose import Diagnosis, diagnose
from .models import max_coverage, p_center, p_median, set_cover
from .plan import Proposal, aggregate_demand, load_scenario, propose_zones, run_scenario
from .result import LayoutResult

__all__ = [
    "Diagnosis",
    "Instance",
    "LayoutResult",
    "Proposal",
    "aggregate_demand",
    "cost_matrix",
    "diagnose",
    "load_scenario",
    "max_coverage",
    "p_center",
    "p_median",
    "propose_zones",
    "run_scenario",
    "set_cover",
]
