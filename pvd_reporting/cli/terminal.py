"""What the commands print: a workbook's text never drives the terminal.

File names, territory names and the values quoted in messages come from files sent by others; an
escape sequence in them could clear the screen, retitle the window or hide a line. Every text the
commands print goes through `terminal_text` (one value) or `echo` (printed lines): escape
sequences removed, other control characters removed, line breaks and tabs inside a value shown
as spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import click

from pvd_reporting.format.issues import Issue, Report

# ESC (or the one-byte CSI) and what follows it: CSI … final byte, OSC … BEL or ST, or one char;
# a lone ESC left over goes with the other controls below.
_ESCAPES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]")
# Line breaks and tabs: a space. Every other C0 and C1 control, DEL, and the bidirectional
# overrides that reorder what is shown: nothing.
_SPACES = re.compile(r"[\t\n\r\x0b\x0c\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_text(value: Any) -> str:
    """One value as the terminal may show it, on one line."""
    text = _ESCAPES.sub("", str(value))
    return _CONTROLS.sub("", _SPACES.sub(" ", text))


def terminal_lines(text: str) -> str:
    """Printed lines as the terminal may show them: each line cleaned, the line breaks kept."""
    return "\n".join(terminal_text(line) for line in text.split("\n"))


def echo_lines(lines: Iterable[Any], *, err: bool = False) -> None:
    """Printed lines, each kept on one line: a file's name with a line break in it (a value put
    into a line) never starts a line of its own, that would read as the run's."""
    for line in lines:
        click.echo(terminal_text(line), err=err)


def echo(text: Any, *, err: bool = False, nl: bool = True) -> None:
    """click.echo, every line through `terminal_text`."""
    click.echo(terminal_lines(str(text)), err=err, nl=nl)


def _issue(issue: Issue) -> Issue:
    return replace(issue, message=terminal_text(issue.message),
                   value=terminal_text(issue.value) if isinstance(issue.value, str) else issue.value,
                   sheet=_text(issue.sheet), cell=_text(issue.cell), column=_text(issue.column))


def _text(value: str | None) -> str | None:
    return None if value is None else terminal_text(value)


def terminal_report(report: Report) -> Report:
    """A copy of `report` whose every text is as the terminal may show it (validate's output is
    styled after this, so its own colours stay)."""
    return Report(workbooks=[
        replace(w, path=terminal_text(w.path), territory=_text(w.territory), id_pvd=_text(w.id_pvd),
                period=_text(w.period), issues=[_issue(i) for i in w.issues])
        for w in report.workbooks
    ])
