"""Private helpers shared by the corridor modules: checks, metric frames, result tags."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from .. import _validate
from .._crs import resolve_metric_crs
from ..errors import CRSMismatchError, DataError, ParameterTypeError

__all__ = [
    "BEIJING_LONLAT",
    "check_layer",
    "feature_ids",
    "metric_crs_for",
    "origin_node_from_roles",
    "require_geom_types",
]

logger = logging.getLogger(__name__)

BEIJING_LONLAT: tuple[float, float] = (116.391242, 39.905905)
"""(lon, lat) WGS-84 of the conventional Beijing centre; pass it as ``origin=`` to orient
Jing-Jin-Ji lines from Beijing (nothing uses it by default)."""



def check_layer(gdf: object, name: str) -> gpd.GeoDataFrame:
    """Check that ``gdf`` is a non-empty GeoDataFrame with a plausible CRS; return it."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{name} must be a GeoDataFrame, got {type(gdf).__name__}."
        raise ParameterTypeError(msg)
    _validate.has_crs(gdf, name)
    _validate.non_empty(gdf, name)
    if _validate.is_geographic(gdf.crs):
        geoms = gdf.geometry[~(gdf.geometry.is_empty | gdf.geometry.isna())]
        west, south, east, north = geoms.total_bounds
        if west < -180 or east > 180 or south < -90 or north > 90:
            msg = (
                f"{name} is declared in {gdf.crs.to_string()} (degrees) but its coordinates span "
                f"x {west:.6g}..{east:.6g}, y {south:.6g}..{north:.6g}, which are not longitudes "
                "and latitudes; the coordinates look projected (metres) or swapped (lat, lon). "
                f"Set the CRS they are really in, e.g. {name}.set_crs('EPSG:32650', "
                "allow_override=True), or swap the axes."
            )
            raise CRSMismatchError(msg)
    return gdf


def metric_crs_for(*frames: gpd.GeoDataFrame | None, metric_crs: str | None = None) -> CRS:
    """Return the metric CRS of an analysis of ``frames`` (see :func:`resolve_metric_crs`)."""
    return CRS.from_user_input(resolve_metric_crs(*frames, metric_crs=metric_crs))


ORIGIN_ROLES: tuple[str, ...] = ("capital", "core", "hub", "origin")
"""Node roles that mark a corridor origin, in order of preference (first word of ``role``)."""


def origin_node_from_roles(nodes: gpd.GeoDataFrame, ids: pd.Series) -> str | None:
    """Return the id of the node whose ``role`` marks it as the origin, or None.

    The role's first word (e.g. ``"Capital"`` in ``"Capital; the one core"``), lower-cased,
    is compared with :data:`ORIGIN_ROLES` in order; the first matching node (in row order)
    wins.
    """
    if "role" not in nodes.columns:
        return None
    first = nodes["role"].astype("string").str.strip().str.lower().str.extract(
        r"^([a-z]+)", expand=False)
    for role in ORIGIN_ROLES:
        hit = (first == role).to_numpy(dtype=bool, na_value=False)
        if hit.any():
            return str(ids.to_numpy()[hit][0])
    return None


def to_metric(gdf: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """Return ``gdf`` in ``crs`` (a copy when reprojected; unchanged otherwise)."""
    if CRS.from_user_input(gdf.crs).equals(crs):
        return gdf
    return gdf.to_crs(crs)


def require_geom_types(gdf: gpd.GeoDataFrame, allowed: tuple[str, ...], name: str) -> None:
    """Raise :class:`DataError` naming the rows whose geometry type is not in ``allowed``."""
    types = gdf.geometry.geom_type
    bad = ~types.isin(allowed) & gdf.geometry.notna()
    if bool(bad.any()):
        rows = list(gdf.index[bad][:10])
        found = sorted(set(types[bad].astype(str)))
        msg = (
            f"{name} must hold {' or '.join(allowed)} geometries; rows {rows} are {found}. "
            "Convert or drop those rows."
        )
        raise DataError(msg)


def feature_ids(gdf: gpd.GeoDataFrame, id_column: str, name: str) -> pd.Series:
    """Return the string ids of ``gdf`` from ``id_column`` (unique), indexed like ``gdf``."""
    if id_column not in gdf.columns:
        msg = (
            f"{name} has no id column {id_column!r}; it has {list(gdf.columns)}. Pass "
            f"id_column='<your id column>' or add an {id_column!r} column."
        )
        raise DataError(msg)
    ids = gdf[id_column]
    if bool(ids.isna().any()):
        rows = list(gdf.index[ids.isna()][:10])
        msg = f"{name}[{id_column!r}] is empty in rows {rows}; give every feature an id."
        raise DataError(msg)
    ids = ids.astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        msg = (
            f"{name}[{id_column!r}] must be unique; duplicated ids: {sorted(set(dup))[:10]}. "
            "Make the ids unique."
        )
        raise DataError(msg)
    return ids


def mass_values(places: gpd.GeoDataFrame, ids: pd.Series,
                mass: str | Mapping[str, float] | pd.Series, name: str) -> np.ndarray:
    """Return the masses of ``places`` (in row order) from a column name or a mapping id -> mass."""
    if isinstance(mass, str):
        if mass not in places.columns:
            msg = (
                f"mass column {mass!r} is not in {name}; it has {list(places.columns)}. "
                "Pass mass='<column>' or a mapping {place id: mass}."
            )
            raise DataError(msg)
        values = pd.to_numeric(places[mass], errors="coerce").to_numpy(dtype=float)
        labels = list(ids)
    elif isinstance(mass, (Mapping, pd.Series)):
        lookup = {str(k): v for k, v in dict(mass).items()}
        missing = [i for i in ids if i not in lookup]
        if missing:
            msg = (
                f"mass has no value for {name} id(s) {missing[:10]}; it covers "
                f"{sorted(lookup)[:20]}. Give a mass for every place (0 for none)."
            )
            raise DataError(msg)
        values = np.array([float(lookup[i]) for i in ids], dtype=float)
        labels = list(ids)
    else:
        msg = f"mass must be a column name or a mapping id -> mass, got {type(mass).__name__}."
        raise ParameterTypeError(msg)
    bad = ~np.isfinite(values) | (values < 0)
    if bool(bad.any()):
        rows = [(labels[i], float(values[i])) for i in np.flatnonzero(bad)[:10]]
        msg = (
            f"mass must be finite and >= 0 for every place of {name}; bad (id, value): {rows}. "
            "Fill missing masses (0 if a place has no creative industry)."
        )
        raise DataError(msg)
    return np.asarray(values, dtype=float)
