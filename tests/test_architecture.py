"""The shape of the package, read from its source (AST): stages, cycles, deferred imports, docstrings.

The package is layered by pipeline stage, each subpackage's `__init__` saying what it may import:
a module may import from its own stage or from the stages below it, never from a stage above.
Each failure lists every offending import as `file:line`, so that all can be fixed in one pass.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO / "pvd_reporting"
TESTS_DIR = REPO / "tests"
PACKAGE = "pvd_reporting"

# Lowest first. `pipeline` is the library function of each command, between the stages and the CLI.
# `errors`, `atomic` (safe writes, used by the cache and every output), `cache` (the one cache, whose
# entries the stages above define) and `output_folder` (a run's outputs moved in whole, under a
# lock) sit below every stage.
STAGES = ("errors", "atomic", "cache", "output_folder", "format", "read", "check", "consolidate", "outputs", "pipeline", "cli")
# The package's own entry points sit above every stage.
EXEMPT = (f"{PACKAGE}.__init__", f"{PACKAGE}.__main__")
# Heavy or optional libraries that a light path (validate) must not pay for: the only imports
# allowed inside a function body.
DEFERRABLE = ("pandas", "plotly", "kaleido", "choreographer", "xlsxwriter", "openpyxl", "jinja2", "concurrent.futures",
              "multiprocessing")
# Built from pieces so that this file does not trip its own check.
FORBIDDEN_IN_COMMENTS = ("\u00a7", "PRODUCT" + ".md")


@dataclass(frozen=True)
class ImportAt:
    source: str  # dotted name of the importing module
    target: str  # dotted name of the imported module (pvd_reporting.* only for internal ones)
    path: Path
    line: int
    in_function: bool
    type_checking: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (`pvd_reporting.read.grid`)."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            found[".".join(parts[:-1])] = path
            found[".".join(parts)] = path
        else:
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def canonical(name: str) -> str:
    """`pvd_reporting.read` and `pvd_reporting.read.__init__` are the same module."""
    return name.removesuffix(".__init__")


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _context(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[bool, bool]:
    in_function = type_checking = False
    current = node
    while current in parents:
        parent = parents[current]
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function = True
        if isinstance(parent, ast.If) and _is_type_checking(parent.test) and current in parent.body:
            type_checking = True
        current = parent
    return in_function, type_checking


def _resolve_relative(source: str, is_package: bool, level: int, module: str | None) -> str:
    base = source.split(".")
    # In a package's __init__, `.` is the package itself; in a module, its parent package.
    base = base if is_package else base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports_of(source: str, path: Path) -> Iterator[ImportAt]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = _parents(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            in_function, type_checking = _context(node, parents)
            for alias in node.names:
                yield ImportAt(source, alias.name, path, node.lineno, in_function, type_checking)
        elif isinstance(node, ast.ImportFrom):
            in_function, type_checking = _context(node, parents)
            if node.level:
                base = _resolve_relative(source, is_package, node.level, node.module)
            else:
                base = node.module or ""
            for alias in node.names:
                # `from pvd_reporting.read import values` imports the module `values`.
                sub = f"{base}.{alias.name}"
                target = sub if sub in MODULES else base
                yield ImportAt(source, target, path, node.lineno, in_function, type_checking)


@functools.cache
def all_imports() -> list[ImportAt]:
    """Every import of the package, parsed once, when a test first asks (not at collection)."""
    seen: set[Path] = set()
    found: list[ImportAt] = []
    for name, path in MODULES.items():
        if path in seen:
            continue
        seen.add(path)
        found.extend(imports_of(canonical(name), path))
    return found



def internal(imp: ImportAt) -> bool:
    return imp.target == PACKAGE or imp.target.startswith(PACKAGE + ".")


def stage_of(module: str) -> str | None:
    """`pvd_reporting.read.grid` -> `read`; None for the package root itself."""
    parts = canonical(module).split(".")
    return parts[1] if len(parts) > 1 else None


def report(title: str, lines: list[str]) -> str:
    return f"{title} ({len(lines)}):\n  " + "\n  ".join(sorted(set(lines)))


def test_the_walk_sees_the_package() -> None:
    # A walk that found nothing would let every check below pass.
    assert len({p for p in MODULES.values()}) > 20
    assert any(internal(i) for i in all_imports())
    assert {stage_of(m) for m in MODULES} >= {"errors", "format", "read", "check", "consolidate", "outputs", "cli"}


def test_every_module_belongs_to_a_stage() -> None:
    strays = [
        str(path.relative_to(REPO)) for name, path in MODULES.items()
        if canonical(name) not in {canonical(e) for e in EXEMPT} and stage_of(name) not in STAGES
        and canonical(name) != PACKAGE
    ]
    assert not strays, report("modules outside the stages " + " < ".join(STAGES), strays)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk meets, each as the modules along it (first repeated last)."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycle() -> None:
    # Imports inside functions count too: they close a cycle as soon as the function runs.
    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for imp in all_imports():
        if not internal(imp) or imp.type_checking:
            continue
        target = canonical(imp.target)
        if target == imp.source:
            continue
        graph.setdefault(imp.source, set()).add(target)
        where.setdefault((imp.source, target), imp.where)
    cycles = [" ; ".join(f"{a} -> {b} ({where[(a, b)]})" for a, b in zip(loop, loop[1:], strict=False))
              for loop in find_cycles(graph)]
    assert not cycles, report("import cycles", cycles)


def upward(imports: list[ImportAt]) -> list[str]:
    """Imports from a higher stage than the importing module's, as `file:line: ...`."""
    rank = {stage: i for i, stage in enumerate(STAGES)}
    exempt = {canonical(e) for e in EXEMPT}
    found: list[str] = []
    for imp in imports:
        if not internal(imp) or imp.source in exempt:
            continue
        source, target = stage_of(imp.source), stage_of(imp.target)
        if source is None or target is None or source not in rank or target not in rank:
            continue  # the package root (`__version__`) or a stray module, reported above
        if rank[target] > rank[source]:
            found.append(f"{imp.where}: {imp.source} ({source}) imports {imp.target} ({target})")
    return found


