"""``cci-geo density SOURCE``: kernel density of points, also of a GeoParquet registry on Dask."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .options import add_scheduler_option

__all__ = ["add_parser", "run"]

EPILOG = """examples:
  cci-geo density firms.gpkg --bandwidth-m 1500 --out maps/firms_kde.tif
                                        a point layer in memory
  cci-geo density 'registry/*.parquet' --bandwidth-m 2000 --cell-size-m 100 \\
      --weight employees --scheduler local --out maps/registry_kde.tif
                                        a partitioned registry (10^7-10^8 points), binned
                                        partition by partition on a LocalCluster
  cci-geo density 'registry/*.parquet' --bandwidth-m 2000 --scheduler tcp://10.0.0.5:8786
                                        the same on a running Dask cluster
"""

_PARTITIONED_SUFFIXES = (".parquet", ".geoparquet", ".pq")


def _extent(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        msg = (f"--extent must be four numbers xmin,ymin,xmax,ymax in metres of the metric CRS, "
               f"got {text!r}.")
        raise argparse.ArgumentTypeError(msg)
    return values  # type: ignore[return-value]


def add_parser(subparsers: Any) -> None:
    """Register the ``density`` subcommand."""
    p = subparsers.add_parser(
        "density", help="kernel density of points (a layer file, or a GeoParquet registry "
                        "on Dask) as a GeoTIFF",
        description=(
            "Kernel density of a point layer, in points (or --weight) per km², written as a "
            "compressed, tiled GeoTIFF. SOURCE is a vector file (GeoPackage, Shapefile, "
            "GeoJSON...) read into memory, or a GeoParquet file, folder or glob, which is "
            "binned partition by partition and convolved once (the same surface as in memory; "
            "see docs/scale.md). With --scheduler the partitions run on Dask workers."),
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", metavar="SOURCE",
                   help="point layer file, or GeoParquet file / folder / glob (quote globs)")
    p.add_argument("--bandwidth-m", type=float, required=True,
                   help="quartic: search radius; gaussian: sigma (metres)")
    p.add_argument("--cell-size-m", type=float, default=100.0,
                   help="cell edge in metres (default 100)")
    p.add_argument("--kernel", choices=("quartic", "gaussian"), default="quartic")
    p.add_argument("--weight", default=None, metavar="COLUMN",
                   help="column of non-negative weights (e.g. employees)")
    p.add_argument("--extent", type=_extent, default=None, metavar="XMIN,YMIN,XMAX,YMAX",
                   help="output grid in metres of the metric CRS (default: the points' bounds "
                        "padded by the kernel's reach)")
    p.add_argument("--metric-crs", default=None, metavar="CRS",
                   help="metric CRS of the surface, e.g. EPSG:32650 (default: estimated)")
    p.add_argument("--out", type=Path, default=Path("maps/density.tif"), metavar="PATH",
                   help="output GeoTIFF (default: maps/density.tif)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output file (never done otherwise)")
    add_scheduler_option(p)
    p.set_defaults(func=run)


def _is_partitioned(source: str) -> bool:
    path = Path(source)
    return (any(ch in source for ch in "*?[") or path.is_dir()
            or path.suffix.lower() in _PARTITIONED_SUFFIXES)


def run(args: argparse.Namespace) -> int:
    """Run ``cci-geo density``; return the exit status."""
    from ..concentration import kernel_density  # noqa: PLC0415
    from ..errors import MissingFileError, OutputExistsError  # noqa: PLC0415
    from ..settings import Settings  # noqa: PLC0415

    out: Path = args.out
    if out.exists() and not args.overwrite:
        msg = f"{out} exists; pass --overwrite to replace it."
        raise OutputExistsError(msg)
    if out.suffix.lower() not in (".tif", ".tiff"):
        msg = f"--out must be a GeoTIFF path ending in .tif, got {str(out)!r}."
        raise ParameterError(msg)
    settings = Settings(scheduler=args.scheduler, progress=True)
    if _is_partitioned(args.source):
        points: Any = args.source
    else:
        if not Path(args.source).is_file():
            msg = f"{args.source} does not exist; give a point layer file or a GeoParquet glob."
            raise MissingFileError(msg)
        import geopandas as gpd  # noqa: PLC0415

        points = gpd.read_file(args.source)
    surf = kernel_density(points, cell_size_m=args.cell_size_m, bandwidth_m=args.bandwidth_m,
                          kernel=args.kernel, weight=args.weight, extent=args.extent,
                          metric_crs=args.metric_crs, settings=settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = surf.to_geotiff(out, overwrite=args.overwrite)
    rows, cols = surf.data.shape
    sys.stdout.write(f"kernel density of {surf.tags.get('n_points', '?')} points "
                     f"({args.kernel}, {args.bandwidth_m:g} m) on {rows:,} x {cols:,} cells of "
                     f"{args.cell_size_m:g} m; max {float(surf.data.max()):,.1f} "
                     f"{surf.units}\n  wrote {path}\n")
    return 0
