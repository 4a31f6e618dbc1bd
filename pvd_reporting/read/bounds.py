"""What reading each sheet would cost, measured on the zip before the spreadsheet library sees it
(docs/securite.md).

A 50 KB workbook can hold one 32,000-character shared string referenced by 20,000 cells (640 MB
of text once read), two cells at A1 and XFD9000 (a grid of 147 million cells: the library aborts
the process), or a million rows. The sheet XML is streamed in chunks and counted — rows and
cells that hold a value, as the library will lay them out, and the text they will hold — so
every file is read within the limits below, in bounded time and memory, or refused first.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from xml.etree import ElementTree

from pvd_reporting.format.french import fr_int
from pvd_reporting.format.issues import Issue, IssueCode, make_issue
from pvd_reporting.format.matching import col_index, norm

# A sheet is not read beyond this many rows (its last filled row, as the library counts it).
MAX_ROWS = 10_000
# Cells of a sheet's grid, from its first filled cell to its last (the library allocates the
# whole rectangle): 10,000 rows of 100 columns.
MAX_SHEET_CELLS = 1_000_000
# Text the read sheets would hold (shared strings counted at each cell that shows them): held
# twice (library and Python) and searched, it keeps a file within 400 MB.
MAX_TEXT_BYTES = 50 * 1024 * 1024
# Distinct shared strings (the library loads them all when it opens the file).
MAX_SHARED_STRINGS = 1_000_000
# One row of sheet XML: a real row is a few kilobytes.
MAX_ROW_XML_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 20

_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # any namespace prefix (x:row, as some writers put it)
_ROW = re.compile(rb"<" + _P + rb"row\b([^>]*?)(?:/>|(?<!/)>(.*?)</" + _P + rb"row>)", re.S)
_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*?)(?:/>|(?<!/)>(.*?)</" + _P + rb"c>)", re.S)
_ROW_END = re.compile(rb"</" + _P + rb"row>")
_R_ROW = re.compile(rb'\br="(\d{1,9})"')
_R_CELL = re.compile(rb'\br="([A-Za-z]{1,3})(\d{1,9})"')
_R_CELL_FAST = re.compile(rb' r="([A-Za-z]{1,3})(\d{1,9})"')  # a literal start: searched at C speed
_VALUE = re.compile(rb"<" + _P + rb"v>([^<]+)<")
_INLINE = re.compile(rb"<" + _P + rb"is>")
_SHARED = re.compile(rb'\bt="s"')
_SI = re.compile(rb"<" + _P + rb"si(?:\s*/>|>(.*?)</" + _P + rb"si>)", re.S)
_SI_END = re.compile(rb"</" + _P + rb"si>")
_DIMENSION = re.compile(rb'<' + _P + rb'dimension\s+ref="([A-Za-z]{1,3})(\d{1,9})(?::([A-Za-z]{1,3})(\d{1,9}))?"')

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAX_INDEX_BYTES = 4 * 1024 * 1024  # workbook.xml and its relationships: a few KB in practice

_ODS_TABLE = re.compile(rb'<table:table\s[^>]*?table:name="([^"]*)"')
_ODS_ROW = re.compile(rb"<table:table-row\b([^>]*?)(?:/>|(?<!/)>(.*?)</table:table-row>)", re.S)
_ODS_ROW_END = re.compile(rb"</table:table-row>")
_ODS_CELL = re.compile(
    rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|(?<!/)>(.*?)</table:(?:covered-)?table-cell>)", re.S)
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d{1,9})"')
_ODS_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d{1,9})"')
_ODS_VALUED = re.compile(rb"office:value-type=")
_ODS_STRING = re.compile(rb'office:value-type="string"')


class TooComplex(Exception):
    """A part of the file is beyond what is read at all; its French reason."""


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
    over: bool = False  # counting stopped: the sheet is beyond a limit
    # Rows alone stop the count where the library reads a sheet only when asked (.xlsx: such a
    # sheet is never loaded); where it reads every sheet on opening (.ods), only the grid does.
    stop_at_rows: bool = True

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
        return self.cells > MAX_SHEET_CELLS or self.declared_cells > MAX_SHEET_CELLS


@dataclass
class WorkbookCost:
    """Every sheet's cost, by title; `eager` when the library loads every sheet on opening (.ods)."""

    sheets: dict[str, SheetCost] = field(default_factory=dict)
    eager: bool = False


