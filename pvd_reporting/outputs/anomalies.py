"""`anomalies-<period>.json` and `.csv` (README, Ce que contient chaque sortie): the report of every workbook read, in the very
shape and columns of `validate --format json|csv`, so one tool can read both.

With `--no-contacts` the names, mails and phones of the annuaire are left out of these files
too: an issue on the Annuaire sheet keeps its code, cell and title but not the value it quotes,
and any other text that quotes a contact (a comité "présidé par" its chef de projet) is masked.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pvd_reporting.atomic import atomic_write_text
from pvd_reporting.consolidate.batch import OTHER_DEPARTMENT
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.issues import ISSUE_TYPES, Issue, Report, WorkbookReport
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import ANNUAIRE, Schema
from pvd_reporting.outputs.report import render_csv, render_json

CONTACT_KEYS = ("name", "email", "phone")  # the annuaire's fields left out with --no-contacts


class Masker:
    """With --no-contacts: the annuaire's names, mails and phones, and the chefs de projet, are
    also hidden where people typed them elsewhere (a comité's "Présidé par", a message)."""

    HIDDEN = "(contact masqué)"

    def __init__(self, consolidation: Consolidation, active: bool) -> None:
        found: set[str] = set()
        if active:
            for t in consolidation.territories:
                if isinstance(t.project_lead, str):
                    found.add(t.project_lead.strip())
            for report in consolidation.reports:
                data = report.data
                if data is None:
                    continue
                lead = data.territory.values.get("project_lead")
                if isinstance(lead, str):
                    found.add(lead.strip())
                for record in data.rows(ANNUAIRE):
                    for key in CONTACT_KEYS:
                        for value in (record.values.get(key), record.raw.get(key)):
                            if isinstance(value, str):
                                found.add(value.strip())
        self.secrets = sorted((v for v in found if len(v) >= 3), key=len, reverse=True)

    def __call__(self, value: Any) -> Any:
        if not self.secrets or not isinstance(value, str):
            return value
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, self.HIDDEN)
        return value


def mask_issue(issue: Issue, hide: Masker, annuaire_sheet: str) -> Issue:
    """The issue as it may be shown without contacts (a copy; the original is untouched)."""
    if issue.sheet and norm(issue.sheet) == norm(annuaire_sheet):
        # The value and the message may quote a name, a mail or a phone: keep the kind only.
        title = ISSUE_TYPES[issue.code].title if issue.code in ISSUE_TYPES else "Anomalie"
        return replace(issue, value=None, message=title)
    value = hide(issue.value) if isinstance(issue.value, str) else issue.value
    return replace(issue, value=value, message=hide(issue.message))


def anomalies_report(consolidation: Consolidation, schema: Schema, *, no_contacts: bool = False) -> Report:
    """Every workbook read, with the issues consolidation added (duplicates, other periods); a
    workbook of another département than those asked for, with that reason only (its own
    anomalies are its département's business)."""
    reports = [_in_scope(r) for r in consolidation.reports]
    if not no_contacts:
        return Report(workbooks=reports)
    hide = Masker(consolidation, True)
    annuaire_sheet = schema.table(ANNUAIRE).name
    return Report(workbooks=[
        replace(report, issues=[mask_issue(i, hide, annuaire_sheet) for i in report.issues])
        for report in reports
    ])


def _in_scope(report: WorkbookReport) -> WorkbookReport:
    other = [i for i in report.issues if i.code == OTHER_DEPARTMENT]
    return replace(report, issues=other) if other else report


def write_anomalies(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                    no_contacts: bool = False) -> tuple[Path, Path]:
    """Write both files atomically; returns (json path, csv path)."""
    period = consolidation.region.period
    report = anomalies_report(consolidation, schema, no_contacts=no_contacts)
    folder = Path(output_dir)
    json_path = atomic_write_text(folder / f"anomalies-{period}.json", render_json(report) + "\n")
    # The text begins with a BOM: Excel opens it as UTF-8 instead of guessing a code page.
    csv_path = atomic_write_text(folder / f"anomalies-{period}.csv", render_csv(report), encoding="utf-8")
    return json_path, csv_path
