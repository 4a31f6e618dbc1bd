"""Issue codes are typed (`IssueCode`), print as the same stable strings, and `make_issue` refuses
to build a message with a missing field instead of printing « ? »."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path

import pytest

from pvd_reporting.format.issues import (
    ISSUE_TYPES,
    IssueCode,
    IssueParameterMissing,
    Severity,
    make_issue,
    register,
)

PACKAGE = Path(__file__).resolve().parent.parent / "pvd_reporting"


def test_every_catalogued_issue_has_its_typed_code() -> None:
    assert [t.code for t in ISSUE_TYPES.values()] == list(IssueCode)
    assert all(isinstance(t.code, IssueCode) for t in ISSUE_TYPES.values())


def test_the_json_code_is_the_same_plain_string() -> None:
    issue = make_issue(IssueCode.FINANCING_EXCEEDS_COST, total="12 €", cost="10 €", excess="2 €")
    data = issue.to_dict()
    assert type(data["code"]) is str and data["code"] == "financing-exceeds-cost"
    assert '"code": "financing-exceeds-cost"' in json.dumps(data)
    assert issue.message == "Les financements (12 €) dépassent le coût total HT (10 €) de 2 €."


def test_a_missing_template_field_fails_where_the_issue_is_built() -> None:
    with pytest.raises(IssueParameterMissing, match=r"financing-exceeds-cost.*cost, excess, total"):
        make_issue(IssueCode.FINANCING_EXCEEDS_COST)
    with pytest.raises(IssueParameterMissing, match="reason"):
        make_issue(IssueCode.UNREADABLE_FILE)
    # `value` and `column` always have a value (empty when not given).
    assert make_issue(IssueCode.INVALID_NUMBER).message == "Nombre illisible : «  »."


def test_code_and_string_are_interchangeable_for_callers() -> None:
    # Tests, the cache and the JSON reader hold plain strings: they still find the issue type.
    assert make_issue("invalid-email", value="x@").code == IssueCode.INVALID_EMAIL  # type: ignore[arg-type]  # a bare string, as JSON gives it back
    assert type(make_issue(IssueCode.INVALID_EMAIL, value="x@").code) is str
    assert ISSUE_TYPES["invalid-email"].code is IssueCode.INVALID_EMAIL


def test_no_bare_code_string_in_the_package() -> None:
    codes = {c.value for c in IssueCode}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "format" / "issues.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and node.value in codes:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value}")
    assert found == []


def test_a_rule_kind_is_registered_once() -> None:
    # The rules (check/checks/) register their kinds: the same kind again is a no-op, another is refused.
    kind = ISSUE_TYPES[IssueCode.MISSING_COST]
    assert register(kind) is kind and ISSUE_TYPES[IssueCode.MISSING_COST] is kind
    with pytest.raises(ValueError, match="missing-cost: declared twice"):
        register(replace(kind, severity=Severity.WARNING))
    assert ISSUE_TYPES[IssueCode.MISSING_COST].severity == Severity.ERROR
