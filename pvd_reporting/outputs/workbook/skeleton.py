"""Territory workbooks filled into a skeleton written once: `template --region`, carry-forward,
mail attachments and the benchmark's generator.

Every workbook of a run shares its sheets, drop-downs, live checks and `Contrôles` formulas; only
the values typed in it differ. The skeleton is the workbook the writer makes for the content
without its values (same period, same prepared rows, same everything else); each workbook is
that skeleton with its values' cells put into the sheet parts, as the writer would have written
them (same style, text as an inline string, dates and numbers as xlsxwriter encodes them). The
mechanism never reads a formula: whatever the live checks say, they come from the writer.

Content a skeleton cannot hold goes through the writer whole: flagged cells (comments), an
added sheet or column (`anomalies`), rows beyond the prepared ones, a value whose style the
skeleton does not have.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
import struct
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from xlsxwriter.utility import _datetime_to_excel_datetime

from pvd_reporting.atomic import atomic_write
from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.schema import DIGEST_PROPERTY, FIRST_DATA_ROW, Schema, TableSheet
from pvd_reporting.outputs.summary.xmlrows import _text as inline_text
from pvd_reporting.outputs.workbook.formats import group_of
from pvd_reporting.outputs.workbook.writer import Content, check_output, render, stamp_of

# Skeletons kept per process: one per (configuration, period) in practice.
_KEEP = 8
_SKELETONS: OrderedDict[tuple[int, str], Skeleton] = OrderedDict()
# Longer texts are left to xlsxwriter, which truncates them to Excel's limit its own way.
_LONG_TEXT = 16_000
_ROW = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>(.*?)</row>)', re.S)
_CELL = re.compile(r'<c r="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)
_DIMENSION = re.compile(r'<dimension ref="([^"]*)"/>')
_A1 = re.compile(r"([A-Z]+)(\d+)")
_CUSTOM_PART = "docProps/custom.xml"
_STAMP = re.compile(rb'(name="' + DIGEST_PROPERTY.encode() + rb'"><vt:lpwstr>)[^<]*(</vt:lpwstr>)')


@dataclass
class Part:
    """A part of the skeleton's zip: its name and time stamp, its XML, and that XML already
    compressed (the parts no value goes into are copied as they are)."""

    name: str
    date_time: tuple[int, int, int, int, int, int]
    data: bytes
    crc: int
    deflated: bytes


@dataclass
class Skeleton:
    """A finished workbook's parts, in order, and where each sheet's cells go."""

    parts: list[Part]
    sheet_parts: dict[str, str]  # sheet key (the form's or a table's) -> part name
    styles: dict[tuple[str, bool], int]  # (number group, locked) -> xf index
    schema: Schema  # kept alive, so that its id in the key is never another's
    form_columns: tuple[tuple[str, str], ...] = ()
    table_columns: dict[str, tuple[tuple[int, str, str, str], ...]] = dataclasses.field(default_factory=dict)


def workbook_bytes(schema: Schema, content: Content) -> bytes:
    """The workbook of `content`, from its skeleton when it can hold it, else from the writer."""
    filled = fill(schema, content)
    if filled is not None:
        return filled
    buffer = io.BytesIO()
    render(buffer, schema, content)
    return buffer.getvalue()


def write_fast(path: Path, schema: Schema, content: Content, *, force: bool = False) -> Path:
    """`write_workbook`, through the skeleton: same checks, same atomic move into place."""
    path = Path(path)
    check_output(path, force)
    data = workbook_bytes(schema, content)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return path


def fill(schema: Schema, content: Content) -> bytes | None:
    """The workbook of `content` from its skeleton, or None when the skeleton cannot hold it."""
    bare = _bare(schema, content)
    if bare is None:
        return None
    skeleton = _skeleton(schema, bare)
    cells = _cells(schema, content, skeleton)
    if cells is None:
        return None
    stamp = stamp_of(schema, content)
    parts = []
    for part in skeleton.parts:
        patch = cells.get(part.name)
        data = None
        if patch:
            data = _patch(part.data.decode("utf-8"), patch).encode("utf-8")
        elif stamp is not None and part.name == _CUSTOM_PART:
            # The skeleton's digest is its bare content's: this workbook's data replaces it.
            data = _STAMP.sub(lambda m: m[1] + stamp.encode() + m[2], part.data, count=1)
        if data is not None:
            part = Part(part.name, part.date_time, data, zlib.crc32(data), _deflate(data))
        parts.append(part)
    return _zip(parts)


def _deflate(data: bytes) -> bytes:
    # Raw deflate, as a zip member holds it (zipfile's default level).
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _zip(parts: list[Part]) -> bytes:
    """The zip of these parts, deflated (what zipfile writes, without compressing again the
    parts copied from the skeleton)."""
    out = bytearray()
    directory = bytearray()
    for part in parts:
        name = part.name.encode("ascii")
        year, month, day, hour, minute, second = part.date_time
        dos_time = (hour << 11) | (minute << 5) | (second // 2)
        dos_date = ((year - 1980) << 9) | (month << 5) | day
        common = struct.pack("<HHHHHIIIH", 20, 0, zipfile.ZIP_DEFLATED, dos_time, dos_date, part.crc,
                             len(part.deflated), len(part.data), len(name))
        offset = len(out)
        out += b"PK\x03\x04" + common + struct.pack("<H", 0) + name + part.deflated
        directory += (b"PK\x01\x02" + struct.pack("<H", 20) + common
                      + struct.pack("<HHHHII", 0, 0, 0, 0, 0, offset) + name)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), len(out), 0)
    return bytes(out + directory + end)


def _bare(schema: Schema, content: Content) -> Content | None:
    """The content without its values, or None when its shape is beyond a skeleton."""
    if content.marks or content.anomalies is not None:
        return None
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in schema.tables:
        rows = content.tables.get(table.key, [])
        if table.fixed_rows:
            fixed = [{"code": code, "label": label} for code, label in table.fixed_rows]
            if len(rows) != len(fixed) or any(
                    row.get("code") != f["code"] or row.get("label") != f["label"] for row, f in zip(rows, fixed, strict=True)):
                return None
            tables[table.key] = fixed
        elif len(rows) > table.blank_rows:
            return None
    # Every other field of the content (period, and whatever shapes the workbook) is kept.
    return dataclasses.replace(content, form={}, tables=tables, marks={}, anomalies=None)


def _skeleton(schema: Schema, bare: Content) -> Skeleton:
    key = (id(schema), repr(bare))
    found = _SKELETONS.get(key)
    if found is not None and found.schema is schema:
        _SKELETONS.move_to_end(key)
        return found
    buffer = io.BytesIO()
    formats = render(buffer, schema, bare)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src:
        parts = [Part(info.filename, info.date_time, data, zlib.crc32(data), _deflate(data))
                 for info in src.infolist() for data in (src.read(info),)]
    # xlsxwriter numbers the sheet parts in the order the sheets were added.
    names = _sheet_names(parts)
    keys = {schema.form.name: schema.form.key, **{t.name: t.key for t in schema.tables}}
    sheet_parts = {keys[name]: f"xl/worksheets/sheet{i}.xml" for i, name in enumerate(names, start=1) if name in keys}
    styles = {(group, locked): xf for (group, locked, mark, bold), fmt in formats.cache.items()
              if mark is None and not bold and (xf := _xf_index(fmt)) is not None}
    skeleton = Skeleton(parts, sheet_parts, styles, schema, _form_columns(schema),
                        {t.key: _table_columns(t) for t in schema.tables})
    _SKELETONS[key] = skeleton
    while len(_SKELETONS) > _KEEP:
        _SKELETONS.popitem(last=False)
    return skeleton


def _xf_index(fmt: Any) -> int | None:
    """The style index the finished file gives this format: its own, or that of the identical
    format xlsxwriter used in its place; None when no cell used it."""
    if fmt.xf_index is not None:
        return int(fmt.xf_index)
    found = fmt.xf_format_indices.get(fmt._get_format_key())
    return None if found is None else int(found)


def _sheet_names(parts: list[Part]) -> list[str]:
    book = next(part.data for part in parts if part.name == "xl/workbook.xml").decode("utf-8")
    return [_unescape(name) for name in re.findall(r'<sheet name="([^"]*)"', book)]


def _unescape(text: str) -> str:
    return text.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# part name -> {1-based row: {0-based column: cell XML}}
Cells = dict[str, dict[int, dict[int, str]]]


def _cells(schema: Schema, content: Content, skeleton: Skeleton) -> Cells | None:
    """Each value's cell XML, by sheet part and row, or None when one cannot be encoded here."""
    yes_no = schema.lists.get("oui_non", REQUIRED_VALUES["oui_non"])
    out: Cells = {}
    form_cells: dict[int, dict[int, str]] = {}
    for r, (key, group) in enumerate(skeleton.form_columns):
        value = content.form.get(key)
        if value is None or value == "":
            continue
        xml = _cell(f"B{r + 1}", value, group, yes_no, skeleton.styles)
        if xml is None:
            return None
        form_cells[r + 1] = {1: xml}
    if form_cells:
        out[skeleton.sheet_parts[schema.form.key]] = form_cells
    for table in schema.tables:
        rows = content.tables.get(table.key, [])
        if not rows:
            continue
        columns = skeleton.table_columns[table.key]
        table_cells: dict[int, dict[int, str]] = {}
        for n, values in enumerate(rows, start=FIRST_DATA_ROW + 1):
            row: dict[int, str] = {}
            for c, key, letter, group in columns:
                value = values.get(key)
                if value is None or value == "":
                    continue
                xml = _cell(f"{letter}{n}", value, group, yes_no, skeleton.styles)
                if xml is None:
                    return None
                row[c] = xml
            if row:
                table_cells[n] = row
        if table_cells:
            out[skeleton.sheet_parts[table.key]] = table_cells
    return out


