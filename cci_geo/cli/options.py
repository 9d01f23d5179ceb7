"""Options shared by several ``cci-geo`` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = [
    "add_atlas_option",
    "add_output_options",
    "add_region_option",
    "add_scheduler_option",
    "atlas_source",
    "load_atlas",
    "region_arg",
    "scheduler_value",
]


def atlas_source(text: str) -> Path | str:
    """An atlas location from the command line: a file path, or a PostgreSQL URL kept as text."""
    return text if text.startswith(("postgresql://", "postgres://")) else Path(text)


def add_atlas_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--atlas PATH|URL`` (GeoPackage, FileGDB or PostGIS; the demo by default) and
    ``--region``."""
    parser.add_argument(
        "--atlas", type=atlas_source, default=None, metavar="PATH|URL",
        help="atlas GeoPackage or File Geodatabase (Atlas.to_gpkg / to_gdb), or a PostGIS "
             "database postgresql://user@host/db[?schema=name]; default: the embedded "
             "Beijing demo atlas",
    )
    add_region_option(parser)


def add_region_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--region WEST SOUTH EAST NORTH | data``: the study region the layers must lie in."""
    parser.add_argument(
        "--region", nargs="+", default=None, metavar="W S E N|data",
        help="study region the layers must lie in: a box in degrees (west south east north, "
             "e.g. 120.85 30.67 122.2 31.88 for Shanghai) or 'data' (the layers' own extent); "
             "default: the region stored in the atlas, else Beijing-Tianjin-Hebei",
    )


def region_arg(values: list[str] | None) -> tuple[float, float, float, float] | str | None:
    """The ``--region`` values as a checked box, ``"data"`` or None.

    Examples
    --------
    >>> region_arg(["120.85", "30.67", "122.2", "31.88"]), region_arg(["data"])
    ((120.85, 30.67, 122.2, 31.88), 'data')
    """
    from ..errors import ParameterError
    from ..schema import check_region

    if values is None:
        return None
    if len(values) == 1 and values[0].lower() == "data":
        return "data"
    if len(values) != 4:
        msg = (f"--region takes four numbers (west south east north, in degrees) or 'data', "
               f"got {' '.join(values)!r}; e.g. --region 120.85 30.67 122.2 31.88.")
        raise ParameterError(msg)
    try:
        box = tuple(float(v) for v in values)
    except ValueError as exc:
        msg = f"--region: {' '.join(values)!r} are not four numbers (west south east north)."
        raise ParameterError(msg) from exc
    return check_region(box, "--region")


def add_output_options(parser: argparse.ArgumentParser, *, default_out: str) -> None:
    """Add ``--out PATH`` and ``--overwrite``."""
    parser.add_argument("--out", type=Path, default=Path(default_out), metavar="PATH",
                        help=f"output path (default: {default_out})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (never done otherwise)")


def scheduler_value(text: str) -> str:
    """A ``--scheduler`` value: ``local`` or a well-formed scheduler address (not contacted)."""
    from ..errors import ParameterError
    from ..scale import check_scheduler

    try:
        return str(check_scheduler(text))
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(exc.for_cli()) from exc


def add_scheduler_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--scheduler local|ADDRESS`` (where work that scales runs; see docs/scale.md)."""
    parser.add_argument(
        "--scheduler", default=None, type=scheduler_value, metavar="local|ADDRESS",
        help="run on Dask: 'local' starts a LocalCluster sized to this machine, an address "
             "such as tcp://10.0.0.5:8786 uses a running cluster (default: in memory)",
    )


def load_atlas(path: Path | str | None,  # noqa: ANN201 - returns cci_geo.Atlas
               region: list[str] | None = None):
    """Return the atlas at ``path`` (file or PostGIS URL), or the demo atlas when None.

    ``region`` is the raw ``--region`` values: the study region the layers are checked
    against, instead of the one stored in the atlas (default Beijing-Tianjin-Hebei).
    """
    from ..atlas import Atlas
    from ..datasets import load_demo

    box = region_arg(region)
    if path is None:
        demo = load_demo()
        return demo if box is None else Atlas.from_tables(
            demo.layers, demo._metadata(), where="demo", region=box,  # noqa: SLF001
            attribute_tables=demo.tables, metric_crs=demo.metric_crs)
    return Atlas.read(path, region=box)
