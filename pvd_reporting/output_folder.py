"""The output folder, all or nothing (docs/securite.md): a whole run is written in a staging folder
and moved in at the end, under a lock, so the output folder holds one run's outputs, never a mix
of two, and a run killed at any point is finished or cleared by the next.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from pvd_reporting.atomic import atomic_write_text, checkpoint, os_reason, remove_quietly
from pvd_reporting.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None  # type: ignore[assignment]  # the module's name, kept to test for None

# A run writes every output into a staging folder, then moves them into the output folder. Once
# the staging folder is complete it holds a manifest (what to move in, what to take out): a run
# killed during the move is finished by the next one, and a staging folder without a manifest is
# only ever a run that did not finish writing, so it is deleted. A lock on the output folder keeps
# a second run from starting meanwhile.

STAGING_MARK = ".pvd-en-cours-"
LOCK_NAME = ".pvd-report-verrou"
MANIFEST_NAME = "manifeste.json"
_TRASH = ".anciens"
# What `atomic_write` and `atomic_write_folder` (and their predecessors) leave when a run is killed.
_STRAY = re.compile(r"^\..+\.[0-9a-f]{8}\.(tmp|old)(\..+)?$")

# Descriptors of the locks held by this process: closed in every forked child, so that a child
# never keeps a folder locked after its parent died (it dies too, see `atomic.die_with_parent`).
_held: set[int] = set()


def _close_held() -> None:
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_held)


# --- the lock ------------------------------------------------------------------------------------


class _Lock:
    """An exclusive `flock` on `<output>/.pvd-report-verrou`, the file removed on release. A run
    that finds it taken is refused at once (exit 2): waiting would leave the referent before a
    silent terminal, and a second run of the same command has nothing to add."""

    def __init__(self, folder: Path, shown: Path) -> None:
        self.path = folder / LOCK_NAME
        self.fd: int | None = None
        if fcntl is None:  # no flock (Windows): runs are not guarded
            return
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise OutputError(f"Impossible de verrouiller le dossier de sortie {shown} ({os_reason(exc)}).") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip()
                os.close(fd)
                who = f" (processus {holder})" if holder.isdigit() else ""
                raise OutputError(
                    f"Une autre exécution de pvd-report écrit déjà dans {shown}{who} : attendez qu'elle "
                    "se termine, puis relancez la commande (ou choisissez un autre --output-dir)."
                ) from None
            # The run before may have removed the file between our open and our lock: lock the one in place.
            try:
                mine = os.fstat(fd)
                current = os.stat(self.path)
                same = (mine.st_ino, mine.st_dev) == (current.st_ino, current.st_dev)
            except OSError:
                same = False
            if same:
                break
            os.close(fd)
        self.fd = fd
        _held.add(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        _held.discard(self.fd)
        os.close(self.fd)
        self.fd = None


# --- staging and the move ------------------------------------------------------------------------


class OutputFolder:
    """`with OutputFolder(target) as out:` locks `target`, finishes or clears what a killed run
    left, and gives `out.path`, the staging folder to write every output into; `out.commit()`
    moves them into `target`. On an exception the staging folder is removed and `target` is left
    as it was. `out.notices`: what was found of an earlier run, for the console."""

    def __init__(self, target: Path, inputs: Iterable[Path] = (), *, shown: Path | None = None) -> None:
        self.target = Path(target)
        self.shown = shown or self.target
        self._inputs = list(inputs)
        self.notices: list[str] = []
        self.path = self.target
        self._lock: _Lock | None = None
        self._staging: Path | None = None

    def __enter__(self) -> OutputFolder:
        self._lock = _Lock(self.target, self.shown)
        try:
            self.notices = recover(self.target, self.shown)
            self._staging = self.path = _staging_place(self.target, self._inputs)
            self.path.mkdir()
        except OSError as exc:
            self._lock.release()
            raise OutputError(f"Impossible de préparer l'écriture dans {self.shown} ({os_reason(exc)}).") from None
        except BaseException:
            self._lock.release()
            raise
        return self

    def final(self, path: Path) -> Path:
        """Where a path written in the staging folder is once moved in."""
        return self.target / Path(path).relative_to(self.path) if self.path != self.target else Path(path)

    def commit(self, *, same_stems: bool = True) -> None:
        """Move every output of the staging folder into the output folder; with `same_stems`, take
        out the earlier files of the same names (`note-2025-T4.pdf` when this run wrote
        `note-2025-T4.html` alone): a run's outputs replace the previous run's whole."""
        assert self._staging is not None
        staging = self._staging
        try:
            install = sorted(p.name for p in staging.iterdir() if not p.name.startswith("."))
            stems = {_stem(name) for name in install} - {None} if same_stems else set()
            remove = sorted(p.name for p in self.target.iterdir()
                            if not p.name.startswith(".") and p.name not in install and _stem(p.name) in stems)
            manifest = {"dossier": str(self.target), "processus": os.getpid(), "installer": install,
                        "retirer": remove}
            atomic_write_text(staging / MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=1))
        except OSError as exc:
            raise OutputError(f"Impossible d'écrire dans {self.shown} ({os_reason(exc)}).") from None
        checkpoint("staged")
        # From here the staging folder is complete: kept whatever happens, the next run finishes the move.
        self._staging = None
        try:
            _move(staging, self.target, install, remove)
        except OSError as exc:
            raise OutputError(f"Impossible de mettre les sorties en place dans {self.shown} ({os_reason(exc)}) : "
                              "la prochaine exécution de pvd-report sur ce dossier l'achèvera.") from None

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        try:
            if self._staging is not None:
                remove_quietly(self._staging)  # a failed run: nothing of it in the output folder
            if isinstance(error, OutputError) and error.args and isinstance(error.args[0], str):
                # The user knows the output folder, not the hidden one the outputs were written in.
                error.args = (error.args[0].replace(str(self.path), str(self.target)), *error.args[1:])
        finally:
            assert self._lock is not None
            self._lock.release()


# The endings of what a run writes: a file of an output's name with another ending (a user's
# `historique-pvd.sqlite.bak`) is not an output, and stays.
_OUTPUT_ENDINGS = frozenset({"", "xlsx", "html", "pdf", "csv", "json", "sqlite", "sqlite-wal", "sqlite-shm",
                             "sqlite-journal"})


def _stem(name: str) -> str | None:
    """The output a name is of (`historique-pvd.sqlite-wal` is of `historique-pvd.sqlite`'s);
    None for a name no run writes."""
    stem, _, ending = name.partition(".")
    return stem if ending in _OUTPUT_ENDINGS else None


def _staging_place(target: Path, inputs: Iterable[Path]) -> Path:
    """Beside the output folder (`.sorties.pvd-en-cours-<pid>`), where a listing of the output
    folder never shows it; inside it when the folder beside is not ours to write to: not
    writable, another file system (the move must be a rename), or the folder of an input file."""
    parent = target.parent
    input_folders = {Path(p).expanduser().resolve().parent for p in inputs if not Path(p).is_dir()}
    try:
        beside = (parent != target and os.access(parent, os.W_OK | os.X_OK)
                  and parent.stat().st_dev == target.stat().st_dev and parent not in input_folders)
    except OSError:
        beside = False
    if beside:
        return parent / f".{target.name}{STAGING_MARK}{os.getpid()}"
    return target / f"{STAGING_MARK}{os.getpid()}"


def _staging_folders(target: Path) -> list[Path]:
    """The staging folders of earlier runs on `target`, beside it and inside it."""
    found: list[Path] = []
    for folder, prefix in ((target.parent, f".{target.name}{STAGING_MARK}"), (target, STAGING_MARK)):
        with contextlib.suppress(OSError):
            found += [p for p in folder.iterdir() if p.name.startswith(prefix) and p.is_dir()
                      and not p.is_symlink()]
    return sorted(found)


def _move(staging: Path, target: Path, install: list[str], remove: list[str], *, resumed: bool = False) -> None:
    """Move `install` from `staging` into `target` and take `remove` out; may be run again from
    the start after being killed at any point (what is moved already is no longer in `staging`)."""
    trash = staging / _TRASH
    for n, name in enumerate(install):
        src, dst = staging / name, target / name
        if not os.path.lexists(src):
            continue
        # A file replaces a file in one rename; a folder cannot replace one: the old goes aside first.
        if os.path.lexists(dst) and (src.is_dir() or (dst.is_dir() and not dst.is_symlink())):
            trash.mkdir(exist_ok=True)
            os.replace(dst, trash / name)
        os.replace(src, dst)
        if n == 0 and not resumed:
            checkpoint("moving")
    for name in remove:
        dst = target / name
        if os.path.lexists(dst):
            trash.mkdir(exist_ok=True)
            os.replace(dst, trash / name)
    if not resumed:
        checkpoint("moved")
    (staging / MANIFEST_NAME).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)


def _plain(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def recover(target: Path, shown: Path | None = None) -> list[str]:
    """Finish the move of a run killed after it had written everything; delete what a run killed
    before left. Called with the lock held: every staging folder found is of a dead run.
    Returns what was done, in French, for the console."""
    shown = shown or target
    notices: list[str] = []
    for staging in _staging_folders(target):
        pid = staging.name.rpartition(STAGING_MARK)[2]
        try:
            manifest = json.loads((staging / MANIFEST_NAME).read_text(encoding="utf-8"))
            install, remove = list(manifest["installer"]), list(manifest["retirer"])
            if not all(isinstance(n, str) and _plain(n) for n in install + remove):
                raise ValueError("not a name of the output folder")
        except (OSError, ValueError, KeyError, TypeError):
            remove_quietly(staging)
            notices.append(f"Une exécution interrompue de pvd-report (processus {pid}) avait laissé des sorties "
                           f"inachevées dans {staging} : supprimées ; celles de {shown} sont restées entières.")
            continue
        _move(staging, target, [str(n) for n in install], [str(n) for n in remove], resumed=True)
        notices.append(f"Une exécution interrompue de pvd-report (processus {pid}) avait fini d'écrire ses "
                       f"sorties : leur mise en place dans {shown} est achevée.")
    with contextlib.suppress(OSError):
        strays = sorted(p for p in target.iterdir() if _STRAY.match(p.name))
        for stray in strays:
            remove_quietly(stray)
        if strays:
            notices.append(f"Fichiers temporaires d'une exécution interrompue supprimés de {shown} : "
                           f"{', '.join(p.name for p in strays)}.")
    return notices
