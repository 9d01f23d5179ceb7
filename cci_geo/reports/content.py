"""What a printed briefing says: its key tables and methods paragraphs, in Chinese or English.

Tables are built from the drawable results of a briefing run (found by result type), so the
report shows exactly what the map shows. Each function returns None when its analysis is not
among the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..maps.labels import label, sector_label
from ..maps.registry import result_type
from ..tables import CRITERIA

__all__ = ["METHODS", "ReportTable", "access_table", "find", "lq_table", "proposal_table",
           "top_sites_table"]


@dataclass
class ReportTable:
    """A table ready to print: headers, rows of strings, relative column widths, a note."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    widths: list[float]
    note: str = ""


def find(results: Sequence[Any], kind: str) -> Any | None:
    """Return the first result of type ``kind`` (e.g. ``"location_quotient"``), or None.

    Examples
    --------
    >>> import pandas as pd
    >>> from cci_geo.results import tag_result
    >>> lq = tag_result(pd.DataFrame({"total": [120]}), "location_quotient")
    >>> find([lq], "location_quotient") is lq, find([lq], "suitability")
    (True, None)
    """
    for r in results:
        if result_type(r) == kind and isinstance(r, pd.DataFrame):
            return r
    return None


def _t(zh: str, en: str, lang: str) -> str:
    return zh if lang == "zh" else en


def _name(row: pd.Series, lang: str, limit: int = 80) -> str:
    # the PDF table wraps a long name onto two lines of its cell; this only bounds the text
    first, second = ("name_zh", "name_en") if lang == "zh" else ("name_en", "name_zh")
    for col in (first, second, "id"):
        v = row.get(col)
        if isinstance(v, str) and v.strip():
            v = v.strip()
            return v if len(v) <= limit else v[: limit - 1] + "…"
    return ""


def _district(value: Any, names: dict[str, tuple[str, str]], lang: str) -> str:
    zh, en = names.get(str(value), (str(value), str(value)))
    return zh if lang == "zh" else en


def _num(v: Any, fmt: str = "{:,.0f}") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return fmt.format(v)


def lq_table(results: Sequence[Any], lang: str) -> ReportTable | None:
    """Location quotients by district: enterprises, LQ of each sector, Krugman index.

    Examples
    --------
    >>> import pandas as pd
    >>> from cci_geo.results import tag_result
    >>> lq = tag_result(pd.DataFrame({"name_en": ["Dongcheng", "Haidian"], "total": [80, 120],
    ...                               "lq_design": [0.62, 1.25]}), "location_quotient")
    >>> table = lq_table([lq], "en")
    >>> table.headers
    ['District', 'Firms', 'Creative design']
    >>> table.rows
    [['Haidian', '120', '1.25'], ['Dongcheng', '80', '0.62']]
    >>> lq_table([], "en") is None
    True
    """
    lq = find(results, "location_quotient")
    if lq is None:
        return None
    sectors = [c.removeprefix("lq_") for c in lq.columns if c.startswith("lq_")]
    lq = lq.sort_values("total", ascending=False) if "total" in lq else lq
    headers = [_t("区", "District", lang), _t("企业数", "Firms", lang)]
    headers += [sector_label(s, lang) for s in sectors]  # type: ignore[arg-type]
    rows = []
    for _, r in lq.iterrows():
        row = [_name(r, lang), _num(r.get("total"))]
        row += [_num(r[f"lq_{s}"], "{:.2f}") for s in sectors]
        rows.append(row)
    note = _t("区位商 > 1 表示该行业在该区的占比高于全市平均；按企业数排序。",
              "A location quotient above 1: the sector's share in the district exceeds its "
              "city-wide share. Sorted by number of firms.", lang)
    return ReportTable(_t("各区文创行业区位商", "Location quotients by district", lang),
                      headers, rows, [1.6, 1.0] + [1.0] * len(sectors), note)


