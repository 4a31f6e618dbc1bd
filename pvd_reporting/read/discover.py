"""Which files to read, from the paths given on the command line (README, pvd-report validate;
docs/securite.md).

Only regular files are read: a FIFO, a device or a socket is named and skipped (opening one can
block forever or never end), and a symbolic link is followed only to a regular file, which the
console says. Nothing here opens a file: everything is decided on `lstat`/`stat`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
# The Sources row of a file of the input folder that is not a workbook (a PDF, a Word file).
NOT_A_WORKBOOK = "Ignoré : pas un classeur"


def shown_path(path: Path | str) -> str:
    """A path as text that every output can encode: a name that is not valid UTF-8 (bytes that
    Python keeps as surrogates) shows the replacement character instead of failing to write."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass
class Discovery:
    """The files to read, the console notices, and the files of the folders that are not
    workbooks (shown paths: each is a `Sources` row)."""

    files: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    not_workbooks: list[str] = field(default_factory=list)


def _is_lock(name: str) -> bool:
    # Excel's lock file `~$classeur.xlsx`, LibreOffice's `.~lock.classeur.xlsx#`.
    return name.startswith("~$")


def _skip_notice(path: Path) -> str | None:
    name = path.name
    if _is_lock(name):
        return f"Fichier de verrouillage ignoré (classeur ouvert dans Excel ?) : {shown_path(path)}"
    if name.startswith("."):
        return f"Fichier caché ignoré : {shown_path(path)}"
    return None


def _special_kind(mode: int) -> str | None:
    """What a file that is not a regular file is, in French; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "tube nommé (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "périphérique"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "dossier"
    return "fichier spécial"


def _regular(path: Path) -> tuple[bool, str | None]:
    """(whether `path` may be read, the notice to print): a regular file, or a link to one."""
    try:
        own = path.lstat()
    except OSError:
        return False, f"Chemin introuvable : {shown_path(path)}"
    if stat.S_ISLNK(own.st_mode):
        try:
            target = path.stat()
        except OSError:
            return False, f"Lien symbolique cassé ignoré : {shown_path(path)}"
        where = shown_path(os.path.realpath(path))
        kind = _special_kind(target.st_mode)
        if kind is not None:
            return False, (f"Lien symbolique ignoré : {shown_path(path)} mène à un {kind} ({where}), "
                           "qui n'est pas lu.")
        return True, f"Lien symbolique suivi : {shown_path(path)} → {where}"
    kind = _special_kind(own.st_mode)
    if kind is not None:
        return False, f"Fichier ignoré, ce n'est pas un fichier ordinaire ({kind}) : {shown_path(path)}"
    return True, None


def discover(paths: list[Path]) -> Discovery:
    """Workbooks to read (files given, and workbooks found in folders, recursively), notices,
    and the other files of the folders.

    A file given explicitly is kept whatever its extension, so that it is reported as unreadable
    rather than silently dropped; in folders only workbook extensions are read, and any other
    visible file is named once (« pas un classeur »).
    """
    found = Discovery()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.files.append(path)

    for given in paths:
        if given.is_dir() and not given.is_symlink():
            _walk(given, found, add)
        elif given.is_dir():
            found.notices.append(f"Lien symbolique suivi : {shown_path(given)} → "
                                 f"{shown_path(os.path.realpath(given))}")
            _walk(given, found, add)
        else:
            _take(given, found, add, explicit=True)
    return found


def discover_workbooks(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """`discover`'s workbooks and notices."""
    found = discover(paths)
    return found.files, found.notices


def _take(path: Path, found: Discovery, add: Callable[[Path], None], *, explicit: bool) -> None:
    name = path.name
    workbook = name.lower().endswith(WORKBOOK_SUFFIXES)
    if not workbook and not explicit and (name.startswith(".") or _is_lock(name)):
        return  # hidden and lock files that are not workbooks: silently, as a file manager does
    notice = _skip_notice(path)
    if notice:
        found.notices.append(notice)
        return
    ok, notice = _regular(path)
    if notice:
        found.notices.append(notice)
    if not ok:
        return
    if not workbook and not explicit:
        found.notices.append(f"Fichier ignoré, ce n'est pas un classeur : {shown_path(path)}")
        found.not_workbooks.append(shown_path(path))
        return
    add(path)


def _walk(folder: Path, found: Discovery, add: Callable[[Path], None]) -> None:
    for root, dirs, files in os.walk(folder, onerror=None):
        root_path = Path(root)
        kept = []
        for d in sorted(dirs):
            if d.startswith("."):
                found.notices.append(f"Dossier caché ignoré : {shown_path(root_path / d)}")
            else:
                kept.append(d)
        dirs[:] = kept  # os.walk descends only into what is left, in sorted order (never into a link)
        for name in sorted(files):
            _take(root_path / name, found, add, explicit=False)
