"""Recalculating workbooks with the two spreadsheet engines the live checks must agree under.

LibreOffice (`soffice --convert-to`, one call for many files) computes with its own rules;
Gnumeric (`ssconvert --recalc`) follows Excel's, where a logical value compares greater than any
number and SUM skips logical values: the pair stands in for « Excel and LibreOffice ».

`probe` writes, into a copy of a workbook, each conditional format's formula as an ordinary
cell formula beside the cells it colours, so that both engines say which rows it would colour.
"""

from __future__ import annotations

import csv
import re
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from conftest import lo_profile
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula
from python_calamine import CalamineWorkbook

from pvd_reporting.check.checks import live_checks
from pvd_reporting.check.formulas import FORM, Layout, LiveCheck
from pvd_reporting.format.schema import Schema

ENGINES = ("libreoffice", "gnumeric")
# Far right of every sheet: no column of the format reaches it.
PROBE_FIRST_COLUMN = 120


def fresh_profile() -> str:
    # The test process's own profile: made once, never shared with another process.
    return lo_profile()


def libreoffice(soffice: str, files: list[Path], out_dir: Path, *, to: str = "xlsx",
                profile: str | None = None) -> list[Path]:
    """One soffice call converting every file (LibreOffice recalculates them on load)."""
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile or fresh_profile()}", "--headless", "--convert-to", to,
         "--outdir", str(out_dir), *map(str, files)],
        check=True, capture_output=True, timeout=600,
    )
    ext = to.split(":")[0]
    return [out_dir / f"{f.stem}.{ext}" for f in files]


# Every sheet as CSV, raw values (not as shown), UTF-8: for copies only read back, never
# validated, LibreOffice writes this in about 0.6 s of CPU less per workbook than an .xlsx.
VALUES_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def libreoffice_values(soffice: str, files: list[Path], out_dir: Path) -> dict[str, Sheets]:
    """Each file's values as LibreOffice computed them, by stem: one soffice call exporting every
    sheet as CSV (`stem-Sheet.csv`), laid out as Gnumeric's (`stem/sheet.csv.N`) for `Sheets`."""
    libreoffice(soffice, files, out_dir, to=VALUES_CSV)
    found = {}
    for f in files:
        folder = out_dir / f.stem
        folder.mkdir()
        workbook = CalamineWorkbook.from_path(str(f))
        names = workbook.sheet_names
        workbook.close()
        for i, name in enumerate(names):
            (out_dir / f"{f.stem}-{name}.csv").rename(folder / f"sheet.csv.{i}")
        found[f.stem] = Sheets(folder, f)
    return found


def gnumeric(ssconvert: str, files: list[Path], out_dir: Path) -> list[Path]:
    """`ssconvert --recalc -S` on each file, two at a time: a folder of one CSV per sheet each
    (Gnumeric's own .xlsx spells out every cell of a formatted row: tens of megabytes)."""
    outs = [out_dir / f.stem for f in files]

    def run(pair: tuple[Path, Path]) -> None:
        pair[1].mkdir()
        subprocess.run([ssconvert, "--recalc", "-S", str(pair[0]), str(pair[1] / "sheet.csv")],
                       check=True, capture_output=True, timeout=600)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, zip(files, outs, strict=True)))
    return outs


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _csv_value(text: str) -> Any:
    if _NUMBER.fullmatch(text):
        return float(text)
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    return text


