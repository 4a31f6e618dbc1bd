"""A workbook's container read in bounded pieces, before the spreadsheet library sees it
(docs/securite.md): zip members streamed by whole elements (a sheet's rows, its declared grid), the
.xlsx index, the lengths of its shared strings, its date styles and any date cell beyond a
calendar; the streams of an OLE2 .xls container, its BIFF records and its shared strings' lengths.
What each sheet would cost, and what is refused, is measured in bounds.py.
"""

from __future__ import annotations

import re
import sys
import zipfile
from array import array
from collections.abc import Callable, Iterable, Iterator

from pvd_reporting.format.french import fr_int
from pvd_reporting.format.matching import col_index
from pvd_reporting.read.formula_errors import xlsx_sheet_parts

# Distinct shared strings (the library loads them all when it opens the file).
MAX_SHARED_STRINGS = 1_000_000
# One row of sheet XML: a real row is a few kilobytes.
MAX_ROW_XML_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 20
_MAX_INDEX_BYTES = 4 * 1024 * 1024  # workbook.xml and its relationships: a few KB in practice
_WHOLE_BYTES = 4 * 1024 * 1024  # a sheet's XML up to this size is read in one piece…
_KEPT_BYTES = 16 * 1024 * 1024  # …and kept for the reader's other scans, up to this much in all

PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"  # any namespace prefix (x:row, as some writers put it)
ROW_END = re.compile(rb"</" + PREFIX + rb"row>")
_SI = re.compile(rb"<" + PREFIX + rb"si(?:\s*/>|>(.*?)</" + PREFIX + rb"si>)", re.S)
_SI_END = re.compile(rb"</" + PREFIX + rb"si>")
_SI_PLAIN = re.compile(rb"<si>(.*?)</si>|<si\s*/>", re.S)
_DIMENSION = re.compile(rb'<' + PREFIX + rb'dimension\s+ref="([A-Za-z]{1,8})(\d{1,12})(?::([A-Za-z]{1,8})(\d{1,12}))?"')


class TooComplex(Exception):
    """A part of the file is beyond what is read at all; its French reason."""


class Damaged(Exception):
    """The file's structure cannot be followed (a broken .xls container); its French reason."""


def chunks(zf: zipfile.ZipFile, member: str, end: re.Pattern[bytes]) -> Iterator[bytes]:
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


def sheet_pieces(zf: zipfile.ZipFile, member: str, xml: dict[str, bytes]) -> Iterable[bytes]:
    """A sheet's XML in pieces of whole rows: a list of one piece when it is small (kept in `xml`
    for the reader's other scans, within a bound of its own), streamed otherwise."""
    if zf.getinfo(member).file_size <= _WHOLE_BYTES:
        whole = zf.read(member)
        if sum(map(len, xml.values())) + len(whole) <= _KEPT_BYTES:
            xml[member] = whole
        return [whole]
    return chunks(zf, member, ROW_END)


def declared_cells(head: bytes) -> int:
    """The cells of the grid a sheet declares (`<dimension ref="A1:K40">`) near its start; 0 if
    it declares none."""
    declared = _DIMENSION.search(head, 0, 4096)
    if declared is None or not declared[3]:
        return 0
    rows = abs(int(declared[4]) - int(declared[2])) + 1
    cols = abs(col_index(declared[3].decode()) - col_index(declared[1].decode())) + 1
    return rows * cols


