"""A cache entry gives back exactly the report it was made from (README, Vitesse): every
dataclass, every field, every value with its own type, and the same consolidated figures."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from factory import baseline_rows, make_workbook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pvd_reporting.cache import decode_entry, encode_entry
from pvd_reporting.consolidate.batch import consolidate
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.consolidate.report_entry import REPORTS
from pvd_reporting.format.issues import Issue, Severity, WorkbookReport
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.formula_errors import CellError
from pvd_reporting.read.records import Record, WorkbookData

KEY = "0" * 64


def diff(a: Any, b: Any, where: str = "report") -> str | None:
    """Where `a` and `b` first differ, types included (a CellError is not a str, 1 is not 1.0)."""
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} != {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            found = diff(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
            if found:
                return found
        return None
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)} != {list(b)}"
        return next((d for k in a if (d := diff(a[k], b[k], f"{where}[{k!r}]"))), None)
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)}"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := diff(x, y, f"{where}[{i}]"))), None)
    if isinstance(a, float) and math.isnan(a):
        return None if math.isnan(b) else f"{where}: nan != {b!r}"
    return None if a == b else f"{where}: {a!r} != {b!r}"


def round_trip(report: WorkbookReport) -> WorkbookReport:
    return decode_entry(REPORTS, encode_entry(REPORTS, KEY, report), KEY)


# --- every value type a report may hold ---------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(),
    st.dates(), st.datetimes(), st.times(), st.timedeltas(),
    st.decimals(allow_nan=False), st.text().map(CellError), st.sampled_from(list(Severity)),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
fields = st.dictionaries(st.text(max_size=12), values, max_size=6)
records = st.builds(Record, sheet=st.text(max_size=12), row=st.one_of(st.none(), st.integers(1, 10_000)),
                    values=fields, raw=fields, cells=st.dictionaries(st.text(max_size=6), st.text(max_size=6)),
                    control=st.sampled_from(["OK", "Avertissement", "Erreur"]), is_total=st.booleans())
issues = st.builds(Issue, code=st.text(max_size=20), severity=st.sampled_from(list(Severity)),
                   message=st.text(), sheet=st.none() | st.text(max_size=12), cell=st.none() | st.text(max_size=6),
                   row=st.none() | st.integers(1, 10_000), column=st.none() | st.text(max_size=20), value=values)
datas = st.builds(WorkbookData, territory=records,
                  tables=st.dictionaries(st.text(max_size=10), st.lists(records, max_size=3), max_size=3),
                  version=st.none() | st.text(max_size=5),
                  sheet_titles=st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
                  extra_columns=st.dictionaries(st.text(max_size=10), st.lists(st.text(max_size=5), max_size=3),
                                                max_size=2))
reports = st.builds(WorkbookReport, path=st.text(), issues=st.lists(issues, max_size=4),
                    territory=st.none() | st.text(), id_pvd=st.none() | st.text(), period=st.none() | st.text(),
                    data=st.none() | datas, size=st.none() | st.integers(0, 2**40),
                    sha256=st.none() | st.text(max_size=64), version=st.none() | st.text(max_size=5))


@settings(max_examples=150, deadline=None)
@given(report=reports)
def test_every_value_comes_back_with_its_own_type(report: WorkbookReport) -> None:
    assert diff(report, round_trip(report)) is None


def test_the_tagged_types_are_rebuilt_not_flattened() -> None:
    raw = {"a": CellError("#DIV/0!"), "b": date(2025, 3, 15), "c": datetime(2025, 3, 15, 8, 30, 0, 12),
           "d": time(14, 5), "e": timedelta(days=2, seconds=5), "f": Decimal("1200000.50"),
           "g": (1, "x"), "h": 2**80, "i": -2**70, "j": 1.0, "k": 1, "l": True, "m": b"\x00"}
    report = WorkbookReport("a.xlsx", [Issue("invalid-date", Severity.ERROR, "m", value=raw["a"])],
                            data=WorkbookData(Record("Territoire", None, values={}, raw=raw)))
    back = round_trip(report)
    assert diff(report, back) is None
    assert type(back.data.territory.raw["a"]) is CellError and type(back.issues[0].severity) is Severity


# --- real reports, from workbooks written by the test factory -----------------------------------

typed = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**12), st.floats(-1e9, 1e9, allow_nan=False),
    st.dates(date(1990, 1, 1), date(2100, 12, 31)),
    st.datetimes(datetime(1990, 1, 1), datetime(2100, 12, 31)),
    st.times(), st.timedeltas(timedelta(0), timedelta(days=400)),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20).filter(lambda s: not s.startswith("=")),
    st.sampled_from(["32/13/2024", "15 mars 2024", "2024-03-15", "1 200 000 €", "1.200.000,50", "80 %",
                     "oui", "x", "Total", "Terminée", "engagee", "A1", "2025-Q4", "T4 2025", "#N/A"]),
)


@st.composite
def workbooks(draw: st.DrawFn, schema: Schema) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    form_keys = [f.key for f in schema.form.fields]
    territory = draw(st.dictionaries(st.sampled_from(form_keys), typed, max_size=4))
    base = baseline_rows(schema)
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in draw(st.lists(st.sampled_from([t.key for t in schema.tables]), max_size=3, unique=True)):
        keys = [c.key for c in schema.table(table).columns]
        template = base[table] or [{}]
        changed = draw(st.lists(st.dictionaries(st.sampled_from(keys), typed, max_size=4), min_size=1, max_size=4))
        rows[table] = [{**template[i % len(template)], **c} for i, c in enumerate(changed)]
    return territory, rows


def _reports(folder: Path, paths: list[Path], schema: Schema) -> tuple[list[WorkbookReport], ...]:
    fresh = read_all(paths, schema, workers=1)
    stored = read_all(paths, schema, workers=1, cache=folder / "cache")
    cached = read_all(paths, schema, workers=1, cache=folder / "cache")
    return fresh, stored, cached


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_generated_workbook_reads_the_same_from_the_cache(schema: Schema, data: st.DataObject) -> None:
    territory, rows = data.draw(workbooks(schema))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = make_workbook(folder / "classeur.xlsx", schema, territory=territory, rows=rows)
        fresh, stored, cached = _reports(folder, [path], schema)
        assert diff(fresh[0], round_trip(fresh[0])) is None
        assert diff(fresh[0], stored[0]) is None
        assert diff(fresh[0], cached[0]) is None


def test_consolidated_figures_are_the_same_with_and_without_the_cache(schema: Schema, tmp_path: Path) -> None:
    lists = schema.lists
    engagement = baseline_rows(schema)["engagements"][0]
    paths = [
        make_workbook(tmp_path / "in" / "a.xlsx", schema),
        make_workbook(tmp_path / "in" / "b.xlsx", schema, territory={"id_pvd": "pvd-44-67-5", "name": "Saverne",
                                                                     "updated_on": "15/12/2025", "etp": "80 %"}),
        make_workbook(tmp_path / "in" / "c.xlsx", schema, territory={"id_pvd": "pvd-44-10-1", "department": "10"},
                      rows={"engagements": [{**engagement, "cost": "1 200 000 €", "start_on": "32/13/2024"},
                                            {**engagement, "action_id": "A9", "status": lists["statut_action"][5]}]}),
        make_workbook(tmp_path / "in" / "d.xlsx", schema, territory={"period": "2025-T3"}),
        make_workbook(tmp_path / "in" / "e.xlsx", schema, territory={"updated_on": date(2025, 12, 1)}),
    ]
    (tmp_path / "in" / "f.xlsx").write_bytes(b"PK\x03\x04 pas un classeur")
    paths.append(tmp_path / "in" / "f.xlsx")
    fresh, _, cached = _reports(tmp_path, paths, schema)
    assert diff(fresh, cached) is None
    one = consolidate(fresh, schema, as_of=date(2025, 12, 31))
    other = consolidate(cached, schema, as_of=date(2025, 12, 31))
    assert one.region.received >= 3 and one.region.cost > 0
    assert diff(one.region, other.region, "region") is None
    assert diff(one.territories, other.territories, "territories") is None
    assert diff(one.rows, other.rows, "rows") is None
    assert [(r.path, i.code, i.cell) for r, i in one.anomalies] == [(r.path, i.code, i.cell) for r, i in other.anomalies]