def measure(zf: zipfile.ZipFile, unread: Collection[str] = ()) -> WorkbookCost | None:
    """The cost of each sheet of an .xlsx/.xlsm or .ods, or None for another kind of zip
    (.xlsb: not measured). Raises TooComplex when a part is beyond any reading.

    `unread`: normalised titles of sheets the reader never loads (.xlsx: not measured)."""
    names = set(zf.namelist())
    if "xl/workbook.xml" in names:
        return _xlsx(zf, names, unread)
    if "content.xml" in names:
        return _ods(zf)
    return None


# --- what is refused -----------------------------------------------------------------------------


def too_large(reason: str) -> Issue:
    return make_issue(IssueCode.FILE_TOO_LARGE, reason=f"Classeur refusé : {reason}. Repartez du modèle "
                      "et recopiez-y vos données, puis renvoyez-le.")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}"


def file_refusal(cost: WorkbookCost | None, unread: Collection[str] = ()) -> Issue | None:
    """The reason to refuse the whole file before the library reads it, if any: the text of its
    sheets beyond the memory budget, or (the library reading every sheet on opening) one sheet
    beyond the limits."""
    if cost is None:
        return None
    read = [s for s in cost.sheets.values() if norm(s.title) not in unread]
    text = sum(s.text_bytes for s in read)
    if text > MAX_TEXT_BYTES:
        return too_large(f"ses onglets contiendraient plus de {_mb(MAX_TEXT_BYTES)} Mo de texte une fois lus "
                          f"(limite {_mb(MAX_TEXT_BYTES)} Mo)")
    if cost.eager:
        for sheet in cost.sheets.values():
            if sheet.too_many_cells:
                return too_large(f"l'onglet « {sheet.title} » s'étend sur {_sheet_size()}, trop pour être lu")
    return None


def _sheet_size() -> str:
    return f"une grille de plus de {fr_int(MAX_SHEET_CELLS)} cellules"


def sheet_refusal(sheet: SheetCost | None, name: str) -> Issue | None:
    """Why a sheet is not loaded (too many rows, too large a grid), before the library reads it."""
    if sheet is None:
        return None
    if sheet.too_many_rows:
        return make_issue(
            IssueCode.TOO_MANY_ROWS, sheet=name,
            reason=f"L'onglet « {sheet.title} » compte {'au moins ' if sheet.over else ''}{fr_int(sheet.height)} "
            f"lignes : au-delà de {fr_int(MAX_ROWS)} lignes il n'est pas lu. Supprimez les lignes inutiles.")
    if sheet.too_many_cells:
        return make_issue(
            IssueCode.SHEET_TOO_LARGE, sheet=name,
            reason=f"L'onglet « {sheet.title} » s'étend sur {_sheet_size()} (de sa première à sa "
            "dernière cellule remplie, ou selon ses dimensions déclarées) : il n'est pas lu. Supprimez les "
            "cellules remplies loin du tableau, ou recopiez le tableau dans un modèle neuf.")
    return None



# --- .xlsx ------------------------------------------------------------------------------------


def _chunks(zf: zipfile.ZipFile, member: str, end: re.Pattern[bytes]) -> Iterator[bytes]:
    """The member's bytes in pieces that each end just after an `end` tag (a whole row, a whole
    shared string): a tag never straddles two pieces."""
    carry = b""
    with zf.open(member) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            buf = carry + chunk
            last = None
            for found in end.finditer(buf, max(0, len(carry) - 64)):
                last = found
            if last is None:
                if len(buf) > MAX_ROW_XML_BYTES:
                    raise TooComplex("une ligne du classeur occupe plus de "
                                     f"{MAX_ROW_XML_BYTES // (1024 * 1024)} Mo : son contenu est anormal")
                carry = buf
                continue
            yield buf[:last.end()]
            carry = buf[last.end():]
    if carry:
        yield carry


