"""Macros, external links and DDE (docs/securite.md): each stated with its own warning, never run,
never carried into the next quarter's workbook."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import hostile
import pytest
from click.testing import CliRunner
from factory import make_workbook

from pvd_reporting.check.validate import validate_workbook
from pvd_reporting.cli import cli
from pvd_reporting.format.schema import Schema
from pvd_reporting.read.safety import OLE_MAGIC

_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DDE_FORMULA = b"cmd|' /c calc'!A0"


def _external_link(book: str) -> bytes:
    return (f'<externalLink xmlns="{hostile.MAIN_NS}" xmlns:r="{_RELS}"><externalBook r:id="rId1">'
            f'<sheetNames><sheetName val="Feuil1"/></sheetNames></externalBook></externalLink>').encode()


@pytest.fixture(scope="module")
def active(schema: Schema, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbook holding a VBA project, a link to another file, a DDE link and a DDE formula."""
    folder = tmp_path_factory.mktemp("actif")
    base = make_workbook(folder / "sain.xlsx", schema)
    readme = hostile.sheet_member(base, schema.readme_name)
    dde_link = (f'<externalLink xmlns="{hostile.MAIN_NS}"><ddeLink ddeService="cmd" ddeTopic="/c calc">'
                "<ddeItems/></ddeLink></externalLink>").encode()
    book_rels = (f'<Relationships xmlns="{hostile.REL_NS}"><Relationship Id="rId1" Type="{_RELS}/externalLinkPath" '
                 'Target="file:///C:/budget/secret.xlsx" TargetMode="External"/></Relationships>').encode()
    return hostile.rewrite(base, folder / "actif.xlsm", {
        "xl/vbaProject.bin": OLE_MAGIC + b"\0" * 512,
        "xl/externalLinks/externalLink1.xml": _external_link("secret.xlsx"),
        "xl/externalLinks/_rels/externalLink1.xml.rels": book_rels,
        "xl/externalLinks/externalLink2.xml": dde_link,
    }, edit={readme: (b"</sheetData>", b'<row r="20"><c r="A20"><f>' + DDE_FORMULA + b"</f><v>0</v></c></row></sheetData>")})


def test_each_kind_of_active_content_is_stated_with_its_code(active: Path, schema: Schema) -> None:
    report = validate_workbook(active, schema)
    stated = [(i.code, i.severity, i.message) for i in report.issues
              if i.code in {"macros", "external-links", "dde-link"}]
    assert stated == [
        ("macros", "warning", "Le classeur contient des macros : elles ne sont jamais exécutées ni reprises."),
        ("external-links", "warning", "Le classeur contient 1 liaison(s) vers d'autres fichiers : elles ne sont "
         "jamais suivies ni reprises ; seules les valeurs enregistrées dans le classeur sont lues."),
        ("dde-link", "warning", "Le classeur contient une liaison DDE (cmd /c calc) : elle n'est jamais exécutée "
         "ni reprise ; seule la valeur enregistrée dans la cellule est lue."),
        ("dde-link", "warning", "Le classeur contient une liaison DDE (formule « =cmd|' /c calc'!A0 ») : elle "
         "n'est jamais exécutée ni reprise ; seule la valeur enregistrée dans la cellule est lue."),
    ]
    # Stated, not refused: the data are read.
    assert report.data is not None and report.valid


def test_a_sound_workbook_states_nothing(schema: Schema, tmp_path: Path) -> None:
    report = validate_workbook(make_workbook(tmp_path / "sain.xlsx", schema), schema)
    assert not [i for i in report.issues if i.code in {"macros", "external-links", "dde-link"}]


def test_an_ods_with_basic_macros_and_a_dde_source(tmp_path: Path, schema: Schema) -> None:
    path = hostile.ods(tmp_path / "actif.ods", '<table:table-row><table:table-cell office:value-type="float" '
                       'office:value="1"/></table:table-row>')
    dde = (b'<office:dde-source office:dde-application="cmd" office:dde-topic="/c calc" '
           b'office:dde-item="A0"/>')
    path = hostile.rewrite(path, tmp_path / "actif2.ods", {"Basic/Standard/Module1.xml": b"<module/>"},
                           edit={"content.xml": (b"<table:table-row>", dde + b"<table:table-row>")})
    codes = [i.code for i in validate_workbook(path, schema).issues]
    assert "macros" in codes and "dde-link" in codes


def test_nothing_active_is_carried_into_the_next_quarter(active: Path, tmp_path: Path) -> None:
    out = tmp_path / "suivant.xlsx"
    result = CliRunner().invoke(cli, ["template", "--from", str(active), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        sheets = b"".join(zf.read(n) for n in names if n.startswith("xl/worksheets/"))
    assert not [n for n in names if "vbaProject" in n or "externalLink" in n]
    assert DDE_FORMULA not in sheets and b"cmd|" not in sheets


@pytest.mark.parametrize(("sheet", "found"), [
    (b'<x:c><x:f t="array">cmd|\' /c calc\'!A0</x:f></x:c>', b"cmd|' /c calc'!A0"),
    (b'<c><f>SUBSTITUTE(A1,"|","")</f></c>', None),  # a pipe in a string: the workbook's own checks
    (b'<c><f>x!y|z</f></c>', None),  # no exclamation mark after the pipe
    (b'<c><v>cmd|x!y</v></c>', None),  # a value, not a formula
    (b'<c><f>a &gt;b|c</f></c><c><f>e|f!g</f></c>', b"e|f!g"),
    # A formula of 2 MB with a pipe and no item: looked at once, not backtracked through.
    (b"<c><f>" + b"a" * 2_000_000 + b"|b</f></c>", None),
])
def test_a_dde_formula_is_found_by_its_shape(sheet: bytes, found: bytes | None) -> None:
    from pvd_reporting.read.active import active_content

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row>" + sheet + b"</row></sheetData></worksheet>")
    with zipfile.ZipFile(buffer) as zf:
        stated = [i for i in active_content(zf) if i.code == "dde-link"]
    assert len(stated) == (0 if found is None else 1)
    if found is not None:
        assert f"« ={found.decode()} »" in stated[0].message
