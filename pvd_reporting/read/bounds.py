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
import sys
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

from pvd_reporting.format.french import fr_int
from pvd_reporting.format.issues import Issue, IssueCode, make_issue
from pvd_reporting.format.matching import col_index, norm
from pvd_reporting.read.formula_errors import xlsx_sheet_parts

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
# A sheet's XML once decompressed (.ods: all sheets together): 10,000 rows of 40 styled columns
# take some 16 MB; beyond this, parsing alone would take seconds even with no value in a cell.
MAX_SHEET_XML_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20
_WHOLE_BYTES = 4 * 1024 * 1024  # a sheet's XML up to this size is read in one piece…
_KEPT_BYTES = 16 * 1024 * 1024  # …and kept for the reader's other scans, up to this much in all

_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # any namespace prefix (x:row, as some writers put it)
_ROW = re.compile(rb"<" + _P + rb"row\b([^>]*?)(?:/>|(?<!/)>(.*?)</" + _P + rb"row>)", re.S)
_CELL = re.compile(rb"<" + _P + rb"c\b([^>]*?)(?:/>|(?<!/)>(.*?)</" + _P + rb"c>)", re.S)
_ROW_END = re.compile(rb"</" + _P + rb"row>")
# References wider than Excel's own (XFD1048576): the library would place a cell at ZZZZ1 or
# row 4294967295, so they are measured, not skipped.
_R_ROW = re.compile(rb'\br="(\d{1,12})"')
_R_CELL = re.compile(rb'\br="([A-Za-z]{1,8})(\d{1,12})"')
_VALUE = re.compile(rb"<" + _P + rb"v>([^<]+)<")
_INLINE = re.compile(rb"<" + _P + rb"is>")
_SHARED = re.compile(rb'\bt="s"')
_SI = re.compile(rb"<" + _P + rb"si(?:\s*/>|>(.*?)</" + _P + rb"si>)", re.S)
_SI_END = re.compile(rb"</" + _P + rb"si>")
_SI_PLAIN = re.compile(rb"<si>(.*?)</si>|<si\s*/>", re.S)
_DIMENSION = re.compile(rb'<' + _P + rb'dimension\s+ref="([A-Za-z]{1,8})(\d{1,12})(?::([A-Za-z]{1,8})(\d{1,12}))?"')

_MAX_INDEX_BYTES = 4 * 1024 * 1024  # workbook.xml and its relationships: a few KB in practice

_ODS_TABLE_SPLIT = re.compile(rb'<table:table\s[^>]*?table:name="([^"]*)"[^>]*>')
_ODS_ROW_SPLIT = re.compile(rb"<table:table-row(?=[\s>/])")
_ODS_ROW_END = re.compile(rb"</table:table-row>")
_ODS_CELL = re.compile(
    rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|(?<!/)>(.*?)</table:(?:covered-)?table-cell>)", re.S)
_ODS_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d{1,9})"')
_ODS_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d{1,9})"')
_ODS_VALUED = re.compile(rb"office:value-type=")
_ODS_STRING = re.compile(rb'office:value-type="string"')


class TooComplex(Exception):
    """A part of the file is beyond what is read at all; its French reason."""


class Damaged(Exception):
    """The file's structure cannot be followed (a broken .xls container); its French reason."""


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
                         "(un même texte compté à chaque cellule qui l'affiche)")
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
    if sheet.bad_date is not None:
        cell, value = sheet.bad_date
        return make_issue(
            IssueCode.UNREADABLE_SHEET, sheet=name, cell=cell, value=value,
            reason=f"La cellule {cell} de l'onglet « {sheet.title} » est une date dont le nombre ({value}) "
            "ne correspond à aucun jour : l'onglet n'est pas lu. Corrigez la date de cette cellule.")
    if sheet.too_many_rows:
        return make_issue(
            IssueCode.TOO_MANY_ROWS, sheet=name,
            reason=f"L'onglet « {sheet.title} » compte {'au moins ' if sheet.over else ''}{fr_int(sheet.height)} "
            f"lignes : au-delà de {fr_int(MAX_ROWS)} lignes il n'est pas lu. Supprimez les lignes inutiles.")
    if sheet.xml_bytes > MAX_SHEET_XML_BYTES:
        return make_issue(
            IssueCode.SHEET_TOO_LARGE, sheet=name,
            reason=f"L'onglet « {sheet.title} » occupe plus de {_mb(MAX_SHEET_XML_BYTES)} Mo une fois "
            "décompressé : il n'est pas lu. Recopiez le tableau dans un modèle neuf.")
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
    """Sheet title -> zip member (formula_errors' lookup), once the index is known to be small."""
    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if name in names and zf.getinfo(name).file_size > _MAX_INDEX_BYTES:
            raise TooComplex("la liste des onglets du classeur est anormalement longue")
    return xlsx_sheet_parts(zf, names)


