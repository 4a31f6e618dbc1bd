"""Hand-built regional views for the dashboard and chart tests (no test here: a fixture builder).

Built by code, independent of consolidate/, so the dashboard can be tested on every case:
every ORT status, a territory not received, an XSS name, contacts, issues.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from statistics import median

from pvd_reporting.consolidate.view import Consolidation, MilestoneView, RegionView, TerritoryView
from pvd_reporting.format.config import default_config
from pvd_reporting.format.issues import IssueCode, WorkbookReport, make_issue
from pvd_reporting.format.schema import MILESTONES, NOT_RECEIVED, ORT_STATUSES
from pvd_reporting.read.records import Record

XSS_NAME = "<img src=x onerror=alert(1)>"
PERIOD = "2025-T4"
AS_OF = date(2025, 12, 31)
QUARTERS = ["2025-T1", "2025-T2", "2025-T3", "2025-T4"]

# (id, name, département, ORT status, jalons done)
BASE = [
    ("pvd-44-08-1", "Sedan", "08", "ORT signée", 8),
    ("pvd-44-10-2", "Bar-sur-Aube", "10", "Dans les temps", 5),
    ("pvd-44-51-3", "Sainte-Menehould", "51", "À risque", 6),
    ("pvd-44-52-1", "Langres", "52", "Échéance dépassée", 4),
    ("pvd-44-54-4", "Lunéville", "54", "ORT signée", 8),
    ("pvd-44-55-2", "Saint-Mihiel", "55", "Non renseigné", 0),
    ("pvd-44-57-6", "Sarrebourg", "57", "Dans les temps", 3),
    ("pvd-44-67-3", "Saverne", "67", "À risque", 7),
    ("pvd-44-68-1", "Thann – Cernay", "68", "Échéance dépassée", 5),
    ("pvd-44-88-5", "Remiremont", "88", NOT_RECEIVED, 0),
    ("pvd-44-67-9", XSS_NAME, "67", "Dans les temps", 2),
    ("pvd-44-57-2", "Bitche", "57", NOT_RECEIVED, 0),
]
# Real EPCI SIRENs of Grand Est, so the map has shapes to draw; Saverne and the XSS territory share
# one EPCI (as some territories do), Remiremont and Bitche are not received but have theirs.
SIRENS = {
    "pvd-44-08-1": "240800862", "pvd-44-10-2": "200071777", "pvd-44-51-3": "245100979",
    "pvd-44-52-1": "200069664", "pvd-44-54-4": "200069433", "pvd-44-55-2": "200066157",
    "pvd-44-57-6": "200067650", "pvd-44-67-3": "200067783", "pvd-44-68-1": "200066041",
    "pvd-44-88-5": "200042000", "pvd-44-67-9": "200067783", "pvd-44-57-2": "200069441",
}
DEPARTMENT_SIRENS = {
    "08": ["240800862", "200067759", "240800847"], "10": ["241000447", "200071777", "241000405"],
    "51": ["200067684", "200066850", "245100979"], "52": ["200069664", "245200597", "200068658"],
    "54": ["200070324", "200067643", "200069433"], "55": ["200070290", "200066157", "245501242"],
    "57": ["200069441", "200067650", "200067486"], "67": ["246700306", "200034270", "200067783"],
    "68": ["200066041", "246800551", "246800676"], "88": ["200042000", "200068757", "200068559"],
}
FIRST = ["Camille", "Julien", "Sophie", "Thomas", "Claire", "Nicolas", "Élodie", "Mathieu"]
LAST = ["Muller", "Schmitt", "Lefèvre", "Weber", "Martin", "Klein", "Bernard", "Fischer"]


def _status_days(status: str, rng: random.Random) -> int | None:
    if status == "ORT signée":
        return rng.randint(-200, 300)
    if status == "Échéance dépassée":
        return -rng.randint(10, 300)
    if status == "À risque":
        return rng.randint(1, 90)
    if status == "Dans les temps":
        return rng.randint(91, 500)
    return None


def make_territory(i: int, id_pvd: str, name: str, dept: str, status: str, done: int,
                   rng: random.Random) -> TerritoryView:
    config = default_config()
    siren = SIRENS.get(id_pvd) or DEPARTMENT_SIRENS[dept][i % 3]
    if status == NOT_RECEIVED:
        return TerritoryView(key=id_pvd, id_pvd=id_pvd, name=name, department=dept, region="Grand Est",
                             siren=siren, received=False, ort_status=NOT_RECEIVED)
    j1 = date(2022, 1, 15) + timedelta(days=rng.randint(0, 600)) if done else None
    milestones = []
    for k, (code, text) in enumerate(MILESTONES):
        planned = j1 + timedelta(days=75 * k) if j1 else None
        realised = planned + timedelta(days=rng.randint(-10, 40)) if planned and k < done else None
        milestones.append(MilestoneView(code, text, planned, realised))
    days_left = _status_days(status, rng)
    deadline = AS_OF + timedelta(days=days_left) if days_left is not None else None
    first, family = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
    lead = f"{first} {family}"
    slug = f"{first.lower()}.{family.lower()}{i}".replace("é", "e").replace("è", "e")
    contacts = [
        Record("Annuaire", 2, values={"name": lead, "organisation": f"Ville de {name}",
                                      "position": "Cheffe de projet PVD", "email": f"{slug}@mairie-test.fr",
                                      "phone": f"03 88 {10 + i:02d} 4{i % 10} 5{i % 10}",
                                      "role": "Chef de projet PVD"}),
        Record("Annuaire", 3, values={"name": f"Référent{i} Préfecture", "organisation": "Préfecture",
                                      "position": "Sous-préfet", "email": f"referent{i}@prefecture-test.gouv.fr",
                                      "phone": f"+33 3 87 {20 + i:02d} 00 1{i % 10}", "role": "Référent État"}),
    ]
    themes = list(config.lists["thematique"])
    statuses = list(config.lists["statut_action"])
    by_theme = Counter(rng.choice(themes[:6]) for _ in range(rng.randint(2, 8)))
    by_status = Counter(rng.choice(statuses) for _ in range(sum(by_theme.values())))
    cost = float(rng.randint(5, 80) * 50_000)
    fin = {f: float(round(cost * rng.uniform(0, 0.15), -2)) for f in config.financers[:6]}
    remaining = max(0.0, cost - sum(fin.values()))
    partners = list(config.lists["partenaire"])
    needs_theme = Counter(rng.choice(themes[:5]) for _ in range(rng.randint(0, 4)))
    needs_partner = Counter(rng.choice(partners) for _ in range(sum(needs_theme.values())))
    comites = {q: rng.choice([0, 1, 1, 2]) for q in QUARTERS}
    issues = [
        make_issue(IssueCode.INVALID_DATE, sheet="Engagements", cell=f"H{10 + i}", row=10 + i,
                   column="Date de début", value="32/13/2024"),
        make_issue(IssueCode.COMITE_CADENCE, sheet="Comités", quarters="2025-T2"),
    ]
    if i % 3 == 0:
        issues.append(make_issue(IssueCode.INVALID_EMAIL, sheet="Annuaire", cell="D3", row=3, column="Mail",
                                 value=f"{slug}@@exemple"))
    report = WorkbookReport(path=f"workbooks/{id_pvd}.xlsx", issues=issues, territory=name, id_pvd=id_pvd,
                            period=PERIOD, size=12345, sha256="0" * 64, version="1.0")
    last = f"{MILESTONES[done - 1][0]} — {MILESTONES[done - 1][1]}" if done else None
    return TerritoryView(
        key=id_pvd, id_pvd=id_pvd, name=name, department=dept, region="Grand Est",
        epci=f"Communauté de communes de {name}", siren=siren, received=True, report=report,
        milestones=milestones, last_milestone=last,
        last_milestone_code=MILESTONES[done - 1][0] if done else None, milestones_done=done, j1_on=j1,
        j8_on=milestones[7].done_on, ort_deadline=deadline, deadline_extended=i % 4 == 0,
        ort_status=status, days_left=days_left, project_lead=lead, etp=float(rng.choice([50, 80, 100])),
        cofinancing="Banque des Territoires", comites_last4=sum(1 for v in comites.values() if v),
        comites_by_quarter=comites, cadence_held=all(comites.values()),
        actions=sum(by_theme.values()), actions_by_status=dict(by_status), actions_by_theme=dict(by_theme),
        cost=cost, financing=fin, remaining=remaining, needs=sum(needs_theme.values()),
        needs_by_theme=dict(needs_theme), needs_by_partner=dict(needs_partner),
        needs_by_status={"Identifié": sum(needs_theme.values())}, needs_amount=float(rng.randint(0, 9) * 10_000),
        errors=report.errors, warnings=report.warnings, contacts=contacts,
    )


def _region(territories: list[TerritoryView]) -> RegionView:
    received = [t for t in territories if t.received]
    fin: Counter[str] = Counter()
    needs_theme: Counter[str] = Counter()
    needs_partner: Counter[str] = Counter()
    theme_status: dict[str, Counter[str]] = {}
    by_dept: dict[str, Counter[str]] = {}
    for t in territories:
        by_dept.setdefault(t.department or "?", Counter())[t.ort_status] += 1
    for t in received:
        fin.update(t.financing)
        needs_theme.update(t.needs_by_theme)
        needs_partner.update(t.needs_by_partner)
        for theme, n in t.actions_by_theme.items():
            status = next(iter(t.actions_by_status), "Engagée")
            theme_status.setdefault(theme, Counter())[status] += n
    spans = [(t.j8_on - t.j1_on).days / 30.4375 for t in received if t.j1_on and t.j8_on]
    signed = sum(1 for t in received if t.ort_status == ORT_STATUSES[0])
    return RegionView(
        period=PERIOD, as_of=AS_OF, region="Grand Est", expected=len(territories), received=len(received),
        valid=sum(1 for t in received if not t.errors), missing=len(territories) - len(received),
        ort_signed=signed, ort_signed_share=signed / len(received) if received else None,
        median_months_j1_j8=round(median(spans), 1) if spans else None,
        at_risk=sum(1 for t in received if t.ort_status == "À risque"),
        overdue=sum(1 for t in received if t.ort_status == "Échéance dépassée"),
        leads_in_post=sum(1 for t in received if t.project_lead),
        cadence_held=sum(1 for t in received if t.cadence_held),
        status_counts=dict(Counter(t.ort_status for t in territories)),
        status_by_department={d: dict(c) for d, c in by_dept.items()},
        cost=sum(t.cost for t in received), financing=dict(fin),
        remaining=sum(t.remaining for t in received), needs_by_theme=dict(needs_theme),
        needs_by_partner=dict(needs_partner),
        actions_by_theme_status={k: dict(v) for k, v in theme_status.items()},
        action_statuses=list(default_config().lists["statut_action"]),
    )


def build_consolidation(n: int | None = None, seed: int = 7) -> Consolidation:
    """The 12 base territories; with `n`, that many (cycling départements and statuses)."""
    rng = random.Random(seed)
    rows = list(BASE)
    if n is not None:
        depts = ["08", "10", "51", "52", "54", "55", "57", "67", "68", "88"]
        statuses = [*ORT_STATUSES, NOT_RECEIVED]
        rows = rows[:n]
        towns = ["Vitry-le-François", "Joinville", "Commercy", "Toul", "Sélestat", "Guebwiller",
                 "Neufchâteau", "Rethel", "Nogent-sur-Seine", "Bouxwiller"]
        for k in range(len(rows), n):
            status = statuses[k % len(statuses)]
            done = {"ORT signée": 8, "Non renseigné": 0, NOT_RECEIVED: 0}.get(status, 1 + k % 7)
            rows.append((f"pvd-44-{depts[k % 10]}-{100 + k}", f"{towns[k % 10]} {k}", depts[k % 10],
                         status, done))
    territories = [make_territory(i, *row, rng=rng) for i, row in enumerate(rows)]
    reports = [t.report for t in territories if t.report]
    unreadable = WorkbookReport(path="workbooks/illisible.xlsx",
                                issues=[make_issue(IssueCode.UNREADABLE_FILE, reason="archive tronquée")])
    reports.append(unreadable)
    anomalies = [(r, issue) for r in reports for issue in r.issues]
    return Consolidation(region=_region(territories), territories=territories, reports=reports,
                         anomalies=anomalies)


def contact_strings(cons: Consolidation) -> list[str]:
    """Every name, mail and phone of the annuaire, as they would be printed."""
    out: list[str] = []
    for t in cons.territories:
        for c in t.contacts:
            out += [c.values["name"], c.values["email"], c.values["phone"]]
    return out
