"""What reading each sheet would cost, measured on the zip before the spreadsheet library sees it
(docs/securite.md).

A 50 KB workbook can hold one 32,000-character shared string referenced by 20,000 cells (640 MB
of text once read), two cells at A1 and XFD9000 (a grid of 147 million cells: the library aborts
the process), or a million rows. The sheet XML is streamed in chunks and counted — rows and
cells that hold a value, as the library will lay them out, and the text they will hold — so
every file is read within the limits below, in bounded time and memory, or refused first. A
sheet whose every cell, filled or not, sits plainly in a small grid is proved within them at a
glance, its text bounded from above; any other is counted exactly. The container's parts are read
by containers.py; what is refused, and why, is said by refusals.py.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from xml.etree import ElementTree

from pvd_reporting.format.matching import col_index, norm
from pvd_reporting.read import containers
from pvd_reporting.read.containers import Damaged, TooComplex

# A sheet is not read beyond this many rows (its last filled row, as the library counts it).
MAX_ROWS = 10_000
# Cells of a sheet's grid, from its first filled cell to its last (the library allocates the
# whole rectangle): 10,000 rows of 100 columns.
MAX_SHEET_CELLS = 1_000_000
# Text the read sheets would hold (shared strings counted at each cell that shows them): held
# twice (library and Python) and searched, it keeps a file within 400 MB.
MAX_TEXT_BYTES = 50 * 1024 * 1024
# A sheet's XML once decompressed (.ods: all sheets together): 10,000 rows of 40 styled columns
# take some 16 MB; beyond this, parsing alone would take seconds even with no value in a cell.
MAX_SHEET_XML_BYTES = 64 * 1024 * 1024

_P = containers.PREFIX  # any namespace prefix (x:row)
_ROW = re.compile(rb"<" + _P + rb"row\b([^>]*?)(?:/>|(?<!/)>(.*?)</" + _P + rb"row>)", re.S)
_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*?)(?:/>|(?<!/)>(.*?)</" + _P + rb"c>)", re.S)
# References wider than Excel's own (XFD1048576): the library would place a cell at ZZZZ1 or
# row 4294967295, so they are measured, not skipped.
_R_ROW = re.compile(rb'\br="(\d{1,12})"')
_R_CELL = re.compile(rb'\br="([A-Za-z]{1,8})(\d{1,12})"')
_VALUE = re.compile(rb"<" + _P + rb"v>([^<]+)<")
_INLINE = re.compile(rb"<" + _P + rb"is>")
_SHARED = re.compile(rb'\bt="s"')

_ODS_TABLE_SPLIT = re.compile(rb'<table:table\s[^>]*?table:name="([^"]*)"[^>]*>')
_ODS_ROW_SPLIT = re.compile(rb"<table:table-row(?=[\s>/])")
_ODS_ROW_END = re.compile(rb"</table:table-row>")
_ODS_CELL = re.compile(
    rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|(?<!/)>(.*?)</table:(?:covered-)?table-cell>)", re.S)
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d{1,9})"')
_ODS_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d{1,9})"')
_ODS_VALUED = re.compile(rb"office:value-type=")
_ODS_STRING = re.compile(rb'office:value-type="string"')


@dataclass
class SheetCost:
    """What loading one sheet would cost: its filled rectangle (0-based, as the library gives
    `start`/`end`), the text its cells hold, and whether the count stopped at a limit."""

    title: str
    first_row: int | None = None
    last_row: int = -1
    first_col: int | None = None
    last_col: int = -1
    text_bytes: int = 0
    declared_cells: int = 0
    xml_bytes: int = 0  # the sheet's XML once decompressed
    over: bool = False  # counting stopped: the sheet is beyond a limit
    # A date cell whose serial number no calendar holds: (cell, value as written). The library
    # does not return it, it aborts (a panic in its date conversion): the sheet is not loaded.
    bad_date: tuple[str, str] | None = None
    # Rows alone stop the count where the library reads a sheet only when asked (.xlsx: such a
    # sheet is never loaded); where it reads every sheet on opening (.ods), only the grid does.
    stop_at_rows: bool = True
    # Proved within the row and grid limits at a glance (every cell, filled or not, plainly
    # placed in a small grid): the rectangle is not counted, and text_bytes is an upper bound.
    bounded: bool = False

    @property
    def height(self) -> int:
        """Rows up to the last filled one (what the reader compares with MAX_ROWS)."""
        return self.last_row + 1

    @property
    def cells(self) -> int:
        if self.first_row is None or self.first_col is None:
            return 0
        return (self.last_row - self.first_row + 1) * (self.last_col - self.first_col + 1)

    def add(self, row: int, col: int, rows: int = 1, cols: int = 1, text: int = 0) -> None:
        self.first_row = row if self.first_row is None else min(self.first_row, row)
        self.first_col = col if self.first_col is None else min(self.first_col, col)
        self.last_row = max(self.last_row, row + rows - 1)
        self.last_col = max(self.last_col, col + cols - 1)
        self.text_bytes += text * rows * cols
        if self.cells > MAX_SHEET_CELLS or (self.stop_at_rows and self.height > MAX_ROWS):
            self.over = True

    @property
    def too_many_rows(self) -> bool:
        return self.height > MAX_ROWS

    @property
    def too_many_cells(self) -> bool:
        # A declared dimension larger than the grid is refused too: some versions of the library
        # reserve it before reading a cell. Rows alone are judged on filled cells (Excel declares
        # rows a user only formatted).
        return (self.cells > MAX_SHEET_CELLS or self.declared_cells > MAX_SHEET_CELLS
                or self.xml_bytes > MAX_SHEET_XML_BYTES)


@dataclass
class WorkbookCost:
    """Every sheet's cost, by title; `eager` when the library loads every sheet on opening (.ods)."""

    sheets: dict[str, SheetCost] = field(default_factory=dict)
    eager: bool = False
    # Zip member -> its XML, for the sheets small enough to be read whole: the reader's other
    # scans of the same file (formula errors, DDE) use them instead of inflating them again.
    xml: dict[str, bytes] = field(default_factory=dict)


