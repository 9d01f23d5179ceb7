"""Which enterprises lie in which area (areas may overlap; points get a radius)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import ensure_metric
from ..errors import DataError


def area_footprints(areas: gpd.GeoDataFrame, *, buffer_m: float, metric_crs: str | None
                    ) -> gpd.GeoDataFrame:
    """Areas in the metric CRS; points (and lines) become discs of ``buffer_m``."""
    metric = ensure_metric(areas, "areas", metric_crs)
    geoms = metric.geometry
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    out = metric.copy()
    out.loc[~polygonal, out.geometry.name] = geoms[~polygonal].buffer(buffer_m, 32).to_numpy()
    return out


def memberships(enterprises: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs ``(area, enterprise)`` of positions (iloc) where the enterprise lies in the area."""
    if len(footprints) == 0:
        msg = "no areas given; pass at least one designated area."
        raise DataError(msg)
    ent = enterprises.to_crs(footprints.crs)
    left, right = footprints.sindex.query(ent.geometry.values, predicate="intersects")
    return pd.DataFrame({"area": right.astype(np.int64), "enterprise": left.astype(np.int64)})
