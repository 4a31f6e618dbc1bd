"""Validation as data: each kind of issue has a stable code (README, pvd-report validate), a severity and a French message."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from string import Formatter
from typing import Any

from pvd_reporting.format.french import fr_date


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class IssueCode(StrEnum):
    """The stable code of each kind of issue, as `validate --format json` and the anomalies files
    print it, in the catalogue's order; code names an issue by these members, never by a bare
    string. A rule added since declares its code with its kind (check/checks/) instead."""

    UNREADABLE_FILE = "unreadable-file"
    ENCRYPTED_FILE = "encrypted-file"
    FILE_TOO_LARGE = "file-too-large"
    MISSING_SHEET = "missing-sheet"
    RENAMED_SHEET = "renamed-sheet"
    MISSING_COLUMN = "missing-column"
    UNKNOWN_COLUMN = "unknown-column"
    TEMPLATE_VERSION = "template-version"
    UNLABELLED_VALUE = "unlabelled-value"
    REQUIRED_VALUE = "required-value"
    INVALID_DATE = "invalid-date"
    INVALID_NUMBER = "invalid-number"
    INVALID_PERCENT = "invalid-percent"
    PERCENT_AS_POINTS = "percent-as-points"
    INVALID_CHOICE = "invalid-choice"
    INVALID_INSEE = "invalid-insee"
    INSEE_FOUR_DIGITS = "insee-four-digits"
    INVALID_SIREN = "invalid-siren"
    INVALID_DEPARTMENT = "invalid-department"
    INVALID_PERIOD = "invalid-period"
    INVALID_PVD_ID = "invalid-pvd-id"
    INVALID_VALUE = "invalid-value"
    INVALID_EMAIL = "invalid-email"
    INVALID_PHONE = "invalid-phone"
    DUPLICATE_ACTION = "duplicate-action"
    TOTAL_ROW = "total-row"
    FINANCING_EXCEEDS_COST = "financing-exceeds-cost"
    MISSING_COST = "missing-cost"
    DATES_OUT_OF_ORDER = "dates-out-of-order"
    MISSING_END_DATE = "missing-end-date"
    MILESTONES_OUT_OF_ORDER = "milestones-out-of-order"
    DATE_IN_FUTURE = "date-in-future"
    MEETING_AFTER_UPDATE = "meeting-after-update"
    COMITE_CADENCE = "comite-cadence"
    ETAT_ABSENT = "etat-absent"
    ETP_BELOW_THRESHOLD = "etp-below-threshold"
    POPULATION_OVER_LIMIT = "population-over-limit"
    UNKNOWN_COMMUNE = "unknown-commune"
    UNKNOWN_ACTION = "unknown-action"
    NO_PROJECT_LEAD = "no-project-lead"
    NEGATIVE_AMOUNT = "negative-amount"
    ACTION_OVERDUE = "action-overdue"
    MILESTONE_OVERDUE = "milestone-overdue"
    MISSING_MILESTONE = "missing-milestone"
    UNKNOWN_MILESTONE = "unknown-milestone"
    DUPLICATE_MILESTONE = "duplicate-milestone"
    TOO_MANY_ROWS = "too-many-rows"
    SHEET_TOO_LARGE = "sheet-too-large"
    UNREADABLE_SHEET = "unreadable-sheet"
    MACROS = "macros"
    EXTERNAL_LINKS = "external-links"
    DDE_LINK = "dde-link"
    DUPLICATE_SUBMISSION = "duplicate-submission"
    OTHER_DEPARTMENT = "other-department"
    PERIOD_MISMATCH = "period-mismatch"
    PERIOD_AFTER_UPDATE = "period-after-update"
    PERIOD_BEFORE_UPDATE = "period-before-update"
    RESENT_PREVIOUS = "resent-previous"
    MILESTONE_DATE_CHANGED = "milestone-date-changed"
    MILESTONE_UNREALISED = "milestone-unrealised"
    ACTION_REMOVED = "action-removed"
    COMITE_REMOVED = "comite-removed"


@dataclass(frozen=True)
class IssueType:
    code: str  # an IssueCode, or the code of a rule added since, declared with its rule
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
    IssueType(IssueCode.UNREADABLE_FILE, E_, "Fichier illisible",
              "Ce fichier n'est pas un classeur lisible ({reason}). Enregistrez-le au format .xlsx et renvoyez-le."),
    IssueType(IssueCode.ENCRYPTED_FILE, E_, "Fichier protégé par mot de passe",
              "Le classeur est chiffré ou protégé par un mot de passe : enregistrez-le sans mot de passe."),
    IssueType(IssueCode.FILE_TOO_LARGE, E_, "Fichier trop volumineux", "{reason}"),
    IssueType(IssueCode.MISSING_SHEET, E_, "Onglet manquant",
              "Onglet « {sheet_name} » introuvable : repartez du modèle sans renommer ni supprimer d'onglet."),
    IssueType(IssueCode.RENAMED_SHEET, W_, "Onglet renommé",
              "Onglet « {sheet_name} » lu dans l'onglet « {value} », reconnu à ses en-têtes : redonnez-lui son "
              "nom « {sheet_name} »."),
    IssueType(IssueCode.MISSING_COLUMN, E_, "Colonne manquante",
              "Colonne « {column} » introuvable dans l'onglet « {sheet_name} » : rétablissez l'en-tête du modèle."),
    IssueType(IssueCode.UNKNOWN_COLUMN, W_, "Colonne inconnue",
              "Colonne « {value} » inconnue du modèle : elle n'est pas lue."),
    IssueType(IssueCode.TEMPLATE_VERSION, W_, "Version du modèle",
              "{reason}"),
    IssueType(IssueCode.UNLABELLED_VALUE, W_, "Valeur hors colonne",
              "Valeur « {value} » dans une colonne sans en-tête : elle n'est pas lue. "
              "Déplacez-la dans une colonne du modèle ou supprimez-la."),
    IssueType(IssueCode.REQUIRED_VALUE, E_, "Valeur obligatoire", "« {column} » est obligatoire : renseignez cette case."),
    IssueType(IssueCode.INVALID_DATE, E_, "Date illisible", "Date illisible : « {value} » (attendu jj/mm/aaaa)."),
    IssueType(IssueCode.INVALID_NUMBER, E_, "Nombre illisible", "Nombre illisible : « {value} »."),
    IssueType(IssueCode.INVALID_PERCENT, E_, "Pourcentage illisible",
              "Pourcentage illisible ou hors de 0 à 100 % : « {value} »."),
    IssueType(IssueCode.INVALID_CHOICE, E_, "Valeur hors liste",
              "« {value} » n'est pas une valeur de la liste « {column} » : choisissez parmi {choices}."),
    IssueType(IssueCode.INVALID_INSEE, E_, "Code INSEE invalide",
              "Code INSEE invalide : « {value} » (5 caractères, ex. 67437 ou 2A004)."),
    IssueType(IssueCode.INVALID_SIREN, E_, "SIREN invalide",
              "SIREN invalide : « {value} » ({reason})."),
    IssueType(IssueCode.INVALID_DEPARTMENT, E_, "Département invalide",
              "Code de département invalide : « {value} » (01 à 95, 2A, 2B ou 971 à 976)."),
    IssueType(IssueCode.INVALID_PERIOD, E_, "Période invalide",
              "Période illisible : « {value} » (attendu 2025-T4)."),
    IssueType(IssueCode.INVALID_PVD_ID, E_, "Identifiant PVD invalide",
              "Identifiant PVD invalide : « {value} » (attendu pvd-RR-DD-N, ex. pvd-44-67-1)."),
    IssueType(IssueCode.INVALID_VALUE, E_, "Valeur illisible",
              "Valeur illisible : « {value} » (erreur de formule) ; saisissez la valeur elle-même."),
    IssueType(IssueCode.INVALID_EMAIL, E_, "Mail invalide", "Adresse mail invalide : « {value} »{detail}."),
    IssueType(IssueCode.INVALID_PHONE, E_, "Téléphone invalide",
              "Numéro de téléphone invalide : « {value} » (10 chiffres, ou +33 suivi de 9 chiffres)."),
    IssueType(IssueCode.TOTAL_ROW, W_, "Ligne de total",
              "Ligne de total (« {value} ») : elle n'est pas comptée comme une action ; vous pouvez la supprimer."),
    IssueType(IssueCode.TOO_MANY_ROWS, E_, "Onglet trop long", "{reason}"),
    IssueType(IssueCode.SHEET_TOO_LARGE, E_, "Onglet trop étendu", "{reason}"),
    IssueType(IssueCode.UNREADABLE_SHEET, E_, "Onglet illisible", "{reason}"),
    # Active content is stated, never run: the reader reads stored values only, and a carried-forward
    # workbook is written anew from those values.
    IssueType(IssueCode.MACROS, W_, "Macros",
              "Le classeur contient des macros : elles ne sont jamais exécutées ni reprises."),
    IssueType(IssueCode.EXTERNAL_LINKS, W_, "Liaisons externes",
              "Le classeur contient {value} liaison(s) vers d'autres fichiers : elles ne sont jamais suivies ni "
              "reprises ; seules les valeurs enregistrées dans le classeur sont lues."),
    IssueType(IssueCode.DDE_LINK, W_, "Liaison DDE",
              "Le classeur contient une liaison DDE ({reason}) : elle n'est jamais exécutée ni reprise ; seule la "
              "valeur enregistrée dans la cellule est lue."),
    IssueType(IssueCode.DUPLICATE_SUBMISSION, W_, "Envoi en double",
              "Autre classeur pour le même territoire et la même période ({other}) : {reason}"),
    IssueType(IssueCode.OTHER_DEPARTMENT, W_, "Autre département",
              "Classeur du département {value}, hors du périmètre demandé ({departments}) : "
              "il n'est pas consolidé."),
    IssueType(IssueCode.PERIOD_MISMATCH, W_, "Autre période",
              "Classeur de la période {value}, et non {period} : il n'est pas consolidé avec cette période."),
    IssueType(IssueCode.RESENT_PREVIOUS, W_, "Classeur renvoyé tel quel",
              "Classeur identique, octet pour octet (même empreinte SHA-256), à {other}, déjà lu pour la "
              "période {value} : c'est le classeur de {value} renvoyé tel quel, il ne compte pas pour "
              "{period}."),
    # Cross-quarter checks (README, Plusieurs trimestres): each names the source of the previous quarter too.
    IssueType(IssueCode.MILESTONE_DATE_CHANGED, W_, "Date de jalon modifiée",
              "Jalon {code} réalisé le {after} ; au trimestre {previous} il l'était le {before} "
              "({source}) : vérifiez la date."),
    IssueType(IssueCode.MILESTONE_UNREALISED, W_, "Jalon redevenu non réalisé",
              "Jalon {code} réalisé le {before} au trimestre {previous} ({source}), "
              "sans date de réalisation dans ce classeur : vérifiez."),
    IssueType(IssueCode.ACTION_REMOVED, W_, "Action retirée",
              "L'action « {value} » du trimestre {previous} ({source}) ne figure plus dans ce classeur : "
              "sa dernière ligne connue est reprise dans l'onglet Changements de la synthèse."),
    IssueType(IssueCode.COMITE_REMOVED, W_, "Comité retiré",
              "{body} du {value} déclaré au trimestre {previous} ({source}) ne figure plus dans ce classeur."),
)

_KINDS: dict[str, IssueType] = {t.code: t for t in _TYPES}
_LISTED = frozenset(c.value for c in IssueCode)


def register(kind: IssueType) -> IssueType:
    """A rule's kind into the catalogue: the rules (check/checks/) declare theirs with their check,
    and register them when the package `check` is imported."""
    known = _KINDS.setdefault(kind.code, kind)
    if known != kind:
        raise ValueError(f"{kind.code}: declared twice, differently")
    return kind


class _Catalogue(Mapping[str, IssueType]):
    """Every kind of issue, the reader's and the rules': in IssueCode's order (the documented
    catalogue), then the codes rules declared since."""

    def __getitem__(self, code: str) -> IssueType:
        return _KINDS[code]

    def __iter__(self) -> Iterator[str]:
        yield from (c for c in IssueCode if c in _KINDS)
        yield from (c for c in _KINDS if c not in _LISTED)

    def __len__(self) -> int:
        return len(_KINDS)


ISSUE_TYPES: Mapping[str, IssueType] = _Catalogue()


class IssueParameterMissing(ValueError):
    """A rule built an issue without a field its message needs: a bug, caught where it is written."""


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
            "code": str(self.code),
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
    code: IssueCode | IssueType,
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
    """Build an issue from the catalog (or from a rule's own kind); `params` fill the message template."""
    kind = code if isinstance(code, IssueType) else ISSUE_TYPES[code]
    # `detail`: an optional precision some messages end with (e.g. one address per mail cell).
    fields = {"value": shown_value(value), "column": column or "", "detail": "", **params}
    missing = sorted(name for _, name, _, _ in Formatter().parse(kind.template) if name and name not in fields)
    if missing:
        raise IssueParameterMissing(
            f"make_issue({code!s}) needs {', '.join(missing)} for its message « {kind.template} »")
    # The code as a plain string: an issue is plain data (the cache stores it, JSON prints it).
    return Issue(str(kind.code), severity or kind.severity, kind.template.format_map(fields), sheet, cell, row, column,
                 value)


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
    data: Any = None  # read.records.WorkbookData
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
