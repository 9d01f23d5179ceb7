"""Beijing metro stations, their entrances and lines for the demo atlas (real data).

Reads ``data/reference/transit/`` (see its README): OpenStreetMap station and entrance nodes
(WGS-84, ODbL) and the ordered station lists of 28 lines with official track distances (MIT).
Used by ``build_demo.py``; deterministic (no randomness, stable sort keys).

Data model
----------
* ``stations``: one row per station. A transfer station has one OSM node per line; nodes with
  the same Chinese name lying within 1.5 km of each other are merged and placed at their mean.
  ``lines`` lists the ids of the ``transit_lines`` that stop there.
* ``station_entrances``: one row per mapped entrance; a station without any mapped entrance
  contributes its own point (``access_point = "station"``), so "distance to the nearest
  entrance" is defined for every station.
* ``transit_lines``: one LineString per line through its stations in running order (closed
  for loop lines); stations without an OSM position are skipped and counted.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Geod
from shapely.geometry import LineString

COVERAGE_GAP = ("the OpenStreetMap extract stops at 40.1 N: stations farther north (north "
                "ends of the Changping, Line 8, Line 13, Line 15/Shunyi and Line 17 lines, "
                "Future Science City...) and stations not tagged station=subway are missing")
ATTRIBUTION = ("metro: © OpenStreetMap contributors (ODbL 1.0); line order: "
               "Beijing-Subway-Tools (MIT)")
_MERGE_M = 1500.0
_GEOD = Geod(ellps="WGS84")


def _line_id(line_en: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", line_en.lower()).strip("_")


def _bare(name: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"[(（][^)）]*[)）]", "", str(name)))


def _group_nodes(osm: pd.DataFrame) -> pd.Series:
    """Station key of each OSM node: same bare name_zh, within 1.5 km of the group's first node."""
    keys = pd.Series("", index=osm.index, dtype=object)
    bare = osm["name_zh"].map(_bare)
    for name, grp in osm.sort_values("osm_node_id").groupby(bare, sort=True):
        first = grp.iloc[0]
        _, _, dist = _GEOD.inv(np.full(len(grp), first["lon"]), np.full(len(grp), first["lat"]),
                               grp["lon"].to_numpy(), grp["lat"].to_numpy())
        for (idx, row), d in zip(grp.iterrows(), dist, strict=True):
            anchor = first if d <= _MERGE_M else row
            keys[idx] = f"{name}#{int(anchor['osm_node_id'])}"
    return keys


