"""``cci-geo optimise SCENARIO``: propose new CCI zones from a layout scenario (TOML)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import ScenarioError

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
        description=("Keep the existing zones (if the atlas has any), choose new ones among "
                     "old factory sites as the scenario says, and write the sites (GeoPackage), "
                     "allocations, a before/after summary (CSV) and an HTML map."),
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
    p.add_argument("--allow-outside-out", action="store_true",
                   help="let [output] paths in the scenario point outside the output folder "
                        "(absolute or '..' paths); refused otherwise")
    p.set_defaults(func=run)


def _paths(data: dict[str, Any], out: Path | None, *,
           allow_outside: bool = False) -> tuple[Path, dict[str, str]]:
    """Return the output folder and each output's path relative to it.

    With ``--out`` the outputs go into that folder under their file names; otherwise into the
    working directory under the [output] names, which must stay inside it unless
    ``allow_outside`` (``--allow-outside-out``).
    """
    import os

    from .._files import safe_relative

    defaults = {"sites": "layout_sites.gpkg", "allocations": "layout_allocations.gpkg",
                "summary": "layout_summary.csv", "map": "layout.html"}
    base = out if out is not None else Path()
    targets: dict[str, Path] = {}
    for key, name in defaults.items():
        given = str(data.get("output", {}).get(key, name))
        if out is not None:
            given = Path(given).name  # --out collects the files by name
        targets[key] = safe_relative(given, base, what=f"[output] {key}",
                                     allow_outside=allow_outside)
    absolute = {k: Path(t).resolve() for k, t in targets.items()}
    root = Path(os.path.commonpath([t.parent for t in absolute.values()]))
    rel = {k: Path(os.path.relpath(t, root)).as_posix() for k, t in absolute.items()}
    summary = Path(rel["summary"])
    rel["metadata"] = summary.with_name(summary.stem + "_metadata.json").as_posix()
    rel["xlsx"] = summary.with_name(summary.stem.removesuffix("_summary") + ".xlsx").as_posix()
    shown = Path(os.path.relpath(root))
    return (root if shown.parts[:1] == ("..",) else shown), rel


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
    from .._files import check_writable, transaction
    from ..layout import load_scenario, run_scenario
    from ..tables import write_csv, write_xlsx
    from ._i18n import cli_lang, map_lang, msg
    from .options import load_atlas

    lang = cli_lang(args)
    data = load_scenario(args.scenario)
    root, rel = _paths(data, args.out, allow_outside=args.allow_outside_out)
    if args.no_map:
        rel.pop("map")
    if not args.xlsx:
        rel.pop("xlsx")
    if len(set(rel.values())) < len(rel):
        msg_ = f"two [output] entries name the same file: {rel}; give each its own name."
        raise ScenarioError(msg_)
    for name in rel.values():  # cheap checks before the solve
        check_writable(root / name, overwrite=args.overwrite)
    from tqdm import tqdm

    bar = tqdm(total=2 if args.no_map else 3, desc="optimise", unit="step", disable=None,
               file=sys.stderr)
    bar.set_postfix_str(msg("solving", lang))
    atlas = load_atlas(args.atlas, args.region)
    prop = run_scenario(data, atlas, base_dir=args.scenario.parent)
    bar.update()
    bar.set_postfix_str(msg("writing tables", lang))
    stamp = {"scenario": str(args.scenario), "cci_geo_version": __version__,
             "date": date.today().isoformat(), "model": repr(prop.result)}
    tables = _tables(prop, atlas)
    # one transaction: every file is staged, then all move into place, the summary last
    with transaction(root, overwrite=args.overwrite, manifest=rel["summary"]) as stage:
        prop.result.sites.to_file(stage.path(rel["sites"]), layer="sites", driver="GPKG")
        prop.result.allocations.to_file(stage.path(rel["allocations"]), layer="allocations",
                                        driver="GPKG")
        stage.path(rel["metadata"])  # written by write_csv beside the summary
        write_csv(tables["summary"], stage.path(rel["summary"]), metadata=stamp, overwrite=True)
        keys = ["sites", "allocations", "summary", "metadata"]
        if args.xlsx:
            write_xlsx(tables, stage.path(rel["xlsx"]),
                       sources=getattr(atlas, "provenance", None), metadata=stamp,
                       overwrite=True)
            keys.append("xlsx")
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
                save_html(m, stage.path(rel["map"]), self_contained=True, overwrite=True)
                keys.append("map")
            bar.update()
    written = [root / rel[k] for k in keys]
    bar.close()
    out = sys.stdout
    out.write(f"{prop.result!r}\n")
    from ..tables import readable

    out.write(readable(tables["summary"], lang=lang).to_string(index=False) + "\n")
    for path in written:
        out.write(msg("wrote", lang, path=path) + "\n")
    return 0
