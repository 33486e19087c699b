"""A Document as CSV that Excel opens with Chinese intact: UTF-8 with a byte-order mark, CRLF line
ends, one section per table separated by a blank line. Streamed: chunks of about 64 KB are yielded
as rows arrive, so 100,000 registrants never sit in memory at once.

Cells that start with = + - @ (or a tab or carriage return) would run as formulas when a
spreadsheet opens the file (CSV injection); they are prefixed with an apostrophe."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence

from .data import TEXT_OF, Column, Document, Kind, Table, kind_of, summary_text

BOM = "\ufeff"
CHUNK = 64 * 1024  # characters buffered before a chunk is yielded
_FORMULA_CHARS = frozenset("=+-@\t\r")
_FORMULA_START = tuple(_FORMULA_CHARS)


def neutralised(text: str) -> str:
    """Text a spreadsheet shows as typed, never evaluates."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _text(value: object) -> str:
    return "" if value is None else neutralised(str(value))


def document_csv(document: Document) -> Iterator[bytes]:
    """The whole document, UTF-8 with BOM, in chunks: title, key figures, then each table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([_text(document.title)])
    for label, value in document.summary:
        text = summary_text(value)
        writer.writerow([_text(label), _text(text) if kind_of(value) == Kind.TEXT else text])
    for table in document.tables:
        writer.writerow([])
        writer.writerow([_text(table.title)])
        yield from _table_rows(table, buffer, writer)
    yield buffer.getvalue().encode("utf-8")


def table_csv(table: Table) -> Iterator[bytes]:
    """One table alone (the registrant list): its header, then its rows."""
    buffer = io.StringIO()
    buffer.write(BOM)
    yield from _table_rows(table, buffer, csv.writer(buffer, lineterminator="\r\n"))
    yield buffer.getvalue().encode("utf-8")


def _table_rows(table: Table, buffer: io.StringIO, writer) -> Iterator[bytes]:
    """Write the header and rows; yield a chunk whenever the buffer is full, leaving the rest
    in the buffer for the caller."""
    writer.writerow([_text(c.label) for c in table.columns])
    cells = _row_cells(table.columns)
    for row in table.rows:
        writer.writerow(cells(row))
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()


def _row_cells(columns: list[Column]) -> Callable[[Sequence], list]:
    """A row as cells for csv.writer. Whole numbers and None go through as they are (the csv
    module writes them); only text is checked for formulas and only times and shares are
    formatted: this runs 100,000 times, so it does no more than it must."""
    texts = [i for i, c in enumerate(columns) if c.kind == Kind.TEXT]
    formatted = [(i, TEXT_OF[c.kind]) for i, c in enumerate(columns)
                 if c.kind not in (Kind.TEXT, Kind.INT)]

    def cells(row: Sequence) -> list:
        out = list(row)
        for i in texts:
            value = out[i]
            if value:
                if value.__class__ is not str:
                    value = out[i] = str(value)
                if value[0] in _FORMULA_CHARS:
                    out[i] = "'" + value
        for i, write in formatted:
            out[i] = write(out[i])
        return out

    return cells
