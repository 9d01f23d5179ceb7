"""The plan of a run, made before any work: which steps run, which are skipped and why.

:func:`plan_briefing` checks every step's declared needs against the atlas: a missing layer
or column skips the step with the reason and how to supply it; a column that can be derived
(``district`` from the districts layer) is derived; a missing optional layer is listed as
what the step will leave out. The plan also fixes the study region, the first view and the
title, so a map says what it is before anything is computed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from ..maps.labels import label
from .config import BriefingConfig
from .derive import derivable_column, derive_columns, first_view, study_region
from .steps import Need, get_step, registered_steps

__all__ = ["Plan", "PlannedStep", "plan_briefing"]

logger = logging.getLogger(__name__)

Status = Literal["run", "skip", "off"]


@dataclass(frozen=True)
class PlannedStep:
    """One step of a plan.

    Attributes
    ----------
    name
        The step.
    status
        ``"run"``, ``"skip"`` (a needed layer or column is missing: ``reason`` says which and
        how to supply it) or ``"off"`` (not in the config's ``steps``).
    reason
        Why the step is skipped or off ("" when it runs).
    derived
        Columns the run derives for it (``"enterprises.district derived by ..."``).
    without
        What it leaves out for lack of optional layers or columns.
    params
        Its parameters (defaults updated by the config).
    reason_zh
        ``reason`` in Chinese, for a Chinese map.
    """

    name: str
    status: Status
    reason: str = ""
    derived: tuple[str, ...] = ()
    without: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    reason_zh: str = ""


@dataclass
class Plan:
    """What a briefing will do, decided before any work.

    Attributes
    ----------
    steps
        One :class:`PlannedStep` per registered step, in running order.
    atlas
        The atlas the steps run on (with derived columns added).
    config
        The config the plan was made from.
    region
        The study region (polygons, EPSG:4326) and how it was made
        (``region.attrs["derived_from"]``).
    view
        First view of the map ``(west, south, east, north)``.
    title, subtitle
        Title of the map (the config's, else the atlas's name) and subtitle (None: the map's
        default).
    """

    steps: list[PlannedStep]
    atlas: Any
    config: BriefingConfig
    region: gpd.GeoDataFrame
    view: tuple[float, float, float, float]
    title: str
    subtitle: str | None = None

    @property
    def to_run(self) -> list[str]:
        """Names of the steps that will run."""
        return [s.name for s in self.steps if s.status == "run"]

    def to_frame(self) -> pd.DataFrame:
        """Return the plan as a table: ``step``, ``status``, ``details``."""
        rows = []
        for s in self.steps:
            details = [s.reason] if s.reason else []
            details += list(s.derived)
            details += [f"without {w}" for w in s.without]
            rows.append({"step": s.name, "status": s.status, "details": "; ".join(details)})
        return pd.DataFrame(rows, columns=["step", "status", "details"])

    def table(self, width: int = 100) -> str:
        """Return the plan as a plain-text table (what ``cci-geo briefing`` prints).

        Examples
        --------
        >>> import cci_geo
        >>> from cci_geo.workflows import plan_briefing
        >>> atlas = cci_geo.Atlas({"enterprises": cci_geo.load_demo()["enterprises"]})
        >>> print(plan_briefing(atlas).table().splitlines()[0])
        step           status  details
        >>> plan_briefing(atlas).table().splitlines()[2].split()[:5]
        ['accessibility', 'skip', 'needs', 'the', "'venues'"]
        """
        frame = self.to_frame()
        name_w = max(len("step"), *(len(s) for s in frame["step"]))
        head = f"{'step':<{name_w}}  {'status':<6}  details"
        lines = [head]
        indent = " " * (name_w + 10)
        for row in frame.itertuples(index=False):
            text = str(row.details)
            first = True
            chunks = _wrap(text, max(30, width - len(indent))) or [""]
            for chunk in chunks:
                if first:
                    lines.append(f"{row.step:<{name_w}}  {row.status:<6}  {chunk}".rstrip())
                    first = False
                else:
                    lines.append(indent + chunk)
        return "\n".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)


def _column_names(need: Need, params: Mapping[str, Any]) -> list[str]:
    out = []
    for col in need.columns:
        if col.startswith("{") and col.endswith("}"):
            value = params.get(col[1:-1])
            if not value:
                continue  # parameter unset: the column is not read
            out.append(str(value))
        else:
            out.append(col)
    return out


def _layer_hint(layer: str) -> str:
    return f"add a '{layer}' layer to the atlas (cci_geo.read_layer(path, '{layer}'))"


def _check_step(name: str, atlas: Any, params: Mapping[str, Any], base_dir: Any
                ) -> tuple[Status, str, list[tuple[str, str]], list[str], str]:
    """Return (status, reason, columns to derive, left out, reason in Chinese) for one step."""
    layers = atlas.layers if hasattr(atlas, "layers") else atlas
    present = {k for k, v in dict(layers).items() if v is not None and len(v)}
    step = get_step(name)
    needs = list(step.needs)
    if step.needs_for is not None:
        needs += list(step.needs_for(params, base_dir))
    to_derive: list[tuple[str, str]] = []
    without: list[str] = []
    for need in needs:
        options = [need.layer, *need.alternatives]
        layer = next((k for k in options if k in present), None)
        if layer is None:
            if need.optional:
                if need.without and need.without not in without:
                    without.append(need.without)
                continue
            names = " or ".join(f"'{k}'" for k in options)
            fix = _layer_hint(need.layer) + (f", or {need.hint}" if need.hint else "")
            names_zh = " 或 ".join(f"「{label(k, 'zh')}」（'{k}'）" for k in options)
            fix_zh = f"请在图集中加入该图层（cci_geo.read_layer(path, '{need.layer}')）"
            return ("skip", f"needs the {names} layer; {fix}", [], [],
                    f"缺少{names_zh}图层；{fix_zh}")
        for col in _column_names(need, params):
            if col in layers[layer].columns:
                continue
            how = derivable_column(atlas, layer, col)
            if how is not None:
                to_derive.append((layer, col))
                continue
            if need.optional:
                if need.without and need.without not in without:
                    without.append(need.without)
                continue
            hint = (f"add the column to the layer, or set another column in "
                    f"[steps.{name}]" if any(c.startswith("{") for c in need.columns)
                    else "add the column to the layer")
            hint_zh = (f"请在图层中加入该列，或在配置的 [steps.{name}] 中改用其他列"
                       if any(c.startswith("{") for c in need.columns)
                       else "请在图层中加入该列")
            return ("skip", f"needs column '{col}' of the '{layer}' layer, which it lacks; "
                    f"{hint}", [], [],
                    f"「{label(layer, 'zh')}」（'{layer}'）图层缺少 '{col}' 列；{hint_zh}")
    return "run", "", to_derive, without, ""


def plan_briefing(atlas: Any, config: BriefingConfig | None = None) -> Plan:
    """Decide, before any work, which briefing steps run on ``atlas`` and which are skipped.

    Parameters
    ----------
    atlas
        An :class:`cci_geo.Atlas` (or a mapping of layer kind -> GeoDataFrame).
    config
        The briefing config (default: :class:`BriefingConfig` defaults).

    Returns
    -------
    Plan
        Steps with their status and reasons; the atlas with derived columns; the study region,
        first view and title.

    Raises
    ------
    cci_geo.errors.ScenarioError
        If a scenario file named by the config does not exist or is not valid TOML.

    Examples
    --------
    >>> import cci_geo
    >>> plan = plan_briefing(cci_geo.load_demo())
    >>> plan.to_run
    ['concentration', 'accessibility', 'suitability', 'layout', 'corridors', 'monitoring']
    >>> plan.title                     # the atlas's name in the map's language (zh)
    '北京文化创意产业示例图集'
    >>> from cci_geo.workflows import BriefingConfig
    >>> plan_briefing(cci_geo.load_demo(), BriefingConfig(lang="en")).title
    'Beijing CCI demo atlas'
    """
    config = config or BriefingConfig()
    chosen = set(config.step_names())
    planned: list[PlannedStep] = []
    derive: list[tuple[str, str]] = []
    for name in registered_steps():
        params = config.step_params(name)
        if name not in chosen:
            planned.append(PlannedStep(name, "off", "not in [briefing] steps of the config",
                                       params=params))
            continue
        status, reason, to_derive, without, reason_zh = _check_step(name, atlas, params,
                                                                    config.base_dir)
        derive += to_derive
        planned.append(PlannedStep(name, status, reason, without=tuple(without),
                                   params=params, reason_zh=reason_zh,
                                   derived=tuple(f"{layer}.{col}" for layer, col in to_derive)))
    atlas, done = derive_columns(atlas, derive)
    texts = {d.split(" ")[0]: d for d in done}
    planned = [PlannedStep(p.name, p.status, p.reason,
                           derived=tuple(texts.get(d, d) for d in p.derived),
                           without=p.without, params=p.params, reason_zh=p.reason_zh)
               for p in planned]
    region = study_region(atlas)
    view = config.view or first_view(region)
    name_zh = getattr(atlas, "name_zh", None) if config.lang == "zh" else None
    title = config.title or str(name_zh or getattr(atlas, "name", "") or "CCI atlas")
    for p in planned:
        if p.status == "skip":
            logger.info("%s: skipped: %s", p.name, p.reason)
    return Plan(planned, atlas, config, region, view, title, config.subtitle)
