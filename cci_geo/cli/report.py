"""``cci-geo report``: run the briefing's analyses and write a printable PDF briefing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._i18n import cli_lang, map_lang, msg
from .options import add_atlas_option, add_output_options, load_atlas

__all__ = ["add_parser", "run"]

EPILOG = """examples:
  cci-geo report                                   demo atlas -> maps/beijing_briefing.pdf (A4, zh)
  cci-geo report --lang en --paper A3 --overwrite  English, A3 pages
  cci-geo report --extent 116.2 39.8 116.6 40.1 --title "朝阳区文创简报"
                                                   frame every map on central Beijing
  cci-geo report --atlas my_atlas.gpkg --out out/briefing.pdf
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report", help="write a printable PDF briefing: maps, key tables, methods, sources",
        description=("Run the briefing's analyses on an atlas and write an A4 or A3 PDF: title "
                     "and date, maps with legend, scale bar and north arrow, the top sites with "
                     "each criterion's contribution, location quotients by district, proposed "
                     "zones, a methods paragraph per analysis and the data sources (synthetic "
                     "and approximate inputs flagged). Chinese fonts are embedded."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_atlas_option(p)
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="report language (default: CCI_GEO_LANG, else zh)")
    p.add_argument("--paper", choices=("A4", "A3"), default="A4", help="paper size (A4)")
    p.add_argument("--title", default=None, help="cover title (default: the atlas's name)")
    p.add_argument("--extent", type=float, nargs=4, default=None,
                   metavar=("WEST", "SOUTH", "EAST", "NORTH"),
                   help="frame the maps on this box in degrees (default: the study region)")
    add_output_options(p, default_out="maps/beijing_briefing.pdf")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo report``; return the exit status."""
    from tqdm import tqdm

    from .._files import check_writable
    from ..reports import write_report
    from ..workflows import BriefingConfig, plan_briefing, run_plan

    lang = cli_lang(args)
    check_writable(args.out, overwrite=args.overwrite)  # refuse before minutes of analysis
    bar = tqdm(total=7, desc="report", unit="step", disable=None, file=sys.stderr)

    def progress(name: str) -> None:
        bar.set_postfix_str(msg(name, lang))
        bar.update()

    progress("atlas")
    atlas = load_atlas(args.atlas, args.region)
    lang_map = map_lang(args)
    plan = plan_briefing(atlas, BriefingConfig(lang=lang_map, title=args.title))
    run_ = run_plan(plan, progress=progress)
    progress("report")
    path = write_report(plan.atlas, *run_.results, path=Path(args.out), lang=lang_map,
                        title=plan.title, paper=args.paper,
                        extent=tuple(args.extent) if args.extent else plan.view,
                        notes=run_.notes(lang_map), overwrite=args.overwrite)
    bar.close()
    sys.stdout.write(msg("wrote", lang, path=path) + "\n")
    return 0
