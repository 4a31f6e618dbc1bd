"""Regional configuration (README, Configuration): what every région shares (`common.toml`) under
one file per région (`regions/`); the default is Grand Est's file, a user's `--config` overlays it."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pvd_reporting.errors import ConfigError
from pvd_reporting.format.matching import norm

# List values that rules of docs/format-1.md refer to: a configuration must keep them (it may add others).
REQUIRED_VALUES: dict[str, tuple[str, ...]] = {
    "oui_non": ("Oui", "Non"),
    "cofinancement": ("Banque des Territoires", "Banque des Territoires et ANAH"),
    "role_commune": ("Ville PVD",),
    # Planned (2), engaged (3), abandoned (1): the figures of the regional view depend on each.
    "statut_action": ("Envisagée", "En préparation", "Engagée", "En cours", "Terminée", "Abandonnée"),
    "instance": ("Comité de projet",),
    # The chef de projet is chased by the reminders, the élu référent copied.
    "role_contact": ("Chef de projet PVD", "Élu référent"),
}
LIST_KEYS = (
    "oui_non", "cofinancement", "presidence", "opah_ru", "role_commune", "thematique",
    "statut_action", "instance", "type_besoin", "partenaire", "statut_besoin", "role_contact",
)
RULE_KEYS: dict[str, type | tuple[type, ...]] = {
    "ort_deadline_months": int,
    "at_risk_days": int,
    "cofinancing_min_etp": (int, float),
    "population_limit": int,
}
# [relances]: the reminders `consolidate` drafts (README, Le cycle trimestriel).
REMINDER_KEYS = ("sender", "delay_days", "signature", "departements")
# [relances.departements."54"]: the departmental referent's own sender and signature, used by a
# `--departement` run for that département's drafts.
DEPARTMENT_REMINDER_KEYS = ("sender", "signature")
# Shipped configurations, one per region (`--region NOM`), each overlaid on the common settings.
REGIONS_FOLDER = "regions"
COMMON_FILE = "common.toml"
# The convention's région: its file is the default configuration, there is no second copy.
DEFAULT_REGION = "Grand Est"
# The national categories a financer column belongs to, so that regions whose columns are named
# differently (« Région Bretagne », « Collectivité de Corse ») add up in `pvd-report national`.
CATEGORIES_FILE = "national_categories.toml"


def _shipped(*parts: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("pvd_reporting.format").joinpath(*parts).read_text("utf-8"))


def _str_list(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"Configuration : « {key} » doit être une liste non vide de textes.")
    items = tuple(v.strip() for v in value)
    seen: set[str] = set()
    for item in items:
        if norm(item) in seen:
            raise ConfigError(f"Configuration : « {key} » contient deux fois « {item} ».")
        seen.add(norm(item))
    return items


def _national_categories() -> tuple[str, ...]:
    return _str_list(_shipped(CATEGORIES_FILE).get("categories"), f"categories ({CATEGORIES_FILE})")


# Read once, at import: the national outputs lay their columns out in this order.
NATIONAL_CATEGORIES = _national_categories()


@dataclass(frozen=True)
class Config:
    region_name: str
    region_code: str
    financers: tuple[str, ...]
    lists: dict[str, tuple[str, ...]]
    # One of NATIONAL_CATEGORIES per financer, in the same order.
    financer_categories: tuple[str, ...] = ()
    ort_deadline_months: int = 18
    at_risk_days: int = 90
    cofinancing_min_etp: float = 80.0
    population_limit: int = 20000
    # Reminders: the drafts' sender (blank: the mail program fills it), the date limite as days
    # after the period's last day, the signature under every body.
    reminder_sender: str = ""
    reminder_delay_days: int = 30
    reminder_signature: str = ""
    # [note] service: the issuing service named on the préfet's note (blank: the région's SGAR).
    note_service: str = ""
    # By département code: (sender, signature) of its referent; either may be blank.
    reminder_departments: dict[str, tuple[str, str]] = field(default_factory=dict)
    source: str = "défaut (Grand Est)"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """Stable hash of the settings that change how a workbook reads, for cache keys."""
        reading = {k: v for k, v in self.raw.items() if k not in ("relances", "note")}
        blob = json.dumps(reading, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def full_fingerprint(self) -> str:
        """Stable hash of every setting, `[relances]` included: a workbook written for a territory
        (its Lisez-moi names the referent and the date limite) depends on them all."""
        blob = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def category(self, financer: str) -> str:
        """The national category of one of this configuration's financer columns (« Région
        Bretagne » -> « Région »)."""
        for name, category in zip(self.financers, self.financer_categories, strict=True):
            if name == financer:
                return category
        raise KeyError(f"no financer column {financer!r} in the configuration")


@lru_cache(maxsize=1)
def known_labels() -> dict[str, str]:
    """The financer labels whose category goes without saying (compared by `norm`): each national
    category's own name, and each label a shipped région's file declares with its category. No
    other name is guessed: « Fonds vert » could be État or Autres."""
    out = {norm(c): c for c in NATIONAL_CATEGORIES}
    for file in shipped_regions().values():
        for item in _shipped(REGIONS_FOLDER, file).get("financers", ()):
            if isinstance(item, dict) and item.get("category") in NATIONAL_CATEGORIES:
                out.setdefault(norm(item.get("name")), item["category"])
    return out


def _financers(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`financers`: `{ name = "…", category = "…" }` tables, or a known label alone; (names,
    categories)."""
    if not isinstance(value, list) or not value:
        raise ConfigError("Configuration : « financers » doit être une liste non vide de textes.")
    allowed = ", ".join(f"« {c} »" for c in NATIONAL_CATEGORIES)
    names: list[Any] = []
    categories: list[str] = []
    for item in value:
        if isinstance(item, dict):
            extra = set(item) - {"name", "category"}
            if extra:
                raise ConfigError(f"Configuration : clé inconnue « financers.{sorted(extra)[0]} » "
                                  "(attendues : name, category).")
            name, category = item.get("name"), item.get("category")
            if category not in NATIONAL_CATEGORIES:
                raise ConfigError(f"Configuration : « financers.category » de la colonne « {name} » doit être "
                                  f"l'une des catégories nationales : {allowed}.")
            names.append(name)
            categories.append(category)
        elif isinstance(item, str) and item.strip():
            category = known_labels().get(norm(item))
            if category is None:
                raise ConfigError(
                    f"Configuration : la colonne de financeur « {item.strip()} » n'a pas de catégorie nationale. "
                    f"Écrivez-la {{ name = \"{item.strip()}\", category = \"…\" }} avec l'une des catégories : "
                    f"{allowed}.")
            names.append(item)
            categories.append(category)
        else:
            names.append(item)  # refused below, as any list that is not of texts
            categories.append("")
    return _str_list(names, "financers"), tuple(categories)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def config_from_dict(raw: dict[str, Any], source: str) -> Config:
    region = raw.get("region")
    if not isinstance(region, dict):
        raise ConfigError("Configuration : la section [region] est absente.")
    for key in region:
        if key not in ("name", "code", "aliases"):
            raise ConfigError(
                f"Configuration : clé inconnue « region.{key} » (attendues : name, code, aliases). "
                "Les clés de premier niveau comme « financers » se placent avant toute section [..]."
            )
    name, code = region.get("name"), region.get("code")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("Configuration : « region.name » doit être le nom de la région.")
    if isinstance(code, int):
        code = f"{code:02d}"
    if not isinstance(code, str) or not code.strip().isdigit():
        raise ConfigError("Configuration : « region.code » doit être le code INSEE de la région (ex. \"44\").")
    rules = raw.get("rules", {})
    if not isinstance(rules, dict):
        raise ConfigError("Configuration : [rules] doit être une section.")
    for key in rules:
        if key not in RULE_KEYS:
            raise ConfigError(f"Configuration : clé inconnue « rules.{key} » (attendues : {', '.join(RULE_KEYS)}).")
    values: dict[str, Any] = {}
    for key, kinds in RULE_KEYS.items():
        value = rules.get(key)
        valid = isinstance(value, kinds) and not isinstance(value, bool)
        if not valid or float(value) < 0:  # type: ignore[arg-type]
            raise ConfigError(f"Configuration : « rules.{key} » doit être un nombre positif.")
        values[key] = value
    if not 0 <= values["cofinancing_min_etp"] <= 100:
        raise ConfigError("Configuration : « rules.cofinancing_min_etp » est un pourcentage entre 0 et 100.")
    financers, categories = _financers(raw.get("financers"))
    lists_raw = raw.get("lists")
    if not isinstance(lists_raw, dict):
        raise ConfigError("Configuration : la section [lists] est absente.")
    for key in lists_raw:
        if key not in LIST_KEYS:
            raise ConfigError(f"Configuration : liste inconnue « lists.{key} » (attendues : {', '.join(LIST_KEYS)}).")
    lists = {key: _str_list(lists_raw.get(key), f"lists.{key}") for key in LIST_KEYS}
    for key, needed in REQUIRED_VALUES.items():
        have = {norm(v) for v in lists[key]}
        for value in needed:
            if norm(value) not in have:
                raise ConfigError(
                    f"Configuration : « lists.{key} » doit contenir « {value} », utilisé par les contrôles."
                )
    unknown = set(raw) - {"region", "rules", "financers", "lists", "relances", "note"}
    if unknown:
        raise ConfigError(f"Configuration : section inconnue « {sorted(unknown)[0]} ».")
    sender, delay, signature = _reminders(raw.get("relances", {}))
    departments = _department_reminders(raw.get("relances", {}).get("departements", {}))
    return Config(
        region_name=name.strip(),
        region_code=code.strip(),
        financers=financers,
        lists=lists,
        financer_categories=categories,
        ort_deadline_months=int(values["ort_deadline_months"]),
        at_risk_days=int(values["at_risk_days"]),
        cofinancing_min_etp=float(values["cofinancing_min_etp"]),
        population_limit=int(values["population_limit"]),
        reminder_sender=sender,
        reminder_delay_days=delay,
        reminder_signature=signature,
        note_service=_note_service(raw.get("note", {})),
        reminder_departments=departments,
        source=source,
        raw=raw,
    )