def test_the_layering_check_catches_an_upward_import() -> None:
    path = PACKAGE_DIR / "read" / "grid.py"
    sample = [
        ImportAt("pvd_reporting.read.grid", "pvd_reporting.outputs.report", path, 1, False, False),
        ImportAt("pvd_reporting.read.grid", "pvd_reporting.format.schema", path, 2, False, False),
        ImportAt("pvd_reporting.__main__", "pvd_reporting.cli", path, 3, False, False),
    ]
    assert upward(sample) == [
        "pvd_reporting/read/grid.py:1: pvd_reporting.read.grid (read) imports pvd_reporting.outputs.report (outputs)"]


def test_stages_import_only_their_own_stage_or_below() -> None:
    found = upward(all_imports())
    assert not found, report("imports from a higher stage (" + " < ".join(STAGES) + ")", found)


def _deferrable(target: str) -> bool:
    return any(target == lib or target.startswith(lib + ".") for lib in DEFERRABLE)


def test_no_import_inside_a_function_but_of_a_heavy_library() -> None:
    inside = [
        f"{imp.where}: import of {imp.target} in a function"
        for imp in all_imports()
        if imp.in_function and not _deferrable(imp.target)
        # `from concurrent import futures`
        and not (imp.target == "concurrent" and _deferrable("concurrent.futures"))
    ]
    assert not inside, report(
        "imports inside a function body (only " + ", ".join(DEFERRABLE) + " may be deferred)", inside)


def test_the_deferral_check_catches_a_deferred_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import pandas\n\ndef f():\n    import json\n    import plotly.express\n    return json\n",
                      encoding="utf-8")
    found = list(imports_of("pvd_reporting.sample", sample))
    flagged = [i.target for i in found if i.in_function and not _deferrable(i.target)]
    assert flagged == ["json"]


def subpackages() -> list[Path]:
    """Every folder of the package that holds Python code (with or without an __init__.py)."""
    folders = {p.parent for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts}
    return sorted(f for f in folders if f != PACKAGE_DIR)


def test_every_subpackage_says_what_it_holds_and_may_import() -> None:
    assert subpackages(), "no subpackage found"
    bad: list[str] = []
    for folder in subpackages():
        init = folder / "__init__.py"
        where = str(init.relative_to(REPO))
        if not init.exists():
            bad.append(f"{where}: missing")
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        lines = [line for line in doc.splitlines() if line.strip()]
        if len(lines) < 2:
            bad.append(f"{where}:1: docstring of {len(lines)} line(s); two needed (what it holds, what it may import)")
    assert not bad, report("subpackage docstrings", bad)


def comments_and_docstrings(path: Path) -> Iterator[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                yield body[0].lineno, body[0].value.value


def test_comments_point_to_the_project_docs_not_to_the_specification() -> None:
    found: list[str] = []
    files = [p for d in (PACKAGE_DIR, TESTS_DIR) for p in sorted(d.rglob("*.py")) if "__pycache__" not in p.parts]
    assert files
    for path in files:
        for line, text in comments_and_docstrings(path):
            for word in FORBIDDEN_IN_COMMENTS:
                if word in text:
                    found.append(f"{path.relative_to(REPO)}:{line}: {word!r}")
    assert not found, report("comments or docstrings citing the specification (point to README or docs/)", found)


# A template keeps its markup; a long style or script lives in its own file, included at render time.
INLINE_BLOCK_MAX_LINES = 40
INLINE_BLOCK = re.compile(r"<(style|script)\b[^>]*>(.*?)</\1>", re.DOTALL)


def long_inline_blocks(text: str) -> list[tuple[int, str, int]]:
    """(line, tag, lines) of each inline style or script block longer than the limit."""
    found: list[tuple[int, str, int]] = []
    for match in INLINE_BLOCK.finditer(text):
        lines = match.group(2).count("\n") - 1
        if lines > INLINE_BLOCK_MAX_LINES:
            found.append((text.count("\n", 0, match.start()) + 1, match.group(1), lines))
    return found


def test_the_inline_block_check_catches_a_long_script() -> None:
    long_script = "<script>\n" + "var a = 1;\n" * (INLINE_BLOCK_MAX_LINES + 1) + "</script>\n"
    assert long_inline_blocks("<p>x</p>\n" + long_script) == [(2, "script", INLINE_BLOCK_MAX_LINES + 1)]
    assert long_inline_blocks("<style>\n" + "a{}\n" * INLINE_BLOCK_MAX_LINES + "</style>\n") == []


def test_no_template_holds_a_long_inline_style_or_script() -> None:
    templates = sorted(PACKAGE_DIR.rglob("*.j2"))
    assert templates
    found = [f"{path.relative_to(REPO)}:{line}: <{tag}> of {lines} lines"
             for path in templates for line, tag, lines in long_inline_blocks(path.read_text("utf-8"))]
    assert not found, report("inline style or script blocks over 40 lines (move them to static/)", found)
