"""Datum audit of the demo's real places: published WGS-84, or GCJ-02 published as WGS-84?

Wikipedia and many Chinese web pages publish GCJ-02 ("Mars") coordinates as if they were
WGS-84; in Beijing that puts a point about 0.5-0.6 km east-north-east of where it is. For every
real place the build tests two hypotheses against independent WGS-84 anchors listed, with their
sources, in ``data/reference/datum_anchors.csv``:

* ``wgs84``: the coordinate is WGS-84 as published;
* ``gcj02``: it is GCJ-02, so its WGS-84 position is ``cci_geo.datum.gcj02_to_wgs84`` of it.

An anchor is an OpenStreetMap station (node id; WGS-84, checked against an independent set in
``reference/transit/README.md``) or a landmark geometry, with the distance (``radius_m``)
within which the place must lie. A hypothesis *fits* when its point lies within the radius and
*fails* when it lies more than ``MARGIN_M`` beyond it. The verdict is the hypothesis that fits
when the other fails; otherwise ``undecided``. GCJ-02 verdicts are converted; an undecided
place keeps its published point and its confidence drops one grade (high -> medium ->
low); low stays low, its stated error (1-1.5 km) already exceeding the shift.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cci_geo import datum

METRIC = "EPSG:32650"
MARGIN_M = 50.0
_LOWER = {"high": "medium", "medium": "low", "low": "low"}
AUDIT_COLUMNS = ("datum_verdict", "datum_evidence", "datum_anchor", "anchor_distance_m",
                 "datum_shift_m", "confidence_published", "published_lon", "published_lat")


def _metric(geoms: list[shapely.Geometry]) -> np.ndarray:
    return gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(METRIC).values


def load_anchors(ref: Path) -> gpd.GeoDataFrame:
    """The anchor table with each anchor's WGS-84 geometry (station nodes looked up by id)."""
    a = pd.read_csv(ref / "datum_anchors.csv", dtype={"osm_node_id": "Int64"})
    osm = pd.read_csv(ref / "transit" / "stations_osm_wgs84.csv").set_index("osm_node_id")
    geoms = []
    for _, row in a.iterrows():
        if pd.notna(row["osm_node_id"]):
            node = osm.loc[int(row["osm_node_id"])]
            geoms.append(shapely.Point(node["lon"], node["lat"]))
        else:
            geoms.append(shapely.from_wkt(row["wkt"]))
    return gpd.GeoDataFrame(a.drop(columns=["wkt"]), geometry=geoms, crs="EPSG:4326")


def _state(d: float, radius: float) -> str:
    if d <= radius:
        return "fits"
    return "fails" if d > radius + MARGIN_M else "borderline"


