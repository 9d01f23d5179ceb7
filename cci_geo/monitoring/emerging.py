"""Emerging hot spots: the seventeen categories of ArcGIS Pro's Emerging Hot Spot Analysis.

Each grid cell's series of Gi* bins (hot/cold at the chosen confidence) and the Mann-Kendall
trend of its Gi* z-scores place it in one category. With ``T`` time steps, "90 %" means
``n_hot >= 0.9 T`` (inclusive; computed as ``10 n_hot >= 9 T``), and the rules are, for hot
spots (cold spots mirror them):

=================  ========================================================================
category           rule
=================  ========================================================================
new                final step hot; no earlier step significant (hot *or* cold)
consecutive        a final run of >= 2 hot steps; no significant step before the run;
                   fewer than 90 % hot
intensifying       >= 90 % hot, final step hot, significant increasing trend
persistent         >= 90 % hot, final step hot, no significant trend
diminishing        >= 90 % hot, final step hot, significant decreasing trend
sporadic           final step hot, < 90 % hot, never cold, and neither new nor consecutive
oscillating        final step hot, < 90 % hot, at least one earlier cold step
historical         final step not hot, >= 90 % hot
no pattern         none of the above
=================  ========================================================================

Choices where Esri's wording is ambiguous (each has a test on a hand-built series):

* **An earlier cold step under New or Consecutive.** Esri says "never been a hot spot before"
  and is silent on cold steps, while Oscillating is "hot at the end with a history of cold".
  A cell with any earlier cold step is **oscillating**, never new or consecutive (as sfdep;
  xarray-spatial calls it new/consecutive because it only counts same-side steps).
* **Persistent vs Historical when the final step is not hot.** Persistent, Intensifying and
  Diminishing require the final step hot; a >= 90 % hot cell whose final step is not hot is
  **historical**, whatever its trend (sfdep calls it persistent when the trend is not
  significant and only historical when the final Gi* is negative; xarray-spatial agrees with
  us).
* **Exactly 90 %.** Inclusive: 9 hot steps of 10 is ">= 90 %" (sfdep also uses ``>= 0.9``;
  xarray-spatial uses ``floor(0.9 T)`` steps, so 12 of 14 (86 %) already count).
* **A cell that is both historical hot and oscillating cold** (>= 90 % hot, final step cold,
  possible from T = 10): the final step's side wins, **oscillating cold** (as sfdep's
  evaluation order; xarray-spatial tests the hot side first and says historical hot).

Other differences from the peers: sfdep's Sporadic does not require the final step to be hot
(ours, like Esri's wording, does), its Intensifying counts significant steps of either sign,
and its p-values come from 199 conditional permutations at 0.01 by default (ours are analytic
normal p-values at ``alpha`` = 0.10 with an FDR correction per step). xarray-spatial's "Gi*" is
a focal mean z-scored against the global mean, with no time window and raw 90 % bins.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..results import tag_result
from .cube import SpaceTimeCube
from .gistar import significance_bins, space_time_gi
from .trend import mann_kendall

__all__ = ["CATEGORIES", "classify", "emerging_hot_spots"]

logger = logging.getLogger(__name__)

_KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
          "oscillating", "historical")
_ZH = {"new": "新增", "consecutive": "连续", "intensifying": "加强", "persistent": "持续",
       "diminishing": "减弱", "sporadic": "零星", "oscillating": "振荡", "historical": "历史"}

CATEGORIES: dict[int, tuple[str, str]] = {0: ("no pattern detected", "未发现模式")}
"""Category code -> (English label, Chinese label). Codes 1..8 are hot spots in the order new,
consecutive, intensifying, persistent, diminishing, sporadic, oscillating, historical; -1..-8
the matching cold spots; 0 no pattern."""
for _code, _kind in enumerate(_KINDS, start=1):
    CATEGORIES[_code] = (f"{_kind} hot spot", f"{_ZH[_kind]}热点")
    CATEGORIES[-_code] = (f"{_kind} cold spot", f"{_ZH[_kind]}冷点")


def _one_side(side: np.ndarray, other: np.ndarray, trend_sig: np.ndarray,
              trend_sign: np.ndarray) -> np.ndarray:
    """Category codes 0..8 for one side (``side``: bool cells x steps of that side's bins)."""
    n_cells, T = side.shape
    n_side = side.sum(axis=1)
    n_other = other.sum(axis=1)
    final = side[:, -1]
    ninety = 10 * n_side >= 9 * T
    # length of the final run of this side's steps
    rev = side[:, ::-1]
    run = np.where(rev.all(axis=1), T, np.argmin(rev, axis=1))
    sig_before_run = (side | other)[:, :T].cumsum(axis=1)
    idx = np.clip(T - run - 1, 0, T - 1)
    any_before = np.where(run < T, sig_before_run[np.arange(n_cells), idx] > 0, False)
    code = np.zeros(n_cells, dtype="int64")
    strong = final & ninety
    code[strong & trend_sig & (trend_sign > 0)] = 3
    code[strong & trend_sig & (trend_sign < 0)] = 5
    code[strong & ~trend_sig] = 4
    weak = final & ~ninety
    code[weak & (n_other > 0)] = 7
    clean = weak & (n_other == 0)
    code[clean & (run == 1) & (n_side == 1)] = 1
    code[clean & (run >= 2) & ~any_before] = 2
    code[clean & (code == 0)] = 6
    code[~final & ninety] = 8
    return code


def classify(bins: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, *,
             trend_alpha: float = 0.10) -> np.ndarray:
    """Return the emerging hot spot category code of each cell.

    Parameters
    ----------
    bins
        Hot/cold bins, shape ``(cells, steps)``: > 0 significant hot, < 0 significant cold,
        0 not significant (e.g. from :func:`cci_geo.monitoring.significance_bins`).
    trend_z, trend_p
        Mann-Kendall z and p-value of each cell's Gi* z-scores.
    trend_alpha
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray
        Codes -8..8 (see :data:`CATEGORIES`), one per cell.

    Examples
    --------
    >>> import numpy as np
    >>> bins = np.array([[0, 0, 0, 0, 3], [0, 0, 0, 2, 3], [-1, 0, 0, 0, 2]])
    >>> [CATEGORIES[c][0] for c in classify(bins, np.zeros(3), np.ones(3))]
    ['new hot spot', 'consecutive hot spot', 'oscillating hot spot']
    """
    b = np.atleast_2d(np.asarray(bins))
    if b.shape[1] < 2:
        msg = f"bins need at least 2 time steps, got {b.shape[1]}."
        raise ParameterError(msg)
    hot, cold = b > 0, b < 0
    sig = np.asarray(trend_p) <= trend_alpha
    sign = np.sign(np.asarray(trend_z))
    hot_code = _one_side(hot, cold, sig, sign)
    cold_code = _one_side(cold, hot, sig, -sign)
    # the final step's side wins; otherwise a historical category; else no pattern
    out = np.where(hot[:, -1], hot_code, np.where(cold[:, -1], -cold_code, 0))
    out = np.where((out == 0) & (hot_code == 8), 8, out)
    return np.where((out == 0) & (cold_code == 8), -8, out)


def emerging_hot_spots(cube: SpaceTimeCube, *, k: int = 1, weights: object = "queen",
                       alpha: float = 0.10, fdr: bool = True, trend_alpha: float | None = None,
                       metric_crs: str | None = None) -> gpd.GeoDataFrame:
    """Classify every cell of a space-time cube into an emerging hot spot category.

    Gi* z-scores are computed per year with a space-time neighbourhood
    (:func:`space_time_gi`), binned at ``alpha`` (optionally FDR-corrected per year), and the
    Mann-Kendall trend of each cell's z-scores (:func:`mann_kendall`) separates intensifying,
    persistent and diminishing spots. The rules and the choices made where ArcGIS's wording is
    ambiguous are in this module's docstring.

    Parameters
    ----------
    cube
        From :func:`space_time_cube`.
    k
        Previous years in the neighbourhood (ArcGIS's *Neighborhood Time Step*; sfdep's ``k``).
    weights
        Spatial neighbours (``"queen"`` on the grid by default; see :func:`space_time_gi`).
    alpha
        Significance level of a hot or cold bin (0.10: 90 % confidence).
    fdr
        Benjamini-Hochberg correction of each year's p-values.
    trend_alpha
        Significance level of the trend (default: ``alpha``).
    metric_crs
        Metric CRS for distance-based weights.

    Returns
    -------
    geopandas.GeoDataFrame
        The cube's cells (metric CRS) with ``category`` (str, e.g. ``"new hot spot"``),
        ``category_zh``, ``category_code`` (int -8..8), ``trend_z``, ``trend_p``, ``trend_tau``
        (Mann-Kendall of the z-scores), ``n_hot``, ``n_cold`` (significant years),
        ``value_first``, ``value_last`` (the cube's variable in the first and last year),
        ``gi_z_<year>`` and ``gi_bin_<year>`` for every year. ``attrs`` carry the result kind
        ``"emerging_hot_spots"``, the years, ``k``, ``alpha``, ``fdr`` and the variable.

    Examples
    --------
    >>> import cci_geo
    >>> from cci_geo.monitoring import space_time_cube
    >>> atlas = cci_geo.load_demo()
    >>> cube = space_time_cube(atlas["enterprises"], years=range(2012, 2026), cell_size_m=3000)
    >>> ehs = emerging_hot_spots(cube, k=1)
    >>> set(ehs["category_code"]) <= set(CATEGORIES)
    True
    """
    ta = alpha if trend_alpha is None else trend_alpha
    z, p = space_time_gi(cube, k=k, weights=weights, metric_crs=metric_crs)
    bins = significance_bins(z, p, alpha=alpha, fdr=fdr)
    mk = mann_kendall(z)
    codes = classify(bins, mk.z, mk.p, trend_alpha=ta)
    out = cube.cells.copy()
    out["category"] = [CATEGORIES[c][0] for c in codes]
    out["category_zh"] = [CATEGORIES[c][1] for c in codes]
    out["category_code"] = codes
    out["trend_z"] = mk.z
    out["trend_p"] = mk.p
    out["trend_tau"] = mk.tau
    out["n_hot"] = (bins > 0).sum(axis=1)
    out["n_cold"] = (bins < 0).sum(axis=1)
    out["value_first"] = cube.values[:, 0]
    out["value_last"] = cube.values[:, -1]
    extra = {}
    for t, year in enumerate(cube.years):
        extra[f"gi_z_{year}"] = z[:, t]
        extra[f"gi_bin_{year}"] = bins[:, t]
    out = pd.concat([out, pd.DataFrame(extra, index=out.index)], axis=1)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=cube.cells.crs)
    tag_result(out, "emerging_hot_spots")
    out.attrs.update({"years": [int(y) for y in cube.years], "k": int(k), "alpha": alpha,
                      "fdr": bool(fdr), "trend_alpha": ta, "variable": cube.variable})
    logger.info("emerging hot spots on %d cells: %s", len(out),
                out["category"].value_counts().to_dict())
    return out
