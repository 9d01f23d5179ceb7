"""Thin wrapper over HiGHS (through :func:`scipy.optimize.milp`) used by every exact model.

HiGHS checks its time limit only between phases, so on a large model it can run minutes
past it. Models above :data:`CHILD_ABOVE` nonzeros are therefore solved in a forked child
process that is stopped :data:`GRACE_S` seconds after the limit; the solve then reports
``"time_limit"`` with no solution and no bound from HiGHS.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["MilpOutcome", "RowBlock", "solve_milp"]

logger = logging.getLogger(__name__)

CHILD_ABOVE = 20_000
"""Constraint nonzeros above which HiGHS runs in a child process with a hard deadline."""
GRACE_S = 2.0
"""Seconds past the time limit before the child process is stopped."""


def _child(conn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    res = milp(*args, **kwargs)
    conn.send({"x": res.x, "status": res.status, "message": res.message,
               "mip_dual_bound": getattr(res, "mip_dual_bound", None)})
    conn.close()


def _milp_with_deadline(args: tuple[Any, ...], kwargs: dict[str, Any],
                        deadline_s: float) -> Any:
    """Run :func:`milp` in a forked child; ``None`` when it is still running at the deadline."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, args, kwargs), daemon=True)
    proc.start()
    send.close()
    try:
        if recv.poll(deadline_s):
            out = recv.recv()
            return SimpleNamespace(fun=None, **out)
        logger.info("HiGHS still running %.0fs after its time limit: stopped", GRACE_S)
        return None
    except EOFError:
        return None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        recv.close()


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
    args = (c,)
    kwargs = {"constraints": cons, "integrality": integrality, "bounds": Bounds(lb, ub),
              "options": options}
    nnz = sum(int(b.A.nnz) for b in blocks)
    # a daemonic process (a pool worker) may not start children: solve in place there
    if nnz > CHILD_ABOVE and math.isfinite(time_limit_s) and hasattr(os, "fork") \
            and not multiprocessing.current_process().daemon:
        res = _milp_with_deadline(args, kwargs, options["time_limit"] + GRACE_S)
        if res is None:
            return MilpOutcome(x=None, objective=math.inf, bound=-math.inf,
                               status="time_limit", seconds=time.perf_counter() - t0,
                               message="stopped after the time limit")
    else:
        res = milp(*args, **kwargs)
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
