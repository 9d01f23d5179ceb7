"""Read a planner's layers from common GIS formats, and write layers atomically.

Supported inputs: GeoPackage, Esri File Geodatabase (``.gdb``), GeoJSON, Shapefile (honouring
``.cpg``; GBK/GB18030 Chinese shapefiles with an explicit ``encoding``), GeoParquet, FlatGeobuf,
and CSV or Excel (``.xlsx``/``.xls``) tables with longitude and latitude (or WKT) columns.
Everything is returned in WGS-84 (EPSG:4326); data in the Chinese web-map datums (Amap/Gaode,
Tencent: GCJ-02; Baidu: BD-09) is converted on read with ``datum=``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyogrio
import shapely
from pyproj import CRS

from ._files import atomic_path
from ._formats import EXCEL_SUFFIXES, read_excel_table, write_gdb_tables
from .datum import convert_gdf, normalise_datum
from .errors import CciGeoError, DataError, MissingFileError, ParameterError, SchemaError, opt
from .postgis import is_postgis_url, read_table
from .schema import validate

__all__ = ["read_layer", "write_layer"]

logger = logging.getLogger(__name__)

_GBK = opt("encoding='gbk'", "--encoding gbk")
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "wgs84_lon", "gcj02_lon")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj02_lat")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile",
            ".fgb": "FlatGeobuf"}


def _pick(columns: list[str], names: tuple[str, ...], given: str | None, what: str,
          path: Path) -> str | None:
    if given is not None:
        if given not in columns:
            msg = f"{path.name}: {what} column {given!r} not found; columns are {columns}."
            raise DataError(msg)
        return given
    lower = {c.lower().strip(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _read_csv(path: Path, encoding: str | None, lon: str | None, lat: str | None,
              crs: str | None) -> gpd.GeoDataFrame:
    enc = encoding or "utf-8-sig"
    try:
        with path.open(encoding=enc, newline="") as fh:
            header = next(csv.reader(fh), [])
        with warnings.catch_warnings():
            # a row longer than the header would silently become the index or lose data
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, encoding=enc, dtype={"id": str, "adcode": str},
                             index_col=False)
    except pd.errors.ParserWarning as exc:
        msg = (f"{path.name}: some rows have more fields than the header's {len(header)} "
               f"column(s) {header}; check the separator (',') and quoting, or name the "
               "missing columns in the header.")
        raise DataError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = (f"{path.name} is not valid {enc} text ({exc.reason} at byte {exc.start}); "
               "Chinese CSVs exported from Excel are often GBK: pass "
               f"{_GBK}.")
        raise DataError(msg) from exc
    except pd.errors.EmptyDataError as exc:
        msg = f"{path.name} is empty (no header, no rows); give a CSV with a header line."
        raise DataError(msg) from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        msg = (f"{path.name} is not a well-formed CSV ({exc}); check the separator (',') and "
               "quoting, or re-export it.")
        raise DataError(msg) from exc
    dups = sorted({c for c in header if header.count(c) > 1})
    if dups:
        msg = (f"{path.name} has duplicate column names {dups}; give every column a unique "
               "name.")
        raise DataError(msg)
    return _table_to_points(df, path, lon, lat, crs)


def _looks_spatial(columns: list[str]) -> bool:
    lower = {c.lower().strip() for c in columns}
    return bool((lower & set(_LON_NAMES) and lower & set(_LAT_NAMES)) or lower & set(_WKT_NAMES))


def _read_excel(path: Path, sheet: str | int | None, lon: str | None, lat: str | None,
                crs: str | None) -> gpd.GeoDataFrame:
    df = read_excel_table(path, sheet, _looks_spatial)
    return _table_to_points(df, path, lon, lat, crs)


def _table_to_points(df: pd.DataFrame, path: Path, lon: str | None, lat: str | None,
                     crs: str | None) -> gpd.GeoDataFrame:
    """Points from a table's longitude/latitude columns (or a WKT column)."""
    cols = [str(c) for c in df.columns]
    xcol = _pick(cols, _LON_NAMES, lon, "longitude", path)
    ycol = _pick(cols, _LAT_NAMES, lat, "latitude", path)
    if xcol and ycol:
        x = pd.to_numeric(df[xcol], errors="coerce")
        y = pd.to_numeric(df[ycol], errors="coerce")
        text = (x.isna() & df[xcol].notna()) | (y.isna() & df[ycol].notna())
        if text.any():
            rows = list(df.index[text][:10])
            msg = (f"{path.name}: columns {xcol!r}/{ycol!r} hold non-numeric coordinates in "
                   f"rows {rows} (0 = first data line); fix or remove those values.")
            raise DataError(msg)
        bad = ~(np.isfinite(x.to_numpy(float)) & np.isfinite(y.to_numpy(float)))
        if bad.any():
            rows = list(df.index[bad][:10])
            msg = (f"{path.name}: {int(bad.sum())} row(s) have a blank, NaN or infinite "
                   f"coordinate in {xcol!r}/{ycol!r} (rows {rows}, 0 = first data line); fill "
                   "them or delete those rows.")
            raise DataError(msg)
        geom = gpd.points_from_xy(x, y)
        df = df.drop(columns=[xcol, ycol])
    else:
        wkt = _pick(cols, _WKT_NAMES, None, "WKT", path)
        if wkt is None:
            msg = (f"{path.name}: no coordinate columns found; name them lon/lat (or pass "
                   f"lon=..., lat=...) or provide a WKT column. Columns are {cols}.")
            raise DataError(msg)
        geom = _parse_wkt(df[wkt], path, wkt)
        df = df.drop(columns=[wkt])
    return gpd.GeoDataFrame(df, geometry=geom, crs=crs or "EPSG:4326")


