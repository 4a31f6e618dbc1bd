"""The colours of every output, defined once: each ORT status owns its colour everywhere.

Okabe–Ito, readable by colour-blind readers; the status is always written in words too.
"""

from __future__ import annotations

from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.issues import Severity
from pvd_reporting.format.schema import NOT_FILLED, NOT_RECEIVED, ORT_STATUSES

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

# (fill, font) by ORT status, in the order of ORT_STATUSES, then « Non reçu » and « Non rempli ».
# Each status also has a lightness of its own, so that a black-and-white print keeps them apart:
# sorted by CIE L*, two statuses are at least GREY_STEP apart (29, 41, 51, 61, 71, 82, 92), and
# « Non reçu » is a mid grey with a contrast of at least NOT_RECEIVED_CONTRAST against white paper.
GREY_STEP = 9.0  # ΔE in grey: the difference of CIE L* between two statuses
NOT_RECEIVED_CONTRAST = 3.0  # WCAG contrast ratio against white
_ORT_FILLS = ("#00704A", "#852000", "#FAC350", "#5AB6EA", "#F2E9C9")
_ORT_FONTS = ("#FFFFFF", "#FFFFFF", "#000000", "#000000", "#000000")
ORT_STYLES: dict[str, tuple[str, str]] = {
    **{s: (fill, font) for s, fill, font in zip(ORT_STATUSES, _ORT_FILLS, _ORT_FONTS, strict=True)},
    NOT_RECEIVED: ("#939393", "#000000"),
    NOT_FILLED: ("#7A7A7A", "#FFFFFF"),
}
ORT_COLORS: dict[str, str] = {status: fill for status, (fill, _) in ORT_STYLES.items()}
UNKNOWN_COLOR = "#999999"
# A cell that breaks a rule, in every workbook written (live checks, feedback): red an error, orange a warning.
SEVERITY_FILLS: dict[Severity, str] = {Severity.ERROR: "#F4A6A6", Severity.WARNING: "#FFC878"}
ACCENT = OKABE_ITO[0]
# The keyboard focus ring: dark blue, 8.6:1 on white, never a status colour.
FOCUS_COLOR = "#0A4D8C"
# Money on the map (remaining to finance by EPCI): a sequential blue scale, light to dark.
MONEY_SCALE = ("#DEEBF7", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C")
NO_MONEY_COLOR = "#FFFFFF"


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


def relative_luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of a #RRGGBB colour."""
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    h = color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str = "#FFFFFF") -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def grey_lightness(color: str) -> float:
    """CIE L* (0 black to 100 white) of a colour printed in grey."""
    y = relative_luminance(color)
    f = y ** (1 / 3) if y > 216 / 24389 else (24389 / 27 * y + 16) / 116
    return 116 * f - 16
