"""Validation as data: each kind of issue has a stable code (README, pvd-report validate), a severity and a French message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pvd_reporting.format.french import fr_date


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class IssueType:
    code: str
    severity: Severity
    title: str  # short French title, for tables and the Anomalies sheet
    template: str  # French message; `{value}` is the raw value, other fields come from the rule


E_, W_ = Severity.ERROR, Severity.WARNING

# The words users read: a severity, and the `Contrôle` of a row or verdict of a workbook (README, pvd-report consolidate).
SEVERITY_LABELS: dict[Severity, str] = {Severity.ERROR: "Erreur", Severity.WARNING: "Avertissement"}
CONTROL_OK = "OK"


def control_of(severities: Iterable[Severity]) -> str:
    """OK · Avertissement · Erreur: the worst of the severities found."""
    found = set(severities)
    if Severity.ERROR in found:
        return SEVERITY_LABELS[Severity.ERROR]
    return SEVERITY_LABELS[Severity.WARNING] if found else CONTROL_OK

_TYPES = (
    IssueType("unreadable-file", E_, "Fichier illisible",
              "Ce fichier n'est pas un classeur lisible ({reason}). Enregistrez-le au format .xlsx et renvoyez-le."),
    IssueType("encrypted-file", E_, "Fichier protégé par mot de passe",
              "Le classeur est chiffré ou protégé par un mot de passe : enregistrez-le sans mot de passe."),
    IssueType("file-too-large", E_, "Fichier trop volumineux", "{reason}"),
    IssueType("missing-sheet", E_, "Onglet manquant",
              "Onglet « {sheet_name} » introuvable : repartez du modèle sans renommer ni supprimer d'onglet."),
    IssueType("missing-column", E_, "Colonne manquante",
              "Colonne « {column} » introuvable dans l'onglet « {sheet_name} » : rétablissez l'en-tête du modèle."),
    IssueType("unknown-column", W_, "Colonne inconnue",
              "Colonne « {value} » inconnue du modèle : elle n'est pas lue."),
    IssueType("template-version", W_, "Version du modèle",
              "{reason}"),
    IssueType("unlabelled-value", W_, "Valeur hors colonne",
              "Valeur « {value} » dans une colonne sans en-tête : elle n'est pas lue. "
              "Déplacez-la dans une colonne du modèle ou supprimez-la."),
    IssueType("required-value", E_, "Valeur obligatoire", "« {column} » est obligatoire : renseignez cette case."),
    IssueType("invalid-date", E_, "Date illisible", "Date illisible : « {value} » (attendu jj/mm/aaaa)."),
    IssueType("invalid-number", E_, "Nombre illisible", "Nombre illisible : « {value} »."),
    IssueType("invalid-percent", E_, "Pourcentage illisible",
              "Pourcentage illisible ou hors de 0 à 100 % : « {value} »."),
    IssueType("invalid-choice", E_, "Valeur hors liste",
              "« {value} » n'est pas une valeur de la liste « {column} » : choisissez parmi {choices}."),
    IssueType("invalid-insee", E_, "Code INSEE invalide",
              "Code INSEE invalide : « {value} » (5 caractères, ex. 67437 ou 2A004)."),
    IssueType("invalid-siren", E_, "SIREN invalide",
              "SIREN invalide : « {value} » ({reason})."),
    IssueType("invalid-department", E_, "Département invalide",
              "Code de département invalide : « {value} » (01 à 95, 2A, 2B ou 971 à 976)."),
    IssueType("invalid-period", E_, "Période invalide",
              "Période illisible : « {value} » (attendu 2025-T4)."),
    IssueType("invalid-pvd-id", E_, "Identifiant PVD invalide",
              "Identifiant PVD invalide : « {value} » (attendu pvd-RR-DD-N, ex. pvd-44-67-1)."),
    IssueType("invalid-value", E_, "Valeur illisible",
              "Valeur illisible : « {value} » (erreur de formule) ; saisissez la valeur elle-même."),
    IssueType("invalid-email", E_, "Mail invalide", "Adresse mail invalide : « {value} »."),
    IssueType("invalid-phone", E_, "Téléphone invalide",
              "Numéro de téléphone invalide : « {value} » (10 chiffres, ou +33 suivi de 9 chiffres)."),
    IssueType("duplicate-action", E_, "N° d'action en double",
              "Le N° d'action « {value} » est déjà utilisé ligne {first_row} : chaque action a son propre numéro."),
    IssueType("total-row", W_, "Ligne de total",
              "Ligne de total (« {value} ») : elle n'est pas comptée comme une action ; vous pouvez la supprimer."),
    IssueType("financing-exceeds-cost", E_, "Financements supérieurs au coût",
              "Les financements ({total}) dépassent le coût total HT ({cost}) de {excess}."),
    IssueType("missing-cost", E_, "Coût manquant",
              "Action « {status} » sans coût total HT : indiquez le coût."),
    IssueType("dates-out-of-order", E_, "Dates inversées",
              "La date de fin ({end}) précède la date de début ({start})."),
    IssueType("missing-end-date", W_, "Date de fin manquante",
              "Action terminée sans date de fin : indiquez quand elle s'est terminée."),
    IssueType("milestones-out-of-order", W_, "Jalons dans le désordre",
              "{code} réalisé le {date}, avant {previous} réalisé le {previous_date} : vérifiez les dates."),
    IssueType("date-in-future", W_, "Date postérieure à la mise à jour",
              "Date {date} postérieure à la date de mise à jour ({updated_on})."),
    IssueType("comite-cadence", W_, "Trimestres sans comité de projet",
              "Trimestres sans comité de projet (sur les 4 derniers, ou depuis son installation) : "
              "{quarters}. Le comité de projet doit se réunir au moins une fois par trimestre."),
    IssueType("etat-absent", W_, "État non représenté",
              "Comité de projet sans représentant de l'État : l'État doit y être représenté."),
    IssueType("etp-below-threshold", E_, "Temps dédié insuffisant",
              "Cofinancement Banque des Territoires avec {etp} % d'ETP : il faut au moins {threshold} %."),
    IssueType("population-over-limit", W_, "Population supérieure au seuil",
              "Ville PVD de {value} habitants : le programme vise les communes de moins de {limit} habitants."),
    IssueType("unknown-commune", W_, "Commune inconnue", "{reason}"),
    IssueType("unknown-action", W_, "Action inconnue",
              "Le N° d'action « {value} » ne figure pas dans l'onglet Engagements."),
    IssueType("no-project-lead", W_, "Pas de chef de projet dans l'annuaire",
              "Aucun contact avec le rôle « Chef de projet PVD » dans l'annuaire."),
    IssueType("negative-amount", E_, "Montant négatif", "Montant négatif : « {value} »."),
    IssueType("missing-milestone", E_, "Jalon manquant",
              "Jalon {code} introuvable : l'onglet Jalons doit garder ses huit lignes J1 à J8."),
    IssueType("unknown-milestone", E_, "Jalon inconnu",
              "Code de jalon « {value} » inconnu : l'onglet Jalons compte huit lignes, {codes}."),
    IssueType("duplicate-milestone", E_, "Jalon en double",
              "Le jalon {value} figure déjà ligne {first_row} : chaque jalon n'a qu'une ligne."),
    IssueType("too-many-rows", E_, "Onglet trop long", "{reason}"),
    IssueType("duplicate-submission", W_, "Envoi en double",
              "Autre classeur pour le même territoire et la même période ({other}) : {reason}"),
    IssueType("other-department", W_, "Autre département",
              "Classeur du département {value}, hors du périmètre demandé ({departments}) : "
              "il n'est pas consolidé."),
    IssueType("period-mismatch", W_, "Autre période",
              "Classeur de la période {value}, et non {period} : il n'est pas consolidé avec cette période."),
    IssueType("period-after-update", W_, "Période postérieure à la mise à jour",
              "Période de suivi {value} postérieure au trimestre de la date de mise à jour "
              "({updated_on}, trimestre {quarter}) : vérifiez la période ou la date."),
    # Cross-quarter checks (README, Plusieurs trimestres): each names the source of the previous quarter too.
    IssueType("milestone-date-changed", W_, "Date de jalon modifiée",
              "Jalon {code} réalisé le {after} ; au trimestre {previous} il l'était le {before} "
              "({source}) : vérifiez la date."),
    IssueType("milestone-unrealised", W_, "Jalon redevenu non réalisé",
              "Jalon {code} réalisé le {before} au trimestre {previous} ({source}), "
              "sans date de réalisation dans ce classeur : vérifiez."),
    IssueType("action-removed", W_, "Action retirée",
              "L'action « {value} » du trimestre {previous} ({source}) ne figure plus dans ce classeur : "
              "sa dernière ligne connue est reprise dans l'onglet Changements de la synthèse."),
    IssueType("comite-removed", W_, "Comité retiré",
              "{body} du {value} déclaré au trimestre {previous} ({source}) ne figure plus dans ce classeur."),
)

ISSUE_TYPES: dict[str, IssueType] = {t.code: t for t in _TYPES}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass
class Issue:
    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    cell: str | None = None  # A1 on the workbook's own sheet; None for a whole-sheet/file issue
    row: int | None = None  # 1-based row on that sheet
    column: str | None = None  # the header label (schema's spelling)
    value: Any = None  # raw value as typed

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "sheet": self.sheet,
            "cell": self.cell,
            "row": self.row,
            "column": self.column,
            "value": json_value(self.value),
            "message": self.message,
        }

    @property
    def place(self) -> str:
        """`Engagements!H12`, `Engagements` or `` for the human output."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""


