"""The embedded Beijing CCI demo atlas.

The demo GeoPackage is built by ``data/build_demo.py`` from the reference tables of real
Beijing CCI places, real administrative boundaries and a synthetic, seeded set of creative
enterprises; ``data/README.md`` states every layer's source, licence, datum and status.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .atlas import Atlas
from .errors import DataError

__all__ = ["DEMO_FILE", "demo_path", "load_demo"]

logger = logging.getLogger(__name__)

DEMO_FILE = "beijing_cci_demo.gpkg"


def _candidates(filename: str) -> list[Path]:
    here = Path(__file__).resolve().parent
    return [here / "_data" / filename, here.parent / "data" / filename]


def demo_path(filename: str = DEMO_FILE) -> Path:
    """Return the path of a bundled demo file (installed package first, then the repository).

    Raises
    ------
    cci_geo.errors.DataError
        If the file is not bundled (e.g. a source checkout where ``data/build_demo.py`` has
        not been run).
    """
    for path in _candidates(filename):
        if path.is_file() and path.stat().st_size > 0:
            return path
    msg = (f"demo file {filename!r} not found in {[str(p) for p in _candidates(filename)]}; "
           "reinstall cci_geo or rebuild it with `python data/build_demo.py`.")
    raise DataError(msg)


def load_demo() -> Atlas:
    """Load the embedded Beijing CCI demo atlas (works offline).

    Layers: ``districts`` (Beijing's 16 districts, Tianjin and the 11 Hebei prefecture cities;
    real boundaries), ``functional_areas``, ``demonstrative_regions``, ``zones``,
    ``factory_sites``, ``venues``, ``nodes`` and ``corridors`` (real places at approximate
    positions; see each layer's ``confidence`` column), and ``enterprises`` (about 20,000
    synthetic creative enterprises). Each call returns a fresh atlas the caller may modify.

    Returns
    -------
    Atlas
        Every layer in EPSG:4326, metric CRS EPSG:32650, with provenance.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> sorted(atlas)[:3]
    ['corridors', 'demonstrative_regions', 'districts']
    >>> atlas.provenance["enterprises"]["status"]
    'synthetic'
    """
    path = demo_path()
    logger.info("loading demo atlas from %s", path)
    return Atlas.from_gpkg(path)
