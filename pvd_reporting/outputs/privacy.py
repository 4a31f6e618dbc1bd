"""What `--no-contacts` leaves out of every output, by field (the schema's `personal` flag), never
by looking for names in the text: a name typed where no contact is expected is dropped with its
field, whether or not it is also in an annuaire.

- a data sheet (summary, SQLite) loses the columns that can hold a person: the whole annuaire,
  the comités' « Présidé par », « Partenaires présents » and « Principales décisions », the
  jalons' « Commentaire »; a « Maître d'ouvrage » that does not read as an organisation shows
  `MASKED`;
- an anomaly on such a field, on the annuaire, or quoting a value typed outside any column keeps
  its code, cell and title, not the value;
- a change (`Changements`) shows what the consolidation prepared for it (`Change.private`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pvd_reporting.consolidate.view import Change
from pvd_reporting.format.issues import ISSUE_TYPES, Issue, IssueCode
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import MASKED, Field, Personal, Schema, reads_as_organisation


class ContactMask:
    """The outputs' view of personal data: everything when inactive, else the schema's
    non-personal fields only."""

    def __init__(self, schema: Schema, active: bool) -> None:
        self.schema = schema
        self.active = active
        sheets = [(schema.form.name, schema.form.fields), *((t.name, t.columns) for t in schema.tables)]
        self._fields = {(norm(name), norm(f.label)): f for name, fields in sheets for f in fields}
        self._by_label: dict[str, list[Field]] = {}
        for _, fields in sheets:
            for f in fields:
                self._by_label.setdefault(norm(f.label), []).append(f)
        # A sheet made only of personal fields (the annuaire): every issue on it is masked.
        self._personal_sheets = {norm(name) for name, fields in sheets
                                 if all(f.personal is Personal.YES for f in fields)}
        self._sheet_names = {norm(name) for name, _ in sheets}

    def columns(self, key: str) -> list[Field]:
        """The fields of table `key` an output may show."""
        fields = list(self.schema.table(key).columns)
        return [f for f in fields if f.personal is not Personal.YES] if self.active else fields

    def value(self, f: Field, value: Any) -> Any:
        """`value` of field `f` as an output may show it."""
        if not self.active or f.personal is Personal.NO or value is None:
            return value
        if isinstance(value, str) and not value.strip():
            return value
        if f.personal is Personal.UNLESS_ORGANISATION and reads_as_organisation(value):
            return value
        return MASKED if f.personal is Personal.UNLESS_ORGANISATION else None

    def _hides(self, issue: Issue) -> bool:
        sheet = norm(issue.sheet)
        if sheet in self._personal_sheets or issue.code == IssueCode.UNLABELLED_VALUE:
            return True
        if not issue.column:
            return False
        column = norm(issue.column)
        found = self._fields.get((sheet, column))
        # A tab of another name: any field of that label that can hold a person.
        candidates = [found] if found is not None else [] if sheet in self._sheet_names else \
            self._by_label.get(column, [])
        return any(f.personal is Personal.YES or self.value(f, issue.value) != issue.value for f in candidates)

    def issue(self, issue: Issue) -> Issue:
        """The issue as an output may show it (a copy; the original is untouched)."""
        if not self.active or not self._hides(issue):
            return issue
        # The value and the message may quote a name, a mail or a phone: keep the kind only.
        title = ISSUE_TYPES[issue.code].title if issue.code in ISSUE_TYPES else "Anomalie"
        return replace(issue, value=None, message=title)

    def change(self, change: Change) -> tuple[Any, Any]:
        """(before, after) of a change as an output may show them."""
        return shown_change(change, self.active)


def shown_change(change: Change, no_contacts: bool) -> tuple[Any, Any]:
    """(before, after) of a change, as prepared for --no-contacts when it holds a personal field."""
    if no_contacts and change.private is not None:
        return change.private
    return change.before, change.after
