"""``cci-geo info [PATH]``: summarise an atlas (the embedded demo by default)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._i18n import cli_lang, msg
from .options import add_region_option, atlas_source

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the ``info`` subcommand."""
    p = subparsers.add_parser(
        "info", help="summarise an atlas: layers, counts, CRS, provenance",
        description="Summarise an atlas GeoPackage, File Geodatabase or PostGIS database "
                    "(default: the embedded Beijing demo).",
        epilog="examples:\n  cci-geo info\n  cci-geo info my_atlas.gpkg\n"
               "  cci-geo info planning.gdb\n  cci-geo info postgresql://planner@db/cci\n"
               "  cci-geo info shanghai.gpkg --region 120.85 30.67 122.2 31.88",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", nargs="?", type=atlas_source, default=None,
                   help="atlas .gpkg, .gdb or postgresql:// URL (default: embedded demo)")
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="language of the summary (default: CCI_GEO_LANG, else en)")
    add_region_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the atlas summary to stdout (in Chinese with ``--lang zh`` or ``CCI_GEO_LANG=zh``)."""
    import pandas as pd

    from .options import load_atlas

    atlas = load_atlas(args.path, args.region)
    lang = cli_lang(args)
    out = sys.stdout
    name = (atlas.name_zh or atlas.name) if lang == "zh" else atlas.name
    out.write(f"{name}\n")
    out.write(msg("crs_line", lang, crs=atlas.crs, metric_crs=atlas.metric_crs) + "\n\n")
    columns = ["layer", "features", "geometry", "status", "datum", "licence"]
    table = atlas.summary()[columns].rename(columns={c: msg(f"col_{c}", lang) for c in columns})
    with pd.option_context("display.unicode.east_asian_width", lang == "zh"):  # align 图层...
        out.write(table.to_string(index=False) + "\n\n")
    out.write(msg("sources", lang) + "\n")
    for kind, prov in atlas.provenance.items():
        out.write(f"  {kind}: {prov['source']}\n")
        if prov.get("notes"):
            out.write(f"      {msg('note', lang)}: {prov['notes']}\n")
    synthetic = [k for k in atlas if atlas.is_synthetic(k)]
    if synthetic:
        out.write("\n" + msg("synthetic", lang, layers=", ".join(synthetic)) + "\n")
    return 0
