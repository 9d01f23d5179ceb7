"""Atlases and result layers in PostgreSQL/PostGIS (through psycopg 3).

A database holds an atlas as one table per layer kind (``zones``, ``venues``...) with a PostGIS
``geometry`` column, plus the table ``cci_geo_metadata`` with each layer's provenance, as
:meth:`cci_geo.Atlas.to_gpkg` does in a GeoPackage. Reading validates every layer; writing an
atlas (or a result layer) happens in one transaction, so a failure leaves the database as it
was. Needs the ``postgis`` extra (``pip install "cci_geo[postgis]"``: psycopg 3 with its
binary build) and the PostGIS extension in the database.

A URL is a libpq connection URI, ``postgresql://user:password@host:port/dbname``; an extra
``?schema=name`` (or the ``schema=`` argument) chooses the schema (default ``public``).
"""

from __future__ import annotations

import decimal
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import DataError, OutputExistsError, ParameterError, ParameterTypeError

if TYPE_CHECKING:
    from .atlas import Atlas

__all__ = ["is_postgis_url", "read_atlas", "read_table", "write_atlas", "write_layer"]

logger = logging.getLogger(__name__)

META_TABLE = "cci_geo_metadata"
GEOMETRY_COLUMN = "geom"
_SCHEMES = ("postgresql://", "postgres://")
_PANDAS_TYPES = {"double precision": "float64", "real": "float64", "numeric": "float64",
                 "bigint": "Int64", "integer": "Int64", "smallint": "Int64",
                 "boolean": "boolean"}


def is_postgis_url(source: object) -> bool:
    """Return True if ``source`` is a ``postgresql://`` (or ``postgres://``) URL.

    Examples
    --------
    >>> is_postgis_url("postgresql://planner@db.example/cci"), is_postgis_url("atlas.gpkg")
    (True, False)
    """
    return isinstance(source, str) and source.startswith(_SCHEMES)


def _split(url: str, schema: str | None) -> tuple[str, str]:
    """Return the libpq URL without ``schema=`` and the schema to use."""
    if not is_postgis_url(url):
        msg = f"not a PostgreSQL URL: {url!r}; write postgresql://user@host:port/dbname."
        raise ParameterError(msg)
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = [v for k, v in query if k == "schema"]
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    chosen = schema or (given[-1] if given else "public")
    return urlunsplit(parts._replace(query=rest)), chosen


def _connect(url: str) -> Any:  # noqa: ANN401 - psycopg.Connection, imported lazily
    try:
        import psycopg
    except ImportError as exc:
        msg = ("PostGIS support needs psycopg 3: pip install 'cci_geo[postgis]' "
               "(or pip install 'psycopg[binary]').")
        raise DataError(msg) from exc
    try:
        return psycopg.connect(url)
    except psycopg.OperationalError as exc:
        safe = urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl()
        msg = f"cannot connect to {safe}: {str(exc).strip()}"
        raise DataError(msg) from exc


def _ident(*names: str) -> Any:  # noqa: ANN401 - psycopg.sql.Identifier
    from psycopg import sql

    return sql.Identifier(*names)


def _geometry_tables(conn: Any, schema: str) -> dict[str, tuple[str, int]]:  # noqa: ANN401
    rows = conn.execute(
        "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
        "WHERE f_table_schema = %s ORDER BY f_table_name", (schema,)).fetchall()
    return {str(t): (str(c), int(s)) for t, c, s in rows}


def _tables(conn: Any, schema: str) -> list[str]:  # noqa: ANN401
    rows = conn.execute("SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = %s ORDER BY table_name", (schema,)).fetchall()
    return [str(r[0]) for r in rows]


