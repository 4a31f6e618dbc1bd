"""The French text of the `Lisez-moi` sheet, built from the schema so it never drifts from it."""

from __future__ import annotations

from datetime import date, timedelta
from email.utils import parseaddr

from pvd_reporting.format.config import Config
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.periods import last_day, parse_label
from pvd_reporting.format.schema import (
    CARRIED_LABEL,
    ENGAGEMENTS,
    FIRST_DATA_ROW,
    JALONS,
    SPACER_ROW,
    VERSION_LABEL,
    Kind,
    Schema,
)

# (style, label in column A, text in column B); style is "title", "heading", "pair" or "text".
Line = tuple[str, str, str]

LISTS_PURPOSE = "Les listes des menus déroulants. Onglet masqué : ne le modifiez pas."
CONTROLS_PURPOSE = ("Les contrôles du classeur, recalculés à chaque saisie : les erreurs à corriger et les "
                    "points à vérifier, règle par règle, et l'onglet et la colonne où les trouver.")
SEND_BY_LABEL = "À envoyer avant le"
ANOMALIES_NAME = "Anomalies"  # the sheet of a feedback workbook listing every issue
REFERENT_LABEL = "Adresse du référent"
REFERENT_NAME_LABEL = "Référent"


def referent(config: Config) -> tuple[str, str] | None:
    """(name, mail) of the referent from `[relances]`: the sender's name (« Claire Dupont
    <pvd@…> »), else the signature's first line; None without a sender's address."""
    name, address = parseaddr(config.reminder_sender)
    if "@" not in address:
        return None
    signature = config.reminder_signature.strip().splitlines()
    return (name.strip() or (signature[0].strip() if signature else "")), address


def send_by(schema: Schema, period: str | None) -> date | None:
    """The date limite of a quarter: `[relances] delay_days` after its last day."""
    quarter = parse_label(period) if period else None
    if quarter is None:
        return None
    return last_day(quarter) + timedelta(days=schema.config.reminder_delay_days)


