"""Small helpers the renderers share: reprojection, display names, popups and styles."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import has_crs
from ..errors import ParameterTypeError
from .labels import Lang, label, place_label, sector_label
from .layers import STYLE_COLUMNS, Legend, LegendItem, VectorLayer
from .style import OTHER_COLOR, SECTOR_COLORS

__all__ = [
    "categorical_colors",
    "display_frame",
    "display_name",
    "numeric_column",
    "to_wgs84",
    "vector_layer",
]

#: Columns whose values are codes with labels in :data:`cci_geo.maps.labels.LABELS`.
CODED_COLUMNS = ("level", "kind", "status", "quadrant", "gi_class", "gap", "designation",
                 "layout_status", "lisa_class", "former_use", "excluded_by", "data_status",
                 "position", "access_point", "mode", "lisa_quadrant")
SECTOR_COLUMNS = ("sector", "sectors", "dominant_sector", "top_sector")
#: Columns holding place names or codes, shown as names in the map's language.
PLACE_COLUMNS = ("province", "district", "site_province")
#: Internal ids and maintenance columns, never shown in a popup.
HIDDEN_COLUMNS = frozenset({
    "id", "row", "col", "gi_bin", "node_ids", "cluster_ids", "designated_ids", "corridor_ids",
    "demand_id", "site_id", "nearest_facility", "boundary_source", "confidence", "source",
    "notes", "district_en", "district_zh", "cells", "open_space_source", "footprint",
    "corridor_id", "station_id", "anchor_distance_m", "confidence_published",
    "published_lon", "published_lat"})
#: Ids made by cci_geo for grid cells and OSM objects: never a name for a person.
INTERNAL_ID = re.compile(r"r\d+c\d+|cell_[\d_]+|osm\d+")
#: Ratios (0-1) shown as percentages.
RATIO_COLUMNS = frozenset({"designated_share", "share_without_access", "flow_share",
                           "cluster_share", "share", "p_top_k", "covered_share"})
#: Integer columns shown as they are (a year is "1992", not "1,992").
YEAR_COLUMNS = ("founded", "built_year", "designated", "opened", "year")


def to_wgs84(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326 without empty geometries (raises if it has no CRS)."""
    has_crs(gdf, name)
    out = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    return out.to_crs(4326) if not out.crs.equals("EPSG:4326") else out.copy()


def display_name(gdf: pd.DataFrame, lang: Lang) -> pd.Series:
    """Return each row's name in ``lang`` (falling back to the other language, then ``id``)."""
    order = ["name_zh", "name_en", "name"] if lang == "zh" else ["name_en", "name_zh", "name"]
    out = pd.Series("", index=gdf.index, dtype="string")
    missing = np.ones(len(gdf), dtype=bool)
    internal_ids = {"row", "col"} <= set(gdf.columns)  # grid cells: "r123c84" is no name
    for col in [*order, *([] if internal_ids else ["id"])]:
        if col not in gdf.columns or not missing.any():
            continue
        text = gdf[col].astype("string")  # vectorised: 10^6 names without a Python loop
        ok = missing & (text.str.strip() != "").fillna(False).to_numpy(dtype=bool)
        if col == "id":  # ids cci_geo made (grid cells, OSM objects) are no names
            ok &= ~text.str.fullmatch(INTERNAL_ID.pattern).fillna(False).to_numpy(dtype=bool)
        out = out.mask(ok, text)
        missing &= ~ok
    return out.astype(str)


