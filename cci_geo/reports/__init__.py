"""Printable reports: the briefing as an A4 or A3 PDF (maps, key tables, methods, sources).

Reports only draw: they take the results of a briefing run (or of any analyses) and never
compute an analysis themselves.
"""

from __future__ import annotations

from .pdf import PAPER_SIZES, write_report

__all__ = ["PAPER_SIZES", "write_report"]