def readme_lines(schema: Schema, period: str | None, carried_from: str | None = None, *,
                 feedback: bool = False) -> list[Line]:
    """Every line of the Lisez-moi sheet, in order; a carried-forward workbook says which quarter
    it was made from and what to bring up to date."""
    form = schema.form
    period_label = form.field("period").label
    updated_label = form.field("updated_on").label
    jalons = schema.table(JALONS)
    lines: list[Line] = [
        ("title", "Petites villes de demain — suivi trimestriel", ""),
        ("text", "", f"Classeur de suivi d'un territoire du programme, région {schema.config.region_name}."),
        ("pair", VERSION_LABEL, schema.version),
    ]
    if period:
        lines.append(("pair", period_label, period))
    deadline = send_by(schema, period)
    if deadline is not None:
        lines.append(("pair", SEND_BY_LABEL, fr_date(deadline)))
    found = referent(schema.config)
    if found is not None:
        if found[0]:
            lines.append(("pair", REFERENT_NAME_LABEL, found[0]))
        lines.append(("pair", REFERENT_LABEL, found[1]))
    if feedback:
        lines += [
            ("pair", ANOMALIES_NAME, "Ce classeur vous est renvoyé par le référent avec ses remarques : l'onglet "
                                     f"{ANOMALIES_NAME} les liste toutes, chacune avec sa cellule (un lien y mène). "
                                     "Une case signalée est colorée (rouge : erreur, orange : point à vérifier) et "
                                     "porte le message en commentaire ; corrigée, elle perd sa couleur. L'onglet "
                                     f"{schema.controls_name} compte ce qui reste à corriger."),
        ]
    if carried_from:
        engagements = schema.table(ENGAGEMENTS)
        lines += [
            ("pair", CARRIED_LABEL, carried_from),
            ("text", "", f"Ce classeur reprend celui du trimestre {carried_from} : mettez à jour ce qui a "
                         f"changé depuis. Une fois la {updated_label.lower()} renseignée, l'onglet "
                         f"{schema.controls_name} compte en points à vérifier les actions de l'onglet "
                         f"{engagements.name} encore engagées ou en cours dont la date de fin est passée, "
                         f"et les jalons dont la date prévue est passée sans date de réalisation."),
        ]
    lines += [
        ("text", "", ""),
        ("heading", "Les onglets", ""),
        ("pair", schema.controls_name, CONTROLS_PURPOSE),
        ("pair", form.name, form.purpose),
        *(("pair", t.name, t.purpose) for t in schema.tables),
        ("pair", schema.lists_name, LISTS_PURPOSE),
        ("text", "", ""),
        ("heading", "Comment le remplir", ""),
        ("text", "", f"Commencez par l'onglet {form.name} : une rubrique par ligne, la valeur en "
                     "colonne B, l'aide en colonne C. Les rubriques en gras sont obligatoires."),
        ("text", "", "Dates : jj/mm/aaaa (par exemple 15/03/2025)."),
        ("text", "", "Montants : en euros hors taxes, en chiffres (1200000 s'affiche 1 200 000 €)."),
        ("text", "", "Pourcentages : tapez 80 ou 80 % (la case affiche 80 %)."),
        ("text", "", "Listes : choisissez la valeur dans le menu déroulant de la cellule ; un message "
                     "d'aide s'affiche quand la cellule est sélectionnée."),
        ("text", "", "Une ligne par élément dans les tableaux ; vous pouvez insérer des lignes, en haut, au "
                     "milieu ou à la fin d'un tableau (elles sont contrôlées comme les autres), trier et filtrer. "
                     f"Sous les en-têtes, la ligne {SPACER_ROW + 1} est vide et masquée : ainsi une ligne insérée "
                     f"au-dessus de la ligne {FIRST_DATA_ROW + 1} est modifiable et contrôlée. Laissez-la masquée. "
                     "Ne renommez pas les onglets et ne modifiez pas les en-têtes."),
        ("text", "", f"Onglet {jalons.name} : les {len(jalons.fixed_rows)} jalons sont fixes ; "
                     "renseignez seulement leurs dates et un commentaire."),
        ("text", "", "Les cellules à remplir sont déverrouillées ; la protection des onglets n'a pas "
                     "de mot de passe, mais gardez la structure du modèle."),
        ("text", "", f"Indiquez la {updated_label.lower()} à chaque envoi."),
        ("text", "", ""),
        ("heading", "Avant l'envoi", ""),
        ("text", "", "Le classeur se contrôle lui-même pendant la saisie : une case qui enfreint une règle "
                     "se colore en rouge (erreur à corriger) ou en orange (point à vérifier) ; ce qui n'est "
                     "pas une date dans une case de date, un montant négatif ou un pourcentage hors de "
                     "0 à 100 % est refusé dès la saisie."),
        ("text", "", f"Ouvrez l'onglet {schema.controls_name} : il compte les erreurs à corriger et, à part, "
                     "les points à vérifier, règle par règle, avec l'onglet et la colonne où les trouver. "
                     "Quand il indique « Le classeur est prêt à être envoyé », il n'y a plus d'erreur : vous "
                     "pouvez l'envoyer (vérifiez d'abord les points signalés, s'il y en a)."),
        ("text", "", ""),
        ("heading", "À qui l'envoyer", ""),
        ("text", "", "Renvoyez le classeur rempli, au format .xlsx (ou .ods), au référent du programme "
                     f"de la région {schema.config.region_name} qui vous l'a adressé (préfecture, DDT ou "
                     "SGAR)"
                     + (f", à l'adresse {found[1]}" if found is not None else "")
                     + (f", avant le {fr_date(deadline)}." if deadline else ", à la date qu'il vous a indiquée.")),
        ("text", "", f"Une question sur une règle, un point de l'onglet {schema.controls_name} que vous ne "
                     "savez pas corriger : demandez à ce référent ; il vous renverra au besoin le classeur "
                     "avec chaque point signalé sur sa case."),
    ]
    return lines


def input_title(label: str) -> str:
    """Excel refuses input-message titles over 32 characters."""
    return label if len(label) <= 32 else label[:31] + "…"


def kind_hint(kind: Kind) -> str:
    """Short error text shown when a typed value breaks a cell's validation."""
    return {
        Kind.DATE: "Saisissez une date jj/mm/aaaa.",
        Kind.AMOUNT: "Saisissez un montant positif en euros.",
        Kind.PERCENT: "Saisissez un pourcentage de 0 à 100 %, par exemple 80 %.",
        Kind.INTEGER: "Saisissez un nombre entier positif.",
        Kind.INSEE: "Un code INSEE a 5 caractères (ex. 67437 ou 2A004).",
        Kind.SIREN: "Un SIREN a 9 chiffres.",
        Kind.PVD_ID: "Un identifiant PVD s'écrit pvd-44-67-1 (région, département, numéro).",
        Kind.PERIOD: "Une période s'écrit 2026-T1 (l'année, T, le trimestre).",
        Kind.DEPARTMENT: "Un département s'écrit avec son code : 67, 2A, 971…",
        Kind.EMAIL: "Une seule adresse mail par case, sans espace ni « ; » (prenom.nom@exemple.fr).",
        Kind.PHONE: "Un téléphone a 10 chiffres, ou +33 suivi de 9 chiffres.",
    }.get(kind, "Choisissez une valeur dans la liste déroulante.")
