"""What a territory workbook holds once read: values parsed, each with the cell it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Record:
    """One data row of a table sheet, or the Territoire form (row None).

    `values` holds parsed values by field key (None when blank or unreadable); `raw` the values
    as read; `cells` the A1 reference of each field on the workbook's own sheet.
    """

    sheet: str  # the schema's sheet name, e.g. "Engagements"
    row: int | None  # 1-based row on the source sheet
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    # OK · Avertissement · Erreur, from the issues found on this row.
    control: str = "OK"
    # A total row is kept for the record but never counted (docs/format-1.md).
    is_total: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value


@dataclass
class WorkbookData:
    """A territory workbook, read and parsed. Tables are keyed by the schema's table key."""

    territory: Record
    tables: dict[str, list[Record]] = field(default_factory=dict)
    version: str | None = None
    # The quarter a carried-forward workbook was made from (its Lisez-moi says so), else None.
    carried_from: str | None = None
    # The sheet titles as found in the file, by schema key (for messages and cell references).
    sheet_titles: dict[str, str] = field(default_factory=dict)
    # Columns found beyond the schema's (header label -> values by row), kept for the record.
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    # The digest of the data pvd-report wrote into it (read/digest.py), when it wrote one.
    stamp: str | None = None

    def rows(self, key: str) -> list[Record]:
        """Data rows of a table, without total rows."""
        return [r for r in self.tables.get(key, []) if not r.is_total]
