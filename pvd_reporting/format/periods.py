"""Quarters: the reporting periods of docs/format-1.md (`2025-T4`) and the comité cadence of docs/format-1.md."""

from __future__ import annotations

import calendar
import re
from datetime import date

Quarter = tuple[int, int]  # (year, 1..4)

# A period as parsing.parse_period writes it; `Q` is accepted for labels made by other tools.
_LABEL = re.compile(r"^\s*(\d{4})\s*-\s*[TQ]([1-4])\s*$", re.IGNORECASE)


def quarter_of(day: date) -> Quarter:
    return day.year, (day.month - 1) // 3 + 1


def parse_label(label: object) -> Quarter | None:
    """`2025-T4` -> (2025, 4); None for anything else."""
    match = _LABEL.match(label) if isinstance(label, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def quarter_label(quarter: Quarter) -> str:
    return f"{quarter[0]}-T{quarter[1]}"


def quarters(start: Quarter, end: Quarter) -> list[Quarter]:
    """Every quarter from start to end, both included (empty when start is after end)."""
    out: list[Quarter] = []
    year, q = start
    while (year, q) <= end:
        out.append((year, q))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def previous_quarters(end: Quarter, count: int) -> list[Quarter]:
    """The `count` quarters ending with `end`, oldest first."""
    year, q = end
    out = [(year, q)]
    for _ in range(count - 1):
        year, q = (year - 1, 4) if q == 1 else (year, q - 1)
        out.append((year, q))
    return out[::-1]


# A workbook updated more than this many months after its period ends declares a period to check.
PERIOD_BEFORE_UPDATE_MONTHS = 6


def months_before(day: date, months: int) -> date:
    """Calendar months earlier, clamped to the month's end: 31/08 − 6 months = 28/02 or 29/02."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def ends_long_before(period: Quarter, updated_on: date) -> bool:
    """The period ended more than six months before the update (`period-before-update`)."""
    return last_day(period) < months_before(updated_on, PERIOD_BEFORE_UPDATE_MONTHS)


def first_day(quarter: Quarter) -> date:
    return date(quarter[0], 3 * quarter[1] - 2, 1)


def last_day(quarter: Quarter) -> date:
    year, q = quarter
    month = 3 * q
    return date(year, month, calendar.monthrange(year, month)[1])


CADENCE_QUARTERS = 4  # a Comité de projet at least once a quarter, judged over the last year


def cadence_window(reporting: Quarter, installed_on: date | None) -> list[Quarter]:
    """The quarters a Comité de projet is owed in: the last four up to the reporting quarter,
    or only those since the quarter it was installed (J3) when that is more recent.

    The one definition used by `validate` (comite-cadence) and by the regional view, so that
    the two never disagree.
    """
    window = previous_quarters(reporting, CADENCE_QUARTERS)
    if installed_on is not None:
        window = [q for q in window if q >= quarter_of(installed_on)]
    return window


def quarters_without(window: list[Quarter], meetings: list[date]) -> list[Quarter]:
    """The quarters of `window` in which none of `meetings` took place."""
    held = {quarter_of(day) for day in meetings}
    return [q for q in window if q not in held]
