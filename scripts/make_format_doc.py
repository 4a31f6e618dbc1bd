"""Write docs/format-1.md, the workbook format for its users, and the table of docs/controles.md
from the schema, the rule objects (check/checks/), the issue catalogue and the default
configuration: nothing in them is typed twice.

    python scripts/make_format_doc.py            # rewrite docs/format-1.md and docs/controles.md
    python scripts/make_format_doc.py --check    # exit 1 if either is not up to date

tests/test_format_doc.py regenerates it in memory and compares, so a change of the schema, of a
list or of a message that is not followed by a run of this script fails the suite.
"""

from __future__ import annotations

import argparse
import string
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from pvd_reporting.check.checks import checks, live_checks  # noqa: E402
from pvd_reporting.format.config import (  # noqa: E402
    COMMON_FILE,
    REGIONS_FOLDER,
    default_config,
    shipped_regions,
)
from pvd_reporting.format.french import fr_date, fr_int, fr_money  # noqa: E402
from pvd_reporting.format.issues import ISSUE_TYPES, SEVERITY_LABELS, Severity  # noqa: E402
from pvd_reporting.format.matching import norm  # noqa: E402
from pvd_reporting.format.schema import (  # noqa: E402
    DEPARTMENTS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    MILESTONES,
    SPACER_ROW,
    TOTAL_LABELS,
    VERSION_LABEL,
    VERSION_PROPERTY,
    Field,
    Kind,
    Schema,
    TableSheet,
    build_schema,
)
from pvd_reporting.outputs.workbook.readme import CONTROLS_PURPOSE, LISTS_PURPOSE, readme_lines  # noqa: E402
from pvd_reporting.outputs.workbook.writer import READY, layout_of  # noqa: E402
from pvd_reporting.read import values as parsing  # noqa: E402
from pvd_reporting.read.bounds import MAX_ROWS, MAX_SHEET_CELLS  # noqa: E402
from pvd_reporting.read.discover import WORKBOOK_SUFFIXES  # noqa: E402

# The reader's own table of which parser and which issue code go with each kind of field.
from pvd_reporting.read.grid import _PARSERS, HEADER_SEARCH_ROWS  # noqa: E402
from pvd_reporting.read.safety import MAX_FILE_BYTES, MAX_UNCOMPRESSED_BYTES  # noqa: E402

OUTPUT = REPO / "docs" / "format-1.md"
FORM_KEY = "territoire"

# What a kind of field holds, in the words of the people who fill the workbook.
KIND_LABELS: dict[Kind, str] = {
    Kind.TEXT: "texte",
    Kind.PVD_ID: "identifiant PVD",
    Kind.DEPARTMENT: "code de département",
    Kind.SIREN: "SIREN",
    Kind.PERIOD: "trimestre",
    Kind.DATE: "date",
    Kind.PERCENT: "pourcentage",
    Kind.AMOUNT: "montant (€)",
    Kind.INTEGER: "nombre entier",
    Kind.YESNO: "Oui/Non",
    Kind.CHOICE: "liste",
    Kind.INSEE: "code INSEE",
    Kind.EMAIL: "mail",
    Kind.PHONE: "téléphone",
}


@dataclass(frozen=True)
class Rule:
    """A check `validate` makes beyond reading each value, as check/checks/ declares it."""

    table: str  # "territoire" or a table key
    fields: tuple[str, ...]  # the fields the issue points at; () for a whole-sheet issue
    code: str
    when: str = ""
    severity: Severity | None = None  # when the rule overrides the catalogue's severity

    @property
    def field(self) -> str | None:
        return self.fields[0] if self.fields else None


def rules(schema: Schema) -> tuple[Rule, ...]:
    """The cross-field rules, sheet by sheet, from the rule objects (check/checks/)."""
    return tuple(Rule(c.sheet, c.fields, str(c.code), c.doc, c.severity)
                 for c in checks(schema) if c.doc is not None)


