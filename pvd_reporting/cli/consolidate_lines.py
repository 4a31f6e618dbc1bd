"""The French console lines of `consolidate` about what the run found: periods, workbooks set
aside, periods to check, revisions. The pipeline hands the facts; the wording lives here."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pvd_reporting.consolidate.batch import period_end
from pvd_reporting.consolidate.view import Consolidation
from pvd_reporting.format.french import fr_date
from pvd_reporting.format.issues import WorkbookReport
from pvd_reporting.outputs.history_db import DB_NAME
from pvd_reporting.outputs.report import plural
from pvd_reporting.pipeline.consolidate import (
    ConsolidationRun,
    as_of_out_of_range,
    period_checks,
    period_drop,
    period_start,
    revised_periods,
    set_aside_groups,
    set_aside_issue,
)


def set_aside_reason(report: WorkbookReport) -> str:
    """Why a workbook is not in the view, in one French line."""
    issue = set_aside_issue(report)
    return issue.message if issue is not None else "illisible"


def set_aside_lines(run: ConsolidationRun, shown: int) -> list[str]:
    """The workbooks of the quarter consolidated set aside, each with its reason (up to `shown`,
    then a count); those of other départements in one line (a DDT referent knows the folder
    holds them); those of earlier quarters in one count: they were named when those quarters
    were consolidated."""
    groups = set_aside_groups(run)
    named, others, earlier = groups.named, groups.others, groups.earlier
    total = len(named) + len(others)
    lines = [f"  Classeurs écartés : {total}"] if total else []
    lines.extend(f"    {Path(r.path).name} : {set_aside_reason(r)}" for r in named[:shown])
    if len(named) > shown:
        lines.append(f"    … et {len(named) - shown} autres (voir l'onglet Sources de la synthèse).")
    if others:
        lines.append(f"    {plural(len(others), 'classeur')} d'autres départements, non consolidé"
                     f"{'s' if len(others) > 1 else ''} (voir l'onglet Sources de la synthèse).")
    if earlier:
        lines.append(f"  Classeurs écartés des trimestres précédents : {len(earlier)} "
                     "(voir l'onglet Sources de la synthèse).")
    return lines


def period_check_lines(result: Consolidation) -> list[str]:
    """Every workbook whose period does not fit its update date, named with its file and what
    was done with it: the referent checks it before trusting the quarter."""
    lines = []
    for check in period_checks(result):
        if check.counted_for is None:
            fate = "non consolidé"
        elif check.by_update_date:
            fate = f"compté pour {check.counted_for}, période retenue d'après sa date de mise à jour"
        else:
            fate = f"compté pour {check.counted_for}"
        lines.append(f"    {check.report.path} : {check.issue.message} ({fate})")
    return ([f"  Périodes à vérifier : {len(lines)}", *lines]) if lines else []


def revision_lines(result: Consolidation) -> list[str]:
    """« Révisions : 2026-T1 (1 classeur arrivé depuis) », one line for every period revised."""
    causes = revised_periods(result)
    if not causes:
        return []
    return ["  Révisions : " + " · ".join(f"{p} ({c})" for p, c in causes.items())
            + " — chiffres déjà publiés modifiés, voir l'onglet Révisions de la synthèse"]


def period_lines(result: Consolidation) -> list[str]:
    """Every period found with its number of workbooks, and a warning when the consolidated
    period holds less than half as many as the one before (README, Plusieurs trimestres)."""
    history = result.history
    if history is None:
        return []
    counts = history.workbooks
    found = " · ".join(f"{p} ({n} classeur{'s' if n > 1 else ''})" for p, n in counts.items())
    lines = [f"  Périodes trouvées : {found}"]
    drop = period_drop(result)
    if drop is not None:
        before, now = drop
        lines.append(f"  Attention : la période {now} compte {counts[now]} classeur(s), moins de la moitié "
                     f"des {counts[before]} de {before} : des envois manquent peut-être.")
    return lines


def as_of_warnings(period: str, as_of: date) -> list[str]:
    """A reference date before the period, or more than a year after it, is most likely a typo."""
    gap = as_of_out_of_range(period, as_of)
    if gap == "before":
        return [f"Attention : la date de référence {fr_date(as_of)} précède la période {period} "
                f"(qui commence le {fr_date(period_start(period))}) : les jalons et les échéances sont jugés à "
                "cette date."]
    if gap == "after":
        return [f"Attention : la date de référence {fr_date(as_of)} est plus d'un an après la fin de la "
                f"période {period} ({fr_date(period_end(period))}) : vérifiez --as-of."]
    return []


def run_warnings(run: ConsolidationRun) -> list[str]:
    """What the referent should know of the run itself: a reference date out of range, a history
    file of another scope."""
    region = run.result.region
    lines = as_of_warnings(region.period, region.as_of)
    if run.other_scope is not None:
        lines.append(f"Révisions non comparées : la base {DB_NAME} du dossier de sortie portait sur « "
                     f"{run.other_scope} », cette consolidation sur « {region.scope} ».")
    return lines
