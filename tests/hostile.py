"""Hostile workbooks built by zip surgery on a sound one (tests/factory.py): small files that
would cost gigabytes or minutes to read, macros, external links, DDE. Nothing large is committed:
each test makes its own."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pvd_reporting.format.matching import col_letter

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def sheet_member(path: Path, title: str) -> str:
    """The zip member of the sheet titled `title` in a workbook written by openpyxl."""
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
    names = [part.split('"')[0] for part in workbook.split('name="')[1:]]
    return f"xl/worksheets/sheet{names.index(title) + 1}.xml"


def rewrite(src: Path, dst: Path, members: dict[str, bytes | Iterable[bytes]],
            *, edit: dict[str, tuple[bytes, bytes]] | None = None) -> Path:
    """A copy of `src` with `members` added or replaced (bytes, or chunks streamed into the zip)
    and `edit` (member -> (old, new)) applied to existing members."""
    edit = edit or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in members:
                continue
            data = zin.read(info)
            if info.filename in edit:
                old, new = edit[info.filename]
                assert old in data, (info.filename, old)
                data = data.replace(old, new, 1)
            zout.writestr(info.filename, data)
        for name, content in members.items():
            if isinstance(content, bytes):
                zout.writestr(name, content)
            else:
                with zout.open(name, "w", force_zip64=True) as out:
                    for chunk in content:
                        out.write(chunk)
    return dst


def sheet_xml(rows: Iterable[bytes], dimension: str | None = None) -> Iterator[bytes]:
    """A worksheet streamed in chunks: its `<dimension>` (if any), then the rows given."""
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">'.encode()
    if dimension:
        yield f'<dimension ref="{dimension}"/>'.encode()
    yield b"<sheetData>"
    batch: list[bytes] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= 10_000:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch)
    yield b"</sheetData></worksheet>"


def shared_string_bomb(base: Path, dst: Path, *, length: int = 32_000, cells: int = 20_000,
                       title: str = "Engagements", width: int = 100) -> Path:
    """One `length`-character shared string referenced by `cells` cells of one sheet."""
    rows = []
    for r in range(cells // width):
        cs = "".join(f'<c r="{col_letter(c)}{r + 1}" t="s"><v>0</v></c>' for c in range(width))
        rows.append(f'<row r="{r + 1}">{cs}</row>'.encode())
    return with_shared_strings(base, dst, ["x" * length], rows, title=title,
                               dimension=f"A1:{col_letter(width - 1)}{cells // width}", count=cells)


def with_shared_strings(base: Path, dst: Path, strings: list[str], rows: Iterable[bytes], *,
                        title: str = "Engagements", dimension: str | None = None, count: int | None = None) -> Path:
    """The sheet `title` made of `rows`, which show `strings` by their index (t="s"); `count`: the
    references the list declares (a bomb declares them all, as Excel would)."""
    declared = f' count="{count}"' if count is not None else ""
    sst = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}"{declared} uniqueCount="{len(strings)}">'
           + "".join(f"<si><t>{text}</t></si>" for text in strings) + "</sst>").encode()
    return rewrite(base, dst, {sheet_member(base, title): sheet_xml(rows, dimension), "xl/sharedStrings.xml": sst},
                   edit=_declare_shared_strings())


def _declare_shared_strings() -> dict[str, tuple[bytes, bytes]]:
    rel = (f'<Relationship Type="{_OFFICE_REL}/sharedStrings" Target="sharedStrings.xml" Id="rIdS"/>'
           "</Relationships>").encode()
    override = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    return {"xl/_rels/workbook.xml.rels": (b"</Relationships>", rel),
            "[Content_Types].xml": (b"</Types>", override)}


def many_rows(base: Path, dst: Path, *, rows: int = 1_000_000, title: str = "Engagements") -> Path:
    """A sheet of `rows` rows of one number each (placed by their order, as the format allows)."""
    block = b"<row><c><v>1</v></c></row>" * 10_000

    def stream() -> Iterator[bytes]:
        yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
        for _ in range(rows // 10_000):
            yield block
        yield b"</sheetData></worksheet>"

    return rewrite(base, dst, {sheet_member(base, title): stream()})


def huge_dimension(base: Path, dst: Path, *, title: str = "Engagements") -> Path:
    """A sheet declaring the whole grid, `A1:XFD1048576`, with one cell."""
    rows = [b'<row r="1"><c r="A1"><v>1</v></c></row>']
    return rewrite(base, dst, {sheet_member(base, title): sheet_xml(rows, "A1:XFD1048576")})


def far_apart(base: Path, dst: Path, *, title: str = "Engagements") -> Path:
    """Two cells, A1 and XFD9000: a 200-byte sheet whose grid is 147 million cells (the
    spreadsheet library aborts the whole process trying to allocate it)."""
    rows = [b'<row r="1"><c r="A1"><v>1</v></c></row>', b'<row r="9000"><c r="XFD9000"><v>1</v></c></row>']
    return rewrite(base, dst, {sheet_member(base, title): sheet_xml(rows)})


ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def ods(dst: Path, table_body: str, *, name: str = "Engagements") -> Path:
    """A minimal .ods whose one table has `table_body` (rows in ODF XML)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{name}">{table_body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="'
        + ODS_MIME.decode() + '"/><manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), ODS_MIME)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return dst


