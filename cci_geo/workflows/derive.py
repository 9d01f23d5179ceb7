"""What a workflow derives instead of requiring: districts of features, the study region.

- :func:`derivable_column` says whether a missing column can be derived (``district`` by a
  spatial join with the ``districts`` layer) and :func:`derive_columns` adds it.
- :func:`study_region` is the area the analyses cover: the districts that hold the atlas's
  own sites and enterprises, or, without districts, the extent of its data.
- :func:`first_view` is the map's first view: the bounds of the study region.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from .._districts import assign_districts

__all__ = ["DATA_LAYERS", "derivable_column", "derive_columns", "derived_zh", "first_view",
           "study_region"]

logger = logging.getLogger(__name__)

#: Layers whose features say where the atlas's own data is (sites and enterprises), most
#: telling first; the study region and first view are built from them.
DATA_LAYERS = ("enterprises", "zones", "factory_sites", "venues", "functional_areas",
               "demonstrative_regions", "stations")


def _layers(atlas: Any) -> Mapping[str, gpd.GeoDataFrame]:
    layers = atlas.layers if hasattr(atlas, "layers") else atlas
    return {k: v for k, v in dict(layers).items() if v is not None and len(v)}


def derivable_column(atlas: Any, layer: str, column: str) -> str | None:
    """Return how ``layer.column`` can be derived for ``atlas``, or None when it cannot.

    Examples
    --------
    >>> import cci_geo
    >>> derivable_column(cci_geo.load_demo(), "zones", "district")
    'by spatial join with the districts layer'
    >>> derivable_column({}, "zones", "district") is None
    True
    """
    if column == "district" and layer != "districts" and "districts" in _layers(atlas):
        return "by spatial join with the districts layer"
    return None


def derive_columns(atlas: Any, wanted: Iterable[tuple[str, str]]) -> tuple[Any, list[str]]:
    """Return ``atlas`` with the derivable columns of ``wanted`` added, and what was derived.

    Parameters
    ----------
    atlas
        An :class:`cci_geo.Atlas` (or a mapping of layer kind -> GeoDataFrame); never
        modified.
    wanted
        ``(layer, column)`` pairs; those the layer already has, and those that cannot be
        derived, are left alone.

    Returns
    -------
    tuple
        The atlas (a new one when a column was added) and lines such as
        ``"enterprises.district derived by spatial join with the districts layer"``.

    Examples
    --------
    >>> import cci_geo
    >>> demo = cci_geo.load_demo()
    >>> _, done = derive_columns(demo, [("zones", "district")])
    >>> done
    ['zones.district derived by spatial join with the districts layer']
    """
    layers = _layers(atlas)
    derived: list[str] = []
    for layer, column in dict.fromkeys(wanted):
        gdf = layers.get(layer)
        how = derivable_column(atlas, layer, column)
        if gdf is None or column in gdf.columns or how is None:
            continue
        values = assign_districts(gdf, layers["districts"])
        new = gdf.assign(**{column: values})
        outside = int(values.isna().sum())
        text = f"{layer}.{column} derived {how}"
        if outside:
            text += f" ({outside} of {len(values)} features lie in no district)"
        if hasattr(atlas, "with_layer"):
            # the layer keeps its provenance (a synthetic layer stays synthetic)
            prov = dict(getattr(atlas, "provenance", {}).get(layer, {}))
            prov["notes"] = "; ".join(n for n in (prov.get("notes", ""), text) if n)
            atlas = atlas.with_layer(layer, new, prov)
        else:
            atlas = {**dict(atlas), layer: new}
        layers = _layers(atlas)
        logger.info(text)
        derived.append(text)
    return atlas, derived


def derived_zh(text: str) -> str:
    """Return a line of :func:`derive_columns` in Chinese (other text as given).

    Examples
    --------
    >>> derived_zh("zones.district derived by spatial join with the districts layer "
    ...            "(2 of 9 features lie in no district)")
    'zones.district 由与行政区图层的空间连接得出（9 个要素中 2 个不在任何行政区内）'
    """
    m = re.fullmatch(r"(\S+) derived by spatial join with the districts layer"
                     r"(?: \((\d+) of (\d+) features lie in no district\))?", text)
    if m is None:
        return text
    out = f"{m.group(1)} 由与行政区图层的空间连接得出"
    if m.group(2):
        out += f"（{m.group(3)} 个要素中 {m.group(2)} 个不在任何行政区内）"
    return out


def _data_frames(atlas: Any) -> list[gpd.GeoDataFrame]:
    layers = _layers(atlas)
    return [layers[k].to_crs(4326) for k in DATA_LAYERS if k in layers]


def study_region(atlas: Any) -> gpd.GeoDataFrame:
    """Return the study region of ``atlas``: polygons in EPSG:4326.

    With a ``districts`` layer: the districts (finest level) that hold any of the atlas's
    sites or enterprises (:data:`DATA_LAYERS`); all of them when none does. Without
    districts: the bounding box of those layers (of every layer when there are none).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id`` and geometry, in EPSG:4326; ``attrs["derived_from"]`` says which rule made it.

    Raises
    ------
    cci_geo.errors.DataError
        If the atlas has no features at all.

    Examples
    --------
    >>> import cci_geo
    >>> region = study_region(cci_geo.load_demo())
    >>> len(region), region.attrs["derived_from"]
    (16, 'districts holding the data')
    """
    from ..errors import DataError

    layers = _layers(atlas)
    frames = _data_frames(atlas)
    districts = layers.get("districts")
    if districts is not None:
        d = districts.to_crs(4326)
        if "level" in d.columns and (d["level"] == "district").any():
            finest = d[d["level"] == "district"]
        else:
            finest = d
        held = np.zeros(len(d), dtype=bool)
        for f in frames:
            probe = f.geometry.where(f.geometry.geom_type == "Point",
                                     f.geometry.representative_point())
            hits = gpd.sjoin(gpd.GeoDataFrame(geometry=probe.to_numpy(), crs=4326),
                             gpd.GeoDataFrame(geometry=d.geometry.to_numpy(), crs=4326),
                             how="inner", predicate="within")
            held[np.unique(hits["index_right"].to_numpy())] = True
        # a coarse unit (a whole city) that holds data stays; finer units replace it when
        # the data lie in them
        pick = d[held]
        if len(pick) and "level" in d.columns and (pick["level"] == "district").any():
            pick = pick[pick["level"] == "district"]
        rule = "districts holding the data"
        if not len(pick):
            pick, rule = finest, "districts layer"
        out = gpd.GeoDataFrame({"id": pick["id"].astype(str).to_numpy()
                                if "id" in pick else np.arange(len(pick)).astype(str)},
                               geometry=pick.geometry.to_numpy(), crs=4326)
        out.attrs["derived_from"] = rule
        return out
    frames = frames or [g.to_crs(4326) for g in layers.values()]
    if not frames:
        msg = "the atlas holds no features; add at least one layer with data."
        raise DataError(msg)
    bounds = np.vstack([f.total_bounds for f in frames])
    w, s = bounds[:, 0].min(), bounds[:, 1].min()
    e, n = bounds[:, 2].max(), bounds[:, 3].max()
    pad_x, pad_y = max((e - w) * 0.02, 0.005), max((n - s) * 0.02, 0.005)
    out = gpd.GeoDataFrame({"id": ["extent"]},
                           geometry=[box(w - pad_x, s - pad_y, e + pad_x, n + pad_y)], crs=4326)
    out.attrs["derived_from"] = "extent of the data"
    return out


def first_view(region: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)`` in EPSG:4326 of the study ``region``.

    Examples
    --------
    >>> import cci_geo
    >>> w, s, e, n = first_view(study_region(cci_geo.load_demo()))
    >>> 115 < w < e < 118 and 39 < s < n < 42
    True
    """
    w, s, e, n = (float(v) for v in region.to_crs(4326).total_bounds)
    return w, s, e, n
