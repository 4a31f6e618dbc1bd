"""Option values as people type them on the command line, parsed once for every command."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pvd_reporting.errors import UsageError
from pvd_reporting.format.config import Config, load_config
from pvd_reporting.format.schema import DEPARTMENTS
from pvd_reporting.read.region import named_region
from pvd_reporting.read.values import parse_date, parse_period


def period_value(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return parse_period(text)
    except ValueError:
        raise UsageError(f"Période illisible : « {text} » (attendu 2025-T4, 2025-Q4 ou T4 2025).") from None


def date_value(text: str | date | None, option: str) -> date | None:
    if text is None or isinstance(text, date):
        return text
    try:
        return parse_date(text)
    except ValueError:
        raise UsageError(f"Date illisible pour {option} : « {text} » (attendu jj/mm/aaaa).") from None


def departments_value(codes: Iterable[str] | None) -> list[str]:
    """`--departement 10 --departement 52`, `--departement 10,52` or `"10 52"` -> ["10", "52"]."""
    out: list[str] = []
    for text in codes or ():
        for part in re.split(r"[\s,;]+", str(text).strip()):
            if not part:
                continue
            code = part.upper().zfill(2) if part.isdigit() else part.upper()
            if code not in DEPARTMENTS:
                raise UsageError(f"Département inconnu pour --departement : « {part} » "
                                 "(attendu un code comme 10, 2A ou 971).")
            if code not in out:
                out.append(code)
    return out


def config_value(config_path: Path | None, region: str | None, files: list[Path] | None = None) -> Config:
    """`--region` picks a shipped configuration, `--config` overlays it; with neither, the région
    the workbooks name (their Territoire sheet), else the default (Grand Est)."""
    if region is None and config_path is None and files:
        region = named_region(files)
    return load_config(config_path, region)
