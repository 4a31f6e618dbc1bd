"""Numbers, amounts and dates written the French way, for messages, the dashboard and charts."""

from __future__ import annotations

from datetime import date, datetime, time

# Messages (terminal, CSV, Excel comments) group digits with a plain space; HTML and charts use
# the narrow no-break space of French typography, so an amount never breaks across lines.
PLAIN, NARROW = " ", "\u202f"
MINUS = "\u2212"  # the real minus sign of French typography, in pages and charts


def fr_int(value: float, space: str = PLAIN) -> str:
    """`1 200 000`, rounded to the unit."""
    return f"{round(value):,}".replace(",", space)


def fr_money(amount: float, space: str = PLAIN) -> str:
    """`1 200 000 €`, or `1 200 000,50 €` when there are cents."""
    rounded = round(amount, 2)
    if rounded == int(rounded):
        text = fr_int(rounded, space)
    else:
        text = f"{rounded:,.2f}".replace(",", space).replace(".", ",")
    return f"{text}{space}€"


def fr_date(value: date) -> str:
    """`15/03/2024`; a datetime with a time of day keeps it: `15/03/2024 14:30`."""
    if isinstance(value, datetime) and value.time() != time(0, 0):
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def fr_decimal(value: float) -> str:
    """One decimal, with a comma: `23,8`."""
    return f"{value:.1f}".replace(".", ",")


def fr_number(value: float) -> str:
    """At most one decimal, no trailing zero: `80`, `62,5`."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