def _plain(value: object) -> object:
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _read(conn: Any, schema: str, table: str,  # noqa: ANN401
          geometry: tuple[str, int] | None) -> pd.DataFrame:
    from psycopg import sql

    described = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s ORDER BY ordinal_position", (schema, table)).fetchall()
    cols = [str(r[0]) for r in described]
    types = {str(c): str(t) for c, t in described}
    geom_col = geometry[0] if geometry else None
    attrs = [c for c in cols if c != geom_col]
    fields: list[Any] = [sql.Identifier(c) for c in attrs]
    if geom_col:
        fields.append(sql.SQL("ST_AsBinary({})").format(sql.Identifier(geom_col)))
    query = sql.SQL("SELECT {} FROM {} ORDER BY ctid").format(
        sql.SQL(", ").join(fields), _ident(schema, table))
    rows = conn.execute(query).fetchall()
    data = {c: [_plain(r[i]) for r in rows] for i, c in enumerate(attrs)}
    df = pd.DataFrame(data, columns=attrs)
    for c in attrs:  # keep the SQL type when a column is all NULL or has NULLs
        dtype = _PANDAS_TYPES.get(types[c])
        if dtype is not None:
            df[c] = df[c].astype(dtype)
    if geometry is None:
        return df
    wkb = [r[-1] for r in rows]
    geoms = shapely.from_wkb([bytes(w) if w is not None else None for w in wkb])
    crs = f"EPSG:{geometry[1]}" if geometry[1] > 0 else None
    return gpd.GeoDataFrame(df, geometry=geoms, crs=crs)


def read_table(url: str, table: str, *, schema: str | None = None) -> gpd.GeoDataFrame:
    """Read one PostGIS table (or view) as a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    url
        ``postgresql://user@host:port/dbname`` (``?schema=name`` optional).
    table
        Table name; it must have one geometry column registered in ``geometry_columns``.
    schema
        Schema of the table (default: the URL's ``schema=``, else ``public``).

    Returns
    -------
    geopandas.GeoDataFrame
        Rows in storage order, reprojected to EPSG:4326.

    Raises
    ------
    cci_geo.errors.DataError
        If the database cannot be reached or holds no such spatial table.

    Examples
    --------
    With a PostGIS server, ``read_table("postgresql://planner@localhost/cci?schema=beijing",
    "venues")`` returns that table in EPSG:4326 (a round trip runs in ``tests/test_postgis.py``
    when ``CCI_GEO_POSTGIS_URL`` names a database). The URL is checked before anything
    connects:

    >>> from cci_geo.errors import ParameterError
    >>> try:
    ...     read_table("atlas.gpkg", "venues")
    ... except ParameterError as exc:
    ...     print(exc)
    not a PostgreSQL URL: 'atlas.gpkg'; write postgresql://user@host:port/dbname.
    """
    dsn, schema = _split(url, schema)
    with _connect(dsn) as conn:
        spatial = _geometry_tables(conn, schema)
        if table not in spatial:
            msg = (f"schema {schema!r} has no spatial table {table!r}; its spatial tables are "
                   f"{sorted(spatial)}.")
            raise DataError(msg)
        gdf = _read(conn, schema, table, spatial[table])
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    return gdf


def read_atlas(url: str, *, schema: str | None = None, validate_layers: bool = True,
               metric_crs: str | None = None,
               region: tuple[float, float, float, float] | str | None = None) -> Atlas:
    """Read the atlas held in ``schema`` of the database at ``url``, validating every layer.

    Tables named after a layer kind become layers (reprojected to EPSG:4326); tables without
    geometry named after a table kind (``enterprise_years``) become the atlas's
    :attr:`~cci_geo.atlas.Atlas.tables`; ``cci_geo_metadata``, when present, supplies
    provenance, the atlas name, metric CRS and study region; ``metric_crs`` and ``region``
    override the stored ones.

    Raises
    ------
    cci_geo.errors.DataError
        If the database cannot be reached or the schema has no table named after a kind.
    cci_geo.SchemaError
        If a layer fails validation.

    Examples
    --------
    With a PostGIS server, ``read_atlas("postgresql://planner@localhost/cci?schema=beijing")``
    returns an :class:`~cci_geo.atlas.Atlas` (see ``tests/test_postgis.py``, run when
    ``CCI_GEO_POSTGIS_URL`` names a database). The URL is checked before anything connects:

    >>> from cci_geo.errors import ParameterError
    >>> try:
    ...     read_atlas("atlas.gpkg")
    ... except ParameterError as exc:
    ...     print(exc)
    not a PostgreSQL URL: 'atlas.gpkg'; write postgresql://user@host:port/dbname.
    """
    from .atlas import Atlas
    from .schema import LAYER_KINDS, TABLE_KINDS

    dsn, schema = _split(url, schema)
    with _connect(dsn) as conn:
        spatial = _geometry_tables(conn, schema)
        present = set(_tables(conn, schema))
        plain = [k for k in TABLE_KINDS if k in present and k not in spatial]
        kinds = [k for k in LAYER_KINDS if k in spatial]
        if not kinds:
            msg = (f"schema {schema!r} of {dsn.rsplit('/', 1)[-1]} has no spatial table named "
                   f"after a layer kind (spatial tables: {sorted(spatial)}); name them "
                   f"{list(LAYER_KINDS)}.")
            raise DataError(msg)
        frames = {k: _read(conn, schema, k, spatial[k]) for k in kinds}
        extra = {k: _read(conn, schema, k, None) for k in plain}
        meta = _read(conn, schema, META_TABLE, None) if META_TABLE in present else None
    frames = {k: g.to_crs("EPSG:4326") if g.crs is not None and g.crs.to_epsg() != 4326 else g
              for k, g in frames.items()}
    where = f"postgis:{schema}"
    return Atlas.from_tables(frames, meta, where=where, validate_layers=validate_layers,
                             attribute_tables=extra, metric_crs=metric_crs, region=region)


