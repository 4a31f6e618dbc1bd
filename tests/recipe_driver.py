"""Runs the steps of `tests/test_recipes.py` with a copy of the package first on the path (the copy
a recipe was followed in): workbooks made by `factory.py` with the copy's schema, then the copy's
commands, in one process. Prints what each step gave, as JSON.

Usage: python recipe_driver.py COPY_ROOT PLAN.json
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any


def main(root: Path, plan_path: Path) -> list[dict[str, Any]]:
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(Path(__file__).resolve().parent))
    import pvd_reporting

    assert Path(pvd_reporting.__file__).resolve().is_relative_to(root.resolve()), pvd_reporting.__file__
    from click.testing import CliRunner
    from factory import baseline_rows, make_workbook

    from pvd_reporting.cli import cli
    from pvd_reporting.format.config import load_config
    from pvd_reporting.format.schema import build_schema

    done: list[dict[str, Any]] = []
    for step in json.loads(plan_path.read_text(encoding="utf-8")):
        try:
            if "workbook" in step:
                schema = build_schema(load_config(step.get("config")))
                rows = baseline_rows(schema)
                for table, columns in step.get("set", {}).items():
                    for key, values in columns.items():
                        for row, value in zip(rows[table], values, strict=False):
                            row[key] = value
                rows.update(step.get("rows", {}))
                # A workbook of an older format: these columns left out.
                columns = {table: [k for k in schema.table(table).keys if k not in keys]
                           for table, keys in step.get("drop", {}).items()}
                make_workbook(Path(step["workbook"]), schema, rows=rows, columns=columns or None)
                done.append({"ok": True})
            else:
                result = CliRunner().invoke(cli, step["cli"])
                error = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info and \
                    not isinstance(result.exception, SystemExit) else ""
                done.append({"ok": result.exit_code in (0, 1), "exit": result.exit_code, "output": result.output,
                             "error": error})
        except Exception:  # noqa: BLE001 — reported to the test, which names the step
            done.append({"ok": False, "error": traceback.format_exc()})
    return done


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
