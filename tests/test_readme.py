"""Keep the README and docs/ true: their transcripts, options, codes and links follow the code.

Transcripts are replayed by the real command (paths outside the repository shown as `/…/`);
every internal link of README.md and docs/*.md must reach a file and, with `#anchor`, a heading
of that file; every pointer of the code to a README or docs section must name an existing one.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from pvd_reporting.cli import cli
from pvd_reporting.format.issues import ISSUE_TYPES

REPO = Path(__file__).resolve().parent.parent
README_PATH = REPO / "README.md"
README = README_PATH.read_text(encoding="utf-8")
DOCS = sorted((REPO / "docs").glob("*.md"))
WORKBOOKS = REPO / "workbooks"
MAX_README_LINES = 450


def _block_after(text: str, command: str) -> list[str]:
    """The lines a transcript shows after `$ command`, up to the next command or the block's end."""
    block = text.split(f"$ {command}\n")[1]
    return block.split("\n```")[0].split("\n$ ")[0].splitlines()


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}")[1].split("\n## ")[0]


# --- What the README is ------------------------------------------------------------------------


def test_readme_is_a_users_guide_of_at_most_450_lines() -> None:
    assert len(README.splitlines()) <= MAX_README_LINES
    for command in ("template", "validate", "consolidate"):
        assert f"\n## `pvd-report {command}`" in README, command
    assert "## Installer pvd-report" in README and "pipx install" in README and "uv tool install" in README


def test_the_two_commands_are_the_makefiles_and_ci_runs_the_test_one() -> None:
    assert "make demo" in README and "make test" in README
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo: ", makefile, flags=re.M) and re.search(r"^test: ", makefile, flags=re.M)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().splitlines()[-1] == "make test"


def test_every_option_the_readme_names_exists() -> None:
    helps = "".join(CliRunner().invoke(cli, [c, "--help"]).output
                    for c in ("template", "validate", "consolidate", "national"))
    named = set(re.findall(r"`(--[a-z-]+)", README))
    assert {"--reference", "--no-reference", "--region", "--from", "--annotate"} <= named
    for option in named:
        assert option in helps, option


def test_the_issue_codes_live_in_the_generated_catalogue() -> None:
    # The README links to the catalogue of docs/format-1.md (generated, checked by
    # test_format_doc.py) rather than copying it; every code it names is a real one.
    assert "](docs/format-1.md#catalogue-des-anomalies)" in README
    assert not re.search(r"^\| `[a-z-]+` \| (erreur|avertissement) \|", README, flags=re.M), \
        "the README must not copy the catalogue"
    catalogue = (REPO / "docs" / "format-1.md").read_text(encoding="utf-8").split("## Catalogue des anomalies")[1]
    assert set(re.findall(r"^\| `([a-z-]+)` \|", catalogue, flags=re.M)) == set(ISSUE_TYPES)
    dashed = {c for c in re.findall(r"`([a-z]+(?:-[a-z]+)+)`", README) if not c.startswith("pvd-")}
    assert dashed <= set(ISSUE_TYPES), sorted(dashed - set(ISSUE_TYPES))


def test_the_shipped_reference_list_is_attributed() -> None:
    attribution = "ANCT, programme Petites villes de demain, liste des communes, 2021"
    assert attribution in README and "Licence Ouverte 2.0" in README
    notice = (REPO / "pvd_reporting" / "format" / "data" / "LISEZ-MOI.md").read_text(encoding="utf-8")
    assert attribution in notice and "Licence Ouverte 2.0" in notice


# --- Transcripts, replayed -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[str]]:
    """The README's `make demo`, run as the Makefile runs it (without the images), once."""
    folder = tmp_path_factory.mktemp("demo")
    (folder / "workbooks").symlink_to(WORKBOOKS)
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ndemo:")[1].split("\n\t", 1)[1].splitlines()[0]
    shown = _block_after(README, "make demo")
    assert shown[0] == recipe.replace("$(BIN)", ".venv/bin"), "the transcript's command is the Makefile's"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        result = CliRunner().invoke(cli, [*shown[0].split()[1:], "--no-images", "--quiet"])
    assert result.exit_code == 0, result.output
    printed = result.stdout.replace(f"{folder.resolve()}/", "/…/").splitlines()
    return folder, shown[1:], printed


def test_demo_transcript_matches_what_the_command_prints(demo_run: tuple[Path, list[str], list[str]]) -> None:
    _, shown, printed = demo_run
    # The run above skips the images (and so the note's PDF, printed by Chromium): the transcript,
    # made with them, names the PDF on one line more (tests/test_print.py checks it is written).
    pdf = [line for line in shown if line.endswith("/note-2025-T4.pdf")]
    assert len(pdf) == 1
    assert printed == [line for line in shown if line not in pdf]


def test_cycle_drafts_are_those_of_the_demo(demo_run: tuple[Path, list[str], list[str]]) -> None:
    folder, _, _ = demo_run
    cycle = _section(README, "Le cycle trimestriel")
    drafts = _block_after(cycle, "ls outputs/relances-2025-T4/")
    assert sorted(p.name for p in (folder / "outputs" / "relances-2025-T4").iterdir()) == drafts
    langres = (folder / "outputs" / "relances-2025-T4" / "pvd-44-52-15-langres.eml").read_text(encoding="utf-8")
    head = [line.strip() for line in _block_after(cycle, "head -5 outputs/relances-2025-T4/pvd-44-52-15-langres.eml")][:5]
    assert [line.strip() for line in langres.splitlines()[:5]] == head


