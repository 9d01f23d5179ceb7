"""Read a TOML file (a scenario or a briefing config) with errors that name the file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import ScenarioError

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
        raise FileNotFoundError(msg)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{p} is not valid TOML: {exc}"
        raise ScenarioError(msg) from exc
