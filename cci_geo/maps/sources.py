"""Which data a result was computed from, so maps of derived results flag synthetic inputs.

A density surface, a hot-spot grid or an accessibility score computed from synthetic
enterprises is synthetic too, even on a map that does not draw the enterprises. A result
records its inputs under ``cci_geo_sources`` — ``gdf.attrs["cci_geo_sources"]`` on a
GeoDataFrame, ``surface.tags["cci_geo_sources"]`` on a Surface — as a JSON object mapping
each input layer kind to its provenance status (``{"enterprises": "synthetic"}``). A plain
list of layer kinds (or a ``;``-joined string) is accepted too; their status is then looked up
in the atlas that is mapped. :func:`derived_from` writes the record; the briefing reads it
with :func:`result_sources` and names every synthetic input in the map's attribution.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import geopandas as gpd

from ..errors import ParameterError, ParameterTypeError
from ..raster import Surface

__all__ = ["SOURCES_KEY", "derived_from", "result_sources", "synthetic_inputs"]

#: Key of the sources record in ``GeoDataFrame.attrs`` and ``Surface.tags``.
SOURCES_KEY = "cci_geo_sources"

T = TypeVar("T", gpd.GeoDataFrame, Surface)


def _provenance(atlas: Any) -> dict[str, dict[str, str]]:
    if isinstance(atlas, Mapping) and all(isinstance(v, Mapping) for v in atlas.values()):
        return {str(k): dict(v) for k, v in atlas.items()}  # already a provenance mapping
    prov = getattr(atlas, "provenance", None)
    return {str(k): dict(v) for k, v in prov.items()} if isinstance(prov, Mapping) else {}


def derived_from(result: T, atlas: Any, *kinds: str) -> T:
    """Return a copy of ``result`` recording that it was computed from layers ``kinds``.

    Parameters
    ----------
    result
        A GeoDataFrame or Surface returned by an analysis.
    atlas
        The atlas the layers came from (a :class:`cci_geo.atlas.Atlas`, or a mapping of layer
        kind -> provenance record); each layer's ``status`` is copied from its provenance
        (``"unknown"`` when the atlas has none).
    *kinds
        Layer kinds the result was computed from (``"enterprises"``, ``"venues"`` ...).

    Returns
    -------
    GeoDataFrame or Surface
        A copy whose ``attrs`` / ``tags`` hold ``cci_geo_sources``, merged with any record
        the result already had. A map of it says "synthetic" when an input was synthetic,
        even if the atlas it is drawn with does not contain that input.

    Raises
    ------
    TypeError
        If ``result`` is neither a GeoDataFrame nor a Surface.
    ValueError
        If no layer kind is given.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import concentration as cc
    >>> atlas = cci_geo.load_demo()
    >>> density = derived_from(cc.kernel_density(atlas["enterprises"], cell_size_m=2000), atlas,
    ...                        "enterprises")
    >>> result_sources(density)
    {'enterprises': 'synthetic'}
    """
    if not kinds:
        msg = ("derived_from needs at least one layer kind, e.g. "
               "derived_from(result, atlas, 'enterprises').")
        raise ParameterError(msg)
    prov = _provenance(atlas)
    record = dict(result_sources(result) or {})
    for kind in kinds:
        record[str(kind)] = str(prov.get(kind, {}).get("status", "unknown"))
    text = json.dumps(record, ensure_ascii=False, sort_keys=True)
    if isinstance(result, Surface):
        return dataclasses.replace(result, tags={**result.tags, SOURCES_KEY: text})
    if isinstance(result, gpd.GeoDataFrame):
        out = result.copy()
        out.attrs[SOURCES_KEY] = text
        return out
    msg = f"result must be a GeoDataFrame or a Surface, got {type(result).__name__}."
    raise ParameterTypeError(msg)


def _parse(value: Any) -> dict[str, str] | None:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                return None
            return _parse(parsed) if isinstance(parsed, Mapping) else None
        return {k.strip(): "" for k in text.split(";") if k.strip()} or None
    if isinstance(value, Iterable):
        return {str(k): "" for k in value} or None
    return None


def result_sources(obj: Any) -> dict[str, str] | None:
    """Return ``{layer kind: status}`` that ``obj`` declares it was computed from, or None.

    The status is ``""`` when only the kind is declared. None means the result does not say.

    Examples
    --------
    >>> import pandas as pd
    >>> result_sources(pd.DataFrame()) is None
    True
    """
    if isinstance(obj, Surface):
        return _parse(obj.tags.get(SOURCES_KEY))
    attrs = getattr(obj, "attrs", None)
    if isinstance(attrs, dict) and SOURCES_KEY in attrs:
        return _parse(attrs[SOURCES_KEY])
    return None


def _statuses(status: str) -> set[str]:
    return {s.strip() for s in str(status).replace(",", ";").split(";") if s.strip()}


def synthetic_inputs(obj: Any, atlas: Any) -> list[str] | None:
    """Return the synthetic layer kinds ``obj`` was computed from (None: not declared).

    A declared status is used as recorded; a kind declared without a status takes the one
    in ``atlas``'s provenance.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import concentration as cc
    >>> atlas = cci_geo.load_demo()
    >>> grid = derived_from(cc.grid_counts(atlas["enterprises"], 5000), atlas, "enterprises")
    >>> synthetic_inputs(grid, atlas)
    ['enterprises']
    """
    declared = result_sources(obj)
    if declared is None:
        return None
    prov = _provenance(atlas)
    out = []
    for kind, status in declared.items():
        status = status or str(prov.get(kind, {}).get("status", ""))
        if "synthetic" in _statuses(status):
            out.append(kind)
    return sorted(out)
