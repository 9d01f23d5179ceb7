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
                              write the outputs named in the scenario's [output]
  cci-geo optimise scenarios/layout_new_zones.toml --out results/ --overwrite --xlsx
                              into results/, replacing old files, plus an Excel workbook
  cci-geo optimise my_scenario.toml --atlas my_atlas.gpkg --lang zh
                              your own atlas, Chinese messages and map
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
    p.add_argument("--xlsx", action="store_true",
                   help="also write <summary>.xlsx: summary and sites sheets, a sources sheet")
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="language of the map and the messages (default: CCI_GEO_LANG, else "
                        "map zh and messages en)")
    p.set_defaults(func=run)


def _paths(data: dict[str, Any], out: Path | None) -> dict[str, Path]:
    defaults = {"sites": "layout_sites.gpkg", "allocations": "layout_allocations.gpkg",
                "summary": "layout_summary.csv", "map": "layout.html"}
    paths = {}
    for key, name in defaults.items():
        p = Path(data.get("output", {}).get(key, name))
        paths[key] = out / p.name if out is not None else p
    summary = paths["summary"]
    paths["metadata"] = summary.with_name(summary.stem + "_metadata.json")
    paths["xlsx"] = summary.with_name(summary.stem.removesuffix("_summary") + ".xlsx")
    return paths


def _tables(prop: Any, atlas: Any) -> dict[str, Any]:
    """The summary (per district, with names) and the sites table, as a person reads them."""
    from ..tables import add_district_names

    districts = atlas.get("districts")
    summary = prop.table.copy()
    sites = prop.result.sites.drop(columns="geometry", errors="ignore")
    if districts is not None:
        summary = add_district_names(summary, districts)
        sites = add_district_names(sites, districts)
        summary.loc[summary["district"] == "total", ["district_zh", "district_en"]] = [
            "合计", "Total"]
    return {"summary": summary, "sites": sites}


def run(args: argparse.Namespace) -> int:
    """Run the scenario and write its outputs; return 0."""
    from .. import __version__
    from .._files import atomic_path, check_writable
    from ..layout import load_scenario, run_scenario
    from ..tables import write_csv, write_xlsx
    from ._i18n import cli_lang, map_lang, msg
    from .options import load_atlas

    lang = cli_lang(args)
    data = load_scenario(args.scenario)
    paths = _paths(data, args.out)
    for key, path in paths.items():
        if (key != "map" or not args.no_map) and (key != "xlsx" or args.xlsx):
            check_writable(path, overwrite=args.overwrite)
    from tqdm import tqdm

    bar = tqdm(total=2 if args.no_map else 3, desc="optimise", unit="step", disable=None,
               file=sys.stderr)
    bar.set_postfix_str(msg("solving", lang))
    atlas = load_atlas(args.atlas)
    prop = run_scenario(data, atlas, base_dir=args.scenario.parent)
    bar.update()
    bar.set_postfix_str(msg("writing tables", lang))
    stamp = {"scenario": str(args.scenario), "cci_geo_version": __version__,
             "date": date.today().isoformat()}
    with atomic_path(paths["sites"], overwrite=args.overwrite) as tmp:
        prop.result.sites.to_file(tmp, layer="sites", driver="GPKG")
    with atomic_path(paths["allocations"], overwrite=args.overwrite) as tmp:
        prop.result.allocations.to_file(tmp, layer="allocations", driver="GPKG")
    stamp["model"] = repr(prop.result)
    tables = _tables(prop, atlas)
    write_csv(tables["summary"], paths["summary"], metadata=stamp, overwrite=args.overwrite)
    written = [paths["sites"], paths["allocations"], paths["summary"], paths["metadata"]]
    if args.xlsx:
        write_xlsx(tables, paths["xlsx"], sources=getattr(atlas, "provenance", None),
                   metadata=stamp, overwrite=args.overwrite)
        written.append(paths["xlsx"])
    bar.update()
    if not args.no_map:
        bar.set_postfix_str(msg("drawing the map", lang))
        try:
            from ..maps import briefing_map, save_html
            from ..maps.labels import check_lang
        except ImportError as exc:
            logger.warning("maps module unavailable (%s); HTML map skipped", exc)
        else:
            m = briefing_map(atlas, prop, lang=check_lang(map_lang(args)))
            save_html(m, paths["map"], self_contained=True, overwrite=args.overwrite)
            written.append(paths["map"])
        bar.update()
    bar.close()
    out = sys.stdout
    out.write(f"{prop.result!r}\n")
    from ..tables import readable

    out.write(readable(tables["summary"], lang=lang).to_string(index=False) + "\n")
    for path in written:
        out.write(msg("wrote", lang, path=path) + "\n")
    return 0
