"""French value parsers (docs/format-1.md): what people type in a workbook, turned into typed values.

Each function returns the parsed value or raises ValueError; the reader turns the error into an
issue with its cell. The ValueError text is a short French reason, safe to show to a user.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pvd_reporting.format.french import fr_date
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import DEPARTMENTS

# Excel's 1900 date system counts from 1899-12-30 (it believes 1900 was a leap year).
_EXCEL_EPOCH = date(1899, 12, 30)
# Serials outside 1950-2100 are far more likely an amount or a typo than a date.
_SERIAL_MIN = (date(1950, 1, 1) - _EXCEL_EPOCH).days
_SERIAL_MAX = (date(2100, 12, 31) - _EXCEL_EPOCH).days
_YEAR_MIN, _YEAR_MAX = 1900, 2100

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}
_WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+"
_DMY = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{4}|\d{2})")
_YMD = re.compile(r"(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})")
_TIME_TAIL = re.compile(r"(?:[ t]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_WORDS = re.compile(rf"(?:{_WEEKDAYS})?(\d{{1,2}})(?:er)?\s+([a-z]+)\.?\s+(\d{{4}})")

# Every kind of space a spreadsheet or a word processor puts between digit groups.
# Beyond these a value is a typo or a hostile file, never a PVD figure: refused with its cell, so
# that no sum or conversion to cents overflows downstream.
MAX_AMOUNT = 1e12  # euros, either sign
MAX_COUNT = 1_000_000_000  # a population, a count

_SPACES = dict.fromkeys(map(ord, " \u00a0\u202f\u2009\u2007\t'’"), None)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_finite(v: float) -> float:
    if math.isnan(v) or math.isinf(v):
        raise ValueError("nombre non fini")
    return float(v)


def _make_date(year: int, month: int, day: int) -> date:
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        raise ValueError(f"année {year} hors de {_YEAR_MIN}-{_YEAR_MAX}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"date impossible {day:02d}/{month:02d}/{year}") from None


def _serial_to_date(serial: float) -> date:
    if not _SERIAL_MIN <= serial <= _SERIAL_MAX:
        raise ValueError("nombre qui n'est pas une date")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date(v: object) -> date:
    """A date from a real date, an Excel serial or French text (15/03/2024, 15 mars 2024…)."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if _is_number(v):
        return _serial_to_date(_check_finite(float(v)))  # type: ignore[arg-type]
    if not isinstance(v, str):
        raise ValueError("pas une date")
    s = norm(v)
    if not s:
        raise ValueError("date vide")
    if s.isdigit() and len(s) == 5:
        return _serial_to_date(int(s))
    m = _DMY.fullmatch(s)
    if m:
        day, month, year = int(m[1]), int(m[3]), m[4]
        return _make_date(_century(year), month, day)
    m = _YMD.match(s)
    if m and _TIME_TAIL.fullmatch(s, m.end()):
        return _make_date(int(m[1]), int(m[3]), int(m[4]))
    m = _WORDS.fullmatch(s)
    if m:
        month_number = _MONTHS.get(m[2])
        if month_number is None:
            raise ValueError(f"mois inconnu « {m[2]} »")
        return _make_date(int(m[3]), month_number, int(m[1]))
    raise ValueError("format de date inconnu")


def _century(year: str) -> int:
    if len(year) == 4:
        return int(year)
    # Two-digit years: 24 -> 2024, 85 -> 1985 (a PVD date is never before 1970).
    y = int(year)
    return 2000 + y if y < 70 else 1900 + y


def _plain_number(text: str) -> float:
    """`1 200 000,50`, `1.200.000,50`, `1200000.50` -> float (no currency, no unit)."""
    s = text.translate(_SPACES).replace("\u2212", "-")
    if not s:
        raise ValueError("nombre vide")
    has_dot, has_comma = "." in s, "," in s
    if has_dot and has_comma:
        # The last separator is the decimal one: 1.200.000,50 or 1,200,000.50.
        if s.rfind(",") > s.rfind("."):
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif has_comma:
        s = s.replace(",", "") if s.count(",") > 1 else s.replace(",", ".")
    elif has_dot and (s.count(".") > 1 or re.fullmatch(r"[+-]?[1-9]\d{0,2}\.\d{3}", s)):
        # 1.200.000 or 1.200: in French a dot groups thousands.
        s = s.replace(".", "")
    if not _NUMBER.fullmatch(s):
        raise ValueError("pas un nombre")
    return float(s)


_CURRENCY = re.compile(r"\s*(?:€|eur|euros?)\s*(?:ht|ttc)?\s*$|^\s*(?:€|eur)\s*", re.IGNORECASE)
_MULTIPLIER = re.compile(r"^(.*?)\s*(k|m|md|mds)\s*$", re.IGNORECASE)
_FACTORS = {"k": 1e3, "m": 1e6, "md": 1e9, "mds": 1e9}


