"""The CCI data model: layer kinds, their columns and geometry types, and ``validate``.

Every layer is a GeoDataFrame with a unique string ``id`` column, ``name_zh``/``name_en`` where
a human name exists, and the geometry type of its kind (see :data:`LAYER_SPECS`). A planner's
own data may carry extra columns; they are kept.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from cci_geo import validate
>>> venues = gpd.GeoDataFrame(
...     {"id": ["V1"], "name_en": ["Capital Museum"], "kind": ["museum"],
...      "open_space_m2": [60000.0]},
...     geometry=[Point(116.3356, 39.9049)], crs="EPSG:4326")
>>> validate(venues, "venues").loc[0, "id"]
'V1'
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = [
    "LAYER_KINDS",
    "LAYER_SPECS",
    "SECTORS",
    "SECTOR_NAMES",
    "STUDY_REGION",
    "TABLE_KINDS",
    "TABLE_SPECS",
    "Region",
    "check_region",
    "Column",
    "LayerSpec",
    "TableSpec",
    "check",
    "validate",
    "validate_table",
]

SECTORS: tuple[str, ...] = (
    "design", "media", "film_tv", "publishing", "animation_games", "performing_arts",
    "expos_folk_arts", "art_exchange", "think_tanks",
)
"""The nine priority sectors of the 2018 Opinions (§2(2)), in the policy's order."""

SECTOR_NAMES: dict[str, tuple[str, str]] = {
    "design": ("创意设计", "Creative design"),
    "media": ("媒体融合", "Media convergence"),
    "film_tv": ("广播影视", "Radio, film and TV"),
    "publishing": ("出版发行", "Publishing and distribution"),
    "animation_games": ("动漫游戏", "Animation and games"),
    "performing_arts": ("演艺娱乐", "Performing arts and entertainment"),
    "expos_folk_arts": ("文博非遗", "Museums, relics and intangible heritage"),
    "art_exchange": ("艺术品交易", "Art trading"),
    "think_tanks": ("文创智库", "CCI think tanks"),
}
"""Chinese and English names of each sector code."""

STUDY_REGION: tuple[float, float, float, float] = (113.0, 36.0, 120.5, 42.8)
"""Default study region: bounding box (west, south, east, north) of Beijing-Tianjin-Hebei
(Jing-Jin-Ji) with a margin, EPSG:4326. Pass ``region=`` to :func:`validate`,
:func:`cci_geo.read_layer` or :class:`cci_geo.Atlas` for another study area."""

Region = tuple[float, float, float, float]


def check_region(region: object, name: str = "region") -> Region:
    """Return ``region`` as a checked ``(west, south, east, north)`` box in degrees.

    ``None`` gives the default :data:`STUDY_REGION`.

    Raises
    ------
    cci_geo.errors.ParameterError
        If it is not four finite numbers with west < east and south < north within ±180/±90.

    Examples
    --------
    >>> check_region((120.85, 30.67, 122.2, 31.88))   # Shanghai
    (120.85, 30.67, 122.2, 31.88)
    """
    from .errors import ParameterError

    if region is None:
        return STUDY_REGION
    try:
        w, s, e, n = (float(v) for v in region)  # type: ignore[union-attr, attr-defined]
    except (TypeError, ValueError) as exc:
        msg = (f"{name} must be (west, south, east, north) in degrees (EPSG:4326), got "
               f"{region!r}; e.g. region=(120.85, 30.67, 122.2, 31.88) for Shanghai.")
        raise ParameterError(msg) from exc
    ok = all(np.isfinite([w, s, e, n])) and -180 <= w < e <= 180 and -90 <= s < n <= 90
    if not ok:
        msg = (f"{name}={region!r} is not a box (west, south, east, north) in degrees with "
               "west < east and south < north; check the order of the four numbers.")
        raise ParameterError(msg)
    return (w, s, e, n)


@dataclass(frozen=True)
class Column:
    """One column of a layer kind.

    ``dtype`` is one of ``"str"``, ``"int"``, ``"float"``, ``"bool"``, ``"sectors"`` (one or
    more sector codes separated by ``;``) or ``"sector"`` (exactly one code). ``choices``
    restricts string values; ``min_value`` bounds numbers from below.
    """

    name: str
    dtype: str = "str"
    required: bool = False
    choices: tuple[str, ...] | None = None
    min_value: float | None = None
    description: str = ""


@dataclass(frozen=True)
class LayerSpec:
    """Geometry types and columns of one layer kind."""

    kind: str
    geom_types: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str

    def column(self, name: str) -> Column | None:
        """Return the column spec named ``name`` or None."""
        return next((c for c in self.columns if c.name == name), None)


_POLY = ("Polygon", "MultiPolygon")
_POLY_OR_POINT = ("Polygon", "MultiPolygon", "Point")
_NAMES = (Column("name_zh", description="Chinese name"),
          Column("name_en", description="English name"))
_ID = Column("id", "str", required=True, description="unique identifier")

