"""Progress toward the enterprise targets of the 2018 Opinions (§3(2), PT21-PT24), by year.

PT21 one or two creative enterprises with revenue over 100 billion yuan a year, PT22 five or
more over 50 billion, PT23 100 enterprises with superior brands, innovation or scale, all
"within five years" of August 2018 (target year 2023); PT24 200 innovative SMEs supported every
year. The revenue targets are counted from annual observations; brands and supported SMEs are
flags or id lists the planner supplies (no register of them is open data).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ParameterError, opt
from ..results import tag_result
from ._areas import area_footprints, memberships
from .cube import years_of

__all__ = ["OPINIONS_2018_TARGETS", "target_progress"]

logger = logging.getLogger(__name__)

OPINIONS_2018_TARGETS = pd.DataFrame([
    {"target_id": "PT21", "metric_en": "enterprises with revenue over 100 billion yuan",
     "metric_zh": "年营业收入超千亿元的文创企业", "kind": "revenue_over",
     "threshold_cny": 100e9, "target": 1.0, "target_text": "1-2", "target_year": 2023},
    {"target_id": "PT22", "metric_en": "enterprises with revenue over 50 billion yuan",
     "metric_zh": "年营业收入超五百亿元的文创企业", "kind": "revenue_over",
     "threshold_cny": 50e9, "target": 5.0, "target_text": "5 or more", "target_year": 2023},
    {"target_id": "PT23", "metric_en": "enterprises with superior brands, innovation or scale",
     "metric_zh": "品牌突出、创新能力强或规模大的文创企业", "kind": "brand",
     "threshold_cny": np.nan, "target": 100.0, "target_text": "100", "target_year": 2023},
    {"target_id": "PT24", "metric_en": "innovative SMEs supported in the year",
     "metric_zh": "当年获支持的创新型中小企业", "kind": "supported",
     "threshold_cny": np.nan, "target": 200.0, "target_text": "200 per year",
     "target_year": 0},
])
"""The four enterprise targets of the 2018 Opinions §3(2) (ids of ``policy_targets.csv``).
``target`` is the lower bound a count must reach; ``target_year`` 0 means every year."""


def _flag_ids(enterprises: pd.DataFrame, flag: object, name: str) -> set[str]:
    if flag is None:
        return set()
    if isinstance(flag, str):
        if flag not in enterprises.columns:
            msg = (f"{name}={flag!r} is not a column of enterprises (columns: "
                   f"{list(enterprises.columns)}); pass a boolean column name or a list of ids.")
            raise ParameterError(msg)
        mask = enterprises[flag].fillna(False).astype(bool).to_numpy()
        return set(enterprises.loc[mask, "id"].astype(str))
    return {str(i) for i in flag}  # type: ignore[attr-defined]


def _supported_pairs(panel: pd.DataFrame | None, supported: object) -> pd.DataFrame:
    """``enterprise_id, year`` rows of supported SMEs."""
    if supported is None:
        return pd.DataFrame({"enterprise_id": pd.Series(dtype=str), "year": pd.Series(dtype=int)})
    if isinstance(supported, str):
        if panel is None or supported not in panel.columns:
            msg = (f"supported={supported!r} must be a boolean column of the panel "
                   "('enterprise_years'), or a mapping year -> enterprise ids.")
            raise ParameterError(msg)
        rows = panel.loc[panel[supported].fillna(False).astype(bool), ["enterprise_id", "year"]]
        return rows.astype({"enterprise_id": str, "year": int})
    if isinstance(supported, Mapping):
        return pd.DataFrame([(str(i), int(y)) for y, ids in supported.items() for i in ids],
                            columns=["enterprise_id", "year"])
    msg = "supported must be a panel column name or a mapping {year: [enterprise ids]}."
    raise ParameterError(msg)


def _scopes(enterprises: gpd.GeoDataFrame, areas: Mapping[str, gpd.GeoDataFrame] | None,
            buffer_m: float, metric_crs: str | None) -> list[tuple[str, str, str, np.ndarray]]:
    """(scope, area id, area name, enterprise positions) for the city and every area."""
    out = [("city", "all", "all enterprises", np.arange(len(enterprises)))]
    for scope, frame in (areas or {}).items():
        fp = area_footprints(frame, buffer_m=buffer_m, metric_crs=metric_crs)
        pairs = memberships(enterprises, fp)
        names = (frame["name_en"] if "name_en" in frame.columns else frame["id"]).astype(str)
        for a in range(len(frame)):
            out.append((scope, str(frame["id"].iloc[a]), names.iloc[a],
                        pairs.loc[pairs["area"] == a, "enterprise"].to_numpy()))
    return out


def target_progress(enterprises: gpd.GeoDataFrame, panel: pd.DataFrame | None = None, *,
                    years: Iterable[int] | None = None, brand: object = None,
                    supported: object = None,
                    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
                    targets: pd.DataFrame | None = None, buffer_m: float = 1000.0,
                    metric_crs: str | None = None) -> pd.DataFrame:
    """Count, year by year, what the 2018 Opinions' enterprise targets count.

    Parameters
    ----------
    enterprises
        Enterprises layer (``id``, ``founded``/``closed`` years).
    panel
        Annual observations (``enterprise_years`` table: ``enterprise_id``, ``year``,
        ``revenue_cny``); needed for the revenue targets (PT21, PT22).
    years
        Years to report (default: the panel's years).
    brand
        PT23: a boolean column of ``enterprises`` or a list of enterprise ids; a flagged
        enterprise counts in every year it operates.
    supported
        PT24: a boolean column of ``panel`` or a mapping ``{year: [enterprise ids]}``.
    areas
        Optional ``{scope: layer}`` (e.g. ``{"district": districts, "zone": zones}``) for
        per-area rows next to the city-wide ones; point areas get a ``buffer_m`` radius.
    targets
        Target table (default :data:`OPINIONS_2018_TARGETS`).
    buffer_m
        Radius given to point areas, metres.
    metric_crs
        Metric CRS for the area footprints.

    Returns
    -------
    pandas.DataFrame
        One row per target, scope, area and year: ``target_id``, ``metric_en``, ``metric_zh``,
        ``scope`` (``"city"`` or a key of ``areas``), ``area_id``, ``area_name``, ``year``,
        ``value`` (enterprises counted), ``target``, ``target_text``, ``target_year`` (0 =
        annual), ``share_of_target`` (value / target; for the city) and ``met`` (bool; city
        rows only, NA elsewhere). Targets without their input (no panel, no flags) are left
        out and logged.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> prog = target_progress(atlas["enterprises"], atlas.table("enterprise_years"),
    ...                        brand="brand", supported="supported_sme")
    >>> sorted(prog["target_id"].unique())
    ['PT21', 'PT22', 'PT23', 'PT24']
    """
    tg = OPINIONS_2018_TARGETS if targets is None else targets
    if years is None:
        if panel is None:
            msg = ("pass " + opt("years= (e.g. range(2018, 2026))", "--years 2018-2025")
                   + " when there is no panel.")
            raise ParameterError(msg)
        years = range(int(panel["year"].min()), int(panel["year"].max()) + 1)
    yrs = np.asarray(list(years), dtype=int)
    ids = enterprises["id"].astype(str).to_numpy()
    first, last = years_of(enterprises)
    operating = (first[:, None] <= yrs[None, :]) & (yrs[None, :] <= last[:, None])
    flags: dict[str, np.ndarray] = {}  # target id -> bool (enterprises x years)
    brand_ids = _flag_ids(enterprises, brand, "brand")
    sup = _supported_pairs(panel, supported)
    pos = pd.Index(ids)
    for rec in tg.to_dict("records"):
        kind = rec["kind"]
        if kind == "revenue_over" and panel is not None:
            obs = panel[panel["revenue_cny"] > rec["threshold_cny"]]
            flags[rec["target_id"]] = _pairs_matrix(pos, yrs, obs)
        elif kind == "brand" and brand is not None:
            flags[rec["target_id"]] = operating & np.isin(ids, list(brand_ids))[:, None]
        elif kind == "supported" and supported is not None:
            flags[rec["target_id"]] = _pairs_matrix(pos, yrs, sup)
        else:
            logger.info("target %s left out: no input for %r", rec["target_id"], kind)
    rows = []
    for scope, area_id, area_name, members in _scopes(enterprises, areas, buffer_m,
                                                      metric_crs):
        for rec in tg.to_dict("records"):
            if rec["target_id"] not in flags:
                continue
            counts = flags[rec["target_id"]][members].sum(axis=0)
            for year, value in zip(yrs, counts, strict=True):
                rows.append({"target_id": rec["target_id"], "metric_en": rec["metric_en"],
                             "metric_zh": rec["metric_zh"], "scope": scope,
                             "area_id": area_id, "area_name": area_name, "year": int(year),
                             "value": int(value), "target": rec["target"],
                             "target_text": rec["target_text"],
                             "target_year": int(rec["target_year"])})
    out = pd.DataFrame(rows)
    city = out["scope"] == "city"
    out["share_of_target"] = np.where(city, out["value"] / out["target"], np.nan)
    out["met"] = pd.array(np.where(city, out["value"] >= out["target"], pd.NA),
                          dtype="boolean")
    return tag_result(out, "target_progress")


def _pairs_matrix(pos: pd.Index, yrs: np.ndarray, pairs: pd.DataFrame) -> np.ndarray:
    out = np.zeros((len(pos), yrs.size), dtype=bool)
    r = pos.get_indexer(pairs["enterprise_id"].astype(str))
    c = pd.Index(yrs).get_indexer(pairs["year"].to_numpy(dtype=int))
    ok = (r >= 0) & (c >= 0)
    out[r[ok], c[ok]] = True
    return out
