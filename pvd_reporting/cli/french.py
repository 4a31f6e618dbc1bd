"""French for click's own words (usage, help, usage errors): users read French (README).

click looks its messages up through the module-level `_`/`ngettext` names at call time, so
rebinding those names in click's modules is enough; unknown messages stay as they are.
"""

from __future__ import annotations

import importlib

import click.types

_FR = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Voir « {command} {option} » pour l'aide.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing command.": "Commande manquante.",
    "Missing {param_type}": "{param_type} manquant",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Aborted!": "Interrompu.",
    "default: {default}": "par défaut : {default}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} introuvable.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} n'est pas lisible.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} n'est pas accessible en écriture.",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir {filename!r} : {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un nombre valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
}
_FR_PLURAL = {
    "Got unexpected extra argument ({args})": ("Argument en trop : {args}", "Arguments en trop : {args}"),
    "Option {name!r} requires an argument.": (
        "L'option {name!r} attend une valeur.", "L'option {name!r} attend {nargs} valeurs."),
    "{value!r} is not {choice}.": ("{value!r} n'est pas {choice}.", "{value!r} n'est pas parmi {choices}."),
    "Missing argument": ("Argument manquant", "Arguments manquants"),
}


def _gettext(message: str) -> str:
    return _FR.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    pair = _FR_PLURAL.get(singular)
    if pair:
        return pair[0] if n == 1 else pair[1]
    return singular if n == 1 else plural


def install() -> None:
    # Metavars shown in --help (TEXT, INTEGER…) come from the type names.
    click.types.STRING.name = "texte"
    click.types.INT.name = "entier"
    click.types.IntRange.name = "entier"
    click.types.FLOAT.name = "nombre"
    for name in ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui", "utils"):
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]
