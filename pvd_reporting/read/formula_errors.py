"""Formula error cells (#DIV/0!, #REF!, #N/A…) that python-calamine reads as empty text.

Left alone, `=1/0` in a cost cell would be read as "no cost" and `#REF!` in a date as no date:
a value silently dropped, which docs/format-1.md forbids. The sheet XML says which cells hold an error, so it
is scanned — only when the file holds one at all, so a clean workbook costs a substring search.
.xls (BIFF) is not scanned: its error cells still read as empty.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath
from weakref import WeakKeyDictionary
from xml.etree import ElementTree

from pvd_reporting.format.matching import col_index

# Bounded by safety.check_file (200 MB uncompressed for the whole archive) before we get here.
_XLSX_ERROR_CELL = re.compile(rb'<c\s([^>]*?)(/)?>')
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
# A relationship's target made of plain names ("worksheets/sheet1.xml"): no "." or empty segment.
_PLAIN_TARGET = re.compile(r"(?:[\w-][\w.-]*/)*[\w-][\w.-]*")
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"

ErrorCells = dict[str, dict[tuple[int, int], str]]  # sheet title -> (row0, col0) -> "#DIV/0!"


class CellError(str):
    """The text of a formula error, kept apart from text a person typed."""


def error_cells_in(zf: zipfile.ZipFile, wanted: Callable[[str], bool] = lambda title: True,
                   xml: dict[str, bytes] | None = None) -> ErrorCells:
    """Error cells by sheet title, for the sheets `wanted` accepts, of a zip already open (the reader
    opens each file once); empty when there are none or the file is not a zip workbook. `xml`:
    members already inflated (bounds.WorkbookCost.xml)."""
    try:
        names = set(zf.namelist())
        if "xl/workbook.xml" in names:
            return _xlsx(zf, names, wanted, xml or {})
        if "content.xml" in names:
            return _ods(zf)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, EOFError,
            NotImplementedError, ElementTree.ParseError):
        return {}
    return {}


def _xlsx(zf: zipfile.ZipFile, names: set[str], wanted: Callable[[str], bool],
          xml: dict[str, bytes]) -> ErrorCells:
    parts = xlsx_sheet_parts(zf, names)
    found: ErrorCells = {}
    for title, part in parts.items():
        if not wanted(title):
            continue
        data = xml[part] if part in xml else zf.read(part)
        if b't="e"' not in data:
            continue
        cells: dict[tuple[int, int], str] = {}
        for m in _XLSX_ERROR_CELL.finditer(data):
            if m[2] or b't="e"' not in m[1]:
                continue
            ref = _REF.search(m[1])
            end = data.find(b"</c>", m.end())
            value = _VALUE.search(data, m.end(), end if end >= 0 else len(data))
            if ref and value:
                cells[(int(ref[2]) - 1, col_index(ref[1].decode("ascii")))] = value[1].decode("utf-8", "replace")
        if cells:
            found[title] = cells
    return found


# Looked up by the reader's limits and by the error scan, on the same open zip: parsed once.
_PARTS: WeakKeyDictionary[zipfile.ZipFile, dict[str, str]] = WeakKeyDictionary()


def xlsx_sheet_parts(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Sheet title -> zip member of an .xlsx, from its workbook and relationships."""
    known = _PARTS.get(zf)
    if known is None:
        known = _PARTS[zf] = _sheet_parts(zf, names)
    return dict(known)


def _sheet_parts(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    rels_name = "xl/_rels/workbook.xml.rels"
    if rels_name not in names:
        return {}
    targets: dict[str, str] = {}
    for rel in ElementTree.fromstring(zf.read(rels_name)).iter(f"{_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        if target.startswith("/"):
            part = target.lstrip("/")
        elif _PLAIN_TARGET.fullmatch(target):
            part = "xl/" + target  # what PurePosixPath("xl") / target gives, without its cost
        else:
            part = str(PurePosixPath("xl") / target)
        targets[rel.get("Id", "")] = part
    parts: dict[str, str] = {}
    for sheet in ElementTree.fromstring(zf.read("xl/workbook.xml")).iter(f"{_MAIN}sheet"):
        found = targets.get(sheet.get(f"{_REL}id", ""))
        if found is not None and found in names:
            parts[sheet.get("name", "")] = found
    return parts


def _ods(zf: zipfile.ZipFile) -> ErrorCells:
    data = zf.read("content.xml")
    if b'value-type="error"' not in data:
        return {}
    found: ErrorCells = {}
    root = ElementTree.fromstring(data)
    for table in root.iter(f"{{{_TABLE}}}table"):
        cells: dict[tuple[int, int], str] = {}
        row0 = 0
        for row in table.iter(f"{{{_TABLE}}}table-row"):
            col0 = 0
            for cell in row:
                if cell.tag not in (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell"):
                    continue
                repeat = int(cell.get(f"{{{_TABLE}}}number-columns-repeated", "1"))
                if cell.get(f"{{{_CALCEXT}}}value-type") == "error":
                    text = "".join(p.text or "" for p in cell.iter(f"{{{_TEXT}}}p")) or "#ERREUR"
                    for i in range(min(repeat, 1024)):
                        cells[(row0, col0 + i)] = text
                col0 += repeat
            row0 += int(row.get(f"{{{_TABLE}}}number-rows-repeated", "1"))
        if cells:
            found[table.get(f"{{{_TABLE}}}name", "")] = cells
    return found
