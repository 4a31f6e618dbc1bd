"""The conditions of the live checks that take more than a line, in check/formulas.py's language;
check/checks/ gives each to its rule. A test makes LibreOffice and Gnumeric recalculate filled
workbooks and checks that every count equals the number of issues `validate` reports.
"""

from __future__ import annotations

from collections.abc import Callable

from pvd_reporting.check.formulas import (
    Condition,
    Refs,
    digit,
    is_digit,
    num,
    number,
    quoted,
    readable,
    shown,
    text,
)
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.schema import JALONS, MILESTONES, Field, Kind, Schema
from pvd_reporting.read.values import MAX_AMOUNT, MAX_COUNT


def typed_condition(schema: Schema, kinds: dict[str, Field]) -> Condition:
    """What `validate` cannot read in these cells: text where a number, date or percent is
    expected, a value off its list, a formula error in any cell."""
    lists = list(schema.lists)

    def condition(r: Refs, k: str) -> str:
        f, ref = kinds[k], r[k]
        error = f"ISERROR({ref})"
        if f.kind in (Kind.DATE, Kind.AMOUNT, Kind.INTEGER, Kind.PERCENT):
            cond = f"{error}+ISTEXT({ref})*{readable(ref)}"
            if f.kind == Kind.INTEGER:
                cond += f"+ISNUMBER({ref})*(ROUND({number(ref)},0)<>{number(ref)})"
                cond += f"+(ABS({number(ref)})>{MAX_COUNT})"
            if f.kind == Kind.AMOUNT:
                # Beyond this the reader refuses the amount (a typo, never a PVD figure).
                cond += f"+(ABS({number(ref)})>{MAX_AMOUNT:.0f})"
            if f.kind == Kind.PERCENT:
                cond += f"+ISNUMBER({ref})*(({percent_points(ref)})<0)"
            return cond
        if f.kind == Kind.CHOICE and f.choices in schema.lists:
            # A value pasted past the drop-down; COUNTIF ignores case, as `validate` does.
            letter = col_letter(lists.index(f.choices))
            values = f"{quoted(schema.lists_name)}!${letter}$2:${letter}${len(schema.lists[f.choices]) + 1}"
            return f"{error}+{readable(ref)}*(COUNTIF({values},{shown(ref)})=0)"
        return error
    return condition


def percent_points(ref: str) -> str:
    """A percent cell's value as `validate` reads it, in points: 0.8 is 80, a whole number above 1
    is points (80), any other number above 1 a fraction (1.2 is 120); -1 when out of 0 to 100 %."""
    v = number(ref)
    p = f"IF({v}<=1,{v}*100,IF({v}=ROUND({v},0),{v},{v}*100))"
    return f"IF(({v}<0)+({p}>100),-1,{p})"


def as_points(ref: str) -> str:
    """A number above 1 that `validate` reads as points (80 for 80 %): the report says so."""
    v = number(ref)
    return f"ISNUMBER({ref})*({v}>1)*({v}<=100)*({v}=ROUND({v},0))"


def four_digits(x: str) -> str:
    """An INSEE code typed with 4 digits (5518 for 05518?): as the reader finds it."""
    t = f"SUBSTITUTE(TRIM({shown(x)}),\" \",\"\")"
    return f"IF(ISERROR({x}),0,(LEN({t})=4)*({_shape(t)}=\"9999\"))"


def total_row(first: str) -> Condition:
    """The label `validate` flags: the first column's, else the second's."""
    def condition(r: Refs, k: str) -> str:
        if k == first:
            return r.is_total(k)
        return f"{r.is_total(k)}*(1-{r.is_total(first)})"
    return condition


def filled_row(keys: tuple[str, ...]) -> Callable[[Refs], str]:
    return lambda r: r.filled_row(keys)


def empty_table(table: str, keys: tuple[str, ...]) -> Condition:
    # COUNTA counts a formula error too, where LEN would return it.
    return lambda r, k: "((" + "+".join(f"COUNTA({r.column(table, c)})" for c in keys) + ")=0)"


