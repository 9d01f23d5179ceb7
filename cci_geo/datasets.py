"""The embedded Beijing CCI demo atlas.

The demo GeoPackage is built by ``data/build_demo.py`` from the reference tables of real
Beijing CCI places, real administrative boundaries and a synthetic, seeded set of creative
enterprises; ``data/README.md`` states every layer's source, licence, datum and status.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ._resources import DEMO_GPKG, resource_path
from .atlas import Atlas

__all__ = ["DEMO_FILE", "demo_path", "load_demo"]

logger = logging.getLogger(__name__)

DEMO_FILE = DEMO_GPKG


def demo_path(filename: str = DEMO_FILE) -> Path:
    """Return the path of a bundled demo file (installed package first, then the repository).

    Parameters
    ----------
    filename
        Name of the bundled file (default the demo GeoPackage).

    Returns
    -------
    pathlib.Path
        The file, found by :func:`cci_geo._resources.resource_path`.

    Raises
    ------
    cci_geo.errors.DataError
        If the file is not bundled (e.g. a source checkout where ``data/build_demo.py`` has
        not been run).

    Examples
    --------
    >>> from cci_geo.datasets import demo_path
    >>> demo_path().name
    'beijing_cci_demo.gpkg'
    """
    return resource_path(filename)


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