# Issues about the file or a sheet as a whole, raised before or while reading it.
WORKBOOK_CODES = (
    "unreadable-file", "encrypted-file", "file-too-large", "too-many-rows", "sheet-too-large", "unreadable-sheet", "missing-sheet",
    "renamed-sheet", "missing-column", "unknown-column", "unlabelled-value", "template-version",
    "macros", "external-links", "dde-link",
)
# Issues any table sheet may raise, whatever its columns.
TABLE_CODES = ("total-row",)
# Issues that only `consolidate` raises, when it sets workbooks side by side.
CONSOLIDATION_CODES = (
    "duplicate-submission", "period-mismatch", "other-department", "resent-previous",
    # Across quarters: a workbook compared with the same territory's at T-1.
    "milestone-date-changed", "milestone-unrealised", "action-removed", "comite-removed",
)


def severity_label(severity: Severity) -> str:
    return SEVERITY_LABELS[severity]


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    heads = list(headers)
    out = ["| " + " | ".join(heads) + " |", "| " + " | ".join("---" for _ in heads) + " |"]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return out


def code(text: str) -> str:
    return f"`{text}`"


def shown(values: Iterable[str]) -> str:
    return " · ".join(values)


def message_shape(template: str, known: dict[str, str]) -> str:
    """A catalogue message with what the rule fills in shown as « … »."""
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    if names == ["reason"] and template.strip() == "{reason}":
        return "(message propre au cas rencontré)"
    filled = {n: known.get(n, "…") for n in names}
    return template.format_map(filled)


def department_ranges() -> str:
    """`01–19, 21–95, 2A, 2B, 971–976` from the list of codes."""
    parts: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            parts.append(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}")
            run.clear()

    for dep in DEPARTMENTS:
        if run and dep.isdigit() and run[-1].isdigit() and int(dep) == int(run[-1]) + 1:
            run.append(dep)
        else:
            flush()
            run.append(dep)
    flush()
    return ", ".join(parts)


def allowed(fld: Field, schema: Schema) -> str:
    """What a field accepts, from the schema's lists or the parsers' own forms."""
    if fld.kind in (Kind.CHOICE, Kind.YESNO) and fld.choices:
        return shown(schema.lists[fld.choices])
    return {
        Kind.PVD_ID: "pvd-RR-DD-N (ex. pvd-44-67-1)",
        Kind.DEPARTMENT: department_ranges(),
        Kind.SIREN: "9 chiffres, clé de contrôle (Luhn) exacte",
        Kind.PERIOD: "AAAA-Tn (ex. 2025-T4)",
        Kind.DATE: "une date",
        Kind.PERCENT: "de 0 à 100 %",
        Kind.AMOUNT: "un montant en euros",
        Kind.INTEGER: "un nombre entier",
        Kind.INSEE: "5 caractères, chiffres ou 2A/2B suivis de 3 chiffres",
        Kind.EMAIL: "une adresse mail",
        Kind.PHONE: "10 chiffres, ou +33 suivi de 9 chiffres",
    }.get(fld.kind, "")


def reading_code(fld: Field) -> str:
    """The code of an unreadable value of this field, as the reader raises it."""
    if fld.kind is Kind.CHOICE:
        return "invalid-choice"
    return _PARSERS[fld.kind][1] or "invalid-value"


def field_codes(fld: Field, sheet_rules: list[Rule]) -> str:
    codes: list[str] = []
    if fld.required:
        codes.append("required-value")
    codes.append(reading_code(fld))
    for rule in sheet_rules:
        if fld.key in rule.fields:
            codes.append(rule.code)
    return ", ".join(code(c) for c in dict.fromkeys(codes))


def known_params(schema: Schema) -> dict[str, str]:
    config = schema.config
    return {
        "threshold": f"{config.cofinancing_min_etp:g}",
        "limit": fr_int(config.population_limit),
        "codes": ", ".join(c for c, _ in MILESTONES),
        "detail": "",
    }


def rules_table(sheet_rules: list[Rule], labels: dict[str, str], schema: Schema) -> list[str]:
    known = known_params(schema)
    rows = []
    for rule in sheet_rules:
        kind = ISSUE_TYPES[rule.code]
        severity = rule.severity or kind.severity
        where = labels[rule.field] if rule.field else "l'onglet entier"
        params = {**known, "column": labels.get(rule.field or "", "…")}
        rows.append([code(rule.code), severity_label(severity), where, rule.when or kind.title,
                     message_shape(kind.template, params)])
    return table(["Code", "Gravité", "Colonne", "Contrôle", "Message"], rows)


