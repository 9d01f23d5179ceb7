"""Output files that are never lost: exclusive creation, shapefile sidecars, transactions.

Three rules hold for every file cci_geo writes:

- **Atomic.** A writer fills a private staging folder beside the target; the finished file is
  moved into place in one step, so a reader, a full disk or an interrupt never sees or leaves a
  half-written output, and no staging file survives (they are removed on any error, including
  ``KeyboardInterrupt``).
- **Never replaced unless asked.** Without ``overwrite`` the file is placed with ``os.link``,
  which fails if the name exists *at that moment*: of two processes writing one path, exactly
  one wins and the other gets :class:`~cci_geo.errors.OutputExistsError`. A shapefile is its
  family (``.shp .shx .dbf .prj .cpg .qix ...``): any existing member counts as the file.
- **Sets are transactions.** :func:`transaction` stages several files and moves them in
  together, the manifest last, with interrupts deferred while they move; a failure rolls back,
  so the folder holds either the previous complete set or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from .errors import CciGeoError, OutputExistsError, OutputWriteError, ParameterError, opt

__all__ = ["Staging", "atomic_path", "check_writable", "family", "safe_relative", "transaction",
           "write_failure"]

SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".fix",
                      ".qmd", ".shp.xml", ".aih", ".ain", ".atx", ".ixs", ".mxs")
_STAGE_PREFIX = ".cci_geo-staging-"
_NAME_MAX = 255


def family(path: str | os.PathLike[str]) -> list[Path]:
    """Return the files that make up ``path``: itself, or a shapefile and all its sidecars."""
    p = Path(path)
    if p.suffix.lower() != ".shp":
        return [p]
    base = p.with_suffix("")
    out = [p]
    for ext in SHAPEFILE_SIDECARS[1:]:
        out.extend({Path(f"{base}{ext}"), Path(f"{base}{ext.upper()}")})
    return out


def _existing(path: Path) -> list[Path]:
    return [m for m in family(path) if os.path.lexists(m)]


def check_writable(path: str | os.PathLike[str], *, overwrite: bool,
                   option: tuple[str, str] = ("path", "--out")) -> Path:
    """Check cheaply that ``path`` can be written, before any expensive work; return it.

    Refuses a directory, a file name longer than the file system allows, a folder that cannot
    be written, and (without ``overwrite``) an existing file or any member of a shapefile's
    family. ``option`` names the argument in Python and CLI form for the messages.

    Raises
    ------
    cci_geo.errors.OutputExistsError
        The file (or a sidecar) exists and ``overwrite`` is false.
    cci_geo.errors.ParameterError
        The path is a folder, its name is too long, or its folder is not writable.
    """
    p = Path(path)
    where = opt(option[0], option[1])
    too_long = [part for part in p.parts if len(os.fsencode(part)) > _name_max(p.parent)]
    if too_long:
        name = too_long[0]
        msg = (f"the file name {name[:40]!r}... is {len(os.fsencode(name))} bytes long, more "
               f"than the file system allows ({_name_max(p.parent)}); use a shorter name "
               "(e.g. a shorter scenario name).")
        raise ParameterError(msg)
    if p.is_dir():
        msg = f"{p} is a folder; give a file path for {where}."
        raise ParameterError(msg)
    existing = _existing(p)
    if existing and not overwrite:
        names = ", ".join(str(e) for e in existing[:5])
        msg = (f"{names} already exist{'s' if len(existing) == 1 else ''}; pass "
               f"{opt('overwrite=True', '--overwrite')} to replace it, or choose another "
               f"{where}.")
        raise OutputExistsError(msg)
    folder = p.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        msg = f"cannot create {p}: {folder} is a file, not a folder; choose another {where}."
        raise ParameterError(msg)
    if not os.access(folder, os.W_OK | os.X_OK):
        msg = f"cannot write into {folder} (permission denied); choose another {where}."
        raise ParameterError(msg)
    return p


def _name_max(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return _NAME_MAX


def safe_relative(name: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                  what: str, allow_outside: bool = False) -> Path:
    """Return ``out_dir / name``, refusing a ``name`` that leaves ``out_dir``.

    Paths named in scenario files must stay inside the output folder: no absolute path, no
    ``..`` out of it, no symlink pointing elsewhere, unless ``allow_outside`` is true.
    """
    base = Path(out_dir)
    p = Path(name)
    target = p if p.is_absolute() else base / p
    if allow_outside:
        return target
    root = base.resolve()
    if p.is_absolute() or not target.resolve().is_relative_to(root):
        msg = (f"{what} = {str(name)!r} points outside the output folder {base}; give a name "
               f"inside it, or pass {opt('allow_outside=True', '--allow-outside-out')} to "
               "write there on purpose.")
        raise ParameterError(msg)
    return target


_FULL_WORDS = ("no space left", "disk is full", "disk full", "not enough space", "quota")
_LOW_SPACE = 1 << 20


def write_failure(exc: BaseException, target: Path) -> CciGeoError | None:
    """Return a user error for a writer's failure caused by the disk, or None for a bug.

    Writers (GDAL, sqlite, pyarrow, rasterio) report a full disk or a read-only folder in
    their own exception types; this recognises the cause from the errno, the message or the
    free space left, so the caller can raise one clear :class:`OutputWriteError`.
    """
    if isinstance(exc, CciGeoError) or not isinstance(exc, Exception):
        return None
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if code in (errno.ENOSPC, errno.EDQUOT) or any(w in text for w in _FULL_WORDS) or (
            free is not None and free < _LOW_SPACE):
        left = f" ({free / 1e6:.1f} MB free)" if free is not None else ""
        msg = (f"no space left on the device while writing {target}{left}; free some space or "
               f"choose another output folder ({opt('out_dir', '--out')}). Nothing was "
               "written and any previous output is unchanged.")
        return OutputWriteError(msg)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "read-only" in text \
            or "permission denied" in text:
        msg = (f"cannot write {target}: the folder is read-only or not yours; choose another "
               f"output folder ({opt('out_dir', '--out')}).")
        return OutputWriteError(msg)
    return None


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while files move into place; re-raise afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        got.append(signum)

    old = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if got:
            term = old[signal.SIGTERM]
            if got[0] == signal.SIGTERM and callable(term):
                term(signal.SIGTERM, None)
            raise KeyboardInterrupt


def _place_new(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` only if ``dst`` does not exist (atomic against other writers)."""
    try:
        os.link(src, dst)
    except FileExistsError:
        msg = (f"{dst} already exists (created meanwhile by another writer?); pass "
               f"{opt('overwrite=True', '--overwrite')} to replace it.")
        raise OutputExistsError(msg) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK):
            raise
        try:  # no hard links here: reserve the name exclusively, then fill it
            fd = os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            msg = f"{dst} already exists; pass {opt('overwrite=True', '--overwrite')}."
            raise OutputExistsError(msg) from None
        os.close(fd)
        src.replace(dst)
        return
    src.unlink()


