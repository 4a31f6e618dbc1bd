"""Checks made on a file before any spreadsheet library touches it (README, validate).

Everything here is bounded: a stat, the first bytes, a zip's central directory (never a member's
data, except an .ods manifest known to be small) — so a zip bomb or a 1 GB file is refused at
once, in constant memory.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from pvd_reporting.format.issues import Issue, make_issue

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
_MAX_MANIFEST_BYTES = 1024 * 1024

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Streams an OLE2 container holds when Office encrypted an .xlsx inside it.
_OLE_ENCRYPTION_STREAMS = tuple(n.encode("utf-16-le") for n in ("EncryptionInfo", "EncryptedPackage"))
# Parts that make a zip a workbook calamine can read: xlsx/xlsm, xlsb, ods.
_WORKBOOK_PARTS = ("xl/workbook.xml", "xl/workbook.bin", "content.xml")
_ZIP_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".ods")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".replace(".", ",")


def _unreadable(path: Path, reason: str) -> Issue:
    return make_issue("unreadable-file", reason=reason)


def check_file(path: Path) -> Issue | None:
    """The reason to refuse `path` before opening it, or None when it may be read."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        return _unreadable(path, "fichier introuvable")
    except OSError as exc:
        return _unreadable(path, f"lecture impossible : {exc.strerror or exc}")
    if size > MAX_FILE_BYTES:
        return make_issue(
            "file-too-large",
            reason=f"Fichier de {_mb(size)} Mo : la limite est de {_mb(MAX_FILE_BYTES)} Mo. "
            "Supprimez les images et les onglets inutiles, puis renvoyez-le.",
        )
    if size == 0:
        return _unreadable(path, "fichier vide")
    if head.startswith(ZIP_MAGIC):
        return _check_zip(path)
    if head == OLE_MAGIC:
        return _check_ole(path)
    return _unreadable(path, "format non reconnu : ce n'est ni un classeur Excel ni un classeur LibreOffice")


def _check_zip(path: Path) -> Issue | None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                return make_issue("file-too-large", reason=(
                    f"Le classeur contient {len(infos)} parties : il est anormalement complexe."))
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED_BYTES:
                return make_issue("file-too-large", reason=(
                    f"Une fois décompressé, le classeur occuperait {_mb(total)} Mo "
                    f"(limite {_mb(MAX_UNCOMPRESSED_BYTES)} Mo) : il est refusé."))
            names = {i.filename for i in infos}
            if not any(part in names for part in _WORKBOOK_PARTS):
                return _unreadable(path, "archive zip qui ne contient pas de classeur")
            if "META-INF/manifest.xml" in names:
                manifest = zf.getinfo("META-INF/manifest.xml")
                if manifest.file_size <= _MAX_MANIFEST_BYTES:
                    if b"encryption-data" in zf.read(manifest):
                        return make_issue("encrypted-file")
    except zipfile.BadZipFile:
        return _unreadable(path, "archive tronquée ou endommagée")
    except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as exc:
        return _unreadable(path, f"archive endommagée ({type(exc).__name__})")
    return None


def _check_ole(path: Path) -> Issue | None:
    if path.suffix.lower() in _ZIP_SUFFIXES:
        # Office wraps an encrypted .xlsx in an OLE2 container: that is the only reason to find one.
        return make_issue("encrypted-file")
    try:
        data = path.read_bytes()  # bounded by MAX_FILE_BYTES, checked before
    except OSError as exc:
        return _unreadable(path, f"lecture impossible : {exc.strerror or exc}")
    if any(name in data for name in _OLE_ENCRYPTION_STREAMS):
        return make_issue("encrypted-file")
    return None


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, sha256 hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()
