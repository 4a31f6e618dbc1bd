"""Typing into workbooks through LibreOffice Calc (UNO), as a person does: insert a row above or
below a row of a protected sheet (Calc's own insertion: the new row takes the format of the row
above it, every range below moves down), enter values into cells that protection leaves open, then
save.

The tests' Python cannot load LibreOffice's `uno` module (the system Python's, package
python3-uno): `type_in_calc` runs this file with a Python that can, once for all its workbooks,
one soffice for them all. A step typed into a locked cell is not typed (Calc refuses it under
protection) but reported, as are the cells looked at.

LibreOffice 7.4 headless aborts, in a timer, after a menu command (.uno:InsertRowsBefore,
.uno:EnterString) moves the cursor in these workbooks: the same operations go through the
sheet's API (`insertByIndex`, `setFormula`: an entry read as Calc reads a typed one).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Candidates for a Python with LibreOffice's `uno` module.
_PYTHONS = ("/usr/bin/python3", "/usr/lib/libreoffice/program/python")


def uno_python() -> str | None:
    """A Python that can import LibreOffice's `uno` module, or None."""
    for candidate in (*_PYTHONS, shutil.which("python3")):
        if candidate and Path(candidate).exists():
            done = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=60)
            if done.returncode == 0:
                return candidate
    return None


@dataclass(frozen=True)
class Job:
    """A workbook to type into: `steps` on its sheets, saved as .xlsx to `saved`.

    A step is a dict: {"sheet": name} makes it the sheet of the next steps; {"insert": "above" or
    "below", "row": r} selects row r (0-based) and inserts a row there; {"type": [r, c], "text": t}
    types t into a cell; {"look": [r, c], "as": name} reports a cell under `name`.
    """

    source: Path
    saved: Path
    steps: list[dict[str, Any]]


def type_in_calc(python: str, soffice: str, profile: str, jobs: list[Job]) -> list[dict[str, Any]]:
    """Each job's report: what each looked-at cell was and showed, and every cell found locked."""
    spec = {"soffice": soffice, "profile": profile,
            "jobs": [{"source": str(j.source), "saved": str(j.saved), "steps": j.steps} for j in jobs]}
    done = subprocess.run([python, __file__], input=json.dumps(spec), capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise AssertionError(f"Calc (UNO) a échoué : {done.stderr[-2000:]}")
    reports: list[dict[str, Any]] = json.loads(done.stdout.splitlines()[-1])
    return reports


# --- run by the Python that has `uno` -------------------------------------------------------------


def _main() -> None:
    import uno  # noqa: PLC0415

    spec = json.loads(sys.stdin.read())
    pipe = f"pvd-typing-{os.getpid()}"
    office = subprocess.Popen([spec["soffice"], f"-env:UserInstallation={spec['profile']}", "--headless",
                               "--norestore", f"--accept=pipe,name={pipe};urp;"],
                              stdout=subprocess.DEVNULL, stderr=None if os.environ.get("PVD_CALC_DEBUG") else subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        context = None
        for _ in range(300):
            try:
                context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:  # noqa: BLE001 - soffice not listening yet
                time.sleep(0.2)
        if context is None:
            raise SystemExit("soffice n'a pas répondu")
        manager = context.ServiceManager
        desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        reports = [_job(uno, desktop, job) for job in spec["jobs"]]
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001,S110 - the bridge closes as soffice quits
            pass
        office.wait(60)
    finally:
        if office.poll() is None:
            office.kill()
    print(json.dumps(reports))


def _prop(uno: Any, name: str, value: Any) -> Any:
    prop = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
    prop.Name, prop.Value = name, value
    return prop


def _job(uno: Any, desktop: Any, job: dict[str, Any]) -> dict[str, Any]:
    url = uno.systemPathToFileUrl(str(Path(job["source"]).resolve()))
    doc = desktop.loadComponentFromURL(url, "_blank", 0, (_prop(uno, "Hidden", True),))
    controller = doc.getCurrentController()
    sheet: Any = None
    report: dict[str, Any] = {"locked": [], "cells": {}, "protected": {}}
    for step in job["steps"]:
        if "sheet" in step:
            sheet = doc.getSheets().getByName(step["sheet"])
            controller.setActiveSheet(sheet)
            report["protected"][step["sheet"]] = sheet.isProtected()
        elif "insert" in step:
            row = step["row"]
            sheet.getRows().insertByIndex(row if step["insert"] == "above" else row + 1, 1)
        elif "type" in step:
            r, c = step["type"]
            cell = sheet.getCellByPosition(c, r)
            if sheet.isProtected() and cell.CellProtection.IsLocked:
                report["locked"].append([r, c])
                continue
            cell.setFormula(step["text"])
        elif "look" in step:
            r, c = step["look"]
            cell = sheet.getCellByPosition(c, r)
            report["cells"][step["as"]] = {
                "value": cell.getValue(), "shown": cell.getString(), "locked": cell.CellProtection.IsLocked,
                "validation": cell.Validation.Type.value, "colours": cell.ConditionalFormat.getCount(),
                "height": sheet.getRows().getByIndex(r).Height, "visible": sheet.getRows().getByIndex(r).IsVisible,
            }
    doc.calculateAll()
    doc.storeToURL(uno.systemPathToFileUrl(str(Path(job["saved"]).resolve())),
                   (_prop(uno, "FilterName", "Calc MS Excel 2007 XML"),))
    doc.close(True)
    return report


if __name__ == "__main__":
    _main()
