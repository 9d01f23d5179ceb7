"""Declared workflow steps: what each needs, which parameters it takes, what it can derive.

A :class:`Step` names the atlas layers and columns it needs (:class:`Need`), its parameters
with their defaults, and a function that runs it. Steps are registered in order with
:func:`register_step`; the briefing runs the registered steps (:mod:`cci_geo.workflows.plan`
decides which can run before any work). Adding a step is one registration::

    register_step(Step("monitoring", run=_monitoring, needs=(Need("enterprises", ("founded",)),),
                       params={"window_years": 5}, summary="change over time"))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ParameterError

__all__ = ["Need", "Step", "StepContext", "get_step", "register_step", "registered_steps"]


@dataclass(frozen=True)
class Need:
    """An atlas layer (and columns of it) a step reads.

    Attributes
    ----------
    layer
        Layer kind (``"enterprises"``, ``"districts"`` ...).
    columns
        Columns of that layer the step reads. A column named by a parameter is written
        ``"{param}"`` (e.g. ``"{weight}"``) and checked only when the parameter is set.
    optional
        When True the step runs without the layer (or a column), doing less; the plan says
        what is left out (``without``).
    without
        What the step leaves out when an optional need is missing (shown in the plan).
    alternatives
        Other layers that satisfy the need as well as ``layer`` (any one will do).
    hint
        Another way to supply it, added to the plan's reason when it is missing.
    """

    layer: str
    columns: tuple[str, ...] = ()
    optional: bool = False
    without: str = ""
    alternatives: tuple[str, ...] = ()
    hint: str = ""


@dataclass
class StepContext:
    """What a running step sees.

    Attributes
    ----------
    atlas
        The atlas, with derived columns added (e.g. ``enterprises.district``).
    params
        The step's parameters (defaults overridden by the config).
    region
        The study region: a GeoDataFrame of polygons in EPSG:4326 (the districts holding the
        data, or the data's extent when the atlas has no districts).
    shared
        Results earlier steps left for later ones (e.g. ``"suitability"`` scores).
    base_dir
        Folder against which relative paths in the parameters are resolved (the config
        file's folder), or None.
    notes
        Lines the step adds to the map's notes and the run summary (what it left out, why).
    notes_zh
        The same lines in Chinese, for a Chinese map.
    """

    atlas: Any
    params: Mapping[str, Any]
    region: Any
    shared: dict[str, Any] = field(default_factory=dict)
    base_dir: Any = None
    notes: list[str] = field(default_factory=list)
    notes_zh: list[str] = field(default_factory=list)

    def has(self, layer: str) -> bool:
        """Return True when the atlas holds a non-empty layer ``layer``."""
        layers = self.atlas.layers if hasattr(self.atlas, "layers") else self.atlas
        gdf = layers.get(layer)
        return gdf is not None and len(gdf) > 0

    def note(self, text: str, zh: str = "") -> None:
        """Record ``text`` for the map and the run summary (``zh``: the same in Chinese)."""
        self.notes.append(text)
        self.notes_zh.append(zh or text)


#: A step function takes the context and returns the results to draw.
StepFunction = Callable[[StepContext], list[Any]]


@dataclass(frozen=True)
class Step:
    """A declared workflow step.

    Attributes
    ----------
    name
        Step name (``"concentration"``), also its section in a briefing config
        (``[steps.concentration]``).
    run
        Function ``run(context) -> list of results``.
    needs
        Layers and columns it reads.
    params
        Parameters and their defaults; a config may override them, never add others.
    summary
        One line saying what the step computes (shown by ``--write-config``).
    param_help
        One line per parameter (shown as comments by ``--write-config``).
    uses
        Names of earlier steps whose results it uses when they ran (never required).
    needs_for
        Optional function ``needs_for(params, base_dir) -> needs`` adding needs that depend
        on the parameters (e.g. the layers a scenario file names).
    """

    name: str
    run: StepFunction
    needs: tuple[Need, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    param_help: Mapping[str, str] = field(default_factory=dict)
    uses: tuple[str, ...] = ()
    needs_for: Callable[[Mapping[str, Any], Any], tuple[Need, ...]] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "param_help", MappingProxyType(dict(self.param_help)))


_REGISTRY: dict[str, Step] = {}


def register_step(step: Step, *, replace: bool = False) -> Step:
    """Add ``step`` to the steps a briefing runs (after those already registered).

    Parameters
    ----------
    step
        The declared step.
    replace
        Replace a step of the same name (keeping its place); otherwise that is an error.

    Returns
    -------
    Step
        ``step``.

    Raises
    ------
    cci_geo.errors.ParameterError
        If a step of that name is registered and ``replace`` is False.

    Examples
    --------
    >>> from cci_geo.workflows import Step, register_step, registered_steps
    >>> "concentration" in registered_steps()
    True
    >>> register_step(Step("concentration", run=lambda ctx: []))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cci_geo.errors.ParameterError: a workflow step named 'concentration' is already ...
    """
    if step.name in _REGISTRY and not replace:
        msg = (f"a workflow step named {step.name!r} is already registered; pass "
               "replace=True to replace it.")
        raise ParameterError(msg)
    _REGISTRY[step.name] = step
    return step


def registered_steps() -> dict[str, Step]:
    """Return the registered steps in running order (a copy).

    Examples
    --------
    >>> from cci_geo.workflows import registered_steps
    >>> list(registered_steps())[:3]
    ['concentration', 'accessibility', 'suitability']
    """
    return dict(_REGISTRY)


def get_step(name: str) -> Step:
    """Return the registered step ``name``.

    Raises
    ------
    cci_geo.errors.ParameterError
        If no step has that name (the message lists the registered ones).

    Examples
    --------
    >>> from cci_geo.workflows import get_step
    >>> get_step("layout").params["k"]
    6
    """
    if name not in _REGISTRY:
        msg = f"no workflow step named {name!r}; registered: {list(_REGISTRY)}."
        raise ParameterError(msg)
    return _REGISTRY[name]
