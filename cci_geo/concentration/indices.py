"""Concentration and specialisation indices of sectors over areas (districts, zones...).

Notation: ``E_ij`` is the activity (enterprise count, or the sum of a column such as
``employees``) of sector ``i`` in area ``j``; ``E_i.``, ``E_.j`` and ``E`` are the sector,
area and grand totals over the areas given.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from .._validate import require_columns, same_crs
from ..errors import DataError
from ..results import tag_result
from ..scale import is_partitioned
from ..settings import Settings
from ._common import as_frame, finite_values, metric_points

__all__ = ["location_quotient", "sector_concentration", "sector_by_area"]

logger = logging.getLogger(__name__)


def sector_by_area(enterprises: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                   by: str = "sector", weight: str | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Return the area x sector table ``E_ij`` and the area label of each enterprise.

    Enterprises are assigned to the area that contains them (the first one where areas
    overlap); enterprises outside every area are left out (logged).

    Returns
    -------
    tuple
        ``(table, assignment)``: a DataFrame indexed like ``areas`` with one column per
        category of ``by`` (sorted), and a Series (index of ``enterprises``) holding the area
        index label of each enterprise, or NA.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"name": ["west", "east"]}, crs="EPSG:32651",
    ...                          geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
    >>> firms = gpd.GeoDataFrame({"sector": ["design", "design", "media", "media"]},
    ...                          crs="EPSG:32651",
    ...                          geometry=[Point(1, 1), Point(2, 2), Point(3, 3), Point(15, 5)])
    >>> table, where = sector_by_area(firms, areas)
    >>> table.to_dict("list")
    {'design': [2.0, 0.0], 'media': [1.0, 1.0]}
    """
    ent = as_frame(enterprises, "enterprises")
    zones = as_frame(areas, "areas")
    same_crs(ent, zones, "enterprises", "areas")
    require_columns(ent, [by], "enterprises")
    metric_points(ent, "enterprises")  # geometry checks: points, no missing, finite
    vals = finite_values(ent, weight, "enterprises")
    cats = ent[by]
    if cats.isna().any():
        bad = cats.isna().to_numpy()
        msg = f"enterprises column {by!r} has missing values in {int(bad.sum())} rows; fill them."
        raise DataError(msg)
    left, right = zones.sindex.query(ent.geometry.values, predicate="intersects")
    first = pd.Series(right, index=left).groupby(level=0).min()
    assign = pd.Series(pd.NA, index=ent.index, dtype="object")
    assign.iloc[first.index.to_numpy()] = zones.index.to_numpy()[first.to_numpy()]
    outside = int(assign.isna().sum())
    if outside:
        logger.info("%d of %d enterprises lie outside every area and are left out",
                    outside, len(ent))
    ok = assign.notna().to_numpy()
    frame = pd.DataFrame({"area": assign[ok].to_numpy(), "cat": cats[ok].astype(str).to_numpy(),
                          "v": vals[ok]})
    table = frame.pivot_table(index="area", columns="cat", values="v", aggfunc="sum",
                              fill_value=0.0)
    table = table.reindex(index=zones.index, fill_value=0.0)
    table = table.reindex(columns=sorted(table.columns)).astype("float64")
    table.columns.name = None
    return table, assign


