"""The colours of every output, defined once: each ORT status owns its colour everywhere.

Okabe–Ito, readable by colour-blind readers; the status is always written in words too.
"""

from __future__ import annotations

from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.issues import Severity
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

# (fill, font) by ORT status, in the order of ORT_STATUSES, then « Non reçu ».
_ORT_FILLS = ("#009E73", "#D55E00", "#E69F00", "#56B4E9", "#999999")
_ORT_FONTS = ("#FFFFFF", "#FFFFFF", "#000000", "#000000", "#000000")
ORT_STYLES: dict[str, tuple[str, str]] = {
    **{s: (fill, font) for s, fill, font in zip(ORT_STATUSES, _ORT_FILLS, _ORT_FONTS, strict=True)},
    NOT_RECEIVED: ("#DDDDDD", "#333333"),
    NOT_FILLED: ("#BBBBBB", "#000000"),
}
ORT_COLORS: dict[str, str] = {status: fill for status, (fill, _) in ORT_STYLES.items()}
UNKNOWN_COLOR = "#999999"
# A cell that breaks a rule, in every workbook written (live checks, feedback): red an error, orange a warning.
SEVERITY_FILLS: dict[Severity, str] = {Severity.ERROR: "#F4A6A6", Severity.WARNING: "#FFC878"}
ACCENT = OKABE_ITO[0]


# Action statuses: a purple family, from Envisagée (light) to Terminée (dark), then Abandonnée
# (pale): never a colour of an ORT status, so green always means « ORT signée ».
_ACTION_FILLS = ("#E7D4E8", "#C2A5CF", "#9970AB", "#762A83", "#40004B", "#F7F7F7")
ACTION_COLORS: dict[str, str] = dict(zip(REQUIRED_VALUES["statut_action"], _ACTION_FILLS, strict=True))
# Engineering needs (by theme, by partner): one pink-purple, never an ORT status colour.
NEEDS_COLOR = OKABE_ITO[3]
# Money in general (a total, a trend of money) and « Reste à financer », drawn hatched: never a status.
MONEY_COLOR = ACCENT
REMAINING_COLOR = "#FFFFFF"
REMAINING_PATTERN = {"shape": "/", "fgcolor": "#555555", "bgcolor": "#FFFFFF"}


def action_color(status: str, index: int = 0) -> str:
    """The colour of an action status; a status the configuration adds gets a grey-purple."""
    return ACTION_COLORS.get(status, ("#B8A9C9", "#8C7BA0", "#5E4C75")[index % 3])


def ort_color(status: str | None) -> str:
    return ORT_COLORS.get(status or "", UNKNOWN_COLOR)

# Financers have their own palette (Paul Tol's muted and dark families, without their greens,
# oranges and sky blues): no financer bar ever wears the colour of an ORT status.
FINANCER_COLORS = ("#0072B2", "#332288", "#882255", "#999933", "#DDCC77", "#8C564B",
                   "#1F4E79", "#661100", "#CC6677", "#AA7744", "#225555", "#5B5B8F")


def financer_colors(names: list[str]) -> dict[str, str]:
    """Each financer's colour, by its place in the configuration (cycled beyond a dozen)."""
    return {name: FINANCER_COLORS[i % len(FINANCER_COLORS)] for i, name in enumerate(names)}


# Received against expected: the workbooks in the accent colour, the expected ones as an outline.
RECEIVED_COLOR, EXPECTED_COLOR = ACCENT, "#BBBBBB"
