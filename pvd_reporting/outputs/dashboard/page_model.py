"""What the dashboard shows, as plain values for its template: the cards, the money and
département tables, the briefing, and each territory's row and panel (`page.py` renders them).

Figures are written the French way here; territory text stays raw for Jinja's autoescape, or goes
through `script_json` inside <script>.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup

from pvd_reporting.consolidate.batch import (
    HISTORY_PLACEMENT,
    OTHER_DEPARTMENT,
    SET_ASIDE_CODES,
    placement,
)
from pvd_reporting.consolidate.briefing import (
    AT_RISK_ALERT,
    NOT_FILLED_ALERT,
    NOT_RECEIVED_ALERT,
    OVERDUE_ALERT,
    alerts,
    headline,
)
from pvd_reporting.consolidate.figures import (
    DEPARTMENT_COLUMNS,
    FINANCED_LABEL,
    RegionFigures,
    ValueKind,
    department_figures,
    stage_money,
)
from pvd_reporting.consolidate.view import (
    BEYOND_COST_LABEL,
    ENGAGED,
    PLANNED,
    REMAINING_LABEL,
    STAGES,
    UNRECOGNISED,
    Consolidation,
    Money,
    RegionView,
    TerritoryView,
)
from pvd_reporting.format import french as frenchtext
from pvd_reporting.format.departements import department_label
from pvd_reporting.format.french import MINUS
from pvd_reporting.format.issues import SEVERITY_LABELS, Issue, Severity, WorkbookReport
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import (
    ANNUAIRE,
    ENGAGEMENTS,
    NOT_FILLED,
    NOT_RECEIVED,
    ORT_STATUSES,
    Schema,
)
from pvd_reporting.format.vocabulary import ENGAGED_STATUSES, PLANNED_STATUSES
from pvd_reporting.outputs.columns import Column, RowContext, dashboard_totals
from pvd_reporting.outputs.dashboard.plots import DAYS_PER_MONTH
from pvd_reporting.outputs.dashboard.region_map import SCRIPT_ESCAPES
from pvd_reporting.outputs.figure_text import change_text, figure_text
from pvd_reporting.outputs.privacy import ContactMask

SWATCHED = (OVERDUE_ALERT, AT_RISK_ALERT, NOT_RECEIVED_ALERT, NOT_FILLED_ALERT)

MAX_ISSUES_SHOWN = 40  # per territory: the anomalies files hold them all, the page stays light


def script_json(text: str) -> Markup:
    """JSON text made safe inside <script>: no `</script>`, no `<!--`, no HTML entity games."""
    for char, escaped in SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return Markup(text)


def fr_euros(value: float | None) -> str:
    return "—" if value is None else frenchtext.fr_money(round(value), frenchtext.NARROW)


def fr_percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100):d}\u00a0%"


def date_or_dash(value: date | None) -> str:
    """jj/mm/aaaa, or « — » for no date."""
    return frenchtext.fr_date(value) if value else "—"


def decimal_or_dash(value: float | None) -> str:
    return "—" if value is None else frenchtext.fr_decimal(value)


# How a card or the territory table writes a figure, by its kind.
CARD_KINDS = (ValueKind.COUNT, ValueKind.EUROS, ValueKind.MONTHS)


def status_class(status: str) -> str:
    order = (*ORT_STATUSES, NOT_RECEIVED, NOT_FILLED)
    return f"st{order.index(status)}" if status in order else "st4"


def cards(cons: Consolidation, figures: RegionFigures, at_risk_days: int) -> list[dict[str, str]]:
    """The header's cards: figures of `region_figures` under their short label, with a note."""
    r = cons.region
    received = r.received or 0

    def of(n: int) -> str:
        return f"sur {received} reçus" if received else ""

    signed_note = f"{fr_percent(r.ort_signed_share)} des reçus"
    if r.ort_signed:
        signed_note += f" · {r.ort_signed_in_time} dans le délai, {r.ort_signed_late} après l'échéance"
    no_reference = "" if r.expected is not None else "sans liste de référence"
    # The first four rows of cards are what a manager looks for first: received, ORT signed, at
    # risk, money; they sit beside the map on a 1920×1080 screen.
    notes = {
        "received": f"{r.not_filled} renvoyé{'s' if r.not_filled > 1 else ''} non rempli{'s' if r.not_filled > 1 else ''}, "
                    "comptés à part" if r.not_filled else of_expected(r.expected),
        "ort_signed": signed_note,
        "at_risk": f"échéance à {at_risk_days} jours ou moins",
        "overdue": "ORT non signée à temps",
        "cost": f"HT, {r.perimeter}",
        "remaining": f"HT, {r.perimeter}",
        "per_inhabitant": ", ".join(filter(None, ("coût total, population des Villes PVD reçues",
                                                  figures["per_inhabitant"].note))),
        "cost_error_rows": "coût des actions sur des lignes en erreur, compté dans les totaux",
        "expected": no_reference,
        "missing": no_reference,
        "valid": of(r.valid),
        "median_months_j1_j8": "mois, ORT signées",
        "leads_in_post": of(r.leads_in_post),
        "cadence_held": "un comité de projet chaque trimestre",
        f"cost:{ENGAGED}": ", ".join(ENGAGED_STATUSES),
        f"cost:{PLANNED}": ", ".join(PLANNED_STATUSES),
        "needs": "besoins déclarés",
    }
    return [{"label": figures[key].short, "value": figure_text(figures[key].value, figures[key].kind, unit=False), "note": note,
             "change": card_change(figures, key)}
            for key, note in notes.items()]


