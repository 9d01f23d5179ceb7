"""``cci-geo monitor``: emerging hot spots, target progress and park scorecards of an atlas."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .options import add_atlas_option, add_output_options, load_atlas

__all__ = ["add_parser", "run"]

logger = logging.getLogger(__name__)

TABLES = ("emerging_hot_spots", "target_progress", "park_scorecards", "designation_effect")
MAP_NAME = "monitoring_map.html"
XLSX_NAME = "monitoring.xlsx"


EXAMPLES = """examples:
  cci-geo monitor --overwrite           monitor the demo atlas 2012-2025 into maps/monitoring
  cci-geo monitor --atlas my_atlas.gpkg --years 2015-2024 --out out/monitoring --xlsx
                                        a planner's atlas, with an Excel workbook
  cci-geo monitor --cell-size-m 2000 --k 2 --lang en
                                        coarser grid, two previous years in the neighbourhood
"""


def _years(text: str) -> range:
    try:
        first, last = (int(v) for v in text.split("-", 1))
    except ValueError:
        msg = f"--years must look like 2012-2025, got {text!r}."
        raise argparse.ArgumentTypeError(msg) from None
    return range(first, last + 1)


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``monitor`` subcommand."""
    p = subparsers.add_parser(
        "monitor", help="is the policy working? emerging hot spots, targets, park scorecards",
        description=(
            "Monitor an atlas over time (enterprises with founded/closed years and the "
            "enterprise_years table): emerging hot spot categories on a grid, progress toward "
            "the 2018 Opinions' enterprise targets (PT21-PT24) by year, and scorecards of the "
            "designated areas against matched comparison areas with a permutation test. "
            "Writes into --out: emerging_hot_spots.csv, target_progress.csv, "
            "park_scorecards.csv, designation_effect.csv (UTF-8 with BOM, opens in Excel; "
            "each with a _metadata.json sidecar), optionally monitoring.xlsx, and "
            f"{MAP_NAME}."),
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_atlas_option(p)
    add_output_options(p, default_out="maps/monitoring")
    p.add_argument("--years", type=_years, default=None, metavar="FIRST-LAST",
                   help="years to analyse (default: those of the enterprise_years table)")
    p.add_argument("--cell-size-m", type=float, default=1000.0,
                   help="grid cell edge in metres (default 1000)")
    p.add_argument("--k", type=int, default=1,
                   help="previous years in the Gi* neighbourhood (default 1)")
    p.add_argument("--alpha", type=float, default=0.10,
                   help="significance of hot/cold spots and trends (default 0.10)")
    p.add_argument("--permutations", type=int, default=9999,
                   help="permutations of the designation test (default 9999)")
    p.add_argument("--seed", type=int, default=2018, help="seed of the permutation test")
    p.add_argument("--lang", choices=("zh", "en"), default=None,
                   help="language of the map and the messages (default: CCI_GEO_LANG, else "
                        "Chinese maps and English messages)")
    p.add_argument("--xlsx", action="store_true",
                   help="also write monitoring.xlsx: a sheet per table, a sources sheet")
    p.add_argument("--no-html", action="store_true", help="do not write the HTML map")
    p.set_defaults(func=run)


def _targets(args: argparse.Namespace) -> tuple[dict[str, Path], list[Path]]:
    out: Path = args.out
    csvs = {name: out / f"{name}.csv" for name in TABLES}
    others = [p.with_name(p.stem + "_metadata.json") for p in csvs.values()]
    if args.xlsx:
        others.append(out / XLSX_NAME)
    if not args.no_html:
        others.append(out / MAP_NAME)
    return csvs, others


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo monitor``; return the exit status."""
    from .._files import check_writable  # noqa: PLC0415
    from ..monitoring.report import MONITORING_COLUMNS, monitor  # noqa: PLC0415
    from ..tables import write_csv, write_xlsx  # noqa: PLC0415
    from ._i18n import map_lang  # noqa: PLC0415

    csvs, others = _targets(args)
    for path in [*csvs.values(), *others]:  # refuse before computing or writing anything
        check_writable(path, overwrite=args.overwrite)
    atlas = load_atlas(args.atlas, args.region)
    report = monitor(atlas, years=args.years, cell_size_m=args.cell_size_m, k=args.k,
                     alpha=args.alpha, n_permutations=args.permutations, seed=args.seed,
                     progress=True)
    tables = report.tables()
    meta = dict(report.parameters)
    for name, path in csvs.items():
        write_csv(tables[name], path, columns=MONITORING_COLUMNS, metadata=meta,
                  overwrite=args.overwrite)
    if args.xlsx:
        write_xlsx(tables, args.out / XLSX_NAME, sources=atlas.provenance, metadata=meta,
                   columns=MONITORING_COLUMNS, overwrite=args.overwrite)
    if not args.no_html:
        from .. import maps  # noqa: PLC0415

        lang = map_lang(args)
        ehs = maps.derived_from(report.emerging, atlas, "enterprises")
        cards = maps.derived_from(report.scorecards, atlas, "enterprises")
        title = ("政策是否见效？文创企业的时空变化" if lang == "zh"
                 else "Is the policy working? Creative enterprises over time")
        m = maps.briefing_map(atlas, ehs, cards, lang=lang, title=title,  # type: ignore[arg-type]
                              notes=[f"{k}: {v}" for k, v in report.parameters.items()])
        maps.save_html(m, args.out / MAP_NAME, self_contained=True, overwrite=args.overwrite)
    counts = report.emerging["category"].value_counts()
    sys.stdout.write(f"emerging hot spots ({report.parameters['years']}, "
                     f"{len(report.emerging)} cells):\n")
    sys.stdout.write(counts.to_string() + "\n")
    if report.effect is not None:
        e = report.effect
        sys.stdout.write(f"designation effect: T={e.statistic:.3f} (log growth), "
                         f"p={e.p_value:.4f}, {e.n_areas} areas, seed {e.seed}\n")
    sys.stdout.write(json.dumps(report.parameters, ensure_ascii=False) + "\n")
    for path in [*csvs.values(), *others]:
        if path.exists():
            sys.stdout.write(f"  {path}\n")
    return 0
