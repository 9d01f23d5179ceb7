"""Bilingual (Chinese / English) labels for map layers, legends, popups and titles.

Every visible word on a cci_geo map comes from :data:`LABELS` through :func:`label`, so a
briefing is entirely in one language. Keys that are not known are shown as given (with
underscores turned into spaces), so a planner's own column still gets a readable label.
"""

from __future__ import annotations

import re
from typing import Literal

from ..errors import ParameterError
from ..schema import SECTOR_NAMES

__all__ = ["LABELS", "PLACE_NAMES", "SECTOR_LABELS", "Lang", "check_lang", "credit_text",
           "label", "place_label", "sector_label", "status_label"]

Lang = Literal["zh", "en"]

_SHORT_EN = {"performing_arts": "Performing arts", "expos_folk_arts": "Museums and heritage",
             "think_tanks": "Think tanks"}

#: The nine priority sectors, in the order of ``cci_geo.schema.SECTORS``: the names of
#: :data:`cci_geo.schema.SECTOR_NAMES`, with shorter English names where a legend needs them.
SECTOR_LABELS: dict[str, tuple[str, str]] = {
    code: (zh, _SHORT_EN.get(code, en)) for code, (zh, en) in SECTOR_NAMES.items()
}

LABELS: dict[str, tuple[str, str]] = {
    # layer kinds
    "districts": ("行政区", "Districts"),
    "functional_areas": ("文化创意产业功能区", "CCI functional areas"),
    "demonstrative_regions": ("文化产业示范区", "Demonstrative regions"),
    "zones": ("文化创意产业园区", "CCI parks and bases"),
    "factory_sites": ("老旧厂房", "Old factory sites"),
    "venues": ("公共文化设施", "Cultural venues"),
    "enterprises": ("文化创意企业", "Creative enterprises"),
    "nodes": ("京津冀节点城市", "Jing-Jin-Ji nodes"),
    "corridors": ("京津冀协同廊道", "Jing-Jin-Ji corridors"),
    "stations": ("轨道交通站点", "Transit stations"),
    "transit_lines": ("轨道交通线路", "Transit lines"),
    "station_entrances": ("车站出入口", "Station entrances"),
    "enterprise_years": ("企业年度面板", "Enterprise years"),
    # briefing steps
    "concentration": ("集聚分析", "Concentration"),
    "monitoring": ("动态监测", "Monitoring"),
    # analysis results
    "kernel_density": ("企业核密度", "Enterprise density"),
    "density": ("企业核密度", "Enterprise density"),
    "suitability": ("选址适宜性", "Site suitability"),
    "site_scores": ("候选地块得分", "Candidate site scores"),
    "hot_spots": ("热点分析 (Gi*)", "Hot spots (Gi*)"),
    "target_card": ("政策目标进展", "Policy target progress"),
    "PT21": ("年营收超千亿元的文创企业", "Enterprises with revenue over 100 billion yuan"),
    "PT22": ("年营收超五百亿元的文创企业", "Enterprises with revenue over 50 billion yuan"),
    "PT23": ("品牌、创新或规模突出的文创企业", "Enterprises with superior brands, innovation "
             "or scale"),
    "PT24": ("当年获支持的创新型中小企业", "Innovative SMEs supported in the year"),
    "local_morans": ("局部空间自相关 (LISA)", "Local Moran's I (LISA)"),
    "location_quotient": ("区位商", "Location quotient"),
    "accessibility": ("公共文化设施可达性", "Venue accessibility"),
    "clusters": ("企业集聚区", "Enterprise clusters"),
    "designation_gap": ("集聚与认定差距", "Clusters vs designation"),
    "designation_gap_clusters": ("集聚区认定情况", "Clusters vs designation"),
    "isochrones": ("等时圈", "Isochrones"),
    "corridor_zones": ("廊道带", "Corridor zones"),
    "flows": ("城市间文创联系", "Creative-industry flows"),
    "cooperation_candidates": ("协同合作候选地", "Cooperation candidates"),
    "corridor_membership": ("廊道成员", "Corridor members"),
    "layout": ("布局优化", "Layout optimisation"),
    "allocations": ("服务分配", "Allocations"),
    "coverage": ("服务覆盖", "Coverage"),
    "layer": ("图层", "Layer"),
    "designation_gap_designated": ("认定地区的集聚情况", "Designated places: cluster present?"),
    "grid_counts": ("网格企业数", "Enterprises per grid cell"),
    "enterprise_grid": ("网格企业数", "Enterprises per grid cell"),
    "access_by_district": ("分区可达性", "Venue access by district"),
    "layout_uncovered": ("未覆盖需求", "Uncovered demand"),
    "layout_facilities": ("现有设施服务", "Existing facilities"),
    "layout_status": ("方案", "Plan"),
    "access": ("人均开放面积 (m²)", "Open space per employee (m²)"),
    "access_mean": ("人均开放面积 (m²)", "Open space per employee (m²)"),
    "candidate_score": ("合作潜力得分", "Candidate score"),
    "designation": ("认定情况", "Designation"),
    "cluster_present": ("存在集聚", "Cluster present"),
    "cluster_strength": ("集聚企业数", "Enterprises in clusters"),
    "designated_share": ("认定覆盖比例", "Designated share"),
    "gap": ("集聚情况", "Cluster"),
    "lisa_class": ("LISA 类型", "LISA class"),
    "lisa_p": ("伪 p 值", "Pseudo p-value"),
    "flow_share": ("联系占比", "Share of flows"),
    "distance_km": ("距离 (km)", "Distance (km)"),
    "along_km": ("沿廊道距离 (km)", "Along corridor (km)"),
    "corridor_id": ("廊道", "Corridor"),
    "density_per_km2": ("密度 (家/km²)", "Density (per km²)"),
    "demand_served": ("服务需求", "Demand served"),
    "uncovered_weight": ("未覆盖需求", "Uncovered demand"),
    "total": ("企业总数", "Total"),
    # attribute names
    "name": ("名称", "Name"),
    "id": ("编号", "ID"),
    "adcode": ("行政区划代码", "Admin code"),
    "level": ("级别", "Level"),
    "province": ("省级", "Province"),
    "district": ("所在区", "District"),
    "designated": ("认定年份", "Designated"),
    "sectors": ("行业", "Sectors"),
    "sector": ("行业", "Sector"),
    "kind": ("类型", "Type"),
    "status": ("状态", "Status"),
    "former_use": ("原用途", "Former use"),
    "built_year": ("建成年份", "Built"),
    "floor_area_m2": ("建筑面积 (m²)", "Floor area (m²)"),
    "heritage": ("工业遗产", "Industrial heritage"),
    "open_space_m2": ("开放面积 (m²)", "Open space (m²)"),
    "revenue_cny": ("营业收入 (元)", "Revenue (CNY)"),
    "employees": ("从业人员", "Employees"),
    "founded": ("成立年份", "Founded"),
    "role": ("功能定位", "Role"),
    "node_ids": ("节点", "Nodes"),
    "mode": ("方式", "Mode"),
    "lines": ("线路", "Lines"),
    "lines_en": ("线路", "Lines"),
    "lines_zh": ("线路", "Lines"),
    "n_entrances": ("出入口数", "Entrances"),
    "station_id": ("车站", "Station"),
    "ref": ("出入口编号", "Entrance"),
    "access_point": ("类型", "Type"),
    "track_length_m": ("线路长度 (m)", "Track length (m)"),
    "datum_verdict": ("坐标系核查", "Datum check"),
    "metro_walk_m": ("步行至地铁口 (m)", "Walk to metro entrance (m)"),
    "share_near_metro": ("地铁站步行范围内的从业人员比例", "Employees near a metro station"),
    "venues_near_metro": ("地铁站步行范围内的设施数", "Venues near a metro station"),
    "gi_z": ("Gi* z 值", "Gi* z-score"),
    "gi_p": ("Gi* p 值", "Gi* p-value"),
    "gi_class": ("热点类别", "Hot spot class"),
    "count": ("企业数", "Enterprises"),
    "n": ("企业数", "Enterprises"),
    "dominant_sector": ("主导行业", "Dominant sector"),
    "area_km2": ("面积 (km²)", "Area (km²)"),
    "minutes": ("分钟", "Minutes"),
    "flow": ("联系强度", "Interaction"),
    "score": ("得分", "Score"),
    "rank": ("排名", "Rank"),
    "value": ("数值", "Value"),
    "quadrant": ("象限", "Quadrant"),
    "excluded_by": ("排除原因", "Excluded by"),
    "share_without_access": ("无设施可达的从业人员比例", "Employees without access"),
    "venue_open_space_m2": ("设施开放面积 (m²)", "Venue open space (m²)"),
    "fixed": ("保留的现有园区", "Existing zone kept"),
    "mean_cost": ("平均距离 (m)", "Mean distance (m)"),
    "max_cost": ("最远距离 (m)", "Longest distance (m)"),
    "n_demand": ("服务的需求格网数", "Demand cells served"),
    "cost": ("距离 (m)", "Distance (m)"),
    "covered": ("已覆盖", "Covered"),
    "share": ("占比", "Share"),
    "weight": ("需求（从业人员）", "Demand (employees)"),
    "n_covering": ("覆盖的园区数", "Zones in reach"),
    "gi_p_fdr": ("校正后 p 值", "Corrected p-value"),
    "cluster_share": ("集聚区覆盖比例", "Share in clusters"),
    "length_km": ("长度 (km)", "Length (km)"),
    "width_km": ("宽度 (km)", "Width (km)"),
    "half_width_km": ("半宽 (km)", "Half width (km)"),
    "origin_km": ("起点距离 (km)", "From origin (km)"),
    "from_origin_km": ("距起点 (km)", "From origin (km)"),
    "axis_distance_km": ("距轴线 (km)", "From axis (km)"),
    "position": ("相对位置", "Position"),
    "position_score": ("位置得分", "Position score"),
    "access_km": ("可达距离 (km)", "Access (km)"),
    "site_province": ("所在省市", "Province"),
    "clipped": ("已裁剪", "Clipped"),
    "mass": ("规模", "Mass"),
    "rank_p05": ("排名 5% 分位", "Rank, 5th percentile"),
    "rank_median": ("排名中位数", "Rank, median"),
    "rank_p95": ("排名 95% 分位", "Rank, 95th percentile"),
    "p_top_k": ("进入前列的概率", "Probability of top k"),
    "data_status": ("数据性质", "Data status"),
    # values
    "True": ("是", "Yes"),
    "False": ("否", "No"),
    "city": ("地级市", "City"),
    "province_level": ("省级", "Province"),
    "operating": ("运营中", "Operating"),
    "planned": ("规划中", "Planned"),
    "real": ("真实", "Real"),
    "approximate_data": ("近似", "Approximate"),
    "brewery": ("啤酒厂", "Brewery"),
    "building materials plant": ("建材厂", "Building materials plant"),
    "chemical plant": ("化工厂", "Chemical plant"),
    "electronics factory": ("电子厂", "Electronics factory"),
    "food processing plant": ("食品加工厂", "Food processing plant"),
    "instrument factory": ("仪器厂", "Instrument factory"),
    "machinery plant": ("机械厂", "Machinery plant"),
    "printing works": ("印刷厂", "Printing works"),
    "rail depot": ("铁路货场", "Rail depot"),
    "textile mill": ("纺织厂", "Textile mill"),
    "warehouse": ("仓库", "Warehouse"),
    "steel works": ("钢铁厂", "Steel works"),
    "isolated_from_parks": ("远离现有园区", "Far from existing parks"),
    "too_small": ("面积过小", "Too small"),
    "hot_99": ("热点 (99% 置信度)", "Hot spot, 99% confidence"),
    "hot_95": ("热点 (95% 置信度)", "Hot spot, 95% confidence"),
    "hot_90": ("热点 (90% 置信度)", "Hot spot, 90% confidence"),
    "cold_99": ("冷点 (99% 置信度)", "Cold spot, 99% confidence"),
    "cold_95": ("冷点 (95% 置信度)", "Cold spot, 95% confidence"),
    "cold_90": ("冷点 (90% 置信度)", "Cold spot, 90% confidence"),
    "lisa_i": ("局部莫兰指数", "Local Moran's I"),
    "city_growth_pct": ("全市增长 (%)", "City-wide growth (%)"),
    "comparison_growth_pct": ("对照区增长 (%)", "Comparison areas' growth (%)"),
    "growth_since_designation_pct": ("认定以来增长 (%)", "Growth since designation (%)"),
    "cluster_gi_z": ("集聚 Gi* z 值", "Cluster Gi* z-score"),
    "enterprises_baseline": ("基期企业数", "Enterprises at baseline"),
    "enterprises_last": ("末期企业数", "Enterprises, last year"),
    "n_hot": ("热点年数", "Years as hot spot"),
    "n_cold": ("冷点年数", "Years as cold spot"),
    "top_sector": ("主要行业", "Top sector"),
    "category_label": ("类别", "Category"),
    "trend_p": ("趋势 p 值", "Trend p-value"),
    "trend_z": ("趋势 z 值", "Trend z-score"),
    "value_first": ("首年数值", "First year's value"),
    "value_last": ("末年数值", "Last year's value"),
    "lisa_q": ("象限编号", "Quadrant code"),
    "lisa_quadrant": ("象限", "Quadrant"),
    "lisa_ei": ("期望值", "Expected I"),
    "lisa_vi": ("方差", "Variance of I"),
    "lisa_z": ("z 值", "z-score"),
    "metro": ("地铁", "Metro"),
    "suburban_rail": ("市郊铁路", "Suburban rail"),
    "tram": ("有轨电车", "Tram"),
    "entrance": ("出入口", "Entrance"),
    "station": ("车站", "Station"),
    # categories
    "municipal": ("市级", "Municipal"),
    "national": ("国家级", "National"),
    "park": ("园区", "Park"),
    "base": ("基地", "Base"),
    "cluster": ("集聚区", "Cluster"),
    "reused": ("已利用", "Reused"),
    "vacant": ("闲置", "Vacant"),
    "candidate": ("候选", "Candidate"),
    "library": ("图书馆", "Library"),
    "museum": ("博物馆", "Museum"),
    "gallery": ("美术馆", "Gallery"),
    "theatre": ("剧场", "Theatre"),
    "designated_full": ("已认定", "Designated"),
    "partly": ("部分认定", "Partly designated"),
    "undesignated": ("未认定", "Not designated"),
    "present": ("有集聚", "Cluster present"),
    "absent": ("无集聚", "No cluster"),
    "existing": ("现有", "Existing"),
    "new": ("新增", "Proposed"),
    "hot spot 99%": ("热点 (99% 置信度)", "Hot spot, 99% confidence"),
    "hot spot 95%": ("热点 (95% 置信度)", "Hot spot, 95% confidence"),
    "hot spot 90%": ("热点 (90% 置信度)", "Hot spot, 90% confidence"),
    "not significant": ("不显著", "Not significant"),
    "no neighbours": ("无相邻单元（未检验）", "No neighbours (not tested)"),
    "group_atlas": ("图集图层", "Atlas layers"),
    "group_results": ("分析结果", "Analyses"),
    "lq_sectors": ("各行业区位商", "Location quotient by sector"),
    "gi_years": ("逐年热点 (Gi*)", "Hot spots by year (Gi*)"),
    "cold spot 90%": ("冷点 (90% 置信度)", "Cold spot, 90% confidence"),
    "cold spot 95%": ("冷点 (95% 置信度)", "Cold spot, 95% confidence"),
    "cold spot 99%": ("冷点 (99% 置信度)", "Cold spot, 99% confidence"),
    "high-high": ("高-高", "High-high"),
    "low-low": ("低-低", "Low-low"),
    "high-low": ("高-低", "High-low"),
    "low-high": ("低-高", "Low-high"),
    "other": ("其他", "Other"),
    "cultural_belt": ("文化带", "Cultural belt"),
    "development_axis": ("发展轴", "Development axis"),
    "rail": ("轨道交通", "Rail"),
    "axis": ("发展轴", "Axis"),
    "missing": ("无数据", "No data"),
    # map furniture
    "briefing_title": ("文化创意产业空间布局", "Cultural and creative industry"),
    "briefing_subtitle": ("规划简报图", "Planning briefing map"),
    "synthetic": ("模拟数据", "synthetic data"),
    "approximate": ("近似位置", "approximate"),
    "data": ("数据", "Data"),
    "data_sources": ("数据来源", "Data sources"),
    "source": ("来源", "Source"),
    "north": ("北", "N"),
    "made_with": ("制图：cci_geo", "Map: cci_geo"),
    "enterprises_per_km2": ("企业/平方公里", "enterprises per km²"),
    # units carried by surfaces
    "score 0-1": ("得分 0–1", "score 0–1"),
    "enterprises per km²": ("企业/平方公里", "enterprises per km²"),
    "points per km²": ("点/平方公里", "points per km²"),
    "per km²": ("/平方公里", "per km²"),
    "quantile_note": ("分位数分级：各级网格数大致相等；低于 {} 不着色",
                      "Quantile classes: about as many cells in each; below {} not shaded"),
    "lq_note": ("大于 1 表示该行业在本区相对集中", "Above 1: sector over-represented"),
}


