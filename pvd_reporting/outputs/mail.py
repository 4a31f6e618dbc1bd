"""One reminder draft (README, Le cycle trimestriel): its headers, its French body (one
template per motif in mail_templates/) and the workbook it carries.

Every header value that comes from a workbook (names, the territory's name) or from the
configuration (the sender) is cleaned here before it is set: no control character, no
encoded-word, nothing that reads as a second address. Addresses are set from parsed parts
(`Address`), never from joined text, so that a cell cannot add a recipient or a header.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, timedelta
from email import policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from pvd_reporting.cache import ATTACHMENTS, Cache, entry_key
from pvd_reporting.consolidate.batch import period_end, period_of
from pvd_reporting.consolidate.chase import (
    PERIOD_TO_CHECK,
    RESENT_AS_IS,
    TO_FIX,
    UNTOUCHED,
    Chase,
    last_sent_words,
    sent_on,
)
from pvd_reporting.format.departements import DEPARTMENT_NAMES
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import Severity, WorkbookReport
from pvd_reporting.format.matching import slug
from pvd_reporting.format.schema import NOT_FILLED, Schema
from pvd_reporting.outputs.report import issue_line, plural
from pvd_reporting.outputs.workbook.carry import carried_bytes, prefilled_bytes
from pvd_reporting.outputs.workbook.feedback import feedback_bytes
from pvd_reporting.outputs.workbook.template import file_name_of
from pvd_reporting.read.values import as_date, parse_email

# Mail servers commonly refuse messages over 10 to 25 MB: above this the draft goes without it.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SUBJECT = "Petites villes de demain — suivi {period} : {territory}"

# --- header values -----------------------------------------------------------------------------

# C0 and C1 controls, DEL and the Unicode line and paragraph separators: any of them could end a
# header line in some mail program.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]+")
# An RFC 2047 encoded-word (=?charset?Q?text?=), decoded by mail programs into anything, CR/LF
# included; then any half of one left over.
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[^?]*\?.*?\?=", re.DOTALL)
_ENCODED_MARKS = re.compile(r"=\?|\?=")
# What may delimit or quote an address in a header: never kept in a display name.
_ADDRESS_MARKS = str.maketrans(dict.fromkeys('"<>,;:()[]\\', " "))


def header_text(text: str | None) -> str:
    """A header value on one line, with no control character and no encoded-word: a name typed
    over two lines in a cell (Alt+Entrée) reads as one."""
    value = _ENCODED_WORD.sub(" ", text or "")
    value = _CONTROLS.sub(" ", value)
    while _ENCODED_MARKS.search(value):
        value = _ENCODED_MARKS.sub(" ", value)
    return " ".join(value.split())


def _without_addresses(text: str) -> str:
    # A word holding « @ » is an address typed into a name: it never reaches a header.
    return " ".join(word for word in text.split() if "@" not in word)


def display_name(name: str | None) -> str:
    """A person's name as a display name: letters, spaces and the like; never an address, a
    quote, a comma or an angle bracket that would let a name read as a second recipient."""
    return " ".join(_without_addresses(header_text(name)).translate(_ADDRESS_MARKS).split())


def subject_name(name: str | None) -> str:
    """A territory's name in the Subject: one line, no encoded-word, no address."""
    return _without_addresses(header_text(name))


def mailbox(name: str | None, email: str | None) -> Address | None:
    """The one recipient of an address cell, from its parsed parts; None when the cell does not
    hold exactly one valid address (checked again here: the draft is the last gate)."""
    if not email:
        return None
    try:
        addr_spec = parse_email(email)
    except ValueError:
        return None
    return Address(display_name(name), addr_spec=addr_spec)


def sender_mailbox(sender: str) -> Address | None:
    """The configured sender as one mailbox: the first address of the first line (a line break
    typed into the configuration never adds a header)."""
    first = _CONTROLS.split(sender.strip(), maxsplit=1)[0] if sender.strip() else ""
    parsed = HeaderRegistry()("From", header_text(first))
    for address in getattr(parsed, "addresses", ()):
        found = mailbox(address.display_name, address.addr_spec)
        if found is not None:
            return found
    return None


