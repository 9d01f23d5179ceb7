"""Binary payload of a :class:`~cci_geo.maps.layers.PointLayer` for the WebGL point layer.

Every column travels as a typed array, zlib-compressed and base64-encoded (base64 text cannot
contain markup, so the data is inert inside the page):

* coordinates: points sorted along a Z-order curve, quantised to 10^-5 degrees (about 1 m)
  as offsets from the south-west corner, delta-encoded as ``Int32`` (neighbours along the curve
  are close, so the deltas are small and compress well);
* the colour category as ``Uint8``;
* popup fields as columns: numbers as ``Int32`` (whole values) or ``Float64``, categories as
  ``Uint8``/``Uint16`` codes with their dictionary (a list of strings);
* multi-byte arrays byte-shuffled before compression (all first bytes, then all second
  bytes...), which roughly halves the compressed size of small deltas;
* the popup title (names) as one UTF-8 text with each name's byte length; the page adds the
  lengths up at the first click and decodes only the name that is clicked.

``cciGeo.glPoints`` in ``cci_geo_points.js`` decodes this once at load.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .layers import PointLayer

__all__ = ["points_payload"]

QUANTUM = 1e-5
"""Coordinate step in degrees (about 1.1 m of latitude, half a pixel at zoom 18)."""


def _b64(arr: np.ndarray) -> str:
    """Little-endian bytes, byte-shuffled (all first bytes, then all second bytes...),
    zlib-compressed (level 1: fast) and base64-encoded."""
    data = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False))
    size = data.dtype.itemsize
    raw = data.view(np.uint8).reshape(-1, size).T.tobytes() if size > 1 else data.tobytes()
    return base64.b64encode(zlib.compress(raw, 1)).decode("ascii")


def _codes(codes: np.ndarray, n_categories: int) -> dict[str, str]:
    """Category codes (``-1`` = missing, stored as the last code + 1)."""
    codes = np.asarray(codes, dtype=np.int64)
    codes = np.where(codes < 0, n_categories, codes)
    dtype = np.uint8 if n_categories < 255 else np.uint16 if n_categories < 65535 else np.uint32
    return {"dtype": np.dtype(dtype).name, "data": _b64(codes.astype(dtype))}


def _numbers(values: np.ndarray) -> dict[str, str]:
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    arr = np.round(arr.astype(np.float64), 2)
    finite = np.isfinite(arr)
    if finite.all() and (arr == np.round(arr)).all() and (np.abs(arr) < 2**31).all():
        return {"dtype": "int32", "data": _b64(arr.astype(np.int32))}
    return {"dtype": "float64", "data": _b64(arr)}  # NaN = missing


def _zorder(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Permutation sorting quantised points along a Z-order curve of ~16-unit cells."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = (v >> np.int64(4)).astype(np.uint64) & np.uint64(0xFFFFFFFF)
        for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                            (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                            (1, 0x5555555555555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v
    return np.argsort(spread(ix) | (spread(iy) << np.uint64(1)), kind="stable")


def _titles(names: pd.Series) -> dict[str, str]:
    """Names as one UTF-8 text (zlib, base64) and each name's byte length (missing: empty).

    The text and lengths are the Arrow string column's own data and offsets, so no Python
    string is made per name.
    """
    arr = pa.array(names.astype("string").fillna(""), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    text = memoryview(arr.buffers()[2])[int(offsets[0]):int(offsets[-1])] if len(arr) else b""
    lengths = np.diff(offsets)
    top = int(lengths.max()) if lengths.size else 0
    dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
    return {"dtype": np.dtype(dtype).name, "lengths": _b64(lengths.astype(dtype)),
            "text": base64.b64encode(zlib.compress(text, 1)).decode("ascii")}


def points_payload(layer: PointLayer) -> dict[str, Any]:
    """Return the JSON-ready description of ``layer`` with its columns as typed arrays."""
    lon = np.asarray(layer.lon, dtype=np.float64)
    lat = np.asarray(layer.lat, dtype=np.float64)
    n = lon.size
    west = float(np.floor(lon.min() / QUANTUM) * QUANTUM) if n else 0.0
    south = float(np.floor(lat.min() / QUANTUM) * QUANTUM) if n else 0.0
    ix = np.round((lon - west) / QUANTUM).astype(np.int64)
    iy = np.round((lat - south) / QUANTUM).astype(np.int64)
    order = _zorder(ix, iy)
    ix, iy = ix[order], iy[order]
    category = np.asarray(layer.category, dtype=np.int64)[order]
    fields: list[dict[str, Any]] = []
    for lab, values in layer.fields:
        if isinstance(values, tuple):
            codes, cats = values
            codes = np.asarray(codes)[order]
            entry: dict[str, Any] = {"label": lab, "codes": [*map(str, cats), ""]}
            if np.array_equal(codes, category):
                entry["same_as_category"] = True
            else:
                entry.update(_codes(codes, len(cats)))
            fields.append(entry)
        else:
            fields.append({"label": lab, **_numbers(np.asarray(values)[order])})
    title = None
    if layer.title is not None:
        names = layer.title if isinstance(layer.title, pd.Series) else \
            pd.Series(np.asarray(layer.title, dtype=object))
        title = _titles(names.iloc[order])
    return {"n": n, "west": west, "south": south, "quantum": QUANTUM,
            "dx": _b64(np.diff(ix, prepend=0).astype(np.int32)),
            "dy": _b64(np.diff(iy, prepend=0).astype(np.int32)),
            "cat": _b64(category.astype(np.uint8)), "colors": list(layer.colors),
            "fields": fields, "title": title}
