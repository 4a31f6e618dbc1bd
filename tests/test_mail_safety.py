"""Reminder drafts cannot be steered by what a workbook holds: hostile names, territory names,
mail cells and a sender with a line break, through a real `consolidate`; every .eml parsed back
with the standard library (policy default) has exactly its intended recipients and body."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from pathlib import Path

import pytest
from factory import baseline_rows, make_workbook

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.mail import display_name, header_text, sender_mailbox, subject_name
from pvd_reporting.pipeline.consolidate import ConsolidationRun, run_consolidate
from pvd_reporting.read.values import ONE_ADDRESS, parse_email

EVIL = "evil"
ENCODED = "=?utf-8?q?x=0D=0ABcc:_evil@evil.example?="
CHEF_BOUX, ELU_BOUX = "chef.a@bouxwiller.fr", "elu@bouxwiller.eu"
CHEF_BARR = "chef@barr.fr"
SEVERAL = f"chef@diemeringen.fr, {EVIL}@evil.example"


@pytest.fixture(scope="module")
def inbox(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile") / "recus"
    rows = baseline_rows(schema)
    lead, elected, state = rows["annuaire"]
    # Bouxwiller, T3 only (« Non reçu »): names that try to read as more recipients.
    make_workbook(folder / "bouxwiller.xlsx", schema,
                  territory={"period": "2025-T3", "updated_on": date(2025, 10, 8)},
                  rows={"annuaire": [
                      {**lead, "name": '"A", x@evil.example', "email": CHEF_BOUX},
                      {**elected, "name": 'Jean "Chef de projet" Dupont, attacker@evil.example', "email": ELU_BOUX},
                      state]})
    # Barr, T4 with an error (« À corriger »): an encoded-word as the chef's name, a header
    # typed into the territory's name.
    bad = [dict(rows["engagements"][0], start_on="32/13/2024"), *rows["engagements"][1:]]
    make_workbook(folder / "barr.xlsx", schema,
                  territory={"id_pvd": "pvd-44-67-2", "siren": "200034270",
                             "name": "Barr\r\nBcc: evil@evil.example"},
                  rows={"engagements": bad, "annuaire": [{**lead, "name": f"Marc {ENCODED}", "email": CHEF_BARR}],
                        "communes": [{"insee": "67021", "name": "Barr", "population": 7000, "role": "Ville PVD"}]})
    # Diemeringen, T3: two addresses in the chef's mail cell: an error, no draft.
    make_workbook(folder / "diemeringen.xlsx", schema,
                  territory={"id_pvd": "pvd-44-67-5", "name": "Diemeringen", "siren": "200067841",
                             "period": "2025-T3", "updated_on": date(2025, 9, 30)},
                  rows={"annuaire": [{**lead, "name": "Paul Zins", "email": SEVERAL}],
                        "communes": [{"insee": "67095", "name": "Diemeringen", "population": 1800,
                                      "role": "Ville PVD"}]})
    return folder


@pytest.fixture(scope="module")
def run(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> ConsolidationRun:
    out = tmp_path_factory.mktemp("sorties")
    config = out.parent / "region.toml"
    # A line break typed into the sender, followed by a header.
    config.write_text('[relances]\nsender = "Référente PVD <pvd@grand-est.gouv.fr>\\r\\nBcc: evil@evil.example"\n',
                      encoding="utf-8")
    return run_consolidate(inbox, output_dir=out, images=False, workers=1, config_path=config)


def drafts(run: ConsolidationRun) -> dict[str, EmailMessage]:
    assert run.reminders is not None and run.reminders.folder is not None
    out = {}
    for path in sorted(run.reminders.folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        out[path.name] = message
    return out


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def only_address(message: EmailMessage, header: str) -> tuple[str, str]:
    addresses = message[header].addresses
    assert len(addresses) == 1, (header, addresses)
    return addresses[0].display_name, addresses[0].addr_spec


def test_each_draft_has_exactly_its_recipients(run: ConsolidationRun) -> None:
    found = drafts(run)
    assert sorted(found) == ["pvd-44-67-2-barr-bcc.eml", "pvd-44-67-3-bouxwiller-ingwiller.eml"]
    for message in found.values():
        assert message["Bcc"] is None and message["Reply-To"] is None and message["Sender"] is None
        for part in message.walk():
            for name, value in part.items():
                assert EVIL not in str(value).lower(), (name, value)
                assert "\r" not in str(value) and "\n" not in str(value)
        assert only_address(message, "From") == ("Référente PVD", "pvd@grand-est.gouv.fr")
        assert message["X-Unsent"] == "1"
        assert len(list(message.iter_attachments())) == 1
    boux = found["pvd-44-67-3-bouxwiller-ingwiller.eml"]
    assert only_address(boux, "To") == ("A", CHEF_BOUX)
    assert only_address(boux, "Cc") == ("Jean Chef de projet Dupont", ELU_BOUX)
    barr = found["pvd-44-67-2-barr-bcc.eml"]
    assert only_address(barr, "To") == ("Marc", CHEF_BARR)
    assert barr["Cc"] is None
    assert barr["Subject"] == "Petites villes de demain — suivi 2025-T4 : Barr Bcc:"


def test_each_draft_has_its_french_body(run: ConsolidationRun) -> None:
    found = drafts(run)
    boux = text_of(found["pvd-44-67-3-bouxwiller-ingwiller.eml"])
    assert boux.startswith("Bonjour A,\n\nSauf erreur de notre part, nous n'avons pas reçu le classeur de suivi "
                           "Petites villes de demain de Bouxwiller - Ingwiller pour la période 2025-T4.\n")
    barr = text_of(found["pvd-44-67-2-barr-bcc.eml"])
    # The territory's name as typed, on one line: text of the body, never a header.
    assert barr.startswith("Bonjour Marc,\n\nMerci pour l'envoi du classeur de suivi Petites villes de demain de "
                           "Barr Bcc: evil@evil.example pour la période 2025-T4 (barr.xlsx). Il comporte 1 erreur")
    assert "- Engagements!H2 — Date illisible : « 32/13/2024 »" in barr
    for text in (boux, barr):
        assert text.rstrip().endswith("Cordialement,\n\nLe référent régional Petites villes de demain")


def test_a_mail_cell_with_two_addresses_is_an_error_and_gets_no_draft(run: ConsolidationRun, inbox: Path,
                                                                      schema: Schema) -> None:
    report = validate_workbook(inbox / "diemeringen.xlsx", schema)
    issue = next(i for i in report.issues if i.code == "invalid-email")
    assert (issue.severity, issue.sheet, issue.cell) == ("error", "Annuaire", "D2")
    assert issue.message == f"Adresse mail invalide : « {SEVERAL} » ({ONE_ADDRESS})."
    assert run.reminders is not None
    assert (run.reminders.chased, run.reminders.drafts, run.reminders.without_mail) == (3, 2, 1)
    csv_text = run.reminders.csv_path.read_text("utf-8-sig")
    assert "pvd-44-67-5;Diemeringen;67;Non reçu;;;Paul Zins;;" in csv_text


@pytest.mark.parametrize("cell", [
    "a@b.fr, c@d.fr", "a@b.fr;c@d.fr", "a@b@evil.example", "Jean <a@b.fr>", "a@b.fr c@d.fr",
    '"a@b.fr"@c.fr', "=?utf-8?q?a?=@b.fr", "a@b.fr\r\nBcc: c@d.fr",
])
def test_a_mail_cell_is_one_address_or_an_error(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_email(cell)


def test_header_values_are_cleaned() -> None:
    assert header_text("Barr\r\n\tBcc: x\x1b[2J\x07") == "Barr Bcc: x [2J"
    assert header_text(f"Jean {ENCODED} Dupont") == "Jean Dupont"
    assert header_text("=?=?utf-8?b?QQ==?=?=") == ""
    assert display_name('"A", x@evil.example') == "A"
    assert display_name("Anne-Marie O'Neil\u2028<x@y.fr>") == "Anne-Marie O'Neil"
    assert subject_name("Saint-Dié\r\nBcc: evil@evil.example") == "Saint-Dié Bcc:"
    sender = sender_mailbox("Référente <pvd@grand-est.gouv.fr>\nBcc: evil@evil.example")
    assert sender is not None and (sender.display_name, sender.addr_spec) == ("Référente", "pvd@grand-est.gouv.fr")
    assert sender_mailbox("pas une adresse") is None


@pytest.mark.parametrize("cell", [
    "prenom.nom@exemple.fr", "a@b.fr(commentaire)", "liste: a@b.fr;", "a@b.fr\t", "mailto:a@b.fr",
    "a+b@sous.domaine.example", "\"a b\"@c.fr", "a@[127.0.0.1]", "a@b.fr>", "x@y.fr =?utf-8?q?z?=",
])
def test_what_a_mail_cell_accepts_is_one_address_to_email_itself(cell: str) -> None:
    """Whatever `parse_email` accepts, the standard library reads as exactly that one address."""
    try:
        address = parse_email(cell)
    except ValueError:
        return
    parsed = HeaderRegistry()("To", address)
    assert [a.addr_spec for a in parsed.addresses] == [address] and not parsed.defects  # type: ignore[attr-defined]  # an address header; typeshed types the base class
