"""Each recipe of docs/developpement.md, followed once: in a copy of the package (with the doc
script and the two generated docs), the files the recipe names are edited as it says, its
command (`python scripts/make_format_doc.py`) is run, then the copy's own commands (`template`,
`validate`, `consolidate`, `national`) in one process (tests/recipe_driver.py), and each test
checks what its recipe promises. A recipe that is wrong or incomplete fails here.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

REPO = Path(__file__).resolve().parent.parent
GUIDE = REPO / "docs" / "developpement.md"
DRIVER = Path(__file__).resolve().parent / "recipe_driver.py"
GENERATED = ("docs/format-1.md", "docs/controles.md")

# What the recipes add: a column read in the workbooks and totalled per territory, a sheet, a
# financer of a new national category, an output, a warning with its live check.
CO2 = "Gain carbone (t CO2)"
SHEET = "Formations"
FINANCER = "Fondation du patrimoine"
CATEGORY = "Mécénat"
WARNING = "title-too-long"
WARNING_LIVE = "Un intitulé d'action dépasse 80 caractères"
LONG_TITLE = "Réhabilitation " + "et aménagement " * 6 + "de la halle"


@dataclass
class Followed:
    root: Path
    work: Path
    touched: dict[str, set[str]] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    doc_output: str = ""

    def edit(self, recipe: str, path: str, old: str, new: str) -> None:
        """Replace the one `old` of `path` (in the copy) by `new`."""
        file = self.root / path
        text = file.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{path}: the recipe's anchor {old!r} is not there once"
        file.write_text(text.replace(old, new), encoding="utf-8")
        self.touched.setdefault(recipe, set()).add(path)

    def create(self, recipe: str, path: str, text: str) -> None:
        (self.root / path).write_text(text, encoding="utf-8")
        self.touched.setdefault(recipe, set()).add(path)

    def step(self, index: int) -> dict[str, Any]:
        done = self.steps[index]
        assert done["ok"], done.get("error") or done.get("output")
        return done


def _column(f: Followed) -> None:
    # 1. schema.py: a Field in the TableSheet; the format's minor version goes up.
    f.edit("column", "pvd_reporting/format/schema.py", "                *money,\n",
           f'                F("co2", "{CO2}", Kind.INTEGER, width=12,\n'
           '                  help="Émissions de CO2 évitées par l\'action, en tonnes."),\n'
           "                *money,\n")
    f.edit("column", "pvd_reporting/format/schema.py", 'FORMAT_VERSION = "1.1"', 'FORMAT_VERSION = "1.2"')
    # 3. A figure totalled per territory: one line of outputs/columns.py.
    f.edit("column", "pvd_reporting/outputs/columns.py",
           '        Column("Besoins", COUNT, 8, lambda t, x: t.needs, (T, E)),\n',
           '        Column("Besoins", COUNT, 8, lambda t, x: t.needs, (T, E)),\n'
           '        Column(schema.table(ENGAGEMENTS).column("co2").label, COUNT, 12,\n'
           '               lambda t, x: sum(r.values.get("co2") or 0 for r in t.report.data.rows(ENGAGEMENTS))\n'
           "               if t.report is not None and t.report.data is not None else None),\n")


def _sheet(f: Followed) -> None:
    # 1. schema.py: its key, in TABLE_KEYS at its place, and its TableSheet at the same place.
    f.edit("sheet", "pvd_reporting/format/schema.py",
           "TABLE_KEYS = (COMMUNES, JALONS, ENGAGEMENTS, COMITES, INGENIERIE, ANNUAIRE)\n",
           'FORMATIONS = "formations"\n'
           "TABLE_KEYS = (COMMUNES, JALONS, ENGAGEMENTS, COMITES, INGENIERIE, ANNUAIRE, FORMATIONS)\n")
    f.edit("sheet", "pvd_reporting/format/schema.py", "    )\n\n\n@dataclass(frozen=True)\nclass Schema:",
           f'        TableSheet(\n            key=FORMATIONS, name="{SHEET}",\n'
           '            purpose="Les formations suivies par l\'équipe du projet.", blank_rows=30,\n'
           "            columns=(\n"
           '                F("title", "Formation", required=True, width=30, help="Intitulé de la formation."),\n'
           '                F("date", "Date", Kind.DATE, width=13, help="Date de la formation (jj/mm/aaaa)."),\n'
           '                F("attendees", "Participants", Kind.INTEGER, width=12, help="Nombre de participants."),\n'
           "            ),\n        ),\n"
           "    )\n\n\n@dataclass(frozen=True)\nclass Schema:")


def _financer(f: Followed) -> None:
    # A new national category: one line of national_categories.toml, at its place.
    f.edit("financer", "pvd_reporting/format/national_categories.toml", '    "Autres",\n',
           f'    "{CATEGORY}",\n    "Autres",\n')
    # For the region: the whole `financers` list in the --config file, the new one with its category.
    shipped = (REPO / "pvd_reporting" / "format" / "regions" / "44-grand-est.toml").read_text(encoding="utf-8")
    financers = shipped[shipped.index("financers = ["):shipped.index("]\n", shipped.index("financers = [")) + 2]
    config = financers.replace("]\n", f'    {{ name = "{FINANCER}", category = "{CATEGORY}" }},\n]\n')
    (f.work / "region.toml").write_text(config, encoding="utf-8")


FICHE = '''"""La fiche de la région : chacun de ses chiffres sur une ligne."""

from __future__ import annotations

from pathlib import Path

from pvd_reporting.atomic import atomic_write_text
from pvd_reporting.consolidate.figures import region_figures
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.schema import Schema


def write_fiche(consolidation: Consolidation, output_dir: Path, schema: Schema) -> Path:
    lines = [f"{figure.label} : {figure.value}" for figure in region_figures(consolidation, schema)]
    return atomic_write_text(output_dir / f"fiche-{consolidation.region.period}.txt", "\\n".join(lines) + "\\n",
                             encoding="utf-8")
'''


def _output(f: Followed) -> None:
    # 1. outputs/<sortie>.py; 2. write_outputs calls it and lists the file written.
    f.create("output", "pvd_reporting/outputs/fiche.py", FICHE)
    f.edit("output", "pvd_reporting/pipeline/consolidate.py",
           "from pvd_reporting.outputs.anomalies import write_anomalies\n",
           "from pvd_reporting.outputs.anomalies import write_anomalies\nfrom pvd_reporting.outputs.fiche import write_fiche\n")
    f.edit("output", "pvd_reporting/pipeline/consolidate.py",
           "        written.append(write_dashboard(",
           "        written.append(write_fiche(result, output_dir, schema))\n        written.append(write_dashboard(")


def _warning(f: Followed) -> None:
    # One file: the rule's kind (code, severity, title, message), its Python on each row, and its
    # object with its doc sentence and live formula, in the module of its sheet.
    rule = "pvd_reporting/check/checks/engagements.py"
    f.edit("warning", rule, "NEGATIVE_AMOUNT = register(",
           f'TITLE_TOO_LONG = register(IssueType(\n    "{WARNING}", W_, "Intitulé trop long",\n'
           '    "Intitulé de {length} caractères : 80 au plus, le détail va ailleurs."))\n'
           "NEGATIVE_AMOUNT = register(")
    f.edit("warning", rule, "def action_overdue(",
           "def title_too_long(ctx: Context, record: Record) -> Iterator[Issue]:\n"
           '    title = record.values.get("title")\n'
           "    if isinstance(title, str) and len(title) > 80:\n"
           '        yield ctx.issue(TITLE_TOO_LONG, record, ENGAGEMENTS, "title", length=len(title))\n\n\n'
           "def action_overdue(")
    f.edit("warning", rule, "        Check(NEGATIVE_AMOUNT, table,",
           '        Check(TITLE_TOO_LONG, table, ("title",), "intitulé de plus de 80 caractères", title_too_long,\n'
           f'              live=Live("{WARNING_LIVE}", lambda r, k: f"(LEN({{shown(r[k])}})>80)")),\n'
           "        Check(NEGATIVE_AMOUNT, table,")
    f.edit("warning", rule, "from pvd_reporting.check.live import before_update, duplicate\n",
           "from pvd_reporting.check.formulas import shown\n"
           "from pvd_reporting.check.live import before_update, duplicate\n")


def _plan(w: Path) -> list[dict[str, Any]]:
    training = [{"title": "Urbanisme commercial", "date": "15/10/2025", "attendees": 4},
                {"title": "Montage d'une ORT", "date": "02/12/2025", "attendees": 2}]
    engagements = {"co2": [12, 30, None, None], "title": [None, LONG_TITLE, None, None]}
    return [
        {"workbook": str(w / "classeurs" / "a.xlsx"), "set": {"engagements": engagements},
         "rows": {"formations": training}},
        {"workbook": str(w / "ancien" / "b.xlsx"), "drop": {"engagements": ["co2"]}},
        {"workbook": str(w / "faux" / "c.xlsx"), "set": {"engagements": {"co2": ["beaucoup"]}},
         "rows": {"formations": [{"title": "Atelier", "date": "32/13/2025"}]}},
        {"cli": ["template", "-o", str(w / "modele.xlsx")]},
        {"cli": ["validate", str(w / "classeurs"), str(w / "ancien"), str(w / "faux"), "--format", "json"]},
        {"cli": ["consolidate", str(w / "classeurs"), "--output-dir", str(w / "sorties"), "--no-images",
                 "--no-cache", "--quiet"]},
        {"workbook": str(w / "financeurs" / "d.xlsx"), "config": str(w / "region.toml"),
         "set": {"engagements": {"fin_10": [0, 0, 5000, 0]}}},
        {"cli": ["template", "--config", str(w / "region.toml"), "-o", str(w / "modele-financeur.xlsx")]},
        {"cli": ["consolidate", str(w / "financeurs"), "--config", str(w / "region.toml"), "--output-dir",
                 str(w / "sorties-financeur"), "--no-images", "--no-cache", "--quiet"]},
        {"cli": ["national", str(w / "sorties-financeur" / "historique-pvd.sqlite"), "--output-dir",
                 str(w / "national")]},
        {"cli": ["validate", str(w / "faux"), "--annotate", str(w / "annotes"), "--quiet"]},
    ]


TEMPLATE, VALIDATE, CONSOLIDATE, FIN_TEMPLATE, FIN_CONSOLIDATE, NATIONAL, ANNOTATE = 3, 4, 5, 7, 8, 9, 10


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> Followed:
    base = tmp_path_factory.mktemp("recettes")
    root, work = base / "depot", base / "travail"
    shutil.copytree(REPO / "pvd_reporting", root / "pvd_reporting", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "make_format_doc.py", root / "scripts")
    (root / "docs").mkdir()
    for doc in GENERATED:
        shutil.copy(REPO / doc, root / doc)
    work.mkdir()
    f = Followed(root, work)
    for follow in (_column, _sheet, _financer, _output, _warning):
        follow(f)
    # The recipes' command: the generated docs, from the edited copy.
    made = subprocess.run([sys.executable, "scripts/make_format_doc.py"], cwd=root, capture_output=True,
                          text=True, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    f.doc_output = made.stdout
    plan = work / "plan.json"
    plan.write_text(json.dumps(_plan(work)), encoding="utf-8")
    ran = subprocess.run([sys.executable, str(DRIVER), str(root), str(plan)], cwd=work, capture_output=True,
                         text=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stderr
    f.steps = json.loads(ran.stdout)
    return f


def sheets(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def header_row(rows: list[list[Any]], label: str) -> tuple[int, int]:
    """(row, column) of the first cell equal to `label`."""
    return next((i, j) for i, row in enumerate(rows) for j, cell in enumerate(row) if cell == label)


def issues(f: Followed, file_name: str) -> list[dict[str, Any]]:
    report = json.loads(f.step(VALIDATE)["output"])
    return next(w["issues"] for w in report["workbooks"] if Path(w["path"]).name == file_name)


def database(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def recipe_text(title: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"### {title}\n")
    end = text.find("\n### ", start + 1)
    return text[start:end if end >= 0 else None]


# --- Ajouter une colonne à un onglet du classeur --------------------------------------------------


def test_a_column_added_to_the_schema_is_in_the_template_read_and_totalled(followed: Followed) -> None:
    template = sheets(followed.work / "modele.xlsx")
    assert CO2 in template["Engagements"][0]
    assert followed.step(VALIDATE)["exit"] == 1  # the wrong value below is an error
    summary = sheets(followed.work / "sorties" / "synthese-pvd-2025-T4.xlsx")
    row, col = header_row(summary["Engagements"], CO2)
    assert [r[col] for r in summary["Engagements"][row + 1:row + 5]] == [12, 30, "", ""]
    row, col = header_row(summary["Territoires"], CO2)
    received = next(r for r in summary["Territoires"][row + 1:] if r[0] == "pvd-44-67-3")
    assert received[col] == 42  # totalled per territory (outputs/columns.py)
    with database(followed.work / "sorties" / "historique-pvd.sqlite") as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(engagements)")]
        co2 = next(c for c in columns if "co2" in c or "carbone" in c)
        assert sorted(v for (v,) in db.execute(f'SELECT "{co2}" FROM engagements') if v is not None) == [12, 30]
    assert CO2 in (followed.root / "docs" / "format-1.md").read_text(encoding="utf-8")
    assert CO2 in (followed.work / "sorties" / "tableau-de-bord-2025-T4.html").read_text(encoding="utf-8")
    followed.step(ANNOTATE)
    annotated = sheets(next((followed.work / "annotes").glob("*.xlsx")))
    assert CO2 in annotated["Engagements"][0]


def test_a_column_added_is_checked_and_missing_from_an_older_workbook_is_a_warning(followed: Followed) -> None:
    wrong = [i for i in issues(followed, "c.xlsx") if i.get("sheet") == "Engagements" and "beaucoup" in i["message"]]
    letter = chr(ord("A") + _column_index(followed))
    assert [(i["severity"], i["cell"]) for i in wrong] == [("error", f"{letter}2")]
    older = issues(followed, "b.xlsx")
    assert [i["code"] for i in older if CO2 in i["message"]] == ["missing-column"]


def _column_index(f: Followed) -> int:
    template = sheets(f.work / "modele.xlsx")
    return template["Engagements"][0].index(CO2)


# --- Ajouter un onglet ----------------------------------------------------------------------------


def test_a_sheet_added_is_in_the_template_the_summary_and_the_history(followed: Followed) -> None:
    template = sheets(followed.work / "modele.xlsx")
    assert template[SHEET][0][:3] == ["Formation", "Date", "Participants"]
    bad = [i for i in issues(followed, "c.xlsx") if i.get("sheet") == SHEET]
    assert [(i["code"], i["cell"]) for i in bad] == [("invalid-date", "B2")]
    summary = sheets(followed.work / "sorties" / "synthese-pvd-2025-T4.xlsx")
    assert SHEET in summary
    row, col = header_row(summary[SHEET], "Formation")
    assert [r[col] for r in summary[SHEET][row + 1:]] == ["Urbanisme commercial", "Montage d'une ORT"]
    with database(followed.work / "sorties" / "historique-pvd.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM formations").fetchone() == (2,)


# --- Ajouter un financeur ou une catégorie nationale ------------------------------------------------


def test_a_financer_added_with_a_new_category_reaches_the_national_rollup(followed: Followed) -> None:
    template = sheets(followed.work / "modele-financeur.xlsx")
    money = next(h for h in template["Engagements"][0] if isinstance(h, str) and FINANCER in h)
    summary = sheets(followed.work / "sorties-financeur" / "synthese-pvd-2025-T4.xlsx")
    row, col = header_row(summary["Engagements"], money)
    assert [r[col] for r in summary["Engagements"][row + 1:row + 5]] == [0, 0, 5000, 0]
    assert followed.step(NATIONAL)["exit"] == 0, followed.step(NATIONAL)["output"]
    national = followed.work / "national"
    db_file = next(national.glob("*.sqlite"))
    with database(db_file) as db:
        found = [(t, c) for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                 for c in [r[1] for r in db.execute(f'PRAGMA table_info("{t}")')] if c == "financement_mecenat"]
        assert found, "no financement_mecenat column in the national history"
        table, column = found[0]
        assert 5000 in [v for (v,) in db.execute(f'SELECT "{column}" FROM "{table}"')]
    book = sheets(next(national.glob("*.xlsx")))
    assert any(CATEGORY in str(cell) for rows in book.values() for row in rows for cell in row)


# --- Ajouter une sortie -------------------------------------------------------------------------------


def test_an_output_added_is_written_in_the_output_folder(followed: Followed) -> None:
    assert followed.step(CONSOLIDATE)["exit"] == 0, followed.step(CONSOLIDATE)["output"]
    fiche = (followed.work / "sorties" / "fiche-2025-T4.txt").read_text(encoding="utf-8")
    assert "Territoires reçus : 1\n" in fiche and "Actions : 4\n" in fiche
    assert not list((followed.work / "sorties").glob(".tmp-*"))


# --- Ajouter un avertissement avec son contrôle en direct ------------------------------------------------


def test_a_warning_added_with_its_live_check_is_raised_shown_live_and_documented(followed: Followed) -> None:
    found = [i for i in issues(followed, "a.xlsx") if i["code"] == WARNING]
    assert [(i["severity"], i["sheet"], i["cell"]) for i in found] == [("warning", "Engagements", "B3")]
    controls = sheets(followed.work / "modele.xlsx")["Contrôles"]
    assert any(WARNING_LIVE in str(cell) for row in controls for cell in row)
    assert WARNING in (followed.root / "docs" / "format-1.md").read_text(encoding="utf-8")
    assert WARNING_LIVE in (followed.root / "docs" / "controles.md").read_text(encoding="utf-8")


def test_the_warning_recipe_names_the_files_it_took(followed: Followed) -> None:
    recipe = recipe_text("Ajouter un avertissement avec son contrôle en direct")
    package = sorted(p.removeprefix("pvd_reporting/") for p in followed.touched["warning"])
    tests = ["tests/test_rules.py", "tests/test_live_checks.py"]
    named = package + list(GENERATED) + tests
    for path in named:
        assert f"`{path}`" in recipe, path
    count = re.search(r"\*\*(\d+) fichiers\*\*", recipe)
    assert count is not None and int(count.group(1)) == len(named)


# --- every recipe is followed -------------------------------------------------------------------------

# Each recipe of the guide, and the test that follows it.
FOLLOWED_BY = {
    "Ajouter une colonne à un onglet du classeur": test_a_column_added_to_the_schema_is_in_the_template_read_and_totalled,
    "Ajouter un financeur ou une catégorie nationale": test_a_financer_added_with_a_new_category_reaches_the_national_rollup,
    "Ajouter un onglet": test_a_sheet_added_is_in_the_template_the_summary_and_the_history,
    "Ajouter une sortie": test_an_output_added_is_written_in_the_output_folder,
    # tests/test_columns.py adds the example's column and finds it in the four tables.
    "Ajouter une colonne à une table de sortie ou un chiffre de la région": None,
    "Ajouter un avertissement avec son contrôle en direct":
        test_a_warning_added_with_its_live_check_is_raised_shown_live_and_documented,
}


def test_every_recipe_of_the_guide_is_followed_by_a_test() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    recipes = text[text.index("## Recettes"):]
    assert re.findall(r"^### (.+)$", recipes, flags=re.M) == list(FOLLOWED_BY)
    assert "tests/test_columns.py" in recipe_text("Ajouter une colonne à une table de sortie ou un chiffre de la région")
    assert "Coût par action" in (REPO / "tests" / "test_columns.py").read_text(encoding="utf-8")
