"""The programme's words that rules and figures rely on, named once.

Each is a list value a configuration must keep (config.REQUIRED_VALUES); code refers to these
names, never to the French text, so a configuration check is the only place they are spelled.
"""

from __future__ import annotations

import re

from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.matching import norm
from pvd_reporting.format.schema import MILESTONES

YES, NO = REQUIRED_VALUES["oui_non"]
BDT_COFINANCING: tuple[str, ...] = REQUIRED_VALUES["cofinancement"]
PVD_TOWN: str = REQUIRED_VALUES["role_commune"][0]
_STATUSES = REQUIRED_VALUES["statut_action"]
# « Prévu »: not yet engaged, shown apart from the money engaged.
PLANNED_STATUSES: tuple[str, ...] = _STATUSES[0:2]
# « Engagé »: these need a cost, and only these count as money engaged.
ENGAGED_STATUSES: tuple[str, ...] = _STATUSES[2:5]
DONE_STATUS: str = _STATUSES[4]
# « Engagée », « En cours »: an action still under way, whose end date should not have passed.
ONGOING_STATUSES: tuple[str, ...] = _STATUSES[2:4]
ABANDONED_STATUS: str = _STATUSES[5]
PROJECT_COMMITTEE: str = REQUIRED_VALUES["instance"][0]
PROJECT_LEAD_ROLE: str = REQUIRED_VALUES["role_contact"][0]
ELECTED_REFERENT_ROLE: str = REQUIRED_VALUES["role_contact"][1]
J1, J3, J8 = MILESTONES[0][0], MILESTONES[2][0], MILESTONES[-1][0]

_MILESTONE_CODE = re.compile(r"j\s*(\d+)(?![\d.,])")
_MILESTONE_BY_LABEL = {norm(label): code for code, label in MILESTONES}


def milestone_code(code: object, label: object = None) -> str:
    """`J4` from the Code cell as people type it (`j4`, `J 4`, `J4 - État des lieux`), else from
    the Jalon label when the code is blank; the code cell's own text when it is something else."""
    text = norm(code)
    match = _MILESTONE_CODE.match(text)
    if match:
        return f"J{int(match.group(1))}"
    if not text:
        return _MILESTONE_BY_LABEL.get(norm(label), "")
    return text.upper()
