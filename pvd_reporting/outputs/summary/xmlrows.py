"""Bulk data rows for the summary workbook, serialised straight to sheet XML.

xlsxwriter builds the workbook's structure (styles, tables, filters, frozen panes, conditional
formats, charts) and each table's header row; the data rows, some 100,000 at national scale
(docs/vitesse.md), are then streamed into the sheet parts of the finished file. xlsxwriter's per-cell path
was most of `consolidate`'s time; writing the same cells here is several times faster and keeps
memory flat, since rows are encoded in chunks straight into the zip.

Cells follow xlsxwriter's own encoding: text as inline strings (never a formula, whatever its
first character), control characters as `_xHHHH_`, dates as serial numbers with a date style.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from pvd_reporting.format.matching import col_letter

_EXCEL_EPOCH = date(1899, 12, 30).toordinal()
_MAX_TEXT = 32_767  # Excel's limit for one cell
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_CHUNK = 2_000  # rows encoded before each write to the zip


def _control(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith("_x"):
        return "_x005F" + text  # a literal `_x0041_` must not be read back as an escape
    return f"_x{ord(text):04X}_"


@lru_cache(maxsize=65_536)
def _text(value: str) -> str:
    # Cached: ids, names, file paths and list values repeat on thousands of rows.
    if len(value) > _MAX_TEXT:
        value = value[:_MAX_TEXT]
    value = value.translate(_ESCAPES)
    if _CONTROL.search(value):
        value = _CONTROL.sub(_control, value)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<is><t xml:space="preserve">{value}</t></is>'
    return f"<is><t>{value}</t></is>"


@dataclass(frozen=True)
class Styles:
    """xf indexes of the finished workbook (known once xlsxwriter has closed it)."""

    text: int
    number: int  # a number that lands in a text column


def _style(xf: int) -> str:
    return f' s="{xf}"' if xf else ""


def encode_rows(rows: Iterable[Sequence[Any]], column_xf: Sequence[int], styles: Styles, first_row: int) -> Iterable[str]:
    """`<row>` elements, `first_row` being the 1-based row number of the first one."""
    letters = [col_letter(j) for j in range(len(column_xf))]
    col_style = [_style(xf) for xf in column_xf]
    text_style = _style(styles.text)
    number_style = _style(styles.number)
    text_columns = [xf == styles.text for xf in column_xf]
    spans = f"1:{len(column_xf)}"
    chunk: list[str] = []
    for n, row in enumerate(rows, start=first_row):
        cells = []
        for j, value in enumerate(row):
            if value is None or value == "":
                continue
            ref = f"{letters[j]}{n}"
            if isinstance(value, str):
                cells.append(f'<c r="{ref}"{text_style} t="inlineStr">{_text(value)}</c>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}"{text_style} t="inlineStr"><is><t>{"Oui" if value else "Non"}</t></is></c>')
            elif isinstance(value, (int, float)):
                if isinstance(value, float) and not math.isfinite(value):
                    cells.append(f'<c r="{ref}"{text_style} t="inlineStr">{_text(str(value))}</c>')
                    continue
                style = number_style if text_columns[j] else col_style[j]
                cells.append(f'<c r="{ref}"{style}><v>{value!r}</v></c>')
            elif isinstance(value, datetime):
                serial = value.toordinal() - _EXCEL_EPOCH + (
                    value.hour * 3600 + value.minute * 60 + value.second) / 86_400
                cells.append(f'<c r="{ref}"{col_style[j]}><v>{serial!r}</v></c>')
            elif isinstance(value, date):
                cells.append(f'<c r="{ref}"{col_style[j]}><v>{value.toordinal() - _EXCEL_EPOCH}</v></c>')
            else:
                cells.append(f'<c r="{ref}"{text_style} t="inlineStr">{_text(str(value))}</c>')
        chunk.append(f'<row r="{n}" spans="{spans}">{"".join(cells)}</row>')
        if len(chunk) >= _CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


class Rows(Protocol):
    """Rows counted before they are written: a list, or rows made as they are written."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Sequence[Any]]: ...


@dataclass
class PendingRows:
    """Data rows waiting to be streamed into one sheet: its index among the workbook's sheets
    and the index of its Excel table (both 1-based, as xlsxwriter numbers the parts), and each
    column's xf index. The table was declared over the header and one row; its range is
    widened here (xlsxwriter's own check of a large range costs seconds and much memory)."""

    sheet_index: int
    table_index: int
    rows: Rows
    column_xf: list[int]

    @property
    def last_row(self) -> int:
        return max(len(self.rows), 1) + 1


_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_TABLE_REF = re.compile(rb'ref="A1:([A-Z]+)2"')


def _widen_table(xml: bytes, last_row: int) -> bytes:
    end = str(last_row).encode()
    return _TABLE_REF.sub(lambda m: b'ref="A1:' + m.group(1) + end + b'"', xml)


# Deflate's fastest level: at national scale the summary's sheets hold some 70 MB of XML, which
# level 6 compressed in 0.6 s and level 1 in 0.2 s, for a file a quarter larger.
_LEVEL = 1


def inject_rows(path: Path, pending: list[PendingRows], styles: Styles) -> None:
    """Rewrite the xlsx at `path` with each pending sheet's rows appended after its header row."""
    by_part = {f"xl/worksheets/sheet{p.sheet_index}.xml": p for p in pending}
    tables = {f"xl/tables/table{p.table_index}.xml": p for p in pending}
    tmp = path.with_name(path.name + ".rows")
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                job = by_part.get(info.filename)
                if job is None:
                    table = tables.get(info.filename)
                    if table is not None:
                        data = _widen_table(data, table.last_row)
                    dst.writestr(info, data, compresslevel=_LEVEL)
                    continue
                head, sep, tail = data.partition(b"</sheetData>")
                if not sep:
                    raise ValueError(f"{info.filename}: no sheetData")
                last_row = len(job.rows) + 1
                ref = f"A1:{col_letter(len(job.column_xf) - 1)}{last_row}".encode()
                head = _DIMENSION.sub(b'<dimension ref="' + ref + b'"/>', head, count=1)
                out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                out.compress_type = zipfile.ZIP_DEFLATED
                # An entry opened for writing takes its level from its ZipInfo alone (public as
                # `compress_level` only from Python 3.13).
                out._compresslevel = _LEVEL  # type: ignore[attr-defined]
                with dst.open(out, "w") as handle:
                    handle.write(head)
                    for piece in encode_rows(job.rows, job.column_xf, styles, first_row=2):
                        handle.write(piece.encode("utf-8"))
                    handle.write(sep + tail)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
