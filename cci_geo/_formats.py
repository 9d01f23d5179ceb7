"""Readers and writers behind :mod:`cci_geo.io` for Excel workbooks and Esri geodatabases.

Excel (``.xlsx`` with openpyxl, legacy ``.xls`` with xlrd) is read as a table with
coordinate columns, like a CSV. A File Geodatabase (a ``.gdb`` directory) is read and written
through GDAL's OpenFileGDB driver (pyogrio); writing needs GDAL >= 3.6.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from .errors import DataError, OutputExistsError

logger = logging.getLogger(__name__)

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
GDB_DRIVER = "OpenFileGDB"
_INT32 = (np.iinfo(np.int32).min, np.iinfo(np.int32).max)


def _engine(path: Path) -> str:
    engine = package = module = "xlrd" if path.suffix.lower() == ".xls" else "openpyxl"
    try:
        importlib.import_module(module)
    except ImportError as exc:
        msg = (f"reading {path.name} needs the {package!r} package; install it with "
               f"`pip install {package}`.")
        raise DataError(msg) from exc
    return engine


@contextlib.contextmanager
def _quiet_xlrd() -> Iterator[None]:
    """pandas 3 deprecates its xlrd engine; xlrd still reads legacy .xls files correctly."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The xlrd engine is deprecated")
        yield


def read_excel_table(path: Path, sheet: str | int | None,
                     looks_spatial: Callable[[list[str]], bool]) -> pd.DataFrame:
    """Return the chosen sheet of an Excel workbook as a DataFrame (ids kept as text).

    With ``sheet=None`` a one-sheet workbook is read; in a workbook of several sheets the one
    sheet whose header has coordinate (or WKT) columns is read, as judged by
    ``looks_spatial(columns) -> bool``; otherwise the caller must choose.
    """
    engine = _engine(path)
    broken: tuple[type[BaseException], ...] = (zipfile.BadZipFile, ValueError, OSError, KeyError)
    if engine == "xlrd":  # xlrd raises its own error for damaged .xls files
        broken = (*broken, importlib.import_module("xlrd").XLRDError)
    with _quiet_xlrd():
        try:
            book = pd.ExcelFile(path, engine=engine)
        except broken as exc:
            msg = (f"cannot read {path.name} as an Excel workbook ({exc}); save it again "
                   "from Excel.")
            raise DataError(msg) from exc
    with book:
        names = list(book.sheet_names)
        if sheet is None:
            if len(names) == 1:
                sheet = names[0]
            else:
                with _quiet_xlrd():
                    heads = {n: pd.read_excel(book, sheet_name=n, nrows=0).columns
                             for n in names}
                spatial = [n for n in names if looks_spatial([str(c) for c in heads[n]])]
                if len(spatial) != 1:
                    msg = (f"{path.name} holds {len(names)} sheets {names}"
                           f"{'' if spatial else ', none with coordinate columns'}; choose "
                           "one with layer=<sheet name or index> (CLI: --layer).")
                    raise DataError(msg)
                sheet = spatial[0]
                logger.info("%s: reading sheet %r (the one with coordinates)", path.name, sheet)
        elif isinstance(sheet, int) and not 0 <= sheet < len(names):
            msg = (f"{path.name} has {len(names)} sheets {names}; sheet index {sheet} is out "
                   "of range.")
            raise DataError(msg)
        elif isinstance(sheet, str) and sheet not in names:
            msg = f"{path.name} has no sheet {sheet!r}; its sheets are {names}."
            raise DataError(msg)
        with _quiet_xlrd():
            df = pd.read_excel(book, sheet_name=sheet, dtype={"id": str, "adcode": str})
    df.columns = [str(c).strip() for c in df.columns]
    return df.dropna(how="all").reset_index(drop=True)


def gdb_layers(path: Path) -> list[str]:
    """Names of the tables in a File Geodatabase (spatial or not)."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        msg = f"{path} is not a readable File Geodatabase: {exc}"
        raise DataError(msg) from exc


def _gdb_ready(df: pd.DataFrame) -> pd.DataFrame:
    """FileGDB's integer field is 32-bit: narrow 64-bit integer columns whose values fit."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if col == getattr(out, "_geometry_column_name", None) or not \
                pd.api.types.is_integer_dtype(s):
            continue
        vals = s.dropna()
        if len(vals) == 0 or (vals.min() >= _INT32[0] and vals.max() <= _INT32[1]):
            out[col] = s.astype("Int32" if s.hasnans else "int32")
        else:
            out[col] = s.astype("float64")
            logger.info("column %r holds integers beyond 32 bits: written as float64", col)
    return out


def write_gdb_tables(path: Path, tables: dict[str, pd.DataFrame], *,
                     overwrite: bool = False, whole: bool = False) -> Path:
    """Write ``tables`` (name -> GeoDataFrame or DataFrame) into the FileGDB ``path``.

    Tables are added to an existing geodatabase; replacing a table that exists needs
    ``overwrite``. With ``whole`` the geodatabase is made of ``tables`` only (replacing an
    existing one needs ``overwrite``). It is built in a temporary directory and swapped into
    place, so a failure leaves the previous one untouched.
    """
    if GDB_DRIVER not in pyogrio.list_drivers(write=True):
        msg = (f"this GDAL ({pyogrio.__gdal_version_string__}) cannot write File "
               "Geodatabases; GDAL >= 3.6 with the OpenFileGDB driver is needed.")
        raise DataError(msg)
    if whole and path.exists() and not overwrite:
        msg = f"{path} already exists; pass overwrite=True (CLI: --overwrite) to replace it."
        raise OutputExistsError(msg)
    existing = gdb_layers(path) if path.exists() and not whole else []
    clash = [t for t in tables if t in existing]
    if clash and not overwrite:
        msg = (f"{path} already holds {clash}; pass overwrite=True (CLI: --overwrite) to "
               "replace them.")
        raise OutputExistsError(msg)
    with _swapped_dir(path, copy=not whole) as tmp:
        for name, df in tables.items():
            kwargs: dict[str, object] = {"driver": GDB_DRIVER, "layer": name}
            pyogrio.write_dataframe(_gdb_ready(df), tmp, **kwargs)
    logger.info("wrote %s to %s", list(tables), path)
    return path


@contextlib.contextmanager
def _swapped_dir(path: Path, *, copy: bool) -> Iterator[Path]:
    """Yield a temporary copy of directory ``path`` (or a fresh name); swap it in on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    tmp = work / path.name
    try:
        if copy and path.exists():
            shutil.copytree(path, tmp)
        yield tmp
        if not tmp.exists():
            msg = f"writer produced no geodatabase for {path}"
            raise OSError(msg)
        old = work / (path.name + ".old")
        if path.exists():
            path.replace(old)
        tmp.replace(path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["EXCEL_SUFFIXES", "GDB_DRIVER", "gdb_layers", "read_excel_table",
           "write_gdb_tables"]