def measure_opened(zf: zipfile.ZipFile | None, data: bytes, unread: Collection[str] = ()) -> WorkbookCost | None:
    """`measure` of a zip, `measure_xls` of an OLE2 .xls, None for anything else (raises
    TooComplex or Damaged)."""
    if zf is not None:
        return measure(zf, unread)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return measure_xls(data)
    return None


def measure(zf: zipfile.ZipFile, unread: Collection[str] = ()) -> WorkbookCost | None:
    """The cost of each sheet of an .xlsx/.xlsm or .ods, or None for another kind of zip.
    Raises TooComplex when a part is beyond any reading, Damaged for an .xlsb (never read).

    `unread`: normalised titles of sheets the reader never loads (.xlsx: not measured)."""
    names = set(zf.namelist())
    if "xl/workbook.xml" in names:
        return _xlsx(zf, names, unread)
    if "content.xml" in names:
        return _ods(zf)
    if "xl/workbook.bin" in names:
        # Binary records that cannot be measured beforehand: not read at all.
        raise Damaged("classeur binaire Excel (.xlsb), un format que pvd-report ne lit pas : "
                      "enregistrez-le au format .xlsx")
    return None


def mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}"


# --- .xlsx ------------------------------------------------------------------------------------


def _xlsx(zf: zipfile.ZipFile, names: set[str], unread: Collection[str]) -> WorkbookCost:
    try:
        parts = containers.xlsx_parts(zf, names)
    except ElementTree.ParseError:
        raise TooComplex("la liste des onglets du classeur est illisible") from None
    longest = containers.longest_shared(zf, names)
    lengths: list[array[int]] = []

    def shared() -> array[int]:
        # Counted one by one only when a sheet needs them, or first when they could be too many.
        if not lengths:
            lengths.append(containers.shared_lengths(zf, names))
        return lengths[0]

    if longest is None:
        shared()
    styles = containers.styles_part(zf, names)
    cost = WorkbookCost()
    read = {title: member for title, member in parts.items() if norm(title) not in unread}
    for title, member in read.items():
        sheet = cost.sheets[title] = _xlsx_sheet(zf, member, title, shared, cost.xml, longest)
        if not sheet.over:
            sheet.bad_date = containers.bad_date(zf, member, cost.xml, styles)
    if sum(s.text_bytes for s in cost.sheets.values()) > MAX_TEXT_BYTES:
        # A bound beyond the budget proves nothing: those sheets are counted exactly.
        for title, sheet in cost.sheets.items():
            if sheet.bounded:
                exact = cost.sheets[title] = _xlsx_sheet(zf, read[title], title, shared, cost.xml)
                exact.bad_date = sheet.bad_date
    return cost


