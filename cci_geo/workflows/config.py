"""The briefing config: a TOML file holding every setting of a briefing.

::

    [briefing]
    title = "Shanghai creative industry"   # default: the atlas's name
    lang = "en"
    steps = ["concentration", "layout"]    # default: every registered step
    view = [121.2, 30.9, 121.8, 31.5]      # west, south, east, north; default: the data

    [steps.layout]
    k = 4

    [steps.suitability]
    scenario = "my_scoring.toml"           # relative to this file

:func:`load_config` reads and checks one (every unknown key or step is an error naming it),
:func:`default_config_text` writes the defaults as a commented starting file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._files import atomic_path
from .._toml import read_toml
from ..errors import ParameterTypeError, ScenarioError
from .steps import Step, get_step, registered_steps

__all__ = ["BASEMAPS", "BriefingConfig", "default_config_text", "load_config", "write_config"]

#: Basemaps a config may name (see :data:`cci_geo.maps.BASEMAPS`).
BASEMAPS = ("none", "osm", "cartodb", "gaode", "amap", "tianditu")

_BRIEFING_KEYS = ("title", "subtitle", "lang", "basemap", "view", "steps", "visible")


@dataclass(frozen=True)
class BriefingConfig:
    """Every setting of a briefing; the defaults are those of ``cci-geo briefing``.

    Attributes
    ----------
    title, subtitle
        Shown top left of the map; None: the atlas's name and "Planning briefing map".
    lang
        ``"zh"`` or ``"en"``.
    basemap
        ``"none"`` (offline), ``"osm"``, ``"cartodb"``, ``"gaode"`` or ``"tianditu"``.
    view
        First view ``(west, south, east, north)`` in EPSG:4326; None: the bounds of the
        atlas's own data (its study region).
    steps
        Steps to run, in registered order; None: every registered step.
    params
        Per step, parameters overriding the step's defaults.
    visible
        Layer kinds / result types switched on when the map opens; None: the briefing's
        default set.
    base_dir
        Folder of the config file: relative paths (scenario files) are resolved against it.
    source
        Where the config came from (a file path), for messages and provenance.

    Examples
    --------
    >>> cfg = BriefingConfig(params={"layout": {"k": 4}})
    >>> cfg.step_params("layout")["k"], cfg.step_params("layout")["standard_m"]
    (4, 3000.0)
    """

    title: str | None = None
    subtitle: str | None = None
    lang: str = "zh"
    basemap: str = "none"
    view: tuple[float, float, float, float] | None = None
    steps: tuple[str, ...] | None = None
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    visible: tuple[str, ...] | None = None
    base_dir: Path | None = None
    source: str = "defaults"

    def __post_init__(self) -> None:
        where = self.source
        if self.lang not in ("zh", "en"):
            msg = f"{where}: lang = {self.lang!r}; use \"zh\" or \"en\"."
            raise ScenarioError(msg)
        if self.basemap not in BASEMAPS:
            msg = f"{where}: basemap = {self.basemap!r}; use one of {list(BASEMAPS)}."
            raise ScenarioError(msg)
        if self.view is not None:
            object.__setattr__(self, "view", _check_view(self.view, where))
        known = registered_steps()
        for name in (*(self.steps or ()), *self.params):
            if name not in known:
                msg = (f"{where}: unknown step {name!r}; the steps are {list(known)}.")
                raise ScenarioError(msg)
        checked = {name: MappingProxyType(_check_params(get_step(name), dict(values), where))
                   for name, values in self.params.items()}
        object.__setattr__(self, "params", MappingProxyType(checked))
        if self.steps is not None:
            object.__setattr__(self, "steps", tuple(dict.fromkeys(self.steps)))

    def step_names(self) -> list[str]:
        """Return the steps to run, in registered order."""
        known = list(registered_steps())
        return known if self.steps is None else [s for s in known if s in self.steps]

    def step_params(self, name: str) -> dict[str, Any]:
        """Return step ``name``'s parameters: its defaults updated by this config."""
        return {**get_step(name).params, **self.params.get(name, {})}

    def with_overrides(self, **changes: Any) -> BriefingConfig:
        """Return a copy with the given fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _check_view(view: Sequence[Any], where: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(v) for v in view)
    except (TypeError, ValueError):
        msg = (f"{where}: view = {view!r}; give [west, south, east, north] in degrees "
               "(EPSG:4326), or leave it out to start on the atlas's data.")
        raise ScenarioError(msg) from None
    if not (all(math.isfinite(v) for v in (w, s, e, n)) and -180 <= w < e <= 180
            and -90 <= s < n <= 90):
        msg = (f"{where}: view = {list(view)!r} is not [west, south, east, north] in degrees "
               "with west < east and south < north.")
        raise ScenarioError(msg)
    return w, s, e, n


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return True


def _check_params(step: Step, values: dict[str, Any], where: str) -> dict[str, Any]:
    for key, value in values.items():
        if key not in step.params:
            msg = (f"{where}: [steps.{step.name}] has no parameter {key!r}; its parameters are "
                   f"{sorted(step.params)}.")
            raise ScenarioError(msg)
        default = step.params[key]
        if not _same_kind(default, value):
            msg = (f"{where}: [steps.{step.name}] {key} = {value!r}; expected a "
                   f"{type(default).__name__} like the default {default!r}.")
            raise ScenarioError(msg)
        if isinstance(default, int) and not isinstance(default, bool) and \
                isinstance(value, float) and not value.is_integer():
            msg = f"{where}: [steps.{step.name}] {key} = {value!r}; expected a whole number."
            raise ScenarioError(msg)
    return values


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        msg = f"{where}: [briefing] {key} must be a list of strings, got {value!r}."
        raise ScenarioError(msg)
    return tuple(value)


def load_config(path: str | os.PathLike[str]) -> BriefingConfig:
    """Read and check a briefing config (TOML).

    Parameters
    ----------
    path
        The config file. Relative paths inside it (``[steps.suitability] scenario``) are
        resolved against its folder, never the working directory.

    Returns
    -------
    BriefingConfig

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    cci_geo.errors.ScenarioError
        Invalid TOML, an unknown section, key, step or parameter, or a value of the wrong
        kind; the message names it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "b.toml").write_text('[briefing]\\ntitle = "Haidian"\\n'
    ...                                   '[steps.layout]\\nk = 3\\n', encoding="utf-8")
    >>> cfg = load_config(folder / "b.toml")
    >>> cfg.title, cfg.step_params("layout")["k"], cfg.base_dir == folder
    ('Haidian', 3, True)
    """
    p = Path(path)
    data = read_toml(p, "briefing config (write a starting one with --write-config)")
    where = str(p)
    extra = set(data) - {"briefing", "steps"}
    if extra:
        msg = f"{where}: unknown section(s) {sorted(extra)}; use [briefing] and [steps.<name>]."
        raise ScenarioError(msg)
    head = data.get("briefing", {})
    unknown = set(head) - set(_BRIEFING_KEYS)
    if unknown:
        msg = f"{where}: unknown key(s) {sorted(unknown)} in [briefing]; allowed: {_BRIEFING_KEYS}."
        raise ScenarioError(msg)
    steps = data.get("steps", {})
    if not isinstance(steps, dict) or not all(isinstance(v, dict) for v in steps.values()):
        msg = f"{where}: [steps] must hold one table per step, e.g. [steps.layout]."
        raise ScenarioError(msg)
    kw: dict[str, Any] = {}
    for key in ("title", "subtitle", "lang", "basemap"):
        if key in head:
            if not isinstance(head[key], str):
                msg = f"{where}: [briefing] {key} must be a string, got {head[key]!r}."
                raise ScenarioError(msg)
            if head[key] or key in ("lang", "basemap"):
                kw[key] = head[key]
    if head.get("view"):
        kw["view"] = head["view"]
    if "steps" in head:
        kw["steps"] = _strings(head["steps"], "steps", where)
    if "visible" in head:
        kw["visible"] = _strings(head["visible"], "visible", where)
    return BriefingConfig(**kw, params=steps, base_dir=p.resolve().parent, source=where)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    msg = f"cannot write {value!r} to TOML"
    raise ParameterTypeError(msg)


def default_config_text(visible: Sequence[str] | None = None) -> str:
    """Return the default briefing config as a commented TOML file.

    Every registered step gets a ``[steps.<name>]`` table with its parameters at their
    defaults and one comment each; loading the text gives the defaults back. ``visible``
    defaults to the briefing's first-view layers (:data:`cci_geo.maps.briefing.BRIEFING_VISIBLE`).

    Examples
    --------
    >>> text = default_config_text()
    >>> "[steps.layout]" in text and "k = 6" in text
    True
    >>> import tomllib
    >>> tomllib.loads(text)["steps"]["concentration"]["eps_m"]
    400.0
    """
    from ..maps.briefing import BRIEFING_VISIBLE

    steps = registered_steps()
    visible = sorted(BRIEFING_VISIBLE) if visible is None else list(visible)
    lines = [
        "# cci-geo briefing config: cci-geo briefing --atlas my_atlas.gpkg --config THIS_FILE",
        "# Every value below is the default; delete what you do not change.",
        "",
        "[briefing]",
        'title = ""          # shown top left; "" = the atlas\'s name',
        'subtitle = ""       # "" = "Planning briefing map" in the map\'s language',
        'lang = "zh"         # zh | en',
        'basemap = "none"    # none (offline) | osm | cartodb | gaode | tianditu',
        "view = []           # first view [west, south, east, north] in degrees;",
        "                    # [] = the bounds of the atlas's own data (its study region)",
        f"steps = {_toml(list(steps))}",
        "                    # steps to run; a step whose layers are missing is skipped and",
        "                    # the plan printed before the run says why",
    ]
    lines += [f"visible = {_toml(visible)}",
              "                    # layer kinds / results switched on when the map opens; the",
              "                    # others are listed, off, in the map's layer control"]
    for step in steps.values():
        lines += ["", f"# {step.name}: {step.summary}" if step.summary else f"# {step.name}",
                  f"[steps.{step.name}]"]
        for key, value in step.params.items():
            text = f"{key} = {_toml(value)}"
            helptext = step.param_help.get(key)
            lines.append(f"{text:<28} # {helptext}" if helptext else text)
    return "\n".join(lines) + "\n"


def write_config(path: str | os.PathLike[str], *, overwrite: bool = False,
                 visible: Sequence[str] | None = None) -> Path:
    """Write :func:`default_config_text` to ``path`` (atomically; never replaces a file
    unless ``overwrite``).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = write_config(pathlib.Path(tempfile.mkdtemp()) / "briefing.toml")
    >>> load_config(path).step_params("corridors")["width_km"]
    20.0
    """
    with atomic_path(path, overwrite=overwrite) as tmp:
        Path(tmp).write_text(default_config_text(visible), encoding="utf-8")
    return Path(path)