def _shared_lengths(zf: zipfile.ZipFile, names: set[str]) -> array[int]:
    lengths: array[int] = array("Q")
    if "xl/sharedStrings.xml" not in names:
        return lengths
    for piece in _chunks(zf, "xl/sharedStrings.xml", _SI_END):
        if b":si" in piece:
            lengths.extend(len(m[1] or b"") for m in _SI.finditer(piece))
        else:  # the usual spelling, counted at C speed
            lengths.extend(map(len, _SI_PLAIN.findall(piece)))
        if len(lengths) > MAX_SHARED_STRINGS:
            raise TooComplex(f"le classeur contient plus de {fr_int(MAX_SHARED_STRINGS)} textes distincts")
    return lengths


def _xlsx(zf: zipfile.ZipFile, names: set[str], unread: Collection[str]) -> WorkbookCost:
    try:
        parts = _xlsx_parts(zf, names)
    except ElementTree.ParseError:
        raise TooComplex("la liste des onglets du classeur est illisible") from None
    shared = _shared_lengths(zf, names)
    dates = _date_styles(zf, names)
    cost = WorkbookCost()
    for title, member in parts.items():
        if norm(title) not in unread:
            sheet = cost.sheets[title] = _xlsx_sheet(zf, member, title, shared, cost.xml)
            if not sheet.over:
                sheet.bad_date = _bad_date(zf, member, cost.xml, dates)
    return cost


# Excel's built-in date and time formats (ECMA-376, numFmtId), and what marks a custom one.
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_NUM_FMT = re.compile(rb'<numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"')
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF_FORMAT = re.compile(rb'<xf\b([^>]*)')
_FORMAT_ID = re.compile(rb'numFmtId="(\d+)"')
_QUOTED = re.compile(rb'"[^"]*"|\[[^\]]*\]|\\.')
# A number no date holds: the library's conversion overflows beyond some 1e11 days.
_MAX_DATE_SERIAL = 1e11
_BIG_NUMBER = re.compile(rb"<v>-?(?:\d[\d.]*[eE]\+?\d|\d{11})")
_BIG_NUMBER_CELL = re.compile(
    rb"<c\b([^>]*?)(?<!/)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>(-?(?:\d[\d.]*[eE][+-]?\d+|\d{11,}(?:\.\d*)?))</v>")
_STYLE = re.compile(rb'\bs="(\d{1,9})"')
_REF = re.compile(rb'\br="([A-Za-z]{1,8}\d{1,12})"')


def _date_styles(zf: zipfile.ZipFile, names: set[str]) -> frozenset[int] | None:
    """The cell styles that show a date (indexes of `cellXfs`); None when they cannot be told
    (then every style is taken for a date)."""
    if "xl/styles.xml" not in names:
        return frozenset()
    if zf.getinfo("xl/styles.xml").file_size > _MAX_INDEX_BYTES:
        return None
    styles = zf.read("xl/styles.xml")
    custom = {int(i) for i, code in _NUM_FMT.findall(styles)
              if re.search(rb"[dmyhsDMYHS]", _QUOTED.sub(b"", code.replace(b"&quot;", b'"')))}
    xfs = _CELL_XFS.search(styles)
    if xfs is None:
        return frozenset()
    found = set()
    for index, attrs in enumerate(_XF_FORMAT.findall(xfs[1])):
        fmt = _FORMAT_ID.search(attrs)
        number = int(fmt[1]) if fmt else 0
        if number in _DATE_FORMAT_IDS or number in custom:
            found.add(index)
    return frozenset(found)


def _bad_date(zf: zipfile.ZipFile, member: str, xml: dict[str, bytes],
              dates: frozenset[int] | None) -> tuple[str, str] | None:
    """The first date cell of a sheet whose number is beyond any calendar, if any."""
    if dates is not None and not dates:
        return None
    pieces: Iterable[bytes] = [xml[member]] if member in xml else _chunks(zf, member, _ROW_END)
    for piece in pieces:
        if not _BIG_NUMBER.search(piece):
            continue  # the usual case: no number of eleven digits or more
        for attrs, value in _BIG_NUMBER_CELL.findall(piece):
            try:
                if abs(float(value)) < _MAX_DATE_SERIAL:
                    continue
            except ValueError:
                continue
            style = _STYLE.search(attrs)
            if dates is None or (int(style[1]) if style else 0) in dates:
                ref = _REF.search(attrs)
                return (ref[1].decode() if ref else "?"), value.decode()
    return None


