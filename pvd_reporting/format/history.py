"""The regional history file (`historique-pvd.sqlite`) as a contract: its name, the tables and keys
that `consolidate` writes and that `pvd-report national` reads back, named once."""

from __future__ import annotations

import re

from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import TABLE_KEYS

DB_NAME = "historique-pvd.sqlite"
META_TABLE = "meta"
TERRITORIES_TABLE = "territoires"
# The configuration's financer columns with their national category, so that `pvd-report
# national` adds up regions whose columns are named differently.
FINANCERS_TABLE = "financeurs"
FINANCER_COLUMNS = ("colonne", "libelle", "categorie")
# Keys of `meta` the national roll-up needs.
META_FORMAT, META_REGION, META_VERSION, META_WRITTEN = "format_version", "region", "pvd_report_version", "written_at"
META_PERIODS, META_CONTACTS, META_REGION_CODE = "periodes", "contacts", "region_code"
# What the file covers: `perimetre` (the title, « Grand Est — Ardennes (08) »), the départements
# kept by --departement (blank: every one), the reference list (« aucune » with --no-reference)
# and its digest, so the nation counts only files of a whole région.
META_SCOPE, META_DEPARTMENTS = "perimetre", "departements"
META_REFERENCE, META_REFERENCE_DIGEST = "liste_reference", "liste_reference_empreinte"
# The period consolidated, its reference date and the program that wrote it: a later run of the
# same period, the same date and program copies that period's rows when its files are unchanged.
META_CONSOLIDATED, META_AS_OF, META_PROGRAM = "periode_consolidee", "situation_au", "programme"
NO_REFERENCE = "aucune"
# One row per published version of a period (`periode`, `version`, `written_at`, `empreinte`).
PUBLICATIONS_TABLE = "publications"
# The data tables of a history, each the summary's sheet of the same name; the roll-up copies
# these and nothing else (an extra table of a regional file stays there).
DATA_TABLES = ("territoires", *TABLE_KEYS, "anomalies", "sources", "changements")

# Each period's publication: what a run wrote for it, and from which files (docs/historique.md).
# A period is written again, as a new version, only when the set of files retained for it
# changed (its `empreinte`, the digest of their content and names).
PUBLICATION_COLUMNS = ("periode", "version", "written_at", "empreinte", "perimetre", "fichiers")
# Every figure of the registry, each version of each period: what the next run compares
# (FIGURES_TABLE below).
FIGURE_COLUMNS = ("periode", "chiffre", "valeur", "version", "cle")
# What became of every workbook read: decided from its content alone.
WORKBOOKS_TABLE = "classeurs"
WORKBOOK_COLUMNS = ("sha256", "fichier", "id_pvd", "territoire", "periode_retenue", "issue", "raison")

# The columns of `territoires` the roll-up reads (the summary's headers in snake_case); the other
# tables are carried over whole.
PERIOD, ID, TERRITORY = "periode", "id_pvd", "territoire"
T_DEPARTMENT, T_EPCI, T_SIREN, T_COMMUNES = "departement", "epci", "siren_de_l_epci", "communes"
T_LAST, T_J1, T_J8, T_DEADLINE, T_DAYS = "dernier_jalon", "date_j1", "date_j8", "echeance_ort", "jours_restants"
T_STATUS, T_IN_TIME, T_CADENCE, T_LEAD = "statut_ort", "ort_signee_dans_le_delai", "cadence_tenue", "chef_de_projet"
T_COST, T_REMAINING, T_BEYOND = "cout_total_ht", "reste_a_financer", "financements_au_dela_du_cout"
# Read when present (a history of an earlier version may lack them).
T_ACTIONS, T_NEEDS, T_NEEDS_AMOUNT = "actions", "besoins", "montant_des_besoins"
T_OPTIONAL = (T_BEYOND, T_ACTIONS, T_NEEDS, T_NEEDS_AMOUNT)
TERRITORY_READ = (PERIOD, ID, TERRITORY, T_DEPARTMENT, T_EPCI, T_SIREN, T_COMMUNES, T_LAST, T_J1, T_J8,
                  T_DEADLINE, T_DAYS, T_STATUS, T_IN_TIME, T_CADENCE, T_LEAD, T_COST, T_REMAINING)
# `engagements` (money engaged and planned), `communes` (population), `jalons` (J2: a chef de projet in post).
E_STATUS, E_COST = "statut", "cout_total_ht"
C_POPULATION, C_ROLE = "population", "role"
# The figures each period was published with (`periode`, `chiffre`, `valeur`).
FIGURES_TABLE, FIGURE, VALUE = "chiffres", "chiffre", "valeur"
J_CODE, J_DONE = "code", "date_de_realisation"


def snake(header: str) -> str:
    """`Coût total HT (€)` -> `cout_total_ht`: the header, lower case, without accents."""
    text = re.sub(r"[^a-z0-9]+", "_", norm(header)).strip("_")
    return text or "colonne"
