"""Exception hierarchy of cci_geo.

Every error a user can cause derives from :class:`CciGeoError` and also from the builtin
exception a caller would naturally catch (``ValueError``, ``TypeError``, ``OSError``), so
``except ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "CRSMismatchError",
    "CciGeoError",
    "DataError",
    "InfeasibleError",
    "NetworkUnavailableError",
    "ParameterError",
    "Problem",
    "ResourceLimitError",
    "ScenarioError",
    "SchemaError",
]


class CciGeoError(Exception):
    """Base class of every error raised by cci_geo."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a layer.

    Attributes
    ----------
    layer
        Layer name or kind the problem belongs to.
    check
        Short machine-readable name of the check (``"missing_column"``, ``"crs"``...).
    message
        Human-readable description naming the column, rows and value.
    fix
        What the user should do about it.
    column
        Offending column, if any.
    rows
        Offending row labels (index values), possibly truncated.
    severity
        ``"error"`` or ``"warning"``.
    """

    layer: str
    check: str
    message: str
    fix: str
    column: str | None = None
    rows: tuple[object, ...] = field(default_factory=tuple)
    severity: str = "error"

    def __str__(self) -> str:
        return f"[{self.layer}] {self.message} Fix: {self.fix}"


class SchemaError(CciGeoError, ValueError):
    """A layer does not satisfy the cci_geo data model.

    The message lists every problem found (not just the first), each naming the layer, the
    column, the offending rows and the fix. ``problems`` holds them as :class:`Problem`.
    """

    def __init__(self, problems: Sequence[Problem] | str, layer: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem(layer or "?", "error", problems, "see the message")]
        self.problems: list[Problem] = list(problems)
        self.layer = layer or (self.problems[0].layer if self.problems else None)
        n = len(self.problems)
        head = f"layer {self.layer!r} failed validation with {n} problem{'s' if n != 1 else ''}:"
        body = "\n".join(f"  - {p.message} Fix: {p.fix}" for p in self.problems)
        super().__init__(f"{head}\n{body}")


class CRSMismatchError(CciGeoError, ValueError):
    """Two inputs that must share a coordinate reference system do not."""


class DataError(CciGeoError, ValueError):
    """Input data is unusable for the requested analysis (empty, degenerate, NaN...)."""


class ScenarioError(CciGeoError, ValueError):
    """A scenario file or dictionary is invalid; the message names the key and the fix."""


class InfeasibleError(CciGeoError, ValueError):
    """An optimisation problem has no feasible solution; the message names the constraint."""


class NetworkUnavailableError(CciGeoError, OSError):
    """An online source (OpenStreetMap, tiles) was asked for but cannot be reached."""


class ParameterError(CciGeoError, ValueError):
    """An argument is out of range or of the wrong kind; the message names it and the fix."""


class ResourceLimitError(CciGeoError, MemoryError):
    """A grid, raster or matrix would exceed the memory limit set in :class:`Settings`.

    The message gives the estimated size and how to reduce it (cell size, extent, limit).
    """
