"""``cci-geo validate PATH [--kind K]``: report every problem in a planner's layer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``validate`` subcommand."""
    from ..schema import LAYER_KINDS

    p = subparsers.add_parser(
        "validate", help="check a layer against the CCI data model; exit 1 on errors",
        description="Check a layer file against the CCI data model and list every problem "
                    "(column, rows and fix). Exit status 1 when there are errors.",
        epilog="examples:\n  cci-geo validate parks.gpkg --kind zones\n"
               "  cci-geo validate firms_amap.csv --kind enterprises --datum gcj02\n"
               "  cci-geo validate 园区.shp --kind zones --encoding gbk\n"
               "  cci-geo validate parks.xlsx --kind zones --layer 园区 --datum gcj02\n"
               "  cci-geo validate planning.gdb --layer zones",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", type=Path,
                   help="layer file (gpkg, gdb, geojson, shp, parquet, csv, xlsx, xls)")
    p.add_argument("--kind", choices=LAYER_KINDS, default=None,
                   help="layer kind (default: guessed from the file or table name)")
    p.add_argument("--layer", default=None,
                   help="table inside a multi-layer GeoPackage or FileGDB, or Excel sheet")
    p.add_argument("--lon", default=None, help="longitude column of a CSV/Excel table")
    p.add_argument("--lat", default=None, help="latitude column of a CSV/Excel table")
    p.add_argument("--datum", default="wgs84", help="wgs84 (default), gcj02 or bd09")
    p.add_argument("--encoding", default=None, help="text encoding, e.g. gbk")
    p.add_argument("--assume-crs", default=None,
                   help="CRS to assume when the file declares none, e.g. EPSG:4326")
    p.set_defaults(func=run)


def _guess_kind(path: Path, layer: str | None) -> str | None:
    from ..schema import LAYER_KINDS

    stem = (layer or path.stem).lower()
    return next((k for k in LAYER_KINDS if k in stem or k.rstrip("s") in stem), None)


def run(args: argparse.Namespace) -> int:
    """Print a report of every problem; return 1 if any is an error."""
    from ..io import read_layer
    from ..schema import LAYER_KINDS, check

    kind = args.kind or _guess_kind(args.path, args.layer)
    if kind is None:
        sys.stderr.write(f"cannot guess the layer kind of {args.path.name}; pass --kind "
                         f"(one of {', '.join(LAYER_KINDS)}).\n")
        return 2
    gdf = read_layer(args.path, None, layer=args.layer, datum=args.datum,
                     encoding=args.encoding, crs=args.assume_crs, lon=args.lon, lat=args.lat)
    _, problems = check(gdf, kind, layer=args.path.name)
    errors = [p for p in problems if p.severity == "error"]
    out = sys.stdout
    out.write(f"{args.path} as {kind}: {len(gdf)} features, {len(errors)} error(s), "
              f"{len(problems) - len(errors)} warning(s)\n")
    for p in problems:
        out.write(f"  {p.severity.upper():7s} [{p.check}] {p.message}\n          fix: {p.fix}\n")
    if not problems:
        out.write("  OK: the layer satisfies the data model.\n")
    return 1 if errors else 0