def _sql_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "bigint"
    if pd.api.types.is_float_dtype(s):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "timestamp"
    return "text"


def _values(s: pd.Series) -> list[object]:
    return [None if v is None or (not isinstance(v, str | bytes) and pd.isna(v)) else v
            for v in s.tolist()]


def _write_table(conn: Any, schema: str, table: str, df: pd.DataFrame, *,  # noqa: ANN401
                 overwrite: bool, existing: set[str]) -> None:
    from psycopg import sql

    if table in existing:
        if not overwrite:
            msg = (f"table {schema}.{table} already exists; pass overwrite=True "
                   "(CLI: --overwrite) to replace it.")
            raise OutputExistsError(msg)
        conn.execute(sql.SQL("DROP TABLE {}").format(_ident(schema, table)))
    spatial = isinstance(df, gpd.GeoDataFrame)
    attrs = [c for c in df.columns if not (spatial and c == df.geometry.name)]
    if GEOMETRY_COLUMN in attrs and spatial:
        msg = f"{table}: rename the column {GEOMETRY_COLUMN!r}; it is the geometry's name."
        raise ParameterError(msg)
    defs = [sql.SQL("{} {}").format(sql.Identifier(str(c)), sql.SQL(_sql_type(df[c])))
            for c in attrs]
    if spatial:
        defs.append(sql.SQL("{} geometry(Geometry, 4326)").format(
            sql.Identifier(GEOMETRY_COLUMN)))
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(
        _ident(schema, table), sql.SQL(", ").join(defs)))
    names = [*attrs, GEOMETRY_COLUMN] if spatial else attrs
    columns: list[list[object]] = [_values(df[c]) for c in attrs]
    if spatial:
        geoms = shapely.set_srid(df.to_crs("EPSG:4326").geometry.values, 4326)
        columns.append([None if g is None else shapely.to_wkb(g, hex=True, include_srid=True)
                        for g in geoms])
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        _ident(schema, table), sql.SQL(", ").join(sql.Identifier(str(c)) for c in names))
    with conn.cursor().copy(copy_sql) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)
    if spatial:
        conn.execute(sql.SQL("CREATE INDEX ON {} USING GIST ({})").format(
            _ident(schema, table), sql.Identifier(GEOMETRY_COLUMN)))


def _write(url: str, schema: str | None, tables: Mapping[str, pd.DataFrame], *,
           overwrite: bool, metadata: pd.DataFrame | None = None) -> str:
    dsn, schema = _split(url, schema)
    conn = _connect(dsn)  # a DataError naming the fix when psycopg or the server is missing
    import psycopg

    try:
        with conn, conn.transaction():
            _write_all(conn, schema, tables, overwrite=overwrite, metadata=metadata)
    except psycopg.Error as exc:
        msg = (f"writing {list(tables)} to PostGIS schema {schema!r} failed and was rolled "
               f"back (nothing was written): {str(exc).strip()}")
        raise DataError(msg) from exc
    logger.info("wrote %s to PostGIS schema %s", list(tables), schema)
    return schema