def build_transit(ref: Path) -> dict[str, gpd.GeoDataFrame]:
    """Return the ``stations``, ``station_entrances`` and ``transit_lines`` layers."""
    src = ref / "transit"
    osm = pd.read_csv(src / "stations_osm_wgs84.csv", dtype={"osm_node_id": "int64"})
    ent = pd.read_csv(src / "entrances_osm_wgs84.csv",
                      dtype={"station_osm_node_id": "int64", "entrance_osm_node_id": "int64",
                             "ref": str})
    seq = pd.read_csv(src / "line_station_sequence.csv", dtype={"osm_node_ids": str})

    osm["key"] = _group_nodes(osm)
    first_node = osm.groupby("key")["osm_node_id"].min()
    station_of_node = dict(zip(osm["osm_node_id"],
                               "osm" + osm["key"].map(first_node).astype(str), strict=True))
    seq["line_id"] = seq["line_en"].map(_line_id)

    # lines served by each station, from the node ids the sequence table joined to each stop,
    # else from the name without a line qualifier ("木樨地(1号线)" -> "木樨地")
    by_name: dict[str, str] = {}
    for node, name in sorted(zip(osm["osm_node_id"], osm["name_zh"], strict=True)):
        by_name.setdefault(_bare(name), station_of_node[node])
    served: dict[str, list[str]] = {}
    stop_station: list[str | None] = []
    for _, row in seq.iterrows():
        nodes = [int(n) for n in str(row["osm_node_ids"]).split(";") if n.strip().isdigit()]
        sid = next((station_of_node[n] for n in nodes if n in station_of_node),
                   by_name.get(_bare(row["station_zh"])))
        stop_station.append(sid)
        if sid is not None and row["line_id"] not in served.setdefault(sid, []):
            served[sid].append(row["line_id"])
    seq["station_id"] = stop_station
    line_names = seq.drop_duplicates("line_id").set_index("line_id")

    grouped = osm.assign(station_id=osm["osm_node_id"].map(station_of_node)).groupby(
        "station_id", sort=True)
    st = grouped.agg(name_zh=("name_zh", lambda s: _bare(s.iloc[0])), name_en=("name_en", "first"),
                     lon=("lon", "mean"), lat=("lat", "mean"),
                     osm_node_ids=("osm_node_id", lambda s: ";".join(map(str, sorted(s)))),
                     wikidata=("wikidata", lambda s: ";".join(sorted(s.dropna().unique()))))
    st["mode"] = "metro"
    st["lines"] = [";".join(served.get(i, [])) for i in st.index]
    st["lines_en"] = [";".join(line_names.loc[x, "line_en"] for x in served.get(i, []))
                      for i in st.index]
    st["lines_zh"] = [";".join(line_names.loc[x, "line_zh"] for x in served.get(i, []))
                      for i in st.index]
    # an entrance node is listed once per station node it serves: keep it once per station
    ent = ent.assign(station_id=ent["station_osm_node_id"].map(station_of_node)).dropna(
        subset=["station_id"]).sort_values(["entrance_osm_node_id", "station_id"]).drop_duplicates(
        "entrance_osm_node_id")
    st["n_entrances"] = ent["station_id"].value_counts().reindex(st.index, fill_value=0).astype(int)
    st["source"] = "OpenStreetMap (railway=station + station=subway), via publictransit-systems"
    st["licence"] = "ODbL 1.0, © OpenStreetMap contributors"
    st = st.reset_index().rename(columns={"station_id": "id"})
    stations = gpd.GeoDataFrame(st.drop(columns=["lon", "lat"]),
                                geometry=gpd.points_from_xy(st["lon"], st["lat"]),
                                crs="EPSG:4326")

    e = ent.sort_values(["station_id", "ref", "entrance_osm_node_id"], na_position="last")
    entrances = gpd.GeoDataFrame({
        "id": "osm" + e["entrance_osm_node_id"].astype(str), "station_id": e["station_id"],
        "ref": e["ref"].fillna(""), "access_point": "entrance",
        "wheelchair": e["wheelchair"].astype(str).str.lower().eq("true"),
    }, geometry=gpd.points_from_xy(e["lon"], e["lat"]), crs="EPSG:4326")
    bare = stations[stations["n_entrances"] == 0]
    stand_in = gpd.GeoDataFrame({
        "id": bare["id"] + ":station", "station_id": bare["id"], "ref": "",
        "access_point": "station", "wheelchair": False,
    }, geometry=bare.geometry.values, crs="EPSG:4326")
    entrances = pd.concat([entrances, stand_in], ignore_index=True)
    entrances["wheelchair"] = entrances["wheelchair"].astype(bool)

    where_x = dict(zip(stations["id"], stations.geometry.x, strict=True))
    where_y = dict(zip(stations["id"], stations.geometry.y, strict=True))
    rows, geoms = [], []
    for line_id, grp in seq.groupby("line_id", sort=True):
        grp = grp.sort_values("seq").copy()
        # a stop joined by name only takes its station's position
        fill = grp["osm_lon_wgs84"].isna() & grp["station_id"].notna()
        grp.loc[fill, "osm_lon_wgs84"] = grp.loc[fill, "station_id"].map(where_x).astype(float)
        grp.loc[fill, "osm_lat_wgs84"] = grp.loc[fill, "station_id"].map(where_y).astype(float)
        placed = grp.dropna(subset=["osm_lon_wgs84", "osm_lat_wgs84"])
        coords = list(zip(placed["osm_lon_wgs84"], placed["osm_lat_wgs84"], strict=True))
        loop = str(grp["loop"].iloc[0]).lower() == "true"
        if loop and len(coords) > 2:
            coords.append(coords[0])
        if len(coords) < 2:
            continue
        rows.append({
            "id": line_id, "name_zh": grp["line_zh"].iloc[0], "name_en": grp["line_en"].iloc[0],
            "mode": "metro", "colour": grp["line_color"].iloc[0], "loop": loop,
            "station_ids": ";".join(placed["station_id"].dropna()),
            "n_stops": len(grp), "n_stops_unplaced": int(len(grp) - len(placed)),
            "track_length_m": float(grp["dist_from_prev_m"].sum()),
            "source": "Beijing-Subway-Tools line order and track distances; OSM positions",
            "licence": "order: MIT (Beijing-Subway-Tools); positions: ODbL 1.0 © OSM contributors",
        })
        geoms.append(LineString(coords))
    lines = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    return {"stations": stations, "station_entrances": entrances, "transit_lines": lines}


def nearest_station_m(points: gpd.GeoSeries, stations: gpd.GeoDataFrame) -> tuple[
        np.ndarray, np.ndarray]:
    """Geodesic distance (m) from each point to its nearest station, and that station's index."""
    sx, sy = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    dist, which = [], []
    for p in points:
        _, _, d = _GEOD.inv(np.full(len(sx), p.x), np.full(len(sx), p.y), sx, sy)
        dist.append(float(d.min()))
        which.append(int(d.argmin()))
    return np.array(dist), np.array(which)


__all__ = ["ATTRIBUTION", "COVERAGE_GAP", "build_transit", "nearest_station_m"]
