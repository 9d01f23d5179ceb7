"""Resolve the layer names of a scenario to metric GeoDataFrames (atlas, files, in-memory)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _validate
from ..errors import DataError, ParameterTypeError, ScenarioError
from .scenario import LayerSpec

__all__ = ["LayerBook", "file_sha256"]

logger = logging.getLogger(__name__)


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (provenance of planner-supplied inputs)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class LayerBook:
    """Look up layers by name, filter them, and cache their metric versions.

    Parameters
    ----------
    atlas
        An :class:`~cci_geo.atlas.Atlas` or any mapping of name -> GeoDataFrame.
    extra
        In-memory layers that take precedence over the atlas.
    files
        Scenario ``[layers.<name>]`` entries, read with :func:`cci_geo.io.read_layer` on use.
    metric_crs
        CRS every returned layer is in.
    """

    def __init__(self, atlas: Mapping[str, gpd.GeoDataFrame] | None,
                 extra: Mapping[str, gpd.GeoDataFrame], files: Mapping[str, LayerSpec], *,
                 metric_crs: str) -> None:
        self._atlas = atlas or {}
        self._extra = dict(extra)
        self._files = dict(files)
        self.metric_crs = metric_crs
        self._cache: dict[str, gpd.GeoDataFrame] = {}
        self.used: dict[str, dict[str, Any]] = {}

    def names(self) -> list[str]:
        """Every layer name known to the book."""
        return sorted({*self._atlas, *self._extra, *self._files})

    def _load(self, name: str, key: str) -> gpd.GeoDataFrame:
        if name in self._extra:
            gdf = self._extra[name]
            self.used[name] = {"source": "in-memory GeoDataFrame"}
        elif name in self._files:
            spec = self._files[name]
            if not spec.path.exists():
                msg = (f"[layers.{name}].path: file {spec.path} does not exist; fix the path "
                       "(relative paths are resolved against the scenario file's folder).")
                raise ScenarioError(msg)
            from ..io import read_layer  # noqa: PLC0415 - only needed for file layers

            gdf = read_layer(spec.path, spec.kind, layer=spec.layer, datum=spec.datum)
            self.used[name] = {"source": str(spec.path), "sha256": file_sha256(spec.path),
                               "datum": spec.datum}
        elif name in self._atlas:
            gdf = self._atlas[name]
            prov = getattr(self._atlas, "provenance", {}).get(name, {})
            self.used[name] = {"source": "atlas", **{k: str(v) for k, v in prov.items()}}
        else:
            msg = (f"{key} = {name!r} is not a known layer; available: {self.names()}. Fix the "
                   f"name, or add it to the scenario as [layers.{name}] path = '<file>'.")
            raise ScenarioError(msg)
        if not isinstance(gdf, gpd.GeoDataFrame):
            msg = f"layer {name!r} must be a GeoDataFrame, got {type(gdf).__name__}."
            raise ParameterTypeError(msg)
        _validate.has_crs(gdf, f"layer {name!r}")
        return _validate.ensure_metric(gdf, f"layer {name!r}", self.metric_crs) \
            .to_crs(self.metric_crs)

    def get(self, layer: str | gpd.GeoDataFrame, *, key: str,
            where: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
        """Return ``layer`` in the metric CRS, filtered by ``where`` (column -> values).

        Raises
        ------
        ScenarioError
            If the name is unknown or ``where`` names a missing column.
        DataError
            If nothing is left after filtering.
        """
        if isinstance(layer, gpd.GeoDataFrame):
            _validate.has_crs(layer, key)
            gdf = layer.to_crs(self.metric_crs)
            label = key
        else:
            if layer not in self._cache:
                self._cache[layer] = self._load(layer, key)
            gdf, label = self._cache[layer], repr(layer)
        if where:
            keep = np.ones(len(gdf), dtype=bool)
            for col, values in where.items():
                if col not in gdf.columns:
                    msg = (f"{key}.where: layer {label} has no column {col!r}; columns: "
                           f"{[c for c in gdf.columns if c != gdf.geometry.name]}.")
                    raise ScenarioError(msg)
                vals = list(values) if isinstance(values, (list, tuple)) else [values]
                keep &= _matches(gdf[col], vals)
            gdf = gdf[keep]
        if len(gdf) == 0 or bool(np.all(gdf.geometry.is_empty | gdf.geometry.isna())):
            msg = (f"{key}: layer {label} has no features"
                   f"{' after the where filter ' + repr(dict(where)) if where else ''}; "
                   "relax the filter or use another layer.")
            raise DataError(msg)
        return gdf


def _matches(col: pd.Series, values: list[Any]) -> np.ndarray:
    """Rows whose value is in ``values``; ';'-joined lists (sectors) match on any element."""
    wanted = {str(v) for v in values}
    as_str = col.astype("string").fillna("")
    direct = as_str.isin(wanted).to_numpy(dtype=bool)
    if col.dtype == bool or pd.api.types.is_bool_dtype(col):
        direct |= col.isin([v for v in values if isinstance(v, bool)]).to_numpy(dtype=bool)
    listed = np.array([bool(wanted & {p.strip() for p in s.split(";")}) for s in as_str],
                      dtype=bool)
    numeric = np.zeros(len(col), dtype=bool)
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if nums and pd.api.types.is_numeric_dtype(col):
        numeric = col.isin(nums).to_numpy(dtype=bool)
    return direct | listed | numeric