def ods_repeated_rows(dst: Path, *, rows: int = 1_000_000, columns: int = 1) -> Path:
    """An .ods of one filled row repeated `rows` times (`table:number-rows-repeated`)."""
    cell = (f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="float" '
            'office:value="1"><text:p>1</text:p></table:table-cell>')
    return ods(dst, f'<table:table-row table:number-rows-repeated="{rows}">{cell}</table:table-row>')


# --- .xls: BIFF8 records in an OLE2 container, written by hand -------------------------------

def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))


def _sst(strings: list[str]) -> bytes:
    """An SST record and its CONTINUE records (one byte per character, split at 8,224 bytes)."""
    out, body = b"", struct.pack("<II", len(strings), len(strings))
    for text in strings:
        chars = text.encode("latin-1")
        body += struct.pack("<HB", len(chars), 0)
        while chars:
            room = 8224 - len(body)
            body, chars = body + chars[:room], chars[room:]
            if chars:
                out += _record(0x003C if out else 0x00FC, body)
                body = b"\x00"  # a continued string starts again with its option byte
    return out + _record(0x003C if out else 0x00FC, body)


def xls_workbook(sheets: dict[str, list[bytes]], strings: list[str]) -> bytes:
    """The Workbook stream of an .xls: its sheets (cell records each) and shared strings."""
    def sheet_stream(cells: list[bytes]) -> bytes:
        return _bof(0x0010) + b"".join(cells) + _record(0x000A, b"")

    names = list(sheets)
    bound = [_record(0x0085, struct.pack("<IBBBB", 0, 0, 0, len(n), 0) + n.encode("latin-1")) for n in names]
    head = _bof(0x0005) + _record(0x0042, struct.pack("<H", 1200))
    tail = _sst(strings) + _record(0x000A, b"")
    offset = len(head) + sum(len(b) for b in bound) + len(tail)
    fixed = []
    for name, record in zip(names, bound, strict=True):
        fixed.append(record[:4] + struct.pack("<I", offset) + record[8:])
        offset += len(sheet_stream(sheets[name]))
    return head + b"".join(fixed) + tail + b"".join(sheet_stream(sheets[n]) for n in names)


def label_sst(row: int, col: int, index: int) -> bytes:
    return _record(0x00FD, struct.pack("<HHHI", row, col, 0, index))


def number(row: int, col: int, value: float) -> bytes:
    return _record(0x0203, struct.pack("<HHHd", row, col, 0, value))


def ole(stream: bytes, name: str = "Workbook") -> bytes:
    """An OLE2 container (512-byte sectors) holding one stream."""
    size = max(len(stream), 4096)
    stream = stream + b"\0" * (-len(stream) % 512)
    if len(stream) < 4096:
        stream += b"\0" * (4096 - len(stream))  # above the mini-stream cutoff: plain sectors
    n = len(stream) // 512
    fat_sectors = 1
    while fat_sectors * 128 < fat_sectors + 1 + n:
        fat_sectors += 1
    free, end, fatsect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    fat = [fatsect] * fat_sectors + [end] + [fat_sectors + 2 + i for i in range(n - 1)] + [end]
    fat += [free] * (fat_sectors * 128 - len(fat))
    difat = list(range(fat_sectors)) + [free] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, fat_sectors, fat_sectors, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", *difat))

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = label.encode("utf-16-le") + b"\0\0"
        return (raw + b"\0" * (64 - len(raw)) + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", free, free, child) + b"\0" * 20 + b"\0" * 16
                + struct.pack("<III", start, size, 0))

    directory = entry("Root Entry", 5, 1, end, 0) + entry(name, 2, free, fat_sectors + 1, size)
    directory += (b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", free, free, free)
                  + b"\0" * 48) * 2
    return header + struct.pack(f"<{len(fat)}I", *fat) + directory + stream


def xls_string_bomb(dst: Path, *, length: int = 32_000, cells: int = 20_000, width: int = 100) -> Path:
    """An .xls whose one shared string of `length` characters is shown by `cells` cells."""
    grid = [label_sst(r, c, 0) for r in range(cells // width) for c in range(width)]
    dst.write_bytes(ole(xls_workbook({"Engagements": grid}, ["x" * length])))
    return dst


def xls_far_apart(dst: Path) -> Path:
    """An .xls of two numbers, A1 and IV65536: a grid of 16.7 million cells."""
    dst.write_bytes(ole(xls_workbook({"Engagements": [number(0, 0, 1), number(65535, 255, 1)]}, ["a"])))
    return dst