def columns_table(fields: tuple[Field, ...], sheet_rules: list[Rule], schema: Schema, first: str) -> list[str]:
    rows = [
        [f"**{f.label}**" if f.required else f.label, KIND_LABELS[f.kind], "oui" if f.required else "non",
         allowed(f, schema), field_codes(f, sheet_rules), f.help]
        for f in fields
    ]
    return table([first, "Type", "Obligatoire", "Valeurs permises", "Contrôles", "Aide"], rows)


# --- how values are read ------------------------------------------------------------------------


def fr_value(value: Any, kind: Kind) -> str:
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, (date, datetime)):
        return fr_date(value)
    if kind is Kind.AMOUNT:
        return fr_money(value)
    if kind is Kind.PERCENT:
        return f"{value:g}".replace(".", ",") + " %"
    return str(value)


def typed(value: Any) -> str:
    """How an example input is shown: a text in backquotes (its invisible spaces named), a cell value in words."""
    if isinstance(value, datetime):
        return f"une date Excel ({fr_date(value)})"
    if isinstance(value, str):
        spaces = [name for char, name in INVISIBLE_SPACES.items() if char in value]
        return code(value) + (f" ({', '.join(spaces)})" if spaces else "")
    return "le nombre " + str(value).replace(".", ",")


INVISIBLE_SPACES = {"\u00a0": "espaces insécables", "\u202f": "espaces fines insécables"}


# Inputs people type, given to the reader's own parsers: the doc shows what they give.
EXAMPLES: tuple[tuple[str, Kind, Callable[[Any], Any], tuple[Any, ...]], ...] = (
    ("Dates", Kind.DATE, parsing.parse_date,
     (datetime(2024, 3, 15), 45366, "15/03/2024", "15-03-2024", "15.03.24", "2024-03-15", "15 mars 2024",
      "1er avril 2024", "32/13/2024")),
    ("Montants", Kind.AMOUNT, parsing.parse_amount,
     (1200000, "1 200 000 €", "1\u00a0200\u00a0000,50", "1\u202f200\u202f000 €", "1.200.000,50",
      "1200000.50", "1,5 M€", "12 000 euros HT", "douze")),
    ("Pourcentages", Kind.PERCENT, parsing.parse_percent, (0.8, 80, "80 %", "80,5", 1.2, "120")),
    ("Oui/Non", Kind.YESNO, parsing.parse_yes_no, ("oui", "OUI", "x", "Non", "peut-être")),
    ("Périodes", Kind.PERIOD, parsing.parse_period, ("2025-T4", "2025-Q4", "T4 2025", "4e trimestre 2025",
                                                      "2025-T5")),
    ("Départements", Kind.DEPARTMENT, parsing.parse_department, ("67", 6, "2a", "971", "20")),
    ("Codes INSEE", Kind.INSEE, parsing.parse_insee, ("67437", 1234, "2A004", "6743")),
    ("SIREN", Kind.SIREN, parsing.parse_siren, ("200 067 783", 200067783, "200067784")),
    ("Téléphones", Kind.PHONE, parsing.parse_phone, ("03 88 12 34 56", "+33 3 88 12 34 56", 388123456,
                                                     "03 88 12 34")),
    ("Mails", Kind.EMAIL, parsing.parse_email, ("prenom.nom@exemple.fr", "mailto:prenom.nom@exemple.fr",
                                                "prenom.nom@")),
)


def example_rows(parse: Callable[[Any], Any], kind: Kind, inputs: tuple[Any, ...]) -> list[list[str]]:
    rows = []
    for value in inputs:
        try:
            result = fr_value(parse(value), kind)
        except ValueError as exc:
            result = f"{code(reading_code(Field('x', 'x', kind)))} : {exc}"
        rows.append([typed(value), result])
    return rows


