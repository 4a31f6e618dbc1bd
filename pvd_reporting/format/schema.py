"""Workbook format 1 as data (docs/format-1.md): the only place a sheet name, a header label or a list is written.

The template writer, the reader, the validator, the summary writer and the feedback workbooks
are all functions over `Schema`. Lists and financer columns come from the configuration (README, Configuration).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache

from pvd_reporting.format.config import Config, default_config
from pvd_reporting.format.matching import norm, slug

# 1.1 adds the Contrôles sheet (live checks); 1.0 workbooks read the same.
FORMAT_VERSION = "1.1"
FORMAT_MAJOR = "1"
VERSION_LABEL = "Version du modèle"
# Lisez-moi of a carried-forward workbook: the quarter it was carried from (what to update).
CARRIED_LABEL = "Reconduit du trimestre"
VERSION_PROPERTY = "pvd_version"
# The digest of the data pvd-report wrote into a workbook (read/digest.py): « Non rempli » when unchanged.
DIGEST_PROPERTY = "pvd_empreinte"


class Kind(StrEnum):
    TEXT = "text"
    PVD_ID = "pvd_id"
    DEPARTMENT = "department"
    SIREN = "siren"
    PERIOD = "period"
    DATE = "date"
    PERCENT = "percent"
    AMOUNT = "amount"
    INTEGER = "integer"
    YESNO = "yesno"
    CHOICE = "choice"
    INSEE = "insee"
    EMAIL = "email"
    PHONE = "phone"


class Personal(StrEnum):
    """Whether a field can hold a person: `--no-contacts` drops
    the fields that can, by this flag, never by looking for names in the text."""

    NO = "no"
    YES = "yes"  # a name, a mail, a phone or free text: dropped
    # Who carries an action: kept when it reads as an organisation (`reads_as_organisation`).
    UNLESS_ORGANISATION = "unless-organisation"


# The words that make a « Maître d'ouvrage » an organisation, not a person (whole words, without
# case or accents): a collectivity, the State, a public or private body.
ORGANISATION_WORDS = frozenset("""
commune communes communaute cc ca cu cde ville villes mairie municipalite metropole agglomeration
epci departement departemental departementale region regional regionale etat prefecture
sous-prefecture ddt ddtm dreal sgar anah anct cerema ademe sem spl spla office oph opac hlm
syndicat sivom sivu sdis epf epfl bailleur bailleurs habitat societe sa sas sarl scic scop
association fondation etablissement agence chambre cci cma groupement gip pnr parc pays pole
banque caisse cdc conseil diocese centre hopital ehpad college lycee universite sncf enedis
""".split())
# Shown in place of a « Maître d'ouvrage » that reads as a person, with --no-contacts.
MASKED = "(contact masqué)"


def reads_as_organisation(value: object) -> bool:
    """« Commune de Barr », « CC du Pays de Bitche », « SEM Alsace » : yes; « Jean Dupont »: no."""
    words = re.split(r"[^a-z0-9-]+", norm(value))
    return any(w in ORGANISATION_WORDS or w.split("-")[0] in ORGANISATION_WORDS for w in words if w)


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = False
    choices: str | None = None  # key of Config.lists (also for YESNO: "oui_non")
    help: str = ""  # input message shown by Excel/LibreOffice; <= 255 characters
    width: int = 18
    financer: str | None = None  # Engagements money column: the financer's name
    # Other headers read as this column: its names in earlier templates and the usual variants
    # of workbooks made by hand, so that carrying a workbook forward moves it to this label.
    aliases: tuple[str, ...] = ()
    personal: Personal = Personal.NO

    @property
    def match_key(self) -> str:
        return norm(self.label)


@dataclass(frozen=True)
class FormSheet:
    """Labels in column A, values in column B, help in column C."""

    key: str
    name: str
    purpose: str
    fields: tuple[Field, ...]

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


@dataclass(frozen=True)
class TableSheet:
    """A header row then one record per row."""

    key: str
    name: str
    purpose: str
    columns: tuple[Field, ...]
    min_rows: int = 0
    # Jalons: the fixed rows (code, label) printed in the template.
    fixed_rows: tuple[tuple[str, str], ...] = ()
    # How many empty rows the template prepares (formatted, validated, unlocked).
    blank_rows: int = 200

    def column(self, key: str) -> Field:
        return next(c for c in self.columns if c.key == key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


# A table sheet as pvd-report writes it (0-based rows): the headers, then one hidden blank row (the
# spacer), then the data. A row inserted above the first data row takes the spacer's format
# (unlocked, the columns' number formats), never the header's lock and style, and lands inside every
# check range, all of which start at the spacer. The reader needs neither: it finds the header row
# and skips blank rows, so that tables without a spacer read the same.
HEADER_ROW = 0
SPACER_ROW = HEADER_ROW + 1
FIRST_DATA_ROW = SPACER_ROW + 1


# The key of each sheet of the workbook: code names a sheet by these, never by a bare string.
TERRITOIRE = "territoire"  # the form
COMMUNES, JALONS, ENGAGEMENTS, COMITES, INGENIERIE, ANNUAIRE = (
    "communes", "jalons", "engagements", "comites", "ingenierie", "annuaire")
# The tables, in the workbook's order (`Schema.tables` follows it).
TABLE_KEYS = (COMMUNES, JALONS, ENGAGEMENTS, COMITES, INGENIERIE, ANNUAIRE)

MILESTONES: tuple[tuple[str, str], ...] = (
    ("J1", "Convention d'adhésion signée"),
    ("J2", "Chef de projet en poste"),
    ("J3", "Comité de projet installé"),
    ("J4", "État des lieux et diagnostic réalisés"),
    ("J5", "Stratégie de revitalisation validée"),
    ("J6", "Plan d'actions et plan de financement arrêtés"),
    ("J7", "Convention ORT validée par le comité régional des financeurs"),
    ("J8", "Convention ORT signée"),
)

README_NAME = "Lisez-moi"
LISTS_NAME = "Listes"
# The sheet of live checks, right after Lisez-moi; the reader ignores it as it ignores Lisez-moi.
CONTROLS_NAME = "Contrôles"
CONTROLS_HEADERS = ("Contrôle", "À corriger", "Où", "Code")

# Labels in the first column of a table that mark a total row, not an action (docs/format-1.md).
TOTAL_LABELS = ("total", "total general", "totaux", "sous-total", "sous total", "somme", "total ht")
TOTAL_PREFIXES = ("total ", "sous-total", "sous total", "totaux ")

# Department codes accepted (docs/format-1.md): 01-95 with 2A/2B instead of 20, and 971-976.
DEPARTMENTS: tuple[str, ...] = tuple(
    [f"{i:02d}" for i in range(1, 96) if i != 20] + ["2A", "2B"] + [str(i) for i in range(971, 977)]
)

ORT_STATUSES = ("ORT signée", "Échéance dépassée", "À risque", "Dans les temps", "Non renseigné")
NOT_RECEIVED = "Non reçu"
# A workbook sent back as it was received (nothing filled beyond the template's pre-fill):
# counted as not received, shown apart.
NOT_FILLED = "Non rempli"


def money_header(financer: str) -> str:
    return f"{financer} (€)"


def _territory_sheet() -> FormSheet:
    F = Field
    return FormSheet(
        key=TERRITOIRE,
        name="Territoire",
        purpose="L'identité du territoire, la période de suivi, le chef de projet et la gouvernance.",
        fields=(
            F("id_pvd", "Identifiant PVD", Kind.PVD_ID,
              help="Identifiant ANCT du territoire, de la forme pvd-44-67-1. Facultatif."),
            F("name", "Nom du territoire", required=True,
              help="Nom usuel du territoire PVD (ville ou binôme de villes)."),
            F("department", "Département", Kind.DEPARTMENT, required=True,
              help="Code du département : 01 à 95, 2A, 2B ou 971 à 976."),
            F("region", "Région", required=True, help="Nom de la région."),
            F("epci", "EPCI", required=True, help="Nom de l'intercommunalité."),
            F("siren", "SIREN de l'EPCI", Kind.SIREN, required=True,
              help="Les 9 chiffres du SIREN de l'intercommunalité."),
            F("period", "Période de suivi", Kind.PERIOD, required=True,
              help="Trimestre suivi, sous la forme 2025-T4."),
            F("updated_on", "Date de mise à jour", Kind.DATE, required=True,
              help="Date à laquelle ce classeur a été rempli (jj/mm/aaaa)."),
            F("ort_deadline_extended", "Date limite ORT prolongée par avenant", Kind.DATE,
              help="Seulement si un avenant a prolongé le délai de 18 mois (jj/mm/aaaa)."),
            F("project_lead", "Chef de projet", required=True, personal=Personal.YES,
              help="Prénom et nom du chef de projet PVD."),
            F("etp", "Temps dédié du chef de projet (% ETP)", Kind.PERCENT, required=True,
              help="Part d'un temps plein consacrée à PVD, de 0 à 100 %."),
            F("cofinancing", "Cofinancement du poste", Kind.CHOICE, required=True, choices="cofinancement",
              help="Qui cofinance le poste. Banque des Territoires : 80 % d'un temps plein au moins."),
            F("chair", "Présidence du comité de projet", Kind.CHOICE, choices="presidence",
              help="Qui préside le comité de projet."),
            F("opah_ru", "OPAH-RU", Kind.CHOICE, choices="opah_ru",
              help="Avancement d'une opération programmée d'amélioration de l'habitat - renouvellement urbain."),
        ),
    )


def _tables(config: Config) -> tuple[TableSheet, ...]:
    F = Field
    money = tuple(
        F(f"fin_{i}", money_header(name), Kind.AMOUNT, financer=name, width=16,
          help=f"Montant apporté par {name}, en euros HT.")
        for i, name in enumerate(config.financers, start=1)
    )
    return (
        TableSheet(
            key=COMMUNES, name="Communes",
            purpose="Les communes du territoire : une ligne par commune, la ou les Villes PVD d'abord.",
            min_rows=1, blank_rows=30,
            columns=(
                F("insee", "Code INSEE", Kind.INSEE, required=True, width=12,
                  help="Code officiel géographique de la commune, 5 caractères (ex. 67437 ou 2A004)."),
                F("name", "Commune", required=True, width=28, help="Nom de la commune."),
                F("population", "Population", Kind.INTEGER, width=12, help="Population municipale."),
                F("role", "Rôle", Kind.CHOICE, required=True, choices="role_commune", width=16,
                  help="Ville PVD (lauréate du programme) ou autre commune associée."),
            ),
        ),
        TableSheet(
            key=JALONS, name="Jalons",
            purpose="Le chemin vers la convention d'ORT, en huit jalons : dates prévues et réalisées.",
            fixed_rows=MILESTONES, blank_rows=0,
            columns=(
                F("code", "Code", required=True, width=7, help="Code du jalon (ne pas modifier)."),
                F("label", "Jalon", width=58, help="Intitulé du jalon (ne pas modifier)."),
                F("planned_on", "Date prévue", Kind.DATE, width=14, help="Date prévue (jj/mm/aaaa)."),
                F("done_on", "Date de réalisation", Kind.DATE, width=14,
                  help="Date à laquelle le jalon a été atteint (jj/mm/aaaa). Vide s'il ne l'est pas."),
                F("comment", "Commentaire", width=40, help="Précision utile (facultatif).", personal=Personal.YES),
            ),
        ),
        TableSheet(
            key=ENGAGEMENTS, name="Engagements",
            purpose="Le plan d'actions et l'argent engagé : une ligne par action, un montant par financeur.",
            columns=(
                F("action_id", "N° action", required=True, width=10,
                  help="Numéro unique de l'action (ex. A1, 1.2)."),
                F("title", "Intitulé", required=True, width=40, help="Intitulé court de l'action."),
                F("commune", "Commune", width=20, help="Commune où l'action a lieu."),
                F("theme", "Thématique", Kind.CHOICE, required=True, choices="thematique", width=26,
                  help="Thématique principale de l'action (liste)."),
                F("owner", "Maître d'ouvrage", width=22, help="Qui porte l'action.",
                  personal=Personal.UNLESS_ORGANISATION),
                F("status", "Statut", Kind.CHOICE, required=True, choices="statut_action", width=15,
                  help="Avancement de l'action. Engagée, En cours ou Terminée : indiquer le coût."),
                F("in_ort", "Inscrite à l'ORT", Kind.YESNO, choices="oui_non", width=10,
                  help="Oui si l'action figure dans la convention d'ORT."),
                F("start_on", "Date de début", Kind.DATE, width=13, help="Date de début (jj/mm/aaaa)."),
                F("end_on", "Date de fin", Kind.DATE, width=13,
                  help="Date de fin, prévue ou réelle (jj/mm/aaaa)."),
                F("cost", "Coût total HT (€)", Kind.AMOUNT, width=16,
                  help="Coût total de l'action en euros HT.", aliases=("Coût total (€)", "Coût HT (€)")),
                *money,
            ),
        ),
        TableSheet(
            key=COMITES, name="Comités",
            purpose="Les réunions de gouvernance : le comité de projet se réunit au moins une fois par trimestre.",
            blank_rows=60,
            columns=(
                F("date", "Date", Kind.DATE, required=True, width=13, help="Date de la réunion (jj/mm/aaaa)."),
                F("body", "Instance", Kind.CHOICE, required=True, choices="instance", width=30,
                  help="Instance réunie (liste)."),
                F("chaired_by", "Présidé par", width=24, help="Qui a présidé la réunion.", personal=Personal.YES),
                F("etat_present", "État représenté", Kind.YESNO, choices="oui_non", width=10,
                  help="Oui si l'État était représenté (obligatoire pour un comité de projet)."),
                F("partners", "Partenaires présents", width=34, help="Partenaires présents.", personal=Personal.YES),
                F("decisions", "Principales décisions", width=50, help="Principales décisions prises.",
                  personal=Personal.YES),
            ),
        ),
        TableSheet(
            key=INGENIERIE, name="Ingénierie",
            purpose="Les besoins en ingénierie (études, animation, formation) et les partenaires sollicités.",
            blank_rows=100,
            columns=(
                F("need", "Besoin", required=True, width=40, help="Le besoin, en quelques mots."),
                F("theme", "Thématique", Kind.CHOICE, choices="thematique", width=26,
                  help="Thématique du besoin (liste)."),
                F("need_type", "Type de besoin", Kind.CHOICE, choices="type_besoin", width=24,
                  help="Nature du besoin (liste)."),
                F("action_id", "N° action liée", width=11,
                  help="N° de l'action de l'onglet Engagements concernée, s'il y en a une."),
                F("partner", "Partenaire sollicité", Kind.CHOICE, choices="partenaire", width=22,
                  help="Partenaire sollicité (liste)."),
                F("amount", "Montant estimé (€)", Kind.AMOUNT, width=15, help="Montant estimé en euros HT."),
                F("status", "Statut", Kind.CHOICE, choices="statut_besoin", width=13,
                  help="Où en est la demande (liste)."),
                F("wanted_by", "Échéance souhaitée", Kind.DATE, width=14,
                  help="Date à laquelle le besoin devrait être couvert (jj/mm/aaaa)."),
            ),
        ),
        TableSheet(
            key=ANNUAIRE, name="Annuaire",
            purpose="Les contacts du projet : chef de projet, élus, référents de l'État et partenaires.",
            blank_rows=60,
            columns=(
                F("name", "Nom Prénom", required=True, width=26, personal=Personal.YES, help="Nom et prénom."),
                F("organisation", "Collectivité", width=26, personal=Personal.YES, help="Collectivité ou organisme."),
                F("position", "Poste et service", width=30, personal=Personal.YES, help="Fonction et service."),
                F("email", "Mail", Kind.EMAIL, width=30, personal=Personal.YES, help="Adresse électronique (prenom.nom@exemple.fr).",
                  aliases=("Courriel", "Adresse mail", "E-mail")),
                F("phone", "Téléphone", Kind.PHONE, width=16, personal=Personal.YES, help="10 chiffres, ou +33 suivi de 9 chiffres.",
                  aliases=("Tél.", "Tel")),
                F("role", "Rôle", Kind.CHOICE, choices="role_contact", width=20, personal=Personal.YES,
                  help="Rôle dans le projet (liste)."),
            ),
        ),
    )


@dataclass(frozen=True)
class Schema:
    config: Config
    form: FormSheet
    tables: tuple[TableSheet, ...]
    version: str = FORMAT_VERSION
    readme_name: str = README_NAME
    controls_name: str = CONTROLS_NAME
    lists_name: str = LISTS_NAME
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def sheet_names(self) -> tuple[str, ...]:
        """Every sheet of the template, in order."""
        return (self.readme_name, self.controls_name, self.form.name, *(t.name for t in self.tables),
                self.lists_name)

    def table(self, key: str) -> TableSheet:
        return next(t for t in self.tables if t.key == key)

    @cached_property
    def financer_fields(self) -> tuple[Field, ...]:
        # Read for every action of every workbook consolidated: made once.
        return tuple(c for c in self.table("engagements").columns if c.financer)

    def canonical(self, list_key: str, value: object) -> str | None:
        """The list's own spelling of `value` (matched without case/accents), or None."""
        # Asked for every status and theme of every row consolidated: the same few values, each
        # normalised once. The type is part of the key (1, 1.0 and True are equal keys).
        key = (list_key, type(value), value)
        memo = self._canonical_memo
        try:
            return memo[key]
        except KeyError:
            found = _list_index(self.lists[list_key]).get(norm(value))
            if len(memo) < _CANONICAL_MEMO_SIZE:  # free text of hostile files stays unremembered
                memo[key] = found
            return found
        except TypeError:  # an unhashable value
            return _list_index(self.lists[list_key]).get(norm(value))

    @cached_property
    def _canonical_memo(self) -> dict[tuple[str, type, object], str | None]:
        return {}


_CANONICAL_MEMO_SIZE = 20_000


@lru_cache(maxsize=64)
def _list_index(values: tuple[str, ...]) -> dict[str, str]:
    return {norm(v): v for v in values}


def build_schema(config: Config | None = None) -> Schema:
    config = config or default_config()
    return Schema(config=config, form=_territory_sheet(), tables=_tables(config), lists=dict(config.lists))


def territory_file_name(id_pvd: str, name: str) -> str:
    """`pvd-44-67-1-la-broque.xlsx`."""
    return f"{id_pvd}-{slug(name)}.xlsx"
