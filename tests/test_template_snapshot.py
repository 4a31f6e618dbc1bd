"""What a territory receives, read back from the file's own XML and compared with a snapshot.

`pvd-report template` writes the blank workbook; the library writes one pre-filled for a
territory. Each is unzipped and described as sorted, readable text (sheets, visibility,
protection, frozen panes, cells with their number format, column formats, data validations,
conditional formats, defined names, custom properties), with nothing that depends on the
xlsxwriter version or on a timestamp: style indexes are resolved to their number format,
shared strings to their text, docProps/app.xml is left out.

    PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_template_snapshot.py   # accept a change
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from snapshot import WORKBOOK_FILE, matches_snapshots, sheet_file

from pvd_reporting.cli import cli
from pvd_reporting.format.reference import RefCommune, RefTerritory
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.workbook.template import write_template

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "op": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
}
M = "{" + NS["m"] + "}"
# Parts whose content is the writer's own bookkeeping (application name and version, theme).
IGNORED_PARTS = ("docProps/app.xml",)
# The number formats Excel knows by id without declaring them (ECMA-376, 18.8.30).
BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%", 11: "0.00E+00",
    12: "# ?/?", 13: "# ??/??", 14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm", 37: "#,##0 ;(#,##0)",
    38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss",
    46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
}
# A pre-filled territory built here, so the snapshot never depends on a file outside the tests.
TERRITORY = RefTerritory(
    "pvd-44-67-1",
    [RefCommune("67066", "La Broque", 2663), RefCommune("67388", "Schirmeck", 2300)],
    region="Grand Est", department="67", department_name="Bas-Rhin", siren="200034247",
    epci="CC de la Vallée de la Bruche", signed_on=date(2021, 3, 19),
)


def q(tag: str) -> str:
    prefix, name = tag.split(":")
    return "{" + NS[prefix] + "}" + name


@dataclass
class Styles:
    """Cell style index -> what a person sees of it: its number format and whether it is locked."""

    formats: dict[int, str] = field(default_factory=dict)
    xfs: list[tuple[str, bool]] = field(default_factory=list)
    dxfs: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, xml: bytes) -> Styles:
        root = ET.fromstring(xml)
        styles = cls(dict(BUILTIN_FORMATS))
        for fmt in root.iterfind("m:numFmts/m:numFmt", NS):
            styles.formats[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        for xf in root.iterfind("m:cellXfs/m:xf", NS):
            fmt_id = int(xf.get("numFmtId", "0"))
            protection = xf.find("m:protection", NS)
            locked = protection is None or protection.get("locked", "1") not in ("0", "false")
            styles.xfs.append((styles.formats.get(fmt_id, f"builtin {fmt_id}"), locked))
        for dxf in root.iterfind("m:dxfs/m:dxf", NS):
            styles.dxfs.append(describe_dxf(dxf))
        return styles

    def describe(self, index: str | None) -> str:
        fmt, locked = self.xfs[int(index or 0)]
        return fmt + ("" if locked else ", unlocked")


def describe_dxf(dxf: ET.Element) -> str:
    """A conditional format's look: its colours and font weight, without the writer's indexes."""
    parts: list[str] = []
    for path, label in (("m:fill/m:patternFill/m:bgColor", "fill"), ("m:fill/m:patternFill/m:fgColor", "fill-fg"),
                        ("m:font/m:color", "font")):
        node = dxf.find(path, NS)
        if node is not None:
            parts.append(f"{label}={node.get('rgb') or node.get('theme') or node.get('indexed')}")
    if dxf.find("m:font/m:b", NS) is not None:
        parts.append("bold")
    numfmt = dxf.find("m:numFmt", NS)
    if numfmt is not None:
        parts.append(f"format={numfmt.get('formatCode')!r}")
    return " ".join(parts) or "(no look)"


def col_letters(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def shared_strings(zf: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    root = ET.fromstring(zf.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(M + "t")) for si in root.iterfind("m:si", NS)]


def cell_text(c: ET.Element, strings: list[str]) -> str | None:
    kind = c.get("t", "n")
    formula = c.find("m:f", NS)
    if formula is not None:
        return f"={formula.text or ''}"
    if kind == "inlineStr":
        return repr("".join(t.text or "" for t in c.iter(M + "t")))
    value = c.find("m:v", NS)
    if value is None or value.text is None:
        return None
    if kind == "s":
        return repr(strings[int(value.text)])
    if kind == "str":
        return repr(value.text)
    if kind == "b":
        return "TRUE" if value.text == "1" else "FALSE"
    return value.text


def as_date(serial: str | None) -> str:
    """` (1950-01-01)` for an Excel date serial, so a date bound reads as a date."""
    if serial is None or not serial.isdigit():
        return ""
    return f" ({date(1899, 12, 30) + timedelta(days=int(serial))})"


def row_ranges(rows: list[int]) -> str:
    out: list[str] = []
    start = prev = rows[0]
    for r in [*rows[1:], None]:
        if r is not None and r == prev + 1:
            prev = r
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if r is not None:
            start = prev = r
    return ",".join(out)


def describe_sheet(xml: bytes, styles: Styles, strings: list[str], *, with_cells: bool = True,
                   with_structure: bool = True) -> list[str]:
    root = ET.fromstring(xml)
    out: list[str] = []
    if with_structure:
        view = root.find("m:sheetViews/m:sheetView", NS)
        if view is not None and view.get("tabSelected") == "1":
            out.append("selected tab")
        pane = root.find("m:sheetViews/m:sheetView/m:pane", NS)
        if pane is not None:
            out.append("pane: " + " ".join(f"{k}={pane.get(k)}" for k in ("state", "xSplit", "ySplit", "topLeftCell")
                                            if pane.get(k)))
        else:
            out.append("pane: none")
        protection = root.find("m:sheetProtection", NS)
        if protection is None:
            out.append("protection: none")
        else:
            attrs = dict(protection.attrib)
            attrs["password"] = "set" if "password" in attrs or "hashValue" in attrs else "none"
            attrs.pop("hashValue", None)
            attrs.pop("saltValue", None)
            attrs.pop("spinCount", None)
            attrs.pop("algorithmName", None)
            out.append("protection: " + " ".join(f"{k}={v}" for k, v in sorted(attrs.items())))
        autofilter = root.find("m:autoFilter", NS)
        out.append(f"autofilter: {autofilter.get('ref') if autofilter is not None else 'none'}")
        setup = root.find("m:pageSetup", NS)
        if setup is not None:
            out.append("page setup: " + " ".join(f"{k}={v}" for k, v in sorted(setup.attrib.items())
                                                   if not k.startswith("{")))
        for col in root.iterfind("m:cols/m:col", NS):
            lo, hi = int(col.get("min", "1")), int(col.get("max", "1"))
            span = col_letters(lo) if lo == hi else f"{col_letters(lo)}:{col_letters(hi)}"
            hidden = ", hidden" if col.get("hidden") == "1" else ""
            out.append(f"column {span}: {styles.describe(col.get('style'))}{hidden}")
    if with_cells:
        # Cells grouped by column: the number format and lock of each written cell, then its value.
        by_column: dict[str, list[tuple[int, str, str | None]]] = {}
        for c in root.iterfind("m:sheetData/m:row/m:c", NS):
            ref = c.get("r", "")
            m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
            assert m, ref
            by_column.setdefault(m[1], []).append((int(m[2]), styles.describe(c.get("s")), cell_text(c, strings)))
        for letter in sorted(by_column, key=lambda s: (len(s), s)):
            cells = sorted(by_column[letter])
            formats: dict[str, list[int]] = {}
            for r, fmt, _ in cells:
                formats.setdefault(fmt, []).append(r)
            out.append(f"cells {letter}: " + "; ".join(f"{fmt} rows {row_ranges(rows)}"
                                                       for fmt, rows in sorted(formats.items())))
            out += [f"  {letter}{r} = {value}{as_date(value) if 'yy' in fmt else ''}"
                    for r, fmt, value in cells if value is not None]
    if with_structure:
        for dv in root.iterfind("m:dataValidations/m:dataValidation", NS):
            parts = [f"sqref={dv.get('sqref')}", f"type={dv.get('type', 'any')}"]
            kind = dv.get("type", "any")
            if kind not in ("any", "list", "custom"):
                parts.append(f"operator={dv.get('operator', 'between')}")
            if kind != "any":
                parts.append(f"errorStyle={dv.get('errorStyle', 'stop')}")
            for tag in ("formula1", "formula2"):
                node = dv.find(f"m:{tag}", NS)
                if node is not None:
                    parts.append(f"{tag}={node.text}{as_date(node.text) if kind == 'date' else ''}")
            for attr in ("allowBlank", "showInputMessage", "showErrorMessage"):
                parts.append(f"{attr}={dv.get(attr, '0')}")
            for attr in ("promptTitle", "prompt", "errorTitle", "error"):
                if dv.get(attr) is not None:
                    parts.append(f"{attr}={dv.get(attr)!r}")
            out.append("validation: " + " ".join(parts))
        for cf in root.iterfind("m:conditionalFormatting", NS):
            for rule in cf.iterfind("m:cfRule", NS):
                formulas = [f.text or "" for f in rule.iterfind("m:formula", NS)]
                dxf = rule.get("dxfId")
                look = styles.dxfs[int(dxf)] if dxf is not None else "(no look)"
                out.append(f"conditional format: sqref={cf.get('sqref')} type={rule.get('type')} "
                           f"operator={rule.get('operator', '-')} priority={rule.get('priority')} "
                           f"stop={rule.get('stopIfTrue', '0')} formulas={formulas} look: {look}")
        if root.find("m:legacyDrawing", NS) is not None:
            out.append("cell comments: yes")
    return out


@dataclass
class Description:
    head: list[str]
    sheets: list[tuple[str, list[str], list[str]]]  # name, structure lines, cell lines

    def text(self, *, cells: bool = True, structure: bool = True) -> list[str]:
        out = list(self.head) if structure else []
        for name, struct, content in self.sheets:
            out.append(f"--- sheet {name}")
            if structure:
                out += ["  " + line for line in struct]
            if cells:
                out += ["  " + line for line in content]
        return out


def describe_workbook(path: Path) -> Description:
    with zipfile.ZipFile(path) as zf:
        names = sorted(n for n in zf.namelist() if n not in IGNORED_PARTS)
        head = ["parts: " + " ".join(names)]
        styles = Styles.read(zf.read("xl/styles.xml"))
        strings = shared_strings(zf)
        workbook = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iterfind("rel:Relationship", NS)}
        sheets = workbook.findall("m:sheets/m:sheet", NS)
        sheet_names = [s.get("name", "") for s in sheets]
        head.append("sheets: " + " | ".join(f"{s.get('name')} ({s.get('state', 'visible')})" for s in sheets))
        protection = workbook.find("m:workbookProtection", NS)
        head.append("workbook protection: " + ("none" if protection is None else
                                               " ".join(f"{k}={v}" for k, v in sorted(protection.attrib.items()))))
        for dn in sorted(workbook.iterfind("m:definedNames/m:definedName", NS),
                         key=lambda d: (d.get("name", ""), d.text or "")):
            local = dn.get("localSheetId")
            scope = sheet_names[int(local)] if local is not None else "workbook"
            hidden = " hidden" if dn.get("hidden") == "1" else ""
            head.append(f"defined name: {dn.get('name')} [{scope}{hidden}] = {dn.text}")
        core = ET.fromstring(zf.read("docProps/core.xml"))
        head.append(f"title: {core.findtext('dc:title', '', NS)!r} creator: {core.findtext('dc:creator', '', NS)!r}")
        if "docProps/custom.xml" in zf.namelist():
            custom = ET.fromstring(zf.read("docProps/custom.xml"))
            for prop in custom.iterfind("op:property", NS):
                value = next(iter(prop), None)
                kind = value.tag.split("}")[1] if value is not None else "?"
                text = value.text if value is not None else None
                head.append(f"custom property: {prop.get('name')} ({kind}) = {text!r}")
        described: list[tuple[str, list[str], list[str]]] = []
        for sheet in sheets:
            target = targets[sheet.get(q("r:id"))]
            part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            xml = zf.read(part)
            described.append((sheet.get("name", ""),
                              describe_sheet(xml, styles, strings, with_cells=False),
                              describe_sheet(xml, styles, strings, with_structure=False)))
    return Description(head, described)


def snapshot_files(blank: Description, territory: Description) -> dict[str, str]:
    """`workbook.txt` (parts, sheets, defined names, properties of the blank) and one file per
    sheet: the blank's sheet, then the cells the pre-filled workbook has there if they differ."""
    def header(of: str) -> list[str]:
        return [f"# What a territory receives, {of}: read from the files' XML by tests/test_template_snapshot.py.",
                "# Regenerate with: PVD_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_template_snapshot.py", ""]

    blank_title = "=== blank: pvd-report template -o modele-pvd.xlsx"
    files = {WORKBOOK_FILE: "\n".join([*header("the workbook"), blank_title, *blank.head, ""])}
    filled = {name: cells for name, _, cells in territory.sheets}
    for name, structure, cells in blank.sheets:
        lines = [*header(f"sheet {name}"), blank_title, f"--- sheet {name}", *("  " + line for line in structure),
                 *("  " + line for line in cells), "",
                 f"=== pre-filled for {TERRITORY.id_pvd}, period 2025-T4: its cells here (the structure "
                 "equals the blank's)"]
        if filled.get(name) == cells:
            lines.append("  the blank's cells")
        else:
            lines += ["  " + line for line in filled.get(name, [])]
        files[sheet_file(name)] = "\n".join([*lines, ""])
    return files


