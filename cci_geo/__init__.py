"""cci_geo: GIS toolkit for planning Beijing's cultural and creative industry (CCI).

Modules are the API: ``cci_geo.datum``, ``cci_geo.concentration``, ``cci_geo.network``,
``cci_geo.access``, ``cci_geo.suitability``, ``cci_geo.layout``, ``cci_geo.corridors`` and
``cci_geo.maps``. The top level re-exports the atlas entry points.
"""

from __future__ import annotations

import logging

from . import datum as datum
from .atlas import Atlas as Atlas
from .datasets import load_demo as load_demo
from .errors import CciGeoError as CciGeoError
from .errors import CRSMismatchError as CRSMismatchError
from .errors import SchemaError as SchemaError
from .io import read_layer as read_layer
from .io import write_layer as write_layer
from .schema import SECTORS as SECTORS
from .schema import validate as validate
from .settings import Settings as Settings

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY_MODULES = ("access", "concentration", "corridors", "layout", "maps", "monitoring",
                 "network", "raster", "suitability")


def __getattr__(name: str) -> object:
    # Analysis modules import heavy dependencies (osmnx, scipy.sparse, folium); load on first use.
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    msg = f"module 'cci_geo' has no attribute {name!r}"
    raise AttributeError(msg)


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
