"""The Chinese font of every PDF we write (tickets, reports): a TrueType font found on the system
and embedded, so a phone without Chinese fonts shows the PDF; else reportlab's built-in CID font,
which renders but relies on the reader's own fonts. `make system-deps` installs
fonts-wqy-microhei."""
from __future__ import annotations

import functools
import logging
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

FONT_PATHS: tuple[tuple[str, str], ...] = (
    ("WenQuanYiMicroHei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    ("WenQuanYiZenHei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
FALLBACK_FONT = "STSong-Light"  # reportlab's built-in CID font: renders, but is not embedded


def font_path() -> str | None:
    """The Chinese TrueType font's file (the ticket card draws with it too); None without one."""
    return next((path for _name, path in FONT_PATHS if Path(path).is_file()), None)


@functools.cache
def cjk_font() -> str:
    """Register a Chinese font once per process and name it; warn once when none is installed."""
    for name, path in FONT_PATHS:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
            return name
    log.warning(
        "No TrueType Chinese font found (%s); PDFs use %s, which is not embedded and "
        "needs the reader's own Chinese fonts. Install fonts-wqy-microhei.",
        ", ".join(path for _name, path in FONT_PATHS), FALLBACK_FONT,
    )
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT
