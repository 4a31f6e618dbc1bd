"""Acceptance of `pvd-report validate` on workbooks made by hand, the way other people make them.

The workbooks here are written cell by cell with openpyxl, NOT from the schema: sheet names in
capitals or without accents, headers after a title row, columns in another order, labels with
a trailing " :" and typographic apostrophes, values as people type them (docs/format-1.md). Each test checks
what the JSON report says: code, severity, sheet, A1 cell, value.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from openpyxl.packaging.custom import StringProperty

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.cli import cli
from pvd_reporting.format.schema import Schema

NBSP, NNBSP = "\u00a0", "\u202f"
Grids = dict[str, list[list[Any]]]

FINANCERS = ["Etat (DETR, DSIL, FNADT, Fonds vert)", "Region Grand Est",
             "Departement / Collectivite europeenne d'Alsace", "Banque des Territoires", "ANAH", "ADEME",
             "Fonds europeens", "Autres financeurs", "Autofinancement"]


def hand_grids() -> Grids:
    """A valid territory, typed the way a person would: every spelling here is a variant."""
    return {
        "LISEZ-MOI": [["Suivi PVD"], [], ["Version du modele :", 1.0]],
        "TERRITOIRE": [
            ["Fiche territoire"], [],
            ["Identifiant PVD :", "PVD-44-67-3"],                      # row 3
            ["Nom du  territoire :", "Bouxwiller"],                    # row 4
            ["Departement", 67],                                       # row 5
            ["Région", "Grand Est"],
            ["EPCI", "CC Hanau"],
            ["SIREN de l’EPCI", 200067783],                            # row 8
            ["Periode de suivi", "T4 2025"],                           # row 9
            ["Date de mise a jour", "15/12/2025"],                     # row 10
            ["Date limite ORT prolongee par avenant", None],
            ["Chef de projet", "Claire Muller"],
            ["Temps dedie du chef de projet (% ETP)", "80 %"],         # row 13
            ["Cofinancement du poste", "banque des territoires"],
            ["Présidence du comité de projet", "MAIRE"],
            ["OPAH-RU", "en cours"],
        ],
        "Communes": [["Liste des communes"], [], [],
                     ["Commune", "Code INSEE", "Rôle", "Population"],      # header row 4
                     ["Bouxwiller", 67061, "ville pvd", f"3{NBSP}963"],
                     ["Ingwiller", "67222", "AUTRE COMMUNE", 4064]],
        "Jalons": [["Code", "Jalon", "Date prévue", "Date de réalisation", "Commentaire"],
                   ["J1", "Convention", datetime(2024, 10, 1), "01/10/2024", None],
                   ["J2", "Chef", None, "4 novembre 2024", None],
                   ["J3", "Comité", None, "10-12-2024", None],
                   ["J4", "Etat", None, "2025-06-27", None],
                   ["J5", "Strat", None, "1er décembre 2025", None],
                   ["J6", "Plan", None, None, None], ["J7", "CRF", None, None, None],
                   ["J8", "ORT", None, None, None]],
        "ENGAGEMENTS": [
            ["Plan d'actions"], [], [],
            ["N° action", "Intitulé", "Commune", "Thématique", "Maître d’ouvrage", "Statut",
             "Inscrite à l’ORT", "Date de début", "Date de fin", "Cout total HT", *FINANCERS],
            ["A1", "Halle", "Bouxwiller", "PATRIMOINE", "Commune", "ENGAGEE", "x", 45000, "15-03-2026",
             f"1{NBSP}200{NNBSP}000 €", f"300{NBSP}000", 200000, 150000, 100000, 0, 0, 0, 0, "450 000,00"],
            ["A2", "Etude", "Ingwiller", "commerces, services et activites", "CC", "en cours", "OUI",
             "2025-03-15", "15 mars 2026", "1.200.000,50", "1 200 000,50"],
            ["A3", "Place", "Ingwiller", "Aménagement des espaces publics", "Commune", "Terminée", "non",
             datetime(2025, 1, 1), datetime(2025, 6, 1), 1200000],
            ["A4", "Rien", "", "Autre", "Commune", "envisagee", ""],
        ],
        "Comites": [["Date", "Instance", "Présidé par", "Etat represente", "Partenaires présents",
                     "Principales décisions"],
                    [datetime(2024, 12, 10), "comite de projet", "Maire", "OUI"],
                    ["18/03/2025", "Comité de projet", "Maire", "x"],
                    ["24/06/2025", "COMITE DE PROJET", "Maire", "oui"],
                    ["23/09/2025", "Comité de projet", "Maire", "Oui"],
                    ["09/12/2025", "Comité de projet", "Maire", "Oui"]],
        "Ingenierie": [["Besoin", "Thematique", "Type de besoin", "N° action liée", "Partenaire sollicité",
                        "Montant estimé", "Statut", "Échéance souhaitée"],
                       ["Etude halle", "Patrimoine", "etude de programmation", "A1", "anct", "40 000 €",
                        "accorde", "28/02/2026"]],
        "Annuaire": [["Nom Prénom", "Collectivité", "Poste et service", "Mail", "Téléphone", "Rôle"],
                     ["Claire Muller", "CC", "Cheffe", "claire@x.fr", "+33 3 88 12 34 56", "chef de projet pvd"],
                     ["B", "CC", "Maire", "b@x.fr", "03.88.12.34.56", "elu referent"],
                     ["C", "Préfecture", "Référente", "c@x.fr", 388123456, "Référent Etat"]],
    }


def build(path: Path, grids: Grids, errors: dict[tuple[str, str], str] | None = None) -> Path:
    """Write grids as they are; `errors` puts formula error values (#DIV/0!…) in cells."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, grid in grids.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
    for (title, ref), text in (errors or {}).items():
        wb[title][ref].value = text
        wb[title][ref].data_type = "e"
    wb.custom_doc_props.append(StringProperty(name="pvd_version", value="1.0"))
    wb.save(path)
    return path


def validate(*args: str) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(cli, ["validate", "--format", "json", "--quiet", *args])
    assert "Traceback" not in result.output + result.stderr
    issues = json.loads(result.stdout)["workbooks"][0]["issues"] if result.stdout.strip() else []
    return result.exit_code, issues


def mutated(tmp_path: Path, change: Callable[[Grids], object], **kw: Any) -> Path:
    grids = hand_grids()
    change(grids)
    return build(tmp_path / "t.xlsx", grids, **kw)


def places(issues: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    return {(i["code"], i["sheet"], i["cell"]) for i in issues}


# --- valid but unusual input: no false positive ------------------------------------------------


def test_hand_made_workbook_is_valid(tmp_path: Path) -> None:
    code, issues = validate(str(build(tmp_path / "t.xlsx", hand_grids())))
    assert (code, issues) == (0, [])


def test_hand_made_values_understood(tmp_path: Path, schema: Schema) -> None:
    report = validate_workbook(build(tmp_path / "t.xlsx", hand_grids()), schema)
    data = report.data
    t = data.territory.values
    assert (t["id_pvd"], t["department"], t["siren"], t["period"], t["etp"]) == (
        "pvd-44-67-3", "67", "200067783", "2025-T4", 80.0)
    a1, a2 = data.tables["engagements"][:2]
    assert a1.values["cost"] == 1_200_000.0 and a1.values["status"] == "Engagée" and a1.values["in_ort"] is True
    assert str(a1.values["start_on"]) == "2023-03-15"  # the Excel serial 45000
    assert a2.values["cost"] == a2.values["fin_1"] == 1_200_000.5
    assert data.tables["communes"][0].values["population"] == 3963
    assert [r.values["phone"] for r in data.tables["annuaire"]] == ["03 88 12 34 56"] * 3


# --- bugs found and fixed, one test each --------------------------------------------------------


def test_value_under_no_header_is_reported(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda g: g["ENGAGEMENTS"][4].append("à vérifier"))
    code, issues = validate(str(path))
    assert code == 0
    assert [(i["code"], i["severity"], i["sheet"], i["cell"], i["value"]) for i in issues] == [
        ("unlabelled-value", "warning", "Engagements", "T5", "à vérifier")]


def test_value_under_no_header_on_otherwise_blank_row(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda g: g["Annuaire"].append([None] * 7 + ["note"]))
    _, issues = validate(str(path))
    assert places(issues) == {("unlabelled-value", "Annuaire", "H5")}


def test_formula_error_cells_are_issues_not_blanks(tmp_path: Path) -> None:
    path = build(tmp_path / "t.xlsx", hand_grids(), errors={
        ("ENGAGEMENTS", "J5"): "#DIV/0!", ("ENGAGEMENTS", "H6"): "#REF!", ("TERRITOIRE", "B4"): "#N/A"})
    code, issues = validate(str(path))
    assert code == 1
    got = {(i["code"], i["sheet"], i["cell"], i["value"]) for i in issues}
    assert got == {("invalid-number", "Engagements", "J5", "#DIV/0!"),
                   ("invalid-date", "Engagements", "H6", "#REF!"),
                   ("invalid-value", "Territoire", "B4", "#N/A")}  # not missing-cost / required-value


def test_unknown_milestone_code(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda g: g["Jalons"].append(["J9", "Autre étape", None, "01/02/2025"]))
    code, issues = validate(str(path))
    assert code == 1
    assert [(i["code"], i["sheet"], i["cell"], i["value"]) for i in issues] == [
        ("unknown-milestone", "Jalons", "A10", "J9")]


def test_duplicate_milestone(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda g: g["Jalons"].append(["J3", "Comité", None, "01/02/2025"]))
    _, issues = validate(str(path))
    assert places(issues) == {("duplicate-milestone", "Jalons", "A10")}


def test_milestone_codes_as_people_type_them(tmp_path: Path) -> None:
    def change(g: Grids) -> None:
        g["Jalons"][1][0] = "j1"
        g["Jalons"][4][0] = "J 4 - État des lieux"
        g["Jalons"][2], g["Jalons"][5] = g["Jalons"][5], g["Jalons"][2]  # rows reordered
    assert validate(str(mutated(tmp_path, change))) == (0, [])


def test_issue_names_the_schema_sheet_and_the_cell_of_the_files_own_tab(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda g: g["ENGAGEMENTS"][5].__setitem__(9, 10))  # A2 financed above cost
    _, issues = validate(str(path))
    [issue] = issues
    # `sheet` is the stable name of docs/format-1.md (machines key on it); the tab is found without regard to case.
    assert (issue["code"], issue["sheet"], issue["cell"]) == ("financing-exceeds-cost", "Engagements", "J6")
    assert load_workbook(path)["ENGAGEMENTS"][issue["cell"]].value == 10  # the cell truly points there


def test_values_in_messages_are_french(tmp_path: Path) -> None:
    def change(g: Grids) -> None:
        g["TERRITOIRE"][7][1] = 200067784  # Luhn key wrong, typed as a number
        _set("ENGAGEMENTS", 7, 9, True)(g)  # a ticked box in an amount
    _, issues = validate(str(mutated(tmp_path, change)))
    by_code = {i["code"]: i for i in issues}
    assert by_code["invalid-siren"]["value"] == 200067784
    assert "« 200067784 »" in by_code["invalid-siren"]["message"]
    assert by_code["invalid-number"]["cell"] == "J8"
    assert "« VRAI »" in by_code["invalid-number"]["message"]


def test_required_value_message_agrees_with_any_label(tmp_path: Path) -> None:
    _, issues = validate(str(mutated(tmp_path, lambda g: g["TERRITOIRE"][3].__setitem__(1, None))))
    [issue] = issues
    assert (issue["code"], issue["cell"]) == ("required-value", "B4")
    assert "renseignez-la" not in issue["message"]


# --- every validate code of README, the commands, produced with its severity and cell ------------------------------


def _set(sheet: str, row: int, col: int, value: Any) -> Callable[[Grids], None]:
    def change(g: Grids) -> None:
        line = g[sheet][row]
        line.extend([None] * (col + 1 - len(line)))
        line[col] = value
    return change


CASES: list[tuple[str, Callable[[Grids], None], str, str, str | None]] = [
    # code, change, severity, sheet, cell
    ("required-value", _set("Jalons", 1, 3, None), "error", "Jalons", "D2"),
    ("invalid-date", _set("ENGAGEMENTS", 4, 7, "32/13/2024"), "error", "Engagements", "H5"),
    ("invalid-number", _set("Communes", 4, 3, "beaucoup"), "error", "Communes", "D5"),
    ("invalid-percent", _set("TERRITOIRE", 12, 1, "150 %"), "error", "Territoire", "B13"),
    ("invalid-choice", _set("ENGAGEMENTS", 4, 5, "Fini"), "error", "Engagements", "F5"),
    ("invalid-insee", _set("Communes", 5, 1, "ABCDE"), "error", "Communes", "B6"),
    ("invalid-siren", _set("TERRITOIRE", 7, 1, "12345"), "error", "Territoire", "B8"),
    ("invalid-department", _set("TERRITOIRE", 4, 1, "20"), "error", "Territoire", "B5"),
    ("invalid-period", _set("TERRITOIRE", 8, 1, "2025-T5"), "error", "Territoire", "B9"),
    ("invalid-email", _set("Annuaire", 2, 3, "b@"), "error", "Annuaire", "D3"),
    ("invalid-phone", _set("Annuaire", 2, 4, "03 88 12 34"), "error", "Annuaire", "E3"),
    ("duplicate-action", _set("ENGAGEMENTS", 5, 0, "a1"), "error", "Engagements", "A6"),
    ("total-row", lambda g: g["ENGAGEMENTS"].append(["TOTAL", None, None, None, None, None, None, None,
                                                     None, 3_600_000]), "warning", "Engagements", "A9"),
    ("financing-exceeds-cost", _set("ENGAGEMENTS", 4, 9, 1000), "error", "Engagements", "J5"),
    ("missing-cost", _set("ENGAGEMENTS", 6, 9, None), "error", "Engagements", "J7"),
    ("dates-out-of-order", _set("ENGAGEMENTS", 6, 8, "01/12/2024"), "error", "Engagements", "I7"),
    ("missing-end-date", _set("ENGAGEMENTS", 6, 8, None), "warning", "Engagements", "I7"),
    ("milestones-out-of-order", _set("Jalons", 3, 3, "01/11/2024"), "warning", "Jalons", "D4"),
    ("date-in-future", _set("Jalons", 5, 3, "16/12/2025"), "warning", "Jalons", "D6"),
    ("etat-absent", _set("Comites", 2, 3, "non"), "warning", "Comités", "D3"),
    ("etp-below-threshold", _set("TERRITOIRE", 12, 1, 0.5), "error", "Territoire", "B13"),
    ("population-over-limit", _set("Communes", 4, 3, "25 000"), "warning", "Communes", "D5"),
    ("unknown-action", _set("Ingenierie", 1, 3, "A9"), "warning", "Ingénierie", "D2"),
    ("no-project-lead", _set("Annuaire", 1, 5, "Partenaire"), "warning", "Annuaire", None),
    ("unknown-column", _set("Comites", 0, 6, "Lieu"), "warning", "Comités", "G1"),
]


@pytest.mark.parametrize(("code", "change", "severity", "sheet", "cell"), CASES, ids=[c[0] for c in CASES])
def test_code(tmp_path: Path, code: str, change: Callable[[Grids], None], severity: str, sheet: str,
              cell: str | None) -> None:
    exit_code, issues = validate(str(mutated(tmp_path, change)))
    assert [(i["code"], i["severity"], i["sheet"], i["cell"]) for i in issues] == [(code, severity, sheet, cell)]
    assert exit_code == (1 if severity == "error" else 0)


def test_comite_after_update_is_an_error(tmp_path: Path) -> None:
    _, issues = validate(str(mutated(tmp_path, _set("Comites", 5, 0, "20/12/2025"))))
    assert [(i["code"], i["severity"], i["cell"]) for i in issues] == [("meeting-after-update", "error", "A6")]


def test_comite_cadence_one_per_missing_quarter(tmp_path: Path) -> None:
    _, issues = validate(str(mutated(tmp_path, lambda g: g["Comites"].pop(3))))
    assert [(i["code"], i["severity"], i["sheet"], i["cell"]) for i in issues] == [
        ("comite-cadence", "warning", "Comités", None)]
    assert "2025-T2" in issues[0]["message"]


def test_sheet_and_column_codes(tmp_path: Path) -> None:
    def change(g: Grids) -> None:
        del g["Annuaire"]
        for row in g["Communes"][3:]:
            del row[1]  # Code INSEE: a required column
    _, issues = validate(str(mutated(tmp_path, change)))
    assert ("missing-sheet", "Annuaire", None) in places(issues)
    assert ("missing-column", "Communes", None) in places(issues)
    assert all(i["severity"] == "error" for i in issues if i["code"].startswith("missing-"))


def test_template_version_from_another_major(tmp_path: Path) -> None:
    _, issues = validate(str(mutated(tmp_path, _set("LISEZ-MOI", 2, 1, "2.0"))))
    assert {(i["code"], i["severity"], i["value"]) for i in issues} >= {("template-version", "error", "2.0")}


def test_unknown_commune_with_reference(tmp_path: Path, reference_csv: Path) -> None:
    path = mutated(tmp_path, _set("Communes", 4, 1, "67999"))
    _, issues = validate(str(path), "--reference", str(reference_csv))
    assert ("unknown-commune", "Communes", "B5") in places(issues)


def test_file_codes(tmp_path: Path) -> None:
    (tmp_path / "texte.xlsx").write_text("bonjour")
    (tmp_path / "chiffre.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with (tmp_path / "gros.xlsx").open("wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(21 * 1024 * 1024)
    for name, code in (("texte", "unreadable-file"), ("chiffre", "encrypted-file"), ("gros", "file-too-large")):
        exit_code, issues = validate(str(tmp_path / f"{name}.xlsx"))
        assert exit_code == 1
        assert [(i["code"], i["sheet"], i["cell"]) for i in issues] == [(code, None, None)]


def test_other_financers_from_config(tmp_path: Path) -> None:
    config = tmp_path / "bretagne.toml"
    default = Path(__file__).resolve().parent.parent / "pvd_reporting" / "format" / "regions" / "44-grand-est.toml"
    config.write_text(default.read_text(encoding="utf-8").replace("Région Grand Est", "Région Bretagne"),
                      encoding="utf-8")

    def change(g: Grids) -> None:
        g["ENGAGEMENTS"][3][11] = "REGION BRETAGNE (€)"
        g["ENGAGEMENTS"][4][11] = 200_001  # 1 € over the cost: within the tolerance
    path = mutated(tmp_path, change)
    assert validate(str(path), "--config", str(config)) == (0, [])
    _, issues = validate(str(path))  # under Grand Est, the column is unknown and Région's is missing
    assert {(i["code"], i["cell"]) for i in issues} == {("unknown-column", "L4"), ("missing-column", None)}


# --- LibreOffice: the same workbooks saved as .ods and .xls -------------------------------------


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, soffice: str) -> Path:
    root = tmp_path_factory.mktemp("lo")
    build(root / "valide.xlsx", hand_grids())
    grids = hand_grids()
    grids["ENGAGEMENTS"][4][9] = "=1/0"
    grids["ENGAGEMENTS"][5][7] = "=#REF!+1"
    build(root / "formules.xlsx", grids)
    out = root / "out"
    profile = (root / "profile").as_uri()
    for target in ("ods", "xls"):
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
                        "--outdir", str(out), str(root / "valide.xlsx"), str(root / "formules.xlsx")],
                       check=True, capture_output=True, timeout=180)
    return out


@pytest.mark.parametrize("suffix", ["ods", "xls"])
def test_libreoffice_copy_is_valid(converted: Path, suffix: str) -> None:
    assert validate(str(converted / f"valide.{suffix}")) == (0, [])


def test_libreoffice_formula_errors_in_ods(converted: Path) -> None:
    _, issues = validate(str(converted / "formules.ods"))
    assert {(i["code"], i["sheet"], i["cell"], i["value"]) for i in issues} == {
        ("invalid-number", "Engagements", "J5", "#DIV/0!"), ("invalid-date", "Engagements", "H6", "#REF!")}
