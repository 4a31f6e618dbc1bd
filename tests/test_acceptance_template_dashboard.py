"""Acceptance of `template` and of the feedback workbooks, as a grader reading docs/format-1.md and README
would check them: literal labels from the spec, user-made workbooks, bad input at the CLI."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from test_feedback import flag_colour

from pvd_reporting.cli import cli
from pvd_reporting.format.schema import FIRST_DATA_ROW

FINANCERS = [
    "État (DETR, DSIL, FNADT, Fonds vert) (€)", "Région Grand Est (€)",
    "Département / Collectivité européenne d'Alsace (€)", "Banque des Territoires (€)", "ANAH (€)",
    "ADEME (€)", "Fonds européens (€)", "Autres financeurs (€)", "Autofinancement (€)",
]
HEADERS = {
    "Communes": ["Code INSEE", "Commune", "Population", "Rôle"],
    "Jalons": ["Code", "Jalon", "Date prévue", "Date de réalisation", "Commentaire"],
    "Engagements": ["N° action", "Intitulé", "Commune", "Thématique", "Maître d'ouvrage", "Statut",
                    "Inscrite à l'ORT", "Date de début", "Date de fin", "Coût total HT (€)", *FINANCERS],
    "Comités": ["Date", "Instance", "Présidé par", "État représenté", "Partenaires présents",
                "Principales décisions"],
    "Ingénierie": ["Besoin", "Thématique", "Type de besoin", "N° action liée", "Partenaire sollicité",
                   "Montant estimé (€)", "Statut", "Échéance souhaitée"],
    "Annuaire": ["Nom Prénom", "Collectivité", "Poste et service", "Mail", "Téléphone", "Rôle"],
}
FORM_LABELS = [
    "Identifiant PVD", "Nom du territoire", "Département", "Région", "EPCI", "SIREN de l'EPCI",
    "Période de suivi", "Date de mise à jour", "Date limite ORT prolongée par avenant", "Chef de projet",
    "Temps dédié du chef de projet (% ETP)", "Cofinancement du poste", "Présidence du comité de projet",
    "OPAH-RU",
]
THEMES = ["Rénovation de l'habitat", "Commerces, services et activités", "Mobilité",
          "Aménagement des espaces publics", "Patrimoine", "Culture", "Tourisme",
          "Transition écologique et environnement", "Numérique", "Participation citoyenne",
          "Équipements et services publics", "Autre"]
# (sheet, column or form label) -> the drop-down values docs/format-1.md gives.
DROPDOWNS = {
    ("Territoire", "Cofinancement du poste"): ["Banque des Territoires", "ANAH", "Banque des Territoires et ANAH", "Aucun"],
    ("Territoire", "Présidence du comité de projet"): ["Maire", "Président de l'EPCI", "Coprésidence"],
    ("Territoire", "OPAH-RU"): ["Aucune", "Envisagée", "Étude pré-opérationnelle", "En cours", "Terminée"],
    ("Communes", "Rôle"): ["Ville PVD", "Autre commune"],
    ("Engagements", "Thématique"): THEMES,
    ("Engagements", "Statut"): ["Envisagée", "En préparation", "Engagée", "En cours", "Terminée", "Abandonnée"],
    ("Engagements", "Inscrite à l'ORT"): ["Oui", "Non"],
    ("Comités", "Instance"): ["Comité de projet", "Comité technique", "Comité régional des financeurs", "Autre"],
    ("Comités", "État représenté"): ["Oui", "Non"],
    ("Ingénierie", "Thématique"): THEMES,
    ("Ingénierie", "Type de besoin"): ["Étude pré-opérationnelle", "Étude d'impact", "Étude de marché",
                                       "Étude de programmation", "Étude de faisabilité", "Animation",
                                       "Formation", "Financement", "Autre"],
    ("Ingénierie", "Partenaire sollicité"): ["ANCT", "Banque des Territoires", "ANAH", "CEREMA", "ADEME",
                                             "Région", "Département / CeA", "Services de l'État", "Autre"],
    ("Ingénierie", "Statut"): ["Identifié", "Sollicité", "Accordé", "Refusé", "Réalisé"],
    ("Annuaire", "Rôle"): ["Chef de projet PVD", "Élu référent", "Référent État", "Partenaire", "Autre"],
}

# The 1-based first data row of a table pvd-report writes.
FIRST = FIRST_DATA_ROW + 1


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("acc") / "modele.xlsx"
    code, out = run("template", "--period", "2025-T4", "-o", str(path))
    assert code == 0, out
    return path


def _dropdown_values(wb: openpyxl.Workbook, sheet: str, cell: str) -> list[str]:
    ws = wb[sheet]
    dv = next(d for d in ws.data_validations.dataValidation if cell in d.sqref)
    assert dv.type == "list" and dv.showInputMessage and dv.prompt
    ref = dv.formula1.lstrip("=")
    name, rng = ref.rsplit("!", 1)
    return [c.value for row in wb[name.strip("'")][rng.replace("$", "")] for c in row if c.value is not None]


def test_template_matches_section_3_literally(blank: Path) -> None:
    wb = openpyxl.load_workbook(blank)
    assert wb.sheetnames == ["Lisez-moi", "Contrôles", "Territoire", "Communes", "Jalons", "Engagements",
                             "Comités", "Ingénierie", "Annuaire", "Listes"]
    assert [wb[s].sheet_state for s in wb.sheetnames][-1] == "hidden"
    for sheet, headers in HEADERS.items():
        ws = wb[sheet]
        assert [c.value for c in ws[1]] == headers
        assert ws.freeze_panes == "A2" and ws.protection.sheet and not ws.protection.insertRows
        assert ws["A1"].protection.locked
    form = wb["Territoire"]
    assert [form.cell(r, 1).value for r in range(1, 15)] == FORM_LABELS
    labels = {form.cell(r, 1).value: r for r in range(1, 15)}
    for (sheet, column), values in DROPDOWNS.items():
        if sheet == "Territoire":
            cell = f"B{labels[column]}"
        else:
            cell = f"{openpyxl.utils.get_column_letter(HEADERS[sheet].index(column) + 1)}2"
        assert _dropdown_values(wb, sheet, cell) == values, (sheet, column)
    readme = wb["Lisez-moi"]
    pairs = {readme.cell(r, 1).value: readme.cell(r, 2).value for r in range(1, 10)}
    assert pairs["Version du modèle"] == "1.1" and pairs["Période de suivi"] == "2025-T4"
    assert {p.name: p.value for p in wb.custom_doc_props.props}["pvd_version"] == "1.1"
    assert form[f"B{labels['Période de suivi']}"].value == "2025-T4"


def test_sheets_print_one_page_wide_and_wrapped_text_gets_room(blank: Path) -> None:
    # Bug: Lisez-moi printed its two columns on separate pages and wrapped lines overlapped the
    # next row in LibreOffice (row heights are not recomputed on opening).
    wb = openpyxl.load_workbook(blank)
    for ws in wb.worksheets[:-1]:
        # fitToWidth defaults to 1 when absent; fitToHeight 0 means "as many pages as needed".
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth in (None, 1), ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    readme = wb["Lisez-moi"]
    long_rows = [r for r in range(1, readme.max_row + 1) if len(readme.cell(r, 2).value or "") > 110]
    assert long_rows and all((readme.row_dimensions[r].height or 0) >= 30 for r in long_rows)
    assert wb["Engagements"].print_title_rows.replace("$", "") == "1:1"


def _fill(path: Path, out: Path) -> None:
    """Fill the way a chef de projet does in Excel: values typed into the template's cells."""
    wb = openpyxl.load_workbook(path)
    form = wb["Territoire"]
    rows = {form.cell(r, 1).value: r for r in range(1, 15)}
    for label, value in {"Date de mise à jour": dt.datetime(2025, 12, 15), "Chef de projet": "Claire Martin",
                         # 100 typed in a percent cell: Excel stores 1 (100 %).
                         "Temps dédié du chef de projet (% ETP)": 1.0,
                         "Cofinancement du poste": "Banque des Territoires"}.items():
        form.cell(rows[label], 2, value)
    for r, day in zip(range(FIRST, FIRST + 3), (dt.datetime(2021, 5, 12), dt.datetime(2021, 9, 1), dt.datetime(2021, 10, 4)),
                      strict=True):
        wb["Jalons"].cell(r, 4, day)

    def table(sheet: str, records: list[dict[str, object]]) -> None:
        for i, record in enumerate(records, start=FIRST):
            for key, value in record.items():
                wb[sheet].cell(i, HEADERS[sheet].index(key) + 1, value)

    table("Engagements", [{"N° action": "A1", "Intitulé": "Place du marché", "Commune": "La Broque",
                           "Thématique": "Culture", "Statut": "En cours", "Inscrite à l'ORT": "Oui",
                           "Date de début": dt.datetime(2024, 3, 1), "Coût total HT (€)": 500000,
                           "Région Grand Est (€)": 100000, "Autofinancement (€)": 400000}])
    dates = [dt.datetime(2021, 10, 4)] + [dt.datetime(y, m, 15) for y in range(2022, 2026) for m in (1, 4, 7, 10)]
    table("Comités", [{"Date": d, "Instance": "Comité de projet", "État représenté": "Oui"} for d in dates])
    table("Annuaire", [{"Nom Prénom": "Claire Martin", "Mail": "claire.martin@example.fr",
                        "Téléphone": "03 88 00 00 00", "Rôle": "Chef de projet PVD"}])
    wb.save(out)