def _xlsx_parts(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Sheet title -> zip member, from the workbook and its relationships."""
    rels_name = "xl/_rels/workbook.xml.rels"
    for name in ("xl/workbook.xml", rels_name):
        if name in names and zf.getinfo(name).file_size > _MAX_INDEX_BYTES:
            raise TooComplex("la liste des onglets du classeur est anormalement longue")
    if rels_name not in names:
        return {}
    targets: dict[str, str] = {}
    for rel in ElementTree.fromstring(zf.read(rels_name)).iter(f"{_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id", "")] = part
    parts: dict[str, str] = {}
    for sheet in ElementTree.fromstring(zf.read("xl/workbook.xml")).iter(f"{_MAIN}sheet"):
        found = targets.get(sheet.get(f"{_REL}id", ""))
        if found is not None and found in names:
            parts[sheet.get("name", "")] = found
    return parts


def _shared_lengths(zf: zipfile.ZipFile, names: set[str]) -> array[int]:
    lengths: array[int] = array("Q")
    if "xl/sharedStrings.xml" not in names:
        return lengths
    for piece in _chunks(zf, "xl/sharedStrings.xml", _SI_END):
        lengths.extend(len(m[1] or b"") for m in _SI.finditer(piece))
        if len(lengths) > MAX_SHARED_STRINGS:
            raise TooComplex(f"le classeur contient plus de {MAX_SHARED_STRINGS:,} textes distincts"
                             .replace(",", "\u202f"))
    return lengths


def _xlsx(zf: zipfile.ZipFile, names: set[str], unread: Collection[str]) -> WorkbookCost:
    try:
        parts = _xlsx_parts(zf, names)
    except ElementTree.ParseError:
        raise TooComplex("la liste des onglets du classeur est illisible") from None
    shared = _shared_lengths(zf, names)
    cost = WorkbookCost()
    for title, member in parts.items():
        if norm(title) not in unread:
            cost.sheets[title] = _xlsx_sheet(zf, member, title, shared)
    return cost


_FAST_BYTES = 4 * 1024 * 1024
_SHARED_VALUE = re.compile(rb' t="s"[^>]*>\s*<' + _P + rb"v>(\d{1,12})<")
_OTHER_TEXT = re.compile(rb't="(?:inlineStr|str)"')


def _declared(sheet: SheetCost, head: bytes) -> None:
    """The grid the sheet declares (`<dimension ref="A1:K40">`), near its start."""
    declared = _DIMENSION.search(head, 0, 4096)
    if declared and declared[3]:
        rows = abs(int(declared[4]) - int(declared[2])) + 1
        cols = abs(col_index(declared[3].decode()) - col_index(declared[1].decode())) + 1
        sheet.declared_cells = rows * cols


def _xlsx_fast(data: bytes, title: str, shared: array[int]) -> SheetCost | None:
    """The cost of a small sheet, bounded from above with a few whole-text searches (every cell
    counted, filled or not); None when the bound is not enough to accept it (then counted cell
    by cell). A template's sheet costs a fraction of a millisecond."""
    if b":c " in data or b":row" in data:
        return None  # prefixed tags (x:c): counted one by one
    refs = _R_CELL_FAST.findall(data)
    if len(refs) != data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/"):
        return None  # cells placed by their order: counted one by one
    sheet = SheetCost(title)
    _declared(sheet, data)
    if refs:
        rows = [int(r) for _, r in refs]
        letters = {c.upper() for c, _ in refs}
        cols = [col_index(c.decode()) for c in letters]
        sheet.add(min(rows) - 1, min(cols))
        sheet.add(max(rows) - 1, max(cols))
    if sheet.too_many_rows or sheet.too_many_cells:
        return None
    try:
        sheet.text_bytes = sum(shared[int(i)] for i in _SHARED_VALUE.findall(data))
    except IndexError:
        return None
    if _OTHER_TEXT.search(data):
        sheet.text_bytes += len(data)
    return sheet


def _xlsx_sheet(zf: zipfile.ZipFile, member: str, title: str, shared: array[int]) -> SheetCost:
    if zf.getinfo(member).file_size <= _FAST_BYTES:
        fast = _xlsx_fast(zf.read(member), title, shared)
        if fast is not None:
            return fast
    sheet = SheetCost(title)
    row = -1
    first = True
    for piece in _chunks(zf, member, _ROW_END):
        if first:
            first = False
            _declared(sheet, piece)
            if sheet.too_many_cells:
                sheet.over = True
                return sheet
        for m in _ROW.finditer(piece):
            r = _R_ROW.search(m[1])
            row = int(r[1]) - 1 if r else row + 1
            if m[2]:
                _xlsx_cells(sheet, row, m[2], shared)
                if sheet.over or sheet.text_bytes > MAX_TEXT_BYTES:
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
    sheet: SheetCost | None = None
    row = 0
    table = re.compile(_ODS_TABLE.pattern + b"|" + _ODS_ROW.pattern, re.S)
    for piece in _chunks(zf, "content.xml", _ODS_ROW_END):
        for m in table.finditer(piece):
            if m[1] is not None:  # a new table
                title = m[1].decode("utf-8", "replace")
                sheet = cost.sheets.setdefault(title, SheetCost(title, stop_at_rows=False))
                row = 0
                continue
            repeated = _ODS_ROWS_REPEATED.search(m[2] or b"")
            rows = int(repeated[1]) if repeated else 1
            if sheet is not None and m[3]:
                _ods_cells(sheet, row, rows, m[3])
                if sheet.over or sheet.text_bytes > MAX_TEXT_BYTES:
                    return cost
            row += rows
    return cost


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
