"""Read a TOML file (a scenario or a briefing config) with errors that name the file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import MissingFileError, ScenarioError

__all__ = ["read_toml"]


def read_toml(path: str | os.PathLike[str], what: str = "file") -> dict[str, Any]:
    """Return the parsed TOML file at ``path``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist (the message names ``what`` it should have been).
    cci_geo.errors.ScenarioError
        If the file is not valid TOML (the message names the file, line and column).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = p.write_text("[model]\\nk = 3\\n", encoding="utf-8")
    >>> read_toml(p)
    {'model': {'k': 3}}
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{what} {p} does not exist."
        raise MissingFileError(msg)
    try:  # utf-8-sig: a byte-order mark (Windows Notepad) is not a TOML error
        return tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{p} is not valid TOML: {exc}"
        raise ScenarioError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = (f"{p} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 "
               "(e.g. 'Save as... UTF-8' in your editor).")
        raise ScenarioError(msg) from exc