LAYER_SPECS: dict[str, LayerSpec] = {
    spec.kind: spec
    for spec in (
        LayerSpec("districts", _POLY, (
            _ID, *_NAMES,
            Column("adcode", "str", True, description="6-digit administrative division code"),
            Column("level", "str", True, ("province", "city", "district")),
            Column("province", "str", True),
        ), "administrative units: Beijing districts, Tianjin, Hebei prefecture cities"),
        LayerSpec("functional_areas", _POLY, (
            _ID, *_NAMES,
            Column("district", "str", True, description="district name or adcode"),
            Column("designated", "int", description="year of designation"),
            Column("sectors", "sectors"),
        ), "CCI functional areas of the municipal plan"),
        LayerSpec("demonstrative_regions", _POLY_OR_POINT, (
            _ID, *_NAMES,
            Column("level", "str", True, ("municipal", "national")),
            Column("designated", "int", description="year of designation"),
        ), "CCI demonstration parks and regions"),
        LayerSpec("zones", _POLY_OR_POINT, (
            _ID, *_NAMES,
            Column("kind", "str", True, ("park", "base", "cluster")),
            Column("status", "str"),
            Column("sectors", "sectors"),
        ), "CCI parks, bases and clusters"),
        LayerSpec("factory_sites", _POLY_OR_POINT, (
            _ID, *_NAMES,
            Column("former_use", "str"),
            Column("built_year", "int"),
            Column("floor_area_m2", "float", min_value=0.0),
            Column("status", "str", True, ("reused", "vacant", "candidate")),
            Column("heritage", "bool"),
        ), "old factory buildings: reused as creative space, vacant, or candidates"),
        LayerSpec("venues", ("Point",), (
            _ID, *_NAMES,
            Column("kind", "str", True,
                   ("library", "museum", "gallery", "theatre", "cultural_centre")),
            Column("open_space_m2", "float", True, min_value=0.0,
                   description="floor space open to the public"),
        ), "libraries, museums, galleries and theatres open to the public"),
        LayerSpec("enterprises", ("Point",), (
            _ID,
            Column("sector", "sector", True),
            Column("revenue_cny", "float", True, min_value=0.0),
            Column("employees", "int", True, min_value=0.0),
            Column("founded", "int", description="year the enterprise was founded"),
            Column("closed", "int", description="year the enterprise closed (empty while it "
                   "operates); it operates in the years founded <= year < closed"),
        ), "creative enterprises, one point each"),
        LayerSpec("nodes", ("Point",), (
            _ID, *_NAMES, Column("province", "str", True), Column("role", "str"),
        ), "Jing-Jin-Ji cities and hubs"),
        LayerSpec("corridors", ("LineString", "MultiLineString"), (
            _ID, *_NAMES, Column("kind", "str", True),
            Column("node_ids", "str", description="node ids in order, ';'-separated"),
        ), "Jing-Jin-Ji development axes, cultural belts and rail links"),
        LayerSpec("stations", ("Point",), (
            _ID, *_NAMES, Column("mode", "str", True),
            Column("lines", "str", description="ids of the lines served, ';'-separated"),
            Column("n_entrances", "int", min_value=0.0,
                   description="number of mapped entrances"),
        ), "transit stations"),
        LayerSpec("station_entrances", ("Point",), (
            _ID, Column("station_id", "str", True, description="id of its station"),
            Column("ref", "str", description="entrance letter (A, B, C1...)"),
            Column("access_point", "str", True, ("entrance", "station"),
                   description="'station' where no entrance is mapped and the station point "
                               "stands in for its entrances"),
        ), "where people enter transit stations: mapped entrances, else the station point"),
        LayerSpec("transit_lines", ("LineString", "MultiLineString"), (
            _ID, *_NAMES, Column("mode", "str", True),
            Column("station_ids", "str", True,
                   description="station ids in running order, ';'-separated"),
            Column("loop", "bool"),
            Column("track_length_m", "float", min_value=0.0,
                   description="official track length"),
        ), "transit lines drawn through their stations in running order"),
    )
}
"""Specification of every layer kind, keyed by kind."""

LAYER_KINDS: tuple[str, ...] = tuple(LAYER_SPECS)


@dataclass(frozen=True)
class TableSpec:
    """Columns and key of one table kind: a table without geometry kept in an atlas."""

    kind: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    geom_types: tuple[str, ...] = ()

    column = LayerSpec.column


TABLE_SPECS: dict[str, TableSpec] = {
    spec.kind: spec
    for spec in (
        TableSpec("enterprise_years", ("enterprise_id", "year"), (
            Column("enterprise_id", "str", True, description="id of a row of the enterprises "
                   "layer"),
            Column("year", "int", True, min_value=1900, description="calendar year"),
            Column("revenue_cny", "float", min_value=0.0, description="revenue in that year, "
                   "yuan"),
            Column("employees", "int", min_value=0.0, description="employees in that year"),
        ), "annual observations of enterprises: one row per enterprise and year (long "
           "format)"),
    )
}
"""Specification of every table kind (tables without geometry), keyed by kind."""

TABLE_KINDS: tuple[str, ...] = tuple(TABLE_SPECS)


