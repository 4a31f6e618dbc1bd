"""Reminders (README, Le cycle trimestriel): `relances-<period>.csv`, the territories to chase, and
`relances-<period>/`, one mail draft per territory to chase that has a chef de projet's mail.

Who to chase and their contacts: `consolidate/chase.py`; each draft, its headers, body and attached
workbook: `outputs/mail.py`.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from pvd_reporting.atomic import atomic_write_bytes, atomic_write_text
from pvd_reporting.cache import Cache, open_cache
from pvd_reporting.consolidate.chase import SAME_DAY_CHECK, Chase, last_sent, to_chase
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.reference import Reference
from pvd_reporting.format.schema import Schema
from pvd_reporting.outputs.mail import (
    MAX_ATTACHMENT_BYTES,
    draft_bytes,
    file_stem,
    has_mail,
)
from pvd_reporting.outputs.report import CSV_DELIMITER, plural, safe_cell

CONTACT_COLUMNS = ("Chef de projet", "Mail", "Téléphone")


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

# --- writing ---------------------------------------------------------------------------------


def write_reminders(consolidation: Consolidation, output_dir: Path, schema: Schema, *,
                    no_contacts: bool = False, reference: Reference | None = None,
                    max_bytes: int = MAX_ATTACHMENT_BYTES, cache: Cache | Path | None = None,
                    chased: list[Chase] | None = None) -> Reminders:
    """The CSV, and the drafts' folder replaced whole (none with --no-contacts); `cache`: where
    the attached workbooks are kept between runs (see `attachment`); `chased`: `to_chase` of the
    consolidation, when already known."""
    store = open_cache(cache)
    period = consolidation.region.period
    folder = Path(output_dir)
    chased = to_chase(consolidation, reference) if chased is None else chased
    csv_path = atomic_write_text(folder / f"relances-{period}.csv",
                                 render_reminders_csv(chased, schema, no_contacts=no_contacts), encoding="utf-8-sig")
    drafts_dir = folder / f"relances-{period}"
    # « Deux versions du même jour » is for the referent to check: no mail goes out for it.
    jobs = [] if no_contacts else [c for c in chased if has_mail(c) and c.motif != SAME_DAY_CHECK]
    departmental = bool(consolidation.region.departments)
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
            data, too_big = draft_bytes(chase, schema, period, max_bytes, store, departmental)
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


def _free(names: set[str], stem: str) -> str:
    name, n = stem, 2
    while name in names:
        name, n = f"{stem}-{n}", n + 1
    names.add(name)
    return name


def _remove_tree(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