def values_section(schema: Schema) -> list[str]:
    lines = [
        "## Comment les valeurs sont comprises",
        "",
        "Les valeurs sont lues comme on les tape. Les exemples ci-dessous sont passés, à la génération "
        "de ce document, par les fonctions de lecture de `pvd-report` : la colonne « Lu » est ce "
        "qu'elles en tirent, ou l'anomalie levée. Une valeur qui ne peut pas être comprise est "
        "toujours une anomalie avec sa cellule : jamais un plantage, jamais une valeur ignorée en silence.",
        "",
    ]
    for title, kind, parse, inputs in EXAMPLES:
        lines += [f"### {title}", ""]
        lines += table(["Saisi", "Lu"], example_rows(parse, kind, inputs))
        lines.append("")
    yes = ", ".join(code(v) for v in sorted(parsing._YES))
    no = ", ".join(code(v) for v in sorted(parsing._NO))
    lines += [
        f"Oui/Non : valent Oui {yes} ; valent Non {no} (sans tenir compte des majuscules ni des accents).",
        "",
        "Listes : une valeur est reconnue sans tenir compte des majuscules, des accents ni des espaces "
        f"répétés (« {norm(schema.lists['thematique'][0]).upper()} » vaut « {schema.lists['thematique'][0]} ») ; "
        "elle est reprise avec l'orthographe de la liste.",
        "",
        "Montants : les espaces entre milliers peuvent être ordinaires, insécables ou fines insécables ; "
        "le dernier séparateur (virgule ou point) est celui des décimales ; `€`, `euros`, `HT` et les "
        "multiplicateurs `k`, `M`, `Md` sont admis.",
        "",
        "Pourcentages : un nombre de 0 à 1 est une fraction (0,8 vaut 80 %) ; au-delà, un nombre entier est lu "
        "en points, et le rapport le dit (80 vaut 80 %, `percent-as-points`), un nombre à virgule reste une "
        "fraction (1,2, « 120 % » collé, est hors de 0 à 100 %, jamais 1,2 %).",
        "",
    ]
    return lines


# --- the whole document --------------------------------------------------------------------------


def rules_comments(config_text: str) -> dict[str, str]:
    """The French comment above each key of [rules] in the common configuration."""
    found: dict[str, str] = {}
    section = ""
    comment: list[str] = []
    for raw in config_text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section, comment = line.strip("[]"), []
        elif line.startswith("#"):
            comment.append(line.lstrip("# ").strip())
        elif "=" in line and section == "rules":
            found[line.split("=")[0].strip()] = " ".join(comment)
            comment = []
        else:
            comment = []
    return found


def _mb(n: int) -> str:
    return f"{n // (1024 * 1024)} Mo"


