"""The cache is keyed on the program, not on a version string: a message edited in the package's
sources is seen through a cache filled by the unedited program (README, Vitesse).

The package is copied to a temporary folder, one message of the issue catalogue is edited in the
copy, and `consolidate` is run twice on the same cache: by the package as it is, then by the copy
(first on PYTHONPATH). The second run must show the new message, and must not have re-read the
workbook that has not changed under an unchanged program.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from factory import make_workbook

import pvd_reporting
from pvd_reporting.cache import REPORTS_FOLDER, SUFFIX, program_digest
from pvd_reporting.format.schema import Schema

OLD = "Date illisible : « {value} » (attendu jj/mm/aaaa)."
NEW = "Date incomprise : « {value} » (écrivez-la jj/mm/aaaa)."


def consolidate(inbox: Path, out: Path, cache: Path, pythonpath: Path | None = None) -> dict[str, object]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    # Run from the output folder: `-m` puts the working directory first on the path.
    subprocess.run([sys.executable, "-m", "pvd_reporting", "consolidate", str(inbox), "--output-dir", str(out),
                    "--no-images", "--quiet", "--cache", str(cache)],
                   cwd=out.parent, env=env, check=False, capture_output=True, timeout=300)
    found = sorted(out.glob("anomalies-*.json"))
    assert found, f"no anomalies in {out}"
    data: dict[str, object] = json.loads(found[-1].read_text(encoding="utf-8"))
    return data


def messages(report: dict[str, object]) -> list[str]:
    books = report["workbooks"]
    assert isinstance(books, list)
    return [issue["message"] for book in books for issue in book["issues"] if issue["code"] == "invalid-date"]


def test_an_edited_message_is_seen_through_a_warm_cache(schema: Schema, tmp_path: Path) -> None:
    inbox = tmp_path / "classeurs"
    make_workbook(inbox / "bouxwiller.xlsx", schema, territory={"updated_on": "32/13/2025"})
    cache = tmp_path / "cache"
    first = consolidate(inbox, tmp_path / "avant", cache)
    assert messages(first) == [OLD.format(value="32/13/2025")]
    assert len(list((cache / REPORTS_FOLDER).glob(f"*{SUFFIX}"))) == 1

    package = Path(pvd_reporting.__file__).resolve().parent
    copy = tmp_path / "programme" / "pvd_reporting"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    issues = copy / "format" / "issues.py"
    source = issues.read_text(encoding="utf-8")
    assert OLD in source
    issues.write_text(source.replace(OLD, NEW), encoding="utf-8")

    second = consolidate(inbox, tmp_path / "apres", cache, pythonpath=copy.parent)
    assert messages(second) == [NEW.format(value="32/13/2025")]
    # The edited program made its own entry; the unedited one's is still there for it.
    assert len(list((cache / REPORTS_FOLDER).glob(f"*{SUFFIX}"))) == 2
    third = consolidate(inbox, tmp_path / "encore", cache)
    assert messages(third) == [OLD.format(value="32/13/2025")]
    assert len(list((cache / REPORTS_FOLDER).glob(f"*{SUFFIX}"))) == 2


def test_the_program_digest_covers_the_sources() -> None:
    digest = program_digest()
    assert len(digest) == 64
    assert digest == program_digest()  # computed once per process
