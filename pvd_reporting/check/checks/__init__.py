"""One object per rule of the format (`Check`, a module per sheet), holding all of its rule.
May import `check.context`, `check.formulas`, `check.live`, `read` and `format`; never `check.rules`.
"""

from __future__ import annotations

from pvd_reporting.check.checks import (
    annuaire,
    comites,
    communes,
    engagements,
    ingenierie,
    jalons,
    territory,
)
from pvd_reporting.check.checks.base import Check, Live, Words, reading, typed
from pvd_reporting.check.formulas import LiveCheck, blank
from pvd_reporting.check.live import filled_row, total_row
from pvd_reporting.format.issues import IssueCode
from pvd_reporting.format.schema import (
    ANNUAIRE,
    COMITES,
    COMMUNES,
    ENGAGEMENTS,
    INGENIERIE,
    JALONS,
    Schema,
)
from pvd_reporting.read import values as parsing
from pvd_reporting.read.grid import read_table

__all__ = ["Check", "Live", "checks", "live_checks"]


def live_checks(schema: Schema, *, carried: bool = False) -> tuple[LiveCheck, ...]:
    """Every live check of the workbook, in the order of the sheets."""
    return tuple(c.live_check() for c in checks(schema, carried=carried) if c.live is not None)


def checks(schema: Schema, *, carried: bool = True) -> tuple[Check, ...]:
    """Every rule, sheet by sheet: the only list of them. Everything else is derived from it: the
    Python `validate` runs (check/rules.py), the live checks of the template (colours and the
    rows of the `Contrôles` sheet), the rules tables of docs/format-1.md and the table of
    docs/controles.md (scripts/make_format_doc.py). `carried`: with the rules of a workbook
    carried forward from last quarter (what the new quarter has made out of date)."""
    w = Words(schema)
    out = territory.rules(schema, w)
    for table in schema.tables:
        if not table.fixed_rows:
            first, second = table.keys[:2]
            out.append(reading(IssueCode.TOTAL_ROW, table.key, (first, second), read_table,
                               Live("Une ligne de total : elle n'est pas comptée, supprimez-la", total_row(first),
                                    skip_totals=False)))
        required = tuple(c.key for c in table.columns if c.required)
        if required:
            out.append(reading(IssueCode.REQUIRED_VALUE, table.key, required, parsing.is_blank,
                               Live("Une case obligatoire est vide sur une ligne commencée", lambda r, k: blank(r[k]),
                                    factor=filled_row(table.keys))))
        fixed = {"code", "label"} if table.fixed_rows else set()
        out += typed(schema, table.key, tuple(c for c in table.columns if c.key not in fixed))
        if table.key == COMMUNES:
            out += communes.rules(table, w, schema.config.population_limit)
        elif table.key == JALONS:
            out += jalons.rules(table, carried)
        elif table.key == ENGAGEMENTS:
            out += engagements.rules(schema, w, carried)
        elif table.key == COMITES:
            out += comites.rules(w)
        elif table.key == INGENIERIE:
            out += ingenierie.rules()
        elif table.key == ANNUAIRE:
            out += annuaire.rules(table, w)
    return tuple(out)
