"""The summary workbook and the anomalies files, re-read with openpyxl (and LibreOffice)."""

from __future__ import annotations

import csv
import json
import subprocess
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pytest
from conftest import lo_profile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from test_consolidate import batches, build_report

from pvd_reporting.consolidate.batch import consolidate
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.issues import IssueCode, make_issue
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.outputs.anomalies import write_anomalies
from pvd_reporting.outputs.summary.workbook import write_summary

SHEETS = ["Synthèse", "Territoires", "Jalons", "Engagements", "Comités", "Ingénierie", "Annuaire",
          "Anomalies", "Sources", "Évolution", "Changements", "Révisions"]
DATA_SHEETS = SHEETS[1:7]
FORMULAS = ['=HYPERLINK("http://exemple.invalid","clic")', "+33 6 12 34 56 78", "-", "@x", "=1+1"]
CONTACT = {"name": "Zoé Quintard-Formule", "organisation": "-", "position": "@x",
           "email": "zoe.quintard@exemple.fr", "phone": "+33 6 12 34 56 78", "role": "Chef de projet PVD"}


def _consolidation(schema: Schema) -> Consolidation:
    fin = schema.financer_fields[0].key
    actions = [{"action_id": "A1", "title": FORMULAS[0], "status": "En cours", "theme": "Patrimoine",
                "cost": 1234.56, fin: 1000.0, "start_on": date(2025, 1, 2)},
               {"action_id": "A2", "title": "=1+1", "status": "Abandonnée", "theme": "Mobilité", "cost": 10}]
    bad = dict(CONTACT, email="zoe.quintard@", name="Autre Personne")
    a = build_report("in/a.xlsx", schema, actions=actions, contacts=[CONTACT, bad], totals=1,
                     form={"name": "@Territoire"},
                     needs=[{"need": "Étude", "theme": "Patrimoine", "partner": "ANCT", "amount": 5000}],
                     comites=[(date(2025, 10, 2), "Comité de projet")],
                     done={"J1": date(2024, 8, 31), "J2": date(2024, 9, 1)})
    a.issues.append(make_issue(IssueCode.INVALID_EMAIL, sheet="Annuaire", cell="D3", row=3, column="Mail",
                               value="zoe.quintard@"))
    b = build_report("in/b.xlsx", schema, form={"id_pvd": "pvd-44-68-1", "department": "68"},
                     done={"J1": date(2023, 1, 1), "J8": date(2024, 1, 1)})
    dup = build_report("in/c.xlsx", schema, form={"updated_on": date(2025, 1, 1), "name": "@Territoire"})
    return consolidate([a, b, dup], schema)