def render(schema: Schema) -> str:
    """The whole of docs/format-1.md."""
    config = schema.config
    all_rules = rules(schema)
    by_sheet: dict[str | None, list[Rule]] = {}
    for rule in all_rules:
        by_sheet.setdefault(rule.table, []).append(rule)
    form = schema.form
    headings = [label for style, label, _ in readme_lines(schema, None) if style == "heading"]
    purposes = {form.name: form.purpose, **{t.name: t.purpose for t in schema.tables},
                schema.lists_name: LISTS_PURPOSE, schema.controls_name: CONTROLS_PURPOSE,
                schema.readme_name: "Le mode d'emploi : " + ", ".join(h.lower() for h in headings)
                + f" ; et la version, en face du libellé « {VERSION_LABEL} »."}
    config_text = resources.files("pvd_reporting.format").joinpath(COMMON_FILE).read_text("utf-8")
    explained = rules_comments(config_text)
    total_words = ", ".join(f"« {w} »" for w in TOTAL_LABELS)

    out: list[str] = [
        f"# Le classeur de suivi PVD — format {schema.version}",
        "",
        "<!-- Généré par scripts/make_format_doc.py à partir du schéma, du catalogue des anomalies "
        "et de la configuration par défaut : ne pas modifier à la main. -->",
        "",
        "Ce document décrit le classeur que chaque territoire du programme Petites villes de demain "
        "remplit chaque trimestre : ses onglets dans l'ordre, leurs rubriques et colonnes, les valeurs "
        "permises et les contrôles que fait `pvd-report validate`, avec leurs codes et leur gravité. "
        "Il est produit à partir du schéma du format (`pvd_reporting/format/schema.py`), du catalogue "
        "des anomalies (`pvd_reporting/format/issues.py`) et de la configuration par défaut "
        f"(région {config.region_name}, `pvd_reporting/format/{REGIONS_FOLDER}/{shipped_regions()[config.region_name]}` "
        f"sur `pvd_reporting/format/{COMMON_FILE}`) : une région qui "
        "passe sa propre configuration (`--config`) peut avoir d'autres financeurs et d'autres listes.",
        "",
        f"« {SEVERITY_LABELS[Severity.ERROR]} » : le classeur est à corriger ; "
        f"« {SEVERITY_LABELS[Severity.WARNING]} » : à vérifier. Les rubriques et "
        "colonnes en **gras** sont obligatoires.",
        "",
        "## Lecture du classeur",
        "",
        "- Fichiers lus : " + ", ".join(code(s) for s in WORKBOOK_SUFFIXES) + ", faits avec "
        "`pvd-report template`, à la main ou par un autre outil, pourvu qu'ils suivent ce format.",
        "- Les noms d'onglets, les libellés et les en-têtes sont reconnus sans tenir compte des "
        "majuscules, des accents, des espaces répétés ni d'un deux-points final.",
        "- Les colonnes d'un tableau sont trouvées par leur en-tête, jamais par leur position ; la ligne "
        f"d'en-tête est la première, parmi les {HEADER_SEARCH_ROWS} premières lignes, qui porte les "
        "en-têtes du tableau. Une colonne à l'en-tête inconnu n'est pas lue (`unknown-column`), pas plus "
        "qu'une valeur sous aucun en-tête (`unlabelled-value`). Une colonne absente est une erreur si elle "
        "est obligatoire, un avertissement sinon (`missing-column`).",
        "- Les lignes vides sont ignorées. Une ligne dont l'une des deux premières cellules remplies dit "
        f"{total_words} (ou commence par « total ») est une ligne de total : elle est signalée "
        "(`total-row`) et n'est pas comptée.",
        f"- Les onglets en tableau du modèle ont leurs en-têtes en ligne {HEADER_ROW + 1}, puis une ligne vide "
        f"et masquée (ligne {SPACER_ROW + 1}, l'intercalaire), puis les données à partir de la ligne "
        f"{FIRST_DATA_ROW + 1}. L'intercalaire est déverrouillé et prend le format des colonnes : une ligne "
        f"insérée au-dessus de la ligne {FIRST_DATA_ROW + 1} prend son format (déverrouillée, montants, dates "
        "et pourcentages à la française), non celui des en-têtes ; les listes, les contrôles de saisie, les "
        f"couleurs et les comptes de l'onglet `{schema.controls_name}` commencent tous à l'intercalaire, de sorte "
        "que cette ligne est contrôlée comme les autres. Le lecteur n'en a pas besoin : un tableau sans "
        "intercalaire (classeur plus ancien, fait à la main ou par un autre outil) se lit de la même façon, "
        "et chaque anomalie nomme la cellule où est la valeur dans le fichier lu.",
        f"- Limites : un fichier de plus de {_mb(MAX_FILE_BYTES)}, ou dont le contenu décompressé dépasse "
        f"{_mb(MAX_UNCOMPRESSED_BYTES)}, est refusé (`file-too-large`) ; un onglet de plus de "
        f"{fr_int(MAX_ROWS)} lignes n'est pas lu (`too-many-rows`), ni un onglet dont la grille dépasse "
        f"{fr_int(MAX_SHEET_CELLS)} cellules (`sheet-too-large`). Un classeur protégé par mot de passe "
        "est signalé (`encrypted-file`) ; les macros, les liaisons externes et DDE sont signalées "
        "(`macros`, `external-links`, `dde-link`), jamais exécutées ni reprises. Toutes les limites et ce "
        "que dit chaque refus : [securite.md](securite.md).",
        "",
        "## Version du format",
        "",
        f"La version du format est inscrite deux fois : dans l'onglet `{schema.readme_name}`, dans la "
        f"cellule à droite du libellé « {VERSION_LABEL} », et dans la propriété personnalisée du "
        f"classeur `{VERSION_PROPERTY}` (dans les propriétés du document). Version actuelle : "
        f"**{schema.version}**. Un classeur sans version est lu comme un classeur de la version actuelle, "
        f"avec un avertissement ; un classeur d'une autre version majeure est refusé (`template-version`).",
        "",
        "## Les onglets, dans l'ordre",
        "",
    ]
    out += table(["", "Onglet", "Rôle"],
                 [[str(i), code(name), purposes[name]] for i, name in enumerate(schema.sheet_names, start=1)])
    out.append("")

    number = iter(range(1, len(schema.sheet_names) + 1))
    out += [f"## {next(number)}. {schema.readme_name}", "", purposes[schema.readme_name],
            "Cet onglet n'est pas lu, sauf la version.", ""]
    layout = layout_of(schema)
    out += [f"## {next(number)}. {schema.controls_name}", "", CONTROLS_PURPOSE, "",
            "Depuis la version 1.1. Cet onglet n'est pas lu. En tête, le nombre d'erreurs à corriger, celui "
            f"des points à vérifier (les avertissements) et une phrase (« {READY} » quand il n'y a aucune "
            "erreur, avec « (N points à vérifier) » s'il y a des avertissements : le classeur est prêt "
            "exactement quand `pvd-report validate` n'y trouve aucune erreur) ; puis une ligne par contrôle, "
            "recalculée à chaque saisie sans macro, avec les mêmes résultats dans Excel et dans LibreOffice. "
            "Une case qui enfreint un contrôle se colore dans son onglet : en rouge une erreur, en orange un "
            "avertissement. Chaque compte est celui des anomalies de ce code que trouve `pvd-report validate` "
            "dans le même onglet ; une erreur de formule tapée dans une case est comptée, jamais propagée "
            "aux totaux. Un texte collé là où un nombre, une date ou un pourcentage est attendu est compté "
            "même quand `validate` saurait le lire (« 1 200 000 € ») : retapez-le comme un nombre.", ""]
    out += table(["Contrôle", "Code", "Gravité", "Où"],
                 [[c.label, code(c.code), severity_label(c.level), c.where(layout)] for c in live_checks(schema)])
    out.append("")

    form_rules = by_sheet.get(FORM_KEY, [])
    out += [f"## {next(number)}. {form.name}", "", form.purpose, "",
            "Une fiche : les libellés en colonne A, les valeurs en colonne B, l'aide en colonne C. "
            "Les libellés sont cherchés dans toute la colonne A, dans n'importe quel ordre.", ""]
    out += columns_table(form.fields, form_rules, schema, "Rubrique (colonne A)")
    out.append("")
    if form_rules:
        out += ["Contrôles de la fiche :", ""]
        out += rules_table(form_rules, {f.key: f.label for f in form.fields}, schema)
        out.append("")

    for tbl in schema.tables:
        out += table_section(tbl, next(number), by_sheet.get(tbl.key, []), schema)

    out += [f"## {next(number)}. {schema.lists_name}", "", LISTS_PURPOSE,
            "Une colonne par liste, son nom en première ligne ; les menus déroulants du modèle y renvoient. "
            "La configuration régionale peut ajouter des valeurs ; celles que les contrôles utilisent "
            "restent obligatoires.", ""]
    out += table(["Liste", "Valeurs", "Utilisée par"], list_rows(schema))
    out.append("")

    out += values_section(schema)

    out += ["## Paramètres des contrôles", "",
            f"Ils viennent de la configuration (`[rules]`, ici celle par défaut, {config.region_name}) :", ""]
    out += table(["Clé", "Valeur", "Rôle"],
                 [[code(key), f"{getattr(config, key):g}", explained.get(key, "")]
                  for key in ("ort_deadline_months", "at_risk_days", "cofinancing_min_etp", "population_limit")])
    out += ["", "Financeurs (une colonne de l'onglet Engagements chacun, dans cet ordre) : "
            + shown(config.financers) + ".", ""]

    out += ["## Catalogue des anomalies", "",
            "Chaque anomalie a un code stable (celui des sorties JSON et CSV de `pvd-report validate`), "
            "une gravité et un message en français ; « … » est remplacé par la valeur ou le détail du cas.",
            ""]
    out += table(["Code", "Gravité", "Titre", "Message", "Où"], catalogue_rows(schema, all_rules))
    out.append("")
    return "\n".join(out)


