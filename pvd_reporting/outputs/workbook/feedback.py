"""Feedback workbooks (`validate --annotate`): the territory's own data in a fresh template, each
flagged cell coloured (red error, orange warning) with its messages as a comment, and an
Anomalies sheet listing every issue."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlsxwriter.utility import quote_sheetname

from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.issues import (
    SEVERITY_LABELS,
    Issue,
    IssueCode,
    WorkbookReport,
    json_value,
)
from pvd_reporting.format.matching import a1, norm, parse_a1
from pvd_reporting.format.schema import FIRST_DATA_ROW, Schema
from pvd_reporting.outputs.workbook.formats import TemplateFormats, still_holds
from pvd_reporting.outputs.workbook.readme import ANOMALIES_NAME
from pvd_reporting.outputs.workbook.skeleton import workbook_bytes
from pvd_reporting.outputs.workbook.template import filled_content, template_content
from pvd_reporting.outputs.workbook.writer import (
    Content,
    Mark,
    Marks,
    write_workbook,
)
from pvd_reporting.read.records import WorkbookData

if TYPE_CHECKING:
    from xlsxwriter import Workbook

# "Cellule" is where the issue was in the workbook received; the last column is where the
# flagged value now is in this feedback workbook (rows and columns may have moved).
# The last column says, recalculated at each entry, whether the flagged cell still holds what was flagged.
ANOMALIES_HEADERS = ("Gravité", "Onglet", "Cellule du classeur reçu", "Colonne", "Valeur", "Code", "Message",
                     "Cellule dans ce classeur", "Encore à corriger ?")
ANOMALIES_WIDTHS = (14, 14, 12, 30, 24, 24, 90, 14, 22)
STILL, CHANGED = "Oui", "Non : case modifiée"
# Issues of the workbook received that the fresh template repairs by itself (a jalon row put back).
RESTORED_CODES = (IssueCode.MISSING_MILESTONE,)
RESTORED = "rétabli par le modèle"


def write_feedback(path: Path, schema: Schema, report: WorkbookReport, force: bool = False) -> Path:
    """The feedback workbook of one validated workbook; a blank template when it was unreadable."""
    return write_workbook(Path(path), schema, feedback_content(schema, report), force=force)


def feedback_bytes(schema: Schema, report: WorkbookReport) -> bytes:
    """The feedback workbook as bytes (a mail attachment), written in memory."""
    return workbook_bytes(schema, feedback_content(schema, report))


def feedback_content(schema: Schema, report: WorkbookReport) -> Content:
    data: WorkbookData | None = report.data
    if data is None:
        content = template_content(schema)
        content.anomalies = _anomalies_writer(report.issues)
        content.feedback = True
        return content
    content, placement = filled_content(schema, data)
    add_feedback(content, schema, data, placement, report.issues)
    return content


def write_annotated(path: Path, schema: Schema, data: WorkbookData, issues: list[Issue], *,
                    force: bool = False) -> Path:
    """The template filled with `data`, flagged cells coloured and commented, plus Anomalies."""
    content, placement = filled_content(schema, data)
    add_feedback(content, schema, data, placement, issues)
    return write_workbook(Path(path), schema, content, force=force)


def add_feedback(content: Content, schema: Schema, data: WorkbookData,
                 placement: dict[tuple[str, int | None], int], issues: list[Issue]) -> None:
    """Colour and comment the cells where the issues' values land; list them all in Anomalies."""
    content.marks = locate(schema, data, placement, issues)
    sheet_keys = _sheet_keys(schema, data)
    names = {schema.form.key: schema.form.name, **{t.key: t.name for t in schema.tables}}
    here: list[Target] = []
    for issue in issues:
        where = _locate(schema, data, placement, sheet_keys, issue)
        if issue.code in RESTORED_CODES or (where is not None and _fixed_cell(schema, *where)):
            # The fresh template has put it back: nothing left to correct in this workbook.
            here.append(RESTORED)
        else:
            here.append(None if where is None else
                        (names[where[0]], a1(where[1], where[2]), _written(schema, content, *where)))
    content.anomalies = _anomalies_writer(issues, here)
    content.feedback = True


# Where an issue's value is in the feedback workbook: (sheet name, A1, the value written there);
# RESTORED when the template put it back; None when it has no cell.
Target = tuple[str, str, Any] | str | None


def _written(schema: Schema, content: Content, key: str, row: int, column: int) -> Any:
    """The value the writer puts in this cell (a Oui/Non as its list's word)."""
    if key == schema.form.key:
        value = content.form.get(schema.form.fields[row].key)
    else:
        rows, i = content.tables.get(key, []), row - FIRST_DATA_ROW
        value = rows[i].get(schema.table(key).keys[column]) if 0 <= i < len(rows) else None
    if isinstance(value, bool):
        yes_no = schema.lists.get("oui_non", REQUIRED_VALUES["oui_non"])
        value = yes_no[0] if value else yes_no[1]
    return value


def _fixed_cell(schema: Schema, key: str, row: int, column: int) -> bool:
    """A cell the template writes itself: a Jalons code or label."""
    if key == schema.form.key:
        return False
    table = schema.table(key)
    return (bool(table.fixed_rows) and 0 <= row - FIRST_DATA_ROW < len(table.fixed_rows)
            and table.keys[column] in ("code", "label"))