def _note_service(section: Any) -> str:
    if not isinstance(section, dict):
        raise ConfigError("Configuration : [note] doit être une section.")
    for key in section:
        if key != "service":
            raise ConfigError(f"Configuration : clé inconnue « note.{key} » (attendue : service).")
    service = section.get("service", "")
    if not isinstance(service, str):
        raise ConfigError("Configuration : « note.service » doit être un texte.")
    return service.strip()


def _reminders(section: Any) -> tuple[str, int, str]:
    if not isinstance(section, dict):
        raise ConfigError("Configuration : [relances] doit être une section.")
    for key in section:
        if key not in REMINDER_KEYS:
            raise ConfigError(
                f"Configuration : clé inconnue « relances.{key} » (attendues : {', '.join(REMINDER_KEYS)}).")
    sender, delay, signature = section.get("sender", ""), section.get("delay_days", 30), section.get("signature", "")
    _check_sender(sender, "relances.sender")
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise ConfigError("Configuration : « relances.delay_days » doit être un nombre de jours positif.")
    if not isinstance(signature, str):
        raise ConfigError("Configuration : « relances.signature » doit être un texte.")
    return sender.strip(), delay, signature.strip()


def _check_sender(sender: Any, where: str) -> None:
    if not isinstance(sender, str) or (sender.strip() and "@" not in sender):
        raise ConfigError(f"Configuration : « {where} » doit être une adresse mail "
                          "(ex. \"Référent PVD <pvd@grand-est.gouv.fr>\"), ou vide.")


