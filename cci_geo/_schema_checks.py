"""The individual checks behind :func:`cci_geo.validate` and ``cci-geo validate``.

Each check appends :class:`~cci_geo.errors.Problem` records naming the layer, the column, the
offending rows and the fix; nothing here mutates the caller's frame.
"""

from __future__ import annotations

import difflib
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from ._validate import nonfinite_vertices
from .errors import ParameterError, ParameterTypeError, Problem, opt
from .schema import LAYER_KINDS, LAYER_SPECS, SECTORS, STUDY_REGION, Column, LayerSpec

logger = logging.getLogger(__name__)

_MAX_ROWS = 10
_ASSUME_4326 = opt("assume_crs='EPSG:4326'", "--assume-crs EPSG:4326")
_TRUE = {"true", "t", "yes", "y", "1", "是"}
_FALSE = {"false", "f", "no", "n", "0", "否"}


def _rows(index: pd.Index, mask: np.ndarray | pd.Series) -> tuple[object, ...]:
    labels = index[np.asarray(mask, dtype=bool)]
    return tuple(labels[:_MAX_ROWS].tolist())


def _values(s: pd.Series, limit: int = 5) -> str:
    """Distinct offending values, quoted, for messages."""
    vals = list(dict.fromkeys(s.astype(str).tolist()))
    more = f" and {len(vals) - limit} more" if len(vals) > limit else ""
    return ", ".join(repr(v) for v in vals[:limit]) + more


def _fmt_rows(rows: tuple[object, ...], total: int) -> str:
    shown = ", ".join(map(repr, rows))
    more = f" and {total - len(rows)} more" if total > len(rows) else ""
    return f"row{'s' if total != 1 else ''} {shown}{more}"


