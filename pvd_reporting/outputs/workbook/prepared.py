"""An xlsxwriter workbook that prepares each distinct formula once per process, and stores a
wide column range as one range.

xlsxwriter rewrites every formula it stores (array formulas, conditional formats, custom
validations) through some 200 regular-expression substitutions that prefix Excel's newer
functions (`_xlfn.`). A territory workbook holds about a hundred such formulas, the same in every
workbook of a run: that rewriting was most of a workbook's cost. The result depends only on the
formula's text and two flags, so it is remembered, whatever the formulas say.

xlsxwriter also stores a column range one column at a time, compares them one by one when it
writes the sheet, and widens the sheet's dimension to the range's last column, after which it
visits every column of every row it writes: the format given to every column to the last one
(16,384 of them, so that rows can be deleted under protection) cost a full workbook some 250 ms.
Such a range is kept as its first column and its extent, written as the same single `<col>`
element, and the dimension stays that of the cells.
"""

from __future__ import annotations

from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import ColumnInfo, Worksheet

# Enough for every formula of several layouts; the memo is emptied if it ever grows past it.
_MEMO_LIMIT = 50_000
_MEMO: dict[tuple[str, bool, bool], str] = {}
# Column ranges at least this wide are stored as one range.
_WIDE = 64


class PreparedWorksheet(Worksheet):
    """A worksheet whose formula preparation is looked up before it is computed, and whose wide
    column ranges are stored as one range."""

    def __init__(self) -> None:
        super().__init__()
        self._wide: dict[int, int] = {}  # first column of a wide range -> its last column

    def set_column_pixels(self, first_col: int, last_col: int, width: float | None = None,
                          cell_format: Any = None, options: dict[str, Any] | None = None) -> Any:
        first, last = min(first_col, last_col), max(first_col, last_col)
        # A later range over a wide one: the wide one is spread out first, as xlsxwriter would hold it.
        for start, end in list(self._wide.items()):
            if start <= last and first <= end:
                info = self.col_info[start]
                del self._wide[start]
                for col in range(start + 1, end + 1):
                    self.col_info[col] = info
        # Only a range of the default width is kept whole: the positions of comments and images
        # read each column's width.
        if last - first + 1 < _WIDE or width is not None or options:
            return super().set_column_pixels(first, last, width, cell_format, options)
        # xlsxwriter's bounds check for the last column. The sheet's dimension stays that of its
        # cells: widened to the last column, it made xlsxwriter visit 16,384 columns in every row
        # it writes, and it told every reader the sheet was 16,384 columns wide.
        if self._check_dimensions(0, last, True, True):
            return -1
        dimension = {name: getattr(self, name) for name in ("dim_colmin", "dim_colmax")}
        done = super().set_column_pixels(first, first, width, cell_format, options)
        for name, value in dimension.items():
            setattr(self, name, value)
        if done == 0:
            for col in [c for c in self.col_info if first < c <= last]:
                del self.col_info[col]  # set one by one before: now within this range
            self._wide[first] = last
        return done

    def _write_col_info(self, col_min: int, col_max: int, col_info: ColumnInfo) -> None:
        super()._write_col_info(col_min, self._wide.get(col_max, col_max), col_info)

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> Any:
        key = (formula, bool(expand_future_functions), bool(self.use_future_functions))
        prepared = _MEMO.get(key)
        if prepared is None:
            prepared = super()._prepare_formula(formula, expand_future_functions)
            if len(_MEMO) >= _MEMO_LIMIT:
                _MEMO.clear()
            _MEMO[key] = prepared
        return prepared


class PreparedWorkbook(xlsxwriter.Workbook):
    """`xlsxwriter.Workbook` whose worksheets remember their prepared formulas."""

    worksheet_class = PreparedWorksheet
