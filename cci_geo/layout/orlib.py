"""Read OR-Library p-median test problems (Beasley 1990) as cost matrices.

The 40 uncapacitated instances ``pmed1``...``pmed40`` are the standard correctness and speed
benchmark of p-median and p-center solvers; the benchmark and the tests use this reader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import shortest_path

from ..errors import DataError

__all__ = ["read_orlib_pmed"]


def read_orlib_pmed(path: str | Path) -> tuple[NDArray[np.float64], int]:
    """Return the shortest-path cost matrix and ``p`` of one OR-Library p-median file.

    The file holds ``n m p`` (nodes, undirected edges, medians) and then ``m`` lines
    ``i j cost`` with 1-based node ids. Every node is both a demand (weight 1) and a
    candidate site. An edge listed more than once takes the cost of its *last* line (with
    that rule ``pmed1`` has its published optimum, 5819; the minimum would give 5718).

    Parameters
    ----------
    path
        The ``pmedN.txt`` file.

    Returns
    -------
    tuple
        ``(cost, p)``: the ``(n, n)`` matrix of shortest-path lengths and the number of
        medians.

    Raises
    ------
    DataError
        If the header or an edge line cannot be read, or a node is unreachable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cci_geo.layout.orlib import read_orlib_pmed
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
    >>> _ = f.write_text(" 3 3 1\\n 1 2 4\\n 2 3 5\\n 1 2 2\\n")
    >>> cost, p = read_orlib_pmed(f)
    >>> cost.tolist(), p
    ([[0.0, 2.0, 7.0], [2.0, 0.0, 5.0], [7.0, 5.0, 0.0]], 1)
    """
    lines = Path(path).read_text().split("\n")
    try:
        n, m, p = (int(v) for v in lines[0].split())
        edges: dict[tuple[int, int], float] = {}
        for line in lines[1 : m + 1]:
            i, j, c = (int(v) for v in line.split())
            a, b = sorted((i - 1, j - 1))
            edges[(a, b)] = float(c)  # the last occurrence of an edge gives its cost
    except ValueError as exc:
        msg = f"{path}: not an OR-Library p-median file ({exc}); expected 'n m p' then edges."
        raise DataError(msg) from exc
    rows = [a for a, _ in edges] + [b for _, b in edges]
    cols = [b for _, b in edges] + [a for a, _ in edges]
    graph = sparse.csr_array((list(edges.values()) * 2, (rows, cols)), shape=(n, n))
    cost = shortest_path(graph, directed=False)
    if not np.isfinite(cost).all():
        msg = f"{path}: the graph is not connected, so some nodes cannot reach a median."
        raise DataError(msg)
    return cost, p
