"""The reference list of PVD territories: the ANCT file of 2021, shipped in `format/data/`, or a
newer list in the same shape or the data.gouv.fr one (`insee_com,lib_com,id_pvd,date_signature`)."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from pvd_reporting.errors import ReferenceListError
from pvd_reporting.format.config import known_region, region_key
from pvd_reporting.format.matching import norm

# Shipped (Licence Ouverte 2.0) so that `template --region` and `consolidate` know the expected
# territories with no option; data/LISEZ-MOI.md says where it comes from.
SHIPPED_REFERENCE = Path(__file__).resolve().parent / "data" / "pvd-communes-2021.csv"
SHIPPED_ATTRIBUTION = "ANCT, programme Petites villes de demain, liste des communes, 2021"

REGIONS: dict[str, str] = {
    "01": "Guadeloupe", "02": "Martinique", "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté",
    "28": "Normandie", "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire",
    "53": "Bretagne", "75": "Nouvelle-Aquitaine", "76": "Occitanie", "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur", "94": "Corse",
}


@dataclass(frozen=True)
class RefCommune:
    insee: str
    name: str
    population: int | None = None


@dataclass
class RefTerritory:
    """One PVD territory: communes sharing an `id_pvd` (or, without one, an EPCI)."""

    id_pvd: str | None
    communes: list[RefCommune] = field(default_factory=list)
    region: str | None = None
    department: str | None = None
    department_name: str | None = None
    siren: str | None = None
    epci: str | None = None
    signed_on: date | None = None

    @property
    def name(self) -> str:
        """The territory's usual name: its most populous commune."""
        best = max(self.communes, key=lambda c: (c.population or 0, -len(c.name)))
        return best.name

    @property
    def departments(self) -> set[str]:
        """Its département and those of its communes: a territory across two départements
        (pvd-44-5455-1, Meuse and Meurthe-et-Moselle) belongs to each."""
        found = {insee_department(c.insee) for c in self.communes}
        found.add(self.department)
        return {d for d in found if d}

    @property
    def key(self) -> str:
        """How a territory is identified (README, pvd-report consolidate): id_pvd, else SIREN + its communes' codes."""
        if self.id_pvd:
            return self.id_pvd
        return territory_key(None, self.siren, [c.insee for c in self.communes])


def reference_label(path: Path) -> str:
    """How the console names the list it used: the shipped one by its attribution, any other by path."""
    if path.resolve() == SHIPPED_REFERENCE:
        return f"{SHIPPED_ATTRIBUTION} (livrée avec pvd-report)"
    return str(path)


def insee_department(insee: object) -> str | None:
    """`55063` -> `55`, `2A004` -> `2A`, `97101` -> `971`; None when it is not a commune code."""
    text = str(insee or "").strip().upper()
    if len(text) != 5:
        return None
    return text[:3] if text.startswith("97") else text[:2]


def same_region(a: object, b: object) -> bool:
    """`Grand Est`, `grand-est`, `GRAND EST` and `44` are one région."""
    return _canonical(a) == _canonical(b)


def _canonical(name: object) -> str:
    return region_key(known_region(name) or str(name))


def territory_key(id_pvd: str | None, siren: str | None, pvd_insee: list[str]) -> str:
    if id_pvd:
        return id_pvd.strip().lower()
    return f"{siren or '?'}:{'+'.join(sorted(pvd_insee))}"


@dataclass
class Reference:
    territories: list[RefTerritory]
    source: str

    @cached_property
    def digest(self) -> str:
        """The list's version, by content: its territories and their communes (not the file's name
        or date), recorded in each history file so the nation knows which list a région used."""
        lines = sorted(f"{t.key}:{','.join(sorted(c.insee for c in t.communes))}" for t in self.territories)
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    # Looked up for every workbook read: built once per list, never changed afterwards.
    @cached_property
    def _by_id(self) -> dict[str, RefTerritory]:
        found: dict[str, RefTerritory] = {}
        for t in self.territories:
            found.setdefault((t.id_pvd or "").lower(), t)
        return found

    @cached_property
    def _communes(self) -> dict[str, RefCommune]:
        return {c.insee: c for t in self.territories for c in t.communes}

    def by_id(self, id_pvd: str) -> RefTerritory | None:
        return self._by_id.get(id_pvd.strip().lower())

    def communes(self) -> dict[str, RefCommune]:
        return self._communes

    def regions(self) -> list[str]:
        return sorted({t.region for t in self.territories if t.region})

    def in_region(self, name: str) -> list[RefTerritory]:
        """Territories of a région named as people write it: `Grand Est`, `grand-est`, `GRAND EST`."""
        wanted = _canonical(name)
        return [t for t in self.territories if t.region and _canonical(t.region) == wanted]

    def match(self, id_pvd: str | None, siren: str | None, insee_codes: list[str]) -> RefTerritory | None:
        """The reference territory of a workbook: by id, else by EPCI SIREN and commune codes."""
        if id_pvd:
            found = self.by_id(id_pvd)
            if found:
                return found
        codes = set(insee_codes)
        if not codes:
            return None
        for t in self.territories:
            if (siren is None or t.siren is None or t.siren == siren) and codes & {c.insee for c in t.communes}:
                if siren is not None or t.id_pvd is None:
                    return t
        return None


def _date(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
    return None


def _int(text: str | None) -> int | None:
    try:
        return int(float((text or "").replace(" ", "").replace(",", ".")))
    except ValueError:
        return None


def load_reference(path: str | Path) -> Reference:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ReferenceListError(f"Liste de référence illisible : {p} ({exc.strerror or exc}).") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReferenceListError(f"Liste de référence {p} : ce n'est pas un fichier CSV lisible.")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = {norm(f): f for f in (reader.fieldnames or [])}
    if "insee_com" not in fields or "id_pvd" not in fields:
        raise ReferenceListError(
            f"Liste de référence {p} : colonnes « insee_com » et « id_pvd » attendues "
            "(fichier PVD de data.gouv.fr ou de l'ANCT)."
        )

    def col(row: dict[str, str], name: str) -> str:
        key = fields.get(name)
        return (row.get(key) or "").strip() if key else ""

    groups: dict[str, RefTerritory] = {}
    for row in reader:
        insee = col(row, "insee_com").upper().zfill(5)
        if not insee.strip("0") or insee == "99999":
            continue
        id_pvd = col(row, "id_pvd") or None
        siren = col(row, "siren_epci") or None
        group_key = id_pvd.lower() if id_pvd else f"epci:{siren or insee}"
        t = groups.get(group_key)
        if t is None:
            region = col(row, "lib_reg") or None
            if region is None and id_pvd and id_pvd.count("-") >= 3:
                region = REGIONS.get(id_pvd.split("-")[1].zfill(2))
            dep = col(row, "insee_dep") or (insee[:3] if insee.startswith("97") else insee[:2])
            t = groups[group_key] = RefTerritory(
                id_pvd=id_pvd, region=region, department=dep.zfill(2),
                department_name=col(row, "lib_dep") or None, siren=siren,
                epci=col(row, "lib_epci") or None, signed_on=_date(col(row, "date_signature")),
            )
        t.communes.append(RefCommune(insee, col(row, "lib_com"), _int(col(row, "pop"))))
    if not groups:
        raise ReferenceListError(f"Liste de référence {p} : aucune commune lue.")
    for t in groups.values():
        t.communes.sort(key=lambda c: (-(c.population or 0), c.name))
    territories = sorted(groups.values(), key=lambda t: (t.department or "", t.key))
    return Reference(territories, str(p))
