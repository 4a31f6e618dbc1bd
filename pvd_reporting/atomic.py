"""Writing outputs safely (README, Ce que contient chaque sortie): a temporary name in the target folder, then an atomic rename.

A reader of `outputs/` (a manager opening the summary, a web server serving the dashboard) never
sees a half-written file, and the input folder is never written to.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from pvd_reporting.errors import OutputError

T = TypeVar("T")


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


_FOLDER_NAMES = {"--output-dir": "Le dossier de sortie", "--annotate": "Le dossier des classeurs annotés",
                 "--cache": "Le dossier de cache"}


def refuse_inside_inputs(folder: Path, inputs: Iterable[Path], *, option: str) -> None:
    """The input folders are never written to: refuse a folder to write that is, or lies inside,
    an input folder, or that is the folder of an input file."""
    target = Path(folder).expanduser().resolve()
    for item in inputs:
        source = Path(item).expanduser().resolve()
        if _inside(target, source) if source.is_dir() else target == source.parent:
            raise OutputError(
                f"{_FOLDER_NAMES.get(option, 'Le dossier')} {folder} est dans un dossier d'entrée ({item}) : "
                f"choisissez-en un autre avec {option}, les classeurs reçus ne sont jamais modifiés."
            )


def prepare_output_dir(output_dir: Path, inputs: Iterable[Path] = ()) -> Path:
    """Create `output_dir`; refuse it when it is, or lies inside, an input folder."""
    refuse_inside_inputs(output_dir, inputs, option="--output-dir")
    target = Path(output_dir).expanduser().resolve()
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Impossible de créer le dossier de sortie {output_dir} ({exc.strerror or exc}) : "
            "vérifiez le chemin et vos droits d'écriture."
        ) from None
    if not os.access(target, os.W_OK):
        raise OutputError(f"Le dossier de sortie {output_dir} n'est pas accessible en écriture.")
    return target


def _temporary(path: Path) -> Path:
    # Same folder, so os.replace stays a rename on one file system; same suffix for writers
    # that look at it; hidden so a folder listing does not show it.
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` then move `tmp` onto `path`; nothing is left behind on failure."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise OutputError(
            f"Impossible d'écrire {path} ({exc.strerror or exc}) : le fichier est peut-être ouvert "
            "dans un tableur, ou le dossier protégé en écriture."
        ) from None
    except BaseException:
        _remove(tmp)
        raise
    return path


def atomic_write_text(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    # newline="" so a CSV keeps the line endings its writer chose.
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding=encoding, newline="") as handle:
            handle.write(text)

    return atomic_write(path, write)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _remove(path: Path) -> None:
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def free_name(folder: Path, stem: str, suffix: str) -> Path:
    """`stem.xlsx`, else `stem-2.xlsx`, `stem-3.xlsx`…: the first name not taken."""
    candidate = folder / f"{stem}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def atomic_write_folder(folder: Path, write: Callable[[Path], T]) -> T:
    """Call `write(tmp_folder)`, then put that folder in place of `folder` whole: nothing of an
    earlier run is left beside the new files, and on failure the earlier folder stays as it was."""
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.tmp")
    old = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}.old")
    try:
        tmp.mkdir(parents=True)
        result = write(tmp)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
    except OSError as exc:
        _remove(tmp)
        if old.exists() and not folder.exists():
            os.replace(old, folder)
        raise OutputError(f"Impossible d'écrire le dossier {folder} ({exc.strerror or exc}).") from None
    except BaseException:
        _remove(tmp)
        raise
    _remove(old)
    return result
