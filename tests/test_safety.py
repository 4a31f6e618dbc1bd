"""Hostile and broken files (README, validate): refused with their code, never a traceback; file discovery."""

from __future__ import annotations

import hashlib
import random
import zipfile
from pathlib import Path
from typing import IO, Any

import pytest
from factory import make_workbook

from pvd_reporting.format.schema import Schema
from pvd_reporting.read.discover import discover_workbooks
from pvd_reporting.read.safety import OLE_MAGIC, check_file, file_digest
from pvd_reporting.read.workbook import read_workbook


@pytest.fixture(scope="module")
def valid_xlsx(tmp_path_factory: pytest.TempPathFactory, schema: Schema) -> Path:
    return make_workbook(tmp_path_factory.mktemp("valid") / "valid.xlsx", schema)


def _code(path: Path, schema: Schema) -> str | None:
    data, issues = read_workbook(path, schema)
    assert data is None and len(issues) == 1
    return issues[0].code


def test_zip_bomb_refused_without_inflating(tmp_path: Path, schema: Schema,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.xlsx"
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(210):
                member.write(chunk)
    assert bomb.stat().st_size < 2 * 1024 * 1024

    def no_inflating(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was inflated")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    monkeypatch.setattr(zipfile.ZipFile, "read", no_inflating)
    issue = check_file(bomb)
    assert issue is not None and issue.code == "file-too-large"
    assert "200" in issue.message
    assert _code(bomb, schema) == "file-too-large"


def test_file_over_20_mb(tmp_path: Path, schema: Schema) -> None:
    big = tmp_path / "gros.xlsx"
    with big.open("wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(21 * 1024 * 1024)  # sparse: costs nothing on disk
    issue = check_file(big)
    assert issue is not None and issue.code == "file-too-large" and "20" in issue.message


def test_random_bytes(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "hasard.xlsx"
    path.write_bytes(random.Random(7).randbytes(5000))
    assert _code(path, schema) == "unreadable-file"


def test_text_named_xls(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "export.xls"
    path.write_text("<html><table><tr><td>1</td></tr></table></html>")
    data, issues = read_workbook(path, schema)
    assert data is None and issues[0].code == "unreadable-file"
    assert "format non reconnu" in issues[0].message


def test_empty_file(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "vide.xlsx"
    path.write_bytes(b"")
    assert _code(path, schema) == "unreadable-file"


def test_missing_file(tmp_path: Path, schema: Schema) -> None:
    assert _code(tmp_path / "absent.xlsx", schema) == "unreadable-file"


def test_truncated_xlsx(tmp_path: Path, schema: Schema, valid_xlsx: Path) -> None:
    data = valid_xlsx.read_bytes()
    path = tmp_path / "tronque.xlsx"
    path.write_bytes(data[: len(data) // 2])
    data_read, issues = read_workbook(path, schema)
    assert data_read is None and issues[0].code == "unreadable-file"
    assert "tronquée" in issues[0].message


def test_zip_that_is_not_a_workbook(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", "bonjour")
    assert _code(path, schema) == "unreadable-file"


def _ole(streams: tuple[str, ...] = ()) -> bytes:
    # A compound-file header followed by directory-entry names, enough for the byte-level checks.
    body = b"".join(name.encode("utf-16-le").ljust(64, b"\0") for name in streams)
    return OLE_MAGIC + b"\0" * 504 + body.ljust(512, b"\0")


def test_encrypted_xlsx_is_an_ole_container(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "protege.xlsx"
    path.write_bytes(_ole(("EncryptionInfo", "EncryptedPackage")))
    assert _code(path, schema) == "encrypted-file"
    path.write_bytes(_ole())  # whatever its streams, an OLE container named .xlsx is encrypted
    assert _code(path, schema) == "encrypted-file"


def test_encrypted_xls(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "protege.xls"
    path.write_bytes(_ole(("Workbook", "EncryptionInfo")))
    assert _code(path, schema) == "encrypted-file"


def test_broken_xls_is_unreadable(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "casse.xls"
    path.write_bytes(_ole(("Workbook",)))
    assert _code(path, schema) == "unreadable-file"


def test_encrypted_ods(tmp_path: Path, schema: Schema) -> None:
    path = tmp_path / "protege.ods"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"><manifest:encryption-data '
        'manifest:checksum-type="SHA1/1K" manifest:checksum="x"/></manifest:file-entry></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", random.Random(1).randbytes(300))
        zf.writestr("META-INF/manifest.xml", manifest)
    assert _code(path, schema) == "encrypted-file"


def test_fuzzed_workbooks_never_raise(tmp_path: Path, schema: Schema, valid_xlsx: Path) -> None:
    rng = random.Random(20251215)
    original = valid_xlsx.read_bytes()
    outcomes = set()
    for i in range(200):
        data = bytearray(original)
        if i % 4 == 0:
            data = data[: rng.randrange(1, len(data))]
        else:
            for _ in range(rng.randint(1, 40)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"fuzz{i}.xlsx"
        path.write_bytes(bytes(data))
        result, issues = read_workbook(path, schema)
        assert result is not None or (issues and issues[0].severity == "error")
        outcomes.add(result is None)
        path.unlink()
    assert outcomes == {True, False}  # some mutations are survivable, others are not


def test_file_digest(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    payload = b"pvd" * 1_000_000
    path.write_bytes(payload)
    assert file_digest(path) == (len(payload), hashlib.sha256(payload).hexdigest())


def test_discover(tmp_path: Path) -> None:
    root = tmp_path / "classeurs"
    for rel in ("b.xlsx", "a.ODS", "sub/c.xls", "sub/d.xlsm", "~$b.xlsx", ".cache.xlsx",
                ".git/e.xlsx", "notes.txt", "sub/image.png"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    stray = tmp_path / "rapport.pdf"
    stray.write_bytes(b"x")
    found, notices = discover_workbooks([root, stray, tmp_path / "absent", root / "b.xlsx"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "classeurs/a.ODS", "classeurs/b.xlsx", "classeurs/sub/c.xls", "classeurs/sub/d.xlsm",
        "rapport.pdf"]
    text = "\n".join(notices)
    assert "~$b.xlsx" in text and "verrouillage" in text
    assert ".cache.xlsx" in text and ".git" in text
    assert "Chemin introuvable" in text and "absent" in text
    # A visible file that is not a workbook is named once; a hidden one stays silent.
    assert "pas un classeur : " + str(root / "notes.txt") in text and "image.png" in text


def test_discover_explicit_lock_file(tmp_path: Path) -> None:
    lock = tmp_path / "~$x.xlsx"
    lock.write_bytes(b"x")
    found, notices = discover_workbooks([lock])
    assert found == [] and len(notices) == 1


def test_validate_refuses_an_oversized_file_without_reading_it(tmp_path: Path, schema, monkeypatch) -> None:
    from pvd_reporting.check import validate
    from pvd_reporting.read.safety import MAX_FILE_BYTES

    big = tmp_path / "enorme.xlsx"
    with big.open("wb") as fh:  # sparse: large on paper, nothing written
        fh.truncate(MAX_FILE_BYTES + 1)

    real_open = Path.open

    def no_reading(self: Path, *args: Any, **kwargs: Any) -> IO[Any]:
        if self == big:
            raise AssertionError("an oversized file must not be read to be refused")
        return real_open(self, *args, **kwargs)

    # The file is read once, by safety.open_checked, for its digest and its checks: never this one.
    monkeypatch.setattr(Path, "open", no_reading)
    report = validate.validate_workbook(big, schema)
    assert [i.code for i in report.issues] == ["file-too-large"]
    assert report.size == MAX_FILE_BYTES + 1 and report.sha256 is None