def locate(schema: Schema, data: WorkbookData, placement: dict[tuple[str, int | None], int],
           issues: list[Issue]) -> Marks:
    """Marks by (sheet key, row, column) in the new workbook; issues without a cell get none."""
    sheet_keys = _sheet_keys(schema, data)
    marks: Marks = {}
    for issue in issues:
        where = _locate(schema, data, placement, sheet_keys, issue)
        if where is None:
            continue
        mark = marks.setdefault(where, Mark(issue.severity))
        mark.add(issue.severity, issue.message)
    return marks


def _locate(schema: Schema, data: WorkbookData, placement: dict[tuple[str, int | None], int],
            sheet_keys: dict[str, str], issue: Issue) -> tuple[str, int, int] | None:
    """(sheet key, 0-based row, 0-based column) of the issue's value in the new workbook."""
    if issue.row is None and issue.cell is None:
        return None
    key = sheet_keys.get(norm(issue.sheet))
    where: tuple[int, int] | None = None
    if key == schema.form.key:
        where = _locate_form(schema, data, issue)
    elif key is not None:
        where = _locate_table(schema, data, placement, key, issue)
    return None if where is None or key is None else (key, *where)


def _sheet_keys(schema: Schema, data: WorkbookData) -> dict[str, str]:
    keys = {norm(schema.form.name): schema.form.key}
    keys.update({norm(t.name): t.key for t in schema.tables})
    keys.update({norm(title): key for key, title in data.sheet_titles.items()})
    return keys


def _field_from_cell(cells: dict[str, str], cell: str | None) -> str | None:
    if not cell:
        return None
    return next((k for k, ref in cells.items() if ref.upper() == cell.upper()), None)


def _locate_form(schema: Schema, data: WorkbookData, issue: Issue) -> tuple[int, int] | None:
    fields = schema.form.fields
    index = {f.key: i for i, f in enumerate(fields)}
    by_label = {norm(f.label): f.key for f in fields}
    key = by_label.get(norm(issue.column)) if issue.column else None
    key = key or _field_from_cell(data.territory.cells, issue.cell)
    if key is None and issue.row is not None:
        key = next((k for k, ref in data.territory.cells.items() if _row_of(ref) == issue.row), None)
    return (index[key], 1) if key in index else None


def _locate_table(schema: Schema, data: WorkbookData, placement: dict[tuple[str, int | None], int],
                  key: str, issue: Issue) -> tuple[int, int] | None:
    table = schema.table(key)
    row = issue.row if issue.row is not None else _row_of(issue.cell or "")
    new_row = placement.get((key, row))
    if new_row is None:
        return None
    columns = {c.key: i for i, c in enumerate(table.columns)}
    by_label = {norm(c.label): c.key for c in table.columns}
    field_key = by_label.get(norm(issue.column)) if issue.column else None
    if field_key is None:
        record = next((r for r in data.tables.get(key, []) if r.row == row), None)
        field_key = _field_from_cell(record.cells, issue.cell) if record else None
    return new_row, columns.get(field_key or "", 0)


def _row_of(ref: str) -> int | None:
    where = parse_a1(ref)
    return where[0] if where else None


def _anomalies_writer(issues: list[Issue], here: list[Target] | None = None,
                      ) -> Callable[[Workbook, TemplateFormats], None]:
    def write(wb: Workbook, fmt: TemplateFormats) -> None:
        ws = wb.add_worksheet(ANOMALIES_NAME)
        for c, (header, width) in enumerate(zip(ANOMALIES_HEADERS, ANOMALIES_WIDTHS, strict=True)):
            ws.set_column(c, c, width, fmt.wrap if header == "Message" else None)
            ws.write_string(0, c, header, fmt.header)
        ws.freeze_panes(1, 0)
        for r, issue in enumerate(issues, start=1):
            marked = fmt.get("general", mark=issue.severity, bold=True)
            value = json_value(issue.value)
            ws.write_string(r, 0, SEVERITY_LABELS.get(issue.severity, str(issue.severity)), marked)
            for c, text in enumerate((issue.sheet, issue.cell, issue.column), start=1):
                ws.write_string(r, c, text or "")
            ws.write_string(r, 4, "" if value is None else str(value))
            ws.write_string(r, 5, issue.code)
            ws.write_string(r, 6, issue.message, fmt.wrap)
            target = here[r - 1] if here else None
            if isinstance(target, str):
                ws.write_string(r, 7, target)
                ws.write_string(r, 8, "Non")
            elif target is not None:
                sheet, cell, value = target
                ws.write_url(r, 7, f"internal:{quote_sheetname(sheet)}!{cell}", string=cell,
                             tip=f"Aller à {sheet}!{cell}")
                # Live: « Oui » while the cell holds what was flagged, as its colour says.
                holds = still_holds(cell, value)
                absolute = "$" + "$".join(re.match(r"([A-Z]+)(\d+)", cell).groups())  # type: ignore[union-attr]
                holds = holds.replace(absolute, f"{quote_sheetname(sheet)}!{absolute}")
                ws.write_formula(r, 8, f'=IF({holds},"{STILL}","{CHANGED}")', None, STILL)
        ws.autofilter(0, 0, max(len(issues), 1), len(ANOMALIES_HEADERS) - 1)
        ws.activate()

    return write
