"""``cci-geo briefing``: run the analyses on an atlas and write a self-contained briefing map."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .options import add_atlas_option, add_output_options, load_atlas

__all__ = ["add_parser", "run"]

EPILOG = """examples:
  cci-geo briefing                                  demo atlas -> maps/beijing_briefing.html
  cci-geo briefing --lang en --overwrite            English labels, replace the old file
  cci-geo briefing --atlas my_atlas.gpkg --basemap gaode --out maps/my_briefing.html

basemaps: none (default; the file then needs no internet), osm, cartodb, gaode (overlays are
shifted to GCJ-02 to match Gaode's tiles), tianditu (needs a key: --tianditu-key or the
TIANDITU_KEY environment variable).
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``briefing`` subcommand."""
    p = subparsers.add_parser(
        "briefing", help="write a self-contained HTML briefing map of an atlas and its analyses",
        description=("Run the available analyses (concentration, accessibility, suitability, "
                     "layout, corridors) on an atlas and write one HTML map that opens offline."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_atlas_option(p)
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="map language (zh)")
    p.add_argument("--basemap", default="none",
                   choices=("none", "osm", "cartodb", "gaode", "amap", "tianditu"),
                   help="background tiles (none: offline)")
    p.add_argument("--tianditu-key", default=None, metavar="KEY",
                   help="Tianditu developer key (or set TIANDITU_KEY)")
    add_output_options(p, default_out="maps/beijing_briefing.html")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo briefing``; return the exit status."""
    from tqdm import tqdm

    from ..maps import run_briefing

    if args.out.exists() and not args.overwrite:  # refuse before minutes of analysis
        msg = f"{args.out} already exists; pass --overwrite to replace it."
        raise FileExistsError(msg)
    steps = ("atlas", "concentration", "accessibility", "suitability", "layout", "corridors",
             "map", "write")
    bar = tqdm(total=len(steps), desc="briefing", unit="step", disable=None, file=sys.stderr)

    def progress(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update()

    progress("atlas")
    atlas = load_atlas(args.atlas)
    path = run_briefing(atlas, args.out, lang=args.lang, basemap=args.basemap,
                        overwrite=args.overwrite, tianditu_key=args.tianditu_key,
                        progress=progress)
    bar.close()
    size = path.stat().st_size / 1e6
    sys.stdout.write(f"wrote {path} ({size:.1f} MB; opens offline in any modern browser)\n")
    return 0
