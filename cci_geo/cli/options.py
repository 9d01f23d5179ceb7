"""Options shared by several ``cci-geo`` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = [
    "add_atlas_option",
    "add_output_options",
    "add_scheduler_option",
    "atlas_source",
    "load_atlas",
]


def atlas_source(text: str) -> Path | str:
    """An atlas location from the command line: a file path, or a PostgreSQL URL kept as text."""
    return text if text.startswith(("postgresql://", "postgres://")) else Path(text)


def add_atlas_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--atlas PATH|URL`` (GeoPackage, FileGDB or PostGIS; the demo by default)."""
    parser.add_argument(
        "--atlas", type=atlas_source, default=None, metavar="PATH|URL",
        help="atlas GeoPackage or File Geodatabase (Atlas.to_gpkg / to_gdb), or a PostGIS "
             "database postgresql://user@host/db[?schema=name]; default: the embedded "
             "Beijing demo atlas",
    )


def add_output_options(parser: argparse.ArgumentParser, *, default_out: str) -> None:
    """Add ``--out PATH`` and ``--overwrite``."""
    parser.add_argument("--out", type=Path, default=Path(default_out), metavar="PATH",
                        help=f"output path (default: {default_out})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (never done otherwise)")


def add_scheduler_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--scheduler local|ADDRESS`` (where work that scales runs; see docs/scale.md)."""
    parser.add_argument(
        "--scheduler", default=None, metavar="local|ADDRESS",
        help="run on Dask: 'local' starts a LocalCluster sized to this machine, an address "
             "such as tcp://10.0.0.5:8786 uses a running cluster (default: in memory)",
    )


def load_atlas(path: Path | str | None):  # noqa: ANN201 - returns cci_geo.Atlas
    """Return the atlas at ``path`` (file or PostGIS URL), or the demo atlas when None."""
    from ..atlas import Atlas
    from ..datasets import load_demo

    return load_demo() if path is None else Atlas.read(path)
