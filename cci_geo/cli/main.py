"""Entry point of the ``cci-geo`` command.

Each subcommand lives in its own module of this package and exposes ``add_parser(subparsers)``;
the names are listed in :data:`COMMANDS`. This module only sets up logging and dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import CciGeoError
from ._i18n import cli_lang, localise_error, msg

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[str, ...] = ("info", "validate", "score", "optimise", "briefing", "report",
                            "monitor")

EPILOG = """examples:
  cci-geo briefing --overwrite          run every analysis on the demo, write
                                        maps/beijing_briefing.html (opens offline)
  cci-geo report --overwrite            the same analyses as a printable PDF briefing
                                        (maps/beijing_briefing.pdf, A4, Chinese)
  cci-geo info                          summarise the embedded Beijing demo atlas
  cci-geo info my_atlas.gpkg            summarise an atlas GeoPackage
  cci-geo validate parks.shp --kind zones
                                        report every problem in a planner's layer
  cci-geo score scenarios/old_factory_reuse.toml --out out/suitability
                                        rank old factory sites for creative reuse
  cci-geo optimise scenarios/layout_new_zones.toml --out out/layout
                                        propose new CCI zones
  cci-geo monitor --overwrite           is the policy working? emerging hot spots, targets
                                        and park scorecards 2012-2025
  cci-geo --lang zh score scenarios/old_factory_reuse.toml --xlsx
                                        Chinese messages; tables also as one Excel workbook
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="cci-geo",
        description="GIS toolkit for planning Beijing's cultural and creative industry.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cci-geo {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="less log output")
    parser.add_argument("--lang", dest="cli_lang", choices=("zh", "en"), default=None,
                        help="language of messages and maps (default: CCI_GEO_LANG, else en)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __package__).add_parser(sub)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(level=max(logging.DEBUG, min(logging.CRITICAL, level)),
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cci-geo`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    _configure_logging(args.verbose - args.quiet)
    try:
        return int(args.func(args))
    except (CciGeoError, FileExistsError, FileNotFoundError) as exc:
        lang = cli_lang(args)
        sys.stderr.write(msg("error", lang, command=args.command,
                             message=localise_error(exc, lang)) + "\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
