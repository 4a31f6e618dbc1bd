"""No workbook file can hurt the run (docs/securite.md): a bad file is set aside with a French
reason and the others are read; only regular files are opened; what is not a workbook is named."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hostile
import pytest
from click.testing import CliRunner
from factory import baseline_rows, cell_of, make_workbook
from openpyxl import load_workbook

from pvd_reporting.check import validate
from pvd_reporting.cli import cli
from pvd_reporting.consolidate.reading import read_all
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.discover import NOT_A_WORKBOOK, discover

NON_UTF8 = b"caf\xe9.xlsx"  # Latin-1 « café.xlsx », as an old archive tool writes it
SHOWN_NON_UTF8 = "caf\ufffd.xlsx"
ENGLISH = ("Error", "error", "Traceback", "Cannot", "File is not", "Bad CRC", "Broken", "Exception")


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fails the test instead of hanging it (a FIFO opened for reading blocks forever)."""
    def expired(*_: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _huge_amount_rows(schema: Schema) -> dict[str, list[dict[str, Any]]]:
    engagements = [dict(r) for r in baseline_rows(schema)["engagements"]]
    engagements[0]["cost"] = 1e308
    return {"engagements": engagements}


@pytest.fixture(scope="module")
def inbox(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as a referent may receive it: a 1e308 amount, a name that is not UTF-8, a PDF,
    a FIFO, a link to /dev/zero, a link to a workbook kept elsewhere, and a sound workbook."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "classeurs"
    make_workbook(folder / "enorme.xlsx", schema, rows=_huge_amount_rows(schema))
    make_workbook(folder / "sain.xlsx", schema, territory={"id_pvd": "pvd-44-67-5", "name": "Sain"})
    latin = make_workbook(root / "latin.xlsx", schema, territory={"id_pvd": "pvd-44-67-6", "name": "Café"})
    with open(os.fsencode(folder) + b"/" + NON_UTF8, "wb") as fh:
        fh.write(latin.read_bytes())
    latin.unlink()
    elsewhere = make_workbook(root / "ailleurs" / "lien.xlsx", schema,
                              territory={"id_pvd": "pvd-44-67-7", "name": "Lié"})
    os.symlink(elsewhere, folder / "lien.xlsx")
    os.symlink("/dev/zero", folder / "zero.xlsx")
    os.mkfifo(folder / "tube.xlsx")
    make_workbook(folder / "etrange.xlsx", schema, territory={"id_pvd": "pvd-44-67-8", "name": "Étrange"})
    (folder / "compte-rendu.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    return folder


@pytest.fixture(scope="module")
def consolidated(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    out = tmp_path_factory.mktemp("sorties") / "sorties"
    # The reader fails on « etrange.xlsx » in a way nothing foresaw (read in this process: --workers 1).
    with deadline(120), pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate, "read_workbook", _raise_on("etrange.xlsx", validate.read_workbook))
        result = CliRunner().invoke(cli, ["consolidate", str(inbox), "-o", str(out), "--no-reference",
                                          "--quiet", "--no-images", "--no-cache", "--workers", "1"])
    return result, out


def test_an_amount_of_1e308_is_an_invalid_number_on_its_cell(tmp_path: Path, schema: Schema) -> None:
    path = make_workbook(tmp_path / "enorme.xlsx", schema, rows=_huge_amount_rows(schema))
    report = validate.validate_workbook(path, schema)
    bad = [i for i in report.issues if i.code == "invalid-number"]
    assert [(i.sheet, i.cell) for i in bad] == [("Engagements", cell_of(path, schema, "engagements", 0, "cost"))]
    assert report.data.tables["engagements"][0].values["cost"] is None


@pytest.mark.parametrize("text", ["2e12", "-1 000 000 000 001", "9" * 400, "1,5 Mds€" * 1])
def test_amounts_beyond_a_thousand_billion_are_refused(text: str) -> None:
    from pvd_reporting.read.values import parse_amount, parse_int

    if text == "1,5 Mds€":
        assert parse_amount(text) == 1.5e9  # a real figure stays
        return
    with pytest.raises(ValueError):
        parse_amount(text)
    with pytest.raises(ValueError):
        parse_int(text)


def test_consolidate_goes_on_and_writes_its_outputs(consolidated: tuple[Any, Path]) -> None:
    result, out = consolidated
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert {"synthese-pvd-2025-T4.xlsx", "anomalies-2025-T4.json", "historique-pvd.sqlite"} <= \
        {p.name for p in out.iterdir()}
    report = json.loads((out / "anomalies-2025-T4.json").read_text("utf-8"))
    by_name = {Path(w["path"]).name: w for w in report["workbooks"]}
    assert [i["code"] for i in by_name["enorme.xlsx"]["issues"]] == ["invalid-number"]
    # Five files read: the sound one, the 1e308 one, the Latin-1 name, the link's target, and the
    # one whose reading failed, set aside with a French reason; the four others are consolidated.
    assert set(by_name) == {"enorme.xlsx", "sain.xlsx", SHOWN_NON_UTF8, "lien.xlsx", "etrange.xlsx"}
    [issue] = by_name["etrange.xlsx"]["issues"]
    assert issue["code"] == "unreadable-file" and "structure inattendue" in issue["message"]
    assert not any(word in issue["message"] for word in ENGLISH)
    assert "Territoires reçus : 4" in result.output
    wb = load_workbook(out / "synthese-pvd-2025-T4.xlsx", read_only=True)
    rows = list(wb["Sources"].iter_rows(values_only=True))
    placement = rows[0].index("Prise en compte")
    assert [r[placement] for r in rows[1:] if str(r[0]).endswith("etrange.xlsx")] == ["Illisible"]


def test_a_name_that_is_not_utf8_reaches_every_output(consolidated: tuple[Any, Path]) -> None:
    result, out = consolidated
    assert result.exception is None  # no UnicodeEncodeError in any writer
    wb = load_workbook(out / "synthese-pvd-2025-T4.xlsx", read_only=True)
    files = [row[0] for row in wb["Sources"].iter_rows(min_row=2, values_only=True)]
    assert any(str(f).endswith(SHOWN_NON_UTF8) for f in files)
    report = json.loads((out / "anomalies-2025-T4.json").read_text("utf-8"))
    assert any(Path(w["path"]).name == SHOWN_NON_UTF8 for w in report["workbooks"])


@pytest.mark.parametrize("fmt", ["json", "csv", "text"])
def test_validate_names_a_file_that_is_not_utf8(inbox: Path, fmt: str) -> None:
    path = Path(os.fsdecode(os.fsencode(inbox) + b"/" + NON_UTF8))
    result = CliRunner().invoke(cli, ["validate", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    if fmt != "csv":  # the CSV lists issues only, and this workbook has none
        assert SHOWN_NON_UTF8 in result.output
    if fmt == "json":
        assert Path(json.loads(result.output)["workbooks"][0]["path"]).name == SHOWN_NON_UTF8


def test_validate_a_folder_of_hostile_files_exits_with_the_errors(inbox: Path) -> None:
    with deadline(60):
        result = CliRunner().invoke(cli, ["validate", str(inbox), "--format", "json"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    report = json.loads(result.stdout)
    codes = {Path(w["path"]).name: [i["code"] for i in w["issues"]] for w in report["workbooks"]}
    assert codes["enorme.xlsx"] == ["invalid-number"]


def _raise_on(name: str, real: Any) -> Any:
    errors = [KeyError("x"), ZeroDivisionError("division by zero"), RecursionError("maximum recursion depth"),
              AttributeError("'NoneType' object has no attribute 'x'"), IndexError("list index out of range")]

    def reader(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == name:
            raise random.choice(errors)
        return real(path, *args, **kwargs)

    return reader


def test_an_unexpected_exception_sets_one_file_aside(tmp_path: Path, schema: Schema,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    files = [make_workbook(tmp_path / f"{n}.xlsx", schema, territory={"id_pvd": f"pvd-44-67-{i}"})
             for i, n in enumerate(("a", "b", "c"), start=3)]
    monkeypatch.setattr(validate, "read_workbook", _raise_on("b.xlsx", validate.read_workbook))
    reports = read_all(files, schema, workers=1)
    assert [r.data is not None for r in reports] == [True, False, True]
    [issue] = reports[1].issues
    assert issue.code == "unreadable-file"
    assert "structure inattendue" in issue.message
    assert not any(word in issue.message for word in ENGLISH)


def test_a_worker_that_dies_takes_only_its_file(tmp_path: Path, schema: Schema,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    files = [make_workbook(tmp_path / f"{n}.xlsx", schema, territory={"id_pvd": f"pvd-44-67-{i}"})
             for i, n in enumerate(("a", "b", "c", "d"), start=3)]
    real = validate.read_workbook

    def crash(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == "b.xlsx":
            os.kill(os.getpid(), signal.SIGKILL)  # as a native crash or the OOM killer would
        return real(path, *args, **kwargs)

    monkeypatch.setattr(validate, "read_workbook", crash)  # workers are forked: they see it
    reports = read_all(files, schema, workers=2)
    assert [Path(r.path).name for r in reports] == ["a.xlsx", "b.xlsx", "c.xlsx", "d.xlsx"]
    assert [r.data is not None for r in reports] == [True, False, True, True]
    [issue] = reports[1].issues
    assert issue.code == "unreadable-file" and "arrêté brutalement" in issue.message
    assert not any(word in issue.message for word in ENGLISH)


# --- only regular files are read ----------------------------------------------------------------


def test_fifos_devices_and_sockets_are_named_and_never_opened(inbox: Path, tmp_path: Path) -> None:
    sock_path = tmp_path / "s.xlsx"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        with deadline(20):
            found = discover([inbox, sock_path])
    finally:
        server.close()
    names = [p.name for p in found.files]
    assert "tube.xlsx" not in names and "zero.xlsx" not in names and "s.xlsx" not in names
    text = "\n".join(found.notices)
    assert f"tube nommé (FIFO)) : {inbox / 'tube.xlsx'}" in text
    assert f"Lien symbolique ignoré : {inbox / 'zero.xlsx'} mène à un périphérique (/dev/zero)" in text
    assert f"(socket) : {sock_path}" in text
    assert f"Lien symbolique suivi : {inbox / 'lien.xlsx'} → " in text


def test_a_fifo_replacing_a_workbook_after_discovery_is_refused_unread(tmp_path: Path, schema: Schema) -> None:
    fifo = tmp_path / "tube.xlsx"
    os.mkfifo(fifo)
    with deadline(20):
        report = validate.validate_workbook(fifo, schema)
    assert [i.code for i in report.issues] == ["unreadable-file"]
    assert "pas un fichier ordinaire" in report.issues[0].message


def test_the_console_names_what_was_skipped_or_followed(consolidated: tuple[Any, Path], inbox: Path) -> None:
    result, _ = consolidated
    assert f"Lien symbolique suivi : {inbox / 'lien.xlsx'}" in result.output
    assert "tube.xlsx" in result.output and "zero.xlsx" in result.output


# --- files that are not workbooks ---------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_one_line_and_a_sources_row(consolidated: tuple[Any, Path],
                                                                     inbox: Path) -> None:
    result, out = consolidated
    lines = [line for line in result.output.splitlines() if "compte-rendu.pdf" in line]
    assert lines == [f"Fichier ignoré, ce n'est pas un classeur : {inbox / 'compte-rendu.pdf'}"]
    assert ".DS_Store" not in result.output  # hidden files stay silent
    wb = load_workbook(out / "synthese-pvd-2025-T4.xlsx", read_only=True)
    rows = list(wb["Sources"].iter_rows(values_only=True))
    placement = rows[0].index("Prise en compte")
    found = [r for r in rows[1:] if str(r[0]).endswith("compte-rendu.pdf")]
    assert len(found) == 1 and found[0][placement] == NOT_A_WORKBOOK
    report = json.loads((out / "anomalies-2025-T4.json").read_text("utf-8"))
    assert not any("compte-rendu" in w["path"] for w in report["workbooks"])


# --- no English fragment --------------------------------------------------------------------------


@pytest.mark.parametrize(("raised", "reason"), [
    (ValueError("Cannot detect file format"), "format non reconnu"),
    (zipfile.BadZipFile("File is not a zip file"), "archive tronquée ou endommagée"),
    (zipfile.BadZipFile("Bad CRC-32 for file 'xl/worksheets/sheet5.xml'"), "contrôle d'intégrité incorrect"),
    (RuntimeError("XmlError: unexpected end of input"), "contenu XML du classeur endommagé"),
    (RuntimeError("panicked at 'index out of bounds'"), "contenu endommagé ou inattendu"),
])
def test_library_errors_are_told_in_french(raised: BaseException, reason: str) -> None:
    from pvd_reporting.read.workbook import library_reason

    assert reason in library_reason(raised)
    assert not any(word in library_reason(raised) for word in ENGLISH)


def test_a_damaged_member_is_told_in_french(tmp_path: Path, schema: Schema) -> None:
    path = make_workbook(tmp_path / "abime.xlsx", schema)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(hostile.sheet_member(path, "Engagements"))
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + 40):
        data[i] ^= 0x55  # the compressed bytes of one sheet, scrambled
    path.write_bytes(bytes(data))
    report = validate.validate_workbook(path, schema)
    assert [i.code for i in report.issues] == ["unreadable-file"]
    assert not any(word in report.issues[0].message for word in ENGLISH), report.issues[0].message


def test_a_panic_of_the_library_is_silent_and_told_in_french(tmp_path: Path, schema: Schema,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capfd: pytest.CaptureFixture[str]) -> None:
    from pvd_reporting.read import workbook as reader

    class Panic(BaseException):  # what pyo3 raises for a panic in native code
        pass

    class Library:
        @staticmethod
        def from_filelike(data: Any) -> Any:
            os.write(2, b"thread '<unnamed>' panicked at src/lib.rs:717:17:\nstack backtrace:\n")
            raise Panic("TimeDelta::milliseconds out of bounds")

    monkeypatch.setattr(reader, "CalamineWorkbook", Library)
    data, issues = reader.read_workbook(make_workbook(tmp_path / "a.xlsx", schema), schema)
    assert data is None and [i.code for i in issues] == ["unreadable-file"]
    assert "contenu endommagé ou inattendu" in issues[0].message
    assert capfd.readouterr().err == ""
    os.write(2, b"apres")  # standard error is back
    assert capfd.readouterr().err == "apres"
