"""Reminders written by `consolidate`: relances-<period>.csv and one .eml draft per territory to
chase, parsed back with the standard library (headers, body, attachment read with calamine)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import baseline_rows, make_workbook
from python_calamine import CalamineWorkbook

from pvd_reporting.cache import ATTACHMENTS, ATTACHMENTS_FOLDER, SUFFIX, decode_entry
from pvd_reporting.cli import cli
from pvd_reporting.consolidate.chase import TO_FIX, Chase, to_chase
from pvd_reporting.errors import ConfigError
from pvd_reporting.format.config import load_config
from pvd_reporting.format.reference import load_reference
from pvd_reporting.format.schema import Schema, build_schema
from pvd_reporting.outputs.mail import attachment, draft, signed_by
from pvd_reporting.outputs.reminders import write_reminders
from pvd_reporting.pipeline.consolidate import ConsolidationRun, run_consolidate
from pvd_reporting.read.workbook import read_workbook

LEAD = "Élodie Gaël-Nørgaard"
LEAD_MAIL = "elodie.gael@hanau-lapetitepierre.fr"


@pytest.fixture(scope="module")
def inbox(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("relances") / "recus"
    rows = baseline_rows(schema)
    lead = {**rows["annuaire"][0], "name": LEAD, "email": LEAD_MAIL}
    # Bouxwiller sent its T3 workbook and nothing since: « Non reçu », contacts from T3.
    make_workbook(folder / "T3" / "bouxwiller.xlsx", schema,
                  territory={"period": "2025-T3", "updated_on": date(2025, 10, 8)},
                  rows={"annuaire": [lead, *rows["annuaire"][1:]]})
    # Barr sent T4 with an error: « À corriger ».
    bad = [dict(rows["engagements"][0], start_on="32/13/2024"), *rows["engagements"][1:]]
    make_workbook(folder / "T4" / "barr.xlsx", schema, territory=_identity("pvd-44-67-2", "Barr", "200034270"),
                  rows={"engagements": bad, "communes": _town("67021", "Barr")})
    # Molsheim sent a valid T4: not chased.
    make_workbook(folder / "T4" / "molsheim.xlsx", schema,
                  territory=_identity("pvd-44-67-6", "Molsheim", "246701064"),
                  rows={"communes": _town("67300", "Molsheim")})
    # Diemeringen sent T3 with no mail for its chef de projet: in the CSV, no draft.
    nomail = [dict(rows["annuaire"][0], email=None, name="Paul Zins"), rows["annuaire"][2]]
    make_workbook(folder / "T3" / "diemeringen.xlsx", schema,
                  territory={**_identity("pvd-44-67-5", "Diemeringen", "200067841"), "period": "2025-T3",
                             "updated_on": date(2025, 9, 30)},
                  rows={"annuaire": nomail, "communes": _town("67095", "Diemeringen")})
    return folder


def _identity(id_pvd: str, name: str, siren: str) -> dict[str, object]:
    return {"id_pvd": id_pvd, "name": name, "siren": siren}


def _town(insee: str, name: str) -> list[dict[str, object]]:
    return [{"insee": insee, "name": name, "population": 5000, "role": "Ville PVD"}]


def consolidated(inbox: Path, out: Path, **options: Any) -> ConsolidationRun:
    return run_consolidate(inbox, output_dir=out, images=False, workers=1, **options)


@pytest.fixture(scope="module")
def run(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> ConsolidationRun:
    return consolidated(inbox, tmp_path_factory.mktemp("sorties"))


def csv_rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for French Excel
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def parse(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def attached(message: EmailMessage, tmp_path: Path) -> tuple[str, Path]:
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    name = parts[0].get_filename()
    assert name
    path = tmp_path / name
    path.write_bytes(parts[0].get_content())
    return name, path


def test_csv_one_row_per_territory_to_chase(run: ConsolidationRun) -> None:
    assert run.reminders is not None
    rows = csv_rows(run.reminders.csv_path)
    assert run.reminders.csv_path.name == "relances-2025-T4.csv"
    assert list(rows[0]) == ["Identifiant PVD", "Territoire", "Département", "Motif", "Erreurs",
                             "Avertissements", "Chef de projet", "Mail", "Téléphone", "Dernier envoi"]
    assert [(r["Identifiant PVD"], r["Motif"]) for r in rows] == [
        ("pvd-44-67-2", TO_FIX), ("pvd-44-67-3", "Non reçu"), ("pvd-44-67-5", "Non reçu")]
    barr, boux, zins = rows
    assert (boux["Chef de projet"], boux["Mail"], boux["Téléphone"]) == (LEAD, LEAD_MAIL, "03 88 71 31 79")
    assert boux["Dernier envoi"] == "2025-T3 (08/10/2025)" and boux["Erreurs"] == ""
    assert (barr["Erreurs"], barr["Avertissements"]) == ("1", "0")
    assert barr["Dernier envoi"] == "2025-T4 (15/12/2025)"
    assert (zins["Chef de projet"], zins["Mail"]) == ("Paul Zins", "")
    assert run.reminders.line == "Relances : 3 territoires, 2 brouillons, 1 sans mail"


def test_not_received_draft_carries_last_quarter_forward(run: ConsolidationRun, tmp_path: Path) -> None:
    assert run.reminders is not None and run.reminders.folder is not None
    files = sorted(p.name for p in run.reminders.folder.iterdir())
    assert files == ["pvd-44-67-2-barr.eml", "pvd-44-67-3-bouxwiller-ingwiller.eml"]
    path = run.reminders.folder / files[1]
    head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # RFC 2047: every header is plain ASCII on the wire
    assert b"=?utf-8?" in head
    message = parse(path)
    assert message["X-Unsent"] == "1" and message["From"] is None
    assert message["Subject"] == "Petites villes de demain — suivi 2025-T4 : Bouxwiller - Ingwiller"
    to = message["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == (LEAD, LEAD_MAIL)
    cc = message["Cc"].addresses[0]
    assert (cc.display_name, cc.addr_spec) == ("Jean Schmitt", "mairie@bouxwiller.eu")
    text = text_of(message)
    assert text.startswith(f"Bonjour {LEAD},")
    assert "nous n'avons pas reçu" in text and "avant le 30/01/2026" in text
    assert "données de votre dernier envoi, pour 2025-T3, daté du 08/10/2025 : mettez-les à jour" in text
    name, workbook = attached(message, tmp_path)
    assert name == "pvd-44-67-3-bouxwiller-ingwiller.xlsx"
    data, _ = read_workbook(workbook, build_schema())
    assert data is not None
    assert data.territory.values["period"] == "2025-T4" and data.territory.values["updated_on"] is None
    assert [r.values["name"] for r in data.tables["annuaire"]][0] == LEAD


def test_to_fix_draft_lists_the_errors_and_attaches_the_feedback(run: ConsolidationRun, tmp_path: Path) -> None:
    assert run.reminders is not None and run.reminders.folder is not None
    message = parse(run.reminders.folder / "pvd-44-67-2-barr.eml")
    text = text_of(message)
    assert "Il comporte 1 erreur à corriger :" in text
    assert "- Engagements!H2 — Date illisible : « 32/13/2024 »" in text
    assert "avant le 30/01/2026" in text
    name, workbook = attached(message, tmp_path)
    assert name == "pvd-44-67-2-barr-a-corriger.xlsx"
    sheets = CalamineWorkbook.from_path(str(workbook)).sheet_names
    assert "Anomalies" in sheets and "Engagements" in sheets


def test_no_contacts_csv_without_contacts_and_no_drafts(inbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "sorties"
    first = consolidated(inbox, out)
    assert first.reminders is not None and first.reminders.folder is not None
    assert first.reminders.folder.is_dir()
    run = consolidated(inbox, out, no_contacts=True)
    assert run.reminders is not None and run.reminders.folder is None
    rows = csv_rows(run.reminders.csv_path)
    assert "Mail" not in rows[0] and "Chef de projet" not in rows[0] and len(rows) == 3
    assert LEAD not in run.reminders.csv_path.read_text("utf-8-sig")
    # The drafts of the earlier run held the contacts: gone too.
    assert not (out / "relances-2025-T4").exists()
    assert run.reminders.line == "Relances : 3 territoires, sans brouillon (--no-contacts)"


def test_attachment_over_the_limit_is_left_out_and_said(run: ConsolidationRun, tmp_path: Path) -> None:
    done = write_reminders(run.result, tmp_path, build_schema(), max_bytes=1000)
    assert done.folder is not None and done.without_attachment == 2
    assert "2 sans pièce jointe (plus de 10 Mo)" in done.line
    message = parse(done.folder / "pvd-44-67-3-bouxwiller-ingwiller.eml")
    assert list(message.iter_attachments()) == []
    assert "dépasse 10 Mo : il n'est pas joint" in text_of(message)


def test_reminder_settings_from_the_configuration(inbox: Path, tmp_path: Path) -> None:
    config = tmp_path / "region.toml"
    config.write_text('[relances]\nsender = "Référente PVD <pvd@grand-est.gouv.fr>"\ndelay_days = 15\n'
                      'signature = "Anne Roth\\nSGAR Grand Est"\n', encoding="utf-8")
    run = consolidated(inbox, tmp_path / "sorties", config_path=config)
    assert run.reminders is not None and run.reminders.folder is not None
    message = parse(run.reminders.folder / "pvd-44-67-2-barr.eml")
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Référente PVD", "pvd@grand-est.gouv.fr")
    text = text_of(message)
    assert "avant le 15/01/2026" in text and text.rstrip().endswith("Anne Roth\nSGAR Grand Est")


@pytest.mark.parametrize("section, message", [
    ('[relances]\nexpediteur = "x@y.fr"\n', "clé inconnue « relances.expediteur »"),
    ('[relances]\ndelay_days = "trente"\n', "relances.delay_days"),
    ('[relances]\nsender = "pas une adresse"\n', "relances.sender"),
    ('[relances.departements."54"]\nexpediteur = "x@y.fr"\n', "clé inconnue « relances.departements.54.expediteur »"),
    ('[relances.departements."54"]\nsender = "DDT"\n', "relances.departements.54.sender"),
])
def test_reminder_settings_checked(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "region.toml"
    path.write_text(section, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_never_received_territory_gets_the_prefilled_workbook(reference_csv: Path, tmp_path: Path) -> None:
    schema = build_schema()
    ref = load_reference(reference_csv).by_id("pvd-44-67-1")
    assert ref is not None
    chase = Chase(ref.key.lower(), ref.id_pvd, ref.name, ref.department, "Non reçu", ref=ref)
    found = attachment(chase, schema, "2026-T1")
    assert found is not None
    name, data = found
    path = tmp_path / name
    path.write_bytes(data)
    read, _ = read_workbook(path, schema)
    assert name == "pvd-44-67-1-la-broque.xlsx" and read is not None
    assert read.territory.values["period"] == "2026-T1" and read.territory.values["id_pvd"] == "pvd-44-67-1"


def test_reference_territories_never_received_are_chased_without_contacts(inbox: Path, tmp_path: Path,
                                                                           reference_csv: Path) -> None:
    run = consolidated(inbox, tmp_path / "sorties", reference_path=reference_csv)
    assert run.reminders is not None
    rows = {r["Identifiant PVD"]: r for r in csv_rows(run.reminders.csv_path)}
    assert rows["pvd-44-67-1"]["Motif"] == "Non reçu" and rows["pvd-44-67-1"]["Dernier envoi"] == ""
    assert rows["pvd-44-67-3"]["Mail"] == LEAD_MAIL
    assert "pvd-44-67-6" not in rows
    assert run.reminders.drafts == 2 and run.reminders.without_mail == run.reminders.chased - 2


def test_consolidate_prints_the_reminders_line(inbox: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["consolidate", str(inbox), "--output-dir", str(tmp_path / "s"),
                                      "--no-reference", "--quiet", "--no-images", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "  Relances : 3 territoires, 2 brouillons, 1 sans mail\n" in result.stdout
    assert f"  {tmp_path / 's' / 'relances-2025-T4.csv'}" in result.stdout



def test_a_name_typed_over_two_lines_stays_one_header(run: ConsolidationRun) -> None:
    chase = next(c for c in to_chase(run.result) if c.motif == TO_FIX)
    assert chase.lead is not None
    chase.lead.name = "Claire\nMuller"
    chase.name = "Barr\r\n(67)"
    message, _ = draft(chase, build_schema(), "2025-T4")
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes(policy=policy.SMTP))
    assert parsed["To"].addresses[0].display_name == "Claire Muller"
    assert parsed["Subject"] == "Petites villes de demain — suivi 2025-T4 : Barr (67)"


def test_nobody_to_chase_leaves_no_drafts_folder(schema: Schema, tmp_path: Path) -> None:
    inbox = tmp_path / "recus"
    make_workbook(inbox / "ok.xlsx", schema)
    out = tmp_path / "sorties"
    (out / "relances-2025-T4").mkdir(parents=True)  # from an earlier run
    run = consolidated(inbox, out)
    assert run.reminders is not None and run.reminders.folder is None
    assert run.reminders.line == "Relances : aucun territoire à relancer"
    assert csv_rows(run.reminders.csv_path) == []
    assert not (out / "relances-2025-T4").exists()
    assert out / "relances-2025-T4" not in run.written


def test_attached_workbooks_are_made_once_across_runs(inbox: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm run takes the attached workbooks from the cache, identical; another configuration
    (here the deadline its Lisez-moi states) makes them again."""
    from pvd_reporting.outputs import mail as reminders

    # Written in this process (one core: no forked writer), where the counting below can see it.
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    made: list[str] = []
    for name in ("feedback_bytes", "carried_bytes"):
        real = getattr(reminders, name)

        def spy(*a: Any, _real: Callable[..., bytes] = real, _name: str = name, **k: Any) -> bytes:
            made.append(_name)
            return _real(*a, **k)

        monkeypatch.setattr(reminders, name, spy)

    def attachments(run: ConsolidationRun) -> dict[str, bytes]:
        assert run.reminders is not None and run.reminders.folder is not None
        return {p.name: next(parse(p).iter_attachments()).get_content()
                for p in sorted(run.reminders.folder.glob("*.eml"))}

    cache = tmp_path / "cache"
    first = attachments(consolidated(inbox, tmp_path / "a", cache_dir=cache))
    assert sorted(made) == ["carried_bytes", "feedback_bytes"]
    assert len(list((cache / ATTACHMENTS_FOLDER).glob(f"*{SUFFIX}"))) == 2
    made.clear()
    assert attachments(consolidated(inbox, tmp_path / "b", cache_dir=cache)) == first
    assert made == []
    config = tmp_path / "region.toml"
    config.write_text("[relances]\ndelay_days = 15\n", encoding="utf-8")
    consolidated(inbox, tmp_path / "c", cache_dir=cache, config_path=config)
    assert sorted(made) == ["carried_bytes", "feedback_bytes"]


