"""``cci-geo score SCENARIO``: rank candidate sites by a suitability scenario and write outputs."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .options import add_atlas_option, add_output_options, load_atlas

__all__ = ["add_parser", "run"]

if TYPE_CHECKING:
    from ..suitability import SuitabilityResult

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``score`` subcommand."""
    p = subparsers.add_parser(
        "score", help="score and rank candidate sites with a suitability scenario (TOML)",
        description=(
            "Score candidate sites against the weighted criteria of a TOML scenario (see the "
            "README section 'Site suitability'), and write into --out: a ranked CSV, a "
            "GeoPackage (sites, criteria, stability, provenance), one GeoTIFF per criterion "
            "plus the composite, a provenance JSON and an HTML map."),
    )
    p.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario TOML file")
    add_atlas_option(p)
    add_output_options(p, default_out="maps/suitability")
    p.add_argument("--no-sensitivity", action="store_true",
                   help="skip the Monte Carlo and one-at-a-time weight analysis")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="HTML map language")
    p.add_argument("--no-html", action="store_true", help="do not write the HTML map")
    p.set_defaults(func=run)


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


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo score``; return the exit status."""
    from tqdm import tqdm  # noqa: PLC0415

    from ..suitability import score  # noqa: PLC0415
    from ..suitability.outputs import output_paths  # noqa: PLC0415

    if not args.scenario.is_file():
        msg = f"scenario file {args.scenario} not found."
        raise FileNotFoundError(msg)
    steps = tqdm(total=3, desc="score", unit="step", disable=None, file=sys.stderr)
    atlas = load_atlas(args.atlas)
    steps.update()
    result = score(args.scenario, atlas=atlas, seed=args.seed,
                   sensitivity=False if args.no_sensitivity else None)
    steps.update()
    html = args.out / f"{output_paths(result, args.out)['csv'].stem.removesuffix('_ranking')}.html"
    if html.exists() and not args.overwrite:  # refuse before writing anything
        msg = f"{html} already exists; pass --overwrite to replace it."
        raise FileExistsError(msg)
    paths = result.to_files(args.out, overwrite=args.overwrite)
    if not args.no_html:
        written = _write_html(result, atlas, html, lang=args.lang, overwrite=args.overwrite)
        if written is not None:
            paths["html"] = written
    steps.update()
    steps.close()
    table = result.ranking()
    ranked = table[table["rank"].notna()]
    label = result.scenario.label_column
    cols = [c for c in (result.scenario.id_column, label, "score", "p_top_k") if c and c in table]
    sys.stdout.write(f"{result.scenario.name}: {len(ranked)} of {len(table)} sites ranked\n")
    sys.stdout.write(ranked[cols].head(10).to_string(index=False) + "\n")
    for role, p in paths.items():
        sys.stdout.write(f"  {role:<28} {p}\n")
    return 0
