"""Benchmark of the national roll-up (README, Pour l'ANCT): `pvd-report national` against the floor, in one run.

    python benchmarks/national.py [--territories 55] [--quarters 8] [--repeat 2] [--work DIR]

Generates, as SQLite files directly, one `historique-pvd.sqlite` per région (the 18 shipped),
each with `--territories` territories over `--quarters` quarters (18 × 55 × 8 = 7,920
territory-quarters by default): the tables of a real regional history (the demo workbooks
consolidated once), their rows copied under new identifiers. Then times, each `--repeat` times,
the floor — reading the same SQLite rows (every table, every row) and writing the same summary
rows with xlsxwriter alone — and the roll-up end to end (the three national outputs), and prints
the ratio the target is stated in (under 2× the floor).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from pvd_reporting.format.config import region_config, shipped_regions  # noqa: E402
from pvd_reporting.format.departements import department_label  # noqa: E402
from pvd_reporting.format.history import (  # noqa: E402
    DB_NAME,
    ID,
    META_TABLE,
    PERIOD,
    T_DEPARTMENT,
    T_EPCI,
    T_SIREN,
    TERRITORY,
)
from pvd_reporting.format.periods import previous_quarters, quarter_label  # noqa: E402
from pvd_reporting.format.reference import SHIPPED_REFERENCE, load_reference  # noqa: E402

LAST_QUARTER = (2025, 4)
REGION_ROWS = ("", "")  # the key of a table's rows that belong to no territory


def seed(work: Path) -> Path:
    """A real regional history: the demo workbooks consolidated once (kept in `work`), with the
    shipped reference list as the CLI uses it (a file without one is not a whole région)."""
    from pvd_reporting.pipeline.consolidate import run_consolidate

    db = work / "seed" / DB_NAME
    if not db.exists():
        run_consolidate([REPO / "workbooks"], output_dir=work / "seed", images=False, use_cache=False,
                        reference_path=SHIPPED_REFERENCE)
    return db


def _period_rows(db: sqlite3.Connection) -> tuple[dict[str, list[str]], dict[str, dict[tuple[str | None, str], list[tuple[Any, ...]]]], list[str]]:
    """Each table's columns, and its rows of the latest period by territory (id, name)."""
    latest = db.execute(f"SELECT valeur FROM {META_TABLE} WHERE cle = 'periode_consolidee'").fetchone()[0]
    columns: dict[str, list[str]] = {}
    rows: dict[str, dict[tuple[str | None, str], list[tuple[Any, ...]]]] = {}
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
        columns[table] = cols
        if PERIOD not in cols:
            continue
        by: dict[tuple[str | None, str], list[tuple[Any, ...]]] = {}
        # A table of the région's own figures (no territory) is copied once per period.
        ii, it = (cols.index(ID), cols.index(TERRITORY)) if ID in cols and TERRITORY in cols else (None, None)
        for row in db.execute(f'SELECT * FROM "{table}" WHERE "{PERIOD}" = ?', (latest,)):
            key = (row[ii], row[it]) if ii is not None and it is not None else REGION_ROWS
            by.setdefault(key, []).append(row)
        rows[table] = by
    # The territories received (they have rows in the other tables), as in the first measures.
    territories = [k for k in rows["territoires"] if k in rows["communes"]]
    return columns, rows, [f"{a}\x00{b}" for a, b in territories]