def json_value(value: Any) -> Any:
    """Raw values as JSON: numbers stay numbers, dates become ISO text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def shown_value(value: Any) -> str:
    """A raw value as a French reader expects it in a message: VRAI, 15/03/2024, 1200000."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, date):
        return fr_date(value)
    return str(json_value(value))


def make_issue(
    code: str,
    /,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: Any = None,
    severity: Severity | None = None,
    **params: Any,
) -> Issue:
    """Build an issue from the catalog; `params` fill the message template."""
    kind = ISSUE_TYPES[code]
    shown = shown_value(value)
    message = kind.template.format_map(_Blank(value=shown, column=column or "", **params))
    return Issue(code, severity or kind.severity, message, sheet, cell, row, column, value)


def count(issues: list[Issue], severity: Severity) -> int:
    return sum(1 for i in issues if i.severity == severity)


@dataclass
class WorkbookReport:
    """What `validate` says of one workbook; `data` is None when the file could not be read."""

    path: str
    issues: list[Issue] = field(default_factory=list)
    territory: str | None = None
    id_pvd: str | None = None
    period: str | None = None
    data: Any = None  # model.WorkbookData
    size: int | None = None
    sha256: str | None = None
    version: str | None = None

    @property
    def errors(self) -> int:
        return count(self.issues, Severity.ERROR)

    @property
    def warnings(self) -> int:
        return count(self.issues, Severity.WARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    @property
    def verdict(self) -> str:
        return control_of(i.severity for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "territory": self.territory,
            "id_pvd": self.id_pvd,
            "period": self.period,
            "valid": self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass
class Report:
    workbooks: list[WorkbookReport] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(w.valid for w in self.workbooks)

    @property
    def stats(self) -> dict[str, int]:
        return {
            "workbooks": len(self.workbooks),
            "valid": sum(1 for w in self.workbooks if w.valid),
            "errors": sum(w.errors for w in self.workbooks),
            "warnings": sum(w.warnings for w in self.workbooks),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "stats": self.stats, "workbooks": [w.to_dict() for w in self.workbooks]}