def display_frame(gdf: gpd.GeoDataFrame, columns: Sequence[str],
                  lang: Lang) -> tuple[gpd.GeoDataFrame, tuple[tuple[str, str], ...]]:
    """Return a copy with ``_name`` and display versions of ``columns``, and popup fields.

    Codes (sectors, kinds, statuses ...) become labels in ``lang``; columns that are absent
    are skipped. The returned fields are ``(column, label)`` pairs.
    """
    out = gdf.copy()
    out["_name"] = display_name(gdf, lang)
    fields = []
    for col in columns:
        if col not in gdf.columns or col in HIDDEN_COLUMNS or col.startswith("datum_"):
            continue
        values = gdf[col]
        if (col in RATIO_COLUMNS or col.startswith("share_")) and \
                pd.api.types.is_numeric_dtype(values):
            out[col] = values.map(lambda v: f"{v:.1%}" if pd.notna(v) else None)
        elif col in PLACE_COLUMNS:
            out[col] = values.map(lambda v: place_label(v, lang) if pd.notna(v) else None)
        elif pd.api.types.is_bool_dtype(values) or col in ("fixed", "existing", "covered",
                                                           "heritage", "clipped"):
            out[col] = values.map(lambda v: label(str(bool(v)), lang) if pd.notna(v) else None)
        elif col in YEAR_COLUMNS and pd.api.types.is_numeric_dtype(values):
            out[col] = values.map(lambda v: str(int(v)) if pd.notna(v) else None)
        elif col in SECTOR_COLUMNS:
            out[col] = values.map(lambda v: sector_label(v, lang) if pd.notna(v) else None)
        elif col in CODED_COLUMNS or (values.dtype == bool):
            out[col] = values.map(lambda v: label(v, lang) if isinstance(v, str) else v)
        fields.append((col, label(col, lang)))
    return out, tuple(fields)


def categorical_colors(values: pd.Series, palette: Mapping[str, str], lang: Lang, *,
                       shape: str = "circle",
                       labeller: Any = None) -> tuple[np.ndarray, tuple[LegendItem, ...]]:
    """Return one colour per value from ``palette`` and legend items for the values present."""
    labeller = labeller or (lambda v: label(v, lang))
    keys = values.astype(object).where(values.notna(), None)
    colors = np.array([palette.get(str(v), OTHER_COLOR) for v in keys], dtype=object)
    present = {str(v) for v in keys if v is not None}
    items = [LegendItem(c, labeller(k), shape=shape)  # type: ignore[arg-type]
             for k, c in palette.items() if k in present]
    if any(str(v) not in palette for v in keys if v is not None) or keys.isna().any():
        items.append(LegendItem(OTHER_COLOR, label("other", lang),
                                shape=shape))  # type: ignore[arg-type]
    return colors, tuple(items)


def sector_colors(values: pd.Series, lang: Lang) -> tuple[np.ndarray, tuple[LegendItem, ...]]:
    """Colours and legend items for a sector (or ``dominant_sector``) column."""
    first = values.map(lambda v: str(v).split(";")[0].strip() if pd.notna(v) else None)
    return categorical_colors(first, SECTOR_COLORS, lang)


def numeric_column(gdf: pd.DataFrame, candidates: Sequence[str],
                   attr_hint: str | None = None) -> str | None:
    """Return the first numeric column among ``attrs[attr_hint]`` and ``candidates``."""
    names = []
    if attr_hint and isinstance(gdf.attrs.get(attr_hint), str):
        names.append(gdf.attrs[attr_hint])
    names.extend(candidates)
    for col in names:
        if col in gdf.columns and pd.api.types.is_numeric_dtype(gdf[col]) \
                and not pd.api.types.is_bool_dtype(gdf[col]):
            return col
    return None


def vector_layer(gdf: gpd.GeoDataFrame, name: str, *, fields: tuple[tuple[str, str], ...],
                 legend: Legend | None = None, z: int = 10, show: bool = True,
                 title_column: str | None = "_name", labels_column: str | None = None,
                 **style: Any) -> VectorLayer:
    """Build a :class:`VectorLayer` keeping only the columns it shows.

    ``style`` keywords are the keys of :data:`STYLE_COLUMNS` without the underscore
    (``color``, ``fill``, ``weight``, ``opacity``, ``fill_opacity``, ``radius``, ``dash``);
    each is a scalar or one value per row.
    """
    out = gdf.copy()
    for key, value in style.items():
        col = f"_{key}"
        if col not in STYLE_COLUMNS:
            msg = f"unknown style keyword {key!r}; use one of {sorted(STYLE_COLUMNS)}."
            raise ParameterTypeError(msg)
        out[col] = value if np.ndim(value) == 0 else np.asarray(value, dtype=object)
    keep = [c for c, _ in fields]
    for extra in (title_column, labels_column):
        if extra and extra in out.columns and extra not in keep:
            keep.append(extra)
    keep += [c for c in STYLE_COLUMNS if c in out.columns]
    out = gpd.GeoDataFrame(out[keep], geometry=out.geometry, crs=out.crs)
    return VectorLayer(name, out, fields=fields, title_column=title_column
                       if title_column in out.columns else None, legend=legend, z=z,
                       show=show, labels_column=labels_column)
