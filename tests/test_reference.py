"""The reference list of PVD territories, in both shapes (README, the commands template --reference)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pvd_reporting.errors import ReferenceListError
from pvd_reporting.format.reference import load_reference
from pvd_reporting.read.values import parse_pvd_id


def test_anct_list_groups_grand_est_into_99_territories(reference_csv: Path) -> None:
    reference = load_reference(reference_csv)
    grand_est = reference.in_region("Grand Est")
    assert len(grand_est) == 99
    assert sum(len(t.communes) for t in grand_est) == 141
    assert len(reference.in_region("grand-est")) == 99  # as people write it
    broque = reference.by_id("PVD-44-67-1")
    assert broque is not None
    assert broque.name == "La Broque"  # the most populous commune names the territory
    assert (broque.siren, broque.department) == ("246700306", "67")
    assert sorted(c.insee for c in broque.communes) == ["67020", "67066", "67414", "67448"]


def test_every_identifier_of_the_national_list_is_accepted(reference_csv: Path) -> None:
    ids = {t.id_pvd for t in load_reference(reference_csv).territories if t.id_pvd}
    assert "pvd-44-5455-1" in ids  # a territory across two départements
    for id_pvd in ids:
        assert parse_pvd_id(id_pvd) == id_pvd.lower()


def test_territories_without_identifier_are_found_by_siren_and_communes(reference_csv: Path) -> None:
    reference = load_reference(reference_csv)
    unnamed = [t for t in reference.territories if not t.id_pvd]
    assert unnamed, "Occitanie, Normandie, Bretagne and Hauts-de-France have no id_pvd"
    target = unnamed[0]
    found = reference.match(None, target.siren, [target.communes[0].insee])
    assert found is target


def test_data_gouv_shape_with_semicolons(tmp_path: Path, reference_csv: Path) -> None:
    rows = list(csv.DictReader(reference_csv.open(encoding="utf-8")))
    path = tmp_path / "pvd.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["insee_com", "lib_com", "id_pvd", "date_signature"])
        for r in rows:
            writer.writerow([r["insee_com"], r["lib_com"], r["id_pvd"], "2021-05-12"])
    reference = load_reference(path)
    assert len(reference.in_region("Grand Est")) == 99  # the région comes from the id's code
    territory = reference.by_id("pvd-44-67-1")
    assert territory is not None and territory.signed_on is not None
    assert territory.signed_on.isoformat() == "2021-05-12"


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binaire\xff\xfe", b"a,b,c\n1,2,3\n"])
def test_unusable_list_is_a_french_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes(content)
    with pytest.raises(ReferenceListError, match="Liste de référence"):
        load_reference(path)


def test_missing_list(tmp_path: Path) -> None:
    with pytest.raises(ReferenceListError, match="illisible"):
        load_reference(tmp_path / "absente.csv")