#: Province-level units of Jing-Jin-Ji and the districts of Beijing, by English name and code,
#: so a Chinese map never reads "省级 Beijing" or "所在区 Huairou". Other places show as given.
PLACE_NAMES: dict[str, tuple[str, str]] = {
    "Beijing": ("北京市", "Beijing"), "Tianjin": ("天津市", "Tianjin"),
    "Hebei": ("河北省", "Hebei"),
    "Dongcheng": ("东城区", "Dongcheng"), "Xicheng": ("西城区", "Xicheng"),
    "Chaoyang": ("朝阳区", "Chaoyang"), "Fengtai": ("丰台区", "Fengtai"),
    "Shijingshan": ("石景山区", "Shijingshan"), "Haidian": ("海淀区", "Haidian"),
    "Mentougou": ("门头沟区", "Mentougou"), "Fangshan": ("房山区", "Fangshan"),
    "Tongzhou": ("通州区", "Tongzhou"), "Shunyi": ("顺义区", "Shunyi"),
    "Changping": ("昌平区", "Changping"), "Daxing": ("大兴区", "Daxing"),
    "Huairou": ("怀柔区", "Huairou"), "Pinggu": ("平谷区", "Pinggu"),
    "Miyun": ("密云区", "Miyun"), "Yanqing": ("延庆区", "Yanqing"),
    "Langfang": ("廊坊市", "Langfang"), "Baoding": ("保定市", "Baoding"),
    "Shijiazhuang": ("石家庄市", "Shijiazhuang"), "Tangshan": ("唐山市", "Tangshan"),
    "Qinhuangdao": ("秦皇岛市", "Qinhuangdao"), "Zhangjiakou": ("张家口市", "Zhangjiakou"),
    "Chengde": ("承德市", "Chengde"), "Cangzhou": ("沧州市", "Cangzhou"),
    "Xiong'an": ("雄安新区", "Xiong'an"),
}
for _code, _en in zip(("110101", "110102", "110105", "110106", "110107", "110108", "110109",
                       "110111", "110112", "110113", "110114", "110115", "110116", "110117",
                       "110118", "110119"),
                      ("Dongcheng", "Xicheng", "Chaoyang", "Fengtai", "Shijingshan", "Haidian",
                       "Mentougou", "Fangshan", "Tongzhou", "Shunyi", "Changping", "Daxing",
                       "Huairou", "Pinggu", "Miyun", "Yanqing"), strict=True):
    PLACE_NAMES[_code] = PLACE_NAMES[_en]