def _parse_wkt(text: pd.Series, path: Path, column: str) -> np.ndarray:
    values = text.astype(object).where(text.notna(), None).to_numpy()
    try:
        geoms = shapely.from_wkt(values, on_invalid="ignore")
    except (shapely.errors.GEOSException, TypeError, ValueError) as exc:
        msg = f"{path.name}: column {column!r} holds values that are not WKT text ({exc})."
        raise DataError(msg) from exc
    blank = text.isna().to_numpy() | (text.astype(str).str.strip() == "").to_numpy()
    if blank.any():
        rows = list(text.index[blank][:10])
        msg = (f"{path.name}: {int(blank.sum())} row(s) have a blank {column!r} (no geometry; "
               f"rows {rows}, 0 = first data line); fill them or delete those rows.")
        raise DataError(msg)
    bad = pd.isna(geoms) & text.notna().to_numpy()
    if bad.any():
        rows = list(text.index[bad][:10])
        msg = (f"{path.name}: column {column!r} holds broken WKT in rows {rows} (first: "
               f"{str(text[bad].iloc[0])[:60]!r}); write e.g. 'POINT (116.39 39.91)'.")
        raise DataError(msg)
    return np.asarray(geoms)


def _warn_if_mojibake(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Warn when text looks like GBK bytes decoded as Latin-1 (a shapefile without .cpg)."""
    for col in gdf.columns:
        if col == gdf.geometry.name or not pd.api.types.is_string_dtype(gdf[col]):
            continue
        sample = gdf[col].dropna().astype(str).head(50)
        for text in sample:
            if not any(0x80 <= ord(ch) <= 0xFF for ch in text):
                continue
            try:
                fixed = text.encode("latin-1").decode("gb18030")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if any("\u4e00" <= ch <= "\u9fff" for ch in fixed):
                warnings.warn(
                    f"{path.name}: column {col!r} looks like Chinese text decoded with the "
                    f"wrong encoding ({text!r} would read {fixed!r} as GBK); pass "
                    "encoding='gbk' (or add a .cpg file containing GBK).",
                    UserWarning, stacklevel=3)
                return


def _read_vector(path: Path, layer: str | int | None, encoding: str | None) -> gpd.GeoDataFrame:
    kwargs: dict[str, object] = {}
    if layer is not None:
        kwargs["layer"] = layer
    if encoding is not None:
        kwargs["encoding"] = encoding
    if path.suffix.lower() in (".gpkg", ".gdb") and layer is None:
        layers = pyogrio.list_layers(path)
        spatial = [name for name, gtype in layers if gtype is not None]
        if len(spatial) > 1:
            whole = "Atlas.from_gdb" if path.suffix.lower() == ".gdb" else "Atlas.from_gpkg"
            msg = (f"{path.name} holds {len(spatial)} layers {spatial}; choose one with "
                   f"layer=... (or load the whole atlas with {whole}).")
            raise DataError(msg)
        if spatial:
            kwargs["layer"] = spatial[0]
    gdf = pyogrio.read_dataframe(path, **kwargs)
    if encoding is None and path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").exists():
        _warn_if_mojibake(gdf, path)
    return gdf


def read_layer(path: str | os.PathLike[str], kind: str | None = None, *,
               layer: str | int | None = None, datum: str = "wgs84",
               encoding: str | None = None, crs: str | None = None, lon: str | None = None,
               lat: str | None = None,
               region: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer, reproject it to EPSG:4326, convert its datum and validate it.

    Parameters
    ----------
    path
        A ``.gpkg``, ``.geojson``/``.json``, ``.shp`` (or a ``.zip`` holding one),
        ``.parquet``/``.geoparquet``, ``.fgb``, ``.csv`` or Excel ``.xlsx``/``.xls`` file, an
        Esri File Geodatabase (``.gdb`` directory), or a PostGIS database URL
        ``postgresql://user@host/db[?schema=name]`` with ``layer=<table>``.
    kind
        Layer kind (see :data:`cci_geo.schema.LAYER_KINDS`); when given the result is
        checked with :func:`cci_geo.validate`.
    layer
        Layer name or index inside a multi-layer file (GeoPackage, File Geodatabase), or the
        sheet name or index of an Excel workbook. A workbook of several sheets is read from
        its one sheet with coordinate columns unless ``layer`` chooses.
    datum
        Datum of the coordinates: ``"wgs84"`` (default), ``"gcj02"`` (Amap/Gaode, Tencent) or
        ``"bd09"`` (Baidu). Non-WGS-84 data is converted to WGS-84 vertex by vertex.
    encoding
        Text encoding, e.g. ``"gbk"`` or ``"gb18030"`` for Chinese shapefiles without a
        ``.cpg`` file or CSVs saved by Excel. A shapefile's ``.cpg`` is honoured otherwise.
    crs
        CRS to assume when the file declares none (CSV defaults to EPSG:4326).
    lon, lat
        Coordinate column names of a CSV or Excel sheet (detected from common names such as
        ``lon``/``lng``/``longitude``/``经度``/``纬度`` otherwise).
    region
        Study region ``(west, south, east, north)`` in EPSG:4326 used when validating for
        ``kind``; default Jing-Jin-Ji (:data:`cci_geo.schema.STUDY_REGION`).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326. The file is only read, never written.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    cci_geo.errors.ParameterError
        For a folder instead of a file, an unknown ``encoding``, ``crs`` or ``datum``.
    cci_geo.errors.DataError
        For unreadable, empty, truncated or damaged files (the reader's error is wrapped and
        kept as ``__cause__``), undecodable text, broken WKT, blank or non-finite coordinates,
        duplicate column names or missing coordinate columns.
    cci_geo.SchemaError
        If the layer has no CRS (and ``crs`` is not given) or fails validation for ``kind``.

    Examples
    --------
    An Amap (GCJ-02) export with Chinese headers, read back to WGS-84:

    >>> import pathlib, tempfile
    >>> import cci_geo
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "parks_amap.csv"
    >>> _ = csv.write_text("id,kind,经度,纬度\\nOFP01,park,116.494344,39.985157\\n",
    ...                    encoding="utf-8")
    >>> parks = cci_geo.read_layer(csv, "zones", datum="gcj02")
    >>> round(float(parks.geometry.x.iloc[0]), 4), round(float(parks.geometry.y.iloc[0]), 4)
    (116.4883, 39.9839)
    """
    if is_postgis_url(path):  # a table of a PostGIS database (``layer`` names it)
        if layer is None:
            msg = "reading from PostGIS needs layer=<table name>."
            raise ParameterError(msg)
        gdf = read_table(str(path), str(layer))
        if normalise_datum(datum) != "wgs84":
            gdf = convert_gdf(gdf, normalise_datum(datum), "wgs84")
        return validate(gdf, kind, layer=str(layer)) if kind is not None else gdf
    p = _check_read_args(path, datum, encoding, crs)
    dat = normalise_datum(datum)
    suffix = p.suffix.lower()
    if layer is not None and suffix in (".csv", ".txt", ".tsv", ".parquet", ".geoparquet"):
        msg = (f"{p.name} holds a single table; {opt('layer=', '--layer ')}{layer!r} only "
               "applies to GeoPackages, geodatabases and Excel workbooks: leave it out.")
        raise ParameterError(msg)
    with wrap_read_errors(p):
        if suffix in (".csv", ".txt", ".tsv"):
            gdf = _read_csv(p, encoding, lon, lat, crs)
        elif suffix in EXCEL_SUFFIXES:
            gdf = _read_excel(p, layer, lon, lat, crs)
        elif suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(p)
        else:
            gdf = _read_vector(p, layer, encoding)
    dups = sorted({str(c) for c in gdf.columns if list(gdf.columns).count(c) > 1})
    if dups:
        msg = f"{p.name} has duplicate column names {dups}; give every column a unique name."
        raise DataError(msg)
    name = p.name if layer is None else f"{p.name}:{layer}"
    if gdf.crs is None:
        if crs is None:
            from .errors import Problem

            raise SchemaError([Problem(name, "crs", "the file declares no coordinate "
                                       "reference system (CRS)",
                                       "pass " + opt("crs='EPSG:4326'",
                                                     "--assume-crs EPSG:4326")
                                       + " (or the real CRS), or add a .prj file")],
                              layer=name)
        gdf = gdf.set_crs(crs)
    if not CRS.from_user_input(gdf.crs).equals(CRS.from_epsg(4326)):
        gdf = gdf.to_crs("EPSG:4326")
    if dat != "wgs84":
        gdf = convert_gdf(gdf, dat, "wgs84")
    logger.info("read %s: %d features (%s, datum %s)", p, len(gdf), suffix, dat)
    if kind is not None:
        gdf = validate(gdf, kind, layer=name, region=region)
    return gdf


def _check_read_args(path: str | os.PathLike[str], datum: str, encoding: str | None,
                     crs: str | None) -> Path:
    """Check the cheap arguments of :func:`read_layer` before touching the file."""
    p = Path(path)
    if "\x00" in str(p):
        msg = f"the path {str(p)!r} contains a NUL character; give a real file name."
        raise ParameterError(msg)
    try:
        exists = p.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        msg = f"cannot use the path {str(p)[:80]!r}...: {exc.strerror}; give a shorter path."
        raise ParameterError(msg) from exc
    if not exists:
        msg = f"{p} does not exist."
        raise MissingFileError(msg)
    if p.is_dir() and p.suffix.lower() not in (".gdb",):
        inside = sorted(c.name for c in p.iterdir() if not c.name.startswith("."))[:10]
        msg = (f"{p} is a folder, not a layer file (it holds {inside}); name one file, e.g. "
               f"{p / inside[0] if inside else p / 'layer.gpkg'}.")
        raise ParameterError(msg)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError) as exc:
            msg = (f"unknown text encoding {encoding!r}; use e.g. "
                   f"{_GBK}, "
                   "'gb18030' or 'utf-8'.")
            raise ParameterError(msg) from exc
    if crs is not None:
        _check_crs(crs, "crs", "--assume-crs")
    try:
        normalise_datum(datum)
    except ValueError as exc:
        msg = (f"unknown datum {datum!r}; use {opt('datum=', '--datum ')}wgs84 (GPS, "
               "OpenStreetMap), gcj02 (Amap/Gaode, Tencent) or bd09 (Baidu).")
        raise ParameterError(msg) from exc
    return p


