"""Run a plan: the steps in order, loud failures, and the briefing map of the results.

A failing step stops the run with :class:`StepFailedError` (naming the step, chained to the
original error), unless ``keep_going=True``: then the failure is logged at ERROR, recorded in
:attr:`BriefingRun.outcomes`, and listed on the map; the other steps go on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import CciGeoError
from .config import BriefingConfig
from .plan import Plan, plan_briefing
from .steps import StepContext, get_step

__all__ = ["BriefingRun", "StepFailedError", "StepOutcome", "briefing_from_run", "run_briefing",
           "run_plan"]

logger = logging.getLogger(__name__)


class StepFailedError(CciGeoError, RuntimeError):
    """A workflow step raised; the run stopped (``__cause__`` is the original error).

    Attributes
    ----------
    step
        Name of the step.
    """

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass(frozen=True)
class StepOutcome:
    """What happened to one step.

    Attributes
    ----------
    name
        The step.
    status
        ``"ran"``, ``"skipped"`` (as planned), ``"off"`` or ``"failed"`` (only with
        ``keep_going``).
    detail
        The plan's reason for a skip, the error for a failure.
    results
        Number of drawable results.
    seconds
        Time the step took.
    notes
        What the step left out, and why.
    detail_zh, notes_zh
        ``detail`` and ``notes`` in Chinese (a failure's error text stays as raised).
    """

    name: str
    status: Literal["ran", "skipped", "off", "failed"]
    detail: str = ""
    results: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    detail_zh: str = ""
    notes_zh: tuple[str, ...] = ()


@dataclass
class BriefingRun:
    """The results of a run, in map order, with what happened to every step.

    Attributes
    ----------
    plan
        The plan that was run.
    results
        GeoDataFrames and Surfaces to draw.
    outcomes
        One :class:`StepOutcome` per registered step.
    path
        The written map (set by :func:`run_briefing`).
    """

    plan: Plan
    results: list[Any] = field(default_factory=list)
    outcomes: list[StepOutcome] = field(default_factory=list)
    path: Path | None = None

    @property
    def failed(self) -> list[StepOutcome]:
        """Steps that failed (only possible with ``keep_going``)."""
        return [o for o in self.outcomes if o.status == "failed"]

    def notes(self, lang: str = "en") -> list[str]:
        """Lines for the map: failed and skipped steps, derived columns, what was left out."""
        if lang != "zh":
            lines = [f"{o.name}: {'FAILED' if o.status == 'failed' else 'skipped'}: {o.detail}"
                     for o in self.outcomes if o.status in ("failed", "skipped")]
            lines += [f"{p.name}: {d}" for p in self.plan.steps if p.status == "run"
                      for d in p.derived]
            return lines + [n for o in self.outcomes for n in o.notes]
        from ..maps.labels import label
        from .derive import derived_zh

        lines = []
        for o in self.outcomes:
            if o.status == "failed":  # the error text stays as raised
                lines.append(f"{label(o.name, 'zh')}：运行失败：{o.detail}")
            elif o.status == "skipped":
                lines.append(f"{label(o.name, 'zh')}：未运行：{o.detail_zh or o.detail}")
        lines += [f"{label(p.name, 'zh')}：{derived_zh(d)}" for p in self.plan.steps
                  if p.status == "run" for d in p.derived]
        return lines + [n for o in self.outcomes for n in (o.notes_zh or o.notes)]

    def summary(self) -> str:
        """Return one line per step: name, status, seconds, results or reason."""
        width = max(len(o.name) for o in self.outcomes) if self.outcomes else 4
        lines = []
        for o in self.outcomes:
            text = f"{o.results} result(s) in {o.seconds:.1f} s" if o.status == "ran" else o.detail
            lines.append(f"{o.name:<{width}}  {o.status:<7}  {text}".rstrip())
            lines += [f"{'':<{width}}  {'':<7}  note: {n}" for n in o.notes]
        return "\n".join(lines)


def run_plan(plan: Plan, *, keep_going: bool = False,
             progress: Callable[[str], None] | None = None) -> BriefingRun:
    """Run the steps of ``plan`` that can run, in order.

    Parameters
    ----------
    plan
        From :func:`cci_geo.workflows.plan_briefing`.
    keep_going
        On a failing step, record it and go on with the others (the map and the summary list
        it) instead of stopping.
    progress
        Called with each step's name before it runs.

    Returns
    -------
    BriefingRun

    Raises
    ------
    StepFailedError
        When a step raises and ``keep_going`` is False; the message names the step and the
        error, ``__cause__`` is the original exception.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo.workflows import BriefingConfig, plan_briefing, run_plan
    >>> atlas = cci_geo.Atlas({"enterprises": cci_geo.load_demo()["enterprises"]})
    >>> run = run_plan(plan_briefing(atlas, BriefingConfig(steps=("concentration",))))
    >>> [(o.name, o.status) for o in run.outcomes][:2]
    [('concentration', 'ran'), ('accessibility', 'off')]
    """
    run = BriefingRun(plan)
    shared: dict[str, Any] = {}
    for planned in plan.steps:
        if planned.status != "run":
            status: Literal["skipped", "off"] = "skipped" if planned.status == "skip" else "off"
            run.outcomes.append(StepOutcome(planned.name, status, planned.reason,
                                            detail_zh=planned.reason_zh))
            continue
        if progress:
            progress(planned.name)
        ctx = StepContext(plan.atlas, dict(planned.params), plan.region, shared,
                          plan.config.base_dir)
        t0 = time.perf_counter()
        try:
            results = get_step(planned.name).run(ctx)
        except Exception as exc:
            # not hidden: without keep_going the run stops here; with it, the failure is
            # logged at ERROR, listed in the summary and on the map
            text = f"{type(exc).__name__}: {exc}"
            if not keep_going:
                msg = (f"briefing step {planned.name!r} failed: {text} (pass --keep-going / "
                       "keep_going=True to write the map without it)")
                raise StepFailedError(planned.name, msg) from exc
            logger.error("%s: failed: %s", planned.name, text, exc_info=exc)
            run.outcomes.append(StepOutcome(planned.name, "failed", text,
                                            seconds=time.perf_counter() - t0,
                                            notes=tuple(ctx.notes),
                                            notes_zh=tuple(ctx.notes_zh)))
            continue
        seconds = time.perf_counter() - t0
        run.results.extend(results)
        run.outcomes.append(StepOutcome(planned.name, "ran", "", len(results), seconds,
                                        tuple(ctx.notes), notes_zh=tuple(ctx.notes_zh)))
        logger.info("%s: %d result(s) in %.1f s", planned.name, len(results), seconds)
    return run


def briefing_from_run(run: BriefingRun, *, tianditu_key: str | None = None) -> Any:
    """Return the folium briefing map of ``run`` (title, first view, notes from its plan).

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo.workflows import BriefingConfig, plan_briefing, run_plan
    >>> atlas = cci_geo.Atlas({"zones": cci_geo.load_demo()["zones"]}, name="Zones only")
    >>> run = run_plan(plan_briefing(atlas, BriefingConfig(steps=())))
    >>> type(briefing_from_run(run)).__name__
    'BriefingFoliumMap'
    """
    from ..maps import briefing_map
    from ..maps.briefing import BRIEFING_VISIBLE

    plan = run.plan
    cfg = plan.config
    return briefing_map(plan.atlas, *run.results, lang=cfg.lang,  # type: ignore[arg-type]
                        basemap=cfg.basemap, title=plan.title, subtitle=plan.subtitle,
                        bounds=plan.view, tianditu_key=tianditu_key,
                        notes=run.notes(cfg.lang),
                        show=cfg.visible if cfg.visible is not None else BRIEFING_VISIBLE)


def run_briefing(atlas: Any, out: str | os.PathLike[str], *,
                 config: BriefingConfig | None = None, keep_going: bool = False,
                 overwrite: bool = False, tianditu_key: str | None = None,
                 plan: Plan | None = None,
                 progress: Callable[[str], None] | None = None) -> BriefingRun:
    """Plan and run the briefing of ``atlas`` and write its self-contained HTML map to ``out``.

    Parameters
    ----------
    atlas
        An :class:`cci_geo.Atlas`.
    out
        HTML file to write (never replaced unless ``overwrite``).
    config
        Briefing settings (default: :class:`BriefingConfig` defaults).
    keep_going
        Go on past failing steps (listed on the map and in :meth:`BriefingRun.summary`).
    overwrite
        Replace ``out`` if it exists.
    tianditu_key
        Tianditu developer key when the basemap is ``"tianditu"``.
    plan
        A plan already made with :func:`plan_briefing` (e.g. to print it first).
    progress
        Called with each step's name, then ``"map"`` and ``"write"``.

    Returns
    -------
    BriefingRun
        Its ``path`` is the written file.

    Raises
    ------
    FileExistsError
        If ``out`` exists and ``overwrite`` is False (checked before any work).
    StepFailedError
        If a step fails and ``keep_going`` is False (nothing is written).

    Examples
    --------
    >>> import pathlib, tempfile, cci_geo
    >>> from cci_geo.workflows import BriefingConfig, run_briefing
    >>> atlas = cci_geo.Atlas({"zones": cci_geo.load_demo()["zones"]}, name="Zones only")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "b.html"
    >>> run_briefing(atlas, out, config=BriefingConfig(steps=())).path == out
    True
    """
    from .._files import check_writable
    from ..maps import save_html

    check_writable(out, overwrite=overwrite)
    plan = plan or plan_briefing(atlas, config)
    run = run_plan(plan, keep_going=keep_going, progress=progress)
    if progress:
        progress("map")
    m = briefing_from_run(run, tianditu_key=tianditu_key)
    if progress:
        progress("write")
    run.path = save_html(m, out, self_contained=True, overwrite=overwrite)
    return run
