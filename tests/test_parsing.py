"""French value parsers: examples from docs/format-1.md and property tests (round trips)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pvd_reporting.read.values import (
    parse_amount,
    parse_choice,
    parse_date,
    parse_department,
    parse_email,
    parse_insee,
    parse_int,
    parse_percent,
    parse_period,
    parse_phone,
    parse_pvd_id,
    parse_siren,
    parse_text,
    parse_yes_no,
)

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
SPACES = st.sampled_from([" ", "\u00a0", "\u202f"])


@pytest.mark.parametrize("value", [
    "15/03/2024", "15-03-2024", "15.03.2024", "2024-03-15", "15 mars 2024", "15 Mars 2024",
    "15/03/24", " 15/03/2024 ", 45366, 45366.0, date(2024, 3, 15), datetime(2024, 3, 15, 10, 30),
    "2024-03-15 00:00:00", "2024-03-15T00:00:00", "vendredi 15 mars 2024", "15 MARS 2024",
])
def test_date_accepted(value: object) -> None:
    assert parse_date(value) == date(2024, 3, 15)


def test_date_first_of_month() -> None:
    assert parse_date("1er mars 2024") == date(2024, 3, 1)
    assert parse_date("3 févr. 2025") == date(2025, 2, 3)
    assert parse_date("3 aout 2025") == date(2025, 8, 3)


@pytest.mark.parametrize("value", [
    "32/13/2024", "31/02/2024", "29/02/2023", "15/13/2024", "abc", "", "15 brumaire 2024", 12, -3,
    1e12, float("nan"), True, None, "2024-03", "15/03", "15/03/2024 à midi", "13/45/2024",
])
def test_date_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


@given(st.dates(min_value=date(1951, 1, 1), max_value=date(2099, 12, 31)),
       st.sampled_from(["{d:02d}/{m:02d}/{y}", "{d}/{m}/{y}", "{d:02d}-{m:02d}-{y}",
                        "{d:02d}.{m:02d}.{y}", "{y}-{m:02d}-{d:02d}", "{d} {month} {y}",
                        "{d:02d}/{m:02d}/{yy:02d}", "serial"]))
def test_date_round_trip(day: date, shape: str) -> None:
    if shape == "serial":
        value: object = (day - date(1899, 12, 30)).days
    else:
        if "{yy" in shape and not 1970 <= day.year <= 2069:
            return
        value = shape.format(d=day.day, m=day.month, y=day.year, yy=day.year % 100,
                             month=MONTHS[day.month - 1])
    assert parse_date(value) == day


@pytest.mark.parametrize("value,expected", [
    ("1 200 000 €", 1_200_000.0), ("1\u00a0200\u00a0000,50", 1_200_000.5),
    ("1\u202f200\u202f000,50 €", 1_200_000.5), ("1.200.000,50", 1_200_000.5),
    ("1200000.50", 1_200_000.5), ("1200000", 1_200_000.0), (1200, 1200.0), (12.5, 12.5),
    ("1 200 EUR", 1200.0), ("-3,5", -3.5), ("1,5 M€", 1_500_000.0), ("200 k€", 200_000.0),
    ("0", 0.0), ("1,200,000.50", 1_200_000.5), ("12.500", 12_500.0), ("€ 300", 300.0),
])
def test_amount_accepted(value: object, expected: float) -> None:
    assert parse_amount(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["abc", "", "12 abc", "1,2,3,4x", "€", True, None, "1e5", "--3",
                                   float("inf")])
def test_amount_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_amount(value)


def _french(amount: int, cents: int, sep: str, euro: bool) -> str:
    groups = f"{amount:,}".replace(",", sep)
    text = f"{groups},{cents:02d}" if cents else groups
    return f"{text} €" if euro else text


@given(st.integers(0, 10**10), st.integers(0, 99), SPACES, st.booleans())
def test_amount_french_round_trip(amount: int, cents: int, sep: str, euro: bool) -> None:
    assert parse_amount(_french(amount, cents, sep, euro)) == pytest.approx(amount + cents / 100)


@given(st.integers(1000, 10**10), st.integers(1, 99))
def test_amount_dot_grouping_round_trip(amount: int, cents: int) -> None:
    text = f"{amount:,}".replace(",", ".") + f",{cents:02d}"
    assert parse_amount(text) == pytest.approx(amount + cents / 100)


@pytest.mark.parametrize("value,expected", [
    ("0.8", 80.0), (0.8, 80.0), (80, 80.0), ("80 %", 80.0), ("80%", 80.0), ("80,5 %", 80.5),
    (1, 100.0), (100, 100.0), ("0,5 %", 0.5), (0, 0.0), ("50\u00a0%", 50.0),
])
def test_percent_accepted(value: object, expected: float) -> None:
    assert parse_percent(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["120 %", 150, -5, "-0,5", "abc", "", None, True])
def test_percent_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_percent(value)


@given(st.integers(0, 1000))
def test_percent_round_trip(tenths: int) -> None:
    pct = tenths / 10
    assert parse_percent(f"{str(pct).replace('.', ',')} %") == pytest.approx(pct)
    assert parse_percent(pct / 100) == pytest.approx(pct)
    if pct > 1 and pct.is_integer():
        assert parse_percent(pct) == pytest.approx(pct)  # 80: points
    elif pct > 1:
        # 1.2 in a percent cell is « 120 % » pasted: a fraction, above 100 %, never 1.2 %.
        with pytest.raises(ValueError, match="hors de 0 à 100 %"):
            parse_percent(pct)


def test_int() -> None:
    assert parse_int("2 663") == 2663
    assert parse_int("2\u202f663") == 2663
    assert parse_int(2663.0) == 2663
    with pytest.raises(ValueError):
        parse_int(2663.5)
    with pytest.raises(ValueError):
        parse_int("beaucoup")


@pytest.mark.parametrize("value", ["oui", "OUI", "Oui", "o", "x", "X", "yes", "true", "1", 1, True, "vrai"])
def test_yes(value: object) -> None:
    assert parse_yes_no(value) is True


@pytest.mark.parametrize("value", ["non", "NON", "n", "no", "false", "0", 0, False, "faux"])
def test_no(value: object) -> None:
    assert parse_yes_no(value) is False


@pytest.mark.parametrize("value", ["peut-être", "", 2, None])
def test_yes_no_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_yes_no(value)


def test_choice_matches_without_case_or_accents(schema) -> None:
    themes = schema.lists["thematique"]
    assert parse_choice(themes, "renovation de l'HABITAT") == "Rénovation de l'habitat"
    assert parse_choice(themes, "Rénovation  de l’habitat ") == "Rénovation de l'habitat"
    with pytest.raises(ValueError):
        parse_choice(themes, "Cuisine")


@pytest.mark.parametrize("value", ["2025-T4", "2025-Q4", "T4 2025", "2025 T4", "t4-2025", "2025T4",
                                   "4e trimestre 2025", "4ème trimestre 2025", " 2025-t4 "])
def test_period(value: str) -> None:
    assert parse_period(value) == "2025-T4"


@pytest.mark.parametrize("value", ["2025-T5", "2025-T0", "2025", "T4", "hier", "", 2025])
def test_period_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_period(value)


@pytest.mark.parametrize("value,expected", [
    (67, "67"), ("67", "67"), (67.0, "67"), (6, "06"), ("6", "06"), ("2a", "2A"), ("2B", "2B"),
    (971, "971"), ("976", "976"),
])
def test_department(value: object, expected: str) -> None:
    assert parse_department(value) == expected


@pytest.mark.parametrize("value", ["20", "96", "977", "00", "2C", "abc", "", 0, 100])
def test_department_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_department(value)


@pytest.mark.parametrize("value,expected", [
    ("67437", "67437"), (67437, "67437"), (1234, "01234"), (1234.0, "01234"), ("2a004", "2A004"),
    ("97411", "97411"), ("1234", "01234"),
])
def test_insee(value: object, expected: str) -> None:
    assert parse_insee(value) == expected


@pytest.mark.parametrize("value", ["674", "674377", "2C004", "ABCDE", "00123", "20004", 12, "", 67437.5])
def test_insee_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_insee(value)


def _luhn_key(body: str) -> str:
    for key in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(body + key)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return key
    raise AssertionError


@given(st.integers(10_000_000, 99_999_999))
def test_siren_luhn(body_int: int) -> None:
    body = str(body_int)
    siren = body + _luhn_key(body)
    assert parse_siren(siren) == siren
    assert parse_siren(f"{siren[:3]} {siren[3:6]}\u00a0{siren[6:]}") == siren
    wrong = body + str((int(_luhn_key(body)) + 1) % 10)
    with pytest.raises(ValueError, match="clé"):
        parse_siren(wrong)


def test_siren_reasons() -> None:
    assert parse_siren(200067783) == "200067783"
    with pytest.raises(ValueError, match="9 chiffres"):
        parse_siren("2000677")
    with pytest.raises(ValueError, match="9 chiffres"):
        parse_siren("20006778A")


def test_pvd_id() -> None:
    assert parse_pvd_id("PVD-44-67-3") == "pvd-44-67-3"
    assert parse_pvd_id("pvd-94-2a-12") == "pvd-94-2a-12"
    assert parse_pvd_id("pvd-01-971-2") == "pvd-01-971-2"
    for bad in ("pvd-44-67", "44-67-3", "pvd-4-67-3", "pvd-44-67-x"):
        with pytest.raises(ValueError):
            parse_pvd_id(bad)


def test_email() -> None:
    assert parse_email(" claire.muller@hanau.fr ") == "claire.muller@hanau.fr"
    assert parse_email("mailto:a@b.fr") == "a@b.fr"
    for bad in ("claire.muller", "a@b", "a@@b.fr", "a b@c.fr", "@b.fr", "a@.fr"):
        with pytest.raises(ValueError):
            parse_email(bad)


@pytest.mark.parametrize("value", ["03 88 12 34 56", "0388123456", "03.88.12.34.56", "03-88-12-34-56",
                                   "+33 3 88 12 34 56", "+33388123456", "0033 3 88 12 34 56",
                                   "+33 (0)3 88 12 34 56", 388123456, 388123456.0])
def test_phone(value: object) -> None:
    assert parse_phone(value) == "03 88 12 34 56"


@pytest.mark.parametrize("value", ["03 88 12 34", "3881234567", "+33 3 88 12 34", "00 88 12 34 56",
                                   "+44 20 7946 0958", "abc", "", "03 88 12 34 56 78"])
def test_phone_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_phone(value)


@given(st.integers(1, 9), st.integers(0, 10**8 - 1), st.sampled_from([" ", ".", "-", ""]))
def test_phone_round_trip(first: int, rest: int, sep: str) -> None:
    digits = f"0{first}{rest:08d}"
    shown = " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    assert parse_phone(sep.join(digits[i:i + 2] for i in range(0, 10, 2))) == shown
    assert parse_phone("+33" + digits[1:]) == shown


def test_text() -> None:
    assert parse_text("  A1 ") == "A1"
    assert parse_text(12.0) == "12"
    assert parse_text(1.5) == "1.5"
    assert parse_text(7) == "7"
    assert parse_text(None) == ""
    assert parse_text(date(2024, 3, 15)) == "15/03/2024"
