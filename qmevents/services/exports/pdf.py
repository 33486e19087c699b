"""A Document as a printable PDF summary: the title, the key figures, the charts (reportlab
graphics, drawn in the PDF itself) and the short tables, in Chinese. Long lists (every quarter
hour, every registrant) stay in the CSV and the workbook.

The Chinese font is the one the tickets register (services.tickets: WenQuanYi, embedded as a
subset, or reportlab's CID font when none is installed)."""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ..fonts import cjk_font
from .data import TEXT_OF, Chart, Document, Kind, summary_text
from .data import Table as DataTable

PAGE = landscape(A4)
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN
BLUE = colors.HexColor("#1F5FA8")
HEADER_BG = colors.HexColor("#E8EEF4")
MAX_CATEGORY_LABELS = 24  # a label every nth bar beyond that, or they overlap


def document_pdf(document: Document) -> bytes:
    font = cjk_font()
    styles = _styles(font)
    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN, title=document.title,
                            creator="qmevents")
    story: list = [Paragraph(escape(document.title), styles["title"]), Spacer(1, 4 * mm),
                   _summary(document, styles)]
    for chart in document.charts:
        table = document.table(chart.table)
        story += [Spacer(1, 6 * mm), Paragraph(escape(chart.title), styles["heading"]),
                  _chart(table, chart, font)]
    for table in document.tables:
        if table.in_pdf:
            story += [Spacer(1, 6 * mm), Paragraph(escape(table.title), styles["heading"]),
                      _table(table, styles)]
    pdf.build(story)
    return out.getvalue()


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=20),
        "heading": ParagraphStyle("heading", parent=base, fontSize=11, leading=14,
                                  spaceAfter=2 * mm, keepWithNext=1),
        "cell": base,
        "number": ParagraphStyle("number", parent=base, alignment=TA_RIGHT),
        # Latin headers break between words ("Admitted people"), Chinese ones anywhere.
        "head": ParagraphStyle("head", parent=base, wordWrap=None),
    }


def _grid(font: str) -> list:
    return [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]


def _summary(document: Document, styles: dict[str, ParagraphStyle]) -> Table:
    """Key figures two by two across the page: label, value, label, value."""
    cells = [[Paragraph(escape(label), styles["cell"]),
              Paragraph(escape(summary_text(value)), styles["cell"])]
             for label, value in document.summary]
    half = (len(cells) + 1) // 2
    rows = [left + (cells[half + i] if half + i < len(cells) else ["", ""])
            for i, left in enumerate(cells[:half])]
    table = Table(rows, colWidths=[WIDTH * w for w in (0.17, 0.33, 0.17, 0.33)])
    table.setStyle(TableStyle([*_grid(styles["cell"].fontName),
                               ("BACKGROUND", (0, 0), (0, -1), HEADER_BG),
                               ("BACKGROUND", (2, 0), (2, -1), HEADER_BG)]))
    return table


def _table(table: DataTable, styles: dict[str, ParagraphStyle]) -> Table:
    kinds = [c.kind for c in table.columns]
    head = [Paragraph(escape(c.label), styles["head" if c.label.isascii() else "cell"])
            for c in table.columns]
    body = [[Paragraph(escape(TEXT_OF[k](v)), styles["cell" if k == Kind.TEXT else "number"])
             for k, v in zip(kinds, row, strict=False)] for row in table.rows]
    weights = [3 if k == Kind.TEXT else 2 if k in (Kind.DATETIME, Kind.WALL_TIME, Kind.DATE) else 1
               for k in kinds]
    unit = WIDTH / sum(weights)
    grid = Table([head, *body], colWidths=[w * unit for w in weights], repeatRows=1)
    grid.setStyle(TableStyle([*_grid(styles["cell"].fontName),
                              ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG)]))
    return grid


def _chart(table: DataTable, chart: Chart, font: str) -> Drawing:
    """A bar chart of one column against the first, labelled in the document's font."""
    first = table.columns[0].kind
    rows = list(table.rows)
    if chart.rows is not None:
        rows = rows[chart.rows[0]:chart.rows[1]]
    values = [row[chart.value_column] or 0 for row in rows]
    names = [TEXT_OF[first](row[0]) for row in rows]
    if first == Kind.DATETIME:
        names = [name[-5:] for name in names]  # HH:MM
    step = max(1, -(-len(names) // MAX_CATEGORY_LABELS))
    names = [name if i % step == 0 else "" for i, name in enumerate(names)]
    height = max(60 * mm, 6 * mm * len(values)) if chart.horizontal else 70 * mm
    drawing = Drawing(WIDTH, height)
    bars = HorizontalBarChart() if chart.horizontal else VerticalBarChart()
    bars.x, bars.y = (40 * mm, 8 * mm) if chart.horizontal else (12 * mm, 14 * mm)
    bars.width = WIDTH - bars.x - 10 * mm
    bars.height = height - bars.y - 6 * mm
    bars.data = [values or [0]]
    bars.bars[0].fillColor = BLUE
    bars.valueAxis.valueMin = 0
    bars.valueAxis.labels.fontName = font
    axis = bars.categoryAxis
    axis.categoryNames = names or [""]
    axis.labels.fontName = font
    axis.labels.fontSize = 7
    if chart.horizontal:
        axis.reverseDirection = True
    elif len(names) > 12:
        axis.labels.angle = 45
        axis.labels.boxAnchor = "ne"
    drawing.add(bars)
    if not values:
        drawing.add(String(WIDTH / 2, height / 2, "—", fontName=font, textAnchor="middle"))
    return drawing