def _form_columns(schema: Schema) -> tuple[tuple[str, str], ...]:
    """(key, number group) of each form field, in its row order."""
    return tuple((f.key, group_of(f.kind)) for f in schema.form.fields)


def _table_columns(table: TableSheet) -> tuple[tuple[int, str, str, str], ...]:
    """(0-based column, key, letter, number group) of the columns values are written in: the
    fixed ones (a jalon's code and label) are the skeleton's already."""
    fixed = {"code", "label"} if table.fixed_rows else set()
    return tuple((c, f.key, col_letter(c), group_of(f.kind)) for c, f in enumerate(table.columns)
                 if f.key not in fixed)


def _cell(ref: str, value: Any, group: str, yes_no: list[str] | tuple[str, ...],
          styles: dict[tuple[str, bool], int], locked: bool = False) -> str | None:
    """The cell as the writer writes it (`_Writer.cell`), or None when it would differ."""
    if isinstance(value, bool):
        value = yes_no[0] if value else yes_no[1]
    if isinstance(value, (date, datetime)):
        xf = styles.get(("date", locked))
        if xf is None or value.year < 1900 or getattr(value, "tzinfo", None) is not None:
            return None
        # xlsxwriter's own conversion, with the workbook's defaults (1900 epoch, no time zone).
        serial = _datetime_to_excel_datetime(value, False, False)
        return f'<c r="{ref}" s="{xf}"><v>{serial:.16G}</v></c>'
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        xf = styles.get(("general" if group in ("text", "date") else group, locked))
        return None if xf is None else f'<c r="{ref}" s="{xf}"><v>{value:.16G}</v></c>'
    text = str(value)
    xf = styles.get((group, locked))
    if xf is None or len(text) > _LONG_TEXT:
        return None
    return f'<c r="{ref}" s="{xf}" t="inlineStr">{inline_text(text)}</c>'


