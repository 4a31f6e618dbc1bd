"""Each workbook is read once (README, Vitesse): its bytes read once, its zip opened once for the
safety checks, the formula-error scan and the version property, calamine fed the same bytes.
And `validate FOLDER` reads with consolidate's batch reader, giving the same report as the
one-by-one reading it replaced.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import make_workbook
from python_calamine import CalamineWorkbook

from pvd_reporting.cache import REPORTS_FOLDER, SUFFIX, Cache
from pvd_reporting.check.validate import validate_paths, validate_workbook
from pvd_reporting.cli import cli
from pvd_reporting.format.schema import Schema
from pvd_reporting.pipeline import validate as pipeline_validate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def opens(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times a zip is opened, a file opened for reading, and calamine given a file."""
    counts = {"zip": 0, "calamine_path": 0, "calamine_bytes": 0}
    real_init = zipfile.ZipFile.__init__

    def counting_init(self: zipfile.ZipFile, *args: Any, **kwargs: Any) -> None:
        mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
        if mode == "r":
            counts["zip"] += 1
        real_init(self, *args, **kwargs)

    real_path, real_bytes = CalamineWorkbook.from_path, CalamineWorkbook.from_filelike

    def from_path(path: Any) -> Any:
        counts["calamine_path"] += 1
        return real_path(path)

    def from_filelike(handle: Any) -> Any:
        counts["calamine_bytes"] += 1
        return real_bytes(handle)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", counting_init)
    monkeypatch.setattr(CalamineWorkbook, "from_path", staticmethod(from_path))
    monkeypatch.setattr(CalamineWorkbook, "from_filelike", staticmethod(from_filelike))
    return counts


def test_a_workbook_is_opened_once(schema: Schema, tmp_path: Path, opens: dict[str, int]) -> None:
    path = make_workbook(tmp_path / "t.xlsx", schema,
                         rows={"engagements": [{"action_id": "A1", "title": "Halle", "cost": "=1/0"}]})
    report = validate_workbook(path, schema)
    assert report.data is not None and report.sha256 and report.version
    assert opens == {"zip": 1, "calamine_path": 0, "calamine_bytes": 1}


def test_the_version_property_comes_from_the_same_zip(schema: Schema, tmp_path: Path,
                                                     opens: dict[str, int]) -> None:
    # No version cell in Lisez-moi: the custom property is read, from the zip already open.
    path = make_workbook(tmp_path / "t.xlsx", schema, version_places=("property",))
    report = validate_workbook(path, schema)
    assert report.version == schema.version
    assert opens["zip"] == 1


def test_a_refused_file_is_opened_once_too(tmp_path: Path, schema: Schema, opens: dict[str, int]) -> None:
    broken = tmp_path / "casse.xlsx"
    broken.write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    report = validate_workbook(broken, schema)
    assert [i.code for i in report.issues] == ["unreadable-file"]
    assert opens["zip"] <= 1 and opens["calamine_bytes"] == 0


@pytest.fixture()
def inbox(schema: Schema, tmp_path: Path) -> Path:
    folder = tmp_path / "classeurs"
    make_workbook(folder / "bon.xlsx", schema)
    make_workbook(folder / "sous" / "faux.xlsx", schema, territory={"id_pvd": "pvd-44-67-5", "name": "Autre",
                                                                    "updated_on": "32/13/2024"})
    (folder / "casse.xlsx").write_bytes(b"PK\x03\x04 ceci n'est pas un classeur")
    return folder


def test_validate_folder_uses_the_batch_reader(inbox: Path, schema: Schema, user_cache: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = pipeline_validate.read_all

    def spy(paths: list[Path], *args: Any, **kwargs: Any) -> Any:
        calls.append(len(paths))
        assert kwargs.get("cache") == Cache(user_cache)
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(pipeline_validate, "read_all", spy)
    before, _ = validate_paths([inbox], schema)
    for _ in range(2):  # cold, then from the cache
        result = pipeline_validate.run_validate([inbox])
        assert result.report.to_dict() == before.to_dict()
    assert calls == [3, 3]
    # Every file's report cached (a broken file's too: its bytes decide it), by the first run.
    assert len(list((user_cache / REPORTS_FOLDER).glob(f"*{SUFFIX}"))) == 3


def test_validate_folder_json_and_feedback_as_before(inbox: Path, schema: Schema, tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["validate", str(inbox), "--format", "json", "--annotate", str(tmp_path / "retours")])
    assert out.exit_code == 1
    before, _ = validate_paths([inbox], schema)
    assert json.loads(out.stdout) == before.to_dict()
    written = sorted(p.name for p in (tmp_path / "retours").glob("*.xlsx"))
    assert written == ["casse-annotations.xlsx", "faux-annotations.xlsx"]


def test_validate_demo_folder_as_before(schema: Schema) -> None:
    folder = ROOT / "workbooks"
    before, _ = validate_paths([folder], schema)
    after = pipeline_validate.run_validate([folder]).report
    assert after.to_dict() == before.to_dict()
