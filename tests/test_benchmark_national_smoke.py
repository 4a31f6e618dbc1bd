"""benchmarks/national.py's pieces on a small roll-up, so the script cannot rot (nothing is timed)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import national  # noqa: E402

from pvd_reporting.format.reference import SHIPPED_REFERENCE, load_reference  # noqa: E402


def test_generated_histories_roll_up_and_the_floor_writes_the_same_rows(tmp_path: Path) -> None:
    paths = national.generate(tmp_path, territories=3, quarters=2, regions=["Bretagne", "Corse"])
    assert len(paths) == 2
    db = sqlite3.connect(paths[0])
    meta = dict(db.execute("SELECT cle, valeur FROM meta"))
    assert meta["region"] == "Bretagne" and meta["periodes"] == "2025-T3,2025-T4"
    assert db.execute("SELECT count(DISTINCT id_pvd) FROM territoires").fetchone() == (3,)
    rows = national.summary_rows(paths)
    # Their own three, and the territories the shipped list expects there (the generated ones are not in it).
    expected = sum(len(load_reference(SHIPPED_REFERENCE).in_region(r)) for r in ("Bretagne", "Corse"))
    assert len(rows["Territoires"]) == 2 * 3 + expected
    read = national.floor(paths, tmp_path / "plancher.xlsx", rows)
    assert read > 2 * 2 * 3
    national.ours(paths, tmp_path / "national")
    assert (tmp_path / "national" / "synthese-nationale-2025-T4.xlsx").exists()
