"""Points of GeoParquet files read straight into coordinate arrays.

A registry of 10^8 points in GeoParquet is mostly point geometries. Turning each into a
shapely object (and a GeoDataFrame partition) costs far more than the analysis itself, so
the partitioned KDE reads only the geometry column (and the weight column) with pyarrow and
decodes the coordinates with numpy:

- **WKB** (GeoParquet's default encoding): a 2D point is a fixed 21-byte record — byte order
  (1 = little endian, 0 = big endian), ``uint32`` type 1, then ``x`` and ``y`` as float64.
  When every record of a file has that length and type, the ``x`` and ``y`` columns are read
  from the bytes directly, each record in its own byte order.
- **GeoArrow** ``point`` encoding: a struct of ``x`` and ``y`` (or an interleaved fixed-size
  list) of float64 — the columns are the coordinates.

Anything else — null, empty or non-finite points, other geometry types, Z/M or EWKB
records — is decoded by shapely and checked exactly as in memory, so the error (or the
result) is the in-memory one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from .._validate import check_degree_bounds
from ..errors import DataError

__all__ = ["ParquetPoints", "decode_wkb_points", "open_parquet_points", "read_points"]

logger = logging.getLogger(__name__)

_CRS84 = "OGC:CRS84"  # GeoParquet's default when the metadata names no CRS
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
_WKB_POINT_BE = np.dtype([("order", "u1"), ("type", ">u4"), ("x", ">f8"), ("y", ">f8")])


@dataclass(frozen=True)
class ParquetPoints:
    """A GeoParquet dataset of points: its files, geometry column, encoding and CRS."""

    files: tuple[str, ...]
    column: str
    encoding: str
    crs: CRS | None
    rows: tuple[int, ...]
    bboxes: tuple[tuple[float, float, float, float] | None, ...]
    columns: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        """Rows over all files (from the Parquet footers; nothing is read)."""
        return int(sum(self.rows))

    def bbox(self) -> tuple[float, float, float, float] | None:
        """Union of the files' ``bbox`` metadata in the data's CRS, or None if one lacks it."""
        if not self.bboxes or any(b is None for b in self.bboxes):
            return None
        arr = np.array(self.bboxes, dtype=float)
        return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()),
                float(arr[:, 3].max()))


def _files_of(source: Any) -> list[str]:
    from ..scale import _expand

    expanded = _expand(source)
    if isinstance(expanded, list):
        return expanded
    if Path(expanded).is_dir():
        found = sorted(str(f) for f in Path(expanded).rglob("*")
                       if f.suffix in (".parquet", ".geoparquet", ".parq"))
        if not found:
            msg = f"GeoParquet directory {expanded!r} holds no .parquet file."
            raise DataError(msg)
        return found
    return [expanded]


def open_parquet_points(source: Any) -> ParquetPoints | None:
    """Describe the GeoParquet dataset at ``source`` (a path, directory, glob or list).

    Reads the footers only. Returns None when a file is not GeoParquet (no ``geo``
    metadata) or the files disagree on the geometry column, its encoding or CRS; the caller
    then reads the dataset through dask-geopandas, which reports the problem.
    """
    import pyarrow.parquet as pq

    files = _files_of(source)
    column = encoding = None
    crs: CRS | None = None
    rows: list[int] = []
    bboxes: list[tuple[float, float, float, float] | None] = []
    names: tuple[str, ...] = ()
    for path in files:
        meta = pq.read_metadata(path)
        raw = (meta.metadata or {}).get(b"geo")
        if raw is None:
            return None
        geo = json.loads(raw)
        col = geo.get("primary_column", "geometry")
        spec = geo.get("columns", {}).get(col, {})
        enc = str(spec.get("encoding", "WKB"))
        file_crs = _crs_of(spec)
        if column is None:
            column, encoding, crs = col, enc, file_crs
            names = tuple(meta.schema.to_arrow_schema().names)
        elif (col, enc) != (column, encoding) or not _same_crs(file_crs, crs):
            logger.info("GeoParquet files differ in geometry column, encoding or CRS (%s)", path)
            return None
        rows.append(meta.num_rows)
        box = spec.get("bbox")
        bboxes.append((float(box[0]), float(box[1]), float(box[2]), float(box[3]))
                      if box and len(box) == 4 else None)
    if column is None:
        return None
    return ParquetPoints(tuple(files), column, str(encoding), crs, tuple(rows),
                         tuple(bboxes), names)


def _crs_of(spec: dict[str, Any]) -> CRS | None:
    if "crs" not in spec:
        return CRS.from_user_input(_CRS84)
    value = spec["crs"]
    if value is None:  # explicitly unknown
        return None
    return CRS.from_user_input(value if isinstance(value, str) else json.dumps(value))


def _same_crs(a: CRS | None, b: CRS | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.equals(b)


def decode_wkb_points(arr: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Return ``(x, y)`` of an Arrow binary array of 2D WKB points, or None if it is not one.

    None means some record is not a plain 2D point (another type, Z/M, EWKB, null): the
    caller decodes those rows with shapely. Empty points (NaN coordinates) come back as NaN.

    Examples
    --------
    >>> import pyarrow as pa, shapely
    >>> wkb = shapely.to_wkb(shapely.points([[1.0, 2.0], [3.0, 4.0]]), byte_order=0)
    >>> decode_wkb_points(pa.array(list(wkb), type=pa.binary()))
    (array([1., 3.]), array([2., 4.]))
    >>> decode_wkb_points(pa.array([shapely.to_wkb(shapely.box(0, 0, 1, 1))])) is None
    True
    """
    import pyarrow as pa

    if isinstance(arr, pa.ExtensionArray):
        arr = arr.storage
    n = len(arr)
    if n == 0:
        return np.empty(0), np.empty(0)
    if arr.null_count or not (pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)):
        return None
    _, offsets_buf, data_buf = arr.buffers()
    off_type = np.int64 if pa.types.is_large_binary(arr.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=off_type, count=n + 1, offset=arr.offset
                            * np.dtype(off_type).itemsize)
    start = int(offsets[0])
    if int(offsets[-1]) - start != 21 * n or not bool((np.diff(offsets) == 21).all()):
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8, count=21 * n, offset=start)
    order = data[::21]
    if bool((order == 1).all()):
        rec = data.view(_WKB_POINT)
    elif bool((order == 0).all()):
        rec = data.view(_WKB_POINT_BE)
    elif bool(((order == 0) | (order == 1)).all()):
        little, big = data.view(_WKB_POINT), data.view(_WKB_POINT_BE)
        is_big = order == 0
        x = np.where(is_big, big["x"], little["x"])
        y = np.where(is_big, big["y"], little["y"])
        types = np.where(is_big, big["type"], little["type"])
        return (x, y) if bool((types == 1).all()) else None
    else:
        return None
    if not bool((rec["type"] == 1).all()):
        return None
    return rec["x"].astype(np.float64), rec["y"].astype(np.float64)


