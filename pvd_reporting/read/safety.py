"""Checks made on a file before any spreadsheet library touches it (README, pvd-report validate).

Everything here is bounded: a stat, the first bytes, a zip's central directory (never a member's
data, except an .ods manifest known to be small) — so a zip bomb or a 1 GB file is refused at
once, in constant memory.

`open_checked` reads a file once, within the size limit, and opens its zip once: the checks, the
digest, the formula-error scan, the version property and calamine all work on that one copy.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pvd_reporting.format.issues import Issue, IssueCode, make_issue

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
    return make_issue(IssueCode.UNREADABLE_FILE, reason=reason)


@dataclass
class OpenedFile:
    """A file read once: its size, its bytes and their SHA-256, and its zip when it is one
    (opened once, for every reader of the file; closed with `close`)."""

    path: Path
    size: int
    data: bytes = b""
    sha256: str | None = None
    zip: zipfile.ZipFile | None = None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()
            self.zip = None


def check_file(path: Path) -> Issue | None:
    """The reason to refuse `path` before opening it, or None when it may be read."""
    opened, refused = open_checked(path)
    if opened is not None:
        opened.close()
    return refused


def open_checked(path: Path) -> tuple[OpenedFile | None, Issue | None]:
    """The file read once and its zip opened once, or the reason to refuse it (with the file's
    size and digest when it could be read: `OpenedFile` without data then)."""
    try:
        data = _read_regular(path)
    except _TooLarge as big:
        # Never read gigabytes to say so: refused on its size alone.
        return OpenedFile(path, big.size), make_issue(
            IssueCode.FILE_TOO_LARGE,
            reason=f"Fichier de {_mb(big.size)} Mo : la limite est de {_mb(MAX_FILE_BYTES)} Mo. "
            "Supprimez les images et les onglets inutiles, puis renvoyez-le.",
        )
    except _NotRegular as special:
        return None, _unreadable(path, f"ce n'est pas un fichier ordinaire ({special.kind})")
    except FileNotFoundError:
        return None, _unreadable(path, "fichier introuvable")
    except PermissionError:
        return None, _unreadable(path, "lecture refusée : droits insuffisants sur le fichier")
    except OSError:
        return None, _unreadable(path, "lecture impossible du fichier")
    opened = OpenedFile(path, len(data), data, hashlib.sha256(data).hexdigest())
    if len(data) > MAX_FILE_BYTES:  # grown since the stat
        return OpenedFile(path, len(data)), make_issue(
            IssueCode.FILE_TOO_LARGE, reason=f"Fichier de plus de {_mb(MAX_FILE_BYTES)} Mo : il est refusé.")
    if not data:
        return opened, _unreadable(path, "fichier vide")
    head = data[:8]
    if head.startswith(ZIP_MAGIC):
        refused = _check_zip(opened)
        return opened, refused
    if head == OLE_MAGIC:
        return opened, _check_ole(path, data)
    return opened, _unreadable(path, "format non reconnu : ce n'est ni un classeur Excel ni un classeur LibreOffice")


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


class _NotRegular(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file, at most MAX_FILE_BYTES + 1 of them.

    Opened without blocking and checked on the open descriptor: a FIFO or a device put in place
    of a workbook (even after the folder was listed) is refused, never read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular("tube nommé" if stat.S_ISFIFO(info.st_mode) else "fichier spécial")
        if info.st_size > MAX_FILE_BYTES:
            raise _TooLarge(info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)


def _check_zip(opened: OpenedFile) -> Issue | None:
    """Opens the zip of `opened` (kept in it for the readers), or says why it is refused."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(opened.data))
        opened.zip = zf
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            return make_issue(IssueCode.FILE_TOO_LARGE, reason=(
                f"Le classeur contient {len(infos)} parties : il est anormalement complexe."))
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED_BYTES:
            return make_issue(IssueCode.FILE_TOO_LARGE, reason=(
                f"Une fois décompressé, le classeur occuperait {_mb(total)} Mo "
                f"(limite {_mb(MAX_UNCOMPRESSED_BYTES)} Mo) : il est refusé."))
        names = {i.filename for i in infos}
        if not any(part in names for part in _WORKBOOK_PARTS):
            return _unreadable(opened.path, "archive zip qui ne contient pas de classeur")
        if "META-INF/manifest.xml" in names:
            manifest = zf.getinfo("META-INF/manifest.xml")
            if manifest.file_size <= _MAX_MANIFEST_BYTES:
                if b"encryption-data" in zf.read(manifest):
                    return make_issue(IssueCode.ENCRYPTED_FILE)
    except zipfile.BadZipFile:
        return _unreadable(opened.path, "archive tronquée ou endommagée")
    except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
        return _unreadable(opened.path, "archive endommagée")
    return None


def _check_ole(path: Path, data: bytes) -> Issue | None:
    if path.suffix.lower() in _ZIP_SUFFIXES:
        # Office wraps an encrypted .xlsx in an OLE2 container: that is the only reason to find one.
        return make_issue(IssueCode.ENCRYPTED_FILE)
    if any(name in data for name in _OLE_ENCRYPTION_STREAMS):
        return make_issue(IssueCode.ENCRYPTED_FILE)
    return None


@contextmanager
def library_quiet() -> Iterator[None]:
    """Standard error silenced while the spreadsheet library reads: a panic in its native code
    prints a backtrace in English there before it becomes an exception, which the reader turns
    into a French reason. Nothing else prints while a file is read (one thread per process)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no file descriptor 2 to silence
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, sha256 hex) of a regular file, read in chunks; OSError for anything else
    (a FIFO or a device is never read: it could block or never end)."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"pas un fichier ordinaire : {path}")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                digest.update(chunk)
    finally:
        os.close(fd)
    return size, digest.hexdigest()
