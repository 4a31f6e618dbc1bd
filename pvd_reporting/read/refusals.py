"""What is refused before the spreadsheet library reads a workbook, and why, in French
(docs/securite.md): the whole file (its text beyond the memory budget, or a sheet beyond the limits
where the library reads every sheet on opening) or one sheet, from the costs measured in bounds.py.
"""

from __future__ import annotations

from collections.abc import Collection

from pvd_reporting.format.french import fr_int
from pvd_reporting.format.issues import Issue, IssueCode, make_issue
from pvd_reporting.format.matching import norm
from pvd_reporting.read.bounds import (
    MAX_ROWS,
    MAX_SHEET_CELLS,
    MAX_SHEET_XML_BYTES,
    MAX_TEXT_BYTES,
    SheetCost,
    WorkbookCost,
    mb,
)


def too_large(reason: str) -> Issue:
    return make_issue(IssueCode.FILE_TOO_LARGE, reason=f"Classeur refusé : {reason}. Repartez du modèle "
                      "et recopiez-y vos données, puis renvoyez-le.")


def file_refusal(cost: WorkbookCost | None, unread: Collection[str] = ()) -> Issue | None:
    """The reason to refuse the whole file before the library reads it, if any: the text of its
    sheets beyond the memory budget, or (the library reading every sheet on opening) one sheet
    beyond the limits."""
    if cost is None:
        return None
    read = [s for s in cost.sheets.values() if norm(s.title) not in unread]
    text = sum(s.text_bytes for s in read)
    if text > MAX_TEXT_BYTES:
        return too_large(f"ses onglets contiendraient plus de {mb(MAX_TEXT_BYTES)} Mo de texte une fois lus "
                         "(un même texte compté à chaque cellule qui l'affiche)")
    if cost.eager:
        for sheet in cost.sheets.values():
            if sheet.too_many_cells:
                return too_large(f"l'onglet « {sheet.title} » s'étend sur {_sheet_size()}, trop pour être lu")
    return None


def _sheet_size() -> str:
    return f"une grille de plus de {fr_int(MAX_SHEET_CELLS)} cellules"


def sheet_refusal(sheet: SheetCost | None, name: str) -> Issue | None:
    """Why a sheet is not loaded (too many rows, too large a grid), before the library reads it."""
    if sheet is None:
        return None
    if sheet.bad_date is not None:
        cell, value = sheet.bad_date
        return make_issue(
            IssueCode.UNREADABLE_SHEET, sheet=name, cell=cell, value=value,
            reason=f"La cellule {cell} de l'onglet « {sheet.title} » est une date dont le nombre ({value}) "
            "ne correspond à aucun jour : l'onglet n'est pas lu. Corrigez la date de cette cellule.")
    if sheet.too_many_rows:
        return make_issue(
            IssueCode.TOO_MANY_ROWS, sheet=name,
            reason=f"L'onglet « {sheet.title} » compte {'au moins ' if sheet.over else ''}{fr_int(sheet.height)} "
            f"lignes : au-delà de {fr_int(MAX_ROWS)} lignes il n'est pas lu. Supprimez les lignes inutiles.")
    if sheet.xml_bytes > MAX_SHEET_XML_BYTES:
        return make_issue(
            IssueCode.SHEET_TOO_LARGE, sheet=name,
            reason=f"L'onglet « {sheet.title} » occupe plus de {mb(MAX_SHEET_XML_BYTES)} Mo une fois "
            "décompressé : il n'est pas lu. Recopiez le tableau dans un modèle neuf.")
    if sheet.too_many_cells:
        return make_issue(
            IssueCode.SHEET_TOO_LARGE, sheet=name,
            reason=f"L'onglet « {sheet.title} » s'étend sur {_sheet_size()} (de sa première à sa "
            "dernière cellule remplie, ou selon ses dimensions déclarées) : il n'est pas lu. Supprimez les "
            "cellules remplies loin du tableau, ou recopiez le tableau dans un modèle neuf.")
    return None
