"""Option values as people type them on the command line, parsed once for every command."""

from __future__ import annotations

from datetime import date

from pvd_reporting.errors import UsageError
from pvd_reporting.read.values import parse_date, parse_period


def period_value(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return parse_period(text)
    except ValueError:
        raise UsageError(f"Période illisible : « {text} » (attendu 2025-T4, 2025-Q4 ou T4 2025).") from None


def date_value(text: str | date | None, option: str) -> date | None:
    if text is None or isinstance(text, date):
        return text
    try:
        return parse_date(text)
    except ValueError:
        raise UsageError(f"Date illisible pour {option} : « {text} » (attendu jj/mm/aaaa).") from None
