"""``cci-geo optimise SCENARIO``: propose new CCI zones from a layout scenario (TOML)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]

logger = logging.getLogger(__name__)

EPILOG = """examples:
  cci-geo optimise scenarios/layout_new_zones.toml
  cci-geo optimise scenarios/layout_new_zones.toml --out results/ --overwrite
  cci-geo optimise my_scenario.toml --atlas my_atlas.gpkg
"""


def add_parser(subparsers: Any) -> None:
    """Register the ``optimise`` subcommand."""
    from .options import add_atlas_option

    p = subparsers.add_parser(
        "optimise", help="propose new CCI zones with a location model (layout scenario)",
        description=("Keep the existing zones, choose new ones among old factory sites as the "
                     "scenario says, and write the sites (GeoPackage), allocations, a "
                     "before/after summary (CSV) and an HTML map."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", type=Path, help="layout scenario TOML file")
    add_atlas_option(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write the outputs into DIR (default: the paths in [output])")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing output files (never done otherwise)")
    p.add_argument("--no-map", action="store_true", help="skip the HTML map")
    p.set_defaults(func=run)


def _paths(data: dict[str, Any], out: Path | None) -> dict[str, Path]:
    defaults = {"sites": "layout_sites.gpkg", "allocations": "layout_allocations.gpkg",
                "summary": "layout_summary.csv", "map": "layout.html"}
    paths = {}
    for key, name in defaults.items():
        p = Path(data.get("output", {}).get(key, name))
        paths[key] = out / p.name if out is not None else p
    return paths


def run(args: argparse.Namespace) -> int:
    """Run the scenario and write its outputs; return 0."""
    from .. import __version__
    from .._files import atomic_path, check_writable
    from ..layout import load_scenario, run_scenario
    from .options import load_atlas

    data = load_scenario(args.scenario)
    paths = _paths(data, args.out)
    for key, path in paths.items():
        if key != "map" or not args.no_map:
            check_writable(path, overwrite=args.overwrite)
    from tqdm import tqdm

    bar = tqdm(total=2 if args.no_map else 3, desc="optimise", unit="step", disable=None,
               file=sys.stderr)
    bar.set_postfix_str("solving")
    atlas = load_atlas(args.atlas)
    prop = run_scenario(data, atlas, base_dir=args.scenario.parent)
    bar.update()
    bar.set_postfix_str("writing tables")
    stamp = {"scenario": str(args.scenario), "cci_geo_version": __version__,
             "date": date.today().isoformat()}
    with atomic_path(paths["sites"], overwrite=args.overwrite) as tmp:
        prop.result.sites.to_file(tmp, layer="sites", driver="GPKG")
    with atomic_path(paths["allocations"], overwrite=args.overwrite) as tmp:
        prop.result.allocations.to_file(tmp, layer="allocations", driver="GPKG")
    with atomic_path(paths["summary"], overwrite=args.overwrite) as tmp:
        table = prop.table.copy()
        lines = [f"# {k}: {v}" for k, v in stamp.items()]
        lines.append(f"# model: {prop.result!r}")
        tmp.write_text("\n".join(lines) + "\n" + table.to_csv(), encoding="utf-8")
    written = [paths["sites"], paths["allocations"], paths["summary"]]
    bar.update()
    if not args.no_map:
        bar.set_postfix_str("drawing the map")
        try:
            from ..maps import briefing_map, save_html
        except ImportError as exc:
            logger.warning("maps module unavailable (%s); HTML map skipped", exc)
        else:
            m = briefing_map(atlas, prop, lang="zh")
            save_html(m, paths["map"], self_contained=True, overwrite=args.overwrite)
            written.append(paths["map"])
        bar.update()
    bar.close()
    out = sys.stdout
    out.write(f"{prop.result!r}\n")
    out.write(prop.table.to_string(float_format=lambda v: f"{v:,.3f}") + "\n")
    for path in written:
        out.write(f"wrote {path}\n")
    return 0
