"""Site suitability: transparent, reproducible multi-criteria ranking of candidate sites.

A criterion is a layer + a measure + a value function + a weight. :func:`score` overlays the
criteria on a metric analysis grid (one 0-1 surface per criterion and a composite), scores
each candidate site with each criterion's contribution, applies hard constraints, ranks the
sites with deterministic tie-breaking, and measures how far the ranking can be trusted
(Monte Carlo weights and one-at-a-time weight ranges). Scenarios are TOML files.

>>> from cci_geo.suitability import ahp_weights
>>> w, cr = ahp_weights([[1, 3], [1/3, 1]])
>>> [round(float(x), 2) for x in w], cr
([0.75, 0.25], 0.0)
"""

from __future__ import annotations

from .ahp import RANDOM_INDEX, ahp_weights, consistency_ratio
from .chunked import ChunkedSuitability, criterion_halo, score_chunked
from .criteria import MEASURES, Constraint, Criterion
from .grid import AnalysisGrid, build_grid
from .outputs import write_outputs
from .overlay import SuitabilityResult, resolve_weights, score
from .scenario import GridSpec, LayerSpec, Scenario, SensitivitySpec, load_scenario, parse_scenario
from .sensitivity import MonteCarloResult, monte_carlo, one_at_a_time, rank_scores
from .sites import SiteScores, score_sites
from .values import (
    VALUE_FUNCTIONS,
    ValueFunction,
    boolean,
    categories,
    gaussian,
    linear,
    sigmoid,
    step,
    value_function_from_spec,
)

__all__ = [
    "ChunkedSuitability",
    "criterion_halo",
    "score_chunked",
    "MEASURES",
    "RANDOM_INDEX",
    "VALUE_FUNCTIONS",
    "AnalysisGrid",
    "Constraint",
    "Criterion",
    "GridSpec",
    "LayerSpec",
    "MonteCarloResult",
    "Scenario",
    "SensitivitySpec",
    "SiteScores",
    "SuitabilityResult",
    "ValueFunction",
    "ahp_weights",
    "boolean",
    "build_grid",
    "categories",
    "consistency_ratio",
    "gaussian",
    "linear",
    "load_scenario",
    "monte_carlo",
    "one_at_a_time",
    "parse_scenario",
    "rank_scores",
    "resolve_weights",
    "score",
    "score_sites",
    "sigmoid",
    "step",
    "value_function_from_spec",
    "write_outputs",
]