def _department_reminders(section: Any) -> dict[str, tuple[str, str]]:
    """[relances.departements."54"] sender = "…", signature = "…"."""
    if not isinstance(section, dict):
        raise ConfigError("Configuration : [relances.departements] doit être une section, "
                          "une sous-section par département (ex. [relances.departements.\"54\"]).")
    out: dict[str, tuple[str, str]] = {}
    for code, values in section.items():
        where = f"relances.departements.{code}"
        if not isinstance(values, dict):
            raise ConfigError(f"Configuration : [{where}] doit être une section (sender, signature).")
        for key in values:
            if key not in DEPARTMENT_REMINDER_KEYS:
                raise ConfigError(f"Configuration : clé inconnue « {where}.{key} » "
                                  f"(attendues : {', '.join(DEPARTMENT_REMINDER_KEYS)}).")
        sender, signature = values.get("sender", ""), values.get("signature", "")
        _check_sender(sender, f"{where}.sender")
        if not isinstance(signature, str):
            raise ConfigError(f"Configuration : « {where}.signature » doit être un texte.")
        out[str(code).strip().upper()] = (sender.strip(), signature.strip())
    return out


def default_config() -> Config:
    return config_from_dict(_region_raw(DEFAULT_REGION), f"défaut ({DEFAULT_REGION})")


