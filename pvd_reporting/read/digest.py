"""The digest of a workbook's data, as the reader sees it: what `template`, `template --from` and
a reminder's attachment record in the workbook they write (custom property `pvd_empreinte`), so
that a workbook sent back with exactly that data is known for « Non rempli », in every quarter.

Both sides give the same digest: the writer's values go through the reader's own parsing
(`CellParser`), the reader's values are those it parsed (the value as typed where it could not
parse it); each is then written one canonical way (a date as ISO, a number without its float
noise, a text stripped). Formatting, column widths, the file's time and its zip are not data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pvd_reporting.format.schema import DIGEST_PROPERTY, Field, Schema
from pvd_reporting.read.grid import CellParser, clean_raw
from pvd_reporting.read.records import Record, WorkbookData
from pvd_reporting.read.values import is_blank

__all__ = ["DIGEST_PROPERTY", "content_digest", "data_digest"]


def _canonical(value: Any) -> str | None:
    if value is None or is_blank(value):
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return format(round(float(value), 6), ".15g")
    return str(value).strip() or None


def _digest(form: list[str | None], tables: list[list[list[str | None]]]) -> str:
    text = json.dumps([form, tables], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows(rows: list[list[str | None]]) -> list[list[str | None]]:
    # A row with nothing in it is no row: the reader skips it.
    return [row for row in rows if any(v is not None for v in row)]


def content_digest(schema: Schema, form: Mapping[str, Any], tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The digest of what a writer puts in the cells (its `Content`), read as the reader reads it."""
    parser = CellParser(schema, [])

    def parsed(f: Field, value: Any) -> str | None:
        raw = clean_raw(value)
        if is_blank(raw):
            return None
        found = parser.parse(f, raw, "", "", None)
        parser.issues.clear()
        return _canonical(raw if found is None else found)

    form_values = [parsed(f, form.get(f.key)) for f in schema.form.fields]
    table_values = [_rows([[parsed(f, row.get(f.key)) for f in t.columns] for row in tables.get(t.key, [])])
                    for t in schema.tables]
    return _digest(form_values, table_values)


def _value(record: Record, key: str) -> str | None:
    value = record.values.get(key)
    return _canonical(record.raw.get(key) if value is None else value)


def data_digest(schema: Schema, data: WorkbookData) -> str:
    """The digest of a workbook as read: equal to `content_digest` of what was written in it
    when nobody changed a value since."""
    form_values = [_value(data.territory, f.key) for f in schema.form.fields]
    table_values = [_rows([[_value(r, f.key) for f in t.columns] for r in data.tables.get(t.key, [])])
                    for t in schema.tables]
    return _digest(form_values, table_values)
