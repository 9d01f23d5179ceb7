"""The one place that finds files shipped with cci_geo (demo atlas, scenarios, OSM extract).

An installed wheel holds them in ``cci_geo/_data/`` (see ``pyproject.toml``); a source
checkout holds them in ``<repo>/data/`` and ``<repo>/scenarios/``. :func:`resource_path`
looks in the package first (with :mod:`importlib.resources`), then in the checkout.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path, PurePosixPath

from .errors import DataError

__all__ = ["DEMO_GPKG", "DEMO_STREETS", "SCENARIOS", "resource_path"]

DEMO_GPKG = "beijing_cci_demo.gpkg"
"""The embedded demo atlas (GeoPackage)."""

DEMO_STREETS = "beijing_798_streets.osm.gz"
"""The synthetic OSM street extract around 798/751."""

SCENARIOS: tuple[str, ...] = ("scenarios/old_factory_reuse.toml",
                              "scenarios/layout_new_zones.toml")
"""The scenario files shipped with the package."""


def _checkout_path(name: str) -> Path:
    root = Path(__file__).resolve().parent.parent
    first = PurePosixPath(name).parts[0]
    return root / name if first == "scenarios" else root / "data" / name


def resource_path(name: str) -> Path:
    """Return the path of a file shipped with cci_geo.

    Parameters
    ----------
    name
        File name relative to the package's data folder, e.g. ``"beijing_cci_demo.gpkg"``,
        ``"beijing_798_streets.osm.gz"`` or ``"scenarios/old_factory_reuse.toml"``.

    Returns
    -------
    pathlib.Path
        An existing, non-empty file: ``cci_geo/_data/<name>`` of the installed package, or the
        same file in a source checkout (``data/<name>``, ``scenarios/<file>``).

    Raises
    ------
    cci_geo.errors.DataError
        If the file is in neither place (reinstall cci_geo, or rebuild the demo data with
        ``python data/build_demo.py`` / ``python data/build_streets.py``).

    Examples
    --------
    >>> from cci_geo._resources import resource_path
    >>> resource_path("scenarios/old_factory_reuse.toml").name
    'old_factory_reuse.toml'
    """
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts:
        msg = f"resource name {name!r} must be relative to the package data, without '..'."
        raise DataError(msg)
    tried: list[str] = []
    packaged = importlib.resources.files("cci_geo").joinpath("_data", *rel.parts)
    if isinstance(packaged, Path):
        if packaged.is_file() and packaged.stat().st_size > 0:
            return packaged
        tried.append(str(packaged))
    checkout = _checkout_path(name)
    if checkout.is_file() and checkout.stat().st_size > 0:
        return checkout
    tried.append(str(checkout))
    msg = (f"bundled file {name!r} not found (looked in {tried}); reinstall cci_geo, or in a "
           "source checkout rebuild it with `python data/build_demo.py` / "
           "`python data/build_streets.py`.")
    raise DataError(msg)
