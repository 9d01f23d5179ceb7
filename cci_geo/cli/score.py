"""``cci-geo score SCENARIO``: rank candidate sites by a suitability scenario and write outputs."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MissingFileError, OutputExistsError
from ._i18n import cli_lang, map_lang, msg
from .options import add_atlas_option, add_output_options, add_scheduler_option, load_atlas

__all__ = ["add_parser", "run"]

if TYPE_CHECKING:
    from ..suitability import SuitabilityResult

logger = logging.getLogger(__name__)

EPILOG = """examples:
  cci-geo score scenarios/old_factory_reuse.toml --out out/suitability
                                        rank the demo's vacant factory sites
  cci-geo score scenarios/old_factory_reuse.toml --out out/suitability --xlsx --overwrite
                                        also write one Excel workbook of every table
  cci-geo score my_scenario.toml --atlas my_atlas.gpkg --no-sensitivity --lang zh
                                        your own data, quicker, Chinese summary and map
  CCI_GEO_LANG=zh cci-geo score scenarios/old_factory_reuse.toml
                                        Chinese by default for every command
  cci-geo score region_30m.toml --atlas jjj.gpkg --chunk-cells 2048 --scheduler local
                                        a region-wide grid, window by window on Dask,
                                        into Cloud-Optimised GeoTIFFs
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``score`` subcommand."""
    p = subparsers.add_parser(
        "score", help="score and rank candidate sites with a suitability scenario (TOML)",
        description=(
            "Score candidate sites against the weighted criteria of a TOML scenario (see the "
            "README section 'Site suitability'), and write into --out: a ranked CSV, a "
            "GeoPackage (sites, criteria, stability, provenance), one GeoTIFF per criterion "
            "plus the composite, a provenance JSON, an HTML map and a what-if HTML map (move the "
            "weights in the browser, offline, and see the ranking change). The CSV opens in Excel "
            "as is (UTF-8 with BOM, bilingual headers with units)."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    add_atlas_option(p)
    add_output_options(p, default_out="maps/suitability")
    p.add_argument("--no-sensitivity", action="store_true",
                   help="skip the Monte Carlo and one-at-a-time weight analysis")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="language of the map and the messages (default: CCI_GEO_LANG, else "
                        "map zh and messages en)")
    p.add_argument("--no-html", action="store_true", help="do not write the HTML map")
    p.add_argument("--xlsx", action="store_true",
                   help="also write <name>.xlsx: a sheet per table, a sources sheet")
    p.add_argument("--chunk-cells", type=int, default=None, metavar="N",
                   help="compute the grid in windows of N x N cells and write the composite "
                        "and value layers as Cloud-Optimised GeoTIFFs (region-scale grids; "
                        "implied by --scheduler)")
    p.add_argument("--compress", choices=("deflate", "zstd"), default="deflate",
                   help="compression of the Cloud-Optimised GeoTIFFs of --chunk-cells / "
                        "--scheduler runs: deflate (every reader) or zstd (about 3x faster to "
                        "write; GDAL >= 2.3, QGIS)")
    add_scheduler_option(p)
    p.set_defaults(func=run)


def _run_chunked(args: argparse.Namespace, atlas: object, lang: str) -> int:
    from ..settings import Settings  # noqa: PLC0415
    from ..suitability import score_chunked  # noqa: PLC0415

    settings = Settings(scheduler=args.scheduler, progress=True)
    res = score_chunked(args.scenario, args.out, atlas=atlas, seed=args.seed,  # type: ignore[arg-type]
                        sensitivity=False if args.no_sensitivity else None,
                        chunk_cells=args.chunk_cells or 2048, settings=settings,
                        overwrite=args.overwrite, compress=args.compress)
    table = res.site_result.ranking()
    csv = args.out / f"{res.site_result.scenario.name}_ranking.csv"
    if csv.exists() and not args.overwrite:
        raise OutputExistsError(msg("exists", "en", path=csv))
    table.to_csv(csv, index=False, encoding="utf-8-sig")
    ranked = int(table["rank"].notna().sum())
    sys.stdout.write(msg("ranked", lang, name=res.site_result.scenario.name, ranked=ranked,
                         total=len(table)) + "\n")
    for role, p in {**res.files, "ranking": csv}.items():
        sys.stdout.write(f"  {role:<28} {p}\n")
    return 0


def _write_html(result: SuitabilityResult, atlas: object, path: Path, *, lang: str,
                overwrite: bool) -> Path | None:
    try:
        from .. import maps  # noqa: PLC0415 - optional; the map is skipped without it
        from ..maps.labels import check_lang  # noqa: PLC0415
    except ImportError as exc:
        logger.warning("HTML map skipped: cci_geo.maps is not available (%s)", exc)
        return None
    m = maps.briefing_map(atlas, result.composite, result.sites,
                          lang=check_lang(lang), title=result.scenario.name)
    return maps.save_html(m, path, self_contained=True, overwrite=overwrite)


def _write_whatif(result: SuitabilityResult, atlas: Any, path: Path, *, lang: str,
                  overwrite: bool) -> Path:
    from ..maps.labels import check_lang  # noqa: PLC0415
    from ..maps.whatif import save_whatif_html  # noqa: PLC0415

    context = {k: atlas[k] for k in ("districts", "zones") if k in atlas}
    return save_whatif_html(result, path, context, lang=check_lang(lang), overwrite=overwrite)


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo score``; return the exit status.

    Cheap checks (seed, scenario file, output folder and every output name) run before the
    analysis; the outputs (tables, rasters, maps, provenance last) are one transaction.
    """
    from tqdm import tqdm  # noqa: PLC0415

    from .._files import transaction  # noqa: PLC0415
    from .._validate import check_seed  # noqa: PLC0415
    from ..suitability import load_scenario, score  # noqa: PLC0415
    from ..suitability.outputs import check_outputs, output_names, stage_outputs  # noqa: PLC0415
    from ..tables import readable  # noqa: PLC0415

    lang = cli_lang(args)
    check_seed(args.seed)
    if not args.scenario.is_file():
        raise MissingFileError(msg("scenario_not_found", "en", path=args.scenario))
    if args.chunk_cells or args.scheduler:
        return _run_chunked(args, load_atlas(args.atlas, args.region), lang)
    scenario = load_scenario(args.scenario)
    crit_names = [c.name for c in scenario.criteria]
    check_outputs(scenario.name, crit_names, args.out, overwrite=args.overwrite,
                  xlsx=args.xlsx, html=not args.no_html)
    steps = tqdm(total=3, desc="score", unit="step", disable=None, file=sys.stderr)
    steps.set_postfix_str(msg("atlas", lang))
    atlas = load_atlas(args.atlas, args.region)
    steps.update()
    steps.set_postfix_str(msg("scoring", lang))
    result = score(scenario, atlas=atlas, seed=args.seed,
                   sensitivity=False if args.no_sensitivity else None)
    steps.update()
    steps.set_postfix_str(msg("writing", lang))
    names = output_names(scenario.name, crit_names, xlsx=args.xlsx)
    with transaction(args.out, overwrite=args.overwrite, manifest=names["provenance"]) as stage:
        paths = stage_outputs(result, stage, xlsx=args.xlsx, districts=atlas.get("districts"))
        if not args.no_html:
            staged = _write_html(result, atlas, stage.path(names["html"]), lang=map_lang(args),
                                 overwrite=True)
            if staged is not None:
                paths["html"] = args.out / names["html"]
                _write_whatif(result, atlas, stage.path(names["whatif html"]),
                              lang=map_lang(args), overwrite=True)
                paths["whatif html"] = args.out / names["whatif html"]
    steps.update()
    steps.close()
    table = result.ranking()
    ranked = table[table["rank"].notna()]
    label = "name_zh" if lang == "zh" and "name_zh" in table else result.scenario.label_column
    cols = [c for c in (result.scenario.id_column, label, "score", "p_top_k") if c and c in table]
    sys.stdout.write(msg("ranked", lang, name=result.scenario.name, ranked=len(ranked),
                         total=len(table)) + "\n")
    sys.stdout.write(readable(ranked[cols].head(10), lang=lang).to_string(index=False) + "\n")
    for role, p in paths.items():
        sys.stdout.write(f"  {role:<28} {p}\n")
    return 0