def test_validate_transcript_matches_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    command = ("pvd-report validate workbooks/2025-T4/pvd-44-52-15-langres.xlsx "
               "workbooks/2025-T4/pvd-44-67-1-la-broque.xlsx")
    shown = README.split(f"$ {command}\n")[1].split("$ echo $?")[0].rstrip("\n")
    result = CliRunner().invoke(cli, command.split()[1:])
    assert result.exit_code == 1
    assert result.output.rstrip("\n") == shown


def test_template_transcript_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     grand_est_templates: tuple[int, str, Path]) -> None:
    section = _section(README, "`pvd-report template`")
    monkeypatch.chdir(tmp_path)
    for command in ("pvd-report template --period 2025-T4",
                    "pvd-report template --territory pvd-44-67-1 --period 2025-T4 -o la-broque.xlsx"):
        result = CliRunner().invoke(cli, command.split()[1:])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == _block_after(section, command)
    # The région's 99 workbooks: the session's run of the same command.
    code, output, folder = grand_est_templates
    shown = _block_after(section, 'pvd-report template --region "Grand Est" --period 2025-T4 --output-dir modeles/')
    assert code == 0 and output.replace(str(folder), "modeles").splitlines() == shown
    # Run again, the first command refuses to overwrite (the transcript's last command).
    again = section.split("$ pvd-report template --period 2025-T4\n")[2].split("\n```")[0]
    result = CliRunner().invoke(cli, ["template", "--period", "2025-T4"])
    assert result.exit_code == 2 and result.output.rstrip("\n") == again


def test_cycle_validate_transcript_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    carried = Path("modeles-2026-T1") / "pvd-44-52-15-langres.xlsx"
    carried.parent.mkdir()
    result = CliRunner().invoke(cli, ["template", "--from", str(WORKBOOKS / "2025-T4" / "pvd-44-52-15-langres.xlsx"),
                                      "-o", str(carried)])
    assert result.exit_code == 0, result.output
    command = f"pvd-report validate {carried} --annotate retours/"
    result = CliRunner().invoke(cli, command.split()[1:])
    assert result.exit_code == 1
    assert result.output.rstrip("\n").splitlines() == _block_after(_section(README, "Le cycle trimestriel"), command)


def test_national_transcript_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = _section(README, "Pour l'ANCT : la synthèse nationale")
    # Its own summary is not what this section shows: sent to /dev/null in the transcript.
    consolidate = "pvd-report consolidate workbooks/ --output-dir regions/grand-est/ --quiet >/dev/null"
    national = "pvd-report national regions/ --output-dir national/"
    assert f"$ {consolidate}\n$ {national}\n" in section
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workbooks").symlink_to(WORKBOOKS)
    result = CliRunner().invoke(cli, [*consolidate.split()[1:-1], "--no-images"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, national.split()[1:])
    assert result.exit_code == 0, result.output
    printed = result.stdout.replace(f"{tmp_path.resolve()}/", "/…/")
    assert printed.splitlines() == _block_after(section, national)


# --- Links and pointers ---------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen."""
    text = heading.strip().lower()
    text = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def internal_links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    return [link for link in links if not re.match(r"[a-z]+:", link)]


def test_the_slug_is_githubs() -> None:
    assert slug("`pvd-report template` — le classeur à remplir") == "pvd-report-template--le-classeur-à-remplir"
    assert slug("Le cycle trimestriel — reconduire, relancer") == "le-cycle-trimestriel--reconduire-relancer"


@pytest.mark.parametrize("path", [README_PATH, *DOCS], ids=lambda p: p.name)
def test_every_internal_link_resolves(path: Path) -> None:
    broken = []
    for link in internal_links(path):
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        if not file.exists():
            broken.append(link)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(link)
    assert not broken, f"{path.name}: {broken}"


def test_the_link_check_catches_a_broken_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Titre\n\n## Une section\n\n[ok](#une-section) [ko](#autre) [absent](absent.md)\n",
                    encoding="utf-8")
    links = internal_links(page)
    assert links == ["#une-section", "#autre", "absent.md"]
    assert [ln for ln in links if ln.startswith("#") and ln[1:] not in anchors(page)] == ["#autre"]


def test_every_pointer_of_the_code_to_the_docs_names_a_real_section() -> None:
    # Comments and docstrings say `(README, <section>)` or `(docs/<page>.md, <section>)`: the
    # section must be a heading of that page (its start is enough: « Le cycle trimestriel »).
    headings = {README_PATH: re.findall(r"^#{1,6} (.+)$", README, flags=re.M)}
    headings |= {p: re.findall(r"^#{1,6} (.+)$", p.read_text(encoding="utf-8"), flags=re.M) for p in DOCS}
    missing = []
    for source in sorted([*(REPO / "pvd_reporting").rglob("*.py"), *(REPO / "benchmarks").glob("*.py"),
                          *(REPO / "scripts").glob("*.py")]):
        text = source.read_text(encoding="utf-8")
        pointers = re.findall(r"\b(README), ([^();:`\n.]+)", text)
        pointers += re.findall(r"\((docs/[a-z0-9-]+\.md), ([^();:`\n.]+)", text)
        for page, section in pointers:
            path = README_PATH if page == "README" else REPO / page
            wanted = " ".join(section.split()).strip("« »`").lower()
            names = [h.replace("`", "").lower() for h in headings.get(path, [])]
            if not any(wanted in name for name in names):
                missing.append(f"{source.relative_to(REPO)}: ({page}, {section})")
        for page in re.findall(r"\b(docs/[a-z0-9-]+\.md)", text):
            if not (REPO / page).is_file():
                missing.append(f"{source.relative_to(REPO)}: {page}")
    assert not missing, "\n".join(missing)