def top_sites_table(results: Sequence[Any], lang: str, n: int = 10) -> ReportTable | None:
    """The best ``n`` candidate sites with each criterion's contribution to the score.

    Examples
    --------
    >>> import pandas as pd
    >>> from cci_geo.results import tag_result
    >>> sites = tag_result(pd.DataFrame({
    ...     "name_en": ["Old mill", "Dye works", "Print shop"], "score": [0.4, 0.9, 0.7],
    ...     "rank": [3, 1, 2], "contrib_transit": [0.1, 0.5, 0.3]}), "suitability")
    >>> table = top_sites_table([sites], "en", n=2)
    >>> table.title
    'Top 2 candidate sites and what each criterion contributes'
    >>> table.rows
    [['1', 'Dye works', '0.900', '0.500'], ['2', 'Print shop', '0.700', '0.300']]
    """
    sites = find(results, "suitability")
    if sites is None or "score" not in sites:
        return None
    crits = [c.removeprefix("contrib_") for c in sites.columns if c.startswith("contrib_")]
    ranked = sites[sites["rank"].notna()] if "rank" in sites else sites.dropna(subset="score")
    ranked = ranked.sort_values("rank" if "rank" in ranked else "score",
                                ascending="rank" in ranked).head(n)
    names = [CRITERIA.get(c, (c, c.replace("_", " "))) for c in crits]
    headers = [_t("排名", "Rank", lang), _t("地块", "Site", lang),
               _t("得分", "Score", lang)]
    headers += [(zh if lang == "zh" else en) for zh, en in names]
    rows = []
    for i, (_, r) in enumerate(ranked.iterrows(), start=1):
        rank = int(r["rank"]) if "rank" in r and pd.notna(r["rank"]) else i
        row = [str(rank), _name(r, lang), _num(r["score"], "{:.3f}")]
        row += [_num(r[f"contrib_{c}"], "{:.3f}") for c in crits]
        rows.append(row)
    note = _t("得分 = 各指标贡献之和（权重 × 0-1 指标值）。", "Score = the sum of the "
              "criteria's contributions (weight × 0-1 value).", lang)
    return ReportTable(_t(f"适宜性最高的 {len(rows)} 个候选地块及各指标贡献",
                          f"Top {len(rows)} candidate sites and what each criterion "
                          "contributes", lang),
                       headers, rows, [0.5, 2.6 if lang == "zh" else 3.6, 0.7] +
                       [1.0] * len(crits), note)


def proposal_table(results: Sequence[Any], districts: pd.DataFrame | None,
                   lang: str) -> ReportTable | None:
    """Proposed new zones: district, suitability, employees served, mean and longest distance.

    Examples
    --------
    Existing (``fixed``) zones are left out; new ones are sorted by employees served.

    >>> import pandas as pd
    >>> from cci_geo.results import tag_result
    >>> sel = tag_result(pd.DataFrame({
    ...     "name_en": ["Existing park", "Old mill"], "fixed": [True, False],
    ...     "district": ["110108", "110108"], "score": [None, 0.82],
    ...     "demand_served": [900, 1500], "mean_cost": [1200.0, 2300.0],
    ...     "max_cost": [4000.0, 5100.0]}), "selected_sites")
    >>> proposal_table([sel], None, "en").rows
    [['Old mill', '110108', '0.82', '1,500', '2,300', '5,100']]
    """
    sites = find(results, "selected_sites")
    if sites is None:
        return None
    new = sites[~sites["fixed"].astype(bool)] if "fixed" in sites else sites
    from ..tables import district_names  # noqa: PLC0415

    names = district_names(districts) if districts is not None else {}
    headers = [_t("拟建园区（老旧厂房）", "Proposed zone (old factory)", lang),
               _t("所在区", "District", lang), _t("适宜性得分", "Suitability", lang),
               _t("服务从业人员", "Employees served", lang),
               _t("平均距离 (m)", "Mean distance (m)", lang),
               _t("最远距离 (m)", "Longest (m)", lang)]
    rows = []
    for _, r in new.sort_values("demand_served", ascending=False).iterrows():
        rows.append([_name(r, lang),
                     _district(r.get("district"), names, lang),
                     _num(r.get("score"), "{:.2f}"), _num(r.get("demand_served")),
                     _num(r.get("mean_cost")), _num(r.get("max_cost"))])
    cov = find(results, "coverage")
    note = ""
    if cov is not None and {"covered", "weight"} <= set(cov.columns):
        total = float(cov["weight"].sum())
        covered = float(cov.loc[cov["covered"].astype(bool), "weight"].sum())
        share = covered / total if total else 0.0
        note = _t(f"保留现有 {int(sites['fixed'].sum())} 个园区并新增 {len(new)} 个后，服务标准"
                  f"范围内的从业人员占 {share:.1%}。",
                  f"Keeping the {int(sites['fixed'].sum())} existing zones and adding "
                  f"{len(new)}, {share:.1%} of employment lies within the service standard.",
                  lang)
    return ReportTable(_t("拟新增文创园区及其服务", "Proposed new zones and what they add", lang),
                       headers, rows, [3.4, 1.0, 0.9, 1.1, 1.1, 1.0], note)


def access_table(results: Sequence[Any], lang: str) -> ReportTable | None:
    """Venue access by district: open space per employee and share without access.

    Examples
    --------
    >>> import pandas as pd
    >>> from cci_geo.results import tag_result
    >>> acc = tag_result(pd.DataFrame({
    ...     "name_en": ["Chaoyang", "Xicheng"], "employees": [5000, 3000],
    ...     "access_mean": [1.5, 2.25], "share_without_access": [0.1, 0.0],
    ...     "venues": [4, 6]}), "access_by_district")
    >>> access_table([acc], "en").rows
    [['Xicheng', '3,000', '2.25', '0.0%', '6'], ['Chaoyang', '5,000', '1.50', '10.0%', '4']]
    """
    acc = find(results, "access_by_district")
    if acc is None:
        return None
    acc = acc.sort_values("access_mean", ascending=False)
    headers = [_t("区", "District", lang), _t("从业人员", "Employees", lang),
               _t("人均开放面积 (m²)", "Open space per employee (m²)", lang),
               _t("无设施可达的比例", "Share without access", lang),
               _t("设施数", "Venues", lang)]
    rows = [[_name(r, lang), _num(r.get("employees")), _num(r.get("access_mean"), "{:.2f}"),
             _num(r.get("share_without_access"), "{:.1%}"), _num(r.get("venues"))]
            for _, r in acc.iterrows()]
    return ReportTable(_t("各区公共文化设施可达性", "Access to cultural venues by district",
                          lang), headers, rows, [1.4, 1.0, 1.6, 1.4, 0.8])