def _check_crs(crs: object, name: str, flag: str) -> CRS:
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError) as exc:
        msg = (f"unknown coordinate reference system {crs!r} ({exc}); give an EPSG code such as "
               f"{opt(f'{name}=' + repr('EPSG:4326'), flag + ' EPSG:4326')}.")
        raise ParameterError(msg) from exc


_DAMAGED = ("the file is damaged, truncated or not in the format its name says (an interrupted "
            "copy or download?); copy or export it again")


@contextlib.contextmanager
def wrap_read_errors(p: Path) -> Iterator[None]:
    """Wrap any reader or library failure on ``p`` in a DataError naming the file and fix."""
    from pyproj.exceptions import CRSError

    try:
        yield
    except CciGeoError:
        raise
    except FileNotFoundError:
        raise
    except PermissionError as exc:
        msg = f"cannot read {p}: permission denied; check the file's permissions."
        raise DataError(msg) from exc
    except (LookupError, UnicodeError) as exc:
        msg = (f"cannot decode the text of {p.name} ({exc}); pass the file's encoding, e.g. "
               f"{_GBK}.")
        raise DataError(msg) from exc
    except CRSError as exc:
        msg = (f"{p.name} declares a coordinate reference system that cannot be read ({exc}); "
               "fix its .prj/CRS or re-export it in EPSG:4326.")
        raise DataError(msg) from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError,
            pyarrow.ArrowException, shapely.errors.GEOSException, OSError,
            ValueError, IndexError, KeyError, RuntimeError) as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        msg = f"cannot read {p}: {detail}. {_DAMAGED[0].upper()}{_DAMAGED[1:]}."
        raise DataError(msg) from exc