class Staging:
    """A private folder where a set of outputs is written before it moves into place.

    Use :func:`transaction` (or :func:`atomic_path` for one file) rather than this class.
    """

    def __init__(self, out_dir: Path, *, overwrite: bool, manifest: str | None) -> None:
        self.out_dir = out_dir
        self.overwrite = overwrite
        self.manifest = manifest
        self.names: list[str] = []
        self.created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
        out_dir.mkdir(parents=True, exist_ok=True)
        self.committed = False
        self.dir = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX, dir=out_dir))

    def path(self, name: str) -> Path:
        """Return the staging path where the output ``name`` is written.

        ``name`` is a file name or a relative path inside the output folder (no ``..``).
        """
        rel = Path(name)
        if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts):
            msg = f"output name {name!r} must be a relative file name inside {self.out_dir}."
            raise ParameterError(msg)
        key = rel.as_posix()
        if key not in self.names:
            self.names.append(key)
        (self.dir / rel).parent.mkdir(parents=True, exist_ok=True)
        return self.dir / rel

    def targets(self) -> list[Path]:
        """Return the final paths of every registered output."""
        return [self.out_dir / n for n in self.names]

    def check(self) -> None:
        """Refuse early (before the work) if any registered output cannot be written."""
        for t in self.targets():
            check_writable(t, overwrite=self.overwrite)

    def _files(self) -> list[str]:
        staged = sorted(p.relative_to(self.dir).as_posix() for p in self.dir.rglob("*")
                        if not p.is_dir())
        for n in self.names:
            if n not in staged:
                msg = f"the writer produced no file for {self.out_dir / n}"
                raise OSError(msg)
        last = [self.manifest] if self.manifest in staged else []
        return [n for n in staged if n not in last] + last

    def commit(self) -> None:
        """Move every staged file into place together (manifest last), or none of them."""
        files = self._files()
        self.committed = True  # from here on the folder holds (or held) outputs
        if not self.overwrite:
            for n in files:  # cheap re-check; _place_new is the atomic one
                check_writable(self.out_dir / n, overwrite=False)
        with _interrupts_deferred():
            if self.overwrite:
                self._swap(files)
            else:
                placed: list[Path] = []
                try:
                    for n in files:
                        (self.out_dir / n).parent.mkdir(parents=True, exist_ok=True)
                        _place_new(self.dir / n, self.out_dir / n)
                        placed.append(self.out_dir / n)
                except BaseException:
                    for p in placed:
                        with contextlib.suppress(OSError):
                            p.unlink()
                    raise

    def _swap(self, files: list[str]) -> None:
        backup = Path(tempfile.mkdtemp(prefix=_STAGE_PREFIX + "old-", dir=self.out_dir))
        moved: list[tuple[Path, Path]] = []  # (backup, original)
        placed: list[Path] = []
        try:
            # every old member moves aside, so an old .qix never sits beside a new .shp
            old = list(dict.fromkeys(t for n in files for t in _existing(self.out_dir / n)))
            manifest = self.out_dir / self.manifest if self.manifest else None
            order = sorted(old, key=lambda t: t != manifest)  # the old manifest goes first
            for i, t in enumerate(order):
                b = backup / f"{i}-{t.name}"
                t.replace(b)
                moved.append((b, t))
            for n in files:
                (self.out_dir / n).parent.mkdir(parents=True, exist_ok=True)
                (self.dir / n).replace(self.out_dir / n)
                placed.append(self.out_dir / n)
        except BaseException:
            for p in placed:
                with contextlib.suppress(OSError):
                    p.unlink()
            for b, t in reversed(moved):
                with contextlib.suppress(OSError):
                    b.replace(t)
            raise
        finally:
            shutil.rmtree(backup, ignore_errors=True)

    def discard(self) -> None:
        """Remove the staging folder, and the output folders it created if nothing landed."""
        shutil.rmtree(self.dir, ignore_errors=True)
        if not self.committed:
            for folder in self.created:  # innermost first; only while still empty
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _new_staging(out_dir: Path, overwrite: bool, manifest: str | None) -> Staging:
    try:
        return Staging(out_dir, overwrite=overwrite, manifest=manifest)
    except OSError as exc:
        user = write_failure(exc, out_dir / (manifest or "outputs"))
        if user is None:
            raise
        raise user from exc


