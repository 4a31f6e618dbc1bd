"""Carry-forward (`template --from`): last quarter's workbook of a territory becomes its workbook
for the next one, in the current format, with every row of every sheet carried over.

Also the format migration path: the source is read by header (aliases included), so a workbook of
an earlier template lands in today's columns; a column the format does not know is kept beside
the others, and a value that was not understood is carried as typed and flagged on its cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pvd_reporting.consolidate.batch import (
    identify,
    period_sort_key,
    retained_period,
    settle_key,
)
from pvd_reporting.format.issues import Issue, IssueCode, Severity, WorkbookReport
from pvd_reporting.format.matching import col_letter, norm, parse_a1
from pvd_reporting.format.periods import parse_label, quarter_label
from pvd_reporting.format.reference import Reference, RefTerritory, same_region
from pvd_reporting.format.schema import COMMUNES, Schema
from pvd_reporting.outputs.workbook.formats import TemplateFormats
from pvd_reporting.outputs.workbook.skeleton import workbook_bytes, write_fast
from pvd_reporting.outputs.workbook.template import (
    file_name_of,
    filled_content,
    region_file_name,
    template_content,
)
from pvd_reporting.outputs.workbook.writer import Content, Mark
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.values import is_blank

if TYPE_CHECKING:
    from xlsxwriter import Workbook

NOT_UNDERSTOOD = "À vérifier : valeur non comprise au trimestre précédent"
# The header given to values that had none in the source, with their column letter.
NO_HEADER = "Sans en-tête"
UNLABELLED = IssueCode.UNLABELLED_VALUE
# Fields the new quarter sets itself: never flagged, never carried.
RESET_FIELDS = ("period", "updated_on")


def next_period(period: str) -> str:
    """`2025-T4` -> `2026-T1`."""
    quarter = parse_label(period)
    if quarter is None:
        raise ValueError(period)
    year, q = quarter
    return quarter_label((year + 1, 1) if q == 4 else (year, q + 1))


def carried_content(schema: Schema, data: WorkbookData, period: str,
                    issues: Iterable[Issue] = ()) -> Content:
    """`data` in the current template for `period`: same rows, blank update date, odd values
    flagged; with the source's `issues`, the values typed under no header are kept too."""
    content, placement = filled_content(schema, data)
    content.period = period
    content.stamp = True
    source = data.territory.values.get("period")
    content.carried_from = str(source) if source else "précédent"
    content.form["period"] = period
    content.form["updated_on"] = None
    form_rows = {f.key: i for i, f in enumerate(schema.form.fields)}
    for key in not_understood(data.territory, [f.key for f in schema.form.fields]):
        if key not in RESET_FIELDS:
            content.marks[(schema.form.key, form_rows[key], 1)] = _flag()
    for table in schema.tables:
        columns = {k: c for c, k in enumerate(table.keys)}
        for record in data.tables.get(table.key, []):
            row = placement.get((table.key, record.row))
            if row is None or record.is_total:
                continue
            for key in not_understood(record, table.keys):
                content.marks[(table.key, row, columns[key])] = _flag()
    extra = _extra_columns(schema, data, placement)
    for key, added in _unlabelled(schema, placement, issues).items():
        extra.setdefault(key, []).extend(added)
    if extra:
        content.anomalies = _chain(content.anomalies, _extra_writer(schema, extra))
    return content


def _flag() -> Mark:
    return Mark(Severity.WARNING, [NOT_UNDERSTOOD])


def not_understood(record: Record, keys: tuple[str, ...] | list[str]) -> list[str]:
    """Fields typed but not read: no parsed value, something in the cell."""
    return [k for k in keys if record.values.get(k) is None and not is_blank(record.raw.get(k))]


# table key -> [(header, {0-based row: value})]
ExtraColumns = dict[str, list[tuple[str, dict[int, str]]]]


def _extra_columns(schema: Schema, data: WorkbookData,
                   placement: dict[tuple[str, int | None], int]) -> ExtraColumns:
    """Columns the format does not know, by table, with each value at its row in the new workbook."""
    out: ExtraColumns = {}
    for table in schema.tables:
        prefix = f"{table.name} — "
        records = data.tables.get(table.key, [])
        for name, values in data.extra_columns.items():
            if not name.startswith(prefix):
                continue
            cells = {placement[(table.key, rec.row)]: value
                     for rec, value in zip(records, values, strict=False)
                     if value and (table.key, rec.row) in placement}
            out.setdefault(table.key, []).append((name.removeprefix(prefix), cells))
    return out