def _check_text(gdf: gpd.GeoDataFrame, p: Path, driver: str | None) -> None:
    """Refuse text the output format cannot hold exactly (rather than truncating it)."""
    geom = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    cols = [c for c in gdf.columns if c != geom]
    shapefile = driver == "ESRI Shapefile"
    if shapefile:
        long = [str(c) for c in cols if len(str(c).encode("utf-8")) > 10]
        if long:
            msg = (f"cannot write {p.name}: shapefile column names are cut to 10 bytes, which "
                   f"would change {long[:5]}; rename them or write a GeoPackage (.gpkg).")
            raise DataError(msg)
    for c in cols:
        s = gdf[c]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        text = s[s.map(lambda v: isinstance(v, str))]
        if text.empty:
            continue
        for bad, why in ((text.str.contains("\x00", regex=False), "a NUL character"),
                         (text.map(_unencodable), "characters UTF-8 cannot encode "
                          "(lone surrogates)")):
            if bad.any():
                msg = (f"cannot write {p.name}: column {c!r} holds {why} in rows "
                       f"{list(text.index[bad][:5])}; it would not be written back exactly. "
                       "Remove those characters first.")
                raise DataError(msg)
        if shapefile and (long := text.map(lambda v: len(v.encode("utf-8")) > 254)).any():
            msg = (f"cannot write {p.name}: column {c!r} holds text longer than a shapefile "
                   f"field can hold (254 bytes) in rows {list(text.index[long][:5])}; write a "
                   "GeoPackage (.gpkg) instead.")
            raise DataError(msg)


