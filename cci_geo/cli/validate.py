"""``cci-geo validate PATH [--kind K]``: report every problem in a planner's layer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._i18n import MESSAGES, cli_lang, msg
from .options import add_region_option, region_arg

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``validate`` subcommand."""
    from ..schema import LAYER_KINDS

    p = subparsers.add_parser(
        "validate", help="check a layer against the CCI data model; exit 1 on errors",
        description="Check a layer file against the CCI data model and list every problem "
                    "(column, rows and fix). A GeoPackage or File Geodatabase holding several "
                    "layers named after layer kinds (an atlas) is checked layer by layer, its "
                    "tables too. Exit status 1 when there are errors.",
        epilog="examples:\n  cci-geo validate parks.gpkg --kind zones\n"
               "  cci-geo validate firms_amap.csv --kind enterprises --datum gcj02\n"
               "  cci-geo validate 园区.shp --kind zones --encoding gbk\n"
               "  cci-geo validate parks.xlsx --kind zones --layer 园区 --datum gcj02\n"
               "  cci-geo validate planning.gdb --layer zones\n"
               "  cci-geo validate my_atlas.gpkg                 every layer of an atlas\n"
               "  cci-geo validate shanghai.gpkg --region 120.85 30.67 122.2 31.88",
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
    add_region_option(p)
    p.set_defaults(func=run)


def _guess_kind(path: Path, layer: str | None) -> str | None:
    from ..schema import LAYER_KINDS

    stem = (layer or path.stem).lower()
    return next((k for k in LAYER_KINDS if k in stem or k.rstrip("s") in stem), None)


def _layer_names(path: Path) -> list[str]:
    """Tables of a GeoPackage or File Geodatabase (empty for other files)."""
    import pyogrio

    from ..io import wrap_read_errors

    if path.suffix.lower() not in (".gpkg", ".gdb") or not path.exists():
        return []
    with wrap_read_errors(path):
        return [str(name) for name, _ in pyogrio.list_layers(path)]


def _report(out: Any, lang: str, where: str, kind: str, n: int, problems: list[Any]) -> int:
    """Write one layer's report; return its number of errors."""
    from ..errors import render

    errors = [p for p in problems if p.severity == "error"]
    out.write(msg("validated", lang, path=where, kind=kind, features=n, errors=len(errors),
                  warnings=len(problems) - len(errors)) + "\n")
    fix = msg("fix", lang)
    for p in problems:  # the problem itself names columns and rows; it stays in English
        key = f"severity_{p.severity}"
        severity = msg(key, lang) if key in MESSAGES else p.severity.upper()
        out.write(f"  {severity:7s} [{p.check}] {render(p.message, 'cli')}\n"
                  f"          {fix}: {render(p.fix, 'cli')}\n")
    if not problems:
        out.write(f"  {msg('valid', lang)}\n")
    return len(errors)


def _run_atlas(args: argparse.Namespace, lang: str) -> int:
    """Check every layer (and table) of an atlas file named after a kind."""
    from .._table_checks import run_table_checks
    from ..atlas import Atlas
    from ..schema import check

    atlas = Atlas.read(args.path, validate_layers=False, region=region_arg(args.region))
    out = sys.stdout
    errors = 0
    checked: dict[str, Any] = {}
    for kind in atlas:
        gdf = atlas[kind]
        frame, problems = check(gdf, kind, layer=f"{args.path.name}:{kind}",
                                region=atlas.region)
        checked[kind] = frame
        errors += _report(out, lang, f"{args.path.name}:{kind}", kind, len(gdf), problems)
    for kind, df in atlas.tables.items():
        _, problems = run_table_checks(df, kind, layer=f"{args.path.name}:{kind}",
                                       enterprises=checked.get("enterprises"))
        errors += _report(out, lang, f"{args.path.name}:{kind}", kind, len(df), problems)
    out.write(msg("validated_atlas", lang, path=args.path.name,
                  layers=len(atlas.layers) + len(atlas.tables), errors=errors) + "\n")
    return 1 if errors else 0


def run(args: argparse.Namespace) -> int:
    """Print a report of every problem (Chinese with ``--lang zh``); return 1 on an error."""
    from ..io import read_layer
    from ..schema import LAYER_KINDS, check

    lang = cli_lang(args)
    if args.layer is None:
        names = _layer_names(args.path)
        kinds = [n for n in names if n in LAYER_KINDS]
        if args.kind is not None and args.kind in names:
            args.layer = args.kind
        elif args.kind is None and len(names) > 1 and kinds:
            return _run_atlas(args, lang)
    kind = args.kind or _guess_kind(args.path, args.layer)
    if kind is None:
        sys.stderr.write(msg("unknown_kind", lang, name=args.path.name,
                             kinds=", ".join(LAYER_KINDS)) + "\n")
        return 2
    gdf = read_layer(args.path, None, layer=args.layer, datum=args.datum,
                     encoding=args.encoding, crs=args.assume_crs, lon=args.lon, lat=args.lat)
    given = region_arg(args.region)
    # "data": the layer's own extent, so only the coordinates' sanity is checked
    region = _own_extent(gdf) if given == "data" else given
    _, problems = check(gdf, kind, layer=args.path.name,
                        region=region if not isinstance(region, str) else None)
    return 1 if _report(sys.stdout, lang, str(args.path), kind, len(gdf), problems) else 0


def _own_extent(gdf: Any) -> tuple[float, float, float, float] | None:
    """The layer's bounding box in degrees, or None when it cannot be had (no or bad CRS)."""
    import numpy as np

    if gdf.crs is None or not len(gdf):
        return None
    w, s, e, n = gdf.to_crs("EPSG:4326").total_bounds
    if not (np.isfinite([w, s, e, n]).all() and -180 <= w < e <= 180 and -90 <= s < n <= 90):
        return None
    return (float(w), float(s), float(e), float(n))
