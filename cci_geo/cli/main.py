"""Entry point of the ``cci-geo`` command.

Each subcommand lives in its own module of this package and exposes ``add_parser(subparsers)``;
the names are listed in :data:`COMMANDS`. This module sets up logging, dispatches and applies
the error contract (see :mod:`cci_geo.errors`): one message and exit status 1 for a user error,
2 for a usage error, 130 when interrupted, 70 with a request to report for a bug; ``--debug``
adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType

from .. import __version__
from ..errors import CciGeoError
from ._i18n import cli_lang, localise_error, msg

__all__ = ["COMMANDS", "EXIT_BUG", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_USAGE",
           "build_parser", "main"]

EXIT_ERROR = 1
"""Bad data, bad arguments, an output that exists: the message says what and how to fix it."""
EXIT_USAGE = 2
"""The command line itself is wrong (reported by the argument parser)."""
EXIT_BUG = 70
"""An unexpected internal error: please report it with the ``--debug`` output."""
EXIT_INTERRUPTED = 130
"""Interrupted by Ctrl-C (SIGINT) or SIGTERM; no output or temporary file is left."""
EXIT_BROKEN_PIPE = 141
"""The reader of the output went away (``cci-geo info | head``): stop quietly, as Unix tools do."""

ISSUES_URL = "the cci_geo issue tracker"

COMMANDS: tuple[str, ...] = ("info", "validate", "score", "optimise", "briefing", "report",
                            "monitor", "density")

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
  cci-geo density 'registry/*.parquet' --bandwidth-m 2000 --scheduler local
                                        kernel density of a GeoParquet registry on Dask
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
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (for bug reports)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __package__).add_parser(sub)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(level=max(logging.DEBUG, min(logging.CRITICAL, level)),
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _os_message(exc: OSError) -> str | None:
    """Return a user message for an OSError a user can cause, or None for others."""
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device{where}; free some space or choose another --out."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied{where}; choose a path you may write to (--out) or read."
    if exc.errno == errno.ENAMETOOLONG:
        return f"file name too long{where}; use a shorter name."
    if isinstance(exc, (FileNotFoundError, FileExistsError, IsADirectoryError,
                        NotADirectoryError)):
        return str(exc)
    return None


def _report(args: argparse.Namespace, error: BaseException | str) -> None:
    """Write one error line in the CLI's language (options spelled as flags)."""
    lang = cli_lang(args)
    text = error if isinstance(error, str) else localise_error(error, lang)
    sys.stderr.write(msg("error", lang, command=args.command, message=text) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cci-geo`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Exit status: 0 success; 1 bad data or arguments (one message, no traceback); 2 usage
    error; 70 internal error (the message asks for a report; ``--debug`` shows the
    traceback); 130 interrupted; 141 the output's reader closed the pipe (quietly).

    This module imports only the standard library and cci_geo's light modules; every heavy
    import (geopandas, pyogrio, pyproj...) happens inside this function, so a Ctrl-C while
    they load is handled like one during the command: one line, exit status 130.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # while the parser was built (it imports the subcommands) or arguments were read
        if "--debug" in (sys.argv[1:] if argv is None else argv):
            traceback.print_exc()
        sys.stderr.write("cci-geo: interrupted; nothing was written.\n")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    _configure_logging(args.verbose - args.quiet)
    command = args.command
    old_term = signal.getsignal(signal.SIGTERM)
    with contextlib.suppress(ValueError):
        # outside the main thread signal.signal raises ValueError; then SIGTERM stays default
        signal.signal(signal.SIGTERM, _terminate)  # so temporary files are cleaned up
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(f"cci-geo {command}: interrupted; nothing was written.\n")
        return EXIT_INTERRUPTED
    except CciGeoError as exc:
        if args.debug:
            traceback.print_exc()
        _report(args, exc)
        return EXIT_ERROR
    except BrokenPipeError:
        # point stdout at /dev/null so the interpreter's final flush cannot fail again
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        text = _os_message(exc)
        if text is None:
            return _bug(args, exc)
        if args.debug:
            traceback.print_exc()
        _report(args, exc if isinstance(exc, (FileExistsError, FileNotFoundError)) else text)
        return EXIT_ERROR
    except MemoryError as exc:
        if args.debug:
            traceback.print_exc()
        _report(args, f"out of memory ({exc}); use a coarser cell size or a smaller extent.")
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the contract: a bug is reported, not hidden
        return _bug(args, exc)
    finally:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, old_term)


def _bug(args: argparse.Namespace, exc: BaseException) -> int:
    command = args.command
    if args.debug:
        traceback.print_exception(exc)
    _report(args, f"internal error {type(exc).__name__}: {exc}\nThis is a bug in cci_geo, "
            f"not in your data. Please report it to {ISSUES_URL} with the output of "
            f"'cci-geo --debug {command} ...' and cci-geo {__version__}.")
    return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