# A cell with a value, written the usual way: its reference first, then perhaps a formula, then
# a value that is not empty or an inline string (the library leaves the other cells out).
_FILLED = rb'<c r="([A-Za-z]{1,8})(\d{1,12})"[^>]*(?<!/)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<(?:v>[^<]|is>)'
_FILLED_COLUMN = re.compile(_FILLED.replace(rb"(\d{1,12})", rb"\d{1,12}"))
_FILLED_ROW = re.compile(_FILLED.replace(rb"([A-Za-z]{1,8})", rb"[A-Za-z]{1,8}"))
_ROW_NUMBER = re.compile(rb'<row r="(\d{1,12})"')
_CELL_TAG = re.compile(rb"<c[\s>/]")
_SHARED_VALUE = re.compile(rb' t="s"[^>]*>\s*<v>(\d{1,12})<')
_INLINE_TEXT = re.compile(rb"<is><t[^>]*>([^<]*)</t></is>")
_STR_VALUE = re.compile(rb't="str"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>([^<]*)</v>')


def _declared(sheet: SheetCost, head: bytes) -> None:
    """The grid the sheet declares (`<dimension ref="A1:K40">`), near its start."""
    declared = _DIMENSION.search(head, 0, 4096)
    if declared and declared[3]:
        rows = abs(int(declared[4]) - int(declared[2])) + 1
        cols = abs(col_index(declared[3].decode()) - col_index(declared[1].decode())) + 1
        sheet.declared_cells = rows * cols


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


def _xlsx_sheet(zf: zipfile.ZipFile, member: str, title: str, shared: array[int],
                xml: dict[str, bytes]) -> SheetCost:
    size = zf.getinfo(member).file_size
    sheet = SheetCost(title, xml_bytes=size)
    if sheet.too_many_cells:
        sheet.over = True
        return sheet
    row = -1
    first = True
    pieces: Iterable[bytes] = _chunks(zf, member, _ROW_END)
    if size <= _WHOLE_BYTES:
        whole = zf.read(member)
        if sum(map(len, xml.values())) + len(whole) <= _KEPT_BYTES:
            xml[member] = whole  # kept for the other scans, within a bound of its own
        pieces = [whole]
    for piece in pieces:
        if first:
            first = False
            _declared(sheet, piece)
            if sheet.too_many_cells:
                sheet.over = True
                return sheet
        if _xlsx_piece(sheet, piece, shared):
            if not isinstance(pieces, list):  # a later piece may place its rows by order
                last = [int(r) for r in _ROW_NUMBER.findall(piece)]
                row = max(last) - 1 if last else row
        else:
            for m in _ROW.finditer(piece):
                r = _R_ROW.search(m[1])
                row = int(r[1]) - 1 if r else row + 1
                if m[2]:
                    _xlsx_cells(sheet, row, m[2], shared)
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
        raise TooComplex(f"ses onglets occupent plus de {_mb(MAX_SHEET_XML_BYTES)} Mo une fois décompressés")
    sheet: SheetCost | None = None
    row = 0
    for piece in _chunks(zf, "content.xml", _ODS_ROW_END):
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

_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE
_BOF, _EOF, _BOUNDSHEET, _SST, _CONTINUE, _LABELSST, _DIMENSIONS, _STRING = (
    0x0809, 0x000A, 0x0085, 0x00FC, 0x003C, 0x00FD, 0x0200, 0x0207)
_MULRK, _MULBLANK, _BLANK = 0x00BD, 0x00BE, 0x0201
# Records whose first four bytes are the row and the column of a cell with a value.
_CELLS = frozenset({0x0203, 0x027E, 0x0204, 0x0205, 0x0006, 0x00D6})


