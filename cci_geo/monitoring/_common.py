"""Helpers shared by the monitoring modules."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def tag(obj: T, kind: str) -> T:
    """Tag ``obj`` with its result kind (through :mod:`cci_geo.results` when present)."""
    try:
        from ..results import tag_result  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        obj.attrs["cci_geo_result"] = kind  # type: ignore[attr-defined]
        return obj
    return tag_result(obj, kind)  # type: ignore[no-any-return,unused-ignore]
