"""docs/format-1.md is generated from the schema (scripts/make_format_doc.py) and kept in step with it.

A change of a header, a list, a message or a rule without re-running the script fails here, with
the command that fixes it.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import inspect
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from pvd_reporting.check.checks import checks
from pvd_reporting.format.config import default_config
from pvd_reporting.format.issues import ISSUE_TYPES, SEVERITY_LABELS, IssueCode, IssueType
from pvd_reporting.format.schema import VERSION_LABEL, VERSION_PROPERTY, Schema, build_schema

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "format-1.md"
SCRIPT = REPO / "scripts" / "make_format_doc.py"


@pytest.fixture(scope="module")
def make_doc() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_format_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def default_schema() -> Schema:
    # The committed document describes the embedded default configuration.
    return build_schema(default_config())


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_committed_doc_equals_a_fresh_generation(make_doc: ModuleType, default_schema: Schema, text: str) -> None:
    fresh = make_doc.render(default_schema)
    if fresh != text:
        diff = "".join(difflib.unified_diff(text.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                            "docs/format-1.md (committed)", "docs/format-1.md (generated)"))
        pytest.fail(f"docs/format-1.md is out of date: run `python scripts/make_format_doc.py`.\n{diff}")


def test_generation_is_deterministic(make_doc: ModuleType, default_schema: Schema) -> None:
    assert make_doc.render(default_schema) == make_doc.render(build_schema(default_config()))


def test_every_sheet_appears_in_order_as_a_section(default_schema: Schema, text: str) -> None:
    sections = re.findall(r"^## \d+\. (.+)$", text, flags=re.M)
    assert sections == list(default_schema.sheet_names)


def test_every_header_label_and_help_appears(default_schema: Schema, text: str) -> None:
    fields = [*default_schema.form.fields, *(c for t in default_schema.tables for c in t.columns)]
    assert len(fields) > 40
    for f in fields:
        # A label is a cell of a table row, in bold when it is required.
        cell = f"**{f.label}**" if f.required else f.label
        assert f"| {cell} |" in text, f.label
        assert f.help in text, f.label


def test_every_list_value_appears(default_schema: Schema, text: str) -> None:
    for key, values in default_schema.lists.items():
        line = next((ln for ln in text.splitlines() if ln.startswith(f"| `{key}` |")), None)
        assert line is not None, key
        for value in values:
            assert value in line, (key, value)


def test_every_issue_code_appears_with_its_severity_and_title(text: str) -> None:
    for kind in ISSUE_TYPES.values():
        row = f"| `{kind.code}` | {SEVERITY_LABELS[kind.severity]} | {kind.title} |"
        assert row in text, kind.code


def test_every_issue_code_is_attached_to_a_place(make_doc: ModuleType, default_schema: Schema, text: str) -> None:
    placed = make_doc.placed_codes(default_schema)
    assert set(ISSUE_TYPES) <= placed, sorted(set(ISSUE_TYPES) - placed)
    assert placed <= set(ISSUE_TYPES), sorted(placed - set(ISSUE_TYPES))
    catalogue = text.split("## Catalogue des anomalies", 1)[1]
    unplaced = [line for line in catalogue.splitlines() if line.startswith("| `") and line.endswith("|  |")]
    assert not unplaced


def test_every_code_the_package_raises_is_in_the_catalogue() -> None:
    # A code written in the package but missing from the catalogue would be neither documented nor
    # renderable; make_issue would raise KeyError at the worst moment.
    # Codes are typed (`IssueCode.X`): a name that is not a member would fail only when raised.
    raised: set[str] = set()
    for path in (REPO / "pvd_reporting").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        raised |= set(re.findall(r"""(?:make_issue|\.issue)\(\s*IssueCode\.([A-Z][A-Z0-9_]+)""", source))
    assert raised, "no call to make_issue found"
    members = {c.name: c for c in IssueCode}
    assert raised <= set(members), sorted(raised - set(members))
    assert {members[name] for name in raised} <= set(ISSUE_TYPES)


def _kinds_raised(fn: Callable[..., object]) -> set[str]:
    """The codes a rule's function builds issues of (`ctx.issue(KIND, …)`, `make_issue(KIND, …)`),
    each KIND resolved in the function's own module."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    names = vars(inspect.getmodule(fn))
    raised: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if callee in ("issue", "make_issue"):
            kind = eval(compile(ast.Expression(node.args[0]), "<kind>", "eval"), names)  # noqa: S307 — names of the module
            raised.add(str(kind.code if isinstance(kind, IssueType) else kind))
    return raised


def test_the_rules_listed_are_the_rules_applied(make_doc: ModuleType, default_schema: Schema) -> None:
    # Each rule object's Python raises its own code and no other; a reading check (no doc sentence)
    # names the reader's function that raises it instead; the document lists exactly the rules.
    applied: set[tuple[str, str]] = set()
    for check in checks(default_schema):
        python = [fn for fn in (check.row, check.whole) if fn is not None]
        if check.doc is None:
            assert not python and check.reader is not None, check
            continue
        assert len(python) == 1, check
        assert _kinds_raised(python[0]) == {check.code}, (check.code, python[0])
        applied.add((check.sheet, check.code))
    assert len(applied) > 15
    listed = {(r.table, r.code) for r in make_doc.rules(default_schema)}
    assert listed == applied, {"listed, not applied": listed - applied, "applied, not listed": applied - listed}


def test_version_and_custom_property_are_documented(default_schema: Schema, text: str) -> None:
    assert f"format {default_schema.version}" in text.splitlines()[0]
    assert VERSION_LABEL in text and f"`{VERSION_PROPERTY}`" in text


def test_value_examples_come_from_the_parsers(text: str) -> None:
    section = text.split("## Comment les valeurs sont comprises", 1)[1]
    assert "| `15 mars 2024` | 15/03/2024 |" in section
    assert "| `32/13/2024` | `invalid-date` :" in section
    assert "| `80 %` | 80 % |" in section
    assert "| `x` | Oui |" in section


def test_a_schema_change_changes_the_doc(make_doc: ModuleType, default_schema: Schema) -> None:
    # The generator reads the configuration: another financer list gives another document.
    config = replace(default_config(), financers=("Mécène local",))
    other = make_doc.render(build_schema(config))
    assert "Mécène local (€)" in other
    assert other != make_doc.render(default_schema)


def test_the_script_check_mode_agrees(make_doc: ModuleType) -> None:
    assert make_doc.main(["--check"]) == 0
