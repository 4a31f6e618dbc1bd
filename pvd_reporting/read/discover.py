"""Which files to read, from the paths given on the command line (README, pvd-report validate)."""

from __future__ import annotations

import os
from pathlib import Path

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")


def _is_lock(name: str) -> bool:
    # Excel's lock file `~$classeur.xlsx`, LibreOffice's `.~lock.classeur.xlsx#`.
    return name.startswith("~$")


def _skip_notice(path: Path) -> str | None:
    name = path.name
    if _is_lock(name):
        return f"Fichier de verrouillage ignoré (classeur ouvert dans Excel ?) : {path}"
    if name.startswith("."):
        return f"Fichier caché ignoré : {path}"
    return None


def discover_workbooks(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Workbooks to read (files given, and workbooks found in folders, recursively) and notices.

    A file given explicitly is kept whatever its extension, so that it is reported as unreadable
    rather than silently dropped; in folders only workbook extensions are kept.
    """
    found: list[Path] = []
    notices: list[str] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(path)

    for given in paths:
        if given.is_dir():
            for path, notice in _walk(given):
                if notice:
                    notices.append(notice)
                elif path is not None:
                    add(path)
        elif given.is_file():
            notice = _skip_notice(given)
            if notice:
                notices.append(notice)
            else:
                add(given)
        else:
            notices.append(f"Chemin introuvable : {given}")
    return found, notices


def _walk(folder: Path) -> list[tuple[Path | None, str | None]]:
    out: list[tuple[Path | None, str | None]] = []
    for root, dirs, files in os.walk(folder, onerror=None):
        root_path = Path(root)
        kept = []
        for d in sorted(dirs):
            if d.startswith("."):
                out.append((None, f"Dossier caché ignoré : {root_path / d}"))
            else:
                kept.append(d)
        dirs[:] = kept  # os.walk descends only into what is left, in sorted order
        for name in sorted(files):
            path = root_path / name
            if not name.lower().endswith(WORKBOOK_SUFFIXES):
                continue
            notice = _skip_notice(path)
            out.append((None, notice) if notice else (path, None))
    return out
