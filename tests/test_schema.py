"""The schema is the single source of truth: its own consistency, and docs/format-1.md's names."""

from __future__ import annotations

from pvd_reporting.format.matching import norm, slug
from pvd_reporting.format.schema import (
    DEPARTMENTS,
    MILESTONES,
    TABLE_KEYS,
    TERRITOIRE,
    Kind,
    Schema,
)


def test_sheets_in_the_order_of_section_3(schema: Schema) -> None:
    # Format 1.1: Contrôles right after Lisez-moi.
    assert schema.sheet_names == (
        "Lisez-moi", "Contrôles", "Territoire", "Communes", "Jalons", "Engagements", "Comités", "Ingénierie",
        "Annuaire", "Listes",
    )


def test_headers_are_unique_within_each_sheet_even_when_normalised(schema: Schema) -> None:
    labels = [f.match_key for f in schema.form.fields]
    assert len(labels) == len(set(labels))
    for table in schema.tables:
        keys = [c.match_key for c in table.columns]
        assert len(keys) == len(set(keys)), table.name


def test_every_choice_field_names_an_existing_list(schema: Schema) -> None:
    fields = list(schema.form.fields) + [c for t in schema.tables for c in t.columns]
    for f in fields:
        if f.kind in (Kind.CHOICE, Kind.YESNO):
            assert f.choices in schema.lists, f.key
        assert len(f.help) <= 255, f.key
        assert f.help, f"{f.key} has no input message"


def test_section_3_names(schema: Schema) -> None:
    engagements = [c.label for c in schema.table("engagements").columns]
    assert engagements[:10] == [
        "N° action", "Intitulé", "Commune", "Thématique", "Maître d'ouvrage", "Statut",
        "Inscrite à l'ORT", "Date de début", "Date de fin", "Coût total HT (€)",
    ]
    assert "Département / Collectivité européenne d'Alsace (€)" in engagements
    assert [c for c, _ in MILESTONES] == [f"J{i}" for i in range(1, 9)]
    assert "2A" in DEPARTMENTS and "20" not in DEPARTMENTS and "976" in DEPARTMENTS
    assert len(schema.lists["thematique"]) == 12


def test_canonical_ignores_case_and_accents(schema: Schema) -> None:
    assert schema.canonical("statut_action", "ENGAGEE") == "Engagée"
    assert schema.canonical("instance", "comite  de projet") == "Comité de projet"
    assert schema.canonical("statut_action", "Finie") is None
    assert norm("Date de mise à jour :") == norm("date de mise a jour")


def test_sheet_keys_are_the_declared_constants_in_order(schema: Schema) -> None:
    # Code names a sheet by these constants (the summary's sheet order, SQLite's tables, the reader).
    assert tuple(t.key for t in schema.tables) == TABLE_KEYS
    assert schema.form.key == TERRITOIRE


def test_summary_data_sheets_follow_the_schema() -> None:
    from pvd_reporting.outputs.summary.workbook import SHEET_ORDER

    assert SHEET_ORDER == TABLE_KEYS[1:]  # the communes are a column of Territoires


def test_slug_transliterates_what_accent_stripping_does_not() -> None:
    assert [slug(t) for t in ("Jœuf", "L'Hôpital", "ŒUVRE", "Ærø", "Großbliederstroff", "La Broque")] == [
        "joeuf", "l-hopital", "oeuvre", "aero", "grossbliederstroff", "la-broque"]