#: Methods paragraph per analysis, (Chinese, English).
METHODS: dict[str, tuple[str, str]] = {
    "concentration": (
        "企业核密度采用四次核（带宽按 ArcGIS 规则），热点为 1 km 网格企业数的 Getis–Ord Gi*"
        "（后车式邻接，Benjamini–Hochberg 校正），区位商 LQ = (E_ij/E_j)/(E_i/E)，集聚区为"
        " DBSCAN（400 m，至少 25 家）的凸包，并与已认定的园区、功能区和示范区对照。",
        "Enterprise density: quartic kernel (ArcGIS bandwidth rule). Hot spots: Getis–Ord Gi* "
        "on 1 km grid counts (queen contiguity, Benjamini–Hochberg correction). Location "
        "quotient LQ = (E_ij/E_j)/(E_i/E) per district. Clusters: DBSCAN footprints (400 m, "
        "at least 25 firms) compared with designated parks, functional areas and regions."),
    "accessibility": (
        "可达性采用增强两步移动搜索法（2SFCA，高斯衰减）：设施开放面积除以其服务范围内的从业人员"
        "需求，再对每个网格汇总，按区取从业人员加权平均。",
        "Access: enhanced two-step floating catchment (2SFCA, Gaussian decay): each venue's open "
        "space divided by the employment in its catchment, summed for every grid cell and "
        "averaged per district, weighted by employees."),
    "suitability": (
        "适宜性为多准则加权叠加：每个指标的测量值经价值函数转为 0–1，乘以权重后求和；权重与阈值见"
        "情景文件。得分相同时按编号排序。",
        "Suitability: weighted multi-criteria overlay. Each criterion's measure is turned into a "
        "0-1 value by a value function and weighted; the score is the sum. Weights and "
        "thresholds are those of the scenario file; ties are broken by id."),
    "layout": (
        "布局优化为最大覆盖选址模型（混合整数规划）：保留现有园区，在空置或候选老旧厂房中新增园区，"
        "使服务标准距离内的从业人员最多，并兼顾地块适宜性和每区数量上限。",
        "Layout: maximal covering location model (mixed-integer programme). Existing zones stay; "
        "new zones are chosen among vacant or candidate old factory sites to maximise employment "
        "within the service standard, favouring suitable sites, with a cap per district."),
    "corridors": (
        "京津冀协同廊道为沿节点连线的缓冲带（宽 20 km）；合作候选地为廊道内的老旧厂房，按沿线位置"
        "与可达性打分。",
        "Corridors: 20 km bands along the lines through the Jing-Jin-Ji nodes; cooperation "
        "candidates are old factory sites inside a band, scored by position and access."),
}


def methods(results: Sequence[Any], lang: str) -> list[tuple[str, str]]:
    """Return ``(heading, paragraph)`` for every analysis present among ``results``."""
    present = {result_type(r) for r in results}
    which = {"concentration": {"kernel_density", "hot_spots", "location_quotient"},
             "accessibility": {"access_by_district"},
             "suitability": {"suitability"},
             "layout": {"selected_sites", "coverage"},
             "corridors": {"corridor_zones", "cooperation_candidates"}}
    headings = {"concentration": ("集聚分析", "Concentration"),
                "accessibility": ("公共文化设施可达性", "Venue accessibility"),
                "suitability": ("选址适宜性", "Site suitability"),
                "layout": ("布局优化", "Layout optimisation"),
                "corridors": ("京津冀协同廊道", "Jing-Jin-Ji corridors")}
    out = []
    for key, kinds in which.items():
        if present & kinds:
            zh, en = METHODS[key]
            out.append((_t(*headings[key], lang), zh if lang == "zh" else en))
    return out


def sources_rows(atlas: Any, lang: str) -> list[list[str]]:
    """One row per atlas layer: name, source, status with synthetic/approximate flagged."""
    prov = getattr(atlas, "provenance", {}) or {}
    rows = []
    for kind, rec in sorted(prov.items()):
        status = str(rec.get("status", ""))
        flags = []
        if "synthetic" in status:
            flags.append(_t("合成数据", "SYNTHETIC", lang))
        if "approximate" in status:
            flags.append(_t("位置近似", "approximate", lang))
        if "real" in status:
            flags.append(_t("真实", "real", lang))
        source = str(rec.get("source", ""))
        source = source if len(source) <= 160 else source[:159] + "…"
        rows.append([label(kind, lang), source,  # type: ignore[arg-type]
                     ", ".join(flags)])
    return rows
