"""``cci-geo briefing``: plan and run the briefing steps on an atlas, write one offline map."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ._i18n import map_lang
from .options import add_atlas_option, load_atlas

__all__ = ["add_parser", "run"]

EPILOG = """examples:
  cci-geo briefing                                  demo atlas -> maps/beijing_briefing.html
  cci-geo briefing --lang en --overwrite            English labels, replace the old file
  cci-geo briefing --atlas my_atlas.gpkg --title "Haidian creative industry"
                                                    -> maps/my_atlas_briefing.html
  cci-geo briefing --write-config briefing.toml     write every setting, commented
  cci-geo briefing --atlas my_atlas.gpkg --config briefing.toml --keep-going

Before any work the plan is printed: which steps run, which are skipped and why (a missing
layer or column and how to supply it). A failing step stops the run with its error (exit 1);
with --keep-going the map is written without it, the map and the summary list the failure,
and the exit status is still 1.

basemaps: none (default; the file then needs no internet), osm, cartodb, gaode (overlays are
shifted to GCJ-02 to match Gaode's tiles), tianditu (needs a key: --tianditu-key or the
TIANDITU_KEY environment variable).
"""

DEMO_OUT = Path("maps/beijing_briefing.html")


def add_parser(subparsers: Any) -> None:
    """Register the ``briefing`` subcommand."""
    p = subparsers.add_parser(
        "briefing", help="write a self-contained HTML briefing map of an atlas and its analyses",
        description=("Plan and run the briefing steps (concentration, accessibility, "
                     "suitability, layout, corridors) on an atlas and write one HTML map that "
                     "opens offline."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_atlas_option(p)
    p.add_argument("--config", type=Path, default=None, metavar="FILE",
                   help="briefing config (TOML); see --write-config")
    p.add_argument("--write-config", type=Path, default=None, metavar="FILE",
                   help="write the default config, commented, to FILE and stop")
    p.add_argument("--title", default=None, help="map title (default: the atlas's name)")
    p.add_argument("--subtitle", default=None, help="map subtitle")
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="map language (default: the config's, else zh)")
    p.add_argument("--basemap", default=None,
                   choices=("none", "osm", "cartodb", "gaode", "amap", "tianditu"),
                   help="background tiles (default: the config's, else none: offline)")
    p.add_argument("--tianditu-key", default=None, metavar="KEY",
                   help="Tianditu developer key (or set TIANDITU_KEY)")
    p.add_argument("--keep-going", action="store_true",
                   help="write the map even when a step fails (listed on the map; exit 1)")
    p.add_argument("--out", type=Path, default=None, metavar="PATH",
                   help=f"output map (default: {DEMO_OUT} for the demo, "
                        "maps/<atlas>_briefing.html otherwise)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing output files (never done otherwise)")
    p.set_defaults(func=run)


def _out(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    if args.atlas is None:
        return DEMO_OUT
    return Path("maps") / f"{Path(args.atlas).stem}_briefing.html"


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo briefing``; return the exit status."""
    from tqdm import tqdm

    from .._files import check_writable
    from ..errors import ParameterError
    from ..workflows import BriefingConfig, load_config, plan_briefing, run_briefing, write_config

    if args.write_config is not None:
        path = write_config(args.write_config, overwrite=args.overwrite)
        sys.stdout.write(f"wrote {path} (every setting at its default; edit, then pass "
                         "--config)\n")
        return 0
    out = _out(args)
    check_writable(out, overwrite=args.overwrite)  # refuse before minutes of analysis
    config = load_config(args.config) if args.config is not None else BriefingConfig()
    # --lang, else CCI_GEO_LANG, else the config's language
    lang = map_lang(args) if args.lang or os.environ.get("CCI_GEO_LANG") else None
    config = config.with_overrides(title=args.title, subtitle=args.subtitle, lang=lang,
                                   basemap=args.basemap)
    basemap = getattr(config, "basemap", args.basemap)
    if basemap == "tianditu" and not (args.tianditu_key or os.environ.get("TIANDITU_KEY")):
        msg = ("the tianditu basemap needs a developer key: pass --tianditu-key KEY or set the "
               "TIANDITU_KEY environment variable (or choose another --basemap).")
        raise ParameterError(msg)
    atlas = load_atlas(args.atlas, args.region)
    plan = plan_briefing(atlas, config)
    sys.stdout.write(f"briefing of {plan.title!r}: study region = "
                     f"{plan.region.attrs.get('derived_from', '')}\n{plan.table()}\n")
    sys.stdout.flush()
    bar = tqdm(total=len(plan.to_run) + 2, desc="briefing", unit="step", disable=None,
               file=sys.stderr)

    def progress(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update()

    try:
        result = run_briefing(atlas, out, plan=plan, keep_going=args.keep_going,
                              overwrite=args.overwrite, tianditu_key=args.tianditu_key,
                              progress=progress)
    finally:
        bar.close()
    sys.stdout.write(result.summary() + "\n")
    path = result.path or out
    size = path.stat().st_size / 1e6
    sys.stdout.write(f"wrote {path} ({size:.1f} MB; opens offline in any modern "
                     "browser)\n")
    if result.failed:
        names = ", ".join(o.name for o in result.failed)
        sys.stderr.write(f"cci-geo briefing: error: step(s) failed: {names} (left out of the "
                         "map, listed on it)\n")
        return 1
    return 0
