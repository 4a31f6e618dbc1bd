"""The colours of every output, defined once: each ORT status owns its colour everywhere.

Okabe–Ito, readable by colour-blind readers; the status is always written in words too.
"""

from __future__ import annotations

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
ACCENT = OKABE_ITO[0]


def ort_color(status: str | None) -> str:
    return ORT_COLORS.get(status or "", UNKNOWN_COLOR)