def has_mail(chase: Chase) -> bool:
    """A draft can be written: its chef de projet's mail is one valid address."""
    return chase.lead is not None and mailbox(chase.lead.name, chase.lead.email) is not None


# --- the drafts ------------------------------------------------------------------------------


def deadline(period: str, schema: Schema) -> date:
    return period_end(period) + timedelta(days=schema.config.reminder_delay_days)


def file_stem(chase: Chase) -> str:
    """The draft's and the attachment's file name: as `template` names it, from the name as the
    Subject shows it (no address typed into a name reaches the attachment's header)."""
    name = subject_name(chase.name) or chase.name
    return Path(file_name_of(chase.id_pvd, name, None if chase.id_pvd else slug(chase.key))).stem


def attachment(chase: Chase, schema: Schema, period: str, cache: Cache | None = None) -> tuple[str, bytes] | None:
    """(file name, bytes): the feedback workbook (À corriger), else the workbook for the period
    carried forward from its last one, else pre-filled from the reference list. With `cache`,
    a workbook made by an earlier run from the same inputs is taken from there."""
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


def _made_once(cache: Cache | None, inputs: tuple[str, Schema, str, WorkbookReport],
               make: Callable[[], bytes]) -> bytes:
    """`make()`, or the same workbook kept in `cache` by an earlier run: its key is everything it
    is made from (the program, the format and configuration, the period, the source file's
    digest and name, its issues, consolidation's included). At national scale a warm run would
    otherwise write hundreds of annotated workbooks again (docs/vitesse.md). An entry cut short
    or altered is made again, never attached as it is (the cache checks its digest)."""
    key = attachment_key(*inputs)
    if cache is None or key is None:
        return make()
    return cache.made_once(ATTACHMENTS, key, make)


def attachment_key(made_as: str, schema: Schema, period: str, report: WorkbookReport) -> str | None:
    """The cache key of the workbook `made_as` (feedback, carried) from `report`; None when the
    source file's digest is unknown."""
    if report.sha256 is None:
        return None
    return entry_key(ATTACHMENTS, report.sha256, {
        "made_as": made_as, "format": schema.version, "config": schema.config.full_fingerprint,
        "period": period, "file": Path(report.path).name, "issues": repr(report.issues)})


def draft(chase: Chase, schema: Schema, period: str, *, max_bytes: int = MAX_ATTACHMENT_BYTES,
          cache: Cache | None = None, departmental: bool = False) -> tuple[EmailMessage, bool]:
    """The mail draft of one territory (its chef de projet has a mail); (message, left out
    because over `max_bytes`). `departmental`: from a `--departement` run, signed by the
    département's referent."""
    assert chase.lead is not None
    to = mailbox(chase.lead.name, chase.lead.email)
    assert to is not None, "has_mail() chooses who gets a draft"
    configured = signed_by(chase, schema, departmental)[0]
    msg = EmailMessage(policy=policy.default)
    sender = sender_mailbox(configured) if configured else None
    if sender is not None:
        msg["From"] = sender
    msg["To"] = to
    cc = mailbox(chase.elected.name, chase.elected.email) if chase.elected is not None else None
    if cc is not None and cc.addr_spec.lower() != to.addr_spec.lower():
        msg["Cc"] = cc
    msg["Subject"] = SUBJECT.format(period=period, territory=subject_name(chase.name))
    # Outlook and Thunderbird open a message with this header as a draft to send.
    msg["X-Unsent"] = "1"
    attached = attachment(chase, schema, period, cache)
    too_big = attached is not None and len(attached[1]) > max_bytes
    msg.set_content(body(chase, schema, period, attached=attached is not None and not too_big,
                         too_big=too_big, departmental=departmental))
    if attached is not None and not too_big:
        name, data = attached
        msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
    return msg, too_big


