"""What every rule of a workbook sees: its values as the reader parsed them, the update date and
period typed in it, the reference list, and the place of each cell an issue points at.

A value left None by the reader (blank or unreadable) is never the subject of a second issue:
the reader has already said what was wrong with it.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any

from pvd_reporting.format.french import fr_date, fr_number
from pvd_reporting.format.issues import Issue, IssueType, make_issue
from pvd_reporting.format.matching import norm, parse_a1
from pvd_reporting.format.periods import parse_label
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import ENGAGEMENTS, JALONS, MILESTONES, Schema
from pvd_reporting.format.vocabulary import NO, milestone_code
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.values import as_date


class Context:
    def __init__(self, data: WorkbookData, schema: Schema, reference: Reference | None = None) -> None:
        self.data = data
        self.schema = schema
        self.config = schema.config
        self.reference = reference
        territory = data.territory
        self.updated_on = as_date(territory.values.get("updated_on"))
        self.period = parse_label(territory.values.get("period"))
        # Carried from last quarter, with its update date typed: what the new quarter has made
        # out of date is a point to check, as of that date (the day its facts are stated).
        self.carried = data.carried_from is not None and self.updated_on is not None

    def overdue(self, day: date | None) -> bool:
        """A date before the update date."""
        return day is not None and self.updated_on is not None and day < self.updated_on

    @property
    def updated_text(self) -> str:
        return fr_date(self.updated_on) if self.updated_on is not None else ""

    def has(self, table: str) -> bool:
        """A sheet the reader could not find is already reported as missing-sheet."""
        return table in self.data.tables

    def rows(self, table: str) -> list[Record]:
        return self.data.rows(table)

    def label(self, table: str | None, key: str) -> str:
        if table is None:
            return self.schema.form.field(key).label
        return self.schema.table(table).column(key).label

    def sheet(self, table: str | None) -> str:
        """The schema's sheet name: a stable key in reports, whatever the tab's spelling in the file."""
        return self.schema.form.name if table is None else self.schema.table(table).name

    def issue(self, kind: IssueType, record: Record, table: str | None, key: str, /, **params: Any) -> Issue:
        """An issue on one cell of a record, its place taken from the record."""
        cell = record.cells.get(key)
        row = record.row
        if row is None and cell:
            where = parse_a1(cell)
            row = where[0] if where else None
        return make_issue(
            kind, sheet=self.sheet(table), cell=cell, row=row,
            column=self.label(table, key), value=record.raw.get(key), **params,
        )

    @cached_property
    def milestones(self) -> dict[str, Record]:
        """The row of each known jalon code (the first, when a code is written twice), in the
        order of the rows."""
        found: dict[str, Record] = {}
        known = {code for code, _ in MILESTONES}
        for record in self.rows(JALONS) if self.has(JALONS) else []:
            code = milestone_code(record.values.get("code"), record.values.get("label"))
            if code in known:
                found.setdefault(code, record)
        return found

    def milestone_of(self, record: Record) -> str | None:
        """The jalon code of this row, when it is that jalon's row."""
        code = milestone_code(record.values.get("code"), record.values.get("label"))
        return code if code and self.milestones.get(code) is record else None

    def realised_on(self, code: str) -> date | None:
        found = self.milestones.get(code)
        return as_date(found.values.get("done_on")) if found is not None else None

    @cached_property
    def money(self) -> tuple[str, ...]:
        """The financers' columns of Engagements."""
        return tuple(f.key for f in self.schema.financer_fields)

    @cached_property
    def action_ids(self) -> set[str]:
        """The N° of every action of Engagements, as compared."""
        return {norm(r.values.get("action_id")) for r in self.rows(ENGAGEMENTS)}


def same(value: Any, expected: str) -> bool:
    return value is not None and norm(value) == norm(expected)


def is_no(value: Any) -> bool:
    return value is False or (isinstance(value, str) and same(value, NO))


def number(value: Any) -> float | None:
    if type(value) is float:  # the usual amount, at once
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def as_points(raw: Any, read: Any) -> str | None:
    """A percent read as points (80 for 80 %) from a number above 1, or a text without « % »: the
    value read, for the report to say it; None when the value said what it was (0.8, « 80 % »)."""
    if read is None or raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        typed = raw.strip()
        return None if typed.endswith("%") or read == 0 or abs(_plain(typed) - read) > 1e-9 else fr_number(read)
    return fr_number(read) if isinstance(raw, (int, float)) and raw > 1 else None


def _plain(typed: str) -> float:
    try:
        return float(typed.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        return -1.0


def four_digits(raw: Any) -> bool:
    """An INSEE code typed with 4 digits (5518): the reader puts back a leading 0 (05518), which
    may be wrong (a Hautes-Alpes code for a Meuse one): said, as a point to check."""
    if isinstance(raw, bool):
        return False
    if isinstance(raw, (int, float)):
        return float(raw).is_integer() and 1000 <= raw <= 9999
    return isinstance(raw, str) and len(raw.strip().replace(" ", "")) == 4 and raw.strip().replace(" ", "").isdigit()