class Sheets:
    """The values of a recalculated workbook, sheet by sheet: a file LibreOffice saved, or the
    CSV folder Gnumeric wrote (its sheets in the order of `source`)."""

    def __init__(self, path: Path, source: Path) -> None:
        self.path, self.source = path, source
        self._grids: dict[str, list[list[Any]]] = {}

    def grid(self, sheet: str) -> list[list[Any]]:
        if sheet not in self._grids:
            if self.path.is_dir():
                workbook = CalamineWorkbook.from_path(str(self.source))
                index = workbook.sheet_names.index(sheet)
                workbook.close()
                with (self.path / f"sheet.csv.{index}").open(encoding="utf-8", newline="") as f:
                    rows = [[_csv_value(v) for v in row] for row in csv.reader(f)]
            else:
                workbook = CalamineWorkbook.from_path(str(self.path))
                rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
                workbook.close()
            self._grids[sheet] = rows
        return self._grids[sheet]

    def value(self, sheet: str, row: int, column: int) -> Any:
        """A cell by 0-based row and column ("" outside the sheet's written area)."""
        grid = self.grid(sheet)
        if row < len(grid) and column < len(grid[row]):
            return grid[row][column]
        return ""


def recalculate(engine: str, tool: str, files: list[Path], out_dir: Path) -> dict[str, Sheets]:
    """Each file's values as `engine` computed them, by stem."""
    outs = libreoffice(tool, files, out_dir) if engine == "libreoffice" else gnumeric(tool, files, out_dir)
    return {f.stem: Sheets(o, f) for f, o in zip(files, outs, strict=True)}


# A row-relative reference of a conditional format: `$J2` (never `$J$2`).
_RELATIVE = re.compile(r"\$([A-Z]{1,3})(\d+)(?![\d$])")


def shifted(formula: str, rows: int) -> str:
    """The formula as the conditional format applies it `rows` rows further down."""
    return _RELATIVE.sub(lambda m: f"${m.group(1)}{int(m.group(2)) + rows}", formula)


@dataclass(frozen=True)
class Probe:
    check: LiveCheck
    sheet: str  # sheet name
    row: int  # 1-based row of the coloured cell (and of the probe)
    column: int  # 1-based column of the probe


def probe(src: Path, dst: Path, schema: Schema, layout: Layout, rows: Mapping[str, Iterable[int]]) -> list[Probe]:
    """Copy `src` to `dst` with a probe cell per conditional format and row; `rows`: table key ->
    the 1-based rows to probe (the form's rows are probed where they are)."""
    wb = openpyxl.load_workbook(src)
    next_column: dict[str, int] = {}
    probes: list[Probe] = []
    for check in live_checks(schema):
        name = layout.sheet(check.sheet)
        ws = wb[name]
        for cells, condition in check.highlights(layout):
            column = next_column.get(name, PROBE_FIRST_COLUMN)
            next_column[name] = column + 1
            letter = get_column_letter(column)
            found = re.match(r"[A-Z]+(\d+)", cells)
            assert found, cells
            first = int(found.group(1))
            last = int(re.findall(r"(\d+)", cells.split(" ")[0])[-1])
            wanted = [first] if check.sheet == FORM else sorted(r for r in set(rows[check.sheet]) | {last}
                                                                  if first <= r <= last)
            for r in wanted:
                ws[f"{letter}{r}"] = ArrayFormula(f"{letter}{r}", "=" + shifted(condition, r - first))
                probes.append(Probe(check, name, r, column))
    wb.save(dst)
    return probes


def coloured(value: object) -> bool:
    """A conditional format colours its cell when its formula gives TRUE or a number other than 0."""
    if isinstance(value, str):
        raise AssertionError(f"formule de mise en forme en erreur : {value!r}")
    return bool(value)


__all__ = ["AS_SHOWN_CSV", "ENGINES", "VALUES_CSV", "Probe", "Sheets", "coloured", "french_profile", "libreoffice",
           "libreoffice_values", "probe", "recalculate", "shifted"]


_FRENCH = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>fr-FR</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse"><value>fr-FR</value></prop></item>
</oor:items>
"""


def french_profile(folder: Path) -> str:
    """A fresh LibreOffice profile set to French (France), as a chef de projet's Calc is."""
    user = folder / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(_FRENCH, encoding="utf-8")
    return folder.resolve().as_uri()


# Tokens: separator ;, quote ", UTF-8, from line 1, …, 9th « as shown », 12th -1: every sheet.
AS_SHOWN_CSV = "csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,true,true,false,false,-1"