def of_expected(expected: int | None) -> str:
    return f"sur {expected} attendus" if expected is not None else ""


def card_change(figures: RegionFigures, key: str) -> str:
    """« T-1 (2025-T3) : 12, −1 »: the figure's change since the quarter before, when there is one."""
    f = figures[key]
    if not figures.has_history or f.previous is None or f.value is None or f.kind not in CARD_KINDS:
        return ""
    return (f"T-1 ({figures.previous}) : {figure_text(f.previous, f.kind, unit=False)}, "
            f"{change_text(f.previous, f.value, f.kind)}")


def fr_cents(value: float) -> str:
    """Euros to the cent when there are cents, with a real minus sign: the money table adds up."""
    return frenchtext.fr_money(value, frenchtext.NARROW).replace("-", MINUS)


def money_table(region: RegionView, schema: Schema) -> dict[str, Any]:
    """Cost and financing by stage (engagé, prévu, statut non reconnu) and in total, as the
    identity they satisfy: financers, their total, minus beyond the cost, plus remaining = cost."""
    stages = [s for s in STAGES if s != UNRECOGNISED or stage_money(region, s).cost or stage_money(region, s).financed]
    columns = [*stages, "Total"]
    total = Money(region.cost, region.financing, region.beyond_cost, region.remaining)
    moneys = [*(stage_money(region, s) for s in stages), total]
    cost_label = schema.table(ENGAGEMENTS).column("cost").label
    rows: list[dict[str, Any]] = []

    def share(amount: float) -> str:
        """Its part of all the financing, in a column of its own beside the euros."""
        return f"{frenchtext.fr_decimal(100 * amount / total.financed)}\u00a0%" if total.financed else "—"

    for f in schema.financer_fields:
        name = f.financer or f.key
        rows.append({"label": f.label, "cls": "", "values": [fr_cents(m.financing.get(name, 0.0)) for m in moneys],
                     "share": share(total.financing.get(name, 0.0))})
    rows.append({"label": FINANCED_LABEL, "cls": "sum", "values": [fr_cents(m.financed) for m in moneys],
                 "share": share(total.financed)})
    rows.append({"label": f"{MINUS} {BEYOND_COST_LABEL}", "cls": "", "values": [fr_cents(m.beyond_cost) for m in moneys]})
    rows.append({"label": f"+ {REMAINING_LABEL}", "cls": "", "values": [fr_cents(m.remaining) for m in moneys]})
    rows.append({"label": f"= {cost_label}", "cls": "sum", "values": [fr_cents(m.cost) for m in moneys]})
    return {"columns": columns, "rows": rows, "perimeter": region.perimeter, "share_header": SHARE_HEADER}


SHARE_HEADER = "Part des financements"


def department_table(cons: Consolidation) -> dict[str, Any]:
    """The region by département (consolidate/figures.py), as the page shows it."""
    rows = []
    for d in department_figures(cons):
        values = []
        for key, _header, kind in DEPARTMENT_COLUMNS:
            value = getattr(d, key)
            values.append(department_label(value) if key == "department" else figure_text(value, kind))
        rows.append(values)
    return {"headers": [h for _, h, _ in DEPARTMENT_COLUMNS],
            "num": [kind != ValueKind.TEXT for _, _, kind in DEPARTMENT_COLUMNS], "rows": rows}


