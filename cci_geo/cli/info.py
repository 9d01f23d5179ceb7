"""``cci-geo info [PATH]``: summarise an atlas (the embedded demo by default)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .options import atlas_source

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``info`` subcommand."""
    p = subparsers.add_parser(
        "info", help="summarise an atlas: layers, counts, CRS, provenance",
        description="Summarise an atlas GeoPackage, File Geodatabase or PostGIS database "
                    "(default: the embedded Beijing demo).",
        epilog="examples:\n  cci-geo info\n  cci-geo info my_atlas.gpkg\n"
               "  cci-geo info planning.gdb\n  cci-geo info postgresql://planner@db/cci",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", type=atlas_source, default=None,
                   help="atlas .gpkg, .gdb or postgresql:// URL (default: embedded demo)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the atlas summary to stdout."""
    from .options import load_atlas

    atlas = load_atlas(args.path)
    out = sys.stdout
    out.write(f"{atlas.name}\n")
    out.write(f"CRS: {atlas.crs} (stored)   metric CRS: {atlas.metric_crs}\n\n")
    table = atlas.summary()[["layer", "features", "geometry", "status", "datum", "licence"]]
    out.write(table.to_string(index=False) + "\n\n")
    out.write("Sources:\n")
    for kind, prov in atlas.provenance.items():
        out.write(f"  {kind}: {prov['source']}\n")
        if prov.get("notes"):
            out.write(f"      note: {prov['notes']}\n")
    synthetic = [k for k in atlas if atlas.is_synthetic(k)]
    if synthetic:
        out.write(f"\nSynthetic data (not real records): {', '.join(synthetic)}\n")
    return 0
