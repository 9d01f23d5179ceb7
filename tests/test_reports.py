"""The printable PDF briefing, static maps with an extent, and the missing-font warning."""

import logging
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

import cci_geo
from cci_geo import concentration as cc
from cci_geo.cli.main import main
from cci_geo.maps import fonts, save_png
from cci_geo.reports import write_report

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None
                                   or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils (pdftotext, pdftoppm) not installed")


@pytest.fixture(scope="module")
def atlas():
    return cci_geo.load_demo()


@pytest.fixture(scope="module")
def demo_pdf(tmp_path_factory):
    """``cci-geo report`` on the demo: every analysis, Chinese, A4."""
    out = tmp_path_factory.mktemp("report") / "briefing.pdf"
    assert main(["-q", "report", "--out", str(out), "--lang", "zh"]) == 0
    return out


def _text(path, *args):
    return subprocess.run(["pdftotext", *args, "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


@needs_poppler
def test_report_text_comes_back_in_chinese(demo_pdf):
    text = _text(demo_pdf)
    assert "北京文化创意产业示例图集" in text  # the title: the atlas's Chinese name
    headings = ("企业集聚", "老旧厂房再利用适宜性", "新增文创园区布局方案", "方法说明", "数据来源")
    assert all(h in text for h in headings)
    assert "朝阳区" in text  # district names in the tables
    assert "合成数据" in text  # synthetic inputs flagged
    assert "邻近文创园区" in text  # per-criterion contributions


@needs_poppler
def test_report_fonts_are_embedded(demo_pdf):
    out = subprocess.run(["pdffonts", str(demo_pdf)], check=True, capture_output=True,
                         text=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows
    # columns from the right: object ID (2), uni, sub, emb
    assert all(r[-5] == "yes" for r in rows), out


@needs_poppler
def test_report_pages_render(demo_pdf, tmp_path):
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(demo_pdf), str(tmp_path / "p")],
                   check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 5  # cover, three analyses, access + methods + sources (may run on)
    for page in pages:
        img = Image.open(page)
        assert img.size[1] > img.size[0]  # portrait
        assert abs(img.size[1] / img.size[0] - 297 / 210) < 0.02  # A4
        assert np.asarray(img.convert("L")).std() > 5  # not blank
    cover = np.asarray(Image.open(pages[0]).convert("RGB")).astype(int)
    # the map is drawn in colour (density, parks), not just text
    assert (np.abs(cover[..., 0] - cover[..., 2]) > 60).sum() > 500


@needs_poppler
def test_english_a3_report_with_extent(atlas, tmp_path):
    ent = atlas["enterprises"]
    bj = atlas["districts"][atlas["districts"]["adcode"].astype(str).str.startswith("11")]
    lq = cc.location_quotient(ent, bj)
    out = write_report(atlas, lq, path=tmp_path / "r.pdf", lang="en", paper="A3",
                       title="Chaoyang briefing", extent=(116.35, 39.85, 116.65, 40.05))
    text = _text(out)
    assert "Chaoyang briefing" in text and "Location quotients by district" in text
    assert "Top 10 candidate" not in text  # no suitability among the results: no page
    assert "SYNTHETIC" in text
    info = subprocess.run(["pdfinfo", str(out)], check=True, capture_output=True,
                          text=True).stdout
    assert "842 x 1191" in info.replace(".", " ").replace("  ", " ") or "A3" in info
    with pytest.raises(FileExistsError):
        write_report(atlas, lq, path=out)


def test_bad_paper_and_extent(atlas, tmp_path):
    with pytest.raises(cci_geo.errors.ParameterError, match="paper"):
        write_report(atlas, path=tmp_path / "r.pdf", paper="letter")
    with pytest.raises(cci_geo.errors.ParameterError, match="west < east"):
        save_png(atlas, path=tmp_path / "m.png", extent=(117.0, 39.8, 116.0, 40.0))


def test_save_png_extent_frames_the_map(atlas, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    whole = save_png(atlas, path=tmp_path / "whole.png", lang="zh", dpi=50)
    part = save_png(atlas, path=tmp_path / "part.png", lang="zh", dpi=50,
                    extent=(116.40, 39.90, 116.50, 39.98))
    a = np.asarray(Image.open(whole).convert("L"))
    b = np.asarray(Image.open(part).convert("L"))
    assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).mean() > 3
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]  # no bold warning


def test_static_maps_draw_one_classed_fill_as_the_html_map_opens(atlas, tmp_path, caplog,
                                                                 monkeypatch):
    from cci_geo.maps import static
    from cci_geo.maps.briefing import briefing_layers, is_classed_fill

    ent = atlas["enterprises"]
    bj = atlas["districts"][atlas["districts"]["adcode"].astype(str).str.startswith("11")]
    lq = cc.location_quotient(ent, bj)
    hot = cc.hot_spots(cc.grid_counts(ent, 3000), "count")
    on = [lyr for lyr in briefing_layers({}, lq, hot, lang="en")
          if lyr.show and is_classed_fill(lyr)]
    assert len(on) == 2  # the first sector's LQ and the Gi* grid would stack
    drawn = []
    draw = static.draw_map

    def spy(fig, rect, layers, *args, **kwargs):
        drawn.extend(layers)
        return draw(fig, rect, layers, *args, **kwargs)

    caplog.set_level(logging.INFO, logger="cci_geo.maps.briefing")
    monkeypatch.setattr(static, "draw_map", spy)
    save_png({}, lq, hot, path=tmp_path / "fills.png", lang="en", dpi=30)
    fills = [lyr.name for lyr in drawn if is_classed_fill(lyr)]
    assert fills == [on[0].name]
    assert any("leaving out" in r.getMessage() for r in caplog.records)


def test_missing_cjk_font_warns_with_the_fix(atlas, tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda **kw: None)
    with pytest.warns(fonts.MissingFontWarning, match="fonts-wqy-microhei"):
        save_png(atlas, path=tmp_path / "m.png", lang="zh", dpi=30)
    with pytest.warns(fonts.MissingFontWarning, match="apt-get install"):
        write_report(atlas, path=tmp_path / "r.pdf", lang="zh")


def test_long_tables_continue_on_the_next_page_and_long_names_wrap(tmp_path):
    from matplotlib.backends.backend_pdf import PdfPages

    from cci_geo.reports.content import ReportTable
    from cci_geo.reports.pdf import _Page

    long_name = "Beijing No. 2 Textile Factory creative industries demonstration park"
    rows = [[str(i), long_name if i % 7 == 0 else f"Site {i}", f"{i / 100:.2f}"]
            for i in range(70)]
    table = ReportTable("Sites", ["Rank", "Site", "Score"], rows, [0.6, 2.0, 0.8])
    path = tmp_path / "long.pdf"
    drawn = []
    with PdfPages(path) as pdf:
        page = _Page(pdf, (8.27, 11.69), "bold", "en", footer="footer")
        page.paragraph("intro " * 40)
        save = page.save

        def keep() -> None:  # record every part's frame before its page is written
            drawn.extend(ax.get_position().bounds for ax in page.fig.axes)
            save()

        page.save = keep
        page.table(table, 6.0)
        page.footer("footer", page.number)
        page.save()
    assert page.number >= 2  # 70 rows, some of two lines, do not fit on one A4 page
    assert all(bottom >= _Page.BOTTOM - 1e-9 for _x, bottom, _w, _h in drawn)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert text.count("Rank") == page.number  # the header repeats on each page
    assert "Site 69" in text and "demonstration park" in text  # nothing cut off
