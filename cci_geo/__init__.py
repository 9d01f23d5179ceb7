"""cci_geo: GIS toolkit for planning Beijing's cultural and creative industry (CCI).

Modules are the API: ``cci_geo.datum``, ``cci_geo.concentration``, ``cci_geo.network``,
``cci_geo.access``, ``cci_geo.suitability``, ``cci_geo.layout``, ``cci_geo.corridors`` and
``cci_geo.maps``. The top level re-exports the atlas entry points.

``import cci_geo`` is light: the entry points that need geopandas, pyogrio or pyproj
(:class:`Atlas`, :func:`read_layer`, :func:`write_layer`, :func:`validate`, :func:`load_demo`,
:data:`SECTORS`) and the analysis modules are imported on first use. This keeps the
``cci-geo`` command quick to start and lets it handle a Ctrl-C from its first moment.

Examples
--------
>>> import cci_geo
>>> cci_geo.Atlas.__name__, cci_geo.read_layer.__module__
('Atlas', 'cci_geo.io')
>>> from cci_geo import SECTORS, validate
>>> "Atlas" in dir(cci_geo) and "datum" in dir(cci_geo)
True
>>> sorted(set(cci_geo.__all__) - set(dir(cci_geo)))
[]
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import TYPE_CHECKING

from .errors import CciGeoError as CciGeoError
from .errors import CRSMismatchError as CRSMismatchError
from .errors import SchemaError as SchemaError
from .settings import Settings as Settings

if TYPE_CHECKING:  # the type checker sees the eager imports; at run time they are lazy
    from . import datum as datum
    from .atlas import Atlas as Atlas
    from .datasets import load_demo as load_demo
    from .io import read_layer as read_layer
    from .io import write_layer as write_layer
    from .schema import SECTORS as SECTORS
    from .schema import validate as validate

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: Re-exported name -> the module that defines it (imported on first access).
_LAZY_ATTRIBUTES = {
    "Atlas": "atlas",
    "load_demo": "datasets",
    "read_layer": "io",
    "write_layer": "io",
    "SECTORS": "schema",
    "validate": "schema",
}

#: Public submodules, listed by ``dir(cci_geo)``; any submodule is imported on first access.
_LAZY_MODULES = ("access", "atlas", "cli", "concentration", "corridors", "datasets", "datum",
                 "io", "layout", "maps", "monitoring", "network", "postgis", "raster",
                 "reports", "results", "scale", "schema", "suitability", "tables",
                 "workflows")


def __getattr__(name: str) -> object:
    # geopandas, pyogrio, pyproj, osmnx, folium...: load on first use, not on `import cci_geo`.
    if name in _LAZY_MODULES or (not name.startswith("__")
                                 and importlib.util.find_spec(f"{__name__}.{name}")):
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_ATTRIBUTES:
        value = getattr(importlib.import_module(f".{_LAZY_ATTRIBUTES[name]}", __name__), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    msg = f"module 'cci_geo' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_ATTRIBUTES, *_LAZY_MODULES})


__all__ = [
    "SECTORS",
    "Atlas",
    "CRSMismatchError",
    "CciGeoError",
    "SchemaError",
    "Settings",
    "__version__",
    "datum",
    "load_demo",
    "read_layer",
    "validate",
    "write_layer",
]
