"""Fonts for static maps and PDF reports: a Chinese font that renders and embeds.

matplotlib draws Chinese only with a font that covers it. For PDF a TrueType font embeds
cleanly everywhere (WenQuanYi Micro Hei / Zen Hei, Debian ``fonts-wqy-microhei`` /
``fonts-wqy-zenhei``); Noto Sans CJK (``fonts-noto-cjk``) is an OpenType/CFF font that
matplotlib embeds too, but some PDF readers warn about it, so it comes second for PDF.
Without any, :func:`font_rc` warns once with the fix instead of drawing boxes silently.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib import font_manager

__all__ = ["MissingFontWarning", "bold_weight", "cjk_font", "font_context", "font_rc"]

#: Font files looked for when matplotlib has not found a CJK family by itself, TrueType first.
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

#: Families that cover Chinese: TrueType ones (embed cleanly in PDF) first.
TRUETYPE_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback",
                     "SimHei", "Microsoft YaHei")
OPENTYPE_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC",
                     "Source Han Sans SC")

INSTALL_HINT = ("install a Chinese font, e.g. `apt-get install fonts-wqy-microhei` "
                "(Debian/Ubuntu), `dnf install wqy-microhei-fonts` (Fedora) or Noto Sans CJK "
                "from https://github.com/notofonts/noto-cjk, then run again")


class MissingFontWarning(UserWarning):
    """No installed font covers Chinese: Chinese labels would be drawn as boxes."""


def _register_files() -> None:
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for path in FONT_FILES:
        if Path(path).exists() and path not in known:
            font_manager.fontManager.addfont(path)


def cjk_font(*, for_pdf: bool = False) -> str | None:
    """Return the name of an installed font family that covers Chinese, or None.

    ``for_pdf`` prefers TrueType families, which every PDF reader takes.

    Examples
    --------
    >>> cjk_font() is None or isinstance(cjk_font(), str)
    True
    """
    _register_files()
    names = {f.name for f in font_manager.fontManager.ttflist}
    order = (TRUETYPE_FAMILIES + OPENTYPE_FAMILIES if for_pdf
             else OPENTYPE_FAMILIES + TRUETYPE_FAMILIES)
    return next((fam for fam in order if fam in names), None)


def bold_weight(family: str | None) -> str:
    """Return ``"bold"`` when ``family`` has a bold face, else ``"normal"``.

    Asking matplotlib for bold in a family without one logs "findfont: Failed to find font
    weight bold"; titles then use size and colour instead.

    Examples
    --------
    >>> bold_weight("DejaVu Sans")
    'bold'
    """
    if family is None:
        return "bold"
    weights = [f.weight for f in font_manager.fontManager.ttflist if f.name == family]
    heavy = [w for w in weights if (int(w) if str(w).isdigit() else 700 if "bold" in str(w)
                                    else 400) >= 600]
    return "bold" if heavy else "normal"


def font_rc(lang: str, *, for_pdf: bool = False) -> tuple[dict[str, Any], str]:
    """Return matplotlib rc settings for ``lang`` and the bold weight to use for titles.

    Warns :class:`MissingFontWarning` (naming the fix) when ``lang`` is ``"zh"`` and no font
    covers Chinese. ``for_pdf`` embeds fonts as TrueType (Type 42), so text stays text.

    Examples
    --------
    >>> rc, bold = font_rc("en")
    >>> rc["font.family"][-1]
    'DejaVu Sans'
    """
    font = cjk_font(for_pdf=for_pdf)
    if font is None and lang == "zh":
        warnings.warn(f"no font with Chinese characters is installed, so Chinese text will "
                      f"show as boxes: {INSTALL_HINT}", MissingFontWarning, stacklevel=4)
    rc: dict[str, Any] = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
                          "axes.unicode_minus": False}
    if for_pdf:
        rc["pdf.fonttype"] = 42
    return rc, bold_weight(font) if font else "bold"


@contextlib.contextmanager
def font_context(lang: str, *, for_pdf: bool = False) -> Iterator[str]:
    """Draw with the settings of :func:`font_rc`; yield the bold weight for titles.

    When no font covers Chinese, the one :class:`MissingFontWarning` replaces matplotlib's
    warning for every missing glyph.

    Examples
    --------
    >>> with font_context("en") as bold:
    ...     bold in ("bold", "normal")
    True
    """
    rc, bold = font_rc(lang, for_pdf=for_pdf)
    with mpl.rc_context(rc), warnings.catch_warnings():  # type: ignore[arg-type]
        if rc["font.family"] == ["DejaVu Sans"]:
            warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        yield bold
