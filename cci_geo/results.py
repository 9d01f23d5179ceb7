"""The result kind: what an analysis returned, so a map can draw it.

Every analysis tags what it returns with :func:`tag_result` (``gdf.attrs`` on frames,
``tags`` on a :class:`~cci_geo.raster.Surface`), and every reader asks :func:`result_kind`.
pandas drops ``attrs`` on a merge or concat of frames with different attrs, so
:func:`result_kind` falls back to recognising a result by its signature columns (``gi_z`` and
``gi_class`` are hot spots, ``lisa_q`` and ``lisa_class`` a LISA, ...). A caller may also
pass the kind explicitly to the map functions (``render(obj, kind="hot_spots")``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from .errors import ParameterTypeError

__all__ = ["RESULT_KEY", "SIGNATURES", "result_kind", "tag_result"]

T = TypeVar("T")

RESULT_KEY = "cci_geo_result"
"""Key of ``attrs`` (frames) or ``tags`` (Surfaces) that names the result kind."""

SIGNATURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("hot_spots", frozenset({"gi_z", "gi_p", "gi_class"})),
    ("local_morans", frozenset({"lisa_i", "lisa_q", "lisa_class"})),
    ("designation_gap_clusters", frozenset({"designation", "designated_share"})),
    ("designation_gap_designated", frozenset({"cluster_present", "cluster_share",
                                              "cluster_strength"})),
    ("clusters", frozenset({"n", "dominant_sector", "area_km2", "density_per_km2"})),
    ("location_quotient", frozenset({"total", "krugman"})),
    ("sector_concentration", frozenset({"hhi", "plant_h", "eg"})),
    ("ripley", frozenset({"distance_m", "l_minus_d", "clustered"})),
    ("k_density", frozenset({"distance_m", "localised", "dispersed"})),
    ("grid_counts", frozenset({"row", "col", "count"})),
    ("access_by_district", frozenset({"access_mean", "share_without_access"})),
    ("accessibility", frozenset({"access", "supply_in_reach"})),
    ("enterprise_grid", frozenset({"enterprises", "demand"})),
    ("isochrones", frozenset({"source", "minutes", "area_m2"})),
    ("cooperation_candidates", frozenset({"candidate_score", "position_score", "rank"})),
    ("corridor_membership", frozenset({"corridor_id", "along_km", "axis_distance_km"})),
    ("corridor_zones", frozenset({"width_km", "half_width_km", "clipped"})),
    ("flows", frozenset({"origin", "destination", "flow", "flow_share"})),
    ("corridors", frozenset({"node_ids", "origin_km", "length_km"})),
    ("corridors", frozenset({"origin_km", "length_km"})),
    ("suitability", frozenset({"score", "rank", "excluded_by", "missing"})),
    ("allocations", frozenset({"demand_id", "site_id", "cost", "share"})),
    ("selected_sites", frozenset({"fixed", "demand_served", "n_demand", "max_cost"})),
    ("uncovered_demand", frozenset({"uncovered_weight", "share_of_uncovered"})),
    ("facilities", frozenset({"covered_demand", "unique_demand", "nearest_facility_cost"})),
    ("coverage", frozenset({"nearest_facility", "covered", "n_covering"})),
)
"""``(kind, columns)`` pairs, most specific first: a frame holding all the columns of a pair
without a tag is recognised as that kind."""


def tag_result(obj: T, kind: str) -> T:
    """Mark ``obj`` as a result of ``kind`` (in place) and return it.

    Frames (anything with a ``dict`` ``attrs``) get ``attrs["cci_geo_result"]``; a
    :class:`~cci_geo.raster.Surface` (anything with a ``dict`` ``tags``) gets
    ``tags["cci_geo_result"]``.

    Parameters
    ----------
    obj
        The result (a GeoDataFrame, DataFrame or Surface).
    kind
        Result kind, e.g. ``"hot_spots"``; the maps registry draws it with the renderer
        registered under that name.

    Returns
    -------
    object
        ``obj`` itself.

    Raises
    ------
    TypeError
        If ``obj`` has neither ``attrs`` nor ``tags``, or ``kind`` is not a non-empty string.

    Examples
    --------
    >>> import pandas as pd
    >>> t = tag_result(pd.DataFrame({"x": [1]}), "my_result")
    >>> result_kind(t)
    'my_result'
    """
    if not isinstance(kind, str) or not kind:
        msg = f"kind must be a non-empty string, got {kind!r}."
        raise ParameterTypeError(msg)
    for name in ("tags", "attrs"):
        store = getattr(obj, name, None)
        if isinstance(store, dict):
            store[RESULT_KEY] = kind
            return obj
    msg = (f"cannot tag a {type(obj).__name__} as a result: it has no 'attrs' or 'tags' "
           "dictionary; pass a DataFrame, GeoDataFrame or Surface.")
    raise ParameterTypeError(msg)


def _by_signature(columns: Any) -> str | None:
    cols = {str(c) for c in columns}
    for kind, needed in SIGNATURES:
        if needed <= cols:
            return kind
    if any(c.startswith("lq_") for c in cols) and "krugman" in cols:
        return "location_quotient"
    return None


def result_kind(obj: Any, *, guess: bool = True) -> str | None:
    """Return the result kind of ``obj``, or None.

    The tag set by :func:`tag_result` wins; a frame without one (e.g. after ``pd.merge`` or
    ``pd.concat``, which drop ``attrs`` that differ) is recognised by its signature columns
    (:data:`SIGNATURES`) unless ``guess`` is false.

    Parameters
    ----------
    obj
        A result (frame, Surface) or anything else.
    guess
        Whether to recognise untagged frames by their columns.

    Returns
    -------
    str or None
        The kind, e.g. ``"hot_spots"``.

    Examples
    --------
    >>> import pandas as pd
    >>> hot = tag_result(pd.DataFrame({"id": ["a"], "gi_z": [2.7], "gi_p": [0.007],
    ...                                "gi_class": ["hot spot 99%"]}), "hot_spots")
    >>> merged = hot.merge(pd.DataFrame({"id": ["a"], "name": ["798"]}), on="id")
    >>> merged.attrs.get("cci_geo_result")      # pandas dropped the tag ...
    >>> result_kind(merged)                      # ... the signature columns remain
    'hot_spots'
    """
    for name in ("tags", "attrs"):
        store = getattr(obj, name, None)
        if isinstance(store, dict):
            value = store.get(RESULT_KEY)
            if isinstance(value, str) and value:
                return value
    if guess:
        columns = getattr(obj, "columns", None)
        if columns is not None:
            return _by_signature(columns)
    return None