def location_quotient(enterprises: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                      by: str = "sector", weight: str | None = None,
                      settings: Settings | None = None) -> gpd.GeoDataFrame:
    """Return ``areas`` with one location quotient per sector and a Krugman index.

    ``LQ_ij = (E_ij / E_.j) / (E_i. / E)``: above 1 the area is specialised in the sector
    relative to the whole study region. Krugman's specialisation index of area ``j`` is
    ``K_j = Σ_i |E_ij / E_.j - E_i. / E|`` (0 = same mix as the region, 2 = disjoint).

    Parameters
    ----------
    enterprises
        Point layer with a category column (``by``); or a dask-geopandas frame or the
        path/glob of a GeoParquet dataset, tabulated partition by partition (the area x
        sector sums are additive, so the result equals the in-memory one).
    areas
        Polygon layer (e.g. the 16 Beijing districts), in the same CRS.
    by
        Category column, by default ``"sector"``.
    weight
        Column to sum instead of counting (e.g. ``"employees"`` or ``"revenue_cny"``).
    settings
        ``settings.scheduler`` chooses where partitioned input is computed (see
        :mod:`cci_geo.scale`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``areas`` with ``total`` (float: E_.j), ``lq_<category>`` per category
        (float; NaN where the area is empty) and ``krugman`` (float).
        Result kind ``"location_quotient"``.

    Raises
    ------
    CRSMismatchError
        If the layers' CRSs differ.
    DataError
        Empty layers, NaN values, fewer than two areas, or no enterprise inside the areas.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"name": ["west", "east"]}, crs="EPSG:32651",
    ...                          geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
    >>> firms = gpd.GeoDataFrame({"sector": ["design", "design", "media", "media"]},
    ...                          crs="EPSG:32651",
    ...                          geometry=[Point(1, 1), Point(2, 2), Point(3, 3), Point(15, 5)])
    >>> location_quotient(firms, areas)[["lq_design", "lq_media"]].round(2).values.tolist()
    [[1.33, 0.67], [0.0, 2.0]]
    """
    table, _ = _table(enterprises, areas, by, weight, settings)
    total = table.sum(axis=1)
    region = table.sum(axis=0) / float(table.to_numpy().sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        share = table.div(total.replace(0.0, np.nan), axis=0)
        lq = share.div(region.replace(0.0, np.nan), axis=1)
    out = areas.copy()
    out["total"] = total.to_numpy()
    for cat in table.columns:
        out[f"lq_{cat}"] = lq[cat].to_numpy()
    out["krugman"] = (share - region).abs().sum(axis=1, min_count=1).to_numpy()
    out.attrs["weight"] = weight or "count"
    return tag_result(out, "location_quotient")


def _table(enterprises: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, by: str,
           weight: str | None, settings: Settings | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the area x sector table and per-sector ``n``, ``v`` and ``v2`` sums."""
    if is_partitioned(enterprises):
        from ._partitioned import partitioned_sector_stats

        table, stats = partitioned_sector_stats(enterprises, areas, by=by, value=weight,
                                                settings=settings)
    else:
        table, stats = sector_stats(enterprises, areas, by=by, weight=weight)
    if len(table) < 2:
        msg = f"areas has {len(table)} unit(s); concentration indices need at least 2 areas."
        raise DataError(msg)
    if float(table.to_numpy().sum()) <= 0:
        msg = "no enterprise (or no positive value) lies inside the areas; check CRS and extent."
        raise DataError(msg)
    return table, stats


def sector_stats(enterprises: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, by: str,
                 weight: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the additive statistics behind the indices for one set of enterprises.

    ``(table, stats)``: the area x sector sums (:func:`sector_by_area`) and, per sector, the
    number ``n`` of enterprises inside the areas and the sums ``v`` and ``v2`` of their
    values and squared values. Both add up over disjoint sets of enterprises.
    """
    table, assign = sector_by_area(enterprises, areas, by=by, weight=weight)
    inside = assign.notna().to_numpy()
    vals = finite_values(enterprises, weight, "enterprises")[inside]
    cats = enterprises[by].astype(str).to_numpy()[inside]
    stats = pd.DataFrame({"cat": cats, "n": 1.0, "v": vals, "v2": vals * vals})
    stats = stats.groupby("cat").sum().reindex(table.columns, fill_value=0.0)
    return table, stats


def add_stats(a: tuple[pd.DataFrame, pd.DataFrame],
              b: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add two :func:`sector_stats` results (categories missing on one side count zero)."""
    table = a[0].add(b[0], fill_value=0.0)
    stats = a[1].add(b[1], fill_value=0.0)
    cols = sorted(table.columns)
    return table[cols], stats.reindex(cols, fill_value=0.0)


def sector_concentration(enterprises: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                         by: str = "sector", weight: str | None = None,
                         settings: Settings | None = None) -> pd.DataFrame:
    """Return per-sector Herfindahl–Hirschman and Ellison–Glaeser concentration indices.

    With ``s_ij = E_ij / E_i.`` (the share of sector ``i`` located in area ``j``),
    ``x_j = E_.j / E`` (the area's share of all activity) and ``z_k`` the share of
    enterprise ``k`` in its sector's total (``1 / n_i`` when counting):

    - spatial Herfindahl–Hirschman index ``HHI_i = Σ_j s_ij²`` (1 = all in one area);
    - plant Herfindahl ``H_i = Σ_k z_k²``;
    - raw geographic concentration ``G_i = Σ_j (s_ij - x_j)²``;
    - Ellison–Glaeser (1997) index
      ``γ_i = (G_i - (1 - Σ_j x_j²) H_i) / ((1 - Σ_j x_j²)(1 - H_i))``: about 0 when firms
      locate as if at random (given the industry's lumpiness), above 0.05 "highly
      localised" in their classification, below 0 dispersed.

    Parameters
    ----------
    enterprises, areas, by, weight, settings
        As for :func:`location_quotient` (partitioned enterprises included: ``H_i`` is
        computed as ``Σ_k v_k² / (Σ_k v_k)²`` from additive sums).

    Returns
    -------
    pandas.DataFrame
        Indexed by category with ``n`` (int, enterprises in the areas), ``total`` (float),
        ``hhi``, ``plant_h``, ``g`` and ``eg`` (float; ``eg`` is NaN when ``H = 1``).

    Raises
    ------
    DataError
        As for :func:`location_quotient`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> areas = gpd.GeoDataFrame({"name": ["west", "east"]}, crs="EPSG:32651",
    ...                          geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
    >>> firms = gpd.GeoDataFrame({"sector": ["design", "design", "media", "media"]},
    ...                          crs="EPSG:32651",
    ...                          geometry=[Point(1, 1), Point(2, 2), Point(3, 3), Point(15, 5)])
    >>> sector_concentration(firms, areas)["hhi"].round(2).tolist()
    [1.0, 0.5]
    """
    table, stats = _table(enterprises, areas, by, weight, settings)
    x = table.sum(axis=1) / float(table.to_numpy().sum())
    sum_x2 = float((x**2).sum())
    rows = []
    for cat in table.columns:
        tot = float(stats.loc[cat, "v"])
        s = table[cat] / tot if tot > 0 else table[cat] * np.nan
        h = float(stats.loc[cat, "v2"]) / (tot * tot) if tot > 0 else float("nan")
        g = float(((s - x) ** 2).sum())
        denom = (1.0 - sum_x2) * (1.0 - h)
        eg = (g - (1.0 - sum_x2) * h) / denom if denom > 0 else float("nan")
        rows.append({"category": cat, "n": int(stats.loc[cat, "n"]), "total": tot,
                     "hhi": float((s**2).sum()), "plant_h": h, "g": g, "eg": eg})
    out = pd.DataFrame(rows).set_index("category")
    out.index.name = by
    return tag_result(out, "sector_concentration")
