"""The conditions of the live checks that take more than a line, in check/formulas.py's language;
check/checks.py gives each to its rule. A test makes LibreOffice and Gnumeric recalculate filled
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
            if f.kind == Kind.PERCENT:
                cond += f"+ISNUMBER({ref})*(({number(ref)}<0)+({number(ref)}>100))"
            return cond
        if f.kind == Kind.CHOICE and f.choices in schema.lists:
            # A value pasted past the drop-down; COUNTIF ignores case, as `validate` does.
            letter = col_letter(lists.index(f.choices))
            values = f"{quoted(schema.lists_name)}!${letter}$2:${letter}${len(schema.lists[f.choices]) + 1}"
            return f"{error}+{readable(ref)}*(COUNTIF({values},{shown(ref)})=0)"
        return error
    return condition


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


def bad_mail(s: str) -> str:
    """`s`: the cell as text."""
    s = f"TRIM({s})"
    at = f"FIND(\"@\",{s})"
    return ("(" + "+".join(num(t) for t in (
        f"ISERROR({at})",
        f"(LEN({s})-LEN(SUBSTITUTE({s},\"@\",\"\"))>1)",
        f"(LEFT({s},1)=\"@\")",
        f"ISERROR(FIND(\".\",MID({s},IFERROR({at},1)+2,300)))",
        f"ISNUMBER(FIND(\" \",{s}))",
        f"(RIGHT({s},1)=\".\")",
    )) + ")")


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
