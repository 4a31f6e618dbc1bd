"""Which région the workbooks name in their Territoire sheet, so that `validate` and `consolidate`
read them with that région's configuration when no `--region` or `--config` is given."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from pvd_reporting.format.config import known_region
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import build_schema
from pvd_reporting.read.bounds import measure_opened
from pvd_reporting.read.containers import Damaged, TooComplex
from pvd_reporting.read.refusals import file_refusal, sheet_refusal
from pvd_reporting.read.safety import library_quiet, open_checked

# A few workbooks are enough to know the région; a folder of 1,000 is not opened twice.
SAMPLE = 25
_NOT_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)


def _region_cell(path: Path) -> Any:
    form = build_schema().form
    label = form.field("region").match_key
    opened, refused = open_checked(path)
    if opened is None:
        return None
    try:
        if refused is not None:
            return None
        # The same limits as the reader's, in this process too: a hostile file never reaches
        # the library here (the reader says why it is refused).
        try:
            cost = measure_opened(opened.zip, opened.data)
        except (TooComplex, Damaged):
            return None
        if file_refusal(cost) is not None:
            return None
        with library_quiet():
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(opened.data))
    except _NOT_FATAL:
        raise
    except BaseException:  # noqa: BLE001 — an unreadable workbook is reported by the reader itself
        return None
    finally:
        opened.close()
    try:
        title = next((t for t in workbook.sheet_names if norm(t) == norm(form.name)), None)
        if title is None:
            return None
        if cost is not None and sheet_refusal(cost.sheets.get(title), title) is not None:
            return None
        with library_quiet():
            grid = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)[:60]
        for row in grid:
            if row and isinstance(row[0], str) and norm(row[0]) == label:
                return row[1] if len(row) > 1 else None
        return None
    except _NOT_FATAL:
        raise
    except BaseException:  # noqa: BLE001
        return None
    finally:
        workbook.close()


def named_region(files: list[Path]) -> str | None:
    """The shipped région most of the first workbooks name, or None when none names one."""
    votes: Counter[str] = Counter()
    for path in files[:SAMPLE]:
        region = known_region(_region_cell(path))
        if region is not None:
            votes[region] += 1
    return votes.most_common(1)[0][0] if votes else None
