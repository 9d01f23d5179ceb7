"""One call that monitors an atlas over time, and its tables ready for export.

:func:`monitor` runs the emerging hot spot analysis, the target progress and the park
scorecards with the permutation test on an atlas that carries enterprises with founding and
closing years (and, for revenue and employment, the ``enterprise_years`` table).
:meth:`MonitoringReport.tables` returns them as plain tables whose headers, units and rounding
are in :data:`MONITORING_COLUMNS`; the ``cci-geo monitor`` command writes them with
:mod:`cci_geo.tables` (Excel-ready CSV, optionally one workbook).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._crs import resolve_metric_crs
from ..errors import DataError, opt
from ..schema import SECTOR_NAMES
from ..tables import Column
from .cube import SpaceTimeCube, space_time_cube
from .emerging import emerging_hot_spots
from .scorecards import DesignationEffect, designated_areas, designation_effect, park_scorecards
from .targets import target_progress

__all__ = ["MONITORING_COLUMNS", "MonitoringReport", "monitor"]

logger = logging.getLogger(__name__)


@dataclass
class MonitoringReport:
    """Everything :func:`monitor` computed, with the parameters used.

    Attributes
    ----------
    cube
        The space-time cube of operating enterprises.
    emerging
        Emerging hot spot categories per grid cell (metric CRS).
    targets
        Progress toward PT21-PT24 by year (city-wide and per area).
    scorecards
        One row per designated area (CRS of the enterprises).
    effect
        The permutation test of faster growth in designated areas (None when no area was
        designated inside the years).
    parameters
        Years, cell size, k, alpha, seed, permutations, sources' statuses.
    """

    cube: SpaceTimeCube
    emerging: gpd.GeoDataFrame
    targets: pd.DataFrame
    scorecards: gpd.GeoDataFrame
    effect: DesignationEffect | None
    parameters: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Return the export tables (machine column names; headers and units in
        :data:`MONITORING_COLUMNS` for :mod:`cci_geo.tables`).

        Returns
        -------
        dict
            ``emerging_hot_spots``, ``target_progress``, ``park_scorecards`` and
            ``designation_effect`` (each a DataFrame).
        """
        return {"emerging_hot_spots": _ehs_table(self.emerging),
                "target_progress": pd.DataFrame(self.targets).copy(),
                "park_scorecards": _scorecard_table(self.scorecards),
                "designation_effect": _effect_table(self.effect, self.parameters)}


def _c(zh: str, en: str, unit: str = "", fmt: str = "text") -> Column:
    return Column(zh, en, unit, fmt)


