"""Whether a workbook came back as it was sent: nothing filled beyond what `template` pre-fills.

`template --territory/--region` pre-fills the Territoire identity (from the reference list), the
period, the Communes rows, the eight Jalons rows and J1's date when the reference knows it. A
workbook with no `Date de mise à jour` and nothing more is « Non rempli »: counted as not received.
So is any workbook pvd-report wrote (template, `template --from`, a reminder's attachment) whose
data still equal the digest it recorded in it: a carried-forward workbook returned untouched is
last quarter's data, not this quarter's report.
"""

from __future__ import annotations

from pvd_reporting.format.schema import COMMUNES, JALONS, Schema
from pvd_reporting.format.vocabulary import J1, milestone_code
from pvd_reporting.read.digest import data_digest
from pvd_reporting.read.records import WorkbookData
from pvd_reporting.read.values import is_blank

# What the template writes on the Territoire sheet of a pre-filled workbook.
PREFILLED_FORM = frozenset({"id_pvd", "name", "department", "region", "epci", "siren", "period"})
PREFILLED_TABLES = frozenset({COMMUNES, JALONS})


def _blank(values: dict[str, object], raw: dict[str, object], key: str) -> bool:
    return is_blank(values.get(key)) and is_blank(raw.get(key))


def left_as_received(data: WorkbookData, schema: Schema) -> bool:
    form = data.territory
    if not _blank(form.values, form.raw, "updated_on"):
        return False
    for f in schema.form.fields:
        if f.key not in PREFILLED_FORM and not _blank(form.values, form.raw, f.key):
            return False
    for key, rows in data.tables.items():
        if key not in PREFILLED_TABLES and rows:
            return False
    for record in data.rows(JALONS):
        code = milestone_code(record.values.get("code") or record.raw.get("code"),
                              record.values.get("label") or record.raw.get("label"))
        for key in schema.table(JALONS).keys:
            if key in ("code", "label") or (key == "done_on" and code == J1):
                continue
            if not _blank(record.values, record.raw, key):
                return False
    return True


def returned_untouched(data: WorkbookData, schema: Schema) -> bool:
    """A workbook pvd-report wrote (template, carried forward, a reminder's attachment) whose
    data are still exactly what it wrote: its recorded digest is its data's (read/digest.py)."""
    return data.stamp is not None and data.stamp == data_digest(schema, data)