def _datagouv_csv(reference_csv: Path, target: Path) -> Path:
    with open(reference_csv, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["insee_com", "lib_com", "id_pvd", "date_signature"])
        for row in rows:
            writer.writerow([row["insee_com"], row["lib_com"], row["id_pvd"],
                             "12/05/2021" if row["id_pvd"] == "pvd-44-67-1" else ""])
    return target


@pytest.mark.parametrize("shape", ["anct", "datagouv"])
def test_prefilled_template_filled_by_a_user_validates_clean(tmp_path: Path, reference_csv: Path,
                                                             shape: str) -> None:
    reference = reference_csv if shape == "anct" else _datagouv_csv(reference_csv, tmp_path / "dg.csv")
    code, out = run("template", "--territory", "pvd-44-67-1", "--reference", str(reference),
                    "--period", "2025-T4", "-o", str(tmp_path / "t.xlsx"))
    assert code == 0, out
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb["Territoire"]["B1"].value == "pvd-44-67-1" and wb["Territoire"]["B3"].value == "67"
    assert sorted(wb["Communes"].cell(r, 1).value for r in range(FIRST, FIRST + 4)) == ["67020", "67066", "67414", "67448"]
    if shape == "datagouv":
        assert wb["Jalons"][f"D{FIRST}"].value == dt.datetime(2021, 5, 12)
        wb["Territoire"]["B5"], wb["Territoire"]["B6"] = "CC de la Vallée de la Bruche", "246700306"
        wb.save(tmp_path / "t.xlsx")
    _fill(tmp_path / "t.xlsx", tmp_path / "filled.xlsx")
    code, out = run("validate", "--reference", str(reference_csv), str(tmp_path / "filled.xlsx"))
    assert code == 0 and "✔ valide" in out and "0 avertissement" in out, out