def xlsx_parts(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Sheet title -> zip member (formula_errors' lookup), once the index is known to be small."""
    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        if name in names and zf.getinfo(name).file_size > _MAX_INDEX_BYTES:
            raise TooComplex("la liste des onglets du classeur est anormalement longue")
    return xlsx_sheet_parts(zf, names)


def shared_lengths(zf: zipfile.ZipFile, names: set[str]) -> array[int]:
    lengths: array[int] = array("Q")
    if "xl/sharedStrings.xml" not in names:
        return lengths
    for piece in chunks(zf, "xl/sharedStrings.xml", _SI_END):
        if b":si" in piece:
            lengths.extend(len(m[1] or b"") for m in _SI.finditer(piece))
        else:  # the usual spelling, counted at C speed
            lengths.extend(map(len, _SI_PLAIN.findall(piece)))
        if len(lengths) > MAX_SHARED_STRINGS:
            raise TooComplex(f"le classeur contient plus de {fr_int(MAX_SHARED_STRINGS)} textes distincts")
    return lengths


# Excel's built-in date and time formats (ECMA-376, numFmtId), and what marks a custom one.
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_NUM_FMT = re.compile(rb'<numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"')
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF_FORMAT = re.compile(rb'<xf\b([^>]*)')
_FORMAT_ID = re.compile(rb'numFmtId="(\d+)"')
_QUOTED = re.compile(rb'"[^"]*"|\[[^\]]*\]|\\.')
# A number no date holds: the library's conversion overflows beyond some 1e11 days.
_MAX_DATE_SERIAL = 1e11
_BIG_NUMBER = re.compile(rb"<v>-?(?:\d[\d.]*+[eE]\+?\d|\d{11})")  # possessive: no backtracking through the digits
_BIG_NUMBER_CELL = re.compile(
    rb"<c\b([^>]*?)(?<!/)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>(-?(?:\d[\d.]*[eE][+-]?\d+|\d{11,}(?:\.\d*)?))</v>")
_STYLE = re.compile(rb'\bs="(\d{1,9})"')
_REF = re.compile(rb'\br="([A-Za-z]{1,8}\d{1,12})"')


def longest_shared(zf: zipfile.ZipFile, names: set[str]) -> int | None:
    """A length no shared string exceeds, found at C speed when the part is small and written the
    usual way (it then holds fewer strings than MAX_SHARED_STRINGS: `<si/>` takes 5 bytes); None
    when the strings must be counted one by one (`shared_lengths`, which refuses too many)."""
    if "xl/sharedStrings.xml" not in names:
        return 0
    if zf.getinfo("xl/sharedStrings.xml").file_size > _WHOLE_BYTES:
        return None
    data = zf.read("xl/sharedStrings.xml")
    if b":si" in data:
        return None
    # Each string's text lies between two closing tags.
    return max(map(len, data.split(b"</si>")))


def styles_part(zf: zipfile.ZipFile, names: set[str]) -> bytes | None:
    """The workbook's styles, read (and their checksum verified) with its index; None when too
    long to be looked at (then every style is taken for a date)."""
    if "xl/styles.xml" not in names:
        return b""
    if zf.getinfo("xl/styles.xml").file_size > _MAX_INDEX_BYTES:
        return None
    return zf.read("xl/styles.xml")


def date_styles(styles: bytes | None) -> frozenset[int] | None:
    """The cell styles that show a date (indexes of `cellXfs`); None when they cannot be told
    (then every style is taken for a date)."""
    if styles is None:
        return None
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


def _no_date(styles: bytes | None) -> bool:
    dates = date_styles(styles)
    return dates is not None and not dates


def bad_date(zf: zipfile.ZipFile, member: str, xml: dict[str, bytes],
             styles: bytes | None) -> tuple[str, str] | None:
    """The first date cell of a sheet whose number is beyond any calendar, if any (`styles`:
    styles_part, told only once such a number is found)."""
    pieces: Iterable[bytes] = [xml[member]] if member in xml else chunks(zf, member, ROW_END)
    if member not in xml and _no_date(styles):
        return None  # a sheet too long to be kept is not inflated again for nothing
    for piece in pieces:
        if not _BIG_NUMBER.search(piece):
            continue  # the usual case: no number of eleven digits or more
        dates = date_styles(styles)
        if dates is not None and not dates:
            return None
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


# --- .xls (BIFF8 in an OLE2 container) ---------------------------------------------------------

_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE


def ole_stream(data: bytes, wanted: tuple[str, ...]) -> bytes | None:
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


class Records:
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


def sst_lengths(parts: list[bytes]) -> array[int]:
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