def test_a_damaged_cached_attachment_is_made_again(run: ConsolidationRun, tmp_path: Path) -> None:
    """Each cached attachment is checked against the digest its entry holds: one cut short, one
    altered in place and one copied under another key are made again, whole."""
    cache, schema = tmp_path / "cache", build_schema()

    def attachments(name: str) -> dict[str, bytes]:
        (tmp_path / name).mkdir()
        done = write_reminders(run.result, tmp_path / name, schema, cache=cache)
        assert done.folder is not None
        return {p.name: next(parse(p).iter_attachments()).get_content() for p in sorted(done.folder.glob("*.eml"))}

    fresh = attachments("a")
    entries = sorted((cache / ATTACHMENTS_FOLDER).glob(f"*{SUFFIX}"))
    assert len(entries) == 2
    cut, altered = entries
    whole = {e: e.read_bytes() for e in entries}
    cut.write_bytes(cut.read_bytes()[:1000])
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    altered.write_bytes(bytes(data))
    again = attachments("b")
    assert again == fresh
    for name, content in again.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(content)
        assert "Engagements" in CalamineWorkbook.from_path(str(path)).sheet_names
    # The entries are whole again; one holding the other's workbook is not used.
    assert {e: e.read_bytes() for e in entries} == whole
    assert sorted(decode_entry(ATTACHMENTS, e.read_bytes(), e.stem) for e in entries) == sorted(fresh.values())
    cut.write_bytes(whole[altered])
    assert attachments("c") == fresh
    assert cut.read_bytes() == whole[cut]


