"""The printable briefing: an A4 or A3 PDF of maps, key tables, methods and data sources.

Pages: (1) title, date and an overview map; (2) concentration: density and clusters, location
quotients by district; (3) suitability: composite and sites, the top sites with each
criterion's contribution; (4) layout: proposed zones and what they add; (5) accessibility,
methods per analysis and the data sources with synthetic and approximate inputs flagged.
Pages whose analysis is missing are left out. Maps have a legend, scale bar and north arrow;
Chinese text uses an embedded TrueType font when one is installed.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from .. import __version__
from .._files import atomic_path, check_writable
from ..errors import ParameterError
from ..maps.briefing import briefing_layers, one_classed_fill, synthetic_note
from ..maps.fonts import font_context
from ..maps.labels import check_lang, label
from ..maps.registry import result_type
from ..maps.static import Extent, draw_map, map_extent
from . import content
from .content import ReportTable

__all__ = ["PAPER_SIZES", "write_report"]

logger = logging.getLogger(__name__)

#: Portrait paper sizes in inches.
PAPER_SIZES = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}

#: Layers of each map page: atlas layer kinds and result types drawn (others are left out).
PAGE_LAYERS = {
    "overview": ("districts", "functional_areas", "zones", "demonstrative_regions",
                 "kernel_density", "selected_sites"),
    "concentration": ("districts", "kernel_density", "designation_gap_clusters", "zones"),
    "suitability": ("districts", "suitability"),
    "layout": ("districts", "zones", "coverage", "selected_sites"),
}



def _fit(text: str, em: float) -> int:
    """Characters of ``text`` that fit in ``em`` font sizes: about 1.05 em per CJK character
    (full width), 0.55 em per Latin one.

    Examples
    --------
    >>> _fit("Transit lines", 22.0), _fit("轨道交通线路", 22.0)
    (40, 20)
    """
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    per = (1.05 * wide + 0.55 * (len(text) - wide)) / len(text) if text else 0.55
    return max(3, int(em / per))


def _wrap_cell(text: str, chars: int, lines: int = 2) -> str:
    r"""Wrap ``text`` to ``chars`` per line, at most ``lines`` lines (the last ends in "…").

    Examples
    --------
    >>> _wrap_cell("Beijing Langyuan Vintage creative park", 16)
    'Beijing Langyuan\nVintage creativ…'
    >>> _wrap_cell("1,250", 16)
    '1,250'
    """
    if len(text) <= chars:
        return text
    parts = textwrap.wrap(text, chars) or [text]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: max(chars - 1, 1)].rstrip() + "…"
    return "\n".join(parts)

class _Page:
    """One page being laid out from the top down; sizes in points scale with the paper."""

    TOP = 0.955
    BOTTOM = 0.055  # the footer sits below

    def __init__(self, pdf: PdfPages, size: tuple[float, float], bold: str, lang: str,
                 footer: str = "", counter: list[int] | None = None) -> None:
        self.fig = Figure(figsize=size)
        self.pdf, self.bold, self.lang, self.size = pdf, bold, lang, size
        self.k = size[0] / PAPER_SIZES["A4"][0]  # font scale
        self.y = self.TOP
        self.margin = 0.07
        self.footer_text = footer
        self.counter = counter if counter is not None else [0]
        self.counter[0] += 1
        self.number = self.counter[0]

    def need(self, height: float) -> None:
        """Continue on a new page when ``height`` (figure fraction) does not fit above the
        footer; the full page gets its footer and is saved."""
        if self.y - height >= self.BOTTOM or self.y >= self.TOP:
            return
        self.footer(self.footer_text, self.number)
        self.save()
        self.fig = Figure(figsize=self.size)
        self.y = self.TOP
        self.counter[0] += 1
        self.number = self.counter[0]

    def heading(self, text: str, size: float = 14.0) -> None:
        self.need(0.03 * size / 14.0 + 0.06)  # never a heading alone at the foot of a page
        self.fig.text(self.margin, self.y, text, fontsize=size * self.k, fontweight=self.bold,
                      va="top", color="#1d2b3a")
        self.y -= 0.03 * size / 14.0

    def paragraph(self, text: str, size: float = 8.0, width: int | None = None,
                  color: str = "#222222") -> None:
        chars = width or (52 if self.lang == "zh" else 100)
        lines = textwrap.wrap(text, chars) or [""]
        self.need(0.0165 * len(lines) * size / 8.0 + 0.008)
        self.fig.text(self.margin, self.y, "\n".join(lines), fontsize=size * self.k, va="top",
                      color=color, linespacing=1.45)
        self.y -= 0.0165 * len(lines) * size / 8.0 + 0.008

    def map(self, atlas: Any, results: Sequence[Any], kinds: Sequence[str], extent: Extent | None,
            height: float, frame: str | None = None) -> None:
        keep = [r for r in results if result_type(r) in kinds]
        layers = one_classed_fill([lyr for lyr in briefing_layers(
            atlas, *keep, lang=self.lang, visible=frozenset(kinds))  # type: ignore[arg-type]
            if lyr.show])
        if extent is None and frame is not None:
            extent = _data_extent([r for r in keep if result_type(r) == frame])
        bounds = map_extent(atlas, layers, extent)
        # the map's real height follows from its aspect: frame it first, then fill the page
        w_in, h_in = self.fig.get_size_inches()
        ratio = (bounds[3] - bounds[1]) / (bounds[2] - bounds[0])
        height = min(height, 0.6 * w_in * ratio / h_in)
        bottom = self.y - height
        draw_map(self.fig, (self.margin, bottom, 0.6, height), layers,
                 self.lang, bounds, legend_at=(0.69, self.y),  # type: ignore[arg-type]
                 colorbar_at=(
                     self.margin, bottom - 0.035, 0.6), bold=self.bold,
                 legend_fontsize=6.0 * self.k)
        bars = any(lyr.legend is not None and lyr.legend.kind == "colorbar" for lyr in layers)
        self.y = bottom - (0.07 if bars else 0.025)

    def table(self, t: ReportTable, size: float = 6.5) -> None:
        self.heading(t.title, 10.0)
        total = sum(t.widths)
        fracs = [w / total for w in t.widths]
        # wrap to the column: about 1.9 em per CJK character, 1 em per Latin one
        width_pt = (1 - 2 * self.margin) * self.fig.get_size_inches()[0] * 72
        ems = [frac * width_pt / (size * self.k) for frac in fracs]
        headers = [_wrap_cell(text, _fit(text, em), 4) for text, em in zip(t.headers, ems,
                                                                            strict=True)]
        # long names wrap onto a second line of their cell rather than running into the next
        rows = [[_wrap_cell(str(v), _fit(str(v), em)) for v, em in zip(r, ems, strict=True)]
                for r in t.rows]
        row_h = 0.0165 * size / 6.5

        def tall(line: Sequence[str]) -> float:
            return row_h * (0.35 + 0.65 * max(h.count("\n") + 1 for h in line))

        head_h = tall(headers)
        body = [tall(r) for r in rows] or [row_h]
        rows = rows or [[""] * len(t.headers)]
        start = 0
        while start < len(rows):  # rows that do not fit continue on the next page, headed again
            self.need(head_h + body[start])
            room = self.y - self.BOTTOM - head_h
            stop = start + 1
            while stop < len(rows) and sum(body[start:stop + 1]) <= room:
                stop += 1
            self._table_part(headers, rows[start:stop], fracs, [head_h, *body[start:stop]],
                             size, odd_first=start % 2 == 1)
            start = stop
        if t.note:
            self.paragraph(t.note, 6.5, color="#555555")
        self.y -= 0.01

    def _table_part(self, headers: list[str], rows: list[list[str]], fracs: list[float],
                    heights: list[float], size: float, *, odd_first: bool) -> None:
        height = sum(heights)
        ax = self.fig.add_axes((self.margin, self.y - height, 1 - 2 * self.margin, height))
        ax.axis("off")
        tab = ax.table(cellText=rows, colLabels=headers, colWidths=fracs, cellLoc="left",
                       bbox=(0, 0, 1, 1))  # type: ignore[arg-type]
        tab.auto_set_font_size(False)
        tab.set_fontsize(size * self.k)
        for (row, _col), cell in tab.get_celld().items():
            cell.set_edgecolor("#c8ced6")
            cell.set_linewidth(0.4)
            cell.set_height(heights[row] / height)
            if row == 0:
                cell.set_facecolor("#dde4ee")
                cell.get_text().set_fontweight(self.bold)
            elif (row + odd_first) % 2 == 0:
                cell.set_facecolor("#f5f7fa")
        self.y -= height + 0.012

    def footer(self, text: str, page: int) -> None:
        self.fig.text(self.margin, 0.025, text, fontsize=6 * self.k, color="#666666")
        self.fig.text(1 - self.margin, 0.025, str(page), fontsize=7 * self.k, ha="right",
                      color="#666666")

    def save(self) -> None:
        self.pdf.savefig(self.fig)


def _t(zh: str, en: str, lang: str) -> str:
    return zh if lang == "zh" else en


def _data_extent(frames: Sequence[Any], pad: float = 0.12,
                 min_deg: float = 0.15) -> Extent | None:
    """Return ``(west, south, east, north)`` around the features of ``frames``, padded."""
    import geopandas as gpd  # noqa: PLC0415

    boxes = [f.to_crs(4326).total_bounds for f in frames
             if isinstance(f, gpd.GeoDataFrame) and len(f) and f.crs is not None]
    if not boxes:
        return None
    w = min(b[0] for b in boxes)
    s = min(b[1] for b in boxes)
    e = max(b[2] for b in boxes)
    n = max(b[3] for b in boxes)
    dx, dy = max(e - w, min_deg), max(n - s, min_deg)
    cx, cy = (w + e) / 2, (s + n) / 2
    return (cx - dx * (0.5 + pad), cy - dy * (0.5 + pad), cx + dx * (0.5 + pad),
            cy + dy * (0.5 + pad))


def _contents(results: Sequence[Any], lang: str) -> list[str]:
    kinds = {result_type(r) for r in results}
    lines = []
    for kind, zh, en in (
            ("location_quotient", "企业集聚：核密度、集聚区与各区区位商",
             "Where creative enterprises cluster: density, clusters, location quotients"),
            ("suitability", "老旧厂房再利用适宜性：得分最高的地块及各指标贡献",
             "Old factory sites: the most suitable and why"),
            ("selected_sites", "新增文创园区布局方案及其服务",
             "Proposed new CCI zones and what they add"),
            ("access_by_district", "公共文化设施可达性", "Access to cultural venues")):
        if kind in kinds:
            lines.append(f"· {zh if lang == 'zh' else en}")
    lines.append("· " + _t("方法说明与数据来源（合成与近似数据已标注）",
                           "Methods and data sources (synthetic and approximate data flagged)",
                           lang))
    return lines


def _compose(pdf: PdfPages, atlas: Any, results: Sequence[Any], *, lang: str,
             size: tuple[float, float], bold: str, title: str, subtitle: str | None,
             extent: Extent | None, notes: Sequence[str], districts: Any) -> int:
    """Lay out every page into ``pdf``; return the number of pages."""
    today = _dt.date.today().isoformat()
    footer = f"{title} · {today} · cci_geo {__version__}"
    counter = [0]  # pages started, shared by the pages that continue onto the next

    def new() -> _Page:
        return _Page(pdf, size, bold, lang, footer=footer, counter=counter)

    # 1. cover: title, date, overview map, the synthetic-data warning
    p = new()
    p.heading(title, 20.0)
    p.paragraph(subtitle or _t("文化创意产业空间规划简报", "Planning briefing: cultural and "
                               "creative industry", lang), 11.0)
    p.paragraph(_t(f"日期：{today}", f"Date: {today}", lang), 9.0, color="#444444")
    layout = label("layout", lang)  # type: ignore[arg-type]  # the layout results' name
    note = synthetic_note(atlas, results, lang,  # type: ignore[arg-type]
                          names={"selected_sites": layout, "layout_sites": layout})
    if note:
        p.paragraph(note, 7.5, color="#a0312b")
    p.map(atlas, results, PAGE_LAYERS["overview"], extent, 0.55)
    p.heading(_t("内容", "Contents", lang), 11.0)
    for line in _contents(results, lang):
        p.paragraph(line, 8.5)
    p.footer(footer, p.number)
    p.save()
    # 2-4. one page per analysis: its map and its key table
    pages = (("concentration", ("企业集聚", "Where creative enterprises cluster"),
              "designation_gap_clusters", content.lq_table(results, lang)),
             ("suitability", ("老旧厂房再利用适宜性", "Old factory sites: suitability for reuse"),
              "suitability", content.top_sites_table(results, lang)),
             ("layout", ("新增文创园区布局方案", "Proposed new CCI zones"),
              "selected_sites", content.proposal_table(results, districts, lang)))
    numerals = "一二三四五"
    for i, (key, (zh, en), frame, table) in enumerate([pg for pg in pages if pg[3] is not None]):
        p = new()
        p.heading(_t(f"{numerals[i]}、{zh}", f"{i + 1}. {en}", lang))
        p.map(atlas, results, PAGE_LAYERS[key], extent, 0.45, frame=frame)
        if table is not None:
            p.table(table, 6.0)
        p.footer(footer, p.number)
        p.save()
    # 5. accessibility, methods, sources
    p = new()
    acc = content.access_table(results, lang)
    if acc is not None:
        p.table(acc, 6.0)
    p.heading(_t("方法说明", "Methods", lang), 12.0)
    for heading, text in content.methods(results, lang):
        p.paragraph(heading, 8.5, color="#1d2b3a")
        p.paragraph(text, 7.0)
    rows = content.sources_rows(atlas, lang)
    if rows:
        p.table(ReportTable(_t("数据来源", "Data sources", lang),
                            [_t("图层", "Layer", lang), _t("来源", "Source", lang),
                             _t("性质", "Status", lang)], rows, [1.3, 4.2, 1.1],
                            _t("合成数据仅用于演示方法，不代表真实企业或地块。",
                               "Synthetic data only demonstrate the methods; they are "
                               "not real firms or sites.", lang)), 6.0)
    for line in notes:
        p.paragraph(line, 6.5, color="#a0312b")
    p.footer(footer, p.number)
    p.save()
    return counter[0]


def write_report(atlas: Any, *results: Any, path: str | os.PathLike[str], lang: str = "zh",
                 title: str | None = None, subtitle: str | None = None, paper: str = "A4",
                 extent: Extent | None = None, notes: Sequence[str] = (),
                 overwrite: bool = False) -> Path:
    """Write a printable briefing of ``atlas`` and its analysis ``results`` as a PDF.

    Parameters
    ----------
    atlas
        The :class:`~cci_geo.atlas.Atlas` the results were computed from (its provenance is
        listed, synthetic and approximate inputs flagged).
    *results
        Drawable results of a briefing run (GeoDataFrames and Surfaces, found by their result
        type: ``location_quotient``, ``suitability``, ``selected_sites``, ...).
    path
        Output ``.pdf`` file, written atomically.
    lang
        ``"zh"`` or ``"en"``.
    title, subtitle
        Cover title (default: the briefing title) and subtitle.
    paper
        ``"A4"`` or ``"A3"`` (portrait).
    extent
        ``(west, south, east, north)`` in EPSG:4326 framing every map (default: Beijing's
        districts, else all layers).
    notes
        Lines about skipped or failed steps, printed with the sources.
    overwrite
        Replace an existing file (otherwise ``FileExistsError``).

    Returns
    -------
    pathlib.Path
        The written PDF.

    Examples
    --------
    >>> import tempfile
    >>> import cci_geo
    >>> from cci_geo import concentration as cc
    >>> atlas = cci_geo.load_demo()
    >>> lq = cc.location_quotient(atlas["enterprises"], atlas["districts"].head(16))
    >>> out = Path(tempfile.mkdtemp()) / "briefing.pdf"
    >>> write_report(atlas, lq, path=out, lang="en").stat().st_size > 10_000
    True
    """
    lang = check_lang(lang)
    if paper not in PAPER_SIZES:
        msg = f"paper={paper!r} is not one of {sorted(PAPER_SIZES)}"
        raise ParameterError(msg)
    target = check_writable(path, overwrite=overwrite)
    size = PAPER_SIZES[paper]
    title = title or label("briefing_title", lang)
    districts = atlas.get("districts") if hasattr(atlas, "get") else None
    meta = {"Title": title, "Creator": f"cci_geo {__version__}",
            "Subject": _t("规划简报", "Planning briefing", lang)}
    with (font_context(lang, for_pdf=True) as bold,
          atomic_path(target, overwrite=overwrite) as tmp, PdfPages(tmp, metadata=meta) as pdf):
        page_no = _compose(pdf, atlas, results, lang=lang, size=size, bold=bold, title=title,
                           subtitle=subtitle, extent=extent, notes=notes, districts=districts)
    logger.info("wrote %s (%d pages)", target, page_no)
    return target
