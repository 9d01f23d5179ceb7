"""``cci-geo validate PATH [--kind K]``: report every problem in a planner's layer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._i18n import MESSAGES, cli_lang, msg

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
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="language of the summary (default: CCI_GEO_LANG, else en)")
    p.set_defaults(func=run)


def _guess_kind(path: Path, layer: str | None) -> str | None:
    from ..schema import LAYER_KINDS

    stem = (layer or path.stem).lower()
    return next((k for k in LAYER_KINDS if k in stem or k.rstrip("s") in stem), None)


def run(args: argparse.Namespace) -> int:
    """Print a report of every problem (Chinese with ``--lang zh``); return 1 on an error."""
    from ..io import read_layer
    from ..schema import LAYER_KINDS, check

    lang = cli_lang(args)
    kind = args.kind or _guess_kind(args.path, args.layer)
    if kind is None:
        sys.stderr.write(msg("unknown_kind", lang, name=args.path.name,
                             kinds=", ".join(LAYER_KINDS)) + "\n")
        return 2
    gdf = read_layer(args.path, None, layer=args.layer, datum=args.datum,
                     encoding=args.encoding, crs=args.assume_crs, lon=args.lon, lat=args.lat)
    _, problems = check(gdf, kind, layer=args.path.name)
    errors = [p for p in problems if p.severity == "error"]
    out = sys.stdout
    out.write(msg("validated", lang, path=args.path, kind=kind, features=len(gdf),
                  errors=len(errors), warnings=len(problems) - len(errors)) + "\n")
    fix = msg("fix", lang)
    for p in problems:  # the problem itself names columns and rows; it stays in English
        key = f"severity_{p.severity}"
        severity = msg(key, lang) if key in MESSAGES else p.severity.upper()
        out.write(f"  {severity:7s} [{p.check}] {p.message}\n          {fix}: {p.fix}\n")
    if not problems:
        out.write(f"  {msg('valid', lang)}\n")
    return 1 if errors else 0