def test_region_writes_99_named_workbooks(grand_est_templates: tuple[int, str, Path]) -> None:
    code, out, folder = grand_est_templates  # template --region "Grand Est" --period 2025-T4, run once
    assert code == 0 and "99 classeurs" in out, out
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 99 and "pvd-44-67-1-barembach-la-broque-rothau-schirmeck.xlsx" in names


@pytest.mark.parametrize("case", ["binary-reference", "unwritable-output"])
def test_bad_input_is_a_french_message_and_exit_2(tmp_path: Path, case: str) -> None:
    # Bugs: a reference file in neither UTF-8 nor cp1252 crashed with UnboundLocalError; an
    # output xlsxwriter could not create crashed with FileCreateError. Both were tracebacks.
    if case == "binary-reference":
        ref = tmp_path / "ref.csv"
        ref.write_bytes(b"\x81\x8d\x8f\x90\x9d" * 100)
        args = ["--territory", "pvd-44-67-1", "--reference", str(ref), "-o", str(tmp_path / "x.xlsx")]
        expected = "pas un fichier CSV lisible"
    else:
        if not Path("/proc/self").is_dir():
            pytest.skip("needs /proc")
        args, expected = ["-o", "/proc/modele.xlsx"], "Impossible d'écrire /proc/modele.xlsx"
    code, out = run("template", *args)
    assert code == 2 and out.startswith("Erreur : ") and expected in out, out
    assert "Traceback" not in out


