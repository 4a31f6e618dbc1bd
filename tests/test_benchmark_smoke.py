"""benchmarks/run.py's pieces on three workbooks, so the script cannot rot (nothing is timed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pvd_reporting.format.schema import Schema

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import generate  # noqa: E402
import run  # noqa: E402


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from pvd_reporting.format.schema import build_schema

    return generate.generate(tmp_path_factory.mktemp("bench") / "classeurs", 3, build_schema(), None)


def test_generate_writes_readable_workbooks(generated: list[Path], schema: Schema) -> None:
    from pvd_reporting.check.validate import validate_workbook

    assert [p.name for p in generated] == ["territoire-0000.xlsx", "territoire-0001.xlsx", "territoire-0002.xlsx"]
    report = validate_workbook(generated[0], schema)
    assert report.data is not None
    assert len(report.data.rows("engagements")) == 30
    assert not [i for i in report.issues if i.code in ("missing-sheet", "missing-column", "unreadable-file")]


def test_floor_and_plain_write_every_row(generated: list[Path], tmp_path: Path) -> None:
    run.floor(generated, tmp_path / "floor.xlsx")
    run.plain(generated, tmp_path / "plain.xlsx")
    for name in ("floor.xlsx", "plain.xlsx"):
        wb = load_workbook(tmp_path / name, read_only=True)
        assert "Engagements" in wb.sheetnames
        rows = [r for r in wb["Engagements"].iter_rows(values_only=True) if any(v is not None for v in r)]
        assert len(rows) >= 3 * 30  # the three workbooks' actions, headers aside
        wb.close()


def test_consolidate_runs_as_the_benchmark_runs_it(generated: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "sorties"
    elapsed, (rss, pss) = run.run_cli(["consolidate", str(generated[0].parent), "--output-dir", str(out),
                                       "--no-images", "--quiet"])
    assert elapsed > 0
    assert (out / "synthese-pvd-2025-T4.xlsx").is_file()
    if Path("/proc/self/smaps_rollup").exists():
        assert rss >= pss > 0
    wb = load_workbook(out / "synthese-pvd-2025-T4.xlsx", read_only=True)
    assert len(list(wb["Engagements"].iter_rows(values_only=True))) == 1 + 3 * 30
    wb.close()


def test_history_generation_and_floor(tmp_path: Path, schema: Schema) -> None:
    """The history run's pieces: one folder a quarter, the same territories, each in its period."""
    from pvd_reporting.check.validate import validate_workbook

    quarters = generate.quarter_labels(2)
    assert quarters == ["2025-T3", "2025-T4"]
    by_quarter = generate.generate_history(tmp_path / "h", 2, quarters, schema, None)
    assert {q: [p.name for p in ps] for q, ps in by_quarter.items()} == {
        q: ["territoire-0000.xlsx", "territoire-0001.xlsx"] for q in quarters}
    report = validate_workbook(by_quarter["2025-T3"][0], schema)
    assert report.period == "2025-T3"
    assert "period-after-update" not in {i.code for i in report.issues}
    every = [p for q in quarters for p in by_quarter[q]]
    run.history_floor(every, by_quarter["2025-T4"], tmp_path / "floor.xlsx")
    wb = load_workbook(tmp_path / "floor.xlsx", read_only=True)
    assert wb["Engagements"].max_row == 2 * 30  # only the consolidated quarter's rows are written


def test_generated_workbooks_have_no_error(generated: list[Path], schema: Schema) -> None:
    # A benchmark of workbooks full of errors would measure feedback workbooks, not consolidation.
    from pvd_reporting.check.validate import validate_workbook

    for path in generated:
        report = validate_workbook(path, schema)
        assert [i.code for i in report.issues if i.severity.value == "error"] == []


def test_generated_data_is_stamped_with_its_format(schema: Schema) -> None:
    from pvd_reporting.format.config import load_config
    from pvd_reporting.format.schema import build_schema

    assert run.data_stamp(schema) == run.data_stamp(build_schema(load_config(None)))
    assert len(run.data_stamp(schema)) == 8


def test_history_runs_the_reminders(tmp_path: Path, schema: Schema) -> None:
    """The last quarter as a referent meets it: one territory in ten has not sent, one in ten
    sent an error; consolidate writes a draft to each, with its workbook attached."""
    import csv

    from pvd_reporting.pipeline.consolidate import run_consolidate

    quarters = generate.quarter_labels(2)
    by_quarter = generate.generate_history(tmp_path / "h", 10, quarters, schema, None)
    assert len(by_quarter["2025-T3"]) == 10 and len(by_quarter["2025-T4"]) == 9
    run_consolidate([tmp_path / "h"], output_dir=tmp_path / "out", images=False, use_cache=False)
    with (tmp_path / "out" / "relances-2025-T4.csv").open(encoding="utf-8-sig") as f:
        motifs = sorted(row["Motif"] for row in csv.DictReader(f, delimiter=";"))
    assert motifs == ["Non reçu", "À corriger"]
    drafts = sorted((tmp_path / "out" / "relances-2025-T4").glob("*.eml"))
    assert len(drafts) == 2
