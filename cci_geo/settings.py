"""Explicit, immutable settings passed to functions that need them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_METRIC_CRS", "Settings"]

DEFAULT_METRIC_CRS = "EPSG:32650"
"""UTM zone 50N: covers Beijing and most of Jing-Jin-Ji; the default metric CRS."""


def _default_cache_dir() -> Path:
    return Path("~/.cache/cci_geo").expanduser()


@dataclass(frozen=True)
class Settings:
    """Settings for I/O and metric work.

    Functions take ``settings: Settings | None = None`` and use ``settings or Settings()``;
    override a field with :func:`dataclasses.replace`.

    Attributes
    ----------
    cache_dir
        Where raw downloads (OpenStreetMap queries) are cached.
    metric_crs
        Projected CRS used for distances, areas and buffers.
    http_timeout_s
        Timeout of online requests in seconds.
    use_cache
        Whether online requests read and write the cache.
    scheduler
        Where large work runs (see :mod:`cci_geo.scale`): ``None`` in memory, as by default;
        ``"local"`` a Dask ``LocalCluster`` sized to the machine; an address such as
        ``"tcp://host:8786"`` a running Dask cluster.
    """

    cache_dir: Path = field(default_factory=_default_cache_dir)
    metric_crs: str = DEFAULT_METRIC_CRS
    http_timeout_s: float = 180.0
    use_cache: bool = True
    scheduler: str | None = None
