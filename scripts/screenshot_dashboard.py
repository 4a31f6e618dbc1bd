"""Screenshot of the dashboard with headless Chromium, for the README (docs/tableau-de-bord.png).

Exemple :
    python scripts/screenshot_dashboard.py outputs/tableau-de-bord-2025-T4.html docs/tableau-de-bord.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def screenshot(html: Path, png: Path, *, width: int = 1400, height: int = 1800) -> Path:
    """Write a PNG of the page's top `height` pixels; the charts are given time to draw."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not browser:
        raise SystemExit("Chromium introuvable : installez le paquet chromium.")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pvd-shot-") as profile:
        command = [
            browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--window-size={width},{height}", "--virtual-time-budget=8000",
            f"--screenshot={png.resolve()}", html.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if not png.exists():
        raise SystemExit(f"Capture impossible : {result.stderr.strip()[:300]}")
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Capture d'écran du tableau de bord HTML.")
    parser.add_argument("html", type=Path, help="le fichier tableau-de-bord-<période>.html")
    parser.add_argument("png", type=Path, nargs="?", default=Path("docs/tableau-de-bord.png"),
                        help="l'image PNG à écrire (défaut : docs/tableau-de-bord.png)")
    parser.add_argument("--width", type=int, default=1400, help="largeur en pixels")
    parser.add_argument("--height", type=int, default=1800, help="hauteur en pixels")
    args = parser.parse_args(argv)
    if not args.html.is_file():
        print(f"Fichier introuvable : {args.html}", file=sys.stderr)
        return 2
    out = screenshot(args.html, args.png, width=args.width, height=args.height)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
