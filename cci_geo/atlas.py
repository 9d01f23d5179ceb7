"""The :class:`Atlas`: named, validated CCI layers with their provenance.

An atlas maps layer kinds (``"districts"``, ``"zones"``, ``"enterprises"``...) to validated
GeoDataFrames stored in EPSG:4326, records where each layer came from, and fixes the metric CRS
used for distances and areas. It round-trips through a single GeoPackage.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ._crs import check_metric_crs, estimate_utm_crs, lonlat_bounds, stamp_metric_crs
from ._files import atomic_path
from ._validate import REGION_ATTR
from .errors import DataError, MissingFileError, ParameterError, opt
from .schema import LAYER_KINDS, TABLE_KINDS, Region, check_region, validate, validate_table

__all__ = ["PROVENANCE_FIELDS", "STATUSES", "Atlas"]

logger = logging.getLogger(__name__)

PROVENANCE_FIELDS: tuple[str, ...] = ("source", "licence", "datum", "status", "notes",
                                      "attribution")
"""Keys of each layer's provenance record. ``attribution`` is the credit line a licence
requires on every map that draws the layer (e.g. OpenStreetMap's ODbL), with any coverage gap
a reader must know; maps print it as given."""

STATUSES: tuple[str, ...] = ("real", "approximate", "synthetic")
"""Allowed words in a provenance ``status`` (several may be combined, e.g. 'approximate;
synthetic' for a layer mixing real places at approximate positions and synthetic rows)."""

_META_TABLE = "cci_geo_metadata"

_REGION_MARGIN_DEG = 0.5
"""Margin (degrees) added around the data's extent when the region is estimated."""


def _data_region(layers: Mapping[str, gpd.GeoDataFrame]) -> Region:
    bounds = lonlat_bounds(tuple(layers.values()))
    if bounds is None:
        msg = ("region='data' needs at least one layer with a CRS and geometries; pass "
               "region=(west, south, east, north) instead.")
        raise ParameterError(msg)
    w, s, e, n = bounds
    m = _REGION_MARGIN_DEG
    return check_region((max(-180.0, w - m), max(-90.0, s - m), min(180.0, e + m),
                         min(90.0, n + m)))


def _parse_region(text: str, where: str) -> Region:
    try:
        return check_region(tuple(float(v) for v in text.split(",")))
    except (ValueError, TypeError) as exc:
        msg = (f"{where} stores region {text!r} in {_META_TABLE}, which is not 'west,south,east,"
               "north'; fix the table or pass " + opt("region=", "--region")
               + " when reading the atlas.")
        raise DataError(msg) from exc


def _check_status(kind: str, status: str) -> None:
    words = [w.strip() for w in str(status).replace(",", ";").split(";") if w.strip()]
    if not words or any(w not in STATUSES for w in words):
        msg = (f"provenance of {kind!r} has status {status!r}; use one or more of "
               f"{list(STATUSES)} separated by ';'.")
        raise ParameterError(msg)


class Atlas(Mapping[str, gpd.GeoDataFrame]):
    """A mapping of layer kind -> validated GeoDataFrame (EPSG:4326), with provenance.

    Parameters
    ----------
    layers
        Mapping of kind to GeoDataFrame. Each is validated with :func:`cci_geo.validate`
        (a copy is stored; the caller's frames are not modified).
    provenance
        Mapping of kind to a dict with ``source``, ``licence``, ``datum`` (of the original
        data), ``status`` (``real``, ``approximate`` and/or ``synthetic``) and optional
        ``notes`` and ``attribution`` (a credit line shown on maps). Missing entries are
        recorded as unknown.
    metric_crs
        Projected CRS (metres) for metric work, e.g. ``"EPSG:32650"`` (UTM 50N, Beijing) or a
        CGCS2000 Gauss-Krüger zone such as ``"EPSG:4546"``. Default: the UTM zone of the
        layers' joint extent (logged at INFO). Stamped on every layer in
        ``gdf.attrs["cci_geo_metric_crs"]``, so every analysis given a layer of this atlas
        measures in it (see :func:`cci_geo._crs.resolve_metric_crs`).
    name
        Title used in summaries, map titles and attributions.
    name_zh
        The atlas's name in Chinese, used as the title of Chinese maps and reports (default:
        ``name``); see :meth:`display_name`.
    tables
        Mapping of table kind (see :data:`cci_geo.schema.TABLE_KINDS`, e.g.
        ``"enterprise_years"``: annual observations in long format) to a DataFrame without
        geometry. Each is validated with :func:`cci_geo.schema.validate_table` (against the
        ``enterprises`` layer when there is one); provenance is given in ``provenance`` under
        the table kind, like a layer's.
    region
        Study region ``(west, south, east, north)`` in EPSG:4326 every layer must lie in;
        default Jing-Jin-Ji (:data:`cci_geo.schema.STUDY_REGION`); ``"data"`` takes the
        layers' own extent plus half a degree.

    Examples
    --------
    >>> import cci_geo
    >>> atlas = cci_geo.load_demo()
    >>> atlas.crs, atlas.metric_crs
    ('EPSG:4326', 'EPSG:32650')
    >>> atlas["zones"].attrs["cci_geo_metric_crs"]
    'EPSG:32650'
    >>> len(atlas["districts"].query("province == 'Beijing'"))
    16

    A Shanghai atlas: the metric CRS (UTM 51N) is estimated, the region given.

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> parks = gpd.GeoDataFrame({"id": ["p1", "p2"], "kind": ["park", "park"]},
    ...                          geometry=[Point(121.47, 31.23), Point(121.5, 31.3)],
    ...                          crs="EPSG:4326")
    >>> sh = cci_geo.Atlas({"zones": parks}, region=(120.85, 30.67, 122.2, 31.88))
    >>> sh.metric_crs, sh.region
    ('EPSG:32651', (120.85, 30.67, 122.2, 31.88))
    """

    crs = "EPSG:4326"

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame],
                 provenance: Mapping[str, Mapping[str, str]] | None = None, *,
                 metric_crs: str | None = None, name: str = "CCI atlas",
                 tables: Mapping[str, pd.DataFrame] | None = None,
                 region: Region | str | None = None, name_zh: str | None = None,
                 _validated: bool = False) -> None:
        for kind in layers:
            if kind not in LAYER_KINDS:
                msg = f"unknown layer kind {kind!r}; use one of {list(LAYER_KINDS)}."
                raise ParameterError(msg)
        if isinstance(region, str):
            if region != "data":
                msg = (f"region must be (west, south, east, north) in degrees, 'data' or None, "
                       f"got {region!r}.")
                raise ParameterError(msg)
            self.region: Region = _data_region(layers)
        else:
            self.region = check_region(region)
        self._layers: dict[str, gpd.GeoDataFrame] = {}
        for kind, gdf in layers.items():
            self._layers[kind] = gdf.copy() if _validated else validate(gdf, kind,
                                                                        region=self.region)
        self._tables: dict[str, pd.DataFrame] = {}
        for kind, df in (tables or {}).items():
            if kind not in TABLE_KINDS:
                msg = f"unknown table kind {kind!r}; use one of {list(TABLE_KINDS)}."
                raise ParameterError(msg)
            self._tables[kind] = df.copy() if _validated else validate_table(
                df, kind, enterprises=self._layers.get("enterprises"))
        if metric_crs is None:
            metric_crs = estimate_utm_crs(lonlat_bounds(tuple(self._layers.values()))
                                          or self.region)
            logger.info("atlas %s measures in %s (UTM zone estimated from its extent); pass "
                        "metric_crs= to choose", name, metric_crs)
        self.metric_crs: str = check_metric_crs(metric_crs)
        for gdf in self._layers.values():
            stamp_metric_crs(gdf, self.metric_crs)
            gdf.attrs[REGION_ATTR] = tuple(self.region)  # analyses check coordinates against it
        prov = {k: dict(v) for k, v in (provenance or {}).items()}
        self._provenance: dict[str, dict[str, str]] = {}
        for kind in [*self._layers, *self._tables]:
            rec = dict.fromkeys(PROVENANCE_FIELDS[:4], "unknown") | {"notes": "",
                                                                     "attribution": ""}
            rec.update({k: str(v) for k, v in prov.get(kind, {}).items()})
            if rec["status"] != "unknown":
                _check_status(kind, rec["status"])
            self._provenance[kind] = rec
        self.name = name
        self.name_zh = name_zh or None

    def display_name(self, lang: str = "en") -> str:
        """Return the atlas's name in ``lang`` (``"zh"`` uses :attr:`name_zh` when set).

        Examples
        --------
        >>> import cci_geo
        >>> demo = cci_geo.load_demo()
        >>> demo.display_name("en"), demo.display_name("zh")
        ('Beijing CCI demo atlas', '北京文化创意产业示例图集')
        """
        return self.name_zh if lang == "zh" and self.name_zh else self.name

    # -- mapping protocol ------------------------------------------------------------------
    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        try:
            return self._layers[kind]
        except KeyError:
            msg = f"this atlas has no {kind!r} layer; it has {list(self._layers)}."
            raise KeyError(msg) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    # -- properties ------------------------------------------------------------------------
    @property
    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """A new dict of kind -> GeoDataFrame (the frames themselves are shared)."""
        return dict(self._layers)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """A new dict of table kind -> DataFrame (tables without geometry, e.g. the annual
        observations ``"enterprise_years"``); empty when the atlas has none."""
        return dict(self._tables)

    def table(self, kind: str) -> pd.DataFrame:
        """Return table ``kind`` (e.g. ``"enterprise_years"``)."""
        try:
            return self._tables[kind]
        except KeyError:
            msg = (f"this atlas has no {kind!r} table; it has {list(self._tables) or 'none'}. "
                   "Add one with atlas.with_table(kind, df).")
            raise KeyError(msg) from None

    @property
    def provenance(self) -> dict[str, dict[str, str]]:
        """Per layer: ``source``, ``licence``, ``datum``, ``status`` and ``notes``."""
        return {k: dict(v) for k, v in self._provenance.items()}

    def is_synthetic(self, kind: str) -> bool:
        """Return True if layer ``kind`` is wholly or partly synthetic.

        Examples
        --------
        >>> import cci_geo
        >>> cci_geo.load_demo().is_synthetic("enterprises")
        True
        """
        return "synthetic" in self._provenance[kind]["status"]

    def to_metric(self, kind: str) -> gpd.GeoDataFrame:
        """Return layer ``kind`` reprojected to :attr:`metric_crs` (a new frame).

        Examples
        --------
        >>> import cci_geo
        >>> cci_geo.load_demo().to_metric("venues").crs.to_epsg()
        32650
        """
        return self[kind].to_crs(self.metric_crs)

    def with_layer(self, kind: str, gdf: gpd.GeoDataFrame,
                   provenance: Mapping[str, str] | None = None) -> Atlas:
        """Return a new atlas with layer ``kind`` added or replaced (validated).

        Examples
        --------
        >>> import cci_geo
        >>> atlas = cci_geo.load_demo()
        >>> len(atlas.with_layer("zones", atlas["zones"].head(3))["zones"])
        3
        """
        layers = self.layers | {kind: validate(gdf, kind, region=self.region)}
        prov = self.provenance
        prov[kind] = dict(provenance or {})
        return Atlas(layers, prov, metric_crs=self.metric_crs, name=self.name,
                     tables=self._tables, region=self.region, name_zh=self.name_zh,
                     _validated=True)

    def with_table(self, kind: str, df: pd.DataFrame,
                   provenance: Mapping[str, str] | None = None) -> Atlas:
        """Return a new atlas with table ``kind`` added or replaced (validated).

        Examples
        --------
        >>> import cci_geo
        >>> atlas = cci_geo.load_demo()
        >>> obs = atlas.table("enterprise_years").head(3)
        >>> atlas.with_table("enterprise_years", obs).table("enterprise_years").shape[0]
        3
        """
        table = validate_table(df, kind, enterprises=self._layers.get("enterprises"))
        prov = self.provenance
        prov[kind] = dict(provenance or {})
        return Atlas(self._layers, prov, metric_crs=self.metric_crs, name=self.name,
                     tables=self._tables | {kind: table}, region=self.region,
                     name_zh=self.name_zh, _validated=True)

    def summary(self) -> pd.DataFrame:
        """Return one row per layer: features, geometry types, status, source, licence.

        Examples
        --------
        >>> import cci_geo
        >>> list(cci_geo.load_demo().summary().columns)[:3]
        ['layer', 'features', 'geometry']
        """
        rows = []
        for kind, gdf in self._layers.items():
            p = self._provenance[kind]
            rows.append({
                "layer": kind, "features": len(gdf),
                "geometry": "/".join(sorted(gdf.geom_type.dropna().unique())),
                "status": p["status"], "datum": p["datum"], "licence": p["licence"],
                "source": p["source"],
            })
        for kind, df in self._tables.items():
            p = self._provenance[kind]
            rows.append({"layer": kind, "features": len(df), "geometry": "none (table)",
                         "status": p["status"], "datum": p["datum"], "licence": p["licence"],
                         "source": p["source"]})
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v)}" for k, v in [*self._layers.items(),
                                                        *self._tables.items()])
        return f"<Atlas {self.name!r}: {parts}; crs={self.crs}, metric_crs={self.metric_crs}>"

    @property
    def bounds(self) -> Region:
        """``(west, south, east, north)`` of all layers in EPSG:4326 (the region if empty)."""
        return lonlat_bounds(tuple(self._layers.values())) or self.region

    # -- GeoPackage, File Geodatabase and PostGIS round trips --------------------------------
    def _metadata(self) -> pd.DataFrame:
        """One row per layer: provenance, atlas name, metric CRS, region and package version."""
        from . import __version__

        return pd.DataFrame([
            {"layer": k, **self._provenance[k], "atlas_name": self.name,
             "atlas_name_zh": self.name_zh or "",
             "metric_crs": self.metric_crs, "region": ",".join(f"{v:g}" for v in self.region),
             "cci_geo_version": __version__}
            for k in [*self._layers, *self._tables]
        ])

    def to_gpkg(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write every layer as a table of one GeoPackage, plus a metadata table.

        The table ``cci_geo_metadata`` holds one row per layer with its provenance, the atlas
        name and metric CRS. Tables without geometry (:attr:`tables`) are written as GeoPackage
        attribute tables named after their kind. The file is written atomically.
        """
        meta = self._metadata()
        with atomic_path(path, overwrite=overwrite) as tmp:
            for kind, gdf in self._layers.items():
                pyogrio.write_dataframe(gdf, tmp, layer=kind, driver="GPKG")
            for kind, df in self._tables.items():  # attribute-only GeoPackage tables
                pyogrio.write_dataframe(df, tmp, layer=kind, driver="GPKG")
            pyogrio.write_dataframe(meta, tmp, layer=_META_TABLE, driver="GPKG")
        logger.info("wrote atlas %s to %s", self.name, path)
        return Path(path)

    def to_gdb(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write every layer as a feature class of an Esri File Geodatabase (``.gdb``).

        Uses GDAL's OpenFileGDB driver (GDAL >= 3.6); Chinese field names are kept. The
        table ``cci_geo_metadata`` holds the provenance as in :meth:`to_gpkg`. The geodatabase
        is built beside ``path`` and swapped in, so a failed write leaves none behind.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import cci_geo
        >>> demo = cci_geo.load_demo()
        >>> small = cci_geo.Atlas({"venues": demo["venues"]}, demo.provenance, name="venues")
        >>> gdb = small.to_gdb(pathlib.Path(tempfile.mkdtemp()) / "venues.gdb")
        >>> back = cci_geo.Atlas.from_gdb(gdb)
        >>> len(back["venues"]), back.provenance["venues"]["status"]
        (8, 'approximate')
        """
        from ._formats import write_gdb_tables

        p = Path(path)
        write_gdb_tables(p, {**self._layers, **self._tables, _META_TABLE: self._metadata()},
                         overwrite=overwrite, whole=True)
        logger.info("wrote atlas %s to %s", self.name, p)
        return p

    @classmethod
    def from_gpkg(cls, path: str | os.PathLike[str], *, validate_layers: bool = True,
                  metric_crs: str | None = None,
                  region: Region | str | None = None) -> Atlas:
        """Read an atlas written by :meth:`to_gpkg` (or any GeoPackage with kind-named tables).

        Tables named after a layer kind become layers; the metadata table, when present,
        supplies provenance, the metric CRS and the region. ``metric_crs`` and ``region``
        override the stored ones (see :class:`Atlas`).

        Examples
        --------
        >>> import cci_geo, pathlib, tempfile
        >>> demo = cci_geo.load_demo()
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "mine.gpkg"
        >>> _ = cci_geo.Atlas({"zones": demo["zones"]}, name="mine").to_gpkg(path)
        >>> back = cci_geo.Atlas.from_gpkg(path)
        >>> back.name, back.metric_crs, back.region == demo.region
        ('mine', 'EPSG:32650', True)
        """
        return cls._from_ogr(Path(path), "GeoPackage", validate_layers, metric_crs=metric_crs,
                             region=region)

    @classmethod
    def from_gdb(cls, path: str | os.PathLike[str], *, validate_layers: bool = True,
                 metric_crs: str | None = None, region: Region | str | None = None) -> Atlas:
        """Read an atlas from an Esri File Geodatabase with feature classes named by kind.

        Feature classes named after a layer kind (``zones``, ``venues``...) become layers,
        each validated; the ``cci_geo_metadata`` table, when present, supplies provenance.
        Layers without provenance are recorded as unknown. ``metric_crs`` and ``region`` as
        :meth:`from_gpkg`.
        """
        return cls._from_ogr(Path(path), "File Geodatabase", validate_layers,
                             metric_crs=metric_crs, region=region)

    @classmethod
    def from_postgis(cls, url: str, *, schema: str | None = None,
                     validate_layers: bool = True) -> Atlas:
        """Read an atlas from the PostGIS tables named by kind in ``schema`` of database ``url``.

        See :func:`cci_geo.postgis.read_atlas` (needs the ``postgis`` extra).
        """
        from .postgis import read_atlas

        return read_atlas(url, schema=schema, validate_layers=validate_layers)

    def to_postgis(self, url: str, *, schema: str | None = None,
                   overwrite: bool = False) -> str:
        """Write every layer and the provenance to PostGIS in one transaction.

        See :func:`cci_geo.postgis.write_atlas` (needs the ``postgis`` extra).
        """
        from .postgis import write_atlas

        return write_atlas(self, url, schema=schema, overwrite=overwrite)

    @classmethod
    def read(cls, source: str | os.PathLike[str], *, validate_layers: bool = True,
             metric_crs: str | None = None, region: Region | str | None = None) -> Atlas:
        """Read an atlas from a ``.gpkg`` file, a ``.gdb`` geodatabase or a PostGIS URL.

        ``postgresql://user@host/db`` (optionally ``?schema=name``) reads from PostGIS.
        ``metric_crs`` and ``region`` override the stored ones.
        """
        text = str(source)
        if text.startswith(("postgresql://", "postgres://")):
            from .postgis import read_atlas

            return read_atlas(text, validate_layers=validate_layers, metric_crs=metric_crs,
                              region=region)
        if Path(text).suffix.lower() == ".gdb":
            return cls.from_gdb(text, validate_layers=validate_layers, metric_crs=metric_crs,
                                region=region)
        return cls.from_gpkg(text, validate_layers=validate_layers, metric_crs=metric_crs,
                             region=region)

    @classmethod
    def from_tables(cls, tables: Mapping[str, gpd.GeoDataFrame],
                    metadata: pd.DataFrame | None, *, where: str,
                    validate_layers: bool = True,
                    attribute_tables: Mapping[str, pd.DataFrame] | None = None,
                    metric_crs: str | None = None,
                    region: Region | str | None = None) -> Atlas:
        """Build an atlas from kind-named tables and an optional metadata table (readers).

        ``attribute_tables`` are tables without geometry named after a table kind
        (``enterprise_years``), validated against the enterprises layer. The metadata's
        metric CRS and region are used unless ``metric_crs``/``region`` are given; without
        either, the metric CRS is estimated and the region is Jing-Jin-Ji.
        """
        prov: dict[str, dict[str, str]] = {}
        stored_crs: str | None = None
        stored_region: Region | None = None
        name = Path(where).stem or where
        name_zh: str | None = None
        if metadata is not None:
            for rec in metadata.fillna("").to_dict("records"):
                prov[str(rec["layer"])] = {f: str(rec.get(f, "")) for f in PROVENANCE_FIELDS}
                stored_crs = str(rec.get("metric_crs") or "") or stored_crs
                if rec.get("region"):
                    stored_region = _parse_region(str(rec["region"]), where)
                name = str(rec.get("atlas_name") or name)
                name_zh = str(rec.get("atlas_name_zh") or "") or name_zh
        if region is None:
            region = stored_region
        checked = _data_region(tables) if region == "data" else check_region(region)
        layers = {}
        for kind, gdf in tables.items():
            if validate_layers:
                gdf = validate(gdf, kind, layer=f"{where}:{kind}", region=checked)
            layers[kind] = gdf
        extra = {}
        for kind, df in (attribute_tables or {}).items():
            extra[kind] = validate_table(df, kind, layer=f"{where}:{kind}",
                                         enterprises=layers.get("enterprises")) \
                if validate_layers else df
        logger.info("read atlas %s from %s (%d layers, %d tables)", name, where, len(layers),
                    len(extra))
        return cls(layers, prov, metric_crs=metric_crs or stored_crs, name=name, tables=extra,
                   region=checked, name_zh=name_zh, _validated=True)

    @classmethod
    def _from_ogr(cls, p: Path, what: str, validate_layers: bool, *,
                  metric_crs: str | None = None, region: Region | str | None = None) -> Atlas:
        from .io import wrap_read_errors  # noqa: PLC0415

        if not p.exists():
            msg = f"atlas file {p} does not exist."
            raise MissingFileError(msg)
        if p.is_dir() and p.suffix.lower() != ".gdb":
            msg = f"atlas path {p} is a folder; give the atlas {what} file."
            raise DataError(msg)
        with wrap_read_errors(p):  # a truncated or damaged file names the file and the fix
            return cls._read_ogr(p, what, validate_layers, metric_crs=metric_crs, region=region)

    @classmethod
    def _read_ogr(cls, p: Path, what: str, validate_layers: bool, *,
                  metric_crs: str | None, region: Region | str | None) -> Atlas:
        try:
            tables_present = [name for name, _ in pyogrio.list_layers(p)]
        except pyogrio.errors.DataSourceError as exc:
            msg = f"{p} is not a readable {what}: {exc}"
            raise DataError(msg) from exc
        kinds = [t for t in tables_present if t in LAYER_KINDS]
        if not kinds:
            msg = (f"{p} has no table named after a layer kind (tables: {tables_present}); "
                   "name tables "
                   f"{list(LAYER_KINDS)}.")
            raise DataError(msg)
        meta = (pyogrio.read_dataframe(p, layer=_META_TABLE, read_geometry=False)
                if _META_TABLE in tables_present else None)
        frames = {kind: pyogrio.read_dataframe(p, layer=kind) for kind in kinds}
        attribute_tables = {
            kind: pd.DataFrame(pyogrio.read_dataframe(p, layer=kind, read_geometry=False))
            for kind in tables_present if kind in TABLE_KINDS}
        return cls.from_tables(frames, meta, where=p.name, validate_layers=validate_layers,
                               attribute_tables=attribute_tables, metric_crs=metric_crs,
                               region=region)
