"""Render the README's pictures of a filled workbook that checks itself (docs/classeur-*.png).

The example workbook of Reichshoffen (workbooks/, one action financed beyond its cost and a
total row) is written again in the current format, LibreOffice opens it, recalculates and prints
it to PDF, and poppler's pdftoppm cuts the Contrôles page and the top of the Engagements page.

    .venv/bin/python scripts/make_screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pvd_reporting.format.schema import build_schema  # noqa: E402
from pvd_reporting.outputs.workbook.template import filled_content  # noqa: E402
from pvd_reporting.outputs.workbook.writer import write_workbook  # noqa: E402
from pvd_reporting.read.workbook import read_workbook  # noqa: E402

SOURCE = REPO / "workbooks" / "pvd-44-67-8-reichshoffen.xlsx"
DOCS = REPO / "docs"
# (output name, sheet, dots per inch, crop box in inches: left, top, width, height)
SHOTS = (
    ("classeur-controles.png", "Contrôles", 110, (0.6, 0.6, 10.4, 6.4)),
    ("classeur-engagements.png", "Engagements", 200, (0.65, 0.7, 10.2, 0.75)),
)


def main() -> int:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftoppm"):
        print("Il faut LibreOffice (soffice) et poppler-utils (pdftoppm).", file=sys.stderr)
        return 2
    schema = build_schema()
    data, _ = read_workbook(SOURCE, schema)
    assert data is not None
    content, _ = filled_content(schema, data)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        book = write_workbook(work / "classeur.xlsx", schema, content)
        subprocess.run([soffice, f"-env:UserInstallation=file:///tmp/pvd-lo-{uuid.uuid4().hex}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(work), str(book)],
                       check=True, capture_output=True, timeout=300)
        pdf = work / "classeur.pdf"
        # Each visible sheet prints on one page, in the order of the schema (Listes is hidden).
        pages = {name: i for i, name in enumerate(schema.sheet_names[:-1], start=1)}
        for out, sheet, dpi, box in SHOTS:
            page = pages[sheet]
            x, y, w, h = (str(int(v * dpi)) for v in box)
            crop = ["-x", x, "-y", y, "-W", w, "-H", h]
            subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                            "-singlefile", *crop, str(pdf), str(work / "page")], check=True, timeout=120)
            shutil.move(work / "page.png", DOCS / out)
            print(f"Écrit : docs/{out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
