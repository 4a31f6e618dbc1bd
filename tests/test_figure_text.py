"""One French text for a figure and its change since T-1, on the dashboard and in the note."""

from __future__ import annotations

from pvd_reporting.consolidate.figures import ValueKind
from pvd_reporting.outputs.figure_text import change_text, figure_text

NARROW, MINUS = "\u202f", "\u2212"


def test_each_kind_reads_the_french_way() -> None:
    assert figure_text(54_570_000.4, ValueKind.EUROS) == f"54{NARROW}570{NARROW}000{NARROW}€"
    assert figure_text(-1094, ValueKind.COUNT) == f"{MINUS}1{NARROW}094"
    assert figure_text(35.94, ValueKind.MONTHS) == "35,9 mois"
    assert figure_text(35.94, ValueKind.MONTHS, unit=False) == "35,9"
    assert figure_text(0.334, ValueKind.SHARE) == "33,4\u00a0%"
    assert figure_text(None, ValueKind.EUROS) == "—"
    assert figure_text("Marne", ValueKind.TEXT) == "Marne"


def test_a_change_is_signed_or_the_same() -> None:
    assert change_text(12, 11, ValueKind.COUNT) == f"{MINUS}1"
    assert change_text(4, 5, ValueKind.COUNT) == "+1"
    assert change_text(60_930_000, 54_570_000, ValueKind.EUROS) == f"{MINUS}6{NARROW}360{NARROW}000{NARROW}€"
    assert change_text(1000.0, 1000.3, ValueKind.EUROS) == "="
    assert change_text(23.8, 23.82, ValueKind.MONTHS) == "="
    assert change_text(23.8, 24.1, ValueKind.MONTHS) == "+0,3"
