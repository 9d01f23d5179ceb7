"""Atomic output files: write to a temporary sibling, then rename into place."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "check_writable"]


def check_writable(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Return ``path`` as a Path; raise ``FileExistsError`` if it exists and not ``overwrite``."""
    p = Path(path)
    if p.exists() and not overwrite:
        msg = f"{p} already exists; pass overwrite=True (CLI: --overwrite) to replace it."
        raise FileExistsError(msg)
    if p.exists() and p.is_dir():
        msg = f"{p} is a directory; give a file path."
        raise IsADirectoryError(msg)
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    If the body raises, the temporary file is removed and ``path`` is left untouched, so a
    failed write never leaves a half-written output or destroys the previous one.
    """
    target = check_writable(path, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix,
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers (GDAL, pyogrio) want to create the file themselves
    try:
        yield tmp
        if not tmp.exists():
            msg = f"writer produced no file for {target}"
            raise OSError(msg)
        tmp.replace(target)
    finally:
        for leftover in (tmp, *tmp.parent.glob(tmp.stem + ".*")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