class _Checker:
    def __init__(self, gdf: gpd.GeoDataFrame, spec: LayerSpec, layer: str) -> None:
        self.gdf = gdf
        self.spec = spec
        self.layer = layer
        self.problems: list[Problem] = []

    def add(self, check: str, message: str, fix: str, *, column: str | None = None,
            mask: np.ndarray | pd.Series | None = None, severity: str = "error") -> None:
        rows: tuple[object, ...] = ()
        if mask is not None:
            total = int(np.asarray(mask, dtype=bool).sum())
            rows = _rows(self.gdf.index, mask)
            message = f"{message} ({_fmt_rows(rows, total)})."
        self.problems.append(Problem(self.layer, check, message, fix, column, rows, severity))

    # -- columns ---------------------------------------------------------------------------
    def columns(self, out: gpd.GeoDataFrame) -> None:
        for col in self.spec.columns:
            if col.name not in out.columns:
                if col.required:
                    self._missing(col)
                continue
            self._column(out, col)

    def _missing(self, col: Column) -> None:
        geom = self.gdf.geometry.name if isinstance(self.gdf, gpd.GeoDataFrame) else None
        have = [str(c) for c in self.gdf.columns if c != geom]
        close = difflib.get_close_matches(col.name, have, n=1, cutoff=0.6)
        lower = [c for c in have if c.lower() == col.name.lower()]
        hint = lower or close
        fix = (f"rename column {hint[0]!r} to {col.name!r}" if hint
               else f"add a {col.dtype} column {col.name!r}")
        self.add("missing_column",
                 f"required column {col.name!r} is missing (columns present: {have})",
                 fix + (f" ({col.description})" if col.description else "") + ".",
                 column=col.name)

    def _column(self, out: gpd.GeoDataFrame, col: Column) -> None:
        s = out[col.name]
        present = s.notna()
        if col.dtype in ("int", "float"):
            # float64 throughout: booleans, huge integers and objects all become comparable
            num = pd.to_numeric(s, errors="coerce").astype("float64")
            bad = present & num.isna()
            if bad.any():
                self.add("dtype", f"column {col.name!r} must be numeric but has text values "
                         f"{_values(s[bad])}", f"write plain numbers in {col.name!r}",
                         column=col.name, mask=bad)
            inf = num.notna() & ~np.isfinite(num.to_numpy(dtype="float64", na_value=np.nan))
            if inf.any():
                self.add("non_finite", f"column {col.name!r} has infinite values",
                         f"write finite numbers in {col.name!r} (or leave the cell empty)",
                         column=col.name, mask=inf)
            if col.required and (missing := num.isna() & ~bad).any():
                self.add("nan", f"required numeric column {col.name!r} has missing (NaN) "
                         "values", f"fill {col.name!r} or drop those rows", column=col.name,
                         mask=missing)
            if col.min_value is not None and (low := num < col.min_value).any():
                self.add("range", f"column {col.name!r} must be >= {col.min_value:g} but has "
                         f"{num[low].iloc[0]!r}", f"correct the values of {col.name!r}",
                         column=col.name, mask=low)
            if col.dtype == "int":
                finite = num.notna() & np.isfinite(num)
                frac = finite & (num != np.round(num))
                if frac.any():
                    self.add("dtype", f"column {col.name!r} must hold whole numbers but has "
                             f"{num[frac].iloc[0]!r}", f"round {col.name!r}", column=col.name,
                             mask=frac)
                whole = num.where(finite).round()
                ok = not frac.any() and bool(((whole.abs() < 2**63) | whole.isna()).all())
                out[col.name] = whole.astype("Int64") if ok else num
            else:
                out[col.name] = num.astype("float64")
        elif col.dtype == "bool":
            self._bool(out, col)
        else:
            self._text(out, col)

    def _bool(self, out: gpd.GeoDataFrame, col: Column) -> None:
        s = out[col.name]
        if pd.api.types.is_bool_dtype(s):
            out[col.name] = s.astype("boolean")
            return
        if pd.api.types.is_numeric_dtype(s):
            num = pd.to_numeric(s, errors="coerce")
            s = num.map({1: "true", 0: "false"}).where(num.notna(), None).where(
                num.isin([0, 1]) | num.isna(), num.astype("string"))
        text = s.astype("string").str.strip().str.lower()
        val = pd.Series(pd.NA, index=s.index, dtype="boolean")
        val[text.isin(_TRUE)] = True
        val[text.isin(_FALSE)] = False
        bad = s.notna() & val.isna()
        if bad.any():
            self.add("dtype", f"column {col.name!r} must be true/false but has "
                     f"{s[bad].iloc[0]!r}", f"use true/false (or 1/0) in {col.name!r}",
                     column=col.name, mask=bad)
        out[col.name] = val

    def _text(self, out: gpd.GeoDataFrame, col: Column) -> None:
        s = out[col.name]
        text = s.astype("string").str.strip()
        if col.required and (blank := text.isna() | (text == "")).any():
            self.add("nan", f"required column {col.name!r} is empty", f"fill {col.name!r}",
                     column=col.name, mask=blank)
        if col.choices is not None:
            bad = text.notna() & (text != "") & ~text.isin(col.choices)
            if bad.any():
                self.add("choice", f"column {col.name!r} has {_values(text[bad])}, not one "
                         f"of {list(col.choices)}", f"use one of {list(col.choices)}",
                         column=col.name, mask=bad)
        if col.dtype in ("sector", "sectors"):
            self._sectors(text, col)
        out[col.name] = text

    def _sectors(self, text: pd.Series, col: Column) -> None:
        codes = text.fillna("").str.split(";")
        if col.dtype == "sector":
            bad = text.notna() & ~text.isin(SECTORS)
        else:
            bad = codes.map(lambda cs: any(c.strip() and c.strip() not in SECTORS for c in cs))
        if bad.any():
            self.add("sector", f"column {col.name!r} has sector code(s) {_values(text[bad])}, "
                     "not among the nine priority sectors",
                     f"use one of {list(SECTORS)}" + ("" if col.dtype == "sector"
                                                       else ", separated by ';'"),
                     column=col.name, mask=bad)

    # -- ids -------------------------------------------------------------------------------
    def ids(self, out: gpd.GeoDataFrame) -> None:
        if "id" not in out.columns:
            return
        ids = out["id"]
        dup = ids.notna() & ids.duplicated(keep=False)
        if dup.any():
            self.add("duplicate_id", f"column 'id' has duplicate values such as "
                     f"{ids[dup].iloc[0]!r}", "give every feature a unique id", column="id",
                     mask=dup)

    # -- geometry --------------------------------------------------------------------------
    def geometry(self, out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        geom = out.geometry
        missing = geom.isna() | geom.is_empty
        if missing.any():
            self.add("empty_geometry", "features have missing or empty geometries",
                     "drop them or supply coordinates", column=geom.name, mask=missing)
        arr = np.asarray(geom.values)
        nonfinite = pd.Series(False, index=out.index)
        nonfinite[~missing.to_numpy()] = nonfinite_vertices(arr[~missing.to_numpy()])
        if nonfinite.any():
            self.add("non_finite_coordinates", "features have NaN or infinite coordinates "
                     "(e.g. a blank longitude/latitude)", "fill the coordinates or drop those "
                     "rows", column=geom.name, mask=nonfinite)
            missing = missing | nonfinite
        gtype = geom.geom_type
        bad_type = ~missing & ~gtype.isin(self.spec.geom_types)
        if bad_type.any():
            fix = f"a {self.spec.kind} layer needs {' or '.join(self.spec.geom_types)}"
            if set(self.spec.geom_types) == {"Point"}:
                fix += "; use centroids (gdf.geometry.representative_point()) if appropriate"
            self.add("geometry_type", f"geometry type {gtype[bad_type].iloc[0]} is not "
                     f"allowed", fix, column=geom.name, mask=bad_type)
        invalid = ~missing & ~geom.is_valid
        if invalid.any():
            n = int(invalid.sum())
            reasons = shapely.is_valid_reason(np.asarray(geom[invalid].values))
            self.add("invalid_geometry", f"{n} invalid geometr{'y' if n == 1 else 'ies'} "
                     f"repaired with shapely.make_valid (first: {reasons[0]})",
                     "check the repaired shapes, or fix them in your GIS", column=geom.name,
                     mask=invalid, severity="warning")
            repaired = shapely.make_valid(np.asarray(geom[invalid].values))
            if set(self.spec.geom_types) <= set(_POLYGONAL):
                repaired = np.array([_polygonal(g) for g in repaired], dtype=object)
            out.loc[invalid, geom.name] = repaired
        return out

    def location(self, out: gpd.GeoDataFrame, region: tuple[float, float, float, float]) -> None:
        geom = out.geometry
        usable = ~(geom.isna() | geom.is_empty)
        usable &= np.isfinite(geom.bounds.to_numpy(dtype="float64")).all(axis=1)
        if not usable.any():
            return
        b = geom[usable].bounds
        w, s, e, n = region
        where = ("the Beijing-Tianjin-Hebei (Jing-Jin-Ji) study region" if region == STUDY_REGION
                 else "the study region")
        cx, cy = (b.minx + b.maxx) / 2, (b.miny + b.maxy) / 2
        outside = (cx < w) | (cx > e) | (cy < s) | (cy > n)
        if not outside.any():
            return
        swapped = outside & (cy >= w) & (cy <= e) & (cx >= s) & (cx <= n)
        projected = outside & ((cx.abs() > 180) | (cy.abs() > 90))
        mask = pd.Series(False, index=out.index)
        if swapped.any():
            mask[swapped.index[swapped]] = True
            self.add("swapped_coordinates", "coordinates look like (latitude, longitude) "
                     "instead of (longitude, latitude)",
                     "swap the axes, e.g. gdf.geometry.map(lambda g: shapely.ops.transform("
                     "lambda x, y: (y, x), g)), or swap lon/lat columns when reading a CSV",
                     column=geom.name, mask=mask)
        rest = outside & ~swapped
        if (rest & projected).any():
            mask = pd.Series(False, index=out.index)
            mask[rest.index[rest & projected]] = True
            self.add("projected_coordinates", "coordinates are far beyond ±180/±90 degrees, "
                     "so they are probably projected metres labelled as longitude/latitude",
                     "set the layer's real CRS (gdf.set_crs(..., allow_override=True)) so it "
                     "can be reprojected", column=geom.name, mask=mask)
            rest = rest & ~projected
        if rest.any():
            mask = pd.Series(False, index=out.index)
            mask[rest.index[rest]] = True
            self.add("outside_region", f"features lie outside {where} "
                     f"(lon {w}..{e}, lat {s}..{n}); first at lon {cx[rest].iloc[0]:.4f}, "
                     f"lat {cy[rest].iloc[0]:.4f}", "check the CRS and the coordinates, drop "
                     "features outside the region, or pass "
                     + opt("region=(west, south, east, north)",
                           "--region WEST SOUTH EAST NORTH (or --region data)")
                     + " for another study area", column=geom.name,
                     mask=mask)


_POLYGONAL = ("Polygon", "MultiPolygon")


def _polygonal(g: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygonal parts of a make_valid result (which may be a collection)."""
    if g.geom_type in _POLYGONAL:
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in _POLYGONAL]
    return shapely.multipolygons(parts) if parts else g


def _crs(gdf: gpd.GeoDataFrame, checker: _Checker, assume_crs: str | None) -> CRS | None:
    if gdf.crs is not None:
        return CRS.from_user_input(gdf.crs)
    if assume_crs is not None:
        return CRS.from_user_input(assume_crs)
    checker.add("crs", "the layer has no coordinate reference system (CRS)",
                "pass " + opt("assume_crs='EPSG:4326'", "--assume-crs EPSG:4326")
                + " (or the real CRS), or set it with "
                "gdf.set_crs(...); for Amap/Baidu data read with read_layer(..., datum=...)")
    return None


def run_checks(gdf: gpd.GeoDataFrame, kind: str, *, layer: str | None = None,
               assume_crs: str | None = None,
               region: tuple[float, float, float, float] = STUDY_REGION,
               ) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Run every check; return the checked copy (or None) and the problems."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"validate() needs a GeoDataFrame, got {type(gdf).__name__}."
        raise ParameterTypeError(msg)
    if kind not in LAYER_SPECS:
        msg = (f"unknown layer kind {kind!r}; use one of {list(LAYER_KINDS)} "
               f"({opt('kind=', '--kind ')}...).")
        raise ParameterError(msg)
    name = layer or kind
    dups = sorted({str(c) for c in gdf.columns if list(gdf.columns).count(c) > 1})
    if dups:
        problem = Problem(name, "duplicate_column", f"duplicate column names {dups}",
                          "give every column a unique name (e.g. gdf.columns = [...])")
        return None, [problem]
    if assume_crs is not None:
        try:
            CRS.from_user_input(assume_crs)
        except (CRSError, TypeError, ValueError) as exc:
            msg = (f"unknown coordinate reference system {assume_crs!r}; give an EPSG code "
                   f"such as {_ASSUME_4326}.")
            raise ParameterError(msg) from exc
    checker = _Checker(gdf, LAYER_SPECS[kind], name)
    crs = _crs(gdf, checker, assume_crs)
    out = gdf.copy()
    if crs is not None:
        out = out.set_crs(crs, allow_override=True)
    out = checker.geometry(out)
    if crs is not None and not crs.equals(CRS.from_epsg(4326)):
        usable = ~(out.geometry.isna() | out.geometry.is_empty)
        if usable.all():
            out = out.to_crs("EPSG:4326")
        else:
            out.loc[usable, out.geometry.name] = out.geometry[usable].to_crs("EPSG:4326").values
            out = out.set_crs("EPSG:4326", allow_override=True)
    if crs is not None:
        checker.location(out, region)
    checker.columns(out)
    if "id" in out.columns:
        out["id"] = out["id"].astype("string").str.strip().astype(object)
        out.loc[out["id"].isna(), "id"] = None
    checker.ids(out)
    has_error = any(p.severity == "error" for p in checker.problems)
    logger.debug("checked layer %s (%s): %d problems", name, kind, len(checker.problems))
    return (None if has_error else out), checker.problems
