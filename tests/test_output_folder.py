"""The output folder is all-or-nothing, from the referent's side: the real command, killed
(SIGKILL) at known moments (PVD_TEST_CHECKPOINT, atomic.checkpoint), leaves every output of the
folder from one run once the next run starts; no hidden folder stays; no worker outlives its
parent; a second run on the same folder is refused; a disk-full run leaves the previous outputs."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pvd_reporting.consolidate import reading as batch
from pvd_reporting.errors import OutputError
from pvd_reporting.format.config import load_config
from pvd_reporting.format.issues import IssueCode
from pvd_reporting.format.schema import build_schema
from pvd_reporting.output_folder import LOCK_NAME, MANIFEST_NAME, STAGING_MARK, OutputFolder
from pvd_reporting.outputs.workbook import template as workbook_template
from pvd_reporting.pipeline import consolidate as pipeline
from pvd_reporting.pipeline import national as national_pipeline
from pvd_reporting.pipeline.consolidate import run_consolidate
from pvd_reporting.pipeline.national import run_national
from pvd_reporting.pipeline.template import run_template

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl: Linux")

REPO = Path(__file__).resolve().parent.parent
QUARTER = REPO / "workbooks" / "2025-T4"
# A: three territories, with contacts (drafts in relances-2025-T4/); B: three others, --no-contacts
# (no drafts folder: the one of A must go when B is moved in).
SET_A = ("pvd-44-51-7-sainte-menehould.xlsx", "pvd-44-52-15-langres.xlsx", "pvd-44-08-4-givet.xlsx")
SET_B = ("pvd-44-55-7-saint-mihiel.xlsx", "pvd-44-88-5-vittel.xlsx", "pvd-44-68-4-munster.xlsx")
DRAFTS = "relances-2025-T4"
SUMMARY = "synthese-pvd-2025-T4.xlsx"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    folders = []
    for name, files in (("a", SET_A), ("b", SET_B)):
        folder = tmp_path / "recus" / name
        folder.mkdir(parents=True)
        for file in files:
            shutil.copy(QUARTER / file, folder / file)
        folders.append(folder)
    return folders[0], folders[1]


def _command(source: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pvd_reporting", "consolidate", str(source), "--output-dir", str(out),
            "--no-images", "--no-cache", "--quiet", "--workers", "2", *extra]


def _complete(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(source, out, *extra), capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})


class Paused:
    """A run stopped at a checkpoint, waiting to be killed."""

    def __init__(self, source: Path, out: Path, point: str, *extra: str) -> None:
        self.flag = out.parent / f"pause-{point}"
        self.flag.unlink(missing_ok=True)
        self.log = out.parent / f"log-{point}"
        env = {**os.environ, "PVD_TEST_CHECKPOINT": f"{point}:{self.flag}", "PYTHONIOENCODING": "utf-8"}
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(_command(source, out, *extra), stdout=log, stderr=subprocess.STDOUT,
                                         env=env)
        deadline = time.monotonic() + 90
        while not self.flag.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"no pause at {point}: {self.log.read_text()}")
            time.sleep(0.05)
        self.children = _children(self.proc.pid)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        # Every worker dies with its parent (prctl PDEATHSIG, or polling getppid).
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in self.children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in self.children if _alive(pid)], "a worker outlived its killed parent"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; nobody may be reaping it here


def _state(folder: Path) -> dict[str, str]:
    """Every output of the folder: relative path -> sha256 (a folder by its name alone)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if rel == LOCK_NAME:  # left by a killed run, taken and removed by the next
            continue
        found[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dossier"
    return found


def _staging(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}{STAGING_MARK}*")) + sorted(out.glob(f"{STAGING_MARK}*"))


def _hidden(out: Path) -> list[str]:
    return sorted(p.name for folder in (out, out.parent) for p in folder.iterdir() if p.name.startswith("."))


def _expected_after_move(out: Path, staging: Path) -> dict[str, str]:
    """The folder once the move the manifest describes is done: what is still in the staging
    folder, what was moved in already, the rest of the folder as it is, less what is taken out."""
    manifest = json.loads((staging / MANIFEST_NAME).read_text(encoding="utf-8"))
    moved = set(manifest["installer"]) | set(manifest["retirer"])
    expected = {k: v for k, v in _state(out).items() if k.split("/")[0] not in moved}
    for name in manifest["installer"]:
        source = staging / name if (staging / name).exists() else out / name
        expected[name] = _state(source.parent)[name]
        if source.is_dir():
            expected.update({f"{name}/{k}": v for k, v in _state(source).items()})
    return expected


def _without(state: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in state.items() if k.split("/")[0] != name}


def _sources(out: Path) -> list[str]:
    sheet = openpyxl.load_workbook(out / SUMMARY, read_only=True)["Sources"]
    return sorted(Path(str(row[0])).name for row in sheet.iter_rows(values_only=True) if str(row[0]).endswith(".xlsx"))


def test_a_run_killed_at_any_moment_leaves_one_runs_outputs(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = inputs
    out = tmp_path / "sorties"
    first = _complete(a, out)
    assert first.returncode == 0, first.stderr
    (out / "historique-pvd.sqlite.bak").write_bytes(b"a copy the referent keeps: never an output")
    before = _state(out)
    assert f"{DRAFTS}/pvd-44-52-15-langres.eml" in before and not _hidden(out)

    # Killed while writing, the summary's writer process alive: the folder is untouched, and the
    # writer dies with its parent.
    writing = Paused(b, out, "writing", "--no-contacts")
    # The summary is written by a forked process (on one core, by the run itself).
    assert writing.children or (os.cpu_count() or 1) < 2
    writing.kill()
    assert _state(out) == before and len(_staging(out)) == 1

    # Stopped by SIGTERM (`kill`, a closed terminal) once complete: it removes its own staging
    # folder at once (and, starting, the one the killed run left).
    stopped = Paused(b, out, "staged", "--no-contacts")
    stopped.proc.send_signal(signal.SIGTERM)
    assert stopped.proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert stopped.log.read_text().strip().endswith("Interrompu.")
    assert _state(out) == before and not _staging(out)

    # The next run deletes that staging folder; paused once its own is complete: the folder is
    # still the first run's.
    staged = Paused(a, out, "staged")
    assert [p.name for p in _staging(out)] == [f".sorties{STAGING_MARK}{staged.proc.pid}"]
    assert _state(out) == before
    # Meanwhile a second run on the same folder is refused, and writes nothing.
    second = _complete(b, out)
    assert second.returncode == 2
    assert f"Une autre exécution de pvd-report écrit déjà dans {out}" in second.stderr
    assert "Traceback" not in second.stderr and _state(out) == before
    after_staged = _expected_after_move(out, _staging(out)[0])
    staged.kill()

    # The next run moves the killed one's outputs in, then is killed after moving its first file.
    moving = Paused(b, out, "moving", "--no-contacts")
    manifest = json.loads((_staging(out)[0] / MANIFEST_NAME).read_text(encoding="utf-8"))
    first_moved = manifest["installer"][0]
    assert _without(_state(out), first_moved) == _without(after_staged, first_moved)
    after_moving = _expected_after_move(out, _staging(out)[0])
    assert _state(out) not in (after_staged, after_moving)  # killed midway: mixed until the next run
    assert DRAFTS in after_staged and DRAFTS not in after_moving  # B has no drafts: A's go
    moving.kill()

    # Killed while reading, the folder already recovered: the read pool's workers die too.
    reading = Paused(a, out, "reading")
    assert _state(out) == after_moving and len(reading.children) == 2
    reading.kill()

    # Killed once everything is moved in, the staging folder not yet removed; the one of the run
    # killed while reading is gone.
    moved = Paused(b, out, "moved", "--no-contacts")
    assert _staging(out) == [out.parent / f".sorties{STAGING_MARK}{moved.proc.pid}"]
    moved.kill()

    last = _complete(a, out)
    assert last.returncode == 0, last.stderr
    assert "Une exécution interrompue de pvd-report" in last.stderr and "achevée" in last.stderr
    assert not _hidden(out) and not _staging(out)
    # Every output of the folder is the last run's: its sources, its database, its drafts.
    assert _sources(out) == sorted(SET_A)
    db = sqlite3.connect(out / "historique-pvd.sqlite")
    try:
        files = {Path(f).name for (f,) in db.execute('SELECT "fichier" FROM "sources"')}
    finally:
        db.close()
    assert files == set(SET_A)
    assert set(_state(out)) == set(before)  # the same files as the first run of A, drafts included


def test_a_full_disk_leaves_the_previous_outputs_whole(inputs: tuple[Path, Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = inputs
    out = tmp_path / "sorties"
    options: dict[str, Any] = {"output_dir": out, "images": False, "use_cache": False, "workers": 1}
    run_consolidate(a, **options)
    before = _state(out)

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # Midway: the dashboard is written, the summary is being written aside, the anomalies fail.
    monkeypatch.setattr(pipeline, "write_anomalies", full)
    with pytest.raises(OutputError) as failed:
        run_consolidate(b, **options, no_contacts=True)
    assert str(failed.value) == f"Impossible d'écrire dans {out} (disque plein)."
    assert _state(out) == before
    assert not _hidden(out) and not _staging(out)  # removed at once, lock file included

    # The same for the national roll-up, its database failing last.
    national = tmp_path / "national"
    done = run_national([out / "historique-pvd.sqlite"], output_dir=national)
    assert sorted(p.name for p in national.iterdir()) == sorted(p.name for p in done.written)
    rolled = _state(national)
    monkeypatch.setattr(national_pipeline, "write_national_db", full)
    with pytest.raises(OutputError, match="disque plein"):
        run_national([out / "historique-pvd.sqlite"], output_dir=national)
    assert _state(national) == rolled and not _hidden(national) and not _staging(national)


def test_a_locked_folder_is_refused_before_reading(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = inputs
    out = tmp_path / "sorties"
    out.mkdir()
    with OutputFolder(out), pytest.raises(OutputError, match="Une autre exécution de pvd-report écrit déjà"):
        run_consolidate(a, output_dir=out, images=False, use_cache=False, workers=1)
    assert not list(out.iterdir()) and not _hidden(out)


_READ_IN_WORKER = batch._read_in_worker


def _dies_on_langres(path: Path, entry: batch.Slot | None = None) -> Any:
    if "langres" in path.name:
        os._exit(9)  # as the kernel's out-of-memory killer would end it
    return _READ_IN_WORKER(path, entry)


def test_a_worker_that_dies_sets_its_file_aside_in_french(inputs: tuple[Path, Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = inputs
    files = sorted(a.iterdir())
    # The workers are forked from this process: they run the function patched here.
    monkeypatch.setattr(batch, "_read_in_worker", _dies_on_langres)
    schema = build_schema(load_config(None, None))
    reports = batch.read_all(files, schema, workers=2)
    assert [Path(r.path).name for r in reports] == [p.name for p in files]
    dead = next(r for r in reports if "langres" in r.path)
    assert dead.data is None and [i.code for i in dead.issues] == [IssueCode.UNREADABLE_FILE]
    assert batch.CRASH_REASON in dead.issues[0].message and "Broken" not in dead.issues[0].message
    assert all(r.data is not None for r in reports if r is not dead)


def test_a_failed_region_template_run_writes_none_of_the_workbooks(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    reference = tmp_path / "ref.csv"
    reference.write_text("id_pvd,insee_com,lib_com,lib_reg,insee_dep,lib_dep,pop,siren_epci,lib_epci\n"
                         ",50003,Agon-Coutainville,Normandie,50,Manche,2791,200067023,CC Coutances\n"
                         ",50147,Coutances,Normandie,50,Manche,8500,200067024,CC Coutances Mer\n",
                         encoding="utf-8")
    real = workbook_template.write_template
    calls = []

    def second_fails(path: Path, *args: Any, **kwargs: Any) -> Path:
        calls.append(path)
        if len(calls) == 2:
            raise OutputError(f"Impossible d'écrire {path} (disque plein) : …")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(workbook_template, "write_template", second_fails)
    out = tmp_path / "modeles"
    with pytest.raises(OutputError) as failed:
        run_template(region="Normandie", reference_path=reference, output_dir=out)
    # The message names the output folder, not the hidden one the workbooks were written in.
    assert str(failed.value).startswith(f"Impossible d'écrire {out.resolve()}/") and STAGING_MARK not in str(failed.value)
    assert len(calls) == 2 and not list(out.iterdir()) and not _hidden(out)
    monkeypatch.setattr(workbook_template, "write_template", real)
    done = run_template(region="Normandie", reference_path=reference, output_dir=out)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in done.paths) and len(done.paths) == 2


def test_staging_inside_the_folder_and_what_a_killed_run_left_there(tmp_path: Path) -> None:
    # Beside an input file the staging folder goes inside the output folder: the folder of a
    # workbook received is never written to.
    received = tmp_path / "classeur.xlsx"
    received.write_bytes(b"PK")
    out = tmp_path / "sorties"
    out.mkdir()
    (out / "note-2025-T4.pdf").write_bytes(b"old")
    with OutputFolder(out, [received]) as folder:
        assert folder.path.parent == out and folder.path.name.startswith(STAGING_MARK)
        (folder.path / "note-2025-T4.html").write_text("new", encoding="utf-8")
        folder.commit()
    # The PDF of the earlier run goes with it: no note of two runs.
    assert sorted(p.name for p in out.iterdir()) == ["note-2025-T4.html"] and not _hidden(out)

    # What killed runs left inside: one complete (moved in), one whose manifest names a path
    # outside the folder (never followed: deleted like an unfinished one), a stray temporary file.
    complete = out / f"{STAGING_MARK}101"
    complete.mkdir()
    (complete / "anomalies-2025-T4.csv").write_text("a", encoding="utf-8")
    (complete / MANIFEST_NAME).write_text(json.dumps({"installer": ["anomalies-2025-T4.csv"], "retirer": []}),
                                          encoding="utf-8")
    hostile = out / f"{STAGING_MARK}102"
    hostile.mkdir()
    (hostile / MANIFEST_NAME).write_text(json.dumps({"installer": ["../../evil"], "retirer": []}), encoding="utf-8")
    (out / ".synthese-pvd-2025-T4.0123abcd.tmp.xlsx").write_bytes(b"half")
    with OutputFolder(out) as folder:
        notices = folder.notices
    assert sorted(p.name for p in out.iterdir()) == ["anomalies-2025-T4.csv", "note-2025-T4.html"]
    assert not _hidden(out) and not (tmp_path.parent / "evil").exists()
    assert [n.split(" : ")[0] for n in notices] == [
        "Une exécution interrompue de pvd-report (processus 101) avait fini d'écrire ses sorties",
        f"Une exécution interrompue de pvd-report (processus 102) avait laissé des sorties inachevées dans {hostile}",
        f"Fichiers temporaires d'une exécution interrompue supprimés de {out}"]
