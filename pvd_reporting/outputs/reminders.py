"""Reminders (README, Le cycle trimestriel): `relances-<period>.csv`, the territories to chase, and
`relances-<period>/`, one mail draft per territory to chase that has a chef de projet's mail.

Who to chase is one small function (`to_chase`) over the consolidation: expected and not
received, or received with errors. Contacts come from the territory's latest annuaire in any
period read; the draft carries the workbook the territory needs (its feedback workbook, or its
workbook for the period carried forward from its last one).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from pvd_reporting.atomic import atomic_write_bytes, atomic_write_text
from pvd_reporting.consolidate.batch import (
    OTHER_DEPARTMENT,
    PERIOD_TO_CHECK_CODES,
    RESENT,
    SAME_DAY_NOTE,
    identify,
    period_end,
    period_of,
    period_sort_key,
    retained_period,
    same_day_versions,
)
from pvd_reporting.consolidate.cache import program_digest
from pvd_reporting.consolidate.view import Consolidation, TerritoryView
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import IssueCode, Severity, WorkbookReport
from pvd_reporting.format.matching import norm, slug
from pvd_reporting.format.reference import Reference, RefTerritory
from pvd_reporting.format.schema import ANNUAIRE, NOT_RECEIVED, Schema
from pvd_reporting.format.vocabulary import ELECTED_REFERENT_ROLE, PROJECT_LEAD_ROLE
from pvd_reporting.outputs.report import CSV_DELIMITER, issue_line, plural, safe_cell
from pvd_reporting.outputs.workbook.carry import carried_bytes, prefilled_bytes
from pvd_reporting.outputs.workbook.feedback import feedback_bytes
from pvd_reporting.outputs.workbook.template import file_name_of
from pvd_reporting.read.records import Record
from pvd_reporting.read.values import as_date

TO_FIX = "À corriger"
# A workbook came, but its period does not fit its update date, or it is last quarter's file.
PERIOD_TO_CHECK = "Période à vérifier"
RESENT_AS_IS = "Renvoyé tel quel"
# What pvd-report sent out (template, carried forward, attachment), come back with its data unchanged.
UNTOUCHED = "Classeur renvoyé sans modification"
# Two versions of one update date: the referent checks the one kept (batch.settle); no mail.
SAME_DAY_CHECK = SAME_DAY_NOTE[0].upper() + SAME_DAY_NOTE[1:]
# Mail servers commonly refuse messages over 10 to 25 MB: above this the draft goes without it.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
CONTACT_COLUMNS = ("Chef de projet", "Mail", "Téléphone")
PERIOD_MISMATCH = IssueCode.PERIOD_MISMATCH
SUBJECT = "Petites villes de demain — suivi {period} : {territory}"


@dataclass
class Contact:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass
class Chase:
    """One territory to chase, and what is known of it."""

    key: str
    id_pvd: str | None
    name: str
    department: str | None
    motif: str  # NOT_RECEIVED, TO_FIX, PERIOD_TO_CHECK or RESENT_AS_IS (`motif_text` as the CSV says it)
    received: WorkbookReport | None = None  # the workbook of the period, with its errors (À corriger)
    odd: WorkbookReport | None = None  # the workbook whose period is to check, or resent as it was
    history: list[WorkbookReport] = field(default_factory=list)  # every workbook of it, latest first
    ref: RefTerritory | None = None
    lead: Contact | None = None
    elected: Contact | None = None
    same_day: bool = False  # two versions of one update date were settled for this period

    @property
    def latest(self) -> WorkbookReport | None:
        return self.history[0] if self.history else None

    @property
    def motif_text(self) -> str:
        """« Non reçu », « À corriger », « Période à vérifier (2025-T1 déclarée, mise à jour le
        03/04/2026) » or « Classeur de 2025-T4 renvoyé tel quel »; with « ; deux versions du même
        jour : vérifier » when two versions of one date were sent."""
        text = self._motif_text()
        return f"{text} ; {SAME_DAY_NOTE}" if self.same_day and self.motif != SAME_DAY_CHECK else text

    def _motif_text(self) -> str:
        odd = self.odd
        if self.motif == PERIOD_TO_CHECK and odd is not None:
            updated = as_date(odd.data.territory.values.get("updated_on"))
            text = (f"{PERIOD_TO_CHECK} ({period_of(odd) or 'période illisible'} déclarée, mise à jour le "
                    f"{fr_date(updated) if updated else 'non renseignée'})")
            return text + (f" ; {TO_FIX.lower()}" if odd.errors else "")
        if self.motif == RESENT_AS_IS and odd is not None:
            return f"Classeur de {period_of(odd)} renvoyé tel quel"
        return self.motif


@dataclass
class Reminders:
    csv_path: Path
    folder: Path | None  # None when no draft was written (none to write, or --no-contacts)
    no_contacts: bool = False
    chased: int = 0
    drafts: int = 0
    without_mail: int = 0
    without_attachment: int = 0

    @property
    def line(self) -> str:
        """« Relances : 12 territoires, 9 brouillons, 3 sans mail »."""
        if not self.chased:
            return "Relances : aucun territoire à relancer"
        parts = [plural(self.chased, "territoire")]
        if self.no_contacts:
            parts.append("sans brouillon (--no-contacts)")
        else:
            parts.append(plural(self.drafts, "brouillon"))
            if self.without_mail:
                parts.append(f"{self.without_mail} sans mail")
            if self.without_attachment:
                parts.append(f"{self.without_attachment} sans pièce jointe (plus de 10 Mo)")
        return "Relances : " + ", ".join(parts)


# --- who to chase --------------------------------------------------------------------------------


def counts_as_not_received(territory: TerritoryView) -> bool:
    """Expected and not received; where a workbook sent back untouched will join."""
    return not territory.received


def needs_fixing(territory: TerritoryView) -> bool:
    return territory.received and territory.errors > 0


def to_chase(consolidation: Consolidation, reference: Reference | None = None) -> list[Chase]:
    """The territories to chase for the consolidated period, sorted by département and name.

    Besides the view's territories, a territory received in an earlier period and absent from
    this one is expected too (README, Plusieurs trimestres).
    """
    period = consolidation.region.period
    by_key = _history(consolidation.reports, reference)
    odd = _odd_workbooks(consolidation.reports, reference)
    same_day = {identify(r, reference)[0] for r in _of_period(consolidation) if same_day_versions(r)}
    refs = {r.key.lower(): r for r in reference.territories} if reference is not None else {}
    chased: list[Chase] = []
    seen: set[str] = set()
    for t in consolidation.territories:
        # A reference territory's key keeps the list's spelling; identify() lowers it.
        key = t.key.lower()
        seen.add(key)
        motif = NOT_RECEIVED if counts_as_not_received(t) else TO_FIX if needs_fixing(t) else None
        odd_one = t.report if t.received and _period_to_check(t.report) else None
        if not t.received and t.untouched and t.report is not None:
            motif, odd_one = UNTOUCHED, t.report
        elif odd_one is not None:
            motif = PERIOD_TO_CHECK
        elif motif == NOT_RECEIVED and key in odd:
            odd_one = odd[key]
            motif = RESENT_AS_IS if _has(odd_one, RESENT) else PERIOD_TO_CHECK
        if motif is None and key in same_day:
            motif = SAME_DAY_CHECK
        if motif is None:
            continue
        history = by_key.get(key, [])
        if motif in (NOT_RECEIVED, RESENT_AS_IS, UNTOUCHED):
            history = [r for r in history if _is_before(r, period)]
        ref = refs.get(key) if not t.received else None
        chased.append(Chase(t.key, t.id_pvd, t.name, t.department, motif,
                            received=t.report if t.received else None, history=history, ref=ref, odd=odd_one,
                            same_day=key in same_day))
    for key, history in by_key.items():
        earlier = [r for r in history if _is_before(r, period)]
        if key in seen or not earlier:
            continue
        values = earlier[0].data.territory.values
        odd_one = odd.get(key)
        motif = NOT_RECEIVED if odd_one is None else RESENT_AS_IS if _has(odd_one, RESENT) else PERIOD_TO_CHECK
        chased.append(Chase(key, _text(values.get("id_pvd")), _text(values.get("name")) or key,
                            _text(values.get("department")), motif, history=earlier, odd=odd_one))
    for chase in chased:
        chase.lead, chase.elected = contacts(chase.history)
    chased.sort(key=lambda c: (c.department or "~", norm(c.name), c.key))
    return chased


def _of_period(consolidation: Consolidation) -> list[WorkbookReport]:
    """The workbooks settled for the consolidated period (an earlier quarter's are its history)."""
    period = consolidation.region.period
    return [r for r in consolidation.reports if r.data is not None and retained_period(r) == period]


def _has(report: WorkbookReport | None, code: str) -> bool:
    return report is not None and any(i.code == code for i in report.issues)


def _period_to_check(report: WorkbookReport | None) -> bool:
    return report is not None and any(i.code in PERIOD_TO_CHECK_CODES for i in report.issues)


def _odd_workbooks(reports: Iterable[WorkbookReport], reference: Reference | None) -> dict[str, WorkbookReport]:
    """Set-aside workbooks that say a territory did send something: last quarter's file again
    (`resent-previous`), or a workbook whose period is to check; by territory key, latest first."""
    out: dict[str, WorkbookReport] = {}
    for report in sorted((r for r in reports if r.data is not None), key=_recency):
        if _has(report, OTHER_DEPARTMENT):
            continue
        if _has(report, RESENT) or (_period_to_check(report) and _has(report, PERIOD_MISMATCH)):
            out[identify(report, reference)[0]] = report
    return out


def _history(reports: Iterable[WorkbookReport], reference: Reference | None) -> dict[str, list[WorkbookReport]]:
    """Readable workbooks of the scope by territory key, latest (period, then update) first;
    last quarter's file sent again is that quarter's, already there."""
    out: dict[str, list[WorkbookReport]] = {}
    for report in reports:
        if report.data is not None and not _has(report, OTHER_DEPARTMENT) and not _has(report, RESENT):
            key, _ = identify(report, reference)
            out.setdefault(key, []).append(report)
    for group in out.values():
        group.sort(key=_recency, reverse=True)
    return out


def _recency(report: WorkbookReport) -> tuple[tuple[int, int], date]:
    period = period_of(report)
    updated = as_date(report.data.territory.values.get("updated_on")) or date.min
    return (period_sort_key(period) if period else (0, 0)), updated


def _is_before(report: WorkbookReport, period: str) -> bool:
    own = period_of(report)
    return own is not None and period_sort_key(own) < period_sort_key(period)


def contacts(history: list[WorkbookReport]) -> tuple[Contact | None, Contact | None]:
    """(chef de projet, élu référent) from the latest annuaire that names a chef de projet; the
    Territoire form's chef de projet, without mail, when no annuaire does."""
    for report in history:
        rows = report.data.rows(ANNUAIRE)
        lead = _first_with_role(rows, PROJECT_LEAD_ROLE)
        if lead is not None:
            return lead, _first_with_role(rows, ELECTED_REFERENT_ROLE)
    for report in history:
        name = _text(report.data.territory.values.get("project_lead"))
        if name:
            return Contact(name), None
    return None, None


def _first_with_role(rows: list[Record], role: str) -> Contact | None:
    found = [r for r in rows if norm(r.values.get("role")) == norm(role)]
    # Several rows with the role: the first with a readable mail.
    found.sort(key=lambda r: r.values.get("email") is None)
    for record in found:
        name = _text(record.values.get("name")) or _text(record.raw.get("name"))
        if name or record.values.get("email"):
            phone = _text(record.values.get("phone")) or _text(record.raw.get("phone"))
            return Contact(name or "", _text(record.values.get("email")), phone)
    return None


def last_sent(chase: Chase) -> str:
    """`2025-T3 (15/10/2025)`: period and update date of its latest workbook; blank if none."""
    latest = chase.received or chase.latest
    if latest is None:
        return ""
    period = period_of(latest) or "période illisible"
    updated = as_date(latest.data.territory.values.get("updated_on"))
    return f"{period} ({fr_date(updated)})" if updated else period


# --- the CSV ---------------------------------------------------------------------------------


def render_reminders_csv(chased: list[Chase], schema: Schema, *, no_contacts: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    form = schema.form
    head = [form.field("id_pvd").label, form.name, form.field("department").label, "Motif", "Erreurs",
            "Avertissements"]
    writer.writerow([*head, *(() if no_contacts else CONTACT_COLUMNS), "Dernier envoi"])
    for c in chased:
        report = c.received
        row: list[object] = [c.id_pvd, c.name, c.department, c.motif_text,
                             report.errors if report else "", report.warnings if report else ""]
        if not no_contacts:
            lead = c.lead
            row.extend([lead.name if lead else "", lead.email if lead else "", lead.phone if lead else ""])
        row.append(last_sent(c))
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return out.getvalue()


# --- the drafts ------------------------------------------------------------------------------


def deadline(period: str, schema: Schema) -> date:
    return period_end(period) + timedelta(days=schema.config.reminder_delay_days)


def file_stem(chase: Chase) -> str:
    return Path(file_name_of(chase.id_pvd, chase.name, None if chase.id_pvd else slug(chase.key))).stem


def attachment(chase: Chase, schema: Schema, period: str, cache: Path | None = None) -> tuple[str, bytes] | None:
    """(file name, bytes): the feedback workbook (À corriger), else the workbook for the period
    carried forward from its last one, else pre-filled from the reference list. With `cache`
    (a folder), a workbook made by an earlier run from the same inputs is taken from there."""
    stem = file_stem(chase)
    to_fix = chase.received or (chase.odd if chase.motif == PERIOD_TO_CHECK else None)
    if to_fix is not None:
        return f"{stem}-a-corriger.xlsx", _made_once(cache, ("feedback", schema, period, to_fix),
                                                     lambda: feedback_bytes(schema, to_fix))
    latest = chase.latest
    if latest is not None:
        return f"{stem}.xlsx", _made_once(cache, ("carried", schema, period, latest),
                                          lambda: carried_bytes(schema, latest.data, period, latest.issues))
    if chase.ref is not None:
        return f"{stem}.xlsx", prefilled_bytes(schema, chase.ref, period)
    return None


def _made_once(cache: Path | None, inputs: tuple[str, Schema, str, WorkbookReport],
               make: Callable[[], bytes]) -> bytes:
    """`make()`, or the same workbook kept in `cache` by an earlier run: its key is everything it
    is made from (the program, the format and configuration, the period, the source file's
    digest and name, its issues, consolidation's included). At national scale a warm run would
    otherwise write hundreds of annotated workbooks again (docs/vitesse.md)."""
    kind, schema, period, report = inputs
    if cache is None or report.sha256 is None:
        return make()
    key = repr((kind, program_digest(), schema.version, schema.config.fingerprint, period, report.sha256,
                Path(report.path).name, report.issues))
    stored = cache / f"{hashlib.sha256(key.encode()).hexdigest()}.xlsx"
    try:
        data = stored.read_bytes()
        os.utime(stored)  # used now: pruning counts a year from here
        return data
    except OSError:
        pass
    data = make()
    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time next run
        stored.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(stored, data)
    return data


def draft(chase: Chase, schema: Schema, period: str, *, max_bytes: int = MAX_ATTACHMENT_BYTES,
          cache: Path | None = None) -> tuple[EmailMessage, bool]:
    """The mail draft of one territory (its chef de projet has a mail); (message, left out
    because over `max_bytes`)."""
    assert chase.lead is not None and chase.lead.email
    config = schema.config
    msg = EmailMessage(policy=policy.default)
    if config.reminder_sender:
        msg["From"] = config.reminder_sender
    msg["To"] = Address(one_line(chase.lead.name), addr_spec=chase.lead.email)
    if chase.elected is not None and chase.elected.email:
        msg["Cc"] = Address(one_line(chase.elected.name), addr_spec=chase.elected.email)
    msg["Subject"] = SUBJECT.format(period=period, territory=one_line(chase.name))
    # Outlook and Thunderbird open a message with this header as a draft to send.
    msg["X-Unsent"] = "1"
    attached = attachment(chase, schema, period, cache)
    too_big = attached is not None and len(attached[1]) > max_bytes
    msg.set_content(body(chase, schema, period, attached=attached is not None and not too_big,
                         too_big=too_big))
    if attached is not None and not too_big:
        name, data = attached
        msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
    return msg, too_big


def body(chase: Chase, schema: Schema, period: str, *, attached: bool, too_big: bool) -> str:
    config = schema.config
    limit = fr_date(deadline(period, schema))
    form, update_label = schema.form.name, schema.form.field("updated_on").label
    hello = f"Bonjour {chase.lead.name}," if chase.lead and chase.lead.name else "Bonjour,"
    lines = [hello, ""]
    odd = chase.odd
    if chase.motif == PERIOD_TO_CHECK and odd is not None:
        updated = as_date(odd.data.territory.values.get("updated_on"))
        lines += [
            f"Merci pour l'envoi du classeur de suivi Petites villes de demain de {chase.name} "
            f"({Path(odd.path).name}). Il indique la période {period_of(odd) or 'illisible'} et une mise à jour "
            f"le {fr_date(updated) if updated else '(date non renseignée)'} : la période de suivi ou la date "
            f"ne correspond pas. S'il s'agit du suivi de la période {period}, merci de corriger la « "
            f"{schema.form.field('period').label} » dans l'onglet {form} (ou la date), puis de nous le "
            f"renvoyer avant le {limit}.",
        ]
        errors = [i for i in odd.issues if i.severity == Severity.ERROR]
        if errors:
            lines += ["", f"Il comporte aussi {plural(len(errors), 'erreur')} à corriger :", "",
                      *(f"- {issue_line(i)}" for i in errors)]
        if attached:
            lines += ["", "Vous trouverez ci-joint votre classeur repris dans le modèle, les cellules à vérifier "
                      "colorées et commentées."]
    elif chase.motif == RESENT_AS_IS and odd is not None:
        lines += [
            f"Le classeur reçu de {chase.name} pour la période {period} ({Path(odd.path).name}) est "
            f"identique à celui de la période {period_of(odd)} : c'est, semble-t-il, le classeur de "
            f"{period_of(odd)} renvoyé tel quel.",
            f"Merci de nous transmettre le classeur mis à jour pour la période {period} avant le {limit}.",
        ]
        if attached and chase.latest is not None:
            lines += ["", f"Vous trouverez ci-joint le classeur de la période {period}, déjà rempli avec les "
                      f"données de votre dernier envoi ({last_sent(chase)}) : mettez-les à jour, "
                      f"indiquez la « {update_label} » dans l'onglet {form}, puis renvoyez-le."]
    elif chase.motif == UNTOUCHED and odd is not None:
        lines += [
            f"Le classeur reçu de {chase.name} pour la période {period} ({Path(odd.path).name}) est "
            f"celui que nous vous avions transmis, renvoyé sans modification : aucune donnée n'y a été "
            f"mise à jour.",
            f"Merci de nous transmettre le classeur mis à jour pour la période {period} avant le {limit}.",
        ]
        if attached and chase.latest is not None:
            lines += ["", f"Vous trouverez ci-joint le classeur de la période {period}, déjà rempli avec les "
                      f"données de votre dernier envoi ({last_sent(chase)}) : mettez-les à jour, "
                      f"indiquez la « {update_label} » dans l'onglet {form}, puis renvoyez-le."]
    elif chase.motif == TO_FIX and chase.received is not None:
        report = chase.received
        errors = [i for i in report.issues if i.severity == Severity.ERROR]
        lines += [
            f"Merci pour l'envoi du classeur de suivi Petites villes de demain de {chase.name} pour "
            f"la période {period} ({Path(report.path).name}). Il comporte "
            f"{plural(len(errors), 'erreur')} à corriger :",
            "",
            *(f"- {issue_line(i)}" for i in errors),
            "",
        ]
        if report.warnings:
            lines.append(f"Il signale aussi {plural(report.warnings, 'avertissement')}, à vérifier.")
        if attached:
            lines.append("Vous trouverez ci-joint votre classeur repris dans le modèle : les cellules à "
                         "corriger y sont colorées et commentées, et l'onglet Anomalies les liste toutes.")
        lines.append(f"Merci de nous renvoyer le classeur corrigé avant le {limit}.")
    else:
        lines += [
            f"Sauf erreur de notre part, nous n'avons pas reçu le classeur de suivi Petites villes de "
            f"demain de {chase.name} pour la période {period}.",
            f"Merci de nous le transmettre avant le {limit}.",
        ]
        if attached and chase.latest is not None:
            lines += ["", f"Vous trouverez ci-joint le classeur de la période {period}, déjà rempli avec les "
                      f"données de votre dernier envoi ({last_sent(chase)}) : mettez-les à jour, "
                      f"indiquez la « {update_label} » dans l'onglet {form}, puis renvoyez-le."]
        elif attached:
            lines += ["", f"Vous trouverez ci-joint le classeur de la période {period}, pré-rempli avec "
                      f"l'identité du territoire et ses communes : complétez-le, puis renvoyez-le."]
    if too_big:
        lines += ["", "Le classeur à joindre dépasse 10 Mo : il n'est pas joint à ce message, nous vous "
                  "le transmettrons par un autre moyen."]
    lines += ["", "Cordialement,"]
    if config.reminder_signature:
        lines += ["", config.reminder_signature]
    return "\n".join(lines) + "\n"


# --- writing ---------------------------------------------------------------------------------


def write_reminders(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                    no_contacts: bool = False, reference: Reference | None = None,
                    max_bytes: int = MAX_ATTACHMENT_BYTES, cache: Path | None = None) -> Reminders:
    """The CSV, and the drafts' folder replaced whole (none with --no-contacts); `cache`: where
    the attached workbooks are kept between runs (see `attachment`)."""
    period = consolidation.region.period
    folder = Path(output_dir)
    chased = to_chase(consolidation, reference)
    csv_path = atomic_write_text(folder / f"relances-{period}.csv",
                                 render_reminders_csv(chased, schema, no_contacts=no_contacts), encoding="utf-8-sig")
    drafts_dir = folder / f"relances-{period}"
    jobs = [] if no_contacts else [c for c in chased if c.lead is not None and c.lead.email
                                   and c.motif != SAME_DAY_CHECK]
    done = Reminders(csv_path, drafts_dir if jobs else None, no_contacts=no_contacts, chased=len(chased),
                     without_mail=0 if no_contacts else len(chased) - len(jobs))
    if not jobs:
        # Each run replaces the drafts whole; those of an earlier run with --no-contacts would
        # also hold the contacts this run was asked to leave out.
        _remove_tree(drafts_dir)
        return done
    tmp = folder / f".relances-{period}.{secrets.token_hex(4)}.tmp"
    tmp.mkdir()
    try:
        names: set[str] = set()
        for chase in jobs:
            data, too_big = draft_bytes(chase, schema, period, max_bytes, cache)
            done.drafts += 1
            done.without_attachment += too_big
            name = _free(names, file_stem(chase))
            atomic_write_bytes(tmp / f"{name}.eml", data)
        _remove_tree(drafts_dir)
        os.replace(tmp, drafts_dir)
    except BaseException:
        _remove_tree(tmp)
        raise
    return done


def draft_bytes(chase: Chase, schema: Schema, period: str, max_bytes: int,
                cache: Path | None = None) -> tuple[bytes, bool]:
    """The .eml file of one draft (CRLF lines, as mail programs expect), and whether the
    attachment was left out for its size."""
    msg, too_big = draft(chase, schema, period, max_bytes=max_bytes, cache=cache)
    return msg.as_bytes(policy=policy.SMTP), too_big


def _free(names: set[str], stem: str) -> str:
    name, n = stem, 2
    while name in names:
        name, n = f"{stem}-{n}", n + 1
    names.add(name)
    return name


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)


def one_line(text: str) -> str:
    """A header value: a name typed over two lines in a cell (Alt+Entrée) on one."""
    return " ".join(text.split())


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
