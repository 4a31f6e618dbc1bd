"""A figure as French text, the same wherever a page shows it (the dashboard's cards and table,
the note): narrow no-break thousands, a real minus sign, « — » for no value; and its change
since the quarter before, signed, or « = »."""

from __future__ import annotations

from typing import Any

from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.format import french
from pvd_reporting.format.french import MINUS

# Below these, a change reads « = »: half a euro, no territory, a twentieth of a month or a point.
_SAME = {ValueKind.EUROS: 0.5, ValueKind.COUNT: 1.0}
_SAME_ELSE = 0.05


def figure_text(value: Any, kind: ValueKind, *, unit: bool = True) -> str:
    """`54 570 000 €`, `12`, `23,8 mois` (`23,8` without `unit`), `33,4 %`; « — » for None."""
    if value is None:
        return "—"
    if kind == ValueKind.EUROS:
        text = french.fr_money(round(value), french.NARROW)
    elif kind == ValueKind.COUNT:
        text = french.fr_int(value, french.NARROW)
    elif kind == ValueKind.MONTHS:
        text = french.fr_decimal(value) + (" mois" if unit else "")
    elif kind == ValueKind.SHARE:
        text = f"{french.fr_decimal(value * 100)}\u00a0%"
    else:
        return str(value)
    return text.replace("-", MINUS)


def change_text(before: float, now: float, kind: ValueKind) -> str:
    """`+2`, `−1 200 €`, `+0,3`, or « = » when it did not move."""
    delta = now - before
    if abs(delta) < _SAME.get(kind, _SAME_ELSE):
        return "="
    return ("+" if delta > 0 else MINUS) + figure_text(abs(delta), kind, unit=False)