@lru_cache(maxsize=1)
def shipped_regions() -> dict[str, str]:
    """Every shipped region configuration: région name -> file name, in the files' order."""
    out: dict[str, str] = {}
    for entry in sorted(resources.files("pvd_reporting.format").joinpath(REGIONS_FOLDER).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            name = _shipped(REGIONS_FOLDER, entry.name)["region"]["name"]
            out[name] = entry.name
    return out


def region_key(name: str) -> str:
    """A région's name compared without case, accents, hyphens or apostrophes (straight or
    typographic)."""
    return norm(str(name).replace("-", " ").replace("'", " ").replace("\u2019", " "))


@lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    """Every way a shipped région is written -> its name: the name, its INSEE code, and the
    `aliases` of its configuration (« PACA », « Région Sud », « Réunion »)."""
    out: dict[str, str] = {}
    for name, file in shipped_regions().items():
        region = _shipped(REGIONS_FOLDER, file)["region"]
        for spelling in (name, str(region["code"]), *region.get("aliases", ())):
            out[region_key(spelling)] = name
    return out


def known_region(name: object) -> str | None:
    """The shipped région that `name` means (`grand-est`, `GRAND EST`, `Région Grand Est`,
    `PACA`, `Provence-Alpes-Côte d’Azur`, `44`), else None."""
    wanted = region_key(str(name or "")).strip()
    names = _region_names()
    if wanted.isdigit():
        wanted = wanted.zfill(2)
    found = names.get(wanted)
    if found is None and wanted.startswith("region "):
        found = names.get(wanted.removeprefix("region "))
    return found


def _region_raw(name: str) -> dict[str, Any]:
    region = known_region(name)
    if region is None:
        raise ConfigError(f"Région inconnue : « {name} ». Régions connues : {', '.join(shipped_regions())}.")
    return _merge(_shipped(COMMON_FILE), _shipped(REGIONS_FOLDER, shipped_regions()[region]))


def region_config(name: str) -> Config:
    """The shipped configuration of a région named as people write it."""
    raw = _region_raw(name)
    return config_from_dict(raw, f"région {raw['region']['name']}")


def load_config(path: str | Path | None, region: str | None = None) -> Config:
    """The default (or the shipped configuration of `region`), overlaid with the user's file when
    given (keys left out keep their value)."""
    if path is None:
        return region_config(region) if region else default_config()
    base = _region_raw(region or DEFAULT_REGION)
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Fichier de configuration introuvable : {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Fichier de configuration illisible : {p} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Configuration {p} : TOML invalide ({exc}).") from None
    return config_from_dict(_merge(base, data), str(p))
