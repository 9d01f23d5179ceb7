"""Read a planner's layers from common GIS formats, and write layers atomically.

Supported inputs: GeoPackage, Esri File Geodatabase (``.gdb``), GeoJSON, Shapefile (honouring
``.cpg``; GBK/GB18030 Chinese shapefiles with an explicit ``encoding``), GeoParquet, FlatGeobuf,
and CSV or Excel (``.xlsx``/``.xls``) tables with longitude and latitude (or WKT) columns.
Everything is returned in WGS-84 (EPSG:4326); data in the Chinese web-map datums (Amap/Gaode,
Tencent: GCJ-02; Baidu: BD-09) is converted on read with ``datum=``.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from ._files import atomic_path
from ._formats import EXCEL_SUFFIXES, read_excel_table, write_gdb_tables
from .datum import convert_gdf, normalise_datum
from .errors import DataError, ParameterError, SchemaError
from .postgis import is_postgis_url, read_table
from .schema import validate

__all__ = ["read_layer", "write_layer"]

logger = logging.getLogger(__name__)

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
        df = pd.read_csv(path, encoding=enc, dtype={"id": str, "adcode": str})
    except UnicodeDecodeError as exc:
        msg = (f"{path.name} is not valid {enc} text ({exc.reason} at byte {exc.start}); "
               "Chinese CSVs exported from Excel are often GBK: pass encoding='gbk'.")
        raise DataError(msg) from exc
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
        bad = (x.isna() | y.isna()) & (df[xcol].notna() | df[ycol].notna())
        if bad.any():
            rows = list(df.index[bad][:10])
            msg = (f"{path.name}: columns {xcol!r}/{ycol!r} hold non-numeric coordinates in "
                   f"rows {rows}; fix or remove those values.")
            raise DataError(msg)
        geom = gpd.points_from_xy(x, y)
        df = df.drop(columns=[xcol, ycol])
    else:
        wkt = _pick(cols, _WKT_NAMES, None, "WKT", path)
        if wkt is None:
            msg = (f"{path.name}: no coordinate columns found; name them lon/lat (or pass "
                   f"lon=..., lat=...) or provide a WKT column. Columns are {cols}.")
            raise DataError(msg)
        geom = gpd.GeoSeries.from_wkt(df[wkt]).values
        df = df.drop(columns=[wkt])
    return gpd.GeoDataFrame(df, geometry=geom, crs=crs or "EPSG:4326")


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
    cci_geo.errors.DataError
        For unreadable files, undecodable text or missing coordinate columns.
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
    p = Path(path)
    if not p.exists():
        msg = f"{p} does not exist."
        raise FileNotFoundError(msg)
    dat = normalise_datum(datum)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        gdf = _read_csv(p, encoding, lon, lat, crs)
    elif suffix in EXCEL_SUFFIXES:
        gdf = _read_excel(p, layer, lon, lat, crs)
    elif suffix in (".parquet", ".geoparquet"):
        gdf = gpd.read_parquet(p)
    else:
        try:
            gdf = _read_vector(p, layer, encoding)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            msg = f"cannot read {p}: {exc}"
            raise DataError(msg) from exc
    name = p.name if layer is None else f"{p.name}:{layer}"
    if gdf.crs is None:
        if crs is None:
            from .errors import Problem

            raise SchemaError([Problem(name, "crs", "the file declares no coordinate "
                                       "reference system (CRS)",
                                       "pass crs='EPSG:4326' (or the real CRS) to read_layer, "
                                       "or add a .prj file")], layer=name)
        gdf = gdf.set_crs(crs)
    if not CRS.from_user_input(gdf.crs).equals(CRS.from_epsg(4326)):
        gdf = gdf.to_crs("EPSG:4326")
    if dat != "wgs84":
        gdf = convert_gdf(gdf, dat, "wgs84")
    logger.info("read %s: %d features (%s, datum %s)", p, len(gdf), suffix, dat)
    if kind is not None:
        gdf = validate(gdf, kind, layer=name, region=region)
    return gdf


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
    FileExistsError
        If ``path`` exists and ``overwrite`` is false (for a geodatabase: if it already
        holds ``layer``).

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
    with atomic_path(p, overwrite=overwrite) as tmp:
        if suffix in (".parquet", ".geoparquet"):
            gdf.to_parquet(tmp)
        elif suffix == ".csv" and driver is None:
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            df["wkt"] = shapely.to_wkt(gdf.geometry.values, rounding_precision=7)
            df.to_csv(tmp, index=False, encoding="utf-8")
        else:
            drv = driver or _DRIVERS.get(suffix)
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
            pyogrio.write_dataframe(gdf, tmp, **kwargs)
            if drv == "ESRI Shapefile":
                _move_sidecars(tmp, p)
    logger.info("wrote %s (%d features)", p, len(gdf))
    return p


def _move_sidecars(tmp: Path, target: Path) -> None:
    """Move a shapefile's .dbf/.shx/.prj/.cpg next to the final .shp name."""
    for side in tmp.parent.glob(tmp.stem + ".*"):
        if side.suffix.lower() != ".shp":
            side.replace(target.with_suffix(side.suffix))
