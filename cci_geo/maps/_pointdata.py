"""Binary payload of a :class:`~cci_geo.maps.layers.PointLayer` for the WebGL point layer.

The page receives two things: a small JSON description (``meta``: sizes, colours, labels,
dictionaries) and a list of base64 texts (``blobs``), each one byte plane of a typed-array
column. Base64 text cannot contain markup or quotes, so the blobs go into the page as they are
and the data stays inert.

* coordinates: Web Mercator pixels at zoom 17 (:data:`UNITS_ZOOM`; one unit is about 0.9 m in
  Beijing, 2^25 units around the world), points sorted along a Z-order (Morton) curve of
  those integers, delta-encoded and zig-zag mapped to ``Uint32``. Along the curve every
  aligned square block of the plane is one contiguous run of points, which the page uses for
  its culling grid, for the nearest-point search and for the count cells;
* the colour category as ``Uint8``;
* popup fields as columns: numbers in the narrowest of ``Uint8``/``Uint16``/``Int32`` that
  holds them (else ``Float64``, NaN = missing), categories as ``Uint8``/``Uint16`` codes with
  their dictionary;
* the popup title (names) as one UTF-8 text and each name's byte length.

Multi-byte columns are split into byte planes (all first bytes, then all second bytes...).
Each plane is zlib-compressed (level 1) when a sample shows that it compresses, and stored
as it is otherwise (the low bytes of revenue figures or of coordinate deltas are close to
random: compressing them costs time and saves nothing). ``cciGeo.glPoints`` in
``cci_geo_points.js`` decodes them with the browser's own base64 and ``DecompressionStream``.
"""

from __future__ import annotations

import base64
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .layers import PointLayer

__all__ = ["UNITS_ZOOM", "mercator_units", "points_payload"]

UNITS_ZOOM = 17
"""Coordinates are whole Web Mercator pixels at this zoom (2^(8 + 17) across the world)."""

_WORLD = float(2 ** (8 + UNITS_ZOOM))
_SAMPLE = 1 << 16
_KEEP_RAW_ABOVE = 0.8  # compressed/raw ratio of the sample above which a plane stays raw