def _decode_geoarrow_points(arr: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Return ``(x, y)`` of a GeoArrow point array (struct or interleaved), or None."""
    import pyarrow as pa

    if isinstance(arr, pa.ExtensionArray):
        arr = arr.storage
    return None if arr.null_count else _geoarrow_columns(arr)


def _geoarrow_columns(arr: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``x`` and ``y`` columns of a GeoArrow point array (NaN where null), or None."""
    import pyarrow as pa

    if pa.types.is_struct(arr.type) and arr.type.num_fields >= 2:
        return tuple(arr.field(i).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
                     for i in (0, 1))  # type: ignore[return-value]
    if pa.types.is_fixed_size_list(arr.type) and arr.type.list_size >= 2:
        k = arr.type.list_size
        start = arr.offset * k  # .values keeps the slots of null entries, unlike flatten()
        flat = arr.values.slice(start, k * len(arr)).to_numpy(zero_copy_only=False)
        flat = flat.astype(np.float64, copy=False)
        return flat[0::k].copy(), flat[1::k].copy()
    return None


def _shapely_xy(arr: Any, info: ParquetPoints, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode with shapely and check as in memory: the error names the rows at fault."""
    import pyarrow as pa
    import shapely

    from ._common import _explain_bad_points, to_frame

    if isinstance(arr, pa.ExtensionArray):
        arr = arr.storage
    if info.encoding.upper() == "WKB":
        geoms = shapely.from_wkb(np.asarray(arr.to_pylist(), dtype=object))
    elif (columns := _geoarrow_columns(arr)) is not None:
        geoms = shapely.points(*columns)
        geoms[~np.asarray(arr.is_valid())] = None
    else:
        msg = (f"{name} must hold Point geometries, found the GeoArrow encoding "
               f"{info.encoding!r}; convert them to points (e.g. representative_point()) first.")
        raise DataError(msg)
    import geopandas as gpd

    series = gpd.GeoSeries(geoms, crs=info.crs)
    bounds = shapely.bounds(geoms)
    types = shapely.get_type_id(geoms)
    if bool(types.any()) or not bool(np.isfinite(bounds[:, :2]).all()):
        _explain_bad_points(to_frame(series), name, geoms, types, bounds)
    return np.ascontiguousarray(bounds[:, 0]), np.ascontiguousarray(bounds[:, 1])


def read_points(path: str, info: ParquetPoints, weight: str | None,
                metric: CRS) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the ``(n, 2)`` metric coordinates (column-major) and weights of one file.

    Raises
    ------
    DataError
        Missing, empty, non-point or non-finite geometries (row numbers within the file),
        coordinates the in-memory check refuses, a missing weight column, or NaN, infinite
        or negative weights.
    """
    import pyarrow.parquet as pq

    name = f"points ({Path(path).name})"
    if weight is not None and weight not in info.columns:
        msg = f"points has no column {weight!r}; it has {list(info.columns)}."
        raise DataError(msg)
    cols = [info.column] if weight is None else [info.column, weight]
    table = pq.read_table(path, columns=cols)
    arr = table.column(info.column).combine_chunks()
    if info.encoding.upper() == "WKB":
        decoded = decode_wkb_points(arr)
    elif info.encoding.lower() == "point":
        decoded = _decode_geoarrow_points(arr)
    else:
        decoded = None
    if decoded is not None and not (np.isfinite(decoded[0]).all()
                                    and np.isfinite(decoded[1]).all()):
        decoded = None  # empty or NaN points: let shapely name the rows
    x, y = decoded if decoded is not None else _shapely_xy(arr, info, name)
    n = x.size
    if info.crs is not None and info.crs.is_geographic and n:
        import geopandas as gpd

        b = np.empty((n, 4))
        b[:, 0], b[:, 1], b[:, 2], b[:, 3] = x, y, x, y
        check_degree_bounds(gpd.GeoSeries([], crs=info.crs), name, b, pd.RangeIndex(n))
    out = np.empty((2, n))
    if info.crs is None or info.crs.equals(metric):
        out[0], out[1] = x, y
    else:
        out[0], out[1] = Transformer.from_crs(info.crs, metric, always_xy=True).transform(x, y)
    w = None
    if weight is not None:
        from ._common import finite_values

        values = table.column(weight).to_pandas()
        w = finite_values(pd.DataFrame({weight: values}), weight, name)
    return out.T, w