@contextlib.contextmanager
def transaction(out_dir: str | os.PathLike[str], *, overwrite: bool = False,
                manifest: str | None = None) -> Iterator[Staging]:
    """Write a set of files into ``out_dir`` as one transaction.

    Inside the block, ask the staging object for a path per output (``stage.path("a.csv")``)
    and write there. When the block ends without error the files move into ``out_dir``
    together, ``manifest`` (a file name) last; interrupts are held while they move and any
    failure restores what was there. If the block raises (an error, a full disk, Ctrl-C) the
    staging folder is removed and ``out_dir`` is unchanged.

    Parameters
    ----------
    out_dir
        Output folder (created if needed).
    overwrite
        Replace existing files of the same names. Without it an existing name is an error and
        nothing is written.
    manifest
        Name of the file that marks a complete set (moved last).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with transaction(out, manifest="manifest.json") as stage:
    ...     _ = stage.path("table.csv").write_text("a,b\\n1,2\\n")
    ...     _ = stage.path("manifest.json").write_text('{"files": ["table.csv"]}')
    >>> sorted(p.name for p in out.iterdir())
    ['manifest.json', 'table.csv']
    """
    stage = _new_staging(Path(out_dir), overwrite, manifest)
    try:
        yield stage
        stage.commit()
    except Exception as exc:
        user = write_failure(exc, stage.out_dir / (manifest or "outputs"))
        if user is None:
            raise
        raise user from exc
    finally:
        stage.discard()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path with the name of ``path``; on success move it onto ``path``.

    If the body raises, the temporary files are removed and ``path`` is left untouched, so a
    failed write never leaves a half-written output or destroys the previous one. A writer
    that adds sidecar files (a shapefile's ``.dbf``, ``.shx``...) may write them beside the
    yielded path: they move with it.
    """
    target = check_writable(path, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = _new_staging(target.parent, overwrite, None)
    try:
        yield stage.path(target.name)
        stage.commit()
    except Exception as exc:
        user = write_failure(exc, target)
        if user is None:
            raise
        raise user from exc
    finally:
        stage.discard()
