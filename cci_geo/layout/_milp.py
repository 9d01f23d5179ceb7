"""Thin wrapper over HiGHS (through :func:`scipy.optimize.milp`) used by every exact model."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["MilpOutcome", "RowBlock", "solve_milp"]

logger = logging.getLogger(__name__)


@dataclass
class RowBlock:
    """A named block of linear constraints ``lower <= A x <= upper``."""

    name: str
    A: sparse.csr_array
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]


@dataclass(frozen=True)
class MilpOutcome:
    """Result of one HiGHS solve (objective in the minimisation sense)."""

    x: NDArray[np.float64] | None
    objective: float
    bound: float
    status: str  # "optimal", "time_limit", "infeasible", "error"
    seconds: float
    message: str


def solve_milp(c: NDArray[np.float64], blocks: list[RowBlock], *,
               integrality: NDArray[np.int8], lb: NDArray[np.float64],
               ub: NDArray[np.float64], time_limit_s: float, mip_gap: float,
               constant: float = 0.0) -> MilpOutcome:
    """Minimise ``c @ x + constant`` subject to ``blocks`` and bounds with HiGHS."""
    t0 = time.perf_counter()
    cons = [LinearConstraint(b.A, b.lower, b.upper) for b in blocks if b.A.shape[0] > 0]
    options = {"disp": False, "time_limit": max(float(time_limit_s), 0.01),
               "mip_rel_gap": float(mip_gap), "presolve": True}
    res = milp(c, constraints=cons, integrality=integrality, bounds=Bounds(lb, ub),
               options=options)
    secs = time.perf_counter() - t0
    x = None if res.x is None else np.asarray(res.x, dtype=np.float64)
    obj = math.inf if x is None else float(c @ x) + constant
    bound = getattr(res, "mip_dual_bound", None)
    if bound is None or not np.isfinite(bound):
        bound = obj if res.status == 0 else -math.inf
    else:
        bound = float(bound) + constant
    if res.status == 0:
        status = "optimal"
    elif res.status == 1:
        status = "time_limit"
    elif res.status == 2:
        status = "infeasible"
    else:
        status = "error"
    logger.debug("HiGHS: %s in %.2fs, obj=%s bound=%s (%s)", status, secs, obj, bound,
                 res.message)
    return MilpOutcome(x=x, objective=obj, bound=min(bound, obj), status=status, seconds=secs,
                       message=str(res.message))
