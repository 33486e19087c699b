"""A Document as an XLSX workbook: a summary sheet (key figures and the charts), then one sheet
per table with typed cells (numbers as numbers, shares as percentages, times as Shanghai dates
with a date format), a frozen header row and readable column widths.

XlsxWriter's constant_memory mode writes each row to a temporary file as it comes, so the
registrant list's 100,000 rows never sit in memory; the workbook goes to a temporary file
that the caller streams and deletes."""
from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from typing import BinaryIO

import xlsxwriter
from flask_babel import gettext as _

from .data import Document, Kind, Share, Table, kind_of, local_naive

MIN_WIDTH, MAX_WIDTH = 6, 50  # characters; CJK characters count double
SHEET_NAME = 31  # Excel's limit
_EXCEL_EPOCH = datetime(1899, 12, 30)
_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
READ_CHUNK = 256 * 1024


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _serial(value: datetime | date) -> float:
    """Excel's day number: quicker than write_datetime for 100,000 rows, and the same cell."""
    if isinstance(value, datetime):
        return (local_naive(value) - _EXCEL_EPOCH).total_seconds() / 86400
    return float((value - _EXCEL_EPOCH.date()).days)


class _Styles:
    def __init__(self, book: xlsxwriter.Workbook):
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1,
                                       "text_wrap": True, "valign": "top"})
        self.label = book.add_format({"bold": True})
        self.datetime = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.share = book.add_format({"num_format": "0.0%"})


def write_workbook(document: Document) -> str:
    """Write the workbook to a temporary file and return its path (the caller deletes it)."""
    handle, path = tempfile.mkstemp(prefix="qmevents-export-", suffix=".xlsx")
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": tempfile.gettempdir(),
                                          "strings_to_formulas": False, "strings_to_urls": False,
                                          "strings_to_numbers": False})
        styles = _Styles(book)
        summary = book.add_worksheet(_sheet_name(_("Summary")))
        _write_summary(summary, document, styles)
        sizes = {table.name: _write_table(book, table, styles) for table in document.tables}
        for i, chart in enumerate(document.charts):
            rows = sizes[chart.table]
            if rows:
                summary.insert_chart(1, 3 + 9 * i, _chart(book, document, chart, rows),
                                     {"x_scale": 1.3, "y_scale": 1.3})
        book.close()
    except BaseException:
        os.unlink(path)
        raise
    return path


def stream_file(path: str) -> Iterator[bytes]:
    """The file in chunks. Its name is removed at once: the open handle keeps the bytes until
    they are sent, and nothing is left behind even if the response is never read."""
    handle = open(path, "rb")  # noqa: SIM115 (closed by _chunks, or when collected unread)
    os.unlink(path)
    return _chunks(handle)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(READ_CHUNK):
            yield chunk


def _sheet_name(name: str) -> str:
    return (name.translate(_FORBIDDEN).strip("'") or "Sheet")[:SHEET_NAME]


def _write_summary(sheet, document: Document, styles: _Styles) -> None:
    sheet.write_string(0, 0, document.title, styles.title)
    width = 0
    for row, (label, value) in enumerate(document.summary, start=2):
        sheet.write_string(row, 0, label, styles.label)
        width = max(width, display_width(label))
        if isinstance(value, Share):
            if value.value is not None:
                sheet.write_number(row, 1, value.value, styles.share)
        elif isinstance(value, datetime | date):
            fmt = styles.date if kind_of(value) == Kind.DATE else styles.datetime
            sheet.write_number(row, 1, _serial(value), fmt)
        elif isinstance(value, int | float):
            sheet.write_number(row, 1, value)
        elif value is not None:
            sheet.write_string(row, 1, str(value))
    sheet.set_column(0, 0, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
    sheet.set_column(1, 1, 40)


def _write_table(book: xlsxwriter.Workbook, table: Table, styles: _Styles) -> int:
    """The table on a sheet of its own; returns how many data rows it has."""
    sheet = book.add_worksheet(_sheet_name(table.title))
    sheet.freeze_panes(1, 0)
    widths = [display_width(c.label) for c in table.columns]
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, column.label, styles.header)
    writers = _cell_writers(sheet, table, styles, widths)
    row = 0
    for row, values in enumerate(table.rows, start=1):
        for col, write in writers:
            write(row, col, values[col])
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
    return row


def _cell_writers(sheet, table: Table, styles: _Styles, widths: list[int]):
    """One function per column that writes a value as its kind, and widens text columns."""

    longest = [0] * len(widths)  # characters of the longest text so far, per column

    def text(row: int, col: int, value) -> None:
        if value:
            value = str(value)
            sheet.write_string(row, col, value)
            if len(value) > longest[col]:  # measure only texts longer than any before
                longest[col] = len(value)
                widths[col] = max(widths[col], display_width(value))

    def number(row: int, col: int, value) -> None:
        if value is not None:
            sheet.write_number(row, col, value)

    def share(row: int, col: int, value) -> None:
        if value is not None:
            sheet.write_number(row, col, value, styles.share)

    def instant(row: int, col: int, value) -> None:
        if value is not None:
            sheet.write_number(row, col, _serial(value), styles.datetime)

    def wall_time(row: int, col: int, value) -> None:
        if value is not None:
            serial = (value - _EXCEL_EPOCH).total_seconds() / 86400
            sheet.write_number(row, col, serial, styles.datetime)

    def day(row: int, col: int, value) -> None:
        if value is not None:
            sheet.write_number(row, col, _serial(value), styles.date)

    writers = []
    for col, column in enumerate(table.columns):
        if column.kind in (Kind.DATETIME, Kind.WALL_TIME):
            widths[col] = max(widths[col], 16)
            writers.append((col, instant if column.kind == Kind.DATETIME else wall_time))
        elif column.kind == Kind.DATE:
            widths[col] = max(widths[col], 10)
            writers.append((col, day))
        else:
            writers.append((col, {Kind.INT: number, Kind.SHARE: share}.get(column.kind, text)))
    return writers


def _chart(book: xlsxwriter.Workbook, document: Document, chart, rows: int):
    table = document.table(chart.table)
    sheet = _sheet_name(table.title)
    native = book.add_chart({"type": "bar" if chart.horizontal else "column"})
    first, last = (chart.rows[0] + 1, chart.rows[1]) if chart.rows else (1, rows)
    native.add_series({
        "name": table.columns[chart.value_column].label,
        "categories": [sheet, first, 0, last, 0],
        "values": [sheet, first, chart.value_column, last, chart.value_column],
        "fill": {"color": "#1F5FA8"},
    })
    native.set_title({"name": chart.title})
    native.set_legend({"none": True})
    if table.columns[0].kind == Kind.DATETIME:
        native.set_x_axis({"num_format": "hh:mm"})
    if chart.horizontal:
        native.set_y_axis({"reverse": True})
    return native
