"""Read any territory workbook (.xlsx, .xlsm, .ods, .xls) with python-calamine (docs/format-1.md).

`read_workbook` never raises for a user's file: whatever is wrong becomes an Issue. Only the
sheets of the schema are loaded; no openpyxl, no pandas on this path (speed, docs/vitesse.md).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from pvd_reporting.format.issues import Issue, IssueCode, Severity, make_issue
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import (
    CARRIED_LABEL,
    DIGEST_PROPERTY,
    FORMAT_MAJOR,
    VERSION_LABEL,
    VERSION_PROPERTY,
    Schema,
)
from pvd_reporting.read.active import active_content
from pvd_reporting.read.bounds import MAX_ROWS, WorkbookCost, measure_opened
from pvd_reporting.read.containers import Damaged, TooComplex
from pvd_reporting.read.formula_errors import CellError, error_cells_in
from pvd_reporting.read.grid import CellParser, has_headers_of, read_form, read_table
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.refusals import file_refusal, sheet_refusal, too_large
from pvd_reporting.read.safety import OpenedFile, library_quiet, open_checked
from pvd_reporting.read.values import is_blank

_VERSION_KEY = norm(VERSION_LABEL)
_CARRIED_KEY = norm(CARRIED_LABEL)
_NOT_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


def read_workbook(path: Path, schema: Schema, opened: OpenedFile | None = None,
                  ) -> tuple[WorkbookData | None, list[Issue]]:
    """The workbook's data and the issues found reading it; data is None when it cannot be read.

    The file is first checked by `safety.open_checked` (size, zip bomb, encryption), so callers
    need not do it again; a caller that already opened it passes `opened` (its bytes and zip
    serve every step: the file is read and its zip opened once).
    """
    own = opened is None
    if opened is None:
        opened, refused = open_checked(path)
        if refused is not None:
            return None, [refused]
    assert opened is not None
    try:
        return _read(opened, schema)
    except _NOT_FATAL:
        raise
    except BaseException as exc:  # noqa: BLE001 — calamine's Rust panics derive from BaseException
        return None, [_open_error(exc)]
    finally:
        if own:
            opened.close()


# What the spreadsheet library and zipfile say (in English) -> the French reason a user reads.
_LIBRARY_ERRORS = (
    ("cannot detect file format", "format non reconnu : ce n'est ni un classeur Excel ni un classeur LibreOffice"),
    ("crc", "archive endommagée (contrôle d'intégrité incorrect)"),
    ("zip", "archive tronquée ou endommagée"),
    ("xml", "contenu XML du classeur endommagé"),
    ("utf", "texte du classeur mal encodé"),
    ("eof", "fichier tronqué"),
)


def _open_error(exc: BaseException) -> Issue:
    name = type(exc).__name__
    text = str(exc).lower()
    if name == "PasswordError" or "password" in text or "encrypt" in text:
        return make_issue(IssueCode.ENCRYPTED_FILE)
    return make_issue(IssueCode.UNREADABLE_FILE, reason=library_reason(exc))


def library_reason(exc: BaseException) -> str:
    """A French reason for a reading error; the library's English text is never shown."""
    text = f"{type(exc).__name__} {exc}".lower()
    for needle, reason in _LIBRARY_ERRORS:
        if needle in text:
            return reason
    return "contenu endommagé ou inattendu"


def _read(opened: OpenedFile, schema: Schema) -> tuple[WorkbookData | None, list[Issue]]:
    # Contrôles and Listes are never loaded: what they would cost does not count.
    unread = {norm(schema.controls_name), norm(schema.lists_name)}
    try:
        cost = measure_opened(opened.zip, opened.data, unread)
    except TooComplex as exc:
        return None, [too_large(str(exc))]
    except Damaged as exc:
        return None, [make_issue(IssueCode.UNREADABLE_FILE, reason=str(exc))]
    # An .xls is read whole on opening: every sheet counts.
    refused = file_refusal(cost, unread if opened.zip is not None else ())
    if refused is not None:
        return None, [refused]
    xml = cost.xml if cost is not None else {}
    stated = active_content(opened.zip, opened.data, xml)
    with library_quiet():
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(opened.data))
        try:
            data, issues = _read_open(workbook, opened, schema, cost)
            return data, [*stated, *issues]
        finally:
            workbook.close()