def _patch(xml: str, rows: dict[int, dict[int, str]]) -> str:
    """The sheet part with these cells put into their rows (added where missing), in order."""
    head, sep, rest = xml.partition("<sheetData")
    open_tag, _, rest = rest.partition(">")
    if open_tag.endswith("/"):
        body, tail = "", rest
        open_tag = open_tag[:-1]
    else:
        body, _, tail = rest.partition("</sheetData>")
    existing: dict[int, tuple[str, dict[int, str]]] = {}
    for match in _ROW.finditer(body):
        start = match.group(0)
        row_open = start[: start.index(">") + 1]
        if row_open.endswith("/>"):
            row_open = row_open[:-2] + ">"
        cells = {_column(m.group(1)): m.group(0) for m in _CELL.finditer(match.group(2) or "")}
        existing[int(match.group(1))] = (row_open, cells)
    for n, added in rows.items():
        row_open, cells = existing.get(n, (f'<row r="{n}">', {}))
        existing[n] = (row_open, {**cells, **added})
    parts = []
    last_row, last_col = 1, 0
    for n in sorted(existing):
        row_open, cells = existing[n]
        parts.append(row_open + "".join(cells[c] for c in sorted(cells)) + "</row>")
        if cells:
            last_row, last_col = max(last_row, n), max(last_col, max(cells))
    head = _dimension(head, last_row, last_col)
    return f"{head}<sheetData{open_tag}>{''.join(parts)}</sheetData>{tail}"


def _dimension(head: str, last_row: int, last_col: int) -> str:
    """Widen the sheet's dimension to hold its new last row and column."""
    found = _DIMENSION.search(head)
    if found is None:
        return head
    ref = found.group(1)
    end = ref.split(":")[-1]
    m = _A1.fullmatch(end)
    if m:
        last_row, last_col = max(last_row, int(m.group(2))), max(last_col, _column(m.group(1)))
    start = ref.split(":")[0]
    return head[: found.start()] + f'<dimension ref="{start}:{col_letter(last_col)}{last_row}"/>' + head[found.end():]


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1
