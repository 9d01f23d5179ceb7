"""Build ``data/beijing_798_streets.osm.gz``: a synthetic OSM XML street network around 798/751.

The network is SYNTHETIC. Its street names, road classes and rough arrangement follow the area
around the 798 Art Zone and 751 D-PARK in Jiuxianqiao, Chaoyang District, Beijing (Jiuxianqiao
Road on the west, Jiangtai Road on the south, Jingshun Road and the Airport Expressway to the
north-west, the Dashanzi roundabout), but the geometry is generated, not surveyed: positions
are approximate to a few hundred metres and the local streets are a jittered grid. It exists
so that tests, docs and the demo can route on realistic OSM tagging offline.

Run from the repository root (deterministic: the same bytes every time)::

    python data/build_streets.py            # writes data/beijing_798_streets.osm.gz
    python data/build_streets.py --check    # exit 1 if the committed file is out of date
"""

from __future__ import annotations

import argparse
import gzip
import io
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from shapely.ops import substring

OUT = Path(__file__).resolve().parent / "beijing_798_streets.osm.gz"
SEED = 798
ORIGIN_LON, ORIGIN_LAT = 116.4883, 39.9839  # 798 Art Zone (Wikipedia coordinate), x=y=0
M_PER_DEG_LAT = 111_000.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(ORIGIN_LAT))
WEST, SOUTH, EAST, NORTH = -1800.0, -1600.0, 2200.0, 1800.0  # metres around the origin
MAX_SEGMENT_M = 50.0
ROUNDABOUT = (-330.0, 1250.0)  # Dashanzi roundabout: Jiuxianqiao Road x Jingshun Road
ROUNDABOUT_R = 45.0
NE = np.array([0.6626, 0.7490]) / np.hypot(0.6626, 0.7490)  # direction of Jingshun Road
NW = np.array([-NE[1], NE[0]])  # its left normal


@dataclass
class Way:
    coords: list[tuple[float, float]]
    tags: dict[str, str]
    noded: bool = True  # meets other noded ways where it crosses them (at grade)
    splits: list[tuple[float, float]] = field(default_factory=list)


def _named(zh: str, en: str, highway: str, **extra: str) -> dict[str, str]:
    return {"highway": highway, "name": zh, "name:en": en, **extra}


