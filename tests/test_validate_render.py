"""Text, JSON and CSV renderings of a validation report."""

from __future__ import annotations

import csv
import io
import json

from pvd_reporting.format.issues import IssueCode, Report, WorkbookReport, make_issue
from pvd_reporting.outputs.report import (
    CSV_COLUMNS,
    CSV_HEADERS,
    plural,
    render_csv,
    render_json,
    render_text,
    safe_cell,
    verdict,
)


def _report() -> Report:
    bad = WorkbookReport(
        path="classeurs/saverne.xlsx", territory="Saverne", id_pvd="pvd-44-67-3", period="2025-T4",
        issues=[
            make_issue(IssueCode.INVALID_DATE, sheet="Engagements", cell="H12", row=12, column="Date de début",
                       value="32/13/2024"),
            make_issue(IssueCode.INVALID_DATE, sheet="Engagements", cell="I12", row=12, column="Date de fin",
                       value="=1+1"),
            make_issue(IssueCode.NO_PROJECT_LEAD, sheet="Annuaire"),
        ],
    )
    return Report([bad, WorkbookReport(path="classeurs/ok.xlsx", territory="Bouxwiller")])


def test_plural_and_verdict() -> None:
    assert [plural(n, "erreur") for n in (0, 1, 2)] == ["0 erreur", "1 erreur", "2 erreurs"]
    report = _report()
    assert verdict(report.workbooks[0]) == "✘ 2 erreurs, 1 avertissement"
    assert verdict(report.workbooks[1]) == "✔ valide"
    warned = WorkbookReport(path="x", issues=[make_issue(IssueCode.NO_PROJECT_LEAD, sheet="Annuaire")])
    assert verdict(warned) == "✔ valide, 1 avertissement"


def test_text() -> None:
    text = render_text(_report(), ["Fichier caché ignoré : .x.xlsx"], color=False)
    lines = text.splitlines()
    assert lines[0] == "classeurs/saverne.xlsx (Saverne · pvd-44-67-3 · 2025-T4) : ✘ 2 erreurs, 1 avertissement"
    assert lines[1].strip().startswith("Engagements!H12 — Date illisible : « 32/13/2024 »")
    assert lines[3].strip() == "Annuaire — Aucun contact avec le rôle « Chef de projet PVD » dans l'annuaire."
    assert lines[-1] == "2 classeurs contrôlés : 1 valide, 2 erreurs, 1 avertissement (1 fichier ignoré)"
    assert "\x1b[" not in text


def test_text_colours() -> None:
    text = render_text(_report(), [], color=True)
    assert "\x1b[31m" in text and "\x1b[33m" in text  # red errors, yellow warnings


def test_file_level_issue_has_no_place() -> None:
    wb = WorkbookReport(path="x.xlsx", issues=[make_issue(IssueCode.ENCRYPTED_FILE)])
    assert render_text(Report([wb]), [], color=False).splitlines()[1].strip().startswith("Le classeur est chiffré")


def test_json_is_the_report_dict() -> None:
    text = render_json(_report())
    assert json.loads(text) == _report().to_dict()
    assert "« 32/13/2024 »" in text  # ensure_ascii=False


def test_csv_one_row_per_issue_formulas_neutralised() -> None:
    text = render_csv(_report())
    assert text.startswith("\ufeff")  # UTF-8 with a BOM, for French Excel
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == ["Fichier", "Territoire", "Identifiant PVD", "Période", "Code", "Gravité", "Onglet",
                       "Cellule", "Ligne", "Colonne", "Valeur", "Message"]
    assert [CSV_HEADERS[c] for c in CSV_COLUMNS] == rows[0]
    assert rows[1][CSV_COLUMNS.index("severity")] in ("Erreur", "Avertissement")
    assert len(rows) == 4  # the valid workbook has no issue, so no row
    assert rows[2][CSV_COLUMNS.index("value")] == "'=1+1"
    assert rows[3][CSV_COLUMNS.index("cell")] == ""


def test_safe_cell() -> None:
    assert [safe_cell(v) for v in ("=A1", "+1", "-2", "@x", "ok", -3)] == ["'=A1", "'+1", "'-2", "'@x", "ok", -3]
