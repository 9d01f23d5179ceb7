"""A what-if suitability map: move the criterion weights in the browser, see the ranking change.

The page carries every candidate site's 0-1 criterion values (``value_<criterion>`` of a
:class:`~cci_geo.suitability.SuitabilityResult`); a slider and a number field per criterion
re-score and re-rank the sites offline, exactly as :func:`cci_geo.suitability.score` would
with those weights: the weights are divided by their sum, the score is the weighted sum in
criterion order, sites with a missing value or excluded by a constraint are not ranked, and
ties go to the smaller id. A reset button restores the scenario's weights; the current
weights (as shares) and the top sites are shown and update at once.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd

from ..tables import CRITERIA
from .briefing import briefing_map
from .export import save_html
from .folium_layers import add_script, asset_text, js_json
from .labels import Lang, check_lang, label

__all__ = ["save_whatif_html", "whatif_data", "whatif_map"]

_TEXT = {
    "title": ("权重情景推演", "What-if weights"),
    "help": ("拖动滑块或输入数值（0–100，按总和归一化），地块得分和排名随即更新。",
             "Move a slider or type a number (0–100, normalised by their sum); the sites are "
             "re-scored and re-ranked at once."),
    "reset": ("恢复情景权重", "Reset to the scenario's weights"),
    "current": ("当前权重", "Current weights"),
    "top": ("排名前列的地块", "Top sites"),
    "note": ("▲▼：相对情景权重下排名的变化。得分 = Σ 权重 × 0–1 指标值。",
             "▲▼: change of rank against the scenario's weights. Score = Σ weight × 0–1 value."),
    "rank": ("排名", "Rank"),
    "score": ("得分", "score"),
    "excluded": ("已排除", "excluded"),
    "missing": ("指标缺失，未排名", "a criterion has no value; not ranked"),
    "criterion": ("指标", "Criterion"),
    "value": ("指标值 (0–1)", "Value (0–1)"),
    "contribution": ("贡献", "Contribution"),
}


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def whatif_data(result: Any, *, lang: Lang = "zh", top_k: int = 10) -> dict[str, Any]:
    """Return what the what-if page carries: criteria (name, label, unit, weight) and sites.

    Each site has its id, name (in ``lang``), position (EPSG:4326; polygons at a point inside
    them), its 0-1 values in criterion order (None when missing) and why it is excluded.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import suitability as su
    >>> res = su.score("scenarios/old_factory_reuse.toml", atlas=cci_geo.load_demo(),
    ...                sensitivity=False)
    >>> data = whatif_data(res, lang="en")
    >>> data["criteria"][0]["label"], len(data["sites"]) == len(res.sites)
    ('Near CCI zones', True)
    """
    lang = check_lang(lang)
    table = result.criteria_table
    names = [str(n) for n in table.index]
    criteria = []
    for name in names:
        zh, en = CRITERIA.get(name, (name, name.replace("_", " ")))
        unit = table.loc[name, "unit"] if "unit" in table.columns else ""
        criteria.append({"name": name, "label": zh if lang == "zh" else en,
                         "unit": "" if unit is None or str(unit) == "nan" else str(unit),
                         "weight": float(table.loc[name, "weight"])})
    sites = result.sites
    id_col = result.scenario.id_column
    pts = sites.geometry.to_crs(4326) if sites.crs is not None else sites.geometry
    pts = gpd.GeoSeries([g.representative_point() if g.geom_type != "Point" else g
                         for g in pts], crs=4326)
    first, second = ("name_zh", "name_en") if lang == "zh" else ("name_en", "name_zh")
    rows = []
    for (_, s), p in zip(sites.iterrows(), pts, strict=True):
        name = next((str(s[c]) for c in (first, second) if c in s and isinstance(s[c], str)
                     and s[c].strip()), str(s[id_col]))
        excluded = s.get("excluded_by")
        rows.append({"id": str(s[id_col]), "name": name, "lat": p.y, "lon": p.x,
                     "values": [_num(s.get(f"value_{n}")) for n in names],
                     "excluded": excluded if isinstance(excluded, str) and excluded else ""})
    text = {k: (zh if lang == "zh" else en) for k, (zh, en) in _TEXT.items()}
    return {"criteria": criteria, "sites": rows, "top_k": int(top_k), "text": text}


def whatif_map(result: Any, atlas: Any = None, *, lang: Lang = "zh", top_k: int = 10,
               title: str | None = None) -> folium.Map:
    """Return a briefing map of ``atlas`` with the what-if weights panel over ``result``'s sites.

    Parameters
    ----------
    result
        A :class:`~cci_geo.suitability.SuitabilityResult`.
    atlas
        Context layers (districts, zones ...); default none.
    lang
        ``"zh"`` or ``"en"``.
    top_k
        How many top sites are listed and outlined.
    title
        Map title (default: the scenario name).

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo import suitability as su
    >>> atlas = cci_geo.load_demo()
    >>> res = su.score("scenarios/old_factory_reuse.toml", atlas=atlas, sensitivity=False)
    >>> html = whatif_map(res, {"districts": atlas["districts"]}).get_root().render()
    >>> "cciWhatIfInit" in html
    True
    """
    lang = check_lang(lang)
    layers = atlas if atlas is not None else {}
    default = f"{label('suitability', lang)}{'：' if lang == 'zh' else ': '}{result.scenario.name}"
    m = briefing_map(layers, lang=lang, title=title or default)
    data = whatif_data(result, lang=lang, top_k=top_k)
    lats = [s["lat"] for s in data["sites"]]
    lons = [s["lon"] for s in data["sites"]]
    if lats:  # the first view is framed on the sites
        pad = 0.01
        m.fit_bounds([[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]])
    script = asset_text("cci_geo_whatif.js").replace("</", "<\\/")
    add_script(m, script + f"\ncciWhatIfInit({{map}}, {js_json(data)});")
    return m


def save_whatif_html(result: Any, path: str | os.PathLike[str], atlas: Any = None, *,
                     lang: Lang = "zh", top_k: int = 10, overwrite: bool = False) -> Path:
    """Write :func:`whatif_map` as one self-contained HTML file that works offline.

    Examples
    --------
    >>> import tempfile
    >>> import cci_geo
    >>> from cci_geo import suitability as su
    >>> res = su.score("scenarios/old_factory_reuse.toml", atlas=cci_geo.load_demo(),
    ...                sensitivity=False)
    >>> p = save_whatif_html(res, Path(tempfile.mkdtemp()) / "whatif.html")
    >>> p.stat().st_size > 100_000
    True
    """
    m = whatif_map(result, atlas, lang=lang, top_k=top_k)
    return save_html(m, path, self_contained=True, overwrite=overwrite)