def _unlabelled(schema: Schema, placement: dict[tuple[str, int | None], int],
                issues: Iterable[Issue]) -> ExtraColumns:
    """Values the reader found under no header (`unlabelled-value`), by their source column, on
    the row of their record; a value on a row with nothing else has no record and stays in the
    source's anomalies."""
    keys = {norm(t.name): t.key for t in schema.tables}
    found: dict[str, dict[str, dict[int, str]]] = {}
    for issue in issues:
        key = keys.get(norm(issue.sheet))
        where = parse_a1(issue.cell)
        if issue.code != UNLABELLED or key is None or where is None or issue.value is None:
            continue
        row = placement.get((key, where[0]))
        if row is not None:
            column = f"{NO_HEADER} ({col_letter(where[1])})"
            found.setdefault(key, {}).setdefault(column, {})[row] = str(issue.value)
    return {key: list(columns.items()) for key, columns in found.items()}


def _extra_writer(schema: Schema, extra: ExtraColumns) -> Callable[[Workbook, TemplateFormats], None]:
    # Written once the sheets exist: xlsxwriter keeps every sheet open until the file is closed.
    def write(wb: Workbook, fmt: TemplateFormats) -> None:
        for key, columns in extra.items():
            table = schema.table(key)
            ws = wb.get_worksheet_by_name(table.name)
            if ws is None:
                continue
            for i, (header, cells) in enumerate(columns):
                c = len(table.columns) + i
                ws.set_column(c, c, max(12, min(len(header) + 2, 40)), fmt.unlocked)
                ws.write_string(0, c, header, fmt.header)
                for row, value in cells.items():
                    ws.write_string(row, c, value, fmt.unlocked)

    return write


def _chain(first: Callable[[Workbook, TemplateFormats], None] | None,
           then: Callable[[Workbook, TemplateFormats], None]) -> Callable[[Workbook, TemplateFormats], None]:
    if first is None:
        return then

    def both(wb: Workbook, fmt: TemplateFormats) -> None:
        then(wb, fmt)
        first(wb, fmt)

    return both


def write_carried(path: Path, schema: Schema, data: WorkbookData, period: str, *, force: bool = False,
                  issues: Iterable[Issue] = ()) -> Path:
    return write_fast(Path(path), schema, carried_content(schema, data, period, issues), force=force)


def carried_bytes(schema: Schema, data: WorkbookData, period: str, issues: Iterable[Issue] = ()) -> bytes:
    return workbook_bytes(schema, carried_content(schema, data, period, issues))


def prefilled_bytes(schema: Schema, territory: RefTerritory, period: str) -> bytes:
    return workbook_bytes(schema, template_content(schema, period=period, territory=territory))


# --- which workbook to carry ---------------------------------------------------------------------


@dataclass
class Source:
    key: str
    report: WorkbookReport
    period: str | None
    ref: RefTerritory | None = None

    @property
    def data(self) -> WorkbookData:
        data: WorkbookData = self.report.data
        return data

    @property
    def file_name(self) -> str:
        """As `--region` names it when the reference list knows the territory."""
        if self.ref is not None:
            return region_file_name(self.ref)
        values = self.data.territory.values
        name = str(values.get("name") or Path(self.report.path).stem)
        id_pvd = values.get("id_pvd")
        insee = next((str(r.values["insee"]) for r in self.data.rows(COMMUNES) if r.values.get("insee")), None)
        return file_name_of(id_pvd, name, values.get("siren") or insee)


@dataclass
class Selection:
    """The latest workbook of each territory, and what was set aside on the way."""

    sources: dict[str, Source] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, French reason)
    superseded: list[tuple[Source, Source]] = field(default_factory=list)  # (set aside, kept)


def update_key(source: Source) -> tuple[tuple[int, int], bool, date, int, str]:
    """Latest period retained, then as consolidation settles two versions of one period
    (batch.settle_key): content alone, never the file's time."""
    period = period_sort_key(source.period) if source.period else (0, 0)
    return (period, *settle_key(source.report))


def latest_workbooks(reports: list[WorkbookReport], schema: Schema,
                     reference: Reference | None = None) -> Selection:
    """Per territory, its latest readable workbook of this configuration's région."""
    selection = Selection()
    for report in reports:
        if report.data is None:
            reason = report.issues[0].message if report.issues else "classeur illisible"
            selection.refused.append((report.path, reason))
            continue
        own = report.data.territory.values.get("region")
        if not is_blank(own) and not same_region(own, schema.config.region_name):
            selection.refused.append((report.path, (
                f"classeur de la région « {own} », alors que la configuration est celle de "
                f"« {schema.config.region_name} » : reconduisez-le avec --config et la configuration "
                "de sa région.")))
            continue
        key, ref = identify(report, reference)
        # The period the workbook counts for, as consolidation places it (a mistyped year too).
        candidate = Source(key, report, retained_period(report), ref)
        kept = selection.sources.get(key)
        if kept is None:
            selection.sources[key] = candidate
            continue
        loser, winner = sorted((kept, candidate), key=update_key)
        selection.sources[key] = winner
        selection.superseded.append((loser, winner))
    return selection


def default_period(selection: Selection) -> str | None:
    """The quarter after the latest one found among the sources."""
    found = [s.period for s in selection.sources.values() if s.period]
    if not found:
        return None
    return next_period(max(found, key=period_sort_key))