def body(chase: Chase, schema: Schema, period: str, *, attached: bool, too_big: bool,
         departmental: bool = False) -> str:
    """The French body, from the motif's template in `mail_templates/`."""
    # Every text a workbook typed is shown on one line; the greeting's name as in the To header.
    values: dict[str, object] = {
        "greeted": display_name(chase.lead.name) if chase.lead else "",
        "name": one_line(chase.name), "period": period, "limit": fr_date(deadline(period, schema)),
        "form": schema.form.name, "update_label": schema.form.field("updated_on").label,
        "period_label": schema.form.field("period").label, "last_sent": last_sent_words(chase),
        "has_latest": chase.latest is not None, "attached": attached, "too_big": too_big,
        "signature": signed_by(chase, schema, departmental)[1],
    }
    odd = chase.odd
    if chase.motif == PERIOD_TO_CHECK and odd is not None:
        updated = as_date(odd.data.territory.values.get("updated_on"))
        values.update(odd_period=period_of(odd), updated=fr_date(updated) if updated else None)
        name = _motif_values("period_to_check", values, odd)
    elif chase.motif == RESENT_AS_IS and odd is not None:
        values.update(odd_period=period_of(odd))
        name = _motif_values("resent_as_is", values, odd)
    elif chase.motif == UNTOUCHED and odd is not None:
        name = _motif_values("untouched", values, odd)
    elif chase.motif == NOT_FILLED and chase.blank is not None:
        received_on = sent_on(chase.blank)
        values.update(received_on=fr_date(received_on) if received_on else None)
        name = _motif_values("not_filled", values, chase.blank)
    elif chase.motif == TO_FIX and chase.received is not None:
        values.update(warnings=chase.received.warnings)
        name = _motif_values("to_fix", values, chase.received)
    else:
        name = "not_received"
    return _templates().get_template(f"{name}.txt.j2").render(values)


def _motif_values(name: str, values: dict[str, object], report: WorkbookReport) -> str:
    """Adds the workbook's file name and its errors (each on one line) to `values`; `name` back."""
    values.update(file=one_line(Path(report.path).name),
                  errors=[one_line(issue_line(i)) for i in report.issues if i.severity == Severity.ERROR])
    return name


@functools.cache
def _templates() -> Environment:
    # Plain text: no escaping; a block tag's own line leaves no blank line behind.
    env = Environment(loader=PackageLoader("pvd_reporting.outputs", "mail_templates"), autoescape=False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      undefined=StrictUndefined)
    env.globals["plural"] = plural
    return env


def signed_by(chase: Chase, schema: Schema, departmental: bool) -> tuple[str, str]:
    """(sender, signature) of a draft: the region's (`[relances]`), or, from a `--departement` run,
    the territory's département's (`[relances.departements."54"]`), by default signed « Le
    référent départemental » with the département's name."""
    config = schema.config
    if not departmental:
        return config.reminder_sender, config.reminder_signature
    code = (chase.department or "").strip().upper()
    sender, signature = config.reminder_departments.get(code, ("", ""))
    if not signature:
        place = DEPARTMENT_NAMES.get(code) if code else None
        signature = "Le référent départemental Petites villes de demain" + (f"\n{place}" if place else "")
    return sender or config.reminder_sender, signature


def draft_bytes(chase: Chase, schema: Schema, period: str, max_bytes: int,
                cache: Cache | None = None, departmental: bool = False) -> tuple[bytes, bool]:
    """The .eml file of one draft (CRLF lines, as mail programs expect), and whether the
    attachment was left out for its size."""
    msg, too_big = draft(chase, schema, period, max_bytes=max_bytes, cache=cache, departmental=departmental)
    return msg.as_bytes(policy=policy.SMTP), too_big


def one_line(text: str | None) -> str:
    """A text from a workbook inside the body: on one line, without control characters."""
    return " ".join(_CONTROLS.sub(" ", text or "").split())