def table_section(tbl: TableSheet, number: int, sheet_rules: list[Rule], schema: Schema) -> list[str]:
    out = [f"## {number}. {tbl.name}", "", tbl.purpose, ""]
    notes = ["Un tableau : une ligne d'en-têtes, puis une ligne par élément."]
    if tbl.min_rows:
        notes.append(f"Au moins {tbl.min_rows} ligne{'s' if tbl.min_rows > 1 else ''} (`required-value`).")
    if tbl.fixed_rows:
        notes.append(f"Ses {len(tbl.fixed_rows)} lignes sont fixes : ne renseigner que les dates et le commentaire.")
    elif tbl.blank_rows:
        notes.append(f"Le modèle prépare {tbl.blank_rows} lignes ; on peut en insérer d'autres.")
    out += [" ".join(notes), ""]
    if tbl.fixed_rows:
        code_label, label_label = tbl.column("code").label, tbl.column("label").label
        out += table([code_label, label_label], [[c, label] for c, label in tbl.fixed_rows])
        out.append("")
    out += columns_table(tbl.columns, sheet_rules, schema, "Colonne")
    out.append("")
    if sheet_rules:
        out += ["Contrôles de l'onglet :", ""]
        out += rules_table(sheet_rules, {c.key: c.label for c in tbl.columns}, schema)
        out.append("")
    return out