def _ole_stream(data: bytes, wanted: tuple[str, ...]) -> bytes | None:
    """The first stream named in `wanted` of an OLE2 container, or None; every chain is followed
    at most once per sector, so a looping or lying container ends quickly."""
    if len(data) < 512:
        return None
    shift, mini_shift = int.from_bytes(data[30:32], "little"), int.from_bytes(data[32:34], "little")
    if shift not in (9, 12) or mini_shift != 6:
        raise Damaged("conteneur du classeur endommagé")
    size = 1 << shift
    sectors = (len(data) - size) // size

    def sector(n: int) -> bytes:
        return data[(n + 1) * size:(n + 2) * size]

    def u32s(raw: bytes) -> array[int]:
        table: array[int] = array("I")
        table.frombytes(raw[:len(raw) // 4 * 4])
        if sys.byteorder == "big":
            table.byteswap()
        return table

    # A FAT needs one sector per 128 sectors of the file: a header listing more is not followed.
    needed = sectors // (size // 4) + 1
    difat = list(u32s(data[76:512]))[:needed]
    next_difat, seen = int.from_bytes(data[68:72], "little"), 0
    while len(difat) < needed and next_difat not in (_FREE, _END) and next_difat < sectors and seen <= sectors:
        entries = u32s(sector(next_difat))
        difat += list(entries[:-1])[:needed - len(difat)]
        next_difat, seen = entries[-1], seen + 1
    fat: array[int] = array("I")
    for n in difat:
        if n < sectors:
            fat.extend(u32s(sector(n)))

    def chain(start: int, table: array[int], read: Callable[[int], bytes], limit: int) -> bytes:
        out, n, steps = [], start, 0
        while n not in (_FREE, _END) and n < len(table) and steps <= limit:
            out.append(read(n))
            n, steps = table[n], steps + 1
        return b"".join(out)

    directory = chain(int.from_bytes(data[48:52], "little"), fat, sector, sectors)
    records = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    if not records:
        return None
    root = records[0]
    cutoff = int.from_bytes(data[56:60], "little")
    for entry in records:
        name_len = int.from_bytes(entry[64:66], "little")
        name = entry[:max(0, name_len - 2)].decode("utf-16-le", "replace")
        if name not in wanted or entry[66] != 2:
            continue
        start, length = int.from_bytes(entry[116:120], "little"), int.from_bytes(entry[120:124], "little")
        if length >= cutoff:
            return chain(start, fat, sector, sectors)[:length]
        mini_fat = u32s(chain(int.from_bytes(data[60:64], "little"), fat, sector, sectors))
        ministream = chain(int.from_bytes(root[116:120], "little"), fat, sector, sectors)

        def mini(n: int, stream: bytes = ministream) -> bytes:
            return stream[n * 64:(n + 1) * 64]

        return chain(start, mini_fat, mini, len(mini_fat))[:length]
    return None


class _Records:
    """BIFF records of a stream: (type, data), with an SST and its CONTINUE records joined."""

    def __init__(self, stream: bytes) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[tuple[int, int, bytes]]:
        at, end = 0, len(self.stream)
        while at + 4 <= end:
            kind = int.from_bytes(self.stream[at:at + 2], "little")
            length = int.from_bytes(self.stream[at + 2:at + 4], "little")
            yield at, kind, self.stream[at + 4:at + 4 + length]
            at += 4 + length


def _sst_lengths(parts: list[bytes]) -> array[int]:
    """Byte length of each string of an SST record (and its CONTINUE records, where a string's
    characters go on after a new option byte)."""
    lengths: array[int] = array("Q")
    seg, pos = 0, 8
    total = int.from_bytes(parts[0][4:8], "little") if len(parts[0]) >= 8 else 0
    if total > MAX_SHARED_STRINGS:
        raise TooComplex(f"le classeur contient plus de {fr_int(MAX_SHARED_STRINGS)} textes distincts")

    def take(n: int) -> bytes:
        nonlocal seg, pos
        out = b""
        while n > 0 and seg < len(parts):
            piece = parts[seg][pos:pos + n]
            out += piece
            pos += len(piece)
            n -= len(piece)
            if n > 0:
                seg, pos = seg + 1, 0
        return out

    for _ in range(total):
        head = take(3)
        if len(head) < 3:
            break
        chars, flags = int.from_bytes(head[:2], "little"), head[2]
        runs = int.from_bytes(take(2), "little") if flags & 0x08 else 0
        ext = int.from_bytes(take(4), "little") if flags & 0x04 else 0
        width, left, size = 2 if flags & 0x01 else 1, chars, 0
        while left > 0 and seg < len(parts):
            room = (len(parts[seg]) - pos) // width
            if room <= 0:
                seg, pos = seg + 1, 0
                if seg < len(parts):
                    width = 2 if take(1)[:1] == b"\x01" else 1
                continue
            n = min(room, left)
            take(n * width)
            size, left = size + n * width, left - n
        take(4 * runs + ext)
        lengths.append(size)
    return lengths


def measure_xls(data: bytes) -> WorkbookCost | None:
    """The cost of each sheet of an .xls (the library reads them all on opening), or None when
    the container holds no workbook stream. Raises TooComplex for a broken container."""
    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
    except (IndexError, ValueError):
        raise Damaged("conteneur du classeur endommagé") from None
    if stream is None:
        return None
    cost = WorkbookCost(eager=True)
    names: dict[int, str] = {}
    shared: array[int] = array("Q")
    sheet: SheetCost | None = None
    sst: list[bytes] | None = None
    for at, kind, body in _Records(stream):
        if sst is not None and kind != _CONTINUE:
            shared, sst = _sst_lengths(sst), None
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
