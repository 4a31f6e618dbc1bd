"""Text normalisation used to match what people typed against the schema (docs/format-1.md)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
# Typographic apostrophes and dashes people paste from Word.
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "–": "-", "—": "-", "‑": "-"})


def norm(text: object) -> str:
    """Key for matching: no case, no accents, single spaces, no trailing colon."""
    if text is None:
        return ""
    return _norm_str(text if isinstance(text, str) else str(text))


# Headers, list values and labels repeat across thousands of workbooks: normalising each
# distinct text once was the reader's main cost at national scale (docs/vitesse.md).
@lru_cache(maxsize=65_536)
def _norm_str(text: str) -> str:
    s = text.translate(_TRANSLATE)
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
        s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = _SPACES.sub(" ", s).strip().casefold()
    while s.endswith(":"):
        s = s[:-1].rstrip()
    return s


# Letters that no accent-stripping decomposes: « Jœuf » is `joeuf`, not `j-uf`.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS", "ø": "o",
                            "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i", "þ": "th", "Þ": "TH"})


def slug(text: str) -> str:
    """ASCII file-name fragment: `La Broque` -> `la-broque`, `Jœuf` -> `joeuf`, `L'Hôpital` -> `l-hopital`."""
    s = norm(text.translate(_LIGATURES))
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return s or "territoire"


def col_letter(index: int) -> str:
    """0-based column index -> Excel letters."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    """Excel letters -> 0-based column index: `A` -> 0, `AA` -> 26."""
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col - 1


_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def parse_a1(ref: str | None) -> tuple[int, int] | None:
    """`H12` (or `$H$12`) -> (row 12, 1-based; column 7, 0-based), None when it is no cell."""
    match = _A1.match(ref or "")
    if not match:
        return None
    return int(match.group(2)), col_index(match.group(1))


def a1(row: int, col: int) -> str:
    """0-based row and column -> A1 reference."""
    return f"{col_letter(col)}{row + 1}"


_SORT_PUNCTUATION = str.maketrans({"-": " ", "'": " ", "œ": "oe", "æ": "ae"})


def french_sort_key(text: object) -> tuple[str, str]:
    """Order names the French way: accents, case and hyphens ignored first (Étain among the E,
    Saint-Dié beside Saint Avold), then the text itself to break ties."""
    plain = norm(text).translate(_SORT_PUNCTUATION)
    return _SPACES.sub(" ", plain).strip(), "" if text is None else str(text)