def _unencodable(v: str) -> bool:
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def write_layer(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *,
                layer: str | None = None, driver: str | None = None,
                overwrite: bool = False) -> Path:
    """Write ``gdf`` to ``path`` atomically (temporary file, then rename).

    Parameters
    ----------
    gdf
        Layer to write.
    path
        Output file; the format follows the suffix (``.gpkg``, ``.geojson``, ``.shp``,
        ``.fgb``, ``.parquet``, ``.csv`` with WKT geometry, or ``.gdb`` for an Esri File
        Geodatabase through GDAL's OpenFileGDB driver).
    layer
        Table name inside a GeoPackage or File Geodatabase (default: the file stem). A layer
        is added to an existing geodatabase; replacing one of its tables needs ``overwrite``.
    driver
        OGR driver name, overriding the suffix.
    overwrite
        Replace an existing file. Without it an existing file is an error.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    cci_geo.errors.OutputExistsError
        If ``path`` (or, for a shapefile, any of its ``.dbf``/``.shx``/``.prj``/``.cpg``...
        sidecars) exists and ``overwrite`` is false; also when another process creates it
        while this one writes.
    cci_geo.errors.DataError
        If text holds characters the format cannot store exactly (NUL, lone surrogates;
        shapefile names over 10 bytes or values over 254 bytes): refused, never truncated.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from cci_geo import read_layer, write_layer
    >>> parks = gpd.GeoDataFrame({"id": ["P1"], "名称": ["七九八"], "kind": ["park"]},
    ...                          geometry=[Point(116.4883, 39.9839)], crs="EPSG:4326")
    >>> gdb = pathlib.Path(tempfile.mkdtemp()) / "planning.gdb"
    >>> _ = write_layer(parks, gdb, layer="zones")
    >>> read_layer(gdb, "zones", layer="zones")["名称"].tolist()
    ['七九八']
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".gdb" or driver == "OpenFileGDB":
        write_gdb_tables(p, {layer or p.stem: gdf}, overwrite=overwrite)
        logger.info("wrote %s (%d features)", p, len(gdf))
        return p
    drv = driver or _DRIVERS.get(suffix)
    _check_text(gdf, p, drv)
    with atomic_path(p, overwrite=overwrite) as tmp:
        if suffix in (".parquet", ".geoparquet"):
            gdf.to_parquet(tmp)
        elif suffix == ".csv" and driver is None:
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            df["wkt"] = shapely.to_wkt(gdf.geometry.values, rounding_precision=7)
            df.to_csv(tmp, index=False, encoding="utf-8")
        else:
            if drv is None:
                msg = f"cannot tell the format of {p.name}; pass driver=... or use .gpkg."
                raise DataError(msg)
            kwargs: dict[str, object] = {"driver": drv}
            if drv == "GPKG":
                kwargs["layer"] = layer or p.stem
            if drv == "ESRI Shapefile":
                kwargs["encoding"] = "UTF-8"
            if drv == "FlatGeobuf":  # its spatial index would reorder the features
                kwargs["layer_options"] = {"SPATIAL_INDEX": "NO"}
            pyogrio.write_dataframe(gdf, tmp, **kwargs)  # sidecars land beside tmp, move with it
    logger.info("wrote %s (%d features)", p, len(gdf))
    return p
