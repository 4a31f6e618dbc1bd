"""The rule object (`Check`) and its live formula (`Live`), the configuration's spellings the rules
quote, and the reading checks every kind of cell gets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pvd_reporting.check.context import Context
from pvd_reporting.check.formulas import Condition, LiveCheck, Refs, Rows
from pvd_reporting.check.live import typed_condition
from pvd_reporting.format.issues import ISSUE_TYPES, Issue, IssueCode, IssueType, Severity
from pvd_reporting.format.schema import Field, Kind, Schema
from pvd_reporting.format.vocabulary import (
    BDT_COFINANCING,
    DONE_STATUS,
    ENGAGED_STATUSES,
    NO,
    ONGOING_STATUSES,
    PROJECT_COMMITTEE,
    PROJECT_LEAD_ROLE,
    PVD_TOWN,
)
from pvd_reporting.read.grid import CellParser, unreadable_code
from pvd_reporting.read.records import Record

# The Python of a rule: on each row of its sheet (the territory's form is one row), or on the
# sheet as a whole when it compares rows or sheets.
RowRule = Callable[[Context, Record], Iterable[Issue]]
SheetRule = Callable[[Context], Iterable[Issue]]


@dataclass(frozen=True)
class Live:
    """How the workbook checks a rule by itself (check/formulas.py's language)."""

    label: str  # the `Contrôles` row, in plain French
    condition: Condition
    flagged: tuple[str, ...] | None = None  # the cells counted, when not the rule's own fields
    rows: Rows = "all"
    also: tuple[str, ...] = ()
    per_row: bool = False
    skip_totals: bool = True
    factor: Callable[[Refs], str] | None = None


@dataclass(frozen=True)
class Check:
    """One rule: what `validate` raises (its kind: code, severity, title, message), on these fields
    of this sheet, said in French for the docs, computed in Python (`row` or `sheet`; a reading
    check names the `reader` that raises it), and live in the workbook when a spreadsheet can
    express it."""

    kind: IssueType
    sheet: str  # "territoire" or a table key
    fields: tuple[str, ...]  # the cells its issues point at; () for the sheet as a whole
    # The condition in French for the rules tables of docs/format-1.md ("" : the code's title);
    # None for a reading check, which the docs give with each column.
    doc: str | None
    row: RowRule | None = None
    whole: SheetRule | None = None
    live: Live | None = None
    reader: Callable[..., Any] | None = None
    severity: Severity | None = None  # when the rule overrides its code's severity
    # Where two rules point at one cell, the one raised first (lower): the order reports have kept.
    rank: int = 0

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def level(self) -> Severity:
        return self.severity or self.kind.severity

    def live_check(self) -> LiveCheck:
        assert self.live is not None
        live = self.live
        flagged = self.fields if live.flagged is None else live.flagged
        return LiveCheck(self.kind.code, self.sheet, live.label, flagged, live.condition, rows=live.rows,
                         also=live.also, severity=self.severity, per_row=live.per_row,
                         skip_totals=live.skip_totals, factor=live.factor)


class Words:
    """The configuration's own spelling of each value the rules quote (docs and live formulas)."""

    def __init__(self, schema: Schema) -> None:
        def listed(key: str, values: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(schema.canonical(key, v) or v for v in values)

        self.costed = listed("statut_action", ENGAGED_STATUSES)
        (self.done,) = listed("statut_action", (DONE_STATUS,))
        (self.committee,) = listed("instance", (PROJECT_COMMITTEE,))
        (self.lead,) = listed("role_contact", (PROJECT_LEAD_ROLE,))
        (self.town,) = listed("role_commune", (PVD_TOWN,))
        self.bdt = listed("cofinancement", BDT_COFINANCING)
        (self.no,) = listed("oui_non", (NO,))
        self.ongoing = listed("statut_action", ONGOING_STATUSES)


def quoted_list(values: tuple[str, ...]) -> str:
    words = [f"« {v} »" for v in values]
    return ", ".join(words[:-1]) + " ou " + words[-1] if len(words) > 1 else words[0]


def reading(code: IssueCode, sheet: str, fields: tuple[str, ...], reader: Callable[..., Any],
            live: Live | None = None) -> Check:
    """A check the reader makes as it parses a cell (its kind in format/issues.py)."""
    return Check(ISSUE_TYPES[code], sheet, fields, None, live=live, reader=reader)


# What a value typed or pasted in a cell of each kind must not be (a formula error counted too).
_TYPED_LABELS = {
    IssueCode.INVALID_DATE: "Une date est écrite comme du texte : retapez-la en jj/mm/aaaa",
    IssueCode.INVALID_NUMBER: "Un nombre est écrit comme du texte : retapez-le en chiffres",
    IssueCode.INVALID_PERCENT: "Un pourcentage est illisible ou hors de 0 à 100 %",
    IssueCode.INVALID_CHOICE: "Une valeur n'est pas dans la liste déroulante : choisissez-la dans la liste",
}
# Kinds with a check of their own (that also counts a formula error), and text, whose cells keep
# what is typed as text (« =1/0 » too): no formula error can occur there.
_OWN_CHECK = (Kind.SIREN, Kind.INSEE, Kind.EMAIL, Kind.PHONE, Kind.PVD_ID, Kind.DEPARTMENT, Kind.PERIOD, Kind.TEXT)


def typed(schema: Schema, sheet: str, fields: tuple[Field, ...]) -> list[Check]:
    """One reading check per `validate` code of these cells' kinds (the reader raises it)."""
    by_code: dict[IssueCode, list[Field]] = {}
    for f in fields:
        if f.kind not in _OWN_CHECK:
            by_code.setdefault(unreadable_code(f.kind), []).append(f)
    out = []
    for code, group in by_code.items():
        kinds = {f.key: f for f in group}
        out.append(reading(code, sheet, tuple(kinds), CellParser.parse,
                           Live(_TYPED_LABELS[code], typed_condition(schema, kinds))))
    return out
