"""scripts/make_examples.py: deterministic, the committed workbooks/ byte for byte what it writes today (the
writer's structure, not only the values), verdicts as tests/data/examples-expected.json says."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from test_template_filled import data_values

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.format.periods import last_day, parse_label
from pvd_reporting.format.schema import ORT_STATUSES, Schema
from pvd_reporting.read.workbook import read_workbook

REPO = Path(__file__).resolve().parent.parent
WORKBOOKS = REPO / "workbooks"
EXPECTED = REPO / "tests" / "data" / "examples-expected.json"
AS_OF = date(2025, 12, 31)
LATEST = "2025-T4"


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def script_args(out: Path, reference_csv: Path) -> list[str]:
    return ["--output-dir", str(out / "workbooks"), "--expected", str(out / "EXPECTED.json"),
            "--reference", str(reference_csv)]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_examples", REPO / "scripts" / "make_examples.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, reference_csv: Path) -> Path:
    out = tmp_path_factory.mktemp("examples")
    assert _load_script().main(script_args(out, reference_csv)) == 0
    return out


def test_deterministic(built: Path, tmp_path: Path, reference_csv: Path) -> None:
    assert _load_script().main(script_args(tmp_path, reference_csv)) == 0
    names = files(built)
    assert names == files(tmp_path)
    for name in names:
        assert (built / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_missing_reference_is_a_clear_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _load_script().main(["--output-dir", str(tmp_path), "--reference", str(tmp_path / "absent.csv")])
    assert code == 2 and "introuvable" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_committed_examples_are_up_to_date(built: Path, schema: Schema) -> None:
    """The demo folder holds the workbooks alone, each what today's writer makes: the same data, and
    the same structure (conditional formats, validations, styles), so a writer change that leaves
    the demo behind fails here."""
    built_names = files(built / "workbooks")
    assert built_names == files(WORKBOOKS)
    assert json.loads((built / "EXPECTED.json").read_text("utf-8")) == json.loads(EXPECTED.read_text("utf-8"))
    for name in built_names:
        fresh, committed = read_workbook(built / "workbooks" / name, schema)[0], read_workbook(WORKBOOKS / name, schema)[0]
        assert fresh is not None and committed is not None
        assert data_values(fresh) == data_values(committed), f"{name} : relancez make examples"
        assert (built / "workbooks" / name).read_bytes() == (WORKBOOKS / name).read_bytes(), (
            f"{name} : la structure a changé, relancez make examples")


def test_expected_covers_the_demo_needs(built: Path) -> None:
    expected = json.loads((built / "EXPECTED.json").read_text("utf-8"))
    assert len(expected) >= 8
    assert {e["ort_status"] for e in expected.values()} == set(ORT_STATUSES)
    assert sum(e["valid"] for e in expected.values()) > len(expected) / 2
    codes = {c for e in expected.values() for c in e["codes"]}
    assert {"invalid-date", "financing-exceeds-cost", "missing-cost", "invalid-email", "total-row",
            "comite-cadence", "etat-absent", "required-value"} <= codes
    assert all(Path(name).name.startswith("pvd-44-") for name in expected)


def test_examples_are_a_history_of_three_quarters(built: Path) -> None:
    """One folder a quarter, the same territories, and what moves between them."""
    expected = json.loads((built / "EXPECTED.json").read_text("utf-8"))
    by_period: dict[str, set[str]] = {}
    for name, facts in expected.items():
        assert name.split("/")[0] == facts["period"], name
        by_period.setdefault(facts["period"], set()).add(Path(name).name)
    assert sorted(by_period) == ["2025-T2", "2025-T3", "2025-T4"]
    assert by_period["2025-T4"] < by_period["2025-T3"], "a territory stops sending"
    latest = {Path(n).name: f for n, f in expected.items() if f["period"] == LATEST}
    before = {Path(n).name: f for n, f in expected.items() if f["period"] == "2025-T3"}
    signed = [n for n, f in latest.items() if f["ort_status"] == "ORT signée" and before[n]["ort_status"] != "ORT signée"]
    assert signed == ["pvd-44-88-5-vittel.xlsx"], "an ORT signed in 2025-T4"
    history = {c for f in latest.values() for c in f["history_codes"]}
    assert {"action-removed", "milestone-date-changed"} <= history


def test_verdicts_and_ort_status_match_expected(built: Path, schema: Schema, reference_csv: Path) -> None:
    from pvd_reporting.consolidate.regional import territory_view
    from pvd_reporting.format.reference import load_reference

    reference = load_reference(reference_csv)
    expected = json.loads((built / "EXPECTED.json").read_text("utf-8"))
    for name, want in expected.items():
        report = validate_workbook(built / "workbooks" / name, schema, reference=reference)
        assert report.valid == want["valid"], (name, [i.message for i in report.issues])
        assert sorted({i.code for i in report.issues}) == want["codes"], name
        assert report.period == want["period"]
        quarter = parse_label(want["period"])
        assert quarter is not None
        view = territory_view(report, report.id_pvd or name, schema, last_day(quarter))
        assert view.ort_status == want["ort_status"], name