def missing_milestones(r: Refs) -> str:
    """How many of J1…J8 neither the Code column nor the Jalon column holds (one issue each)."""
    codes, labels = r.column(JALONS, "code"), r.column(JALONS, "label")
    return "(" + "+".join(f"--((COUNTIF({codes},{text(code)})+COUNTIF({labels},{text(label)}))=0)"
                          for code, label in MILESTONES) + ")"


def after_update(r: Refs, k: str) -> str:
    updated = r.form("updated_on")
    return f"ISNUMBER({r[k]})*ISNUMBER({updated})*({number(r[k])}>{number(updated)})"


def before_update(r: Refs, k: str) -> str:
    updated = r.form("updated_on")
    return f"ISNUMBER({r[k]})*ISNUMBER({updated})*({number(r[k])}<{number(updated)})"


def duplicate(r: Refs, k: str) -> str:
    """Each repetition after the first, as `validate` flags them: k-1 for a number used k times."""
    if r.counting:
        # An empty or error row divides by 1: never by a COUNTIF of 0.
        return f"{readable(r[k])}*(1-1/IF({readable(r[k])},COUNTIF({r[k]},{r[k]}&\"\"),1))"
    return f"{readable(r[k])}*(COUNTIF({r.upto(k, this_row=True)},{shown(r[k])})>1)"


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
# The characters of an address the reader accepts besides letters: its local part's, « @ », the dot.
_MAIL_SIGNS = _DIGITS + "!#$%&'*+/=?^_`{|}~-.@"
# What a domain may not hold, among those.
_NOT_IN_DOMAIN = "!#$%&'*+/=?^_`{|}~@"


def _count_in(s: str, chars: str) -> str:
    """How many characters of `s` are among `chars`: its length less that of `s` without them (one
    SUBSTITUTE each, nested: up to some 30, within Excel's 64 levels with what surrounds them)."""
    stripped = s
    for c in chars:
        stripped = f"SUBSTITUTE({stripped},{text(c)},\"\")"
    return f"(LEN({s})-LEN({stripped}))"


def bad_mail(x: str) -> str:
    """Not one address as `validate` reads it (a leading mailto: dropped): only the characters of
    an address (no accent, space, comma or semicolon), one « @ », a local part and domain labels
    that neither begin nor end with a dot (nor a label with a hyphen), a domain with a dot, and
    after its last dot 2 to 24 letters; no « =? »."""
    # In lower case (the reader takes either): shorter sets, one text repeated less.
    s = f"TRIM(SUBSTITUTE(LOWER({shown(x)}),\"mailto:\",\"\",1))"
    at = f"FIND(\"@\",{s})"
    domain = f"MID({s},{at}+1,300)"
    dots = f"(LEN({s})-LEN(SUBSTITUTE({s},\".\",\"\")))"
    tld = f"MID({s},FIND(\"\u00a7\",SUBSTITUTE({s},\".\",\"\u00a7\",{dots}))+1,300)"
    bad = "+".join(num(t) for t in (
        # A character that is neither a letter nor a sign of an address (an accent, a space, « ; »).
        f"LEN({s})>{_count_in(s, _LETTERS)}+{_count_in(s, _MAIL_SIGNS)}",
        f"(LEN({s})-LEN(SUBSTITUTE({s},\"@\",\"\")))<>1",
        f"{at}=1",
        *(f"ISNUMBER(FIND({text(p)},{s}))" for p in ("..", ".@", "@.", "@-", "-.", ".-", "=?")),
        f"LEFT({s},1)=\".\"",
        f"ISERROR(FIND(\".\",{domain}))",
        f"{_count_in(domain, _NOT_IN_DOMAIN)}>0",
        f"LEN({tld})<2",
        f"LEN({tld})>24",
        f"{_count_in(tld, _DIGITS + '-')}>0",
    ))
    return _blank_or(x, f"({bad})>0")


