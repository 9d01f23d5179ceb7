"""Explicit, immutable settings passed to functions that need them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Settings"]


def _default_cache_dir() -> Path:
    return Path("~/.cache/cci_geo").expanduser()


@dataclass(frozen=True)
class Settings:
    """Settings for I/O (downloads, caching).

    Functions that read from the network take ``settings: Settings | None = None`` and use
    ``settings or Settings()``; override a field with :func:`dataclasses.replace`. The metric
    CRS is not a setting: every function that measures takes ``metric_crs=`` (see
    :func:`cci_geo._crs.resolve_metric_crs`).

    Attributes
    ----------
    cache_dir
        Where raw downloads (OpenStreetMap queries) are cached.
    http_timeout_s
        Timeout of online requests in seconds.
    use_cache
        Whether online requests read and write the cache.
    scheduler
        Where large work runs (see :mod:`cci_geo.scale`): ``None`` in memory, as by default;
        ``"local"`` a Dask ``LocalCluster`` sized to the machine; an address such as
        ``"tcp://host:8786"`` a running Dask cluster.
    progress
        Show a progress bar for work on Dask (Dask's own diagnostics for partitioned
        inputs; a bar over the windows of a chunked raster). Off by default.
    max_cells
        Largest grid or raster (cells) any function allocates; a grid estimated above it is
        refused with :class:`~cci_geo.errors.ResourceLimitError` before any memory is taken.
        The default, 50 million cells, is a 100 m grid over 500 km x 1,000 km (about 400 MB
        per float64 layer). Raise it deliberately with ``dataclasses.replace``.
    max_bytes
        Largest single array (bytes) a grid computation may allocate, counting work arrays
        such as a kernel density's oversampled FFT grid (default 2 GB).

    Examples
    --------
    >>> import dataclasses
    >>> from cci_geo import Settings
    >>> dataclasses.replace(Settings(), http_timeout_s=30.0).http_timeout_s
    30.0
    """

    cache_dir: Path = field(default_factory=_default_cache_dir)
    http_timeout_s: float = 180.0
    use_cache: bool = True
    scheduler: str | None = None
    progress: bool = False
    max_cells: int = 50_000_000
    max_bytes: int = 2_000_000_000
