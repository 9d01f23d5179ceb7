"""Run analyses beyond one machine's memory on Dask: partitioned inputs and the scheduler switch.

Two things make an analysis run on Dask:

- **partitioned input** — a dask-geopandas frame, or the path (or glob) of a GeoParquet
  dataset, given where a GeoDataFrame of points is expected: the analysis runs partition by
  partition and adds up the partial results (counts, sums and binned grids are additive), so
  the result equals the in-memory one;
- **a scheduler** — ``Settings(scheduler=...)`` (``--scheduler`` on the CLI): ``None`` runs in
  memory as before (partitioned inputs then use Dask's local threads), ``"local"`` starts a
  ``LocalCluster`` sized to the machine, and an address such as ``"tcp://10.0.0.5:8786"``
  connects to a running cluster (dask-jobqueue, Kubernetes, ``dask scheduler``). A
  ``distributed.Client`` may be passed as well.

Dask and its companions are the optional extra ``scale`` (``pip install cci_geo[scale]``);
nothing here is imported until it is needed. See ``docs/scale.md``.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import CciGeoError, ParameterError, ParameterTypeError, opt

__all__ = [
    "ScaleUnavailableError",
    "SchedulerUnreachableError",
    "check_scheduler",
    "compute",
    "gather",
    "is_partitioned",
    "progress_bar",
    "read_partitioned",
    "scheduler_client",
    "sum_partitions",
]

logger = logging.getLogger(__name__)

_GLOB_CHARS = set("*?[")


class ScaleUnavailableError(CciGeoError, ImportError):
    """Dask (the ``scale`` extra) is needed but not installed."""


class SchedulerUnreachableError(CciGeoError, ConnectionError):
    """The Dask scheduler at the given address does not answer."""


_CONNECT_TIMEOUT_S = 10.0
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def check_scheduler(scheduler: object) -> Any:
    """Return ``scheduler`` if it is None, ``"local"``, a Client or a well-formed address.

    An address is ``scheme://host:port`` (schemes tcp, tls, ws, wss, ucx, inproc) or
    ``host:port`` (then tcp). Nothing is contacted: this catches typos before any work.

    Raises
    ------
    ParameterError
        Anything else, with the accepted forms.

    Examples
    --------
    >>> check_scheduler("tcp://10.0.0.5:8786"), check_scheduler("localhost:8786")
    ('tcp://10.0.0.5:8786', 'tcp://localhost:8786')
    >>> check_scheduler("loacl")
    Traceback (most recent call last):
    ...
    cci_geo.errors.ParameterError: scheduler 'loacl' is not 'local' nor an address ...
    """
    if scheduler is None or scheduler == "local" or type(scheduler).__name__ == "Client":
        return scheduler
    text = scheduler if isinstance(scheduler, str) else None
    address = text if text is None or "://" in text else f"tcp://{text}"
    scheme, _, rest = (address or "").partition("://")
    host, _, port = rest.rpartition(":")
    ok = (scheme in _SCHEMES and (scheme == "inproc" or (bool(host) and port.isdigit())))
    if not ok:
        msg = (f"scheduler {scheduler!r} is not 'local' nor an address such as "
               "'tcp://10.0.0.5:8786' or 'host:8786' (schemes: "
               f"{', '.join(_SCHEMES)}); "
               f"{opt('pass scheduler=None', 'leave out --scheduler')} to run in memory.")
        raise ParameterError(msg)
    return address


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import dask_geopandas  # noqa: F401
    except ImportError as exc:
        msg = (
            f"running on Dask needs the optional 'scale' dependencies ({exc.name} is missing); "
            "install them with: pip install 'cci_geo[scale]'."
        )
        raise ScaleUnavailableError(msg) from exc


def is_partitioned(obj: object) -> bool:
    """Return True if ``obj`` is a dask-geopandas frame or the path/glob of a GeoParquet set.

    A list of GeoParquet file paths counts too.

    Examples
    --------
    >>> import geopandas as gpd
    >>> is_partitioned(gpd.GeoDataFrame()), is_partitioned("firms/*.parquet")
    (False, True)
    >>> is_partitioned(["firms/2023.parquet", "firms/2024.parquet"])
    True
    """
    if isinstance(obj, (str, os.PathLike)):
        return True
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(o, (str, os.PathLike))
                                                      for o in obj):
        return True
    mod = type(obj).__module__ or ""
    return mod.startswith(("dask_geopandas", "dask.dataframe", "dask_expr"))


def _expand(source: str | os.PathLike[str] | Sequence[str]) -> list[str] | str:
    if isinstance(source, (list, tuple)):
        return [str(s) for s in source]
    text = os.fspath(source)  # type: ignore[arg-type]
    if _GLOB_CHARS & set(text):
        files = sorted(glob.glob(text))  # noqa: PTH207 - a pattern with directories in it
        if not files:
            msg = f"no file matches {text!r}; check the path and the pattern."
            raise ParameterError(msg)
        return files
    if not Path(text).exists():
        msg = f"GeoParquet path {text!r} does not exist; pass a file, a directory or a glob."
        raise ParameterError(msg)
    return text


def read_partitioned(source: Any, *, columns: Sequence[str] | None = None) -> Any:
    """Return ``source`` as a dask-geopandas GeoDataFrame (lazily: nothing is read yet).

    Parameters
    ----------
    source
        A dask-geopandas GeoDataFrame (returned as is), or the path of a GeoParquet file, a
        directory of GeoParquet files, or a glob such as ``"registry/*.parquet"``; each file
        (or row group set, as Dask splits it) is one partition.
    columns
        Columns to read besides the geometry (all by default); reading only what an analysis
        needs keeps the partitions small.

    Returns
    -------
    dask_geopandas.GeoDataFrame
        The lazy frame.

    Raises
    ------
    ParameterError
        The path does not exist or the glob matches nothing.
    ScaleUnavailableError
        dask-geopandas is not installed.

    Examples
    --------
    >>> import geopandas as gpd, tempfile, os
    >>> from shapely.geometry import Point
    >>> d = tempfile.mkdtemp()
    >>> gpd.GeoDataFrame({"v": [1]}, geometry=[Point(0, 0)], crs=4326).to_parquet(
    ...     os.path.join(d, "a.parquet"))
    >>> read_partitioned(os.path.join(d, "*.parquet")).npartitions
    1
    """
    _require_dask()
    import dask_geopandas

    if not isinstance(source, (str, os.PathLike, list, tuple)):
        if not is_partitioned(source):
            msg = f"expected a dask-geopandas frame or a GeoParquet path, got {type(source)}."
            raise ParameterTypeError(msg)
        return source
    frame = dask_geopandas.read_parquet(_expand(source))
    if columns is None:
        return frame
    keep = [c for c in dict.fromkeys([*columns, frame.geometry.name]) if c in frame.columns]
    return frame[keep]  # the projection reaches the reader: other columns are never read


@contextlib.contextmanager
def scheduler_client(scheduler: Any = None, *, n_workers: int | None = None,
                     memory_limit: str | int | None = None,
                     processes: bool = True) -> Iterator[Any]:
    """Yield the ``distributed.Client`` that ``scheduler`` names, or None to run in memory.

    Parameters
    ----------
    scheduler
        ``None``: no cluster (Dask's local threads compute partitioned inputs, or an already
        active ``Client`` if there is one); ``"local"``: a ``LocalCluster`` sized to the machine
        (one worker per core by default), closed on exit; any other string: the address of a
        running scheduler (``"tcp://host:8786"``); a ``distributed.Client``: used as is.
    n_workers, memory_limit, processes
        For ``"local"`` only: number of workers, memory limit per worker (e.g. ``"1.5GB"``;
        Dask spills to disk beyond 60 % and pauses at 80 %) and whether workers are processes.

    Yields
    ------
    distributed.Client or None
        The client; analyses given it submit their partitions and chunks to it.

    Raises
    ------
    ParameterError
        ``scheduler`` is not None, ``"local"``, an address string or a Client.
    ScaleUnavailableError
        ``scheduler`` is set but dask.distributed is not installed.

    Examples
    --------
    >>> with scheduler_client(None) as client:
    ...     client is None
    True
    """
    if scheduler is None:
        yield None
        return
    if type(scheduler).__name__ == "Client":
        yield scheduler
        return
    if not isinstance(scheduler, str) or not scheduler:
        msg = (
            f"scheduler must be None, 'local', a scheduler address such as "
            f"'tcp://host:8786' or a distributed.Client, got {scheduler!r}."
        )
        raise ParameterError(msg)
    check_scheduler(scheduler)
    _require_dask()
    from distributed import Client, LocalCluster

    if scheduler == "local":
        kwargs: dict[str, Any] = {"processes": processes, "dashboard_address": ":0"}
        if n_workers is not None:
            kwargs["n_workers"] = n_workers
            kwargs["threads_per_worker"] = 1
        if memory_limit is not None:
            kwargs["memory_limit"] = memory_limit
        logger.info("starting a LocalCluster (%s)", kwargs)
        with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
            yield client
        return
    address = check_scheduler(scheduler)
    logger.info("connecting to the Dask scheduler at %s", address)
    try:
        client = Client(address, timeout=_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        local = opt("scheduler='local'", "--scheduler local")
        msg = (f"cannot reach the Dask scheduler at {address!r} within "
               f"{_CONNECT_TIMEOUT_S:g} s ({exc.__class__.__name__}: {exc}); check the "
               "address and that the scheduler is running (dask scheduler), or use "
               f"{local} for a cluster on this machine.")
        raise SchedulerUnreachableError(msg) from exc
    with client:
        yield client


def compute(*objs: Any, client: Any = None, progress: bool = False) -> tuple[Any, ...]:
    """Compute Dask collections or delayed objects on ``client`` (or Dask's local threads).

    Parameters
    ----------
    objs
        Delayed objects or Dask collections.
    client
        A ``distributed.Client``, or None for the default scheduler (an active client if any).
    progress
        Show Dask's own progress bar (``distributed.progress`` on a cluster, ``ProgressBar``
        locally); off by default because library code stays quiet.

    Returns
    -------
    tuple
        The computed values, in the order given.

    Examples
    --------
    >>> import dask
    >>> compute(dask.delayed(sum)([1, 2]))
    (3,)
    """
    _require_dask()
    import dask

    if client is not None:
        futures = client.compute(list(objs))
        if progress:
            from distributed import progress as dask_progress

            dask_progress(futures)
        return tuple(client.gather(futures))
    if progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            return tuple(dask.compute(*objs))
    return tuple(dask.compute(*objs))


@contextlib.contextmanager
def progress_bar(futures: Sequence[Any], *, enabled: bool = True) -> Iterator[None]:
    """Show Dask's own progress bar for ``futures`` while the ``with`` block consumes them.

    The bar is ``distributed``'s text progress bar, fed by the scheduler; it runs in a
    background thread, so the block can take results as they complete (and release them).
    The bar follows the futures' keys only: it keeps no result alive.

    Parameters
    ----------
    futures
        ``distributed.Future`` objects of one client.
    enabled
        False (or no futures) shows nothing.

    Examples
    --------
    >>> with progress_bar([], enabled=True):
    ...     pass
    """
    if not enabled or not futures:
        yield
        return
    from distributed.diagnostics.progressbar import TextProgressBar

    keys = [f.key for f in futures]
    address = futures[0].client.scheduler.address
    ready = threading.Event()

    class _Bar(TextProgressBar):
        def _draw_bar(self, remaining: Any, all: Any, **kwargs: Any) -> None:  # noqa: A002
            ready.set()  # the scheduler tracks the keys: results may now be released
            super()._draw_bar(remaining, all, **kwargs)

    def show() -> None:
        try:
            _Bar(keys, scheduler=address, complete=True)
        except OSError as exc:  # the cluster went away: the computation reports that itself
            logger.debug("progress bar stopped: %s", exc)
        finally:
            ready.set()

    thread = threading.Thread(target=show, name="cci-geo-progress", daemon=True)
    thread.start()
    # the bar registers the keys with the scheduler; a key released before that would never
    # be seen, so wait (briefly) until it has drawn once
    ready.wait(timeout=_CONNECT_TIMEOUT_S)
    try:
        yield
    finally:
        thread.join(timeout=_CONNECT_TIMEOUT_S)


def gather(futures: Sequence[Any], client: Any, *, progress: bool = False) -> list[Any]:
    """Return the results of ``futures`` on ``client``, with Dask's progress bar if asked.

    Examples
    --------
    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=1, dashboard_address=":0") as client:
    ...     gather(client.map(abs, [-1, 2]), client)
    [1, 2]
    """
    with progress_bar(futures, enabled=progress):
        return list(client.gather(list(futures)))


def _add(a: Any, b: Any) -> Any:
    return a + b


def sum_partitions(frame: Any, fn: Callable[..., Any], *args: Any,
                   combine: Callable[[Any, Any], Any] = _add, split_every: int = 8) -> Any:
    """Return a delayed tree reduction of ``fn(partition, *args)`` over the partitions.

    ``combine`` (default ``+``) must be associative and commutative, as sums of counts, of
    binned grids and of tables are; the partial results are combined ``split_every`` at a
    time so no single task holds all of them.

    Examples
    --------
    >>> import dask_geopandas, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(i, 0) for i in range(10)], crs=32650)
    >>> d = dask_geopandas.from_geopandas(g, npartitions=3)
    >>> compute(sum_partitions(d, len))
    (10,)
    """
    _require_dask()
    import dask

    fn_d = dask.delayed(fn, pure=True)
    shared = [dask.delayed(a) if _is_large(a) else a for a in args]
    level = [fn_d(part, *shared) for part in frame.to_delayed()]
    merge = dask.delayed(_combine_many, pure=True)
    while len(level) > 1:
        level = [merge(combine, *level[i:i + split_every])
                 for i in range(0, len(level), split_every)]
    return level[0]


def _combine_many(combine: Callable[[Any, Any], Any], *parts: Any) -> Any:
    out = parts[0]
    for p in parts[1:]:
        out = combine(out, p)
    return out


def _is_large(obj: Any) -> bool:
    """Frames and arrays go into the graph once (as their own key), not into every task."""
    return hasattr(obj, "shape") or hasattr(obj, "geometry")