MONITORING_COLUMNS: dict[str, Column] = {
    "cell_id": _c("格网编号", "Grid cell"), "lon": _c("经度", "Longitude", "°", "float:5"),
    "lat": _c("纬度", "Latitude", "°", "float:5"),
    "category": _c("新兴热点类别", "Emerging hot spot category"),
    "category_zh": _c("新兴热点类别（中文）", "Category in Chinese"),
    "category_code": _c("类别代码", "Category code", fmt="int"),
    "trend_z": _c("趋势 z 值", "Trend z (Mann-Kendall)", fmt="float:3"),
    "trend_p": _c("趋势 p 值", "Trend p-value", fmt="float:4"),
    "n_hot": _c("热点年数", "Hot spot years", "years", "int"),
    "n_cold": _c("冷点年数", "Cold spot years", "years", "int"),
    "value_first": _c("首年企业数", "Enterprises in the first year", "enterprises", "int"),
    "value_last": _c("末年企业数", "Enterprises in the last year", "enterprises", "int"),
    "target_id": _c("指标编号", "Target"), "metric_zh": _c("指标", "Metric in Chinese"),
    "metric_en": _c("指标英文", "Metric"), "scope": _c("统计范围", "Scope"),
    "area_id": _c("区域编号", "Area"), "area_name": _c("区域名称", "Area name"),
    "year": _c("年份", "Year", fmt="int"),
    "value": _c("企业数", "Enterprises counted", "enterprises", "int"),
    "target": _c("目标值", "Target value", "enterprises", "int"),
    "target_text": _c("目标表述", "Target as stated"),
    "target_year": _c("目标年份（0 为每年）", "Target year (0 = every year)", fmt="int"),
    "share_of_target": _c("完成比例", "Share of target", "%", "percent"),
    "met": _c("是否达标", "Met"), "designated": _c("认定年份", "Designated", fmt="int"),
    "area_km2": _c("面积", "Area", "km²", "float:2"),
    "baseline_year": _c("基期年份", "Baseline year", fmt="int"),
    "enterprises_baseline": _c("基期企业数", "Enterprises, baseline", "enterprises", "int"),
    "enterprises_last": _c("末年企业数", "Enterprises, last year", "enterprises", "int"),
    "employees_last": _c("末年从业人员", "Employees, last year", "persons", "int"),
    "revenue_last_mcny": _c("末年营业收入", "Revenue, last year", "million CNY", "float:2"),
    "growth_since_designation": _c("认定以来企业数增长", "Enterprise growth since designation",
                                   "%", "percent"),
    "revenue_growth": _c("认定以来营业收入增长", "Revenue growth since designation", "%",
                         "percent"),
    "city_growth": _c("同期全市增长", "City growth, same years", "%", "percent"),
    "comparison_growth": _c("同期对照区增长", "Comparison areas' growth, same years", "%",
                            "percent"),
    "excess_vs_city_pp": _c("高于全市", "Above the city", "percentage points", "float:1"),
    "excess_vs_comparison_pp": _c("高于对照区", "Above comparison areas",
                                  "percentage points", "float:1"),
    "comparison_cells": _c("对照格网", "Comparison cells"),
    "density_per_km2": _c("企业密度", "Density", "enterprises/km²", "float:1"),
    "cluster_gi_z": _c("集聚强度 (Gi* z)", "Cluster strength (Gi* z)", fmt="float:2"),
    "top_sector": _c("主导行业", "Top sector"),
    "nearest_station_m": _c("最近站点距离", "Nearest station", "m", "int"),
    "nearest_venue_m": _c("最近文化设施距离", "Nearest venue", "m", "int"),
    "test": _c("检验", "Test"),
    "statistic": _c("统计量（对数增长差）", "Statistic (log growth difference)", fmt="float:4"),
    "p_value": _c("p 值", "p-value", fmt="float:4"),
    "n_areas": _c("检验区域数", "Areas tested", fmt="int"),
    "n_permutations": _c("置换次数", "Permutations", fmt="int"), "seed": _c("随机种子", "Seed"),
    "synthetic_inputs": _c("合成数据输入", "Synthetic inputs"),
    "years": _c("考察年份", "Years"),
} | {f"lq_{s}": _c(f"区位商：{zh}", f"LQ: {en}", fmt="float:2")
     for s, (zh, en) in SECTOR_NAMES.items()}
"""Headers (Chinese, English, unit) and rounding of every exported monitoring column."""


def _ehs_table(ehs: gpd.GeoDataFrame) -> pd.DataFrame:
    pts = ehs.geometry.centroid.to_crs("EPSG:4326")
    cols = ["category", "category_zh", "category_code", "trend_z", "trend_p", "n_hot",
            "n_cold", "value_first", "value_last"]
    out = pd.DataFrame({"cell_id": ehs["id"].to_numpy(), "lon": pts.x.to_numpy(),
                        "lat": pts.y.to_numpy()})
    for col in cols:
        out[col] = ehs[col].to_numpy()
    return out