def generate(work: Path, territories: int = 55, quarters: int = 8, regions: list[str] | None = None,
             reference: Path | None = None) -> list[Path]:
    """One history per région, written directly with sqlite3; returns their paths. With a
    reference list, each région's territories are its own (names, EPCI, SIREN), so that the
    national map shows France; otherwise `territories` copies per région."""
    source = sqlite3.connect(seed(work))
    creates = [r[0] for r in source.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                                            "ORDER BY type DESC")]
    columns, rows, keys = _period_rows(source)
    meta = dict(source.execute(f"SELECT cle, valeur FROM {META_TABLE}"))
    financeurs = list(source.execute("SELECT * FROM financeurs"))
    source.close()
    periods = [quarter_label(q) for q in previous_quarters(LAST_QUARTER, quarters)]
    listed = load_reference(reference) if reference is not None else None
    paths = []
    for r, name in enumerate(regions or list(shipped_regions())):
        config = region_config(name)
        own = listed.in_region(name) if listed is not None else []
        target = work / "regions" / config.region_code / DB_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        db = sqlite3.connect(target)
        with db:
            for sql in creates:
                db.execute(sql)
            for table, by in rows.items():
                cols = columns[table]
                ip = cols.index(PERIOD)
                if REGION_ROWS in by:
                    copies = [(*row[:ip], period, *row[ip + 1:]) for period in periods for row in by[REGION_ROWS]]
                    db.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in cols)})', copies)
                    continue
                ii, it = cols.index(ID), cols.index(TERRITORY)
                place = [cols.index(c) if c in cols else None for c in (T_DEPARTMENT, T_EPCI, T_SIREN)]
                out = []
                for n in range(len(own) if own else territories):
                    id_pvd, territory = keys[(n + r) % len(keys)].split("\x00")
                    new_id: str | None = f"pvd-{config.region_code}-{n // 10 + 1:02d}-{n}"
                    new_name: str | None = f"{territory} {r}-{n}"
                    where: list[Any] = [None, None, None]
                    if own:
                        t = own[n]
                        new_id, new_name = t.id_pvd, t.name
                        where = [department_label(t.department) if t.department else None, t.epci, t.siren]
                    for period in periods:
                        for row in by.get((id_pvd or None, territory), []):
                            copy = list(row)
                            copy[ip], copy[ii], copy[it] = period, new_id, new_name
                            if own and table == "territoires":
                                for i, value in zip(place, where, strict=True):
                                    if i is not None:
                                        copy[i] = value
                            out.append(tuple(copy))
                marks = ", ".join("?" for _ in cols)
                db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', out)
            written = {**meta, "region": name, "region_code": config.region_code, "periodes": ",".join(periods),
                   "periode_consolidee": periods[-1], "written_at": f"2026-01-{r + 1:02d}T08:00:00+00:00"}
            db.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", list(written.items()))
            db.executemany("INSERT INTO financeurs VALUES (?, ?, ?)", financeurs)
        db.close()
        paths.append(target)
    return paths


def summary_rows(paths: list[Path]) -> dict[str, list[list[Any]]]:
    """The rows the national summary holds, computed once (not timed): what the floor writes."""
    from pvd_reporting.consolidate.national import roll_up
    from pvd_reporting.consolidate.national_figures import FIGURES, figure_value
    from pvd_reporting.outputs.national.workbook import source_rows, territory_row

    rollup = roll_up(paths)
    return {
        "Synthèse": [[r.region, r.status, *(figure_value(f, r.figures) for f in FIGURES)] for r in rollup.regions],
        "Régions": [[r.region, r.period, r.status, *(figure_value(f, r.figures) for f in FIGURES)]
                    for r in rollup.by_quarter],
        "Territoires": [territory_row(t, False) for t in rollup.territories],
        "Sources": source_rows(rollup),
    }


def floor(paths: list[Path], out: Path, rows: dict[str, list[list[Any]]]) -> int:
    """The least any tool must do: read every row of every table, write the summary rows with
    xlsxwriter. Returns the number of SQLite rows read."""
    import xlsxwriter

    read = 0
    for path in paths:
        db = sqlite3.connect(path)
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            read += len(db.execute(f'SELECT * FROM "{table}"').fetchall())
        db.close()
    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    for sheet, data in rows.items():
        ws = book.add_worksheet(sheet)
        for i, row in enumerate(data):
            ws.write_row(i, 0, row)
    book.close()
    return read


def ours(paths: list[Path], out: Path) -> None:
    from pvd_reporting.pipeline.national import run_national

    run_national(paths, output_dir=out)


def best(repeat: int, action: Any) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mesure de pvd-report national contre le plancher.")
    parser.add_argument("--territories", type=int, default=55, help="territoires par région (55)")
    parser.add_argument("--quarters", type=int, default=8, help="trimestres par région (8)")
    parser.add_argument("--repeat", type=int, default=2, help="mesures de chaque cas (la meilleure compte)")
    parser.add_argument("--work", type=Path, default=None, help="dossier de travail (gardé)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="pvd-national-bench-"))
    start = time.perf_counter()
    paths = generate(work, args.territories, args.quarters)
    print(f"{len(paths)} régions × {args.quarters} trimestres × {args.territories} territoires "
          f"= {len(paths) * args.quarters * args.territories} territoires-trimestres, générés en "
          f"{time.perf_counter() - start:.1f} s ({work})")
    rows = summary_rows(paths)
    out = work / "sorties"
    out.mkdir(exist_ok=True)
    read = floor(paths, out / "plancher.xlsx", rows)
    floor_s = best(args.repeat, lambda: floor(paths, out / "plancher.xlsx", rows))
    ours_s = best(args.repeat, lambda: ours(paths, out / "national"))
    print(f"plancher (lecture SQLite de {read} lignes + écriture xlsxwriter de "
          f"{sum(len(r) for r in rows.values())} lignes) : {floor_s:.2f} s")
    print(f"pvd-report national (synthèse, tableau de bord, base nationale) : {ours_s:.2f} s")
    ratio = ours_s / floor_s
    print(f"rapport au plancher : {ratio:.2f}× (objectif : moins de 2×) — {'atteint' if ratio < 2 else 'NON atteint'}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