def place_label(value: object, lang: Lang) -> str:
    """Return a province or district name (given in English or by code) in ``lang``.

    Examples
    --------
    >>> place_label("Huairou", "zh"), place_label("110105", "en"), place_label("Lhasa", "zh")
    ('怀柔区', 'Chaoyang', 'Lhasa')
    >>> place_label("Beijing / Hebei (Langfang)", "zh")
    '北京市 / 河北省 (廊坊市)'
    """
    text = str(value)
    pair = PLACE_NAMES.get(text.strip())
    if pair is not None:
        return pair[0 if lang == "zh" else 1]
    if lang == "en":
        return text
    # "Beijing / Hebei (Langfang)": every known name inside a longer text
    return re.sub(r"[A-Z][a-z]+(?:'[a-z]+)?",
                  lambda mt: PLACE_NAMES.get(mt.group(0), (mt.group(0),))[0], text)


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if it is ``"zh"`` or ``"en"``; raise ``ValueError`` otherwise.

    Examples
    --------
    >>> check_lang("zh")
    'zh'
    """
    if lang == "zh":
        return "zh"
    if lang == "en":
        return "en"
    msg = f"lang must be 'zh' or 'en', got {lang!r}."
    raise ParameterError(msg)


def label(key: object, lang: Lang) -> str:
    """Return the label of ``key`` in ``lang`` (sector codes included); unknown keys as text.

    Examples
    --------
    >>> label("hot spot 99%", "en"), label("hot spot 99%", "zh")
    ('Hot spot, 99% confidence', '热点 (99% 置信度)')
    """
    text = str(key)
    pair = LABELS.get(text) or SECTOR_LABELS.get(text)
    for prefix, zh, en in (("share_", "{}占比", "Share: {}"), ("lq_", "区位商：{}", "LQ: {}")):
        code = text.removeprefix(prefix)
        if pair is None and text.startswith(prefix) and code in SECTOR_LABELS:
            name = SECTOR_LABELS[code][0 if lang == "zh" else 1]
            return (zh if lang == "zh" else en).format(name)
    yearly = re.fullmatch(r"(.+)_((?:19|20)\d\d)", text)  # gi_z_2021: a column per year
    if pair is None and yearly and yearly.group(1) in LABELS:
        return f"{label(yearly.group(1), lang)} ({yearly.group(2)})"
    for prefix, zh, en in (("raw_", "{}：测量值", "{}: measured"), ("value_", "{}：得分 (0–1)",
                           "{}: value (0–1)"), ("contrib_", "{}：贡献", "{}: contribution")):
        from ..tables import CRITERIA  # noqa: PLC0415

        crit = text.removeprefix(prefix)
        if pair is None and text.startswith(prefix) and crit in CRITERIA:
            return (zh if lang == "zh" else en).format(CRITERIA[crit][0 if lang == "zh" else 1])
    if pair is None:
        return text.replace("_", " ") if text.isidentifier() else text
    return pair[0] if lang == "zh" else pair[1]


def sector_label(code: object, lang: Lang) -> str:
    """Return the label of one sector code, or of a ``;``-joined list of codes.

    Examples
    --------
    >>> sector_label("design", "en")
    'Creative design'
    """
    parts = [p.strip() for p in str(code).split(";") if p.strip()]
    sep = "、" if lang == "zh" else ", "
    return sep.join(label(p, lang) for p in parts)


_STATUS_ZH = {"real": "真实", "synthetic": "模拟", "approximate": "近似", "unknown": "未知"}


def status_label(status: object, lang: Lang) -> str:
    """Return a provenance status (``"approximate;synthetic"`` ...) in ``lang``.

    Examples
    --------
    >>> status_label("approximate;synthetic", "zh"), status_label("real", "en")
    ('近似；模拟', 'real')
    """
    text = str(status)
    if lang != "zh":
        return text
    parts = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
    return "；".join(_STATUS_ZH.get(p, p) for p in parts)


#: Phrases cci_geo writes into credit lines (the demo's metro credit and its coverage gap),
#: with their Chinese. The licensor's own credit ("© OpenStreetMap contributors") stays as
#: the licence asks.
_CREDIT_ZH: tuple[tuple[str, str], ...] = (
    (r"\bno stations north of ([0-9.]+)° ?N in the extract", r"数据摘录不含北纬 \1° 以北的车站"),
    (r"^Metro: ", "地铁："),
    (r"; ", "；"),
)


def credit_text(text: object, lang: Lang) -> str:
    """Return a credit line of a layer's provenance with cci_geo's own words in ``lang``.

    Examples
    --------
    >>> credit_text("Metro: © OpenStreetMap contributors (ODbL 1.0); no stations north of "
    ...             "40.1° N in the extract", "zh")
    '地铁：© OpenStreetMap contributors (ODbL 1.0)；数据摘录不含北纬 40.1° 以北的车站'
    """
    out = str(text)
    if lang != "zh":
        return out
    for pattern, zh in _CREDIT_ZH:
        out = re.sub(pattern, zh, out)
    return out