# a value that is not empty or an inline string (the library leaves the other cells out).
_FILLED = rb'<c r="([A-Za-z]{1,8})(\d{1,12})"[^>]*(?<!/)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<(?:v>[^<]|is>)'
_FILLED_COLUMN = re.compile(_FILLED.replace(rb"(\d{1,12})", rb"\d{1,12}"))
_FILLED_ROW = re.compile(_FILLED.replace(rb"([A-Za-z]{1,8})", rb"[A-Za-z]{1,8}"))
_ROW_NUMBER = re.compile(rb'<row r="(\d{1,12})"')
_CELL_TAG = re.compile(rb"<c[\s>/]")
_SHARED_VALUE = re.compile(rb' t="s"[^>]*>\s*<v>(\d{1,12})<')
_INLINE_TEXT = re.compile(rb"<is><t[^>]*>([^<]*)</t></is>")
_STR_VALUE = re.compile(rb't="str"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>([^<]*)</v>')


def _xlsx_piece(sheet: SheetCost, piece: bytes, shared: array[int]) -> bool:
    """Counts the filled cells of whole rows at C speed, when every cell is written the usual way
    (`<c r="B7" …>`, as Excel, LibreOffice and openpyxl write them); False when the piece must be
    counted cell by cell. A template's sheet costs a fraction of a millisecond, 10,000 rows of
    100 columns a second."""
    if b":c " in piece or b":row" in piece:
        return False  # prefixed tags (x:c)
    if piece.count(b'<c r="') != len(_CELL_TAG.findall(piece)):
        return False  # a cell placed by its order, or its reference not first
    # Distinct values only, gathered at C speed: a few thousand, whatever the number of cells.
    rows = set(_FILLED_ROW.findall(piece))
    if rows:
        cols = [col_index(c.decode()) for c in set(_FILLED_COLUMN.findall(piece))]
        numbers = [int(r) for r in rows]
        sheet.add(min(numbers) - 1, min(cols))
        sheet.add(max(numbers) - 1, max(cols))
    uses = Counter(_SHARED_VALUE.findall(piece))
    sheet.text_bytes += sum(shared[int(i)] * n for i, n in uses.items() if int(i) < len(shared))
    if b"<is>" in piece:
        sheet.text_bytes += len(piece) if b"<is><r" in piece else sum(map(len, _INLINE_TEXT.findall(piece)))
    if b't="str"' in piece:
        sheet.text_bytes += sum(map(len, _STR_VALUE.findall(piece)))
    return True


# Any cell not plainly placed in A1:ZZ999 (999 rows of 702 columns: within MAX_ROWS and
# MAX_SHEET_CELLS), and any prefixed cell or row (x:c): then the sheet is counted exactly.
_BEYOND_SMALL_GRID = re.compile(rb'<c(?=[\s>/])(?! r="[A-Z]{1,2}[1-9]\d{0,2}")')
_PREFIXED = re.compile(rb":(?:c|row)[\s>/]")


def _bounded(sheet: SheetCost, piece: bytes, longest: int) -> bool:
    """Whether a whole sheet is within every limit at a glance: each of its cells, filled or not,
    placed in a small grid, and its text bounded by its shared-string cells at the longest
    shared string, plus its own XML for inline text and formula results."""
    if _PREFIXED.search(piece) or _BEYOND_SMALL_GRID.search(piece):
        return False
    sheet.text_bytes = piece.count(b't="s"') * longest + 2 * len(piece)
    sheet.bounded = True
    return True