@pytest.fixture(scope="module")
def written(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("summary")
    full = write_summary(_consolidation(schema), out / "synthese.xlsx", schema)
    private = write_summary(_consolidation(schema), out / "synthese-sans-contacts.xlsx", schema, no_contacts=True)
    json_path, csv_path = write_anomalies(_consolidation(schema), out, schema)
    return {"full": full, "private": private, "json": json_path, "csv": csv_path, "dir": out}


def _headers(ws: Worksheet) -> list[str]:
    return [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]


def _cells(path: Path) -> list[object]:
    wb = load_workbook(path)
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_sheets_tables_headers_and_frozen_panes(written: dict[str, Path]) -> None:
    wb = load_workbook(written["full"])
    assert wb.sheetnames == SHEETS
    for name in [*DATA_SHEETS, "Anomalies", "Sources"]:
        ws = wb[name]
        assert len(ws.tables) == 1, name
        table = next(iter(ws.tables.values()))
        assert table.autoFilter is not None
        assert ws.freeze_panes == "C2"
        headers = _headers(ws)
        assert [col.name for col in table.tableColumns] == headers
        if name in DATA_SHEETS:
            assert headers[:2] == ["Identifiant PVD", "Territoire"], name
            assert headers[-4:] == ["Contrôle", "Fichier", "Onglet", "Ligne"], name
    assert _headers(wb["Anomalies"]) == ["Identifiant PVD", "Territoire", "Fichier", "Gravité", "Code", "Onglet",
                                         "Cellule", "Colonne", "Valeur", "Message"]
    assert _headers(wb["Jalons"])[2:7] == ["Code", "Jalon", "Date prévue", "Date de réalisation", "Commentaire"]


def test_rows_source_control_and_formats(written: dict[str, Path], schema: Schema) -> None:
    wb = load_workbook(written["full"])
    eng = wb["Engagements"]
    headers = _headers(eng)
    rows = list(eng.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 2  # the total row is not there, the duplicate's rows neither
    first = dict(zip(headers, rows[0], strict=True))
    assert first["Fichier"] == "in/a.xlsx" and first["Onglet"] == "Engagements" and first["Ligne"] == 2
    assert first["Contrôle"] == "OK"
    assert first["Coût total HT (€)"] == 1234.56
    cost_cell = eng.cell(2, headers.index("Coût total HT (€)") + 1)
    assert "€" in cost_cell.number_format
    assert eng.cell(2, headers.index("Date de début") + 1).number_format == "dd/mm/yyyy"
    terr = wb["Territoires"]
    th = _headers(terr)
    by_file = {r[th.index("Fichier")]: dict(zip(th, r, strict=True)) for r in terr.iter_rows(min_row=2, values_only=True)}
    a = by_file["in/a.xlsx"]
    assert a["Statut ORT"] == "À risque" and a["Jours restants"] == 59
    assert a["Échéance ORT"].date() == date(2026, 2, 28)
    assert a["Coût total HT (€)"] == 1234.56  # the abandoned action's 10 € left out
    assert a["Reste à financer (€)"] == 234.56
    assert a["Actions : Abandonnée"] == 1 and a["Actions"] == 2
    assert a["Contrôle"] == "Erreur" and a["Onglet"] == "Territoire"
    assert by_file["in/b.xlsx"]["Statut ORT"] == "ORT signée"
    assert len(terr.conditional_formatting) >= 1
    sources = list(wb["Sources"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[6]) for r in sources] == [("in/a.xlsx", "Consolidé"), ("in/b.xlsx", "Consolidé"),
                                               ("in/c.xlsx", "Envoi en double")]
    codes = [r[4] for r in wb["Anomalies"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["invalid-email", "duplicate-submission"]


def test_charts_on_synthese(written: dict[str, Path]) -> None:
    with zipfile.ZipFile(written["full"]) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        drawing = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    assert len(charts) == 3
    assert "drawing" in drawing
    wb = load_workbook(written["full"])
    figures = {r[0]: r[1] for r in wb["Synthèse"].iter_rows(min_row=5, max_col=2, values_only=True) if r[0]}
    assert figures["Territoires reçus"] == 2
    assert figures["ORT signées"] == 1
    assert figures["Territoires à risque (90 jours ou moins)"] == 1
    assert figures["Coût total HT (€)"] == 1234.56


def test_formula_looking_text_stays_text(written: dict[str, Path]) -> None:
    wb = load_workbook(written["full"])
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value in FORMULAS or cell.value == "@Territoire":
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    found[cell.value] = ws.title
    assert set(found) == {*FORMULAS, "@Territoire"}
    with zipfile.ZipFile(written["full"]) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_no_contacts_leaves_no_name_mail_or_phone(written: dict[str, Path]) -> None:
    full = [str(v) for v in _cells(written["full"])]
    private = [str(v) for v in _cells(written["private"])]
    secrets = ["Zoé Quintard-Formule", "Autre Personne", "zoe.quintard@exemple.fr", "zoe.quintard@",
               "+33 6 12 34 56 78", "Claire Muller"]
    for secret in secrets:
        assert any(secret in v for v in full), secret  # the test can fail: they are in the full one
        assert not any(secret in v for v in private), secret
    wb = load_workbook(written["private"])
    headers = _headers(wb["Annuaire"])
    # Every annuaire field can hold a person (the schema's `personal` flag): only where each row was read.
    assert headers == ["Identifiant PVD", "Territoire", "Contrôle", "Fichier", "Onglet", "Ligne"]
    for key in ("comites", "jalons"):
        kept = _headers(wb[build_schema().table(key).name])
        assert not {"Présidé par", "Partenaires présents", "Principales décisions", "Commentaire"} & set(kept)
    assert "Maître d'ouvrage" in _headers(wb["Engagements"])


def test_anomalies_json_and_csv(written: dict[str, Path]) -> None:
    data = json.loads(written["json"].read_text("utf-8"))
    assert set(data) == {"valid", "stats", "workbooks"}
    assert data["stats"] == {"workbooks": 3, "valid": 2, "errors": 1, "warnings": 1}
    first = data["workbooks"][0]
    assert set(first) == {"path", "territory", "id_pvd", "period", "valid", "errors", "warnings", "issues"}
    assert set(first["issues"][0]) == {"code", "severity", "sheet", "cell", "row", "column", "value", "message"}
    assert data["workbooks"][2]["issues"][0]["code"] == "duplicate-submission"
    raw = written["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for French Excel
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == ["Fichier", "Territoire", "Identifiant PVD", "Période", "Code", "Gravité", "Onglet",
                       "Cellule", "Ligne", "Colonne", "Valeur", "Message"]
    assert [r[4] for r in rows[1:]] == ["invalid-email", "duplicate-submission"]
    assert [r[5] for r in rows[1:]] == ["Erreur", "Avertissement"]
    assert rows[2][1] == "'@Territoire"  # neutralised for spreadsheets
    assert not list(written["dir"].glob(".*tmp*"))  # nothing temporary left behind


def test_libreoffice_converts_the_summary_to_pdf(written: dict[str, Path], soffice: str, tmp_path: Path) -> None:
    profile = lo_profile()
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(written["full"])],
        capture_output=True, text=True, timeout=180,
    )
    pdf = tmp_path / "synthese.pdf"
    assert done.returncode == 0, done.stderr
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_summary_rows_and_euros_reconcile_with_the_view(schema: Schema, data: st.DataObject) -> None:
    c = consolidate(data.draw(batches(schema)), schema)
    with tempfile.TemporaryDirectory() as folder:
        wb = load_workbook(write_summary(c, Path(folder) / "s.xlsx", schema), read_only=True)
        eng = wb["Engagements"]
        rows = list(eng.iter_rows(values_only=True))
        wb.close()
    headers, body = list(rows[0]), [r for r in rows[1:] if any(v is not None for v in r)]
    assert len(body) == len(c.rows["engagements"])
    placed = {(r[headers.index("Fichier")], r[headers.index("Ligne")]) for r in body}
    assert placed == {(t.report.path if t.report else None, rec.row) for t, rec in c.rows["engagements"]}
    status, cost = headers.index("Statut"), headers.index("Coût total HT (€)")
    live = [r for r in body if r[status] != "Abandonnée"]
    assert sum(round((r[cost] or 0) * 100) for r in live) == round(c.region.cost * 100)
    for f in schema.financer_fields:
        col = headers.index(f.label)
        assert f.financer is not None
        assert sum(round((r[col] or 0) * 100) for r in live) == round(c.region.financing[f.financer] * 100)