# --- the cycle's edges: current contacts, blank workbooks, departmental runs ---------------------

@pytest.fixture(scope="module")
def cycle(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bouxwiller changed chef de projet between T2 and T3 and sent nothing in T4; Barr changed
    between T3 and T4 and sent T4 with an error; Molsheim sent its T4 workbook back blank."""
    folder = tmp_path_factory.mktemp("cycle") / "recus"
    rows = baseline_rows(schema)

    def annuaire(name: str, mail: str) -> list[dict[str, object]]:
        return [{**rows["annuaire"][0], "name": name, "email": mail}, *rows["annuaire"][1:]]

    for period, updated, name, mail in (("2025-T2", date(2025, 7, 3), "Ancien Chef", "ancien@boux.fr"),
                                        ("2025-T3", date(2025, 10, 8), "Nouvelle Cheffe", "nouvelle@boux.fr")):
        make_workbook(folder / period / "bouxwiller.xlsx", schema,
                      territory={"period": period, "updated_on": updated}, rows={"annuaire": annuaire(name, mail)})
    barr = {"id_pvd": "pvd-44-67-2", "name": "Barr", "siren": "200034270"}
    town = {"communes": _town("67021", "Barr")}
    make_workbook(folder / "2025-T3" / "barr.xlsx", schema,
                  territory={**barr, "period": "2025-T3", "updated_on": date(2025, 10, 1)},
                  rows={**town, "annuaire": annuaire("Ancien Barr", "ancien@barr.fr")})
    bad = [dict(rows["engagements"][0], start_on="32/13/2024"), *rows["engagements"][1:]]
    make_workbook(folder / "2025-T4" / "barr.xlsx", schema, territory=barr,
                  rows={**town, "engagements": bad, "annuaire": annuaire("Nouveau Barr", "nouveau@barr.fr")})
    molsheim = {"id_pvd": "pvd-44-67-6", "name": "Molsheim", "siren": "246701064"}
    make_workbook(folder / "2025-T3" / "molsheim.xlsx", schema,
                  territory={**molsheim, "period": "2025-T3", "updated_on": date(2025, 10, 2)},
                  rows={"communes": _town("67300", "Molsheim"), "annuaire": annuaire("Anne Weber", "anne@molsheim.fr")})
    # As `template` writes it: the identity, the communes and the jalons' codes, nothing else.
    blank_form = {**molsheim, **dict.fromkeys(("updated_on", "project_lead", "etp", "cofinancing", "chair",
                                               "opah_ru"))}
    jalons = [{"code": r["code"], "label": r["label"]} for r in rows["jalons"]]
    blank = make_workbook(folder / "2025-T4" / "molsheim.xlsx", schema, territory=blank_form,
                          rows={"communes": _town("67300", "Molsheim"), "jalons": jalons, "engagements": [],
                                "comites": [], "ingenierie": [], "annuaire": []})
    received = datetime(2026, 1, 14, 9, 30).timestamp()
    os.utime(blank, (received, received))
    return folder


def drafts_of(run: ConsolidationRun) -> dict[str, EmailMessage]:
    assert run.reminders is not None and run.reminders.folder is not None
    return {p.stem: parse(p) for p in sorted(run.reminders.folder.glob("*.eml"))}


@pytest.fixture(scope="module")
def cycle_run(cycle: Path, tmp_path_factory: pytest.TempPathFactory) -> ConsolidationRun:
    return consolidated(cycle, tmp_path_factory.mktemp("cycle-sorties"))


def test_reminders_go_to_the_current_chef_de_projet(cycle_run: ConsolidationRun) -> None:
    found = drafts_of(cycle_run)
    to = {stem: message["To"].addresses[0].addr_spec for stem, message in found.items()}
    assert to == {"pvd-44-67-3-bouxwiller-ingwiller": "nouvelle@boux.fr", "pvd-44-67-2-barr": "nouveau@barr.fr",
                  "pvd-44-67-6-molsheim": "anne@molsheim.fr"}
    boux = text_of(found["pvd-44-67-3-bouxwiller-ingwiller"])
    assert boux.startswith("Bonjour Nouvelle Cheffe,")
    assert "données de votre dernier envoi, pour 2025-T3, daté du 08/10/2025 : mettez-les à jour" in boux


def test_a_blank_workbook_is_told_it_came_empty_with_its_date(cycle_run: ConsolidationRun) -> None:
    message = drafts_of(cycle_run)["pvd-44-67-6-molsheim"]
    text = text_of(message)
    assert "nous n'avons pas reçu" not in text
    assert ("Nous avons bien reçu le classeur de suivi Petites villes de demain de Molsheim pour la période "
            "2025-T4 (molsheim.xlsx, daté du 14/01/2026), mais il nous est parvenu vide") in text
    assert "données de votre dernier envoi, pour 2025-T3, daté du 02/10/2025" in text
    assert [p.get_filename() for p in message.iter_attachments()] == ["pvd-44-67-6-molsheim.xlsx"]
    assert cycle_run.reminders is not None
    rows = {r["Identifiant PVD"]: r for r in csv_rows(cycle_run.reminders.csv_path)}
    assert rows["pvd-44-67-6"]["Motif"] == "Non rempli (classeur reçu vide)"
    assert rows["pvd-44-67-3"]["Motif"] == "Non reçu" and rows["pvd-44-67-2"]["Motif"] == TO_FIX


def test_a_departmental_run_is_signed_by_the_departmental_referent(cycle: Path, tmp_path: Path) -> None:
    config = tmp_path / "region.toml"
    config.write_text('[relances]\nsender = "Référente régionale <pvd@grand-est.gouv.fr>"\n'
                      '[relances.departements."67"]\nsender = "DDT 67 <pvd@bas-rhin.gouv.fr>"\n'
                      'signature = "Paul Klein\\nDDT du Bas-Rhin"\n', encoding="utf-8")
    run = consolidated(cycle, tmp_path / "b", departments=["67"], config_path=config)
    message = drafts_of(run)["pvd-44-67-2-barr"]
    assert message["From"].addresses[0].addr_spec == "pvd@bas-rhin.gouv.fr"
    assert text_of(message).rstrip().endswith("Cordialement,\n\nPaul Klein\nDDT du Bas-Rhin")
    # A département without its own section: the region's sender, a departmental signature.
    schema = build_schema(load_config(config))
    chase = next(c for c in to_chase(run.result) if c.key == "pvd-44-67-2")
    chase.department = "54"
    assert signed_by(chase, schema, departmental=True) == (
        "Référente régionale <pvd@grand-est.gouv.fr>",
        "Le référent départemental Petites villes de demain\nMeurthe-et-Moselle")
    # The same configuration without --departement: the region's.
    assert signed_by(chase, schema, departmental=False) == (
        "Référente régionale <pvd@grand-est.gouv.fr>", "Le référent régional Petites villes de demain")


def test_the_region_signs_a_regional_run(cycle_run: ConsolidationRun) -> None:
    for message in drafts_of(cycle_run).values():
        assert text_of(message).rstrip().endswith("Cordialement,\n\nLe référent régional Petites villes de demain")
