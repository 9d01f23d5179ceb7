"""Where creative enterprises cluster, how concentrated each sector is, and the designation gap.

- :func:`kernel_density` — density surface (quartic or Gaussian kernel) per km²;
- :func:`location_quotient`, :func:`sector_concentration` — LQ, Krugman, HHI, Ellison–Glaeser;
- :func:`grid_counts`, :func:`hot_spots` — Getis–Ord Gi* hot/cold spots with FDR control;
- :func:`morans_i`, :func:`local_morans` — global and local Moran's I (LISA);
- :func:`ripley`, :func:`k_density` — Ripley's K/L and the Duranton–Overman K-density;
- :func:`clusters`, :func:`designation_gap` — cluster footprints and how they meet designation.

Results are plain GeoDataFrames, DataFrames or :class:`~cci_geo.raster.Surface` objects
tagged with their result kind (:func:`cci_geo.results.result_kind`) for the maps.
"""

from __future__ import annotations

from .autocorrelation import (
    GI_CLASSES,
    LISA_CLASSES,
    MoranResult,
    benjamini_hochberg,
    hot_spots,
    local_morans,
    morans_i,
)
from .clusters import DESIGNATED_KINDS, DesignationGap, clusters, designation_gap
from .grid import grid_counts
from .indices import location_quotient, sector_by_area, sector_concentration
from .kde import KERNELS, default_bandwidth, kernel_density
from .points import k_density, ripley

__all__ = [
    "DESIGNATED_KINDS",
    "GI_CLASSES",
    "KERNELS",
    "LISA_CLASSES",
    "DesignationGap",
    "MoranResult",
    "benjamini_hochberg",
    "clusters",
    "default_bandwidth",
    "designation_gap",
    "grid_counts",
    "hot_spots",
    "k_density",
    "kernel_density",
    "local_morans",
    "location_quotient",
    "morans_i",
    "ripley",
    "sector_by_area",
    "sector_concentration",
]
