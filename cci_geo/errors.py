"""Exception hierarchy of cci_geo, and the error contract.

The contract
------------
- Every error a user can cause (bad data, bad argument, bad scenario, an output that exists, a
  grid too large) is a :class:`CciGeoError` subclass. Each also derives from the builtin a
  caller would naturally catch (``ValueError``, ``OSError``, ``MemoryError``), so
  ``except ValueError`` keeps working: argument errors are :class:`ParameterError`
  (a ``ValueError``).
- Errors raised by readers and libraries (pyogrio/GDAL, pyarrow, rasterio, pyproj, codecs,
  tomllib, pandas' CSV parser, shapely's WKT reader) are wrapped at the boundary where cci_geo
  calls them into a :class:`DataError` (or :class:`ParameterError`) that names the file, says
  what is wrong and how to fix it; the original stays available as ``__cause__``.
- A message names the argument, layer, column, rows or value, and the fix. A fix that names
  an option is written once with :func:`opt`, which carries both spellings: ``str(error)``
  gives the Python form (``encoding='gbk'``) and :meth:`CciGeoError.for_cli` the command-line
  form (``--encoding gbk``), which is what ``cci-geo`` prints.
- The ``cci-geo`` command never shows a traceback for a user error: it prints one message and
  exits with status 1 (bad data or arguments), 2 (usage errors found by the argument parser),
  130 (interrupted; temporary files are removed). ``--debug`` prints the traceback. Any other
  exception is a bug: the command says so, asks for a report with the ``--debug`` output and
  exits with status 70.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "CRSMismatchError",
    "CciGeoError",
    "DataError",
    "InfeasibleError",
    "NetworkUnavailableError",
    "OutputExistsError",
    "OutputWriteError",
    "MissingFileError",
    "ParameterError",
    "ParameterTypeError",
    "Problem",
    "ResourceLimitError",
    "ScenarioError",
    "SchemaError",
    "opt",
    "render",
]

_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_OPT = re.compile(f"{_OPEN}(.*?){_SEP}(.*?){_CLOSE}", re.DOTALL)


def opt(python: str, cli: str | None = None) -> str:
    """Return a fix that names an option in both its Python and its command-line spelling.

    Embed the result in an error message; ``str(error)`` shows ``python`` and
    :meth:`CciGeoError.for_cli` shows ``cli`` (``python`` when ``cli`` is None).

    Examples
    --------
    >>> err = DataError("not UTF-8 text; pass " + opt("encoding='gbk'", "--encoding gbk"))
    >>> str(err)
    "not UTF-8 text; pass encoding='gbk'"
    >>> err.for_cli()
    'not UTF-8 text; pass --encoding gbk'
    """
    return f"{_OPEN}{python}{_SEP}{python if cli is None else cli}{_CLOSE}"


def render(text: str, form: str = "python") -> str:
    """Return ``text`` with every :func:`opt` marker in the ``"python"`` or ``"cli"`` form.

    Examples
    --------
    >>> text = "pass " + opt("encoding='gbk'", "--encoding gbk")
    >>> render(text)
    "pass encoding='gbk'"
    >>> render(text, "cli")
    'pass --encoding gbk'
    """
    group = 2 if form == "cli" else 1
    return _OPT.sub(lambda m: m.group(group), text)


class CciGeoError(Exception):
    """Base class of every error raised by cci_geo.

    ``str(error)`` is the message for Python callers; :meth:`for_cli` is the same message with
    options spelled as command-line flags (see :func:`opt`).
    """

    def __str__(self) -> str:
        return render(super().__str__(), "python")

    def for_cli(self) -> str:
        """Return the message with options written as ``cci-geo`` flags."""
        return render(super().__str__(), "cli")


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


class ParameterTypeError(ParameterError, TypeError):
    """An argument has the wrong type (a string where a number is needed...); also a TypeError."""


class MissingFileError(CciGeoError, FileNotFoundError):
    """An input file named by the caller does not exist; the message names it."""


class ResourceLimitError(CciGeoError, MemoryError):
    """A grid, raster or matrix would exceed the memory limit set in :class:`Settings`.

    The message gives the estimated size and how to reduce it (cell size, extent, limit).
    """


class OutputExistsError(CciGeoError, FileExistsError):
    """An output file exists and replacing it was not asked for (``overwrite=True``)."""


class OutputWriteError(CciGeoError, OSError):
    """An output could not be written: the disk is full or the folder is read-only.

    Nothing was written and any previous output is unchanged; the message says what to free
    or where else to write.
    """