def check(gdf: gpd.GeoDataFrame, kind: str, *, layer: str | None = None,
          assume_crs: str | None = None,
          region: Region | None = None) -> tuple[gpd.GeoDataFrame | None, list]:
    """Check ``gdf`` against ``kind`` and return ``(checked_frame_or_None, problems)``.

    Unlike :func:`validate` this never raises for data problems: it returns every problem
    found (errors and warnings, as :class:`cci_geo.errors.Problem`) so a report can list them
    all. The frame is None when errors prevent building it. Parameters as :func:`validate`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> gdf = gpd.GeoDataFrame({"id": ["a"], "kind": ["park"]}, geometry=[Point(121.5, 31.2)],
    ...                        crs="EPSG:4326")
    >>> [p.check for p in check(gdf, "zones")[1]]           # Shanghai is outside Jing-Jin-Ji
    ['outside_region']
    >>> check(gdf, "zones", region=(120.85, 30.67, 122.2, 31.88))[1]
    []
    """
    from ._schema_checks import run_checks

    return run_checks(gdf, kind, layer=layer, assume_crs=assume_crs,
                      region=check_region(region))


def validate(gdf: gpd.GeoDataFrame, kind: str, *, layer: str | None = None,
             assume_crs: str | None = None,
             region: Region | None = None) -> gpd.GeoDataFrame:
    """Return a validated copy of ``gdf`` as a layer of ``kind``, in EPSG:4326.

    Checks required columns and their types, geometry types, invalid geometries (repaired with
    :func:`shapely.make_valid`, with a warning that counts them), empty or missing geometries,
    a missing CRS (an error unless ``assume_crs`` says what to assume), coordinates outside the
    study region (``region``; default Jing-Jin-Ji) or with latitude and longitude swapped,
    duplicate ids,
    sector codes outside the nine, values outside allowed choices, and NaN in required numeric
    columns. Extra columns are kept; ``id`` becomes a string column. The input is never
    modified.

    Parameters
    ----------
    gdf
        The layer to check.
    kind
        One of :data:`LAYER_KINDS`.
    layer
        Name used in messages (default: ``kind``).
    assume_crs
        CRS to assume when ``gdf`` has none (e.g. ``"EPSG:4326"``).
    region
        Study region ``(west, south, east, north)`` in EPSG:4326 that every feature's centre
        must lie in; default :data:`STUDY_REGION` (Jing-Jin-Ji). An :class:`~cci_geo.Atlas`
        passes its own ``region``.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326 with coerced column types.

    Raises
    ------
    TypeError
        If ``gdf`` is not a GeoDataFrame.
    ValueError
        If ``kind`` is unknown.
    cci_geo.SchemaError
        Listing every problem found, each with the column, the rows and the fix.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> parks = gpd.GeoDataFrame({"id": [1], "kind": ["park"]}, geometry=[Point(116.49, 39.98)],
    ...                          crs="EPSG:4326")
    >>> out = validate(parks, "zones")
    >>> out["id"].tolist(), out.crs.to_epsg()
    (['1'], 4326)
    """
    import warnings

    from .errors import SchemaError

    out, problems = check(gdf, kind, layer=layer, assume_crs=assume_crs, region=region)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise SchemaError(errors, layer=layer or kind)
    for p in problems:
        warnings.warn(str(p), UserWarning, stacklevel=2)
    if out is None:  # pragma: no cover - no errors always yields a frame
        raise SchemaError(problems, layer=layer or kind)
    return out


def validate_table(df: pd.DataFrame, kind: str, *, layer: str | None = None,
                   enterprises: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return a validated copy of ``df`` as a table of ``kind`` (a table without geometry).

    Checks required columns and their types (as :func:`validate` does for layers), NaN in the
    key, duplicate keys (one row per enterprise and year) and, when ``enterprises`` is given,
    that every ``enterprise_id`` is an id of that layer and that each year lies within the
    enterprise's ``founded`` .. ``closed - 1`` years. Extra columns are kept; the input is
    never modified; rows come back sorted by the key.

    Parameters
    ----------
    df
        The table, e.g. annual observations in long format.
    kind
        One of :data:`TABLE_KINDS`.
    layer
        Name used in messages (default: ``kind``).
    enterprises
        Optional enterprises layer to check ids and years against.

    Returns
    -------
    pandas.DataFrame
        A new frame with coerced column types and a fresh 0..n-1 index.

    Raises
    ------
    TypeError
        If ``df`` is not a DataFrame.
    ValueError
        If ``kind`` is unknown.
    cci_geo.SchemaError
        Listing every problem found, each with the column, the rows and the fix.

    Examples
    --------
    >>> import pandas as pd
    >>> from cci_geo.schema import validate_table
    >>> obs = pd.DataFrame({"enterprise_id": ["E1", "E1"], "year": [2021, 2020],
    ...                     "revenue_cny": [2.0e6, 1.5e6], "employees": [12, 10]})
    >>> validate_table(obs, "enterprise_years")["year"].tolist()
    [2020, 2021]
    """
    from ._table_checks import run_table_checks
    from .errors import SchemaError

    out, problems = run_table_checks(df, kind, layer=layer, enterprises=enterprises)
    if out is None:
        raise SchemaError(problems, layer=layer or kind)
    return out
