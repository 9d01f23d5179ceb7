"""Workflows: declared analysis steps run over an atlas from a config, with a plan first.

This layer sits between the analyses and the faces (CLI, notebooks): it runs analyses and
hands their results to :mod:`cci_geo.maps`, which only draws. The analyses never import it.

- :mod:`~cci_geo.workflows.steps`: :class:`Step` declares the layers and columns a step needs
  (:class:`Need`) and its parameters with defaults; :func:`register_step` adds one.
- :mod:`~cci_geo.workflows.plan`: :func:`plan_briefing` says, before any work, which steps
  run and which are skipped and why; it derives what it can (a ``district`` column, the study
  region, the first view).
- :mod:`~cci_geo.workflows.config`: the TOML briefing config (:func:`load_config`,
  :func:`write_config`).
- :mod:`~cci_geo.workflows.run`: :func:`run_plan`, :func:`run_briefing`; a failing step
  stops the run (:class:`StepFailedError`) unless ``keep_going``.

Examples
--------
>>> import cci_geo
>>> from cci_geo.workflows import plan_briefing
>>> plan_briefing(cci_geo.load_demo()).to_run[:2]
['concentration', 'accessibility']
"""

from __future__ import annotations

from . import briefing_steps as _briefing_steps  # noqa: F401  (registers the steps)
from . import monitoring_step as _monitoring_step  # noqa: F401  (registers the step)
from .config import BriefingConfig, default_config_text, load_config, write_config
from .derive import derive_columns, first_view, study_region
from .plan import Plan, PlannedStep, plan_briefing
from .run import (
                  BriefingRun,
                  StepFailedError,
                  StepOutcome,
                  briefing_from_run,
                  run_briefing,
                  run_plan,
)
from .steps import Need, Step, StepContext, get_step, register_step, registered_steps

__all__ = [
    "BriefingConfig",
    "BriefingRun",
    "Need",
    "Plan",
    "PlannedStep",
    "Step",
    "StepContext",
    "StepFailedError",
    "StepOutcome",
    "briefing_from_run",
    "default_config_text",
    "derive_columns",
    "first_view",
    "get_step",
    "load_config",
    "plan_briefing",
    "register_step",
    "registered_steps",
    "run_briefing",
    "run_plan",
    "study_region",
    "write_config",
]