def bad_siren(x: str) -> str:
    """Not 9 digits once spaces and dots are removed, or a wrong Luhn key (a number: its 9 digits
    with the zeros in front, as `validate` reads it); a formula error too."""
    typed = shown(x)
    for space in (" ", "\u00a0", "\u202f", "."):
        typed = f"SUBSTITUTE({typed},{text(space)},\"\")"
    s = f"IF(ISNUMBER({x}),RIGHT(\"000000000\"&{x},9),{typed})"
    terms = []
    for i in range(1, 10):
        d = digit(f"MID({s},{i},1)")
        # From the right, every second digit is doubled (less 9 above 9).
        terms.append(f"(2*{d}-9*({d}>4))" if i % 2 == 0 else d)
    luhn = "+".join(terms)
    number_ok = f"IF(ISNUMBER({x}),({x}<>ROUND({number(x)},0))+({number(x)}<0)+({number(x)}>999999999),0)"
    key = f"IF(LEN({s})<>9,1,IFERROR(--(MOD({luhn},10)<>0),1))"
    return f"IF(ISERROR({x}),1,IF(LEN(TRIM({x}))=0,0,--(({number_ok}+{key})>0)))"


def bad_insee(x: str) -> str:
    """Not the shape `validate` accepts: 5 characters (4 digits get their leading 0), the first two
    digits of a département (or 2A, 2B; 971 to 976 overseas), then 3 digits; a formula error too."""
    t = f"SUBSTITUTE(UPPER({shown(x)}),\" \",\"\")"
    s = f"RIGHT(\"0\"&{t},5)"
    rest = "*".join(is_digit(f"MID({s},{i},1)") for i in (3, 4, 5))
    p = f"({digit(f'LEFT({s},1)')}*10+{digit(f'MID({s},2,1)')})"
    overseas = f"({p}=97)*(MID({s},3,1)>=\"1\")*(MID({s},3,1)<=\"6\")"
    prefix = (f"IF({is_digit(f'LEFT({s},1)')}*{is_digit(f'MID({s},2,1)')},"
              f"({p}>=1)*({p}<=95)*({p}<>20)+{overseas},(LEFT({s},2)=\"2A\")+(LEFT({s},2)=\"2B\"))")
    good = f"(LEN({t})>=4)*(LEN({t})<=5)*{rest}*({prefix}>0)"
    return f"IF(ISERROR({x}),1,IF(LEN(TRIM({x}))=0,0,1-{good}))"


def _squeezed(x: str, *, lower: bool = False, replace: tuple[tuple[str, str], ...] = ()) -> str:
    """The cell as text, without spaces, in one case, as the reader compares it."""
    s = f"{'LOWER' if lower else 'UPPER'}({shown(x)})"
    for old, new in ((" ", ""), ("\u00a0", ""), ("\u202f", ""), *replace):
        s = f"SUBSTITUTE({s},{text(old)},{text(new)})"
    return s


def _shape(s: str) -> str:
    """`s` with every digit as 9: the text's shape, compared with the shapes a rule accepts."""
    for d in "012345678":
        s = f"SUBSTITUTE({s},{text(d)},\"9\")"
    return s


def _one_of(s: str, values: list[str]) -> str:
    """1 when the text `s` is one of `values` (none holds « ; »), else 0: one search in their list,
    written as literals of at most 255 characters each (Excel's limit)."""
    joined = ";" + ";".join(values) + ";"
    chunks = [joined[i:i + 250] for i in range(0, len(joined), 250)]
    haystack = "&".join(text(c) for c in chunks)
    return f"ISERROR(FIND(\";\",{s}))*ISNUMBER(FIND(\";\"&{s}&\";\",{haystack}))"


def _blank_or(x: str, bad: str) -> str:
    """A formula error is bad, an empty cell is not (required-value says it), else `bad` (an
    error in computing it is bad too)."""
    return f"IF(ISERROR({x}),1,IF(LEN(TRIM({shown(x)}))=0,0,IFERROR(--({bad}),1)))"


def bad_department(x: str, codes: tuple[str, ...]) -> str:
    """Not a département code as `validate` reads it (a single digit gets its 0: 6 is 06)."""
    t = _squeezed(x)
    code = f"IF(LEN({t})=1,\"0\"&{t},{t})"
    return _blank_or(x, f"1-{_one_of(code, list(codes))}")


