"""The quick bound of read/bounds.py (docs/vitesse.md): a sheet whose every cell sits plainly in a
small grid is proved within the limits of docs/securite.md at a glance; a sheet beyond a limit, or
not written plainly, still takes the exact count, and its file is read or refused in the same words
as with the exact count alone."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import hostile
import pytest
from factory import make_workbook

from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import Schema
from pvd_reporting.read import containers
from pvd_reporting.read.bounds import MAX_ROWS, MAX_TEXT_BYTES, WorkbookCost, measure
from pvd_reporting.read.workbook import read_workbook

UNREAD = {norm("Contrôles"), norm("Listes")}


@pytest.fixture(scope="module")
def base(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workbook(tmp_path_factory.mktemp("base") / "sain.xlsx", schema)


def _measure(path: Path) -> WorkbookCost:
    with zipfile.ZipFile(path) as zf:
        cost = measure(zf, UNREAD)
    assert cost is not None
    return cost


def _exact_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The count as it was before the quick bound: every sheet counted cell by cell."""
    monkeypatch.setattr(containers, "longest_shared", lambda zf, names: None)


def _issues(path: Path, schema: Schema) -> list[tuple[str, str | None, str | None, str]]:
    _, issues = read_workbook(path, schema)
    return [(i.code, i.sheet, i.cell, i.message) for i in issues]


def test_a_sound_workbook_is_proved_within_the_limits_at_a_glance(base: Path, schema: Schema,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    quick = _measure(base)
    assert set(quick.sheets) >= {"Territoire", "Engagements"}
    assert all(s.bounded for s in quick.sheets.values())
    issues = _issues(base, schema)
    _exact_only(monkeypatch)
    exact = _measure(base)
    assert not any(s.bounded for s in exact.sheets.values()) and exact.sheets["Territoire"].text_bytes > 0
    assert all(quick.sheets[title].text_bytes >= s.text_bytes for title, s in exact.sheets.items())
    assert _issues(base, schema) == issues


def _engagements(*rows: str) -> Callable[[Path, Path], Path]:
    def build(base: Path, dst: Path) -> Path:
        return hostile.rewrite(base, dst, {hostile.sheet_member(base, "Engagements"):
                                           hostile.sheet_xml([r.encode() for r in rows])})
    return build


_FIRST = '<row r="1"><c r="A1"><v>1</v></c></row>'
# Each Engagements sheet goes beyond the quick grid (A1:ZZ999) or is not written plainly.
BEYOND: dict[str, Callable[[Path, Path], Path]] = {
    "cellule-lointaine": hostile.far_apart,
    "plus-de-10000-lignes": _engagements(_FIRST, f'<row r="{MAX_ROWS + 1}"><c r="B{MAX_ROWS + 1}"><v>1</v></c></row>'),
    "lignes-sans-reference": lambda base, dst: hostile.many_rows(base, dst, rows=20_000),
    "cellule-prefixee": _engagements(_FIRST, '<row r="2"><x:c r="XFD2"><x:v>1</x:v></x:c></row>'),
    "ligne-prefixee": _engagements(_FIRST, '<x:row r="9000"><x:c r="XFD9000"><x:v>1</x:v></x:c></x:row>'),
    "cellule-sans-reference": _engagements(_FIRST, '<row r="2">' + "<c><v>1</v></c>" * 2_000 + "</row>"),
    "reference-apres-le-style": _engagements('<row r="1"><c s="0" r="XFD1"><v>1</v></c></row>',
                                             '<row r="9000"><c r="A9000"><v>1</v></c></row>'),
    "reference-en-minuscules": _engagements('<row r="1"><c r="a1"><v>1</v></c></row>',
                                            '<row r="2"><c r="xfd9000"><v>1</v></c></row>'),
    "ligne-1000": _engagements('<row r="1000"><c r="A1000"><v>1</v></c></row>'),
    "colonne-AAA": _engagements('<row r="1"><c r="AAA1"><v>1</v></c></row>'),
    # its quick bound (20,000 cells × 32,000 characters) is beyond the text budget
    "chaine-partagee": hostile.shared_string_bomb,
}


@pytest.mark.parametrize("name", sorted(BEYOND))
def test_a_sheet_beyond_the_quick_grid_is_counted_exactly(name: str, base: Path, tmp_path: Path, schema: Schema,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = BEYOND[name](base, tmp_path / f"{name}.xlsx")
    quick = _measure(path)
    issues = _issues(path, schema)
    assert not quick.sheets["Engagements"].bounded
    # The other sheets keep their quick bound, unless the file's text is beyond the budget.
    assert quick.sheets["Territoire"].bounded == (name != "chaine-partagee")
    _exact_only(monkeypatch)
    assert _measure(path).sheets["Engagements"] == quick.sheets["Engagements"]
    assert _issues(path, schema) == issues


@pytest.mark.parametrize(("cell", "bounded", "last"), [
    ("ZZ999", True, None), ("ZZ1000", False, (999, 701)), ("AAA999", False, (998, 702))])
def test_the_quick_grid_ends_at_ZZ999(cell: str, bounded: bool, last: tuple[int, int] | None, base: Path,
                                      tmp_path: Path) -> None:
    row = cell.lstrip("AZ")
    path = _engagements(_FIRST, f'<row r="{row}"><c r="{cell}"><v>1</v></c></row>')(base, tmp_path / "bord.xlsx")
    sheet = _measure(path).sheets["Engagements"]
    assert sheet.bounded == bounded and not sheet.too_many_rows and not sheet.too_many_cells
    if last is not None:
        assert (sheet.last_row, sheet.last_col) == last


def test_a_quick_bound_beyond_the_text_budget_refuses_nothing(base: Path, tmp_path: Path, schema: Schema,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # One 40,000-character string shown once and a short one 1,997 times, in A1:B999: a quick
    # bound of some 80 MB, for 50 KB of text read. The file is read, as with the exact count alone.
    rows = [f'<row r="{r}"><c r="A{r}" t="s"><v>{int(r > 1)}</v></c><c r="B{r}" t="s"><v>1</v></c></row>'.encode()
            for r in range(1, 1_000)]
    path = hostile.with_shared_strings(base, tmp_path / "long.xlsx", ["x" * 40_000, "court"], rows)
    assert 1_998 * 40_000 > MAX_TEXT_BYTES
    quick = _measure(path)
    issues = _issues(path, schema)
    # Every sheet counted exactly: the sum of their quick bounds proved nothing.
    assert not any(s.bounded for s in quick.sheets.values())
    assert quick.sheets["Engagements"].text_bytes == (40_000 + 7) + 1_997 * len("<t>court</t>")
    assert not [i for i in issues if i[0] == "file-too-large"]
    _exact_only(monkeypatch)
    assert _measure(path).sheets == quick.sheets
    assert _issues(path, schema) == issues
