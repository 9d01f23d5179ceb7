"""One call that monitors an atlas over time, and its tables ready for export.

:func:`monitor` runs the emerging hot spot analysis, the target progress and the park
scorecards with the permutation test on an atlas that carries enterprises with founding and
closing years (and, for revenue and employment, the ``enterprise_years`` table).
:meth:`MonitoringReport.tables` returns them as plain tables with units in the headers and
rounded values, which the ``cci-geo monitor`` command writes as UTF-8 CSV.
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

from ..errors import DataError
from .cube import SpaceTimeCube, space_time_cube
from .emerging import emerging_hot_spots
from .scorecards import DesignationEffect, designated_areas, designation_effect, park_scorecards
from .targets import target_progress

__all__ = ["MonitoringReport", "monitor"]

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
        """Return the export tables: units in headers, values rounded.

        Returns
        -------
        dict
            ``emerging_hot_spots``, ``target_progress``, ``park_scorecards`` and
            ``designation_effect`` (each a DataFrame).
        """
        return {"emerging_hot_spots": _ehs_table(self.emerging),
                "target_progress": _target_table(self.targets),
                "park_scorecards": _scorecard_table(self.scorecards),
                "designation_effect": _effect_table(self.effect, self.parameters)}


def _ehs_table(ehs: gpd.GeoDataFrame) -> pd.DataFrame:
    pts = ehs.geometry.centroid.to_crs("EPSG:4326")
    return pd.DataFrame({
        "cell_id": ehs["id"].to_numpy(), "lon (deg)": pts.x.round(5).to_numpy(),
        "lat (deg)": pts.y.round(5).to_numpy(), "category": ehs["category"].to_numpy(),
        "category_zh": ehs["category_zh"].to_numpy(),
        "category_code": ehs["category_code"].to_numpy(),
        "trend_z": ehs["trend_z"].round(3).to_numpy(),
        "trend_p": ehs["trend_p"].round(4).to_numpy(),
        "hot_years (count)": ehs["n_hot"].to_numpy(),
        "cold_years (count)": ehs["n_cold"].to_numpy(),
        "enterprises_first_year (count)": ehs["value_first"].round(0).to_numpy(),
        "enterprises_last_year (count)": ehs["value_last"].round(0).to_numpy()})


def _target_table(t: pd.DataFrame) -> pd.DataFrame:
    out = t.rename(columns={"value": "value (enterprises)", "target": "target (enterprises)",
                            "share_of_target": "share_of_target (%)"}).copy()
    out["share_of_target (%)"] = (out["share_of_target (%)"] * 100).round(1)
    return pd.DataFrame(out)


_SCORE_UNITS = {
    "area_km2": ("area (km2)", 2), "enterprises_baseline": ("enterprises_baseline (count)", 0),
    "enterprises_last": ("enterprises_last (count)", 0),
    "employees_last": ("employees_last (persons)", 0),
    "revenue_last_cny": ("revenue_last (million CNY)", 2),
    "growth_since_designation_pct": ("growth_since_designation (%)", 1),
    "revenue_growth_pct": ("revenue_growth_since_designation (%)", 1),
    "city_growth_pct": ("city_growth_same_years (%)", 1),
    "comparison_growth_pct": ("comparison_growth_same_years (%)", 1),
    "excess_vs_city_pp": ("excess_vs_city (percentage points)", 1),
    "excess_vs_comparison_pp": ("excess_vs_comparison (percentage points)", 1),
    "density_per_km2": ("density (enterprises per km2)", 1),
    "cluster_gi_z": ("cluster_strength (Gi* z)", 2),
    "nearest_station_m": ("nearest_station (m)", 0), "nearest_venue_m": ("nearest_venue (m)", 0),
}


def _scorecard_table(cards: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(cards.drop(columns="geometry"))
    if "revenue_last_cny" in out.columns:
        out["revenue_last_cny"] = out["revenue_last_cny"] / 1e6
    for col, (name, digits) in _SCORE_UNITS.items():
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").round(digits)
            out = out.rename(columns={col: name})
    lq = [c for c in out.columns if c.startswith("lq_")]
    out[lq] = out[lq].round(2)
    return out.rename(columns={c: f"{c} (ratio)" for c in lq})


def _effect_table(effect: DesignationEffect | None, params: dict[str, Any]) -> pd.DataFrame:
    row: dict[str, Any] = {"test": "designated areas grew faster than matched comparison areas"
                                   " (stratified permutation, one-sided)"}
    if effect is None:
        row |= {"statistic (log growth difference)": np.nan, "p_value": np.nan,
                "areas_tested (count)": 0}
    else:
        row |= {"statistic (log growth difference)": round(effect.statistic, 4),
                "p_value": round(effect.p_value, 4), "areas_tested (count)": effect.n_areas,
                "permutations (count)": effect.n_permutations, "seed": effect.seed}
    row |= {"years": params.get("years"), "synthetic_inputs": params.get("synthetic_inputs"),
            "cci_geo_version": params.get("cci_geo_version"), "date": params.get("date")}
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
            msg = ("pass years= (e.g. range(2012, 2026)): the atlas has no 'enterprise_years' "
                   "table to take them from.")
            raise DataError(msg)
        years = range(int(panel["year"].min()), int(panel["year"].max()) + 1)
    yrs = list(years)
    crs = metric_crs or getattr(atlas, "metric_crs", None)
    ent = atlas["enterprises"]
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
                            stations=atlas["stations"] if "stations" in atlas else None,
                            venues=atlas["venues"] if "venues" in atlas else None)
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