def _ray(p: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """Point where the ray p + t*d (t > 0) leaves the bounding box."""
    ts = []
    for lo, hi, pi, di in ((WEST, EAST, p[0], d[0]), (SOUTH, NORTH, p[1], d[1])):
        if di > 0:
            ts.append((hi - pi) / di)
        elif di < 0:
            ts.append((lo - pi) / di)
    t = min(ts)
    q = p + t * d
    return float(q[0]), float(q[1])


def _jxq_x(y: float) -> float:
    """x of Jiuxianqiao Road (south arm, extended) at ``y``."""
    return -420.0 + 90.0 * (y - SOUTH) / (ROUNDABOUT[1] - ROUNDABOUT_R - SOUTH)


def _west_end(y: float) -> float:
    """Start of a street that meets Jiuxianqiao Road from the east (3 m overshoot)."""
    return _jxq_x(y) - 3.0


def _ring() -> dict[str, tuple[float, float]]:
    """Vertices of the Dashanzi roundabout keyed by angle; arms attach at exact vertices."""
    px, py = ROUNDABOUT
    ne = math.degrees(math.atan2(NE[1], NE[0])) % 360
    angles = sorted({*np.linspace(0, 360, 13)[:-1].tolist(), 90.0, 270.0, ne, (ne + 180) % 360})
    pts = {}
    for a in angles:
        pts[f"{a:.3f}"] = (round(px + ROUNDABOUT_R * math.cos(math.radians(a)), 6),
                           round(py + ROUNDABOUT_R * math.sin(math.radians(a)), 6))
    pts["north"], pts["south"] = pts["90.000"], pts["270.000"]
    pts["ne"], pts["sw"] = pts[f"{ne:.3f}"], pts[f"{(ne + 180) % 360:.3f}"]
    return pts


def _main_roads() -> list[Way]:
    ring = _ring()
    p = np.array(ROUNDABOUT)
    jxq = _named("酒仙桥路", "Jiuxianqiao Road", "primary", maxspeed="60", lanes="6")
    jingshun = _named("京顺路", "Jingshun Road", "trunk", maxspeed="60", lanes="6")
    ways = [
        Way([(-420.0, SOUTH), ring["south"]], dict(jxq)),
        Way([ring["north"], (-300.0, NORTH)], dict(jxq)),
        Way([_ray(p, -NE), ring["sw"]], dict(jingshun)),
        Way([ring["ne"], _ray(p, NE)], dict(jingshun)),
        Way([(WEST, -1300.0), (EAST, -1300.0)],
            _named("将台路", "Jiangtai Road", "secondary", maxspeed="50", lanes="4")),
        Way([(1600.0, SOUTH), (1600.0, NORTH)],
            _named("酒仙桥东路", "Jiuxianqiao East Road", "secondary", lanes="4")),
        Way([(_west_end(1100.0), 1100.0), (EAST, 1100.0)],
            _named("酒仙桥北路", "Jiuxianqiao North Road", "tertiary", maxspeed="40")),
        Way([(_west_end(650.0), 650.0), (EAST, 650.0)],
            _named("万红路", "Wanhong Road", "tertiary", maxspeed="CN:urban")),
        Way([(_west_end(-600.0), -600.0), (820.0, -600.0)],
            _named("酒仙桥中路", "Jiuxianqiao Middle Road", "tertiary")),
        Way([(820.0, -1300.0), (820.0, 1100.0)],
            _named("电子城路", "Dianzicheng Road", "tertiary", maxspeed="40")),
        # A separate cycle track on the south side of Jiangtai Road.
        Way([(_west_end(-1318.0), -1318.0), (1600.0, -1318.0)],
            {"highway": "cycleway", "segregated": "no"}),
        # A railway spur on the east side of the 798 complex: not a street, dropped by loaders.
        Way([(860.0, SOUTH), (860.0, 1100.0)], {"railway": "rail", "name": "酒仙桥铁路专用线"},
            noded=False),
    ]
    # The Dashanzi roundabout: anticlockwise one-way ring (right-hand traffic).
    loop = [ring[k] for k in sorted(ring, key=lambda k: float(k) if k[0].isdigit() else 999)
            if k[0].isdigit()]
    ways.append(Way([*loop, loop[0]], {"highway": "primary", "junction": "roundabout",
                                       "name": "大山子环岛", "name:en": "Dashanzi Roundabout"}))
    ways.extend(_expressway())
    return ways


def _expressway() -> list[Way]:
    """Airport Expressway: two one-way carriageways, grade-separated, with ramps to Jingshun."""
    base = np.array(ROUNDABOUT) + 230.0 * NW
    tags = {"highway": "motorway", "ref": "S12", "maxspeed": "100", "oneway": "yes",
            "lanes": "3", "name": "机场高速公路", "name:en": "Airport Expressway"}
    ne_side, sw_side = base - 12 * NW, base + 12 * NW  # right-hand traffic
    ways = [Way([_ray(ne_side, -NE), _ray(ne_side, NE)], dict(tags), noded=False),
            Way([_ray(sw_side, NE), _ray(sw_side, -NE)], dict(tags), noded=False)]
    jingshun = np.array(ROUNDABOUT)
    link = {"highway": "motorway_link", "oneway": "yes", "maxspeed": "40"}
    # (carriageway, offset along NE where the ramp starts, where it ends, joins the expressway)
    for lane, t_from, t_to, onto in ((0, -1150.0, -850.0, False), (0, -700.0, -400.0, True),
                                     (1, -450.0, -750.0, False), (1, -900.0, -1200.0, True)):
        lane_base = ne_side if lane == 0 else sw_side
        if onto:
            start = tuple(float(c) for c in jingshun + t_from * NE)
            end = tuple(float(c) for c in lane_base + t_to * NE)
            ways[lane].splits.append(end)
        else:
            start = tuple(float(c) for c in lane_base + t_from * NE)
            end = tuple(float(c) for c in jingshun + t_to * NE)
            ways[lane].splits.append(start)
        extra = {"bridge": "yes", "layer": "1"} if lane == 1 else {}
        ramp = Way([start, end], {**link, **extra}, noded=False)
        ramp.tags["_joins_jingshun"] = "start" if onto else "end"
        ways.append(ramp)
    return ways


def _halfplane_se_of_jingshun(margin: float) -> Polygon:
    p = np.array(ROUNDABOUT) + margin * NW
    far = 10_000.0
    a, b = p - far * NE, p + far * NE
    return Polygon([tuple(a), tuple(b), tuple(b - far * NW), tuple(a - far * NW)])


def _grid(region: Polygon, dx: float, dy: float, angle: float, rng: np.random.Generator,
          tags_x: dict[str, str], tags_y: dict[str, str], oneway_every: int = 0) -> list[Way]:
    """Local streets: a jittered, rotated grid clipped to ``region`` (which overshoots roads)."""
    minx, miny, maxx, maxy = region.buffer(400).bounds
    cx, cy = region.centroid.x, region.centroid.y
    ways = []
    lines: list[tuple[LineString, dict[str, str]]] = []
    y = miny + dy / 2
    k = 0
    while y < maxy:
        yy = y + rng.uniform(-0.2, 0.2) * dy
        tags = dict(tags_x)
        if oneway_every and k % oneway_every == oneway_every - 1:
            tags["oneway"] = "yes"
        lines.append((LineString([(minx, yy), (maxx, yy)]), tags))
        y += dy
        k += 1
    x = minx + dx / 2
    while x < maxx:
        xx = x + rng.uniform(-0.2, 0.2) * dx
        lines.append((LineString([(xx, miny), (xx, maxy)]), dict(tags_y)))
        x += dx
    for line, tags in lines:
        rotated = affinity.rotate(line, angle, origin=(cx, cy))
        clipped = rotated.intersection(region)
        parts = clipped.geoms if isinstance(clipped, MultiLineString) else [clipped]
        for part in parts:
            if isinstance(part, LineString) and part.length > 30:
                if rng.random() < 0.12:  # a missing link: keep only part of the street
                    part = substring(part, 0, part.length * rng.uniform(0.35, 0.7))
                ways.append(Way([(float(a), float(b)) for a, b in part.coords], tags))
    return ways


def _local_streets(rng: np.random.Generator) -> list[Way]:
    res = {"highway": "residential"}
    se = _halfplane_se_of_jingshun(3.0).difference(Point(ROUNDABOUT).buffer(80.0))
    west_of_jxq = Polygon([(_west_end(SOUTH) + 6, SOUTH), (_west_end(NORTH) + 6, NORTH),
                           (WEST - 10, NORTH), (WEST - 10, SOUTH)])
    ways = []
    # East: the Jiuxianqiao residential quarters between Dianzicheng Road and the east edge.
    ways += _grid(box(817, -1303, EAST, 1103), 190, 165, 4.0, rng, res, res, oneway_every=4)
    # West: Jiangtai neighbourhood between Jingshun Road and Jiuxianqiao Road.
    ways += _grid(box(WEST, -1303, 0, 1240).intersection(se).intersection(west_of_jxq), 220,
                  200, -3.0, rng, res, res)
    # North of Jiuxianqiao North Road, south-east of Jingshun Road.
    ways += _grid(box(-333, 1097, EAST, NORTH).intersection(se), 240, 210, 2.0, rng, res, res)
    # Between Wanhong Road and Jiuxianqiao North Road, and between the 798 complex and
    # Jiangtai Road (old factory compounds now housing).
    east_of_jxq = Polygon([(_west_end(SOUTH), SOUTH), (_west_end(NORTH), NORTH),
                           (EAST + 10, NORTH), (EAST + 10, SOUTH)])
    ways += _grid(box(-500, 647, 823, 1103).intersection(east_of_jxq), 170, 150, 1.5, rng,
                  res, res)
    ways += _grid(box(-500, -1303, 823, -597).intersection(east_of_jxq), 200, 175, -2.0, rng,
                  res, res)
    # South of Jiangtai Road.
    ways += _grid(box(WEST, SOUTH, EAST, -1297), 260, 150, 0.0, rng,
                  {"highway": "service"}, res)
    return ways


def _art_district() -> list[Way]:
    """Streets inside the 798 and 751 complexes (bounded by Jiuxianqiao and Wanhong Roads)."""
    living = "living_street"
    return [
        Way([(_west_end(0.0), 0.0), (823.0, 0.0)],
            _named("七星中街", "Qixing Middle Street", living)),
        Way([(650.0, -603.0), (650.0, 653.0)],
            _named("七星东街", "Qixing East Street", living, oneway="yes")),
        Way([(150.0, -603.0), (150.0, 653.0)],
            _named("七星西街", "Qixing West Street", living, oneway="-1")),
        Way([(400.0, -603.0), (400.0, 653.0)], _named("798东街", "798 East Street", "pedestrian")),
        Way([(_west_end(-300.0), -300.0), (823.0, -300.0)],
            _named("陶瓷三街", "Ceramics Third Street", "pedestrian")),
        Way([(-100.0, -603.0), (-100.0, 300.0), (150.0, 300.0)],
            {"highway": "service", "service": "alley"}),
        Way([(_west_end(420.0), 420.0), (150.0, 420.0), (400.0, 420.0)], {"highway": "service"}),
        # 751 D-PARK: footpaths round the gas holders, steps up to the old coal-gas platform.
        Way([(480.0, 250.0), (700.0, 250.0), (760.0, 340.0), (700.0, 500.0), (480.0, 500.0),
             (400.0, 400.0), (480.0, 250.0)], {"highway": "footway"}),
        Way([(650.0, 380.0), (590.0, 380.0)], {"highway": "steps", "incline": "up"}),
        Way([(590.0, 380.0), (560.0, 330.0), (480.0, 250.0)], {"highway": "footway"}),
        Way([(700.0, 500.0), (820.0, 560.0)], {"highway": "footway"}),
        # Private works yard and a pedestrian square drawn as an area: both dropped by the
        # mode filters, as on real OSM data.
        Way([(823.0, -450.0), (700.0, -450.0), (700.0, -520.0)],
            {"highway": "service", "access": "private"}),
        Way([(200.0, 100.0), (330.0, 100.0), (330.0, 200.0), (200.0, 200.0), (200.0, 100.0)],
            {"highway": "pedestrian", "area": "yes", "name": "798广场"}),
    ]


def _node_ways(ways: list[Way]) -> None:
    """Record, on each noded way, every point where it crosses another noded way."""
    lines = [LineString(w.coords) for w in ways]
    for i, a in enumerate(ways):
        if not a.noded:
            continue
        for j in range(i + 1, len(ways)):
            b = ways[j]
            if not b.noded or not lines[i].intersects(lines[j]):
                continue
            hit = lines[i].intersection(lines[j])
            points = [g for g in getattr(hit, "geoms", [hit]) if isinstance(g, Point)]
            for pt in points:
                a.splits.append((pt.x, pt.y))
                b.splits.append((pt.x, pt.y))


def _join_ramps(ways: list[Way]) -> None:
    """Add each ramp's Jingshun Road end as a vertex of Jingshun Road."""
    jingshun = [w for w in ways if w.tags.get("name:en") == "Jingshun Road"]
    for w in ways:
        where = w.tags.pop("_joins_jingshun", None)
        if where is None:
            continue
        pt = w.coords[-1] if where == "end" else w.coords[0]
        target = min(jingshun, key=lambda j: LineString(j.coords).distance(Point(pt)))
        target.splits.append(pt)


def _vertices(way: Way, rng: np.random.Generator) -> list[tuple[float, float]]:
    """The way's vertices with split points inserted, dangling stubs cut and long legs split."""
    line = LineString(way.coords)
    keys = {round(line.project(Point(c)), 6): c for c in way.coords}
    for s in way.splits:
        keys[round(line.project(Point(s)), 6)] = s
    stops = sorted(keys.items())
    if way.splits and way.noded and not line.is_closed:
        split_pos = sorted(round(line.project(Point(s)), 6) for s in way.splits)
        lo = split_pos[0] if split_pos[0] < 4.0 else 0.0
        hi = split_pos[-1] if line.length - split_pos[-1] < 4.0 else line.length
        stops = [(d, c) for d, c in stops if lo - 1e-6 <= d <= hi + 1e-6]
    out: list[tuple[float, float]] = []
    jitter = 0.0 if way.tags.get("highway", "").startswith("motorway") else 1.2
    for (d0, c0), (d1, _) in zip(stops, stops[1:], strict=False):
        out.append(c0)
        n = math.ceil((d1 - d0) / MAX_SEGMENT_M)
        for k in range(1, n):
            p = line.interpolate(d0 + (d1 - d0) * k / n)
            out.append((p.x + rng.normal(0, jitter), p.y + rng.normal(0, jitter)))
    out.append(stops[-1][1])
    return out


def _lonlat(x: float, y: float) -> tuple[str, str]:
    return (f"{ORIGIN_LON + x / M_PER_DEG_LON:.7f}", f"{ORIGIN_LAT + y / M_PER_DEG_LAT:.7f}")


def build_xml() -> bytes:
    """Return the gzip-compressed OSM XML (deterministic bytes)."""
    rng = np.random.default_rng(SEED)
    ways = _main_roads() + _art_district() + _local_streets(rng)
    _node_ways(ways)
    _join_ramps(ways)
    node_ids: dict[tuple[str, str], int] = {}
    way_refs = []
    for way in ways:
        refs = []
        for x, y in _vertices(way, rng):
            key = _lonlat(x, y)
            refs.append(node_ids.setdefault(key, len(node_ids) + 1))
        way_refs.append([r for k, r in enumerate(refs) if k == 0 or r != refs[k - 1]])
    lon_w, lat_s = _lonlat(WEST, SOUTH)
    lon_e, lat_n = _lonlat(EAST, NORTH)
    buf = io.StringIO()
    buf.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    buf.write('<osm version="0.6" generator="cci_geo data/build_streets.py (synthetic)">\n')
    buf.write("  <!-- SYNTHETIC street network around the 798/751 art district, Jiuxianqiao, "
              "Chaoyang, Beijing. Generated, not surveyed; see data/README.md. -->\n")
    buf.write(f'  <bounds minlat="{lat_s}" minlon="{lon_w}" maxlat="{lat_n}" maxlon="{lon_e}"/>\n')
    for (lon, lat), nid in node_ids.items():
        buf.write(f'  <node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>\n')
    for wid, (way, refs) in enumerate(zip(ways, way_refs, strict=True), start=1):
        buf.write(f'  <way id="{wid}" version="1">\n')
        buf.writelines(f'    <nd ref="{r}"/>\n' for r in refs)
        for k, v in sorted(way.tags.items()):
            buf.write(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n")
        buf.write("  </way>\n")
    buf.write("</osm>\n")
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    return raw.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output .osm.gz path")
    parser.add_argument("--check", action="store_true",
                        help="only compare with the existing file; exit 1 if it differs")
    args = parser.parse_args(argv)
    data = build_xml()
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'up to date' if same else 'OUT OF DATE'}")
        return 0 if same else 1
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cci_geo._files import atomic_path

    with atomic_path(args.out, overwrite=True) as tmp:
        tmp.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
