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
            "park_scorecards.csv, designation_effect.csv (UTF-8 with BOM, opens in Excel) and "
            f"{MAP_NAME}."),
        epilog="example: cci-geo monitor --out out/monitoring --years 2012-2025 --lang en",
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
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="HTML map language")
    p.add_argument("--no-html", action="store_true", help="do not write the HTML map")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo monitor``; return the exit status."""
    from .._files import atomic_path  # noqa: PLC0415
    from ..monitoring.report import monitor  # noqa: PLC0415

    out: Path = args.out
    targets = [out / f"{name}.csv" for name in TABLES]
    if not args.no_html:
        targets.append(out / MAP_NAME)
    existing = [str(t) for t in targets if t.exists()]
    if existing and not args.overwrite:  # refuse before computing or writing anything
        msg = f"{', '.join(existing)} already exist(s); pass --overwrite to replace."
        raise FileExistsError(msg)
    atlas = load_atlas(args.atlas)
    report = monitor(atlas, years=args.years, cell_size_m=args.cell_size_m, k=args.k,
                     alpha=args.alpha, n_permutations=args.permutations, seed=args.seed,
                     progress=True)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in report.tables().items():
        with atomic_path(out / f"{name}.csv", overwrite=args.overwrite) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8-sig")
    if not args.no_html:
        from .. import maps  # noqa: PLC0415

        ehs = maps.derived_from(report.emerging, atlas, "enterprises")
        cards = maps.derived_from(report.scorecards, atlas, "enterprises")
        title = ("政策是否见效？文创企业的时空变化" if args.lang == "zh"
                 else "Is the policy working? Creative enterprises over time")
        m = maps.briefing_map(atlas, ehs, cards, lang=args.lang, title=title,
                              notes=[f"{k}: {v}" for k, v in report.parameters.items()])
        maps.save_html(m, out / MAP_NAME, self_contained=True, overwrite=args.overwrite)
    counts = report.emerging["category"].value_counts()
    sys.stdout.write(f"emerging hot spots ({report.parameters['years']}, "
                     f"{len(report.emerging)} cells):\n")
    sys.stdout.write(counts.to_string() + "\n")
    if report.effect is not None:
        e = report.effect
        sys.stdout.write(f"designation effect: T={e.statistic:.3f} (log growth), "
                         f"p={e.p_value:.4f}, {e.n_areas} areas, seed {e.seed}\n")
    sys.stdout.write(json.dumps(report.parameters, ensure_ascii=False) + "\n")
    for t in targets:
        sys.stdout.write(f"  {t}\n")
    return 0