def _xlsx_sheet(zf: zipfile.ZipFile, member: str, title: str, shared: Callable[[], array[int]],
                xml: dict[str, bytes], longest: int | None = None) -> SheetCost:
    size = zf.getinfo(member).file_size
    sheet = SheetCost(title, xml_bytes=size)
    if sheet.too_many_cells:
        sheet.over = True
        return sheet
    row = -1
    first = True
    pieces = containers.sheet_pieces(zf, member, xml)
    for piece in pieces:
        if first:
            first = False
            sheet.declared_cells = containers.declared_cells(piece)
            if sheet.too_many_cells:
                sheet.over = True
                return sheet
            if longest is not None and isinstance(pieces, list) and _bounded(sheet, piece, longest):
                return sheet
        if _xlsx_piece(sheet, piece, shared()):
            if not isinstance(pieces, list):  # a later piece may place its rows by order
                last = [int(r) for r in _ROW_NUMBER.findall(piece)]
                row = max(last) - 1 if last else row
        else:
            for m in _ROW.finditer(piece):
                r = _R_ROW.search(m[1])
                row = int(r[1]) - 1 if r else row + 1
                if m[2]:
                    _xlsx_cells(sheet, row, m[2], shared())
                    if sheet.over:
                        break
        if sheet.over or sheet.too_many_rows or sheet.too_many_cells or sheet.text_bytes > MAX_TEXT_BYTES:
            sheet.over = sheet.over or sheet.too_many_rows or sheet.too_many_cells
            return sheet
    return sheet


def _xlsx_cells(sheet: SheetCost, row: int, content: bytes, shared: array[int]) -> None:
    col = -1
    for attrs, inner in _CELL.findall(content):
        ref = _R_CELL.search(attrs)
        col = col_index(ref[1].decode().upper()) if ref else col + 1
        if not inner:
            continue  # no value: the library leaves the cell out
        if _SHARED.search(attrs):
            value = _VALUE.search(inner)
            if value is None:
                continue
            try:
                text = shared[int(value[1])]
            except (ValueError, IndexError):
                text = 0
        elif _INLINE.search(inner):
            text = len(inner)
        else:
            value = _VALUE.search(inner)
            if value is None:
                continue
            text = len(value[1])
        sheet.add(row, col, text=text)


# --- .ods ---------------------------------------------------------------------------------------


def _ods(zf: zipfile.ZipFile) -> WorkbookCost:
    cost = WorkbookCost(eager=True)
    size = zf.getinfo("content.xml").file_size
    if size > MAX_SHEET_XML_BYTES:
        raise TooComplex(f"ses onglets occupent plus de {mb(MAX_SHEET_XML_BYTES)} Mo une fois décompressés")
    sheet: SheetCost | None = None
    row = 0
    for piece in containers.chunks(zf, "content.xml", _ODS_ROW_END):
        # [before the first table, name, what follows, name, what follows…]
        parts = _ODS_TABLE_SPLIT.split(piece)
        for i, segment in enumerate(parts):
            if i % 2 == 1:  # a new table's name
                title = segment.decode("utf-8", "replace")
                sheet = cost.sheets.setdefault(title, SheetCost(title, stop_at_rows=False))
                row = 0
                continue
            for text in _ODS_ROW_SPLIT.split(segment)[1:]:
                head = text[:text.find(b">") + 1]
                repeated = _ODS_ROWS_REPEATED.search(head)
                rows = int(repeated[1]) if repeated else 1
                if sheet is not None and not head.endswith(b"/>"):
                    _ods_row(sheet, row, rows, text)
                    if sheet.over or sheet.text_bytes > MAX_TEXT_BYTES:
                        return cost
                row += rows
    return cost


