"""Macros, external links and DDE in a workbook: stated as warnings, never run (docs/securite.md).

The reader only ever reads the values stored in the cells, and a carried-forward workbook is
written anew from those values: nothing active is executed or copied. Saying so lets the referent
know what the territory's file holds. Every search here is bounded: the zip's list of members,
and parts already limited by the safety checks.
"""

from __future__ import annotations

import re
import zipfile

from pvd_reporting.format.issues import Issue, IssueCode, make_issue

_MAX_PART_BYTES = 8 * 1024 * 1024  # a sheet or content.xml looked at for DDE; bigger ones are refused anyway
# A Visual Basic project: xlsm/xlsb part, OLE stream of an .xls, LibreOffice's Basic library.
_VBA_OLE = "_VBA_PROJECT".encode("utf-16-le")
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
# =app|'topic'!item, as Excel writes a DDE formula (`=cmd|' /c calc'!A0`): an application, a
# pipe, a topic, an exclamation mark. A formula's opening tag; the rest is looked at byte by byte.
_FORMULA_TAG = re.compile(rb"<" + _P + rb"f\b[^>]*>")
_APPLICATION = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_DDE_LINK = re.compile(rb'<' + _P + rb'ddeLink\b[^>]*?ddeService="([^"]*)"[^>]*?ddeTopic="([^"]*)"')
_ODS_DDE = re.compile(rb"<(?:office|table|text):dde-(?:source|connection-decl)\b[^>]*?"
                      rb'(?:office|table|text):dde-application="([^"]*)"')
_ODS_LINK = re.compile(rb"<table:(?:table-source|cell-range-source)\b")
_SHOWN = 60


def _shown(raw: bytes) -> str:
    """A formula or a service name as a user may read it: short, on one line, no control character."""
    text = raw.decode("utf-8", "replace").replace("&apos;", "'").replace("&quot;", '"').replace("&amp;", "&")
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    info = zf.getinfo(name)
    return zf.read(info) if info.file_size <= _MAX_PART_BYTES else b""


def active_content(zf: zipfile.ZipFile | None, data: bytes = b"", xml: dict[str, bytes] | None = None,
                   ) -> list[Issue]:
    """Warnings for the macros, external links and DDE links of a workbook (its zip, or the bytes
    of an .xls); `xml`: sheets already inflated (bounds.WorkbookCost.xml)."""
    xml = xml or {}
    if zf is None:
        return [make_issue(IssueCode.MACROS)] if _VBA_OLE in data else []
    names = zf.namelist()
    found: list[Issue] = []
    lower = [n.lower() for n in names]
    if any(n.endswith("vbaproject.bin") or n.startswith(("xl/macrosheets/", "basic/", "scripts/"))
           for n in lower):
        found.append(make_issue(IssueCode.MACROS))
    if "content.xml" in names:
        return found + _ods(zf)
    links = [n for n in names if n.startswith("xl/externalLinks/") and n.endswith(".xml")
             and "/_rels/" not in n]
    dde: list[str] = []
    for name in links:
        m = _DDE_LINK.search(_read_small(zf, name))
        if m:
            dde.append(f"{_shown(m[1])} {_shown(m[2])}")
    if len(links) > len(dde):
        found.append(make_issue(IssueCode.EXTERNAL_LINKS, value=len(links) - len(dde)))
    for name in names:
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        part = xml[name] if name in xml else _read_small(zf, name)
        formula = _dde_formula(part)
        if formula is not None:
            dde.append(f"formule « ={_shown(formula)} »")
    found.extend(make_issue(IssueCode.DDE_LINK, reason=text) for text in dde)
    return found


def _dde_formula(part: bytes) -> bytes | None:
    """The text of the first formula of `part` that calls another application: a pipe just after
    an application's name, an exclamation mark after it. Only the elements around a pipe are
    looked at, each once, in linear time: a pattern searched over the sheet backtracked through
    every formula (a few ms for the workbook's own checks, which hold a "|" in a string), and
    over a long formula in quadratic time (a minute for a hostile 200 KB one)."""
    start = 0
    while (pipe := part.find(b"|", start)) >= 0:
        end = part.find(b"<", pipe)
        if end < 0:
            return None
        opening = part.rfind(b"<", 0, pipe)
        tag = _FORMULA_TAG.match(part, opening, pipe) if opening >= 0 else None
        if tag is not None:
            text = part[tag.end():end]
            bang = text.rfind(b"!")
            i = text.find(b"|")
            while 0 <= i < bang:
                if i > 0 and text[i - 1] in _APPLICATION:
                    return text
                i = text.find(b"|", i + 1)
        start = end
    return None


def _ods(zf: zipfile.ZipFile) -> list[Issue]:
    content = _read_small(zf, "content.xml")
    found: list[Issue] = []
    links = len(_ODS_LINK.findall(content))
    if links:
        found.append(make_issue(IssueCode.EXTERNAL_LINKS, value=links))
    found.extend(make_issue(IssueCode.DDE_LINK, reason=_shown(m[1])) for m in _ODS_DDE.finditer(content))
    return found