def _scorecard_table(cards: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(cards.drop(columns="geometry")).copy()
    out["revenue_last_mcny"] = out.pop("revenue_last_cny") / 1e6
    for col in ("growth_since_designation", "revenue_growth", "city_growth",
                "comparison_growth"):
        out[col] = out.pop(f"{col}_pct") / 100.0
    return out


def _effect_table(effect: DesignationEffect | None, params: dict[str, Any]) -> pd.DataFrame:
    row: dict[str, Any] = {"test": "designated areas grew faster than matched comparison areas"
                                   " (stratified permutation, one-sided)"}
    if effect is None:
        row |= {"statistic": np.nan, "p_value": np.nan, "n_areas": 0}
    else:
        row |= {"statistic": effect.statistic, "p_value": effect.p_value,
                "n_areas": effect.n_areas, "n_permutations": effect.n_permutations,
                "seed": effect.seed}
    row |= {"years": params.get("years"), "synthetic_inputs": params.get("synthetic_inputs")}
    return pd.DataFrame([row])


def _auto(frame: pd.DataFrame | None, value: object, column: str) -> object:
    if value != "auto":
        return value
    return column if frame is not None and column in frame.columns else None


def monitor(atlas: Any, *, years: Iterable[int] | None = None, cell_size_m: float = 1000.0,
            k: int = 1, alpha: float = 0.10, n_permutations: int = 9999,
            seed: int | None = 2018, brand: object = "auto", supported: object = "auto",
            metric_crs: str | None = None, progress: bool = False) -> MonitoringReport:
    """Monitor an atlas over time: emerging hot spots, target progress, park scorecards.

    Parameters
    ----------
    atlas
        A :class:`cci_geo.Atlas` with an ``enterprises`` layer carrying ``founded``/``closed``
        years, optionally the ``enterprise_years`` table, and designated layers (``zones``,
        ``functional_areas``, ``demonstrative_regions``); ``districts``, ``stations`` and
        ``venues`` are used when present.
    years
        Consecutive years (default: the years of the ``enterprise_years`` table).
    cell_size_m
        Grid cell edge of the space-time cube, metres.
    k
        Previous years in the Gi* neighbourhood.
    alpha
        Significance of hot/cold bins and of the trend.
    n_permutations, seed
        Permutation test of the designation effect.
    brand, supported
        PT23 and PT24 inputs (see :func:`target_progress`); ``"auto"`` uses an enterprises
        column ``brand`` and a panel column ``supported_sme`` when they exist.
    metric_crs
        Metric CRS (default: the atlas's).
    progress
        Show a progress bar (tqdm, on stderr).

    Returns
    -------
    MonitoringReport

    Raises
    ------
    DataError
        The atlas has no enterprises, or no years can be inferred.

    Examples
    --------
    >>> import cci_geo
    >>> report = monitor(cci_geo.load_demo(), cell_size_m=3000, n_permutations=99)
    >>> sorted(report.tables())
    ['designation_effect', 'emerging_hot_spots', 'park_scorecards', 'target_progress']
    """
    from tqdm import tqdm

    from .. import __version__

    if "enterprises" not in atlas:
        msg = "the atlas has no 'enterprises' layer; monitoring needs enterprises with years."
        raise DataError(msg)
    tables = getattr(atlas, "tables", {}) or {}
    panel = tables.get("enterprise_years")
    if years is None:
        if panel is None:
            msg = ("pass " + opt("years= (e.g. range(2012, 2026))", "--years 2012-2025")
                   + ": the atlas has no 'enterprise_years' table to take them from.")
            raise DataError(msg)
        years = range(int(panel["year"].min()), int(panel["year"].max()) + 1)
    yrs = list(years)
    ent = atlas["enterprises"]
    crs = resolve_metric_crs(ent, metric_crs=metric_crs)   # the atlas's, stamped on its layers
    bar = tqdm(total=4, desc="monitor", unit="step", disable=not progress)
    cube = space_time_cube(ent, years=yrs, cell_size_m=cell_size_m, metric_crs=crs)
    ehs = emerging_hot_spots(cube, k=k, alpha=alpha)
    bar.update()
    areas_by_scope = {}
    if "districts" in atlas:
        d = atlas["districts"]
        areas_by_scope["district"] = d[d["level"] == "district"] if "level" in d.columns else d
    layers = {kind: atlas[kind] for kind in ("zones", "functional_areas",
                                            "demonstrative_regions") if kind in atlas}
    for kind, frame in layers.items():
        areas_by_scope[kind] = frame
    targets = target_progress(ent, panel, years=yrs, brand=_auto(ent, brand, "brand"),
                              supported=_auto(panel, supported, "supported_sme"),
                              areas=areas_by_scope, metric_crs=crs)
    bar.update()
    areas = designated_areas(**layers)  # type: ignore[arg-type]
    cards = park_scorecards(ent, areas, panel, years=yrs, metric_crs=crs,
                            stations=atlas.get("stations"), venues=atlas.get("venues"))
    bar.update()
    effect = designation_effect(cards, n_permutations=n_permutations, seed=seed) \
        if cards.attrs.get("comparison_sets") else None
    bar.update()
    bar.close()
    prov = getattr(atlas, "provenance", {})
    synthetic = sorted(k for k in ("enterprises", "enterprise_years")
                       if "synthetic" in str(prov.get(k, {}).get("status", "")))
    params = {"years": f"{yrs[0]}-{yrs[-1]}", "cell_size_m": cell_size_m, "k": k,
              "alpha": alpha, "n_permutations": n_permutations, "seed": seed,
              "synthetic_inputs": ";".join(synthetic) or "none",
              "cci_geo_version": __version__, "date": dt.date.today().isoformat()}
    return MonitoringReport(cube, ehs, targets, cards, effect, params)
