"""Benchmark cci_geo.layout.p_median against spopt (PuLP/CBC) and plain HiGHS.

Instances: uniform random demand and candidate points in a 10 km square, integer demand
weights 1..9, Euclidean costs (seed 42). Cases:

* 100 candidates x 1,000 demand, p = 10: all three solvers to optimality.
* 300 x 3,000, p = 20: cci_geo (heuristic and Lagrangian bound, then the Lagrangian branch
  and bound when time remains) vs plain HiGHS on the standard formulation, both limited to
  ``--limit`` seconds (spopt only with ``--spopt-large``).
* 2,000 x 20,000, p = 20: the cci_geo heuristic with its Lagrangian lower bound in 30 s.

OR-Library (``--orlib DIR``): the 40 uncapacitated p-median instances of Beasley (1990),
costs = shortest paths over the graph (the last occurrence of a duplicated edge wins), solved
by the default ``p_median`` and by ``p_center`` with a 60 s limit each; the table lists the
published optimum (``pmed_optima.csv``, ``kcenteropt.txt``), ours, the proven bound, whether
ours is proven optimal, the seconds, and the 1-minute load average when the row finished
(the machine is shared; a high load stretches the seconds).

Run: ``python benchmarks/bench_layout.py [--limit 60] [--skip-peers] [--spopt-large]``
     ``python benchmarks/bench_layout.py --orlib /path/to/orlib-pmed [--instances 1-40]
     [--models p_median,p_center]``.
Timings are wall-clock on whatever machine runs it; a shared machine makes them noisy.
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial.distance import cdist

from cci_geo.layout import p_center, p_median
from cci_geo.layout.orlib import read_orlib_pmed


def instance(m: int, n: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cost = cdist(rng.random((n, 2)) * 10_000, rng.random((m, 2)) * 10_000)
    return cost, rng.integers(1, 10, n).astype(float)


def plain_highs(cost: np.ndarray, w: np.ndarray, p: int, limit: float) -> dict:
    """Standard p-median formulation (x_ij <= y_j) solved by HiGHS through scipy."""
    n, m = cost.shape
    nx = n * m
    c = np.concatenate([np.zeros(m), (w[:, None] * cost).ravel()])
    xi = m + np.arange(nx)
    r = np.arange(nx)
    assign = sparse.csr_array((np.ones(nx), (np.repeat(np.arange(n), m), xi)), shape=(n, m + nx))
    link = sparse.csr_array((np.r_[np.ones(nx), -np.ones(nx)],
                             (np.r_[r, r], np.r_[xi, np.tile(np.arange(m), n)])),
                            shape=(nx, m + nx))
    card = sparse.csr_array(np.r_[np.ones(m), np.zeros(nx)][None, :])
    t0 = time.perf_counter()
    res = milp(c, constraints=[LinearConstraint(assign, 1, 1), LinearConstraint(link, -np.inf, 0),
                               LinearConstraint(card, p, p)],
               integrality=np.r_[np.ones(m), np.zeros(nx)], bounds=Bounds(0, 1),
               options={"time_limit": limit, "disp": False})
    secs = time.perf_counter() - t0
    obj = float(res.fun) if res.x is not None else math.nan
    bound = getattr(res, "mip_dual_bound", math.nan)
    status = "optimal" if res.status == 0 else "time limit"
    return {"objective": obj, "bound": bound, "time": secs, "status": status}


def spopt_cbc(cost: np.ndarray, w: np.ndarray, p: int, limit: float) -> dict:
    import pulp
    from spopt.locate import PMedian

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit)
        t0 = time.perf_counter()
        model = PMedian.from_cost_matrix(cost, w, p_facilities=p).solve(solver, results=False)
    secs = time.perf_counter() - t0
    sol = getattr(model.problem, "sol_status", None)
    status = {1: "optimal", 2: "time limit (feasible)"}.get(
        sol, pulp.LpStatus[model.problem.status])
    return {"objective": float(model.problem.objective.value()), "bound": math.nan,
            "time": secs, "status": status.lower()}


def ours(cost: np.ndarray, w: np.ndarray, p: int, limit: float, method: str = "auto") -> dict:
    t0 = time.perf_counter()
    res = p_median(cost=cost, weight=w, p=p, method=method, time_limit_s=limit)
    return {"objective": res.objective, "bound": res.bound, "time": time.perf_counter() - t0,
            "status": f"{res.status} ({res.method})"}


def row(case: str, solver: str, r: dict) -> str:
    gap = (r["objective"] - r["bound"]) / r["objective"] if np.isfinite(r["bound"]) else math.nan
    gap_s = f"{gap:8.3%}" if np.isfinite(gap) else "       -"
    bound_s = f"{r['bound']:>14,.1f}" if np.isfinite(r["bound"]) else f"{'-':>14}"
    return (f"{case:<22} {solver:<26} {r['objective']:>14,.1f} {bound_s} {gap_s} "
            f"{r['time']:>8.1f}  {r['status']}")


def _instances(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def orlib_table(folder: Path, numbers: list[int], models: list[str], limit: float) -> None:
    """Solve OR-Library instances with the default methods and print one table per model."""
    optima = {"p_median": {}, "p_center": {}}
    for line in (folder / "pmed_optima.csv").read_text().split()[1:]:
        name, value = line.split(",")
        optima["p_median"][name] = float(value)
    for line in (folder / "kcenteropt.txt").read_text().split("\n"):
        if line.strip():
            name, value = line.split()
            optima["p_center"][name] = float(value)
    solvers = {"p_median": p_median, "p_center": p_center}
    for model in models:
        print(f"\nOR-Library {model}, default method, time_limit_s={limit:g} "
              f"({os.cpu_count()} CPUs, shared machine)")
        head = (f"{'instance':<9}{'n':>5}{'p':>5}{'optimum':>10}{'ours':>10}{'bound':>12}"
                f"{'proven':>8}{'seconds':>9}{'load':>6}")
        print(head)
        print("-" * len(head))
        solved = within = 0
        for k in numbers:
            name = f"pmed{k}"
            cost, p = read_orlib_pmed(folder / f"{name}.txt")
            t0 = time.perf_counter()
            res = solvers[model](cost=cost, p=p, time_limit_s=limit)
            secs = time.perf_counter() - t0
            opt = optima[model][name]
            proven = res.status == "optimal" and math.isclose(res.objective, opt)
            solved += proven
            within += proven and secs <= 60.0
            print(f"{name:<9}{cost.shape[0]:>5}{p:>5}{opt:>10,.0f}{res.objective:>10,.0f}"
                  f"{res.bound:>12,.2f}{'yes' if proven else 'NO':>8}{secs:>9.1f}"
                  f"{os.getloadavg()[0]:>6.1f}", flush=True)
        print(f"proven optimal: {solved} of {len(numbers)}; within 60 s: {within}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orlib", type=Path, help="folder with pmed1.txt ... pmed40.txt")
    ap.add_argument("--instances", default="1-40", help="OR-Library numbers, e.g. 1-5,36")
    ap.add_argument("--models", default="p_median,p_center", help="OR-Library models")
    ap.add_argument("--limit", type=float, default=60.0, help="time limit (s) per large solve")
    ap.add_argument("--skip-peers", action="store_true", help="only run cci_geo")
    ap.add_argument("--spopt-large", action="store_true", help="also run spopt on 300 x 3,000")
    ap.add_argument("--cases", default="small,medium,large",
                    help="comma-separated subset of small, medium, large")
    args = ap.parse_args()
    if args.orlib is not None:
        orlib_table(args.orlib, _instances(args.instances), args.models.split(","), args.limit)
        return
    cases = set(args.cases.split(","))
    header = (f"{'case':<22} {'solver':<26} {'objective':>14} {'bound':>14} {'gap':>8} "
              f"{'time s':>8}  status")
    print(header)
    print("-" * len(header))
    if "small" in cases:
        small_case(args)
    if "medium" in cases:
        medium_case(args)
    if "large" in cases:
        cost, w = instance(2000, 20000)
        print(row("2,000 x 20,000, p=20", "cci_geo heuristic",
                  ours(cost, w, 20, 30.0, method="heuristic")))


def small_case(args: argparse.Namespace) -> None:
    cost, w = instance(100, 1000)
    small = {"cci_geo": ours(cost, w, 10, 60.0)}
    if not args.skip_peers:
        small["plain HiGHS (standard)"] = plain_highs(cost, w, 10, 600.0)
        small["spopt PMedian + CBC"] = spopt_cbc(cost, w, 10, 600.0)
    for name, r in small.items():
        print(row("100 x 1,000, p=10", name, r))
    if "spopt PMedian + CBC" in small:
        s = small["spopt PMedian + CBC"]["time"] / small["cci_geo"]["time"]
        same = math.isclose(small["cci_geo"]["objective"],
                            small["spopt PMedian + CBC"]["objective"], rel_tol=1e-9)
        print(f"{'':<22} speed-up vs spopt: {s:.1f}x, same objective: {same}")


def medium_case(args: argparse.Namespace) -> None:
    cost, w = instance(300, 3000)
    print(row("300 x 3,000, p=20", "cci_geo", ours(cost, w, 20, args.limit)))
    if not args.skip_peers:
        print(row("300 x 3,000, p=20", "plain HiGHS (standard)",
                  plain_highs(cost, w, 20, args.limit)))
        if args.spopt_large:
            print(row("300 x 3,000, p=20", "spopt PMedian + CBC",
                      spopt_cbc(cost, w, 20, args.limit)))


if __name__ == "__main__":
    main()