def parse_amount(v: object) -> float:
    """An amount in euros: numbers, `1 200 000 €`, `1.200.000,50`, `1,5 M€`."""
    if type(v) is float and math.isfinite(v):  # the usual cell, checked here: every amount passes
        return _bounded_amount(v)
    if _is_number(v):
        return _bounded_amount(_check_finite(float(v)))  # type: ignore[arg-type]
    if not isinstance(v, str):
        raise ValueError("pas un montant")
    s = _CURRENCY.sub("", v.strip())
    factor = 1.0
    m = _MULTIPLIER.match(s)
    if m and m[1]:
        s, factor = m[1], _FACTORS[m[2].lower()]
    value = _check_finite(_plain_number(s) * factor)
    return _bounded_amount(round(value, 2) if factor != 1.0 else value)


def _bounded_amount(value: float) -> float:
    if abs(value) > MAX_AMOUNT:
        raise ValueError("montant au-delà de mille milliards d'euros")
    return value


def parse_percent(v: object) -> float:
    """A percent from 0 to 100: `0.8` and `80` and `80 %` all give 80.0."""
    if isinstance(v, str) and v.strip().endswith("%"):
        value = _check_finite(_plain_number(v.strip()[:-1]))
    else:
        if isinstance(v, str):
            value = _check_finite(_plain_number(v.strip()))
        elif _is_number(v):
            value = _check_finite(float(v))  # type: ignore[arg-type]
        else:
            raise ValueError("pas un pourcentage")
        # Excel stores 80 % as 0.8: a number up to 1 is a fraction; so is a number above 1 that is
        # not whole (1.2 is « 120 % » pasted: above 100 %, never 1.2 %). A whole one is points (80).
        if 0 <= value <= 1 or (not isinstance(v, str) and value > 1 and not value.is_integer()):
            value = round(value * 100, 9)
    if not 0 <= value <= 100:
        raise ValueError("hors de 0 à 100 %")
    return value


def parse_int(v: object) -> int:
    """A whole number such as a population: `2 663`, 2663.0."""
    if _is_number(v):
        value = _check_finite(float(v))  # type: ignore[arg-type]
    elif isinstance(v, str):
        value = _plain_number(v.strip())
    else:
        raise ValueError("pas un nombre entier")
    value = _check_finite(value)
    if abs(value) > MAX_COUNT:
        raise ValueError("nombre hors des limites")
    if value != int(value):
        raise ValueError("pas un nombre entier")
    return int(value)


_YES = frozenset({"oui", "o", "x", "yes", "y", "true", "vrai", "1", "ok"})
_NO = frozenset({"non", "n", "no", "false", "faux", "0"})


def parse_yes_no(v: object) -> bool:
    """Oui/Non as people type it: `oui`, `OUI`, `x`, `non`, 1, 0, TRUE…"""
    if isinstance(v, bool):
        return v
    if _is_number(v) and v in (0, 1):
        return bool(v)
    key = norm(v).rstrip(".!") if isinstance(v, str) else ""
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError("ni oui ni non")


@lru_cache(maxsize=128)
def _choice_index(values: tuple[str, ...]) -> dict[str, str]:
    return {norm(value): value for value in values}


def parse_choice(values: tuple[str, ...], v: object) -> str:
    """The list's own spelling of `v`, matched without case, accents or extra spaces."""
    found = _choice_index(values).get(norm(parse_text(v)))
    if found is None:
        raise ValueError("valeur hors liste")
    return found


_PERIOD_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*[-/ ]?\s*[tq](?P<q>\d)"),
    re.compile(r"[tq](?P<q>\d)\s*[-/ ]?\s*(?P<y>\d{4})"),
    re.compile(r"(?P<q>\d)\s*(?:er|e|eme|ème)?\s+trimestre\s+(?P<y>\d{4})"),
)


def parse_period(v: object) -> str:
    """A quarter as `2025-T4`, from `2025-T4`, `2025-Q4`, `T4 2025`, `4e trimestre 2025`."""
    s = norm(parse_text(v))
    for pattern in _PERIOD_PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            year, quarter = int(m["y"]), int(m["q"])
            if 1 <= quarter <= 4 and 2000 <= year <= 2100:
                return f"{year}-T{quarter}"
            raise ValueError("trimestre impossible")
    raise ValueError("période illisible")


_DEPARTMENT_SET = frozenset(DEPARTMENTS)


def parse_department(v: object) -> str:
    """A department code: 67, `06` (also 6), `2A`, `971`."""
    s = parse_text(v).upper().replace(" ", "")
    if len(s) == 1 and s.isdigit():
        s = "0" + s
    if s not in _DEPARTMENT_SET:
        raise ValueError("département inconnu")
    return s