@pytest.fixture(scope="module")
def described(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> tuple[Description, Description]:
    folder = tmp_path_factory.mktemp("snapshot")
    blank = folder / "modele-pvd.xlsx"
    result = CliRunner().invoke(cli, ["template", "-o", str(blank)])
    assert result.exit_code == 0, result.output
    filled = write_template(folder / "territoire.xlsx", schema, period="2025-T4",
                            territory=TERRITORY)
    return describe_workbook(blank), describe_workbook(filled)


def test_template_matches_the_snapshot(described: tuple[Description, Description]) -> None:
    files = snapshot_files(*described)
    assert len(files) == 1 + len(described[0].sheets)  # no two sheets share a file
    matches_snapshots(files, "template", "The template", __file__)


def test_prefilling_changes_cells_only(described: tuple[Description, Description]) -> None:
    blank, territory = described

    def structure(d: Description) -> list[str]:
        # The digest of the data written differs with the data: it is the one property that does.
        return [line for line in d.text(cells=False) if not line.startswith("custom property: pvd_empreinte")]

    assert structure(territory) == structure(blank)
    assert len(structure(blank)) == len(blank.text(cells=False)) - 1
    assert territory.text(structure=False) != blank.text(structure=False)


def test_the_description_sees_what_matters(described: tuple[Description, Description], schema: Schema) -> None:
    # A reader that silently found nothing would make the snapshot meaningless.
    blank, territory = described
    text = "\n".join(blank.text())
    assert [name for name, _, _ in blank.sheets] == list(schema.sheet_names)
    assert f"{schema.lists_name} (hidden)" in text
    assert "pane: state=frozen ySplit=1 topLeftCell=A2" in text
    assert "type=list" in text and "type=date" in text and "custom property: pvd_version" in text
    for table in schema.tables:
        for c in table.columns:
            assert repr(c.label) in text, c.label
    filled = "\n".join(territory.text(structure=False))
    assert repr(TERRITORY.epci) in filled and repr("2025-T4") in filled


def test_style_indexes_are_resolved_not_copied(described: tuple[Description, Description]) -> None:
    text = "\n".join(described[0].text())
    assert " s=" not in text and "style=" not in text
    assert "dd/mm/yyyy" in text and ", unlocked" in text