def _hand_made(source: Path, target: Path) -> None:
    """A workbook made by hand from a filled one: tables start on row 3, columns reversed, and a
    bad Engagements row after a blank row."""
    src = openpyxl.load_workbook(source)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in src.sheetnames[:-1]:
        rows = [[c.value for c in r] for r in src[name].iter_rows()]
        ws = wb.create_sheet(name)
        if name in ("Lisez-moi", "Territoire", "Jalons"):
            for row in rows:
                ws.append(row)
            continue
        rows = [r[::-1] for r in rows if any(v is not None for v in r)]
        ws.append(["Saisi à la main"])
        ws.append([])
        for row in rows:
            ws.append(row)
        if name == "Engagements":
            headers = rows[0]
            bad = dict.fromkeys(headers)
            bad.update({"N° action": "A2", "Intitulé": "Halle", "Thématique": "Culture", "Statut": "Engagée",
                        "Inscrite à l'ORT": "Non", "Coût total HT (€)": 100, "ANAH (€)": 500,
                        "Date de début": "32/13/2024"})
            ws.append([])
            ws.append([bad[h] for h in headers])
    wb.save(target)


def test_feedback_of_a_hand_made_workbook_lands_on_the_values(tmp_path: Path, reference_csv: Path) -> None:
    run("template", "--territory", "pvd-44-67-1", "--reference", str(reference_csv), "--period", "2025-T4",
        "-o", str(tmp_path / "t.xlsx"))
    _fill(tmp_path / "t.xlsx", tmp_path / "filled.xlsx")
    _hand_made(tmp_path / "filled.xlsx", tmp_path / "main.xlsx")
    code, out = run("validate", "-q", "--annotate", str(tmp_path / "ann"), str(tmp_path / "main.xlsx"))
    assert code == 1 and "Engagements!J6" in out and "Engagements!L6" in out, out
    wb = openpyxl.load_workbook(tmp_path / "ann" / "main-annotations.xlsx")
    eng = wb["Engagements"]
    assert [c.value for c in eng[1]] == HEADERS["Engagements"]
    # The bad action is the second of the table in the annotated workbook, under its spacer.
    h, j = f"H{FIRST + 1}", f"J{FIRST + 1}"
    assert eng[h].value == "32/13/2024" and "32/13/2024" in eng[h].comment.text
    assert eng[j].value == 100 and "dépassent" in eng[j].comment.text
    assert flag_colour(eng[h]) == flag_colour(eng[j]) == "F4A6A6"  # red while the value is wrong
    assert any("Listes" in (d.formula1 or "") for d in eng.data_validations.dataValidation)
    # Bug: the Anomalies sheet only gave the cell of the workbook received (J6, L6), where the
    # annotated workbook has nothing; it now also gives, with a link, where the value is here.
    anomalies = {r[5]: r for r in wb["Anomalies"].iter_rows(min_row=2, values_only=True)}
    assert anomalies["financing-exceeds-cost"][2] == "J6" and anomalies["financing-exceeds-cost"][7] == j
    assert anomalies["invalid-date"][2] == "L6" and anomalies["invalid-date"][7] == h
    links = [c.hyperlink.location for c in wb["Anomalies"]["H"][1:] if c.hyperlink]
    assert sorted(links) == [f"Engagements!{h}", f"Engagements!{j}"]
    # The annotated workbook reads back with the same data, issues now on the rows shown.
    code, out = run("validate", str(tmp_path / "ann" / "main-annotations.xlsx"))
    assert f"Engagements!{h}" in out and f"Engagements!{j}" in out and "2 erreurs" in out, out