def list_rows(schema: Schema) -> list[list[str]]:
    sheets = [(schema.form.name, schema.form.fields), *((t.name, t.columns) for t in schema.tables)]
    rows = []
    for key, values in schema.lists.items():
        users = [f"{name} › {f.label}" for name, fields in sheets for f in fields if f.choices == key]
        rows.append([code(key), shown(values), ", ".join(users)])
    return rows


def catalogue_rows(schema: Schema, all_rules: tuple[Rule, ...]) -> list[list[str]]:
    names = {FORM_KEY: schema.form.name, **{t.key: t.name for t in schema.tables}}
    places: dict[str, list[str]] = {}
    fields = [(FORM_KEY, schema.form.fields), *((t.key, t.columns) for t in schema.tables)]
    for key, flds in fields:
        for f in flds:
            for c in (("required-value",) if f.required else ()) + (reading_code(f),):
                places.setdefault(c, []).append(names[key])
    for rule in all_rules:
        places.setdefault(rule.code, []).append(names[rule.table] if rule.table else "classeur")
    for c in WORKBOOK_CODES:
        places.setdefault(c, []).append("classeur")
    for c in TABLE_CODES:
        places.setdefault(c, []).extend(t.name for t in schema.tables)
    for c in CONSOLIDATION_CODES:
        places.setdefault(c, []).append("consolidation")
    known = known_params(schema)
    rows = []
    for kind in ISSUE_TYPES.values():
        where = ", ".join(dict.fromkeys(places.get(kind.code, [])))
        rows.append([code(kind.code), severity_label(kind.severity), kind.title,
                     message_shape(kind.template, known), where])
    return rows


def placed_codes(schema: Schema) -> set[str]:
    """Every code the document attaches to a place (for the test: none is left unexplained)."""
    found = {r.code for r in rules(schema)} | set(WORKBOOK_CODES) | set(TABLE_CODES) | set(CONSOLIDATION_CODES)
    for flds in (schema.form.fields, *(t.columns for t in schema.tables)):
        for f in flds:
            found.add(reading_code(f))
            if f.required:
                found.add("required-value")
    return found


# --- docs/controles.md: its table between two markers, the prose around it written by hand ------

CONTROLS_DOC = REPO / "docs" / "controles.md"
BLOCK_START, BLOCK_END = "<!-- controles:debut -->\n", "<!-- controles:fin -->"


def controls_block(schema: Schema) -> str:
    """The table of the live checks, one row per `Contrôles` row."""
    layout = layout_of(schema)
    rows = [[c.label, code(c.code), "erreur (rouge)" if c.level == Severity.ERROR else "avertissement (orange)",
             c.where(layout)] for c in live_checks(schema)]
    return "\n".join(table(["Contrôle", "Code", "Gravité", "Où"], rows)) + "\n"


def render_controls(schema: Schema, current: str) -> str:
    """docs/controles.md with its table regenerated."""
    head, rest = current.split(BLOCK_START, 1)
    tail = rest.split(BLOCK_END, 1)[1]
    return head + BLOCK_START + controls_block(schema) + BLOCK_END + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed file is not up to date")
    args = parser.parse_args(argv)
    schema = build_schema(default_config())
    outputs = {OUTPUT: render(schema),
               CONTROLS_DOC: render_controls(schema, CONTROLS_DOC.read_text(encoding="utf-8"))}
    stale = [path for path, text in outputs.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(REPO)} n'est pas à jour : python scripts/make_format_doc.py", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(outputs[path], encoding="utf-8")
        print(f"Écrit : {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
