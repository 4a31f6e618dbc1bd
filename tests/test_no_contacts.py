"""`--no-contacts` drops personal data by field (the schema's `personal` flag), not by looking for
known names: the demo's workbooks consolidated with it, then every output file (the xlsx's XML,
the history database dumped by sqlite3, the HTML, CSV and JSON) and the cache folder searched for
every name, mail and phone of the inputs' annuaires, and for a comité's « Présidé par »."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from pvd_reporting.format.issues import Issue, Severity
from pvd_reporting.format.schema import (
    ANNUAIRE,
    COMITES,
    ENGAGEMENTS,
    MASKED,
    Personal,
    build_schema,
    reads_as_organisation,
)
from pvd_reporting.outputs.privacy import ContactMask
from pvd_reporting.pipeline.consolidate import ConsolidationRun, run_consolidate

REPO = Path(__file__).resolve().parent.parent
WORKBOOKS = REPO / "workbooks"
# A comité chaired by someone who is in no annuaire of hers: string matching let her through.
CHAIR = "Émilie Wagner"


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> tuple[ConsolidationRun, Path, Path]:
    root = tmp_path_factory.mktemp("sans-contacts")
    out, cache = root / "sorties", root / "cache"
    run = run_consolidate(WORKBOOKS, output_dir=out, images=False, workers=1, cache_dir=cache, no_contacts=True)
    return run, out, cache


def secrets_of(run: ConsolidationRun) -> set[str]:
    """Every name, mail and phone typed in the inputs' annuaires, and each chef de projet."""
    found: set[str] = set()
    for report in run.result.reports:
        if report.data is None:
            continue
        lead = report.data.territory.values.get("project_lead")
        if isinstance(lead, str):
            found.add(lead.strip())
        for record in report.data.rows(ANNUAIRE):
            for key in ("name", "email", "phone"):
                for value in (record.values.get(key), record.raw.get(key)):
                    if isinstance(value, str) and value.strip():
                        found.add(value.strip())
    return found


def texts(folder: Path) -> dict[str, str]:
    """Each file under `folder` as text: an xlsx by its XML parts, a SQLite file by its dump."""
    out: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    out[f"{name}:{member}"] = z.read(member).decode("utf-8", "replace")
        elif path.suffix == ".sqlite":
            with sqlite3.connect(path) as db:
                out[name] = "\n".join(db.iterdump())
        else:
            out[name] = path.read_bytes().decode("utf-8", "replace")
    return out


def test_no_input_contact_reaches_any_output_or_the_cache(private: tuple[ConsolidationRun, Path, Path]) -> None:
    run, out, cache = private
    secrets = secrets_of(run)
    chairs = {r.values.get("chaired_by") for rep in run.result.reports if rep.data is not None
              for r in rep.data.rows(COMITES)}
    assert CHAIR in chairs and CHAIR not in secrets  # the test can fail: she is in the inputs
    assert len(secrets) > 50
    found = texts(out) | {f"cache/{k}": v for k, v in texts(cache).items()}
    kinds = {Path(name.split(":")[0]).suffix for name in found}
    assert {".xlsx", ".sqlite", ".html", ".csv", ".json"} <= kinds
    for secret in sorted(secrets | {CHAIR}):
        spelled = {secret, secret.replace("'", "&#39;"), secret.replace("'", "&apos;")}
        leaks = [name for name, text in found.items() if any(s in text for s in spelled)]
        assert not leaks, (secret, leaks)


def test_personal_fields_are_declared_in_the_schema() -> None:
    schema = build_schema()
    personal = {(t.key, f.key) for t in schema.tables for f in t.columns if f.personal is Personal.YES}
    assert {("comites", "chaired_by"), ("comites", "partners"), ("comites", "decisions"),
            ("jalons", "comment")} <= personal
    assert all(f.personal is Personal.YES for f in schema.table(ANNUAIRE).columns)
    assert schema.form.field("project_lead").personal is Personal.YES
    assert schema.table(ENGAGEMENTS).column("owner").personal is Personal.UNLESS_ORGANISATION


@pytest.mark.parametrize("owner, organisation", [
    ("Commune de Barr", True), ("CC du Pays de Bitche", True), ("SEM Alsace Habitat", True),
    ("Département du Bas-Rhin", True), ("État", True), ("EPF Grand Est", True),
    ("Jean Dupont", False), (CHAIR, False), ("M. Martin", False),
])
def test_a_maitre_d_ouvrage_is_kept_when_it_reads_as_an_organisation(owner: str, organisation: bool) -> None:
    schema = build_schema()
    mask = ContactMask(schema, True)
    field = schema.table(ENGAGEMENTS).column("owner")
    assert reads_as_organisation(owner) is organisation
    assert mask.value(field, owner) == (owner if organisation else MASKED)
    assert ContactMask(schema, False).value(field, owner) == owner


def test_an_issue_on_a_personal_field_keeps_its_code_and_cell_only() -> None:
    mask = ContactMask(build_schema(), True)
    chaired = Issue("invalid-value", Severity.ERROR, f"Valeur illisible : « {CHAIR} ».", "Comités", "C4", 4,
                    "Présidé par", CHAIR)
    shown = mask.issue(chaired)
    assert (shown.code, shown.cell, shown.value, shown.message) == ("invalid-value", "C4", None, "Valeur illisible")
    dated = Issue("invalid-date", Severity.ERROR, "Date illisible : « 32/13/2024 ».", "Comités", "A4", 4, "Date",
                  "32/13/2024")
    assert mask.issue(dated) is dated
    outside = Issue("unlabelled-value", Severity.WARNING, f"Valeur « {CHAIR} » dans une colonne sans en-tête.",
                    "Engagements", "Z2", 2, None, CHAIR)
    assert CHAIR not in mask.issue(outside).message
