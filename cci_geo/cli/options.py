"""Options shared by several ``cci-geo`` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_atlas_option", "add_output_options", "load_atlas"]


def add_atlas_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--atlas PATH`` (a GeoPackage written by ``Atlas.to_gpkg``; the demo by default)."""
    parser.add_argument(
        "--atlas", type=Path, default=None, metavar="PATH",
        help="atlas GeoPackage (from Atlas.to_gpkg); default: the embedded Beijing demo atlas",
    )


def add_output_options(parser: argparse.ArgumentParser, *, default_out: str) -> None:
    """Add ``--out PATH`` and ``--overwrite``."""
    parser.add_argument("--out", type=Path, default=Path(default_out), metavar="PATH",
                        help=f"output path (default: {default_out})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (never done otherwise)")


def load_atlas(path: Path | None):  # noqa: ANN201 - returns cci_geo.Atlas
    """Return the atlas at ``path``, or the embedded demo atlas when ``path`` is None."""
    from ..atlas import Atlas
    from ..datasets import load_demo

    return load_demo() if path is None else Atlas.from_gpkg(path)