def _read_open(workbook: Any, opened: OpenedFile, schema: Schema,
               cost: WorkbookCost | None = None) -> tuple[WorkbookData, list[Issue]]:
    issues: list[Issue] = []
    titles: dict[str, str] = {}
    for title in workbook.sheet_names:
        titles.setdefault(norm(title), title)
    parser = CellParser(schema, issues)
    data = WorkbookData(territory=Record(sheet=schema.form.name, row=None))
    # Lisez-moi, Contrôles and Listes are never parsed cell by cell: no need to look for errors there.
    skipped = {norm(schema.readme_name), norm(schema.controls_name), norm(schema.lists_name)}
    # A sheet beyond the limits is never loaded: its formula errors are not looked for either.
    beyond = {title for title, c in (cost.sheets.items() if cost else ()) if sheet_refusal(c, title)}
    errors = error_cells_in(opened.zip, lambda title: norm(title) not in skipped and title not in beyond,
                            cost.xml if cost is not None else None) if opened.zip is not None else {}
    measured = cost.sheets if cost is not None else {}
    known = skipped | {norm(schema.form.name), *(norm(t.name) for t in schema.tables)}
    # Tabs no sheet of the format is named after: where a renamed table sheet may be.
    others = [title for title in workbook.sheet_names if norm(title) not in known]

    def renamed(name: str) -> str | None:
        """The tab, under another name, whose header row is this table's (a sheet renamed)."""
        table = next((t for t in schema.tables if t.name == name), None)
        if table is None:
            return None
        for title in list(others):
            if sheet_refusal(measured.get(title), title) is not None:
                continue
            sheet = workbook.get_sheet_by_name(title)
            end = sheet.end
            if end is None or end[0] + 1 > MAX_ROWS:
                continue
            if has_headers_of(sheet.to_python(skip_empty_area=False), table):
                others.remove(title)
                issues.append(make_issue(IssueCode.RENAMED_SHEET, sheet=name, sheet_name=name, value=title))
                return title
        return None

    def grid_of(key: str, name: str, required: bool = True) -> list[list[Any]] | None:
        title = titles.get(norm(name)) or (renamed(name) if required else None)
        if title is None:
            if required:
                issues.append(make_issue(IssueCode.MISSING_SHEET, sheet=name, sheet_name=name))
            return None
        data.sheet_titles[key] = title
        refused = sheet_refusal(measured.get(title), name)
        if refused is not None:
            issues.append(refused)
            return None
        sheet = workbook.get_sheet_by_name(title)
        end = sheet.end
        height = 0 if end is None else end[0] + 1
        if height > MAX_ROWS:
            issues.append(make_issue(
                IssueCode.TOO_MANY_ROWS, sheet=name,
                reason=f"L'onglet « {title} » compte {height} lignes : au-delà de {MAX_ROWS} "
                "lignes il n'est pas lu. Supprimez les lignes inutiles.",
            ))
            return None
        grid: list[list[Any]] = sheet.to_python(skip_empty_area=False)
        for (r, c), text in errors.get(title, {}).items():
            if r < len(grid) and c < len(grid[r]) and is_blank(grid[r][c]):
                grid[r][c] = CellError(text)
        return grid

    readme = grid_of("readme", schema.readme_name, required=False)
    data.version = _version(readme, opened.zip)
    data.stamp = digest_property(opened.zip) if opened.zip is not None else None
    carried = _readme_value(readme, _CARRIED_KEY)
    data.carried_from = None if carried is None else str(carried).strip() or None
    version_issue = _check_version(data.version, schema)
    if version_issue:
        issues.append(version_issue)

    grid = grid_of(schema.form.key, schema.form.name)
    if grid is not None:
        data.territory = read_form(grid, schema.form, parser)
    for table in schema.tables:
        grid = grid_of(table.key, table.name)
        if grid is not None:
            data.tables[table.key] = read_table(grid, table, parser, data.extra_columns)
        else:
            data.tables[table.key] = []
    return data, issues