def _ods_row(sheet: SheetCost, row: int, rows: int, text: bytes) -> None:
    """One row (repeated `rows` times): counted with a few searches at C speed, cell by cell only
    when its cells are repeated or merged."""
    if b"columns-repeated" in text or b"covered-table-cell" in text:
        _ods_cells(sheet, row, rows, text)
        return
    first = text.find(b"office:value-type=")
    if first < 0:
        return
    last = text.rfind(b"office:value-type=")
    sheet.add(row, text.count(b"<table:table-cell", 0, first) - 1, rows)
    sheet.add(row, text.count(b"<table:table-cell", 0, last) - 1, rows)
    if b'office:value-type="string"' in text:
        sheet.text_bytes += len(text) * rows  # the row's XML bounds its text


def _ods_cells(sheet: SheetCost, row: int, rows: int, content: bytes) -> None:
    col = 0
    for attrs, inner in _ODS_CELL.findall(content):
        repeated = _ODS_COLUMNS_REPEATED.search(attrs)
        cols = int(repeated[1]) if repeated else 1
        if _ODS_VALUED.search(attrs):
            # A number or a date is held as a number; only text costs its length.
            sheet.add(row, col, rows, cols, text=len(inner) if _ODS_STRING.search(attrs) else 0)
            if sheet.over:
                return
        col += cols


# --- .xls (BIFF8 in an OLE2 container) ---------------------------------------------------------

_BOF, _EOF, _BOUNDSHEET, _SST, _CONTINUE, _LABELSST, _DIMENSIONS, _STRING = (
    0x0809, 0x000A, 0x0085, 0x00FC, 0x003C, 0x00FD, 0x0200, 0x0207)
_MULRK, _MULBLANK, _BLANK = 0x00BD, 0x00BE, 0x0201
# Records whose first four bytes are the row and the column of a cell with a value.
_CELLS = frozenset({0x0203, 0x027E, 0x0204, 0x0205, 0x0006, 0x00D6})


def measure_xls(data: bytes) -> WorkbookCost | None:
    """The cost of each sheet of an .xls (the library reads them all on opening), or None when
    the container holds no workbook stream. Raises TooComplex for a broken container."""
    try:
        stream = containers.ole_stream(data, ("Workbook", "Book"))
    except (IndexError, ValueError):
        raise Damaged("conteneur du classeur endommagé") from None
    if stream is None:
        return None
    cost = WorkbookCost(eager=True)
    names: dict[int, str] = {}
    shared: array[int] = array("Q")
    sheet: SheetCost | None = None
    sst: list[bytes] | None = None
    for at, kind, body in containers.Records(stream):
        if sst is not None and kind != _CONTINUE:
            shared, sst = containers.sst_lengths(sst), None
        if kind == _BOUNDSHEET and len(body) >= 8:
            wide = body[7] & 1
            raw = body[8:8 + body[6] * (2 if wide else 1)]
            names[int.from_bytes(body[:4], "little")] = raw.decode("utf-16-le" if wide else "latin-1", "replace")
        elif kind == _SST:
            sst = [body]
        elif kind == _CONTINUE and sst is not None:
            sst.append(body)
        elif kind == _BOF:
            title = names.get(at)
            sheet = None if title is None else cost.sheets.setdefault(title, SheetCost(title, stop_at_rows=False))
        elif sheet is None or kind == _EOF:
            continue
        elif kind == _DIMENSIONS and len(body) >= 12:
            rows = max(0, int.from_bytes(body[4:8], "little") - int.from_bytes(body[:4], "little"))
            cols = max(0, int.from_bytes(body[10:12], "little") - int.from_bytes(body[8:10], "little"))
            sheet.declared_cells = rows * cols
        elif kind in _CELLS or kind == _LABELSST or kind == _MULRK:
            if len(body) < 6 or sheet.over:
                continue
            row, col = int.from_bytes(body[:2], "little"), int.from_bytes(body[2:4], "little")
            last = int.from_bytes(body[-2:], "little") if kind == _MULRK else col
            text = 0
            if kind == _LABELSST and len(body) >= 10:
                index = int.from_bytes(body[6:10], "little")
                text = shared[index] if index < len(shared) else 0
            elif kind == 0x0204:
                text = len(body)
            sheet.add(row, col, cols=max(1, last - col + 1), text=text)
        elif kind == _STRING:
            sheet.text_bytes += len(body)
    return cost