def mercator_units(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return whole Web Mercator pixels at zoom :data:`UNITS_ZOOM` (x east, y south).

    Examples
    --------
    >>> x, y = mercator_units(np.array([0.0, 116.39]), np.array([0.0, 39.91]))
    >>> x.tolist(), y.tolist()
    ([16777216, 27625550], [16777216, 12713952])
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.clip(np.asarray(lat, dtype=np.float64), -85.05112878, 85.05112878)
    x = (lon + 180.0) * (_WORLD / 360.0)
    s = np.sin(np.radians(lat))
    y = (0.5 - np.log((1.0 + s) / (1.0 - s)) / (4.0 * np.pi)) * _WORLD
    top = _WORLD - 1
    return (np.clip(np.rint(x), 0, top).astype(np.int64),
            np.clip(np.rint(y), 0, top).astype(np.int64))


def _spread(v: np.ndarray) -> np.ndarray:
    """Interleave zeros between the bits of ``v`` (< 2^32): the x half of a Morton code."""
    v = v.astype(np.uint64)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                        (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                        (1, 0x5555555555555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _morton_order(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Permutation sorting points along a Z-order curve of their integer coordinates."""
    return np.argsort(_spread(ix) | (_spread(iy) << np.uint64(1)))


def _encode(raw: bytes | memoryview, compress: bool | None) -> tuple[str, bool]:
    """One plane as base64, zlib-compressed (level 1) when ``compress`` or, if None, when a
    sample from its middle shrinks below :data:`_KEEP_RAW_ABOVE`."""
    if compress is None:
        mid = max(0, len(raw) // 2 - _SAMPLE // 2)
        sample = bytes(raw[mid:mid + _SAMPLE])
        compress = bool(sample) and len(zlib.compress(sample, 1)) < _KEEP_RAW_ABOVE * len(sample)
    return base64.b64encode(zlib.compress(raw, 1) if compress else raw).decode("ascii"), compress


class _Blobs:
    """The base64 byte planes of a payload, referred to by their index in ``meta``.

    Planes are encoded on two threads while the caller prepares the next column (zlib
    releases the GIL); :meth:`texts` waits for them.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._jobs: list[Future[tuple[str, bool]]] = []
        self._refs: list[list[Any]] = []

    def add(self, raw: bytes | memoryview, *, compress: bool | None = None) -> list[Any]:
        """Store one plane; return its ``[index, compressed]`` (filled in by :meth:`texts`)."""
        self._jobs.append(self._pool.submit(_encode, raw, compress))
        self._refs.append([len(self._jobs) - 1, compress])
        return self._refs[-1]

    def column(self, arr: np.ndarray) -> dict[str, Any]:
        """A column as its byte planes (little-endian)."""
        data = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False))
        size = data.dtype.itemsize
        planes = [data.view(np.uint8)] if size == 1 else \
            list(data.view(np.uint8).reshape(-1, size).T.copy())
        return {"dtype": data.dtype.name, "planes": [self.add(p.data) for p in planes]}

    def texts(self) -> list[str]:
        """The base64 texts, in order (each plane's reference now says if it is compressed)."""
        try:
            out = []
            for ref, job in zip(self._refs, self._jobs, strict=True):
                text, ref[1] = job.result()
                out.append(text)
            return out
        finally:
            self._pool.shutdown()


def _codes(blobs: _Blobs, codes: np.ndarray, n_categories: int) -> dict[str, Any]:
    """Category codes (``-1`` = missing, stored as the last code + 1)."""
    codes = np.asarray(codes)
    dtype = np.uint8 if n_categories < 255 else np.uint16 if n_categories < 65535 else np.uint32
    out = codes.astype(dtype)
    missing = codes < 0
    if missing.any():
        out[missing] = n_categories
    return blobs.column(out)


def _numbers(blobs: _Blobs, values: np.ndarray) -> dict[str, Any]:
    """Numbers in the narrowest integer type that holds them, else Float64 (NaN missing)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        for dtype in (np.uint8, np.uint16, np.int32):
            info = np.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                return blobs.column(arr.astype(dtype))
    arr = arr.astype(np.float64, copy=False)
    if not np.array_equal(arr, np.rint(arr)):  # whole numbers (NaN fails here) skip rounding
        arr = np.round(arr, 2)
    if arr.size and np.isfinite(arr).all() and np.array_equal(arr, np.rint(arr)):
        return _numbers(blobs, arr.astype(np.int64)) if np.abs(arr).max() < 2**31 \
            else blobs.column(arr)
    return blobs.column(arr)


def _titles(blobs: _Blobs, names: pd.Series, order: np.ndarray) -> dict[str, Any]:
    """Names (taken in ``order``) as one UTF-8 text and each name's byte length (missing:
    empty).

    The text and lengths are an Arrow string column's own data and offsets, so no Python
    string is made per name.
    """
    arr = pa.array(names, type=pa.large_string(), from_pandas=True)
    arr = pc.fill_null(pc.take(arr, pa.array(order)), "")
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    text = memoryview(arr.buffers()[2])[int(offsets[0]):int(offsets[-1])] if len(arr) else b""
    lengths = np.diff(offsets)
    top = int(lengths.max()) if lengths.size else 0
    dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
    return {"lengths": blobs.column(lengths.astype(dtype)), "text": blobs.add(text)}


def points_payload(layer: PointLayer) -> tuple[dict[str, Any], list[str]]:
    """Return ``(meta, blobs)``: the JSON-ready description of ``layer`` and its byte planes.

    Examples
    --------
    >>> from cci_geo.maps.layers import PointLayer
    >>> layer = PointLayer("firms", np.array([116.40, 116.45]), np.array([39.90, 39.92]),
    ...                    np.array([0, 1]), ("#e41a1c", "#377eb8"),
    ...                    fields=(("Employees", np.array([12, 300])),))
    >>> meta, blobs = points_payload(layer)
    >>> meta["n"], meta["fields"][0]["dtype"], len(blobs)
    (2, 'uint16', 11)
    """
    lon = np.asarray(layer.lon, dtype=np.float64)
    lat = np.asarray(layer.lat, dtype=np.float64)
    n = int(lon.size)
    ix, iy = mercator_units(lon, lat)
    order = _morton_order(ix, iy)
    ix, iy = ix[order], iy[order]
    blobs = _Blobs()

    def zigzag_deltas(v: np.ndarray) -> dict[str, Any]:
        d = np.diff(v, prepend=0).astype(np.int32)
        return blobs.column(((d << 1) ^ (d >> 31)).view(np.uint32))

    meta: dict[str, Any] = {"n": n, "unitsZoom": UNITS_ZOOM,
                            "bounds": [float(lon.min()), float(lat.min()), float(lon.max()),
                                       float(lat.max())] if n else None,
                            "x": zigzag_deltas(ix), "y": zigzag_deltas(iy)}
    category = np.asarray(layer.category)[order]
    meta["cat"] = blobs.column(category.astype(np.uint8))
    meta["colors"] = list(layer.colors)
    fields: list[dict[str, Any]] = []
    for lab, values in layer.fields:
        if isinstance(values, tuple):
            codes, cats = values
            codes = np.asarray(codes)[order]
            entry: dict[str, Any] = {"label": lab, "codes": [*map(str, cats), ""]}
            if np.array_equal(codes, category):
                entry["same_as_category"] = True
            else:
                entry.update(_codes(blobs, codes, len(cats)))
            fields.append(entry)
        else:
            fields.append({"label": lab, **_numbers(blobs, np.asarray(values)[order])})
    meta["fields"] = fields
    meta["title"] = None
    if layer.title is not None:
        names = layer.title if isinstance(layer.title, pd.Series) else \
            pd.Series(np.asarray(layer.title, dtype=object))
        if not (pd.api.types.is_string_dtype(names.dtype) and names.dtype != object):
            names = names.astype("string")
        meta["title"] = _titles(blobs, names, order)
    return meta, blobs.texts()