def _pvd_shapes() -> list[str]:
    """Every shape of `pvd-RR-DD-N` once digits are 9: DD one or two département parts."""
    two = ["99", "9a", "9b"]
    parts = [*two, "999", *(a + b for a in two for b in two), *(a + "999" for a in two),
             *("999" + b for b in two), "999999"]
    return [f"pvd-99-{p}-{'9' * n}" for p in dict.fromkeys(parts) for n in range(1, 5)]


def bad_pvd_id(x: str) -> str:
    """Not `pvd-RR-DD-N` as `validate` reads it: RR two digits; DD one or two département parts
    (2 digits, 2a, 2b or 3 digits); N one to four digits. A letter a or b only after a 2."""
    s = _squeezed(x, lower=True, replace=(("_", "-"), ("\u2013", "-")))
    letters = "+".join(f"(LEN({s})-LEN(SUBSTITUTE({s},{text(c)},\"\")))" for c in "ab")
    after_two = "+".join(f"(LEN({s})-LEN(SUBSTITUTE({s},{text('2' + c)},\"\")))/2" for c in "ab")
    return _blank_or(x, f"1-{_one_of(_shape(s), _pvd_shapes())}*(({letters})=({after_two}))")


def _period_shapes() -> list[str]:
    """The shapes of a quarter as the reader accepts it, once Q is T, digits are 9 and spaces
    single (TRIM): 2025-T4, 2025 / T4, T4 2025, 4e trimestre 2025."""
    between = ["", " ", *(f"{a}{sep}{b}" for sep in "-/" for a in ("", " ") for b in ("", " "))]
    shapes = [f"9999{b}t9" for b in between] + [f"t9{b}9999" for b in between]
    suffixes = ["9"] + [f"9{space}{suffix}" for suffix in ("er", "e", "eme") for space in ("", " ")]
    return shapes + [f"{q} trimestre 9999" for q in suffixes]


def bad_period(x: str) -> str:
    """Not a quarter as `validate` reads it: one of its shapes, quarter 1 to 4, year 2000 to 2100."""
    s = f"LOWER({shown(x)})"
    for old, new in (("\u00a0", " "), ("\u202f", " "), ("è", "e"), ("q", "t")):
        s = f"SUBSTITUTE({s},{text(old)},{text(new)})"
    s = f"TRIM({s})"
    shape = _shape(s)
    year = f"--IF(LEFT({shape},4)=\"9999\",LEFT({s},4),RIGHT({s},4))"
    quarter = (f"--IF(LEFT({s},1)=\"t\",MID({s},2,1),IF(LEFT({shape},4)=\"9999\",RIGHT({s},1),LEFT({s},1)))")
    good = f"{_one_of(shape, _period_shapes())}*({year}>=2000)*({year}<=2100)*({quarter}>=1)*({quarter}<=4)"
    return _blank_or(x, f"1-{good}")


# What the reader drops from a phone number before counting its digits.
_PHONE_JUNK = (" ", "\u00a0", "\u202f", "\u2009", ".", "-", "/", "(", ")")


def bad_phone(x: str) -> str:
    """Not a French number as `validate` reads it: 10 digits from 0 (not 00), or +33 / 0033 and
    9 digits; a number typed as a number has lost its 0 (9 digits)."""
    t = f"SUBSTITUTE({shown(x)},\"(0)\",\"\")"
    for junk in _PHONE_JUNK:
        t = f"SUBSTITUTE({t},{text(junk)},\"\")"
    typed = (f"IF(LEFT({t},3)=\"+33\",\"0\"&MID({t},4,300),"
             f"IF(LEFT({t},4)=\"0033\",\"0\"&MID({t},5,300),{t}))")
    number = f"IF(LEN({x}&\"\")=9,\"0\"&{x},{x}&\"\")"
    s = f"IF(ISNUMBER({x}),{number},{typed})"
    good = f"(LEN({s})=10)*({_shape(s)}=\"9999999999\")*(LEFT({s},1)=\"0\")*(MID({s},2,1)<>\"0\")"
    return _blank_or(x, f"1-{good}")