def _months(value: float | None, word: str) -> str:
    return "" if value is None else f"{decimal_or_dash(value)} mois {word}"


# Alerts printed as rows; beyond them, on paper, one list of names by kind (the screen shows all).
PRINT_ALERTS = 8


def briefing(cons: Consolidation, figures: RegionFigures) -> dict[str, Any]:
    """« À retenir »: the sentence and the ranked alerts, formatted for the page."""
    rows = []
    rest: dict[str, list[str]] = {}
    for n, alert in enumerate(alerts(cons)):
        extra = n >= PRINT_ALERTS and len(alert.territories) == 1
        if extra:
            rest.setdefault(alert.kind, []).append(alert.who)
        one = alert.territories[0] if len(alert.territories) == 1 else None
        rows.append({
            "kind": alert.kind, "who": alert.who,
            "department": department_label(one.department) if one else "",
            "deadline": date_or_dash(alert.deadline) if alert.deadline else "",
            "delay": _months(alert.months_late, "de retard") or _months(alert.months_left, "restants"),
            "milestone": alert.last_milestone or "", "detail": alert.detail,
            "remaining": fr_euros(alert.remaining) if alert.remaining is not None else "",
            # The swatch is the ORT status's colour: only where the alert is that status (a late
            # signature is not shown in the green of « ORT signée »).
            "status_cls": status_class(alert.territories[0].ort_status) if alert.kind in SWATCHED else "",
            "group": one is None, "extra": extra,
        })
    return {"headline": headline(figures, cons.region.period), "alerts": rows, "rest": list(rest.items())}


def _lead_text(t: TerritoryView, no_contacts: bool) -> str:
    if not t.received:
        return "—"
    etp = f" ({round(t.etp):d}\u00a0% ETP)" if t.etp is not None else ""
    if not t.project_lead:
        return "Aucun"
    return ("En poste" if no_contacts else t.project_lead) + etp


def _issue_line(issue: Issue, mask: ContactMask) -> dict[str, str]:
    # With --no-contacts, an issue on a field that can hold a person keeps only its kind.
    message = mask.issue(issue).message
    return {"severity": SEVERITY_LABELS[issue.severity],
            "cls": "err" if issue.severity == Severity.ERROR else "warn",
            "place": issue.place or "Classeur", "message": message}


def _issues(report: WorkbookReport | None, mask: ContactMask) -> tuple[list[dict[str, str]], int]:
    if report is None:
        return [], 0
    ordered = sorted(report.issues, key=lambda i: (i.severity != Severity.ERROR, i.sheet or "", i.row or 0))
    shown = [_issue_line(i, mask) for i in ordered[:MAX_ISSUES_SHOWN]]
    return shown, max(0, len(ordered) - MAX_ISSUES_SHOWN)


def _timeline(t: TerritoryView, as_of: date) -> dict[str, Any]:
    dates = [d for m in t.milestones for d in (m.planned_on, m.done_on) if d]
    if not dates:
        return {"rows": [], "start": "", "end": "", "today": None, "deadline": None}
    if t.ort_deadline is not None:
        dates.append(t.ort_deadline)
    start, end = min(dates), max(max(dates), as_of)
    span = max((end - start).days, 1)

    def pos(d: date | None) -> float | None:
        return None if d is None else round(100 * (d - start).days / span, 1)

    rows = []
    for m in t.milestones:
        late = (m.done_on - m.planned_on).days if m.done_on and m.planned_on else None
        rows.append({"code": m.code, "label": m.label, "planned": date_or_dash(m.planned_on),
                     "done": date_or_dash(m.done_on), "p": pos(m.planned_on), "d": pos(m.done_on),
                     "late": late if late and late > 0 else None})
    return {"rows": rows, "start": date_or_dash(start), "end": date_or_dash(end), "today": pos(as_of),
            "deadline": pos(t.ort_deadline), "deadline_text": date_or_dash(t.ort_deadline)}


def _contacts(t: TerritoryView, schema: Schema) -> tuple[list[str], list[list[str]]]:
    columns = schema.table(ANNUAIRE).columns
    rows = [[str(c.get(f.key, "") or "") for f in columns] for c in t.contacts]
    return [f.label for f in columns], rows


