"""Whether two `consolidate` output folders publish the same thing (docs/vitesse.md, La mémoire de
quatre trimestres): a change made for speed or memory must leave every output as it was.

    python benchmarks/same_outputs.py AVANT APRES

The history database table by table, rows in the order written (its write date and the path of
the reference list aside); the summary workbook cell by cell (openpyxl); drafts and HTML pages
as text, the MIME boundaries and plotly's div ids (drawn at random each run) aside; every other
file byte for byte. Exit code 1 and the differences listed when they differ.
"""

from __future__ import annotations

import filecmp
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

# Drawn at random by every run: MIME boundaries, plotly's div ids.
_RANDOM = re.compile(r"={15}\d+==|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# meta keys that differ between two runs of the same inputs: when, from which checkout, and the
# program's own digest (a change made for speed changes it, not what is published).
_RUN_META = ("written_at", "liste_reference", "programme")


def database(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(path)
    try:
        out: dict[str, list[tuple[Any, ...]]] = {
            "index": sorted(db.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")),
            "schema": sorted(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")),
        }
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
            rows = db.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            if name == "meta":
                rows = [r for r in rows if r[0] not in _RUN_META]
            if name == "publications":
                rows = [r[:2] + r[3:] for r in rows]  # the run's stamp
            out[name] = rows
        return out
    finally:
        db.close()


def cells(path: Path) -> dict[str, list[list[Any]]]:
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def differences(before: Path, after: Path) -> list[str]:
    found = []
    names_a = sorted(p.relative_to(before) for p in before.rglob("*") if p.is_file())
    names_b = sorted(p.relative_to(after) for p in after.rglob("*") if p.is_file())
    if names_a != names_b:
        found.append(f"fichiers différents : {sorted(map(str, set(names_a) ^ set(names_b)))}")
    for rel in (n for n in names_a if (after / n).is_file()):
        a, b = before / rel, after / rel
        if rel.suffix == ".sqlite":
            da, db = database(a), database(b)
            found += [f"{rel} : table {t}" for t in sorted(set(da) | set(db)) if da.get(t) != db.get(t)]
        elif rel.suffix == ".xlsx" and rel.parent == Path("."):
            if cells(a) != cells(b):
                found.append(f"{rel} : valeurs des cellules")
        elif rel.suffix in (".eml", ".html"):
            text_a, text_b = (_RANDOM.sub("X", p.read_text(encoding="utf-8", errors="replace")) for p in (a, b))
            if text_a != text_b:
                found.append(f"{rel} : texte")
        elif not filecmp.cmp(a, b, shallow=False):
            found.append(f"{rel} : octets")
    return found


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage : python benchmarks/same_outputs.py AVANT APRES")
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    found = differences(before, after)
    count = sum(1 for p in before.rglob("*") if p.is_file())
    print("\n".join(found) if found else f"identiques ({count} fichiers)")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
