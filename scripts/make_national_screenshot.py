"""Render the README's picture of the national dashboard (docs/tableau-de-bord-national.png).

Every région's territories of the reference list (../shared/data) are given a history built
from the demo's (benchmarks/national.py), Mayotte left out to show a région « non remontée »;
`pvd-report national` rolls them up and headless Chromium photographs the page.

    .venv/bin/python scripts/make_national_screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "scripts"))

import national  # noqa: E402
from screenshot_dashboard import screenshot  # noqa: E402

from pvd_reporting.format.config import shipped_regions  # noqa: E402
from pvd_reporting.pipeline.national import run_national  # noqa: E402

REFERENCE = REPO.parent / "shared" / "data" / "pvd-communes-2021.csv"
LEFT_OUT = "Mayotte"


def main() -> int:
    if not REFERENCE.exists():
        print(f"Liste de référence introuvable : {REFERENCE}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pvd-national-shot-") as work:
        regions = [r for r in shipped_regions() if r != LEFT_OUT]
        paths = national.generate(Path(work), quarters=2, regions=regions, reference=REFERENCE)
        page = run_national(paths, output_dir=Path(work) / "national").written[1]
        print(screenshot(page, REPO / "docs" / "tableau-de-bord-national.png", width=1400, height=1760))
    return 0


if __name__ == "__main__":
    sys.exit(main())