def _totals(t: TerritoryView, columns: list[Column]) -> list[dict[str, Any]]:
    """The territory's totals in the table: the text shown and the value it sorts by."""
    if not t.received:
        return [{"text": "—", "v": ""} for _ in columns]
    out = []
    for c in columns:
        assert c.get is not None
        value = c.get(t, RowContext())
        out.append({"text": figure_text(value, c.kind, unit=False), "v": value})
    return out


def territory_row(i: int, t: TerritoryView, cons: Consolidation, schema: Schema, no_contacts: bool) -> dict[str, Any]:
    issues, more = _issues(t.report, ContactMask(schema, no_contacts))
    headers, contacts = ([], []) if no_contacts else _contacts(t, schema)
    department = department_label(t.department) if t.department else "—"
    search = " ".join(filter(None, [t.id_pvd, t.name, department, t.epci, t.ort_status]))
    if t.signed_in_time is not None:
        signed = ("dans le délai" if t.signed_in_time
                  else f"après l'échéance, {decimal_or_dash(t.months_late or 0.0)} mois de retard")
    else:
        signed = ""
    return {
        "i": i, "t": t, "status_cls": status_class(t.ort_status), "department": department, "signed": signed,
        "beyond_cost": fr_euros(t.beyond_cost) if t.beyond_cost else "",
        "jalons": f"{t.milestones_done}/8" if t.received else "—",
        "deadline": date_or_dash(t.ort_deadline), "deadline_sort": t.ort_deadline.isoformat() if t.ort_deadline else "",
        "days": "" if t.days_left is None else str(t.days_left),
        # Months, as in À retenir and the deadlines chart: one unit for one idea.
        "months_left": "" if t.days_left is None else decimal_or_dash(t.days_left / DAYS_PER_MONTH).replace("-", MINUS),
        "lead": _lead_text(t, no_contacts), "totals": _totals(t, dashboard_totals(schema)),
        "search": norm(search), "issues": issues, "more_issues": more,
        "timeline": _timeline(t, cons.region.as_of),
        "financing": [(k, fr_euros(v)) for k, v in t.financing.items() if v],
        "contact_headers": headers, "contacts": contacts,
        "source": t.report.path if t.report else "",
        "last_known": _last_known(t, cons),
    }


def _last_known(t: TerritoryView, cons: Consolidation) -> dict[str, Any] | None:
    """A territory not received now: its last quarter received and its figures then."""
    last = cons.history.last_received(t.key) if cons.history is not None and not t.received else None
    if last is None:
        return None
    period, view = last
    return {"period": period, "status": view.ort_status, "status_cls": status_class(view.ort_status),
            "milestone": view.last_milestone or "Aucun", "jalons": f"{view.milestones_done}/8",
            "deadline": date_or_dash(view.ort_deadline), "cost": fr_euros(view.cost),
            "remaining": fr_euros(view.remaining), "actions": view.actions,
            "source": view.report.path if view.report else ""}


def revisions(cons: Consolidation) -> list[dict[str, str]]:
    """Figures of earlier quarters already published that this run changes: the préfet who
    compares with last quarter's page is told, not surprised."""
    out = []
    for r in cons.history.revisions if cons.history is not None else []:
        out.append({"period": r.period, "figure": r.figure, "published": figure_text(r.published, ValueKind(r.kind)),
                    "revised": figure_text(r.revised, ValueKind(r.kind)), "summary": r.summary})
    return out


def unplaced(cons: Consolidation) -> list[dict[str, Any]]:
    """Workbooks read but not behind any territory of the period (unreadable, other period, duplicate)."""
    used = {t.report.path for t in cons.territories if t.report}
    out = []
    others = [r for r in cons.reports if any(i.code == OTHER_DEPARTMENT for i in r.issues)]
    other_ids = {id(r) for r in others}
    for r in cons.reports:
        if r.path in used or placement(cons, r) == HISTORY_PLACEMENT or id(r) in other_ids:
            continue
        why = [i for i in r.issues if i.code in SET_ASIDE_CODES] or r.issues
        # Every reason, each in full: the referent decides from this box what to ask for.
        reasons = list(dict.fromkeys(i.message for i in why))
        out.append({"path": r.path, "verdict": r.verdict, "period": r.period or "—", "reasons": reasons})
    if others:
        # One line: a DDT referent's folder holds the other départements' workbooks.
        out.append({"path": f"{len(others)} classeur{'s' if len(others) > 1 else ''} d'autres départements",
                    "verdict": "", "period": "—", "reasons": ["Hors du périmètre demandé : non consolidés "
                    "(voir l'onglet Sources de la synthèse)."]})
    return out
