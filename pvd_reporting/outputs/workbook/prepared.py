"""An xlsxwriter workbook that prepares each distinct formula once per process.

xlsxwriter rewrites every formula it stores (array formulas, conditional formats, custom
validations) through some 200 regular-expression substitutions that prefix Excel's newer
functions (`_xlfn.`). A territory workbook holds about a hundred such formulas, the same in every
workbook of a run: that rewriting was most of a workbook's cost. The result depends only on the
formula's text and two flags, so it is remembered, whatever the formulas say.
"""

from __future__ import annotations

from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

# Enough for every formula of several layouts; the memo is emptied if it ever grows past it.
_MEMO_LIMIT = 50_000
_MEMO: dict[tuple[str, bool, bool], str] = {}


class PreparedWorksheet(Worksheet):
    """A worksheet whose formula preparation is looked up before it is computed."""

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