_INSEE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
_INSEE_PREFIXES = frozenset(d for d in DEPARTMENTS if len(d) == 2)


def parse_insee(v: object) -> str:
    """A commune code: 5 characters, digits or 2A/2B + 3 digits; Excel's 1234 gives `01234`."""
    if _is_number(v):
        number = _check_finite(float(v))  # type: ignore[arg-type]
        if number != int(number) or not 1000 <= number <= 99999:
            raise ValueError("code INSEE invalide")
        s = f"{int(number):05d}"
    else:
        s = parse_text(v).upper().replace(" ", "")
        if len(s) == 4 and s.isdigit():
            s = "0" + s  # the leading zero lost by a spreadsheet or a CSV export
    if not _INSEE.fullmatch(s):
        raise ValueError("code INSEE invalide")
    if s[:2] not in _INSEE_PREFIXES and not ("971" <= s[:3] <= "976"):
        raise ValueError("département du code INSEE inconnu")
    return s


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def parse_siren(v: object) -> str:
    """A SIREN: 9 digits (spaces allowed) with a valid Luhn key."""
    if _is_number(v):
        number = _check_finite(float(v))  # type: ignore[arg-type]
        if number != int(number) or number < 0:
            raise ValueError("9 chiffres attendus")
        s = f"{int(number):09d}"
    else:
        s = parse_text(v).translate(_SPACES).replace(".", "")
    if not s.isdigit() or not s.isascii():
        raise ValueError("9 chiffres attendus, sans lettre")
    if len(s) != 9:
        raise ValueError(f"9 chiffres attendus, {len(s)} trouvés")
    if not _luhn_ok(s):
        raise ValueError("clé de contrôle incorrecte, vérifiez les chiffres")
    return s


# The département part is one code, or two joined for a territory across a border
# (ANCT's own list has pvd-44-5455-1, Bouligny and Piennes, in 54 and 55).
_DEP = r"(?:\d{2}|2[ab]|\d{3})"
_PVD_ID = re.compile(rf"pvd-(\d{{2}})-({_DEP}{_DEP}?)-(\d{{1,4}})")


def parse_pvd_id(v: object) -> str:
    """An ANCT identifier `pvd-RR-DD-N` (case-insensitive), normalised to lower case."""
    s = parse_text(v).lower().replace(" ", "").replace("_", "-").replace("–", "-")
    if not _PVD_ID.fullmatch(s):
        raise ValueError("identifiant PVD invalide")
    return s


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
)


class SeveralAddresses(ValueError):
    """A mail cell that holds more than one address (or a name beside it)."""


ONE_ADDRESS = "une seule adresse par cellule, sans nom ni séparateur : une autre adresse va sur une autre ligne"


def parse_email(v: object) -> str:
    """One e-mail address (a leading `mailto:` is dropped). A draft's recipient is set from this
    value alone, so a cell that could read as two addresses (a comma, a semicolon, several « @ »,
    a name in angle brackets) is refused whole rather than cut; the dot-atom pattern below also
    refuses spaces and quotes, and leaves nothing an address parser could split."""
    s = parse_text(v)
    if s.lower().startswith("mailto:"):
        s = s[7:].strip()
    if s.count("@") > 1 or any(c in s for c in ",;<>"):
        raise SeveralAddresses(ONE_ADDRESS)
    # `=?` would read as an encoded-word to some mail programs.
    if not _EMAIL.fullmatch(s) or "=?" in s:
        raise ValueError("adresse mail invalide")
    return s


_PHONE_JUNK = dict.fromkeys(map(ord, " \u00a0\u202f\u2009.-/()"), None)


def parse_phone(v: object) -> str:
    """A French number: 10 digits from 0, or +33/0033 and 9 digits; gives `03 88 12 34 56`."""
    if _is_number(v):
        number = _check_finite(float(v))  # type: ignore[arg-type]
        if number != int(number) or number < 0:
            raise ValueError("numéro invalide")
        s = str(int(number))
        if len(s) == 9:
            s = "0" + s  # Excel drops the leading zero of a number typed as a number
    else:
        s = parse_text(v).replace("(0)", "").translate(_PHONE_JUNK)
    if s.startswith("+33"):
        s = "0" + s[3:]
    elif s.startswith("0033"):
        s = "0" + s[4:]
    if not (len(s) == 10 and s.isdigit() and s.isascii() and s[0] == "0" and s[1] != "0"):
        raise ValueError("numéro invalide")
    return " ".join(s[i : i + 2] for i in range(0, 10, 2))


def parse_text(v: object) -> str:
    """Text as shown: stripped; whole numbers without `.0`; dates as jj/mm/aaaa."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return "Oui" if v else "Non"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v) and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    if isinstance(v, date):
        return fr_date(v)
    return str(v).strip()


def as_date(value: Any) -> date | None:
    """A parsed value as a date, or None (a datetime keeps its day)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