def _write_all(conn: Any, schema: str, tables: Mapping[str, pd.DataFrame], *,  # noqa: ANN401
               overwrite: bool, metadata: pd.DataFrame | None) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(_ident(schema)))
    existing = set(_tables(conn, schema))
    for name, df in tables.items():
        _write_table(conn, schema, name, df, overwrite=overwrite, existing=existing)
    if metadata is not None:
        if META_TABLE not in existing:
            _write_table(conn, schema, META_TABLE, metadata, overwrite=False,
                         existing=set())
        else:  # keep the provenance of layers written earlier, replace these layers'
            old = _read(conn, schema, META_TABLE, None)
            old = old[~old["layer"].isin(metadata["layer"])]
            merged = pd.concat([old, metadata], ignore_index=True).astype(str)
            _write_table(conn, schema, META_TABLE, merged, overwrite=True,
                         existing={META_TABLE})


def write_atlas(atlas: Atlas, url: str, *, schema: str | None = None,
                overwrite: bool = False) -> str:
    """Write every layer of ``atlas`` and its provenance to PostGIS, in one transaction.

    Each layer becomes table ``<schema>.<kind>`` (geometry column ``geom``, EPSG:4326, with a
    GiST index), each table without geometry (:attr:`~cci_geo.atlas.Atlas.tables`, e.g. the
    ``enterprise_years`` panel) a plain table of its kind; ``cci_geo_metadata`` holds the
    provenance, atlas name and metric CRS.

    Returns
    -------
    str
        The schema written.

    Raises
    ------
    FileExistsError
        If a layer's table exists and ``overwrite`` is false (nothing is written).
    cci_geo.errors.DataError
        If the database cannot be reached.

    Examples
    --------
    With a PostGIS server, ``write_atlas(atlas, "postgresql://planner@localhost/cci",
    schema="beijing")`` returns ``"beijing"`` (see ``tests/test_postgis.py``, run when
    ``CCI_GEO_POSTGIS_URL`` names a database). A file path is refused before anything is
    written:

    >>> import cci_geo
    >>> atlas = cci_geo.Atlas({}, name="empty")
    >>> from cci_geo.errors import ParameterError
    >>> try:
    ...     write_atlas(atlas, "atlas.gpkg")
    ... except ParameterError as exc:
    ...     print(exc)
    not a PostgreSQL URL: 'atlas.gpkg'; write postgresql://user@host:port/dbname.
    """
    return _write(url, schema, {**atlas.layers, **atlas.tables}, overwrite=overwrite,
                  metadata=atlas._metadata())  # noqa: SLF001 - the atlas's own record


def write_layer(gdf: gpd.GeoDataFrame, url: str, table: str, *, schema: str | None = None,
                overwrite: bool = False) -> str:
    """Write a layer or an analysis result to table ``<schema>.<table>`` in one transaction.

    Returns
    -------
    str
        ``"<schema>.<table>"``.

    Raises
    ------
    FileExistsError
        If the table exists and ``overwrite`` is false.

    Examples
    --------
    With a PostGIS server, ``write_layer(sites, "postgresql://planner@localhost/cci",
    "top_sites", schema="results")`` returns ``"results.top_sites"`` (see
    ``tests/test_postgis.py``, run when ``CCI_GEO_POSTGIS_URL`` names a database). Anything
    but a GeoDataFrame is refused before connecting:

    >>> from cci_geo.errors import ParameterTypeError
    >>> try:
    ...     write_layer({"id": [1]}, "postgresql://planner@localhost/cci", "top_sites")
    ... except ParameterTypeError as exc:
    ...     print(exc)
    write_layer needs a GeoDataFrame, got dict.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"write_layer needs a GeoDataFrame, got {type(gdf).__name__}."
        raise ParameterTypeError(msg)
    written = _write(url, schema, {table: gdf}, overwrite=overwrite)
    return f"{written}.{table}"