def _readme_value(readme: list[list[Any]] | None, key: str) -> Any:
    """The first value right of the Lisez-moi label whose normalised text is `key`."""
    for row in readme or []:
        for c, value in enumerate(row):
            if isinstance(value, str) and value and norm(value) == key:
                for right in row[c + 1:]:
                    if not is_blank(right):
                        return right
    return None


def _version(readme: list[list[Any]] | None, zf: zipfile.ZipFile | None) -> str | None:
    """The format version: the cell right of `Version du modèle` in Lisez-moi, else the property."""
    found = _readme_value(readme, _VERSION_KEY)
    if found is not None:
        return _version_text(found)
    return version_property(zf) if zf is not None else None


def _version_text(value: Any) -> str:
    # A version typed as 1.0 in a cell comes back as the float 1.0.
    if isinstance(value, float):
        return f"{value:.1f}" if value == int(value) else str(value)
    return str(value).strip()


def _custom_patterns(name: str) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """How a custom property is written in an .xlsx/.xlsm (docProps/custom.xml) and an .ods (meta.xml)."""
    return (re.compile(rb'<property[^>]*name="' + name.encode() + rb'"[^>]*>\s*<vt:[a-z0-9]+(?:\s[^>]*)?>([^<]*)</vt:',
                       re.IGNORECASE),
            re.compile(rb'<meta:user-defined[^>]*meta:name="' + name.encode() + rb'"[^>]*>([^<]*)</meta:user-defined>',
                       re.IGNORECASE))


_CUSTOM_XLSX, _CUSTOM_ODS = _custom_patterns(VERSION_PROPERTY)
_DIGEST_XLSX, _DIGEST_ODS = _custom_patterns(DIGEST_PROPERTY)
_MAX_PROPS_BYTES = 1024 * 1024


def read_version_property(path: Path) -> str | None:
    """The `pvd_version` custom property of an .xlsx/.xlsm (docProps/custom.xml) or .ods (meta.xml)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return version_property(zf)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError, NotImplementedError):
        return None


def version_property(zf: zipfile.ZipFile) -> str | None:
    """`read_version_property` of a zip already open."""
    return _property(zf, _CUSTOM_XLSX, _CUSTOM_ODS)


def digest_property(zf: zipfile.ZipFile) -> str | None:
    """The `pvd_empreinte` custom property: the digest of the data pvd-report wrote (read/digest.py)."""
    return _property(zf, _DIGEST_XLSX, _DIGEST_ODS)


def _property(zf: zipfile.ZipFile, xlsx: re.Pattern[bytes], ods: re.Pattern[bytes]) -> str | None:
    try:
        for part, pattern in (("docProps/custom.xml", xlsx), ("meta.xml", ods)):
            try:
                info = zf.getinfo(part)
            except KeyError:
                continue
            if info.file_size > _MAX_PROPS_BYTES:
                continue
            m = pattern.search(zf.read(info))
            if m:
                return m[1].decode("utf-8", "replace").strip() or None
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError, NotImplementedError):
        return None
    return None


def _check_version(version: str | None, schema: Schema) -> Issue | None:
    sheet = schema.readme_name
    if version is None:
        return make_issue(
            IssueCode.TEMPLATE_VERSION, sheet=sheet,
            reason=f"Version du modèle introuvable : le classeur est lu comme un modèle "
            f"version {schema.version}. Repartez du dernier modèle la prochaine fois.",
        )
    major = version.split(".")[0].strip()
    if major != FORMAT_MAJOR:
        return make_issue(
            IssueCode.TEMPLATE_VERSION, sheet=sheet, value=version, severity=Severity.ERROR,
            reason=f"Classeur au format {version}, alors que ce programme lit le format "
            f"{schema.version} : repartez du modèle actuel.",
        )
    return None
