"""Writing outputs safely (README, Ce que contient chaque sortie): a temporary name in the target folder, then an atomic rename.

A reader of `outputs/` (a manager opening the summary, a web server serving the dashboard) never
sees a half-written file, and the input folder is never written to. A whole run is written in a
staging folder and moved in at the end, under a lock: `output_folder.py`. Here: the single
writes, why a write failed in French, and the worker processes that die with their parent.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import signal
import sys
import threading
import time
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
        remove_quietly(tmp)
        raise OutputError(
            f"Impossible d'écrire {path} ({os_reason(exc)}) : le fichier est peut-être ouvert "
            "dans un tableur, ou le dossier protégé en écriture."
        ) from None
    except BaseException:
        remove_quietly(tmp)
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


def remove_quietly(path: Path) -> None:
    """Remove a file or a folder, if it can be: what is left is cleared by the next run."""
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
        remove_quietly(tmp)
        if old.exists() and not folder.exists():
            os.replace(old, folder)
        raise OutputError(f"Impossible d'écrire le dossier {folder} ({os_reason(exc)}).") from None
    except BaseException:
        remove_quietly(tmp)
        raise
    remove_quietly(old)
    return result


_FRENCH_ERRNO = {errno.ENOSPC: "disque plein", errno.EDQUOT: "quota disque dépassé",
                 errno.EACCES: "accès refusé", errno.EPERM: "opération non permise",
                 errno.EROFS: "disque en lecture seule", errno.ENOENT: "fichier ou dossier introuvable",
                 errno.EIO: "erreur d'entrée-sortie du disque"}


def os_reason(exc: OSError) -> str:
    """Why a write failed, in French when the system's reason is a known one."""
    return _FRENCH_ERRNO.get(exc.errno or 0) or exc.strerror or str(exc)


_CHECKPOINT_ENV = "PVD_TEST_CHECKPOINT"


def checkpoint(name: str) -> None:
    """Test hook: with PVD_TEST_CHECKPOINT=<name>:<file>, write the process id to <file> at the
    checkpoint `name` and wait there to be killed (tests/test_output_folder.py kills runs at
    known moments)."""
    wanted = os.environ.get(_CHECKPOINT_ENV)
    if not wanted:
        return
    point, _, flag = wanted.partition(":")
    if point != name:
        return
    Path(flag).write_text(str(os.getpid()), encoding="utf-8")
    while True:
        time.sleep(60)


# --- worker processes die with their parent ------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def worker_guard() -> tuple[int, bool]:
    """What `die_with_parent` needs, taken in the parent before its workers are made: its process
    id, and whether the forking thread is the main one (the kernel's death signal follows the
    thread that forked: only the main thread surely lives as long as the run)."""
    return os.getpid(), threading.current_thread() is threading.main_thread()


def die_with_parent(parent: int, main_thread: bool) -> None:
    """In a worker process: exit as soon as `parent` dies (killed, out of memory), rather than wait
    forever on a queue nobody writes to, or write into a folder the next run is cleaning."""
    if os.getppid() == parent and main_thread and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # died before the signal was asked for
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    # Elsewhere, or made by a fork server (then `parent` is not ours): watch it by its id.
    threading.Thread(target=_watch_parent, args=(parent,), name="pvd-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while True:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except OSError:
            pass  # alive, owned by someone else
        time.sleep(0.5)