def audit(places: pd.DataFrame, anchors: gpd.GeoDataFrame,
          stations: gpd.GeoDataFrame) -> pd.DataFrame:
    """Audit ``places`` (id, lon, lat, confidence); return them corrected, with audit columns.

    Places without a coordinate pass through unchanged (verdict empty). For a place without
    an anchor the nearest OSM station under each hypothesis is recorded as context only.
    """
    out = places.copy()
    has = out["lon"].notna() & out["lat"].notna()
    lon = out["lon"].astype(float).to_numpy()
    lat = out["lat"].astype(float).to_numpy()
    glon, glat = datum.gcj02_to_wgs84(np.where(has, lon, 116.4), np.where(has, lat, 39.9))
    as_pub = _metric([shapely.Point(x, y) for x, y in zip(np.nan_to_num(lon),
                                                          np.nan_to_num(lat), strict=True)])
    as_gcj = _metric([shapely.Point(x, y) for x, y in zip(glon, glat, strict=True)])
    shift = shapely.distance(as_pub, as_gcj)
    anchor_m = _metric(list(anchors.geometry))
    st_m = _metric(list(stations.geometry))
    by_place = {pid: i for i, pid in enumerate(anchors["place_id"])}
    cols: dict[str, list[object]] = {c: [] for c in AUDIT_COLUMNS}
    new_lon, new_lat = lon.copy(), lat.copy()
    conf = out["confidence"].astype(object).to_numpy().copy()
    for i, pid in enumerate(out["id"]):
        cols["confidence_published"].append(conf[i])
        cols["published_lon"].append(lon[i] if has.iloc[i] else np.nan)
        cols["published_lat"].append(lat[i] if has.iloc[i] else np.nan)
        if not has.iloc[i]:
            for c in ("datum_verdict", "datum_evidence", "datum_anchor"):
                cols[c].append("")
            cols["anchor_distance_m"].append(np.nan)
            cols["datum_shift_m"].append(np.nan)
            continue
        if pid in by_place:
            k = by_place[pid]
            a = anchors.iloc[k]
            radius = float(a["radius_m"])
            d_pub = float(shapely.distance(as_pub[i], anchor_m[k]))
            d_gcj = float(shapely.distance(as_gcj[i], anchor_m[k]))
            s_pub, s_gcj = _state(d_pub, radius), _state(d_gcj, radius)
            verdict = ("gcj02" if s_gcj == "fits" and s_pub == "fails" else
                       "wgs84" if s_pub == "fits" and s_gcj == "fails" else "undecided")
            where = "inside" if radius == 0 else f"within {radius:.0f} m of"
            evidence = (f"as published (WGS-84): {d_pub:.0f} m from {a['anchor']} ({s_pub}); "
                        f"as GCJ-02: {d_gcj:.0f} m ({s_gcj}); the place must lie {where} it: "
                        f"{a['relation']}. Anchor source: {a['source']}")
            cols["datum_anchor"].append(str(a["anchor"]))
            cols["anchor_distance_m"].append(round(d_gcj if verdict == "gcj02" else d_pub, 1))
        else:
            d_pub_all = shapely.distance(as_pub[i], st_m)
            d_gcj_all = shapely.distance(as_gcj[i], st_m)
            j = int(np.argmin(d_pub_all))
            name = f"{stations['name_zh'].iloc[j]} ({stations['name_en'].iloc[j]})"
            verdict = "undecided"
            evidence = (f"no anchor decides: no OSM station or WGS-84 landmark is known to lie "
                        f"at a set distance from this place; nearest station {name} is "
                        f"{d_pub_all[j]:.0f} m away as published and {d_gcj_all[j]:.0f} m as "
                        "GCJ-02 (context only)")
            cols["datum_anchor"].append("")
            cols["anchor_distance_m"].append(np.nan)
        if verdict == "gcj02":
            new_lon[i], new_lat[i] = glon[i], glat[i]
            evidence += "; converted GCJ-02 -> WGS-84 with cci_geo.datum"
        elif verdict == "undecided":
            lowered = _LOWER.get(str(conf[i]), conf[i])
            if lowered != conf[i]:
                evidence += f"; confidence lowered from {conf[i]} to {lowered}"
            conf[i] = lowered
        cols["datum_verdict"].append(verdict)
        cols["datum_evidence"].append(evidence)
        cols["datum_shift_m"].append(round(float(shift[i]), 1) if verdict == "gcj02" else 0.0)
    out["lon"], out["lat"], out["confidence"] = new_lon, new_lat, conf
    for c in AUDIT_COLUMNS:
        out[c] = cols[c]
    return out


def summary(audited: pd.DataFrame) -> pd.DataFrame:
    """One row per audited place: verdict, shift and anchor (for the build log and docs)."""
    cols = ["id", "datum_verdict", "datum_shift_m", "datum_anchor", "anchor_distance_m",
            "confidence_published", "confidence"]
    return audited.loc[audited["datum_verdict"] != "", cols].reset_index(drop=True)


__all__ = ["AUDIT_COLUMNS", "MARGIN_M", "audit", "load_anchors", "summary"]
