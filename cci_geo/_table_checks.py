"""The checks behind :func:`cci_geo.schema.validate_table` (tables without geometry).

Column types are checked by the same checker as layers (:mod:`cci_geo._schema_checks`); this
module adds what only a keyed table has: a complete, unique key and, for annual observations,
agreement with the enterprises layer (known ids, years while the enterprise operates).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ._schema_checks import _Checker
from .errors import ParameterError, ParameterTypeError, Problem
from .schema import TABLE_KINDS, TABLE_SPECS

logger = logging.getLogger(__name__)


def _enterprise_checks(out: pd.DataFrame, enterprises: pd.DataFrame, checker: _Checker) -> None:
    if "id" not in enterprises.columns:
        return
    ids = enterprises["id"].astype(str)
    known = out["enterprise_id"].isin(set(ids))
    if (~known).any():
        checker.add("unknown_id", "column 'enterprise_id' has ids that are not in the "
                    f"enterprises layer, such as {out.loc[~known, 'enterprise_id'].iloc[0]!r}",
                    "add those enterprises to the layer or drop their rows",
                    column="enterprise_id", mask=~known)
    span = pd.DataFrame({"enterprise_id": ids.to_numpy()})
    for col in ("founded", "closed"):
        span[col] = (pd.to_numeric(enterprises[col], errors="coerce").to_numpy()
                     if col in enterprises.columns else np.nan)
    joined = out[["enterprise_id", "year"]].merge(span, on="enterprise_id", how="left")
    year = joined["year"].astype("float64").to_numpy()
    early = year < joined["founded"].to_numpy(dtype="float64", na_value=np.nan)
    late = year >= joined["closed"].to_numpy(dtype="float64", na_value=np.nan)
    if early.any():
        checker.add("year_range", "rows fall before the enterprise's 'founded' year",
                    "correct 'founded' in the enterprises layer or drop those rows",
                    column="year", mask=early)
    if late.any():
        checker.add("year_range", "rows fall in or after the enterprise's 'closed' year "
                    "(an enterprise operates in the years founded <= year < closed)",
                    "correct 'closed' in the enterprises layer or drop those rows",
                    column="year", mask=late)


def run_table_checks(df: pd.DataFrame, kind: str, *, layer: str | None = None,
                     enterprises: pd.DataFrame | None = None
                     ) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Run every check of a table kind; return the checked copy (or None) and the problems."""
    if not isinstance(df, pd.DataFrame):
        msg = f"validate_table() needs a pandas DataFrame, got {type(df).__name__}."
        raise ParameterTypeError(msg)
    if kind not in TABLE_SPECS:
        msg = f"unknown table kind {kind!r}; use one of {list(TABLE_KINDS)}."
        raise ParameterError(msg)
    spec = TABLE_SPECS[kind]
    name = layer or kind
    frame = pd.DataFrame(df).reset_index(drop=True)
    if "geometry" in frame.columns:
        frame = frame.drop(columns="geometry")
    checker = _Checker(frame, spec, name)  # type: ignore[arg-type]
    out = frame.copy()
    checker.columns(out)  # type: ignore[arg-type]
    if not any(p.severity == "error" for p in checker.problems):
        key = list(spec.key)
        dup = out.duplicated(key, keep=False)
        if dup.any():
            first = out.loc[dup, key].iloc[0].tolist()
            checker.add("duplicate_key", f"the key {key} has duplicate rows such as {first}",
                        f"keep one row per {' and '.join(key)}", column=key[0], mask=dup)
        if enterprises is not None and kind == "enterprise_years":
            _enterprise_checks(out, enterprises, checker)
    has_error = any(p.severity == "error" for p in checker.problems)
    logger.debug("checked table %s (%s): %d problems", name, kind, len(checker.problems))
    if has_error:
        return None, checker.problems
    out = out.sort_values(list(spec.key), kind="stable").reset_index(drop=True)
    return out, checker.problems
