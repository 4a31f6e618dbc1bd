"""Low-level writer of a format-1 territory workbook with xlsxwriter.

Everything the template, the filled workbooks and the feedback workbooks share: sheets in schema
order, drop-downs reading the hidden Listes sheet, input messages, protection that still lets
people insert rows, sort and filter (the formats themselves in formats.py). Callers say what goes
in the cells (`Content`); this module only knows how to lay it out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from pvd_reporting.atomic import atomic_write
from pvd_reporting.check.checks import live_checks
from pvd_reporting.check.formulas import FORM, Layout
from pvd_reporting.errors import OutputError
from pvd_reporting.format.config import REQUIRED_VALUES
from pvd_reporting.format.issues import Severity
from pvd_reporting.format.matching import col_letter
from pvd_reporting.format.schema import (
    CONTROLS_HEADERS,
    DEPARTMENTS,
    DIGEST_PROPERTY,
    FIRST_DATA_ROW,
    HEADER_ROW,
    SPACER_ROW,
    VERSION_PROPERTY,
    Field,
    Kind,
    Schema,
    TableSheet,
)
from pvd_reporting.outputs.workbook.formats import (
    ERROR_FORMULAS,
    PROTECT_OPTIONS,
    TemplateFormats,
    cell_ref,
    group_of,
    print_setup,
    still_holds,
    wrapped_height,
)
from pvd_reporting.outputs.workbook.prepared import PreparedWorkbook
from pvd_reporting.outputs.workbook.readme import input_title, kind_hint, readme_lines
from pvd_reporting.read.digest import content_digest
from pvd_reporting.read.formula_errors import CellError

CREATED = datetime(2025, 1, 1)  # pinned: the same content gives the same file
# Rows past the prepared ones that still get drop-downs and checks, for rows people add.
VALIDATION_ROWS = 1000
README_TEXT_WIDTH, FORM_HELP_WIDTH = 110, 90
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)

# The Contrôles sheet: errors (row 1, 0-based), warnings (row 2), the sentence (row 3); its header
# row is the one above the first check.
CONTROLS_ERRORS_ROW, CONTROLS_WARNINGS_ROW, CONTROLS_SENTENCE_ROW = 1, 2, 3
CONTROLS_FIRST_ROW = 6
CONTROLS_TOTAL_LABEL = "Erreurs à corriger"
CONTROLS_WARNINGS_LABEL = "Points à vérifier"
CONTROL_WIDTH, WHERE_WIDTH, CODE_WIDTH = 72, 100, 22
READY = "Le classeur est prêt à être envoyé."
CONTROLS_EXPLAINED = (
    "Ces contrôles se recalculent à chaque saisie. Chacun compte les cases qui ne respectent pas une règle "
    "du modèle ; la colonne Code donne celui du contrôle que fait le référent à la réception. "
    "Une case rouge est une erreur à corriger : le classeur n'est prêt qu'une fois toutes corrigées. "
    "Une case orange est un point à vérifier : il n'empêche pas l'envoi."
)


@dataclass
class Mark:
    """A flagged cell of a feedback workbook: the worst severity and every message."""

    severity: Severity
    messages: list[str] = field(default_factory=list)

    def add(self, severity: Severity, message: str) -> None:
        if severity == Severity.ERROR:
            self.severity = Severity.ERROR
        if message not in self.messages:
            self.messages.append(message)


# (sheet key: "territoire" or a table key, 0-based row, 0-based column) -> Mark
Marks = dict[tuple[str, int, int], Mark]


@dataclass
class Content:
    """What goes into the cells. Jalons rows are aligned with the schema's fixed rows."""

    form: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    period: str | None = None
    marks: Marks = field(default_factory=dict)
    # The quarter a carried-forward workbook was made from: its Lisez-moi says so, and its live
    # checks point at what the new quarter has made out of date.
    carried_from: str | None = None
    # A feedback workbook (`validate --annotate`): its Lisez-moi points to the Anomalies sheet.
    feedback: bool = False
    # Appends the Anomalies sheet of a feedback workbook (given the workbook and the formats).
    anomalies: Callable[[xlsxwriter.Workbook, TemplateFormats], None] | None = None
    # A workbook sent out to be filled (template, carried forward, attachment): the digest of its
    # data is recorded in it, so that it comes back « Non rempli » when nobody changed it.
    stamp: bool = False


def stamp_of(schema: Schema, content: Content) -> str | None:
    """The `pvd_empreinte` property a workbook of `content` carries, None when it carries none."""
    return content_digest(schema, content.form, content.tables) if content.stamp else None


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook, schema: Schema, content: Content) -> None:
        self.wb, self.schema, self.content = wb, schema, content
        self.fmt = TemplateFormats(wb)
        self.list_ranges: dict[str, str] = {}
        yes_no = schema.lists.get("oui_non", REQUIRED_VALUES["oui_non"])
        self.yes, self.no = yes_no[0], yes_no[1]
        self.layout = layout_of(schema, content)
        self.checks = live_checks(schema, carried=content.carried_from is not None)

    # -- cells -----------------------------------------------------------------------------
    def cell(self, ws: Worksheet, sheet: str, r: int, c: int, value: Any, fld: Field | None,
             *, locked: bool = False) -> None:
        mark = self.content.marks.get((sheet, r, c))
        group = group_of(fld.kind) if fld else "general"
        if isinstance(value, bool):
            value = self.yes if value else self.no
        if value is None or value == "":
            ws.write_blank(r, c, None, self.fmt.get(group, locked=locked))
        elif isinstance(value, (date, datetime)):
            ws.write_datetime(r, c, value, self.fmt.get("date", locked=locked))
        elif isinstance(value, (int, float)):
            if group in ("text", "date"):
                group = "general"
            ws.write_number(r, c, value, self.fmt.get(group, locked=locked))
        elif isinstance(value, CellError) and str(value) in ERROR_FORMULAS:
            # A formula error read in the received workbook stays one (not the text « #N/A »):
            # the live checks and `validate` still see it, until it is corrected.
            ws.write_formula(r, c, ERROR_FORMULAS[str(value)], self.fmt.get(group, locked=locked), str(value))
        else:
            # write_string: a text beginning with = + - @ stays text, never a formula.
            ws.write_string(r, c, str(value), self.fmt.get(group, locked=locked))
        if mark:
            text = "\n".join(mark.messages)
            ws.write_comment(r, c, text, {"author": "pvd-report", "x_scale": 2.2,
                                          "y_scale": 1 + min(len(text) // 110, 6) * 0.5})
            # Coloured while it still holds what was flagged, not painted: a corrected cell loses
            # its colour (the live checks colour it again if the correction breaks a rule).
            ws.conditional_format(r, c, r, c, {"type": "formula", "criteria": "=" + still_holds(cell_ref(r, c), value),
                                               "format": self.fmt.live[mark.severity]})

    def validate(self, ws: Worksheet, r0: int, c: int, r1: int, fld: Field) -> None:
        """The drop-down or check of a column, with its input message."""
        opts: dict[str, Any] = {
            "input_title": input_title(fld.label),
            "input_message": fld.help[:255],
            "error_title": input_title(fld.label),
            "error_message": kind_hint(fld.kind),
        }
        top = cell_ref(r0, c)
        if fld.choices and fld.kind in (Kind.CHOICE, Kind.YESNO):
            opts.update({"validate": "list", "source": self.list_ranges[fld.choices]})
        elif fld.kind == Kind.DATE:
            opts.update({"validate": "date", "criteria": "between", "minimum": DATE_MIN, "maximum": DATE_MAX})
        elif fld.kind == Kind.AMOUNT:
            opts.update({"validate": "decimal", "criteria": ">=", "value": 0})
        elif fld.kind == Kind.PERCENT:
            # The cell holds 0.8 for 80 %: whoever types 80 in Excel gets 0.8.
            opts.update({"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1})
        elif fld.kind == Kind.INTEGER:
            opts.update({"validate": "integer", "criteria": ">=", "value": 0})
        elif fld.kind == Kind.INSEE:
            # A warning, not a stop: the code may be typed before it is checked.
            opts.update({"validate": "length", "criteria": "==", "value": 5, "error_type": "warning"})
        elif fld.kind == Kind.SIREN:
            digits = f'SUBSTITUTE({top}," ","")'
            opts.update({"validate": "custom", "value": f"=AND(LEN({digits})=9,ISNUMBER(--{digits}))",
                         "error_type": "warning"})
        elif fld.kind in _SHAPE_VALIDATIONS:
            # A warning, not a stop: the live check (Contrôles) says exactly what `validate` refuses;
            # this catches the usual slip on entry, in a formula short enough for Excel (255).
            opts.update({"validate": "custom", "value": "=" + _SHAPE_VALIDATIONS[fld.kind].format(c=top),
                         "error_type": "warning"})
        elif fld.kind == Kind.DEPARTMENT:
            opts.update({"validate": "list", "source": self.list_ranges[DEPARTMENTS_LIST], "error_type": "warning"})
        else:
            opts = {"validate": "any", "input_title": opts["input_title"], "input_message": opts["input_message"]}
        ws.data_validation(r0, c, r1, c, opts)

    # -- sheets ----------------------------------------------------------------------------
    def readme(self) -> None:
        ws = self.wb.add_worksheet(self.schema.readme_name)
        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, README_TEXT_WIDTH, self.fmt.wrap)
        for r, (style, label, text) in enumerate(readme_lines(self.schema, self.content.period, self.content.carried_from,
                                                            feedback=self.content.feedback)):
            if style == "title":
                ws.write_string(r, 0, label, self.fmt.title)
            elif style == "heading":
                ws.write_string(r, 0, label, self.fmt.heading)
            elif style == "pair":
                ws.write_string(r, 0, label, self.fmt.bold)
                ws.write_string(r, 1, text, self.fmt.version if len(text) < 20 else self.fmt.wrap)
            elif text:
                ws.write_string(r, 1, text, self.fmt.wrap)
            # Row heights are not recomputed on opening (LibreOffice, prints): wrapped text
            # would spill over the next line.
            if text:
                ws.set_row(r, wrapped_height(text, README_TEXT_WIDTH))
        print_setup(ws)
        ws.protect("", PROTECT_OPTIONS)

    def form(self) -> None:
        form = self.schema.form
        ws = self.wb.add_worksheet(form.name)
        ws.set_column(0, 0, 40)
        ws.set_column(1, 1, 42)
        ws.set_column(2, 2, FORM_HELP_WIDTH)
        ws.set_column(3, 25, None, self.fmt.unlocked)
        for r, fld in enumerate(form.fields):
            ws.write_string(r, 0, fld.label, self.fmt.label_required if fld.required else self.fmt.label)
            self.cell(ws, form.key, r, 1, self.content.form.get(fld.key), fld)
            help_text = ("Obligatoire. " if fld.required else "") + fld.help
            ws.write_string(r, 2, help_text, self.fmt.help)
            ws.set_row(r, wrapped_height(help_text, FORM_HELP_WIDTH))
            self.validate(ws, r, 1, r, fld)
        self.highlight(ws, FORM)
        print_setup(ws)
        ws.protect("", PROTECT_OPTIONS)

    def table(self, table: TableSheet) -> None:
        ws = self.wb.add_worksheet(table.name)
        rows = self.content.tables.get(table.key, [])
        fixed = {"code", "label"} if table.fixed_rows else set()
        ncols = len(table.columns)
        # Fixed columns keep the default (locked) format: only their written cells are greyed.
        col_formats = [None if f.key in fixed else self.fmt.get(group_of(f.kind)) for f in table.columns]
        for c, fld in enumerate(table.columns):
            ws.set_column(c, c, fld.width, col_formats[c])
            ws.write_string(HEADER_ROW, c, fld.label, self.fmt.header)
        # Every column unlocked to the last one: Excel and LibreOffice refuse to delete a row holding a
        # locked cell. No row format: it would override the column formats in both (typed amounts, dates
        # and phones would lose their display), and on the header row LibreOffice saves its 16,384 cells.
        ws.set_column(ncols, MAX_COLUMN, None, self.fmt.unlocked)
        ws.set_row(HEADER_ROW, 32)
        # Hidden, not thin: LibreOffice gives a row inserted below it its height, not its hiding.
        ws.set_row(SPACER_ROW, None, None, {"hidden": True})
        n = max(len(rows), len(table.fixed_rows))
        prepared = n if table.fixed_rows else max(n, table.blank_rows)
        for i, values in enumerate(rows):
            for c, fld in enumerate(table.columns):
                self.cell(ws, table.key, FIRST_DATA_ROW + i, c, values.get(fld.key), fld, locked=fld.key in fixed)
        # Empty rows get their format and unlocking from the column format, which also covers
        # rows people insert later; writing blank cells would triple the writing time.
        last = checked_rows(table, self.content)
        for c, fld in enumerate(table.columns):
            if fld.key not in fixed:
                self.validate(ws, SPACER_ROW, c, last, fld)
        self.highlight(ws, table.key)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        if not table.fixed_rows:
            ws.autofilter(HEADER_ROW, 0, FIRST_DATA_ROW - 1 + max(prepared, 1), ncols - 1)
        print_setup(ws)
        ws.repeat_rows(HEADER_ROW)
        ws.protect("", PROTECT_OPTIONS)

    def highlight(self, ws: Worksheet, sheet: str) -> None:
        """Colour, while people type, the cells that break a live check of this sheet."""
        for check in self.checks:
            if check.sheet != sheet:
                continue
            for cells, condition in check.highlights(self.layout):
                rule = {"type": "formula", "criteria": "=" + condition, "format": self.fmt.live[check.level]}
                if " " in cells:
                    rule["multi_range"] = cells
                ws.conditional_format(cells.split(" ")[0], rule)

    def controls(self) -> None:
        """Contrôles: a live count per check, their total and whether the workbook is ready."""
        ws = self.wb.add_worksheet(self.schema.controls_name)
        ws.set_column(0, 0, CONTROL_WIDTH, self.fmt.wrap)
        ws.set_column(1, 1, 13)
        ws.set_column(2, 2, WHERE_WIDTH, self.fmt.wrap)
        ws.set_column(3, 3, CODE_WIDTH, self.fmt.wrap)
        first = CONTROLS_FIRST_ROW
        ws.write_string(0, 0, "Contrôles du classeur", self.fmt.title)
        totals = {}
        for row, label, level in ((CONTROLS_ERRORS_ROW, CONTROLS_TOTAL_LABEL, Severity.ERROR),
                                  (CONTROLS_WARNINGS_ROW, CONTROLS_WARNINGS_LABEL, Severity.WARNING)):
            ws.write_string(row, 0, label, self.fmt.bold)
            cells = [cell_ref(first + i, 1) for i, c in enumerate(self.checks) if c.level == level]
            # An array formula too: LibreOffice, recalculating a file on load, may sum the array
            # formulas below before it has computed them.
            ws.write_array_formula(row, 1, row, 1, "{=SUM(" + (",".join(cells) or "0") + ")}", self.fmt.total, 0)
            ws.conditional_format(row, 1, row, 1, {"type": "cell", "criteria": ">", "value": 0,
                                                   "format": self.fmt.live[level]})
            totals[level] = cell_ref(row, 1)
        errors, warnings = totals[Severity.ERROR], totals[Severity.WARNING]
        ws.merge_range(CONTROLS_SENTENCE_ROW, 0, CONTROLS_SENTENCE_ROW, 2, "", self.fmt.heading)
        to_check = (f'IF({warnings}=0,"",IF({warnings}=1,"{{and}}1 point à vérifier",'
                    f'"{{and}}"&{warnings}&" points à vérifier"))')
        ws.write_formula(
            CONTROLS_SENTENCE_ROW, 0,
            f'=IF({errors}=0,"{READY[:-1]}"&{to_check.format(**{"and": " ("})}&IF({warnings}=0,"",")")&".",'
            f'IF({errors}=1,"1 erreur à corriger",{errors}&" erreurs à corriger")&{to_check.format(**{"and": " et "})}'
            f'&" : voyez ci-dessous les contrôles qui ne sont pas à 0, puis les cases colorées des onglets '
            f'(rouge : erreur, orange : point à vérifier).")',
            self.fmt.heading, "")
        ws.merge_range(CONTROLS_SENTENCE_ROW + 1, 0, CONTROLS_SENTENCE_ROW + 1, 2, CONTROLS_EXPLAINED, self.fmt.help)
        ws.set_row(CONTROLS_SENTENCE_ROW + 1, wrapped_height(CONTROLS_EXPLAINED, CONTROL_WIDTH + WHERE_WIDTH))
        for c, header in enumerate(CONTROLS_HEADERS):
            ws.write_string(first - 1, c, header, self.fmt.header)
        for i, check in enumerate(self.checks):
            r = first + i
            ws.write_string(r, 0, check.title, self.fmt.wrap)
            ws.write_string(r, 3, str(check.code), self.fmt.code)
            ws.write_array_formula(r, 1, r, 1, "{=" + check.count(self.layout) + "}", self.fmt.count, 0)
            where = check.where(self.layout)
            ws.write_string(r, 2, where, self.fmt.wrap)
            # Both programs fit about a quarter more characters in a line than the width says.
            ws.set_row(r, max(wrapped_height(check.title, CONTROL_WIDTH * 5 // 4),
                              wrapped_height(where, WHERE_WIDTH * 5 // 4)))
            ws.conditional_format(r, 1, r, 1, {"type": "cell", "criteria": ">", "value": 0,
                                               "format": self.fmt.live[check.level]})
        ws.freeze_panes(first, 0)
        print_setup(ws)
        ws.protect("", PROTECT_OPTIONS)

    def lists(self) -> None:
        ws = self.wb.add_worksheet(self.schema.lists_name)
        sheet = quote_sheetname(self.schema.lists_name)
        for c, (key, values) in enumerate(_listed(self.schema).items()):
            ws.set_column(c, c, max(len(v) for v in values) + 2)
            ws.write_string(0, c, key, self.fmt.bold)
            for r, value in enumerate(values, start=1):
                ws.write_string(r, c, value)
            letter = col_letter(c)
            self.list_ranges[key] = f"={sheet}!${letter}$2:${letter}${len(values) + 1}"
        ws.hide()
        ws.protect("", PROTECT_OPTIONS)


def write_workbook(path: Path, schema: Schema, content: Content, *, force: bool = False) -> Path:
    """Write the workbook to a temporary name beside `path`, then move it into place."""
    path = Path(path)
    check_output(path, force)

    def write(tmp: Path) -> None:
        try:
            render(str(tmp), schema, content)
        except FileCreateError as exc:
            # xlsxwriter wraps the OSError: unwrap it so atomic_write reports it in French.
            cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))
            raise cause from None

    atomic_write(path, write)
    return path


def render(target: str | IO[bytes], schema: Schema, content: Content) -> TemplateFormats:
    """Write the workbook of `content` to `target` (a file name or a binary buffer); its formats
    are returned, each with its style index, for whoever fills the same workbook again."""
    wb = PreparedWorkbook(target, {"in_memory": True})
    wb.set_properties({"title": "Petites villes de demain — suivi trimestriel",
                       "author": "pvd-report", "created": CREATED})
    wb.set_custom_property(VERSION_PROPERTY, schema.version)
    stamp = stamp_of(schema, content)
    if stamp is not None:
        wb.set_custom_property(DIGEST_PROPERTY, stamp)
    w = _Writer(wb, schema, content)
    # Listes is written last but its ranges are needed first: compute them up front.
    sheets: list[Callable[[], None]] = [w.readme, w.controls, w.form, *(_bind(w, t) for t in schema.tables)]
    _precompute_ranges(w)
    for make in sheets:
        make()
    w.lists()
    if content.anomalies is not None:
        content.anomalies(wb, w.fmt)
    wb.close()
    return w.fmt


# The last 0-based column of a sheet (XFD).
MAX_COLUMN = 16_383


# Short entry checks of the kinds whose full rule is a live check; {c}: the cell.
_SHAPE_VALIDATIONS = {
    Kind.PVD_ID: 'LEFT(LOWER(TRIM({c})),4)="pvd-"',
    Kind.PERIOD: 'AND(LEN(TRIM({c}))>=6,ISNUMBER(FIND("T",UPPER({c})))+ISNUMBER(FIND("Q",UPPER({c})))>0)',
    Kind.EMAIL: 'AND(ISNUMBER(FIND("@",{c})),ISERROR(FIND(";",{c})),ISERROR(FIND(",",{c})),'
                'ISERROR(FIND(" ",TRIM({c}))))',
    Kind.PHONE: 'LEN(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({c}," ",""),".",""),"-",""))>=10',
}
# The Listes column of the département codes (the drop-down of the Département cell).
DEPARTMENTS_LIST = "departement"


def layout_of(schema: Schema, content: Content | None = None) -> Layout:
    """Where the live checks look in a workbook written with `content` (the blank template by default)."""
    content = content or Content()
    return Layout(schema, {t.key: checked_rows(t, content) + 1 for t in schema.tables})


def checked_rows(table: TableSheet, content: Content) -> int:
    """The last 0-based row of a table that gets validation and live checks."""
    n = max(len(content.tables.get(table.key, [])), len(table.fixed_rows))
    rows = max(n, 1) if table.fixed_rows else max(n, table.blank_rows, VALIDATION_ROWS)
    return FIRST_DATA_ROW - 1 + rows


def _bind(w: _Writer, table: TableSheet) -> Callable[[], None]:
    return lambda: w.table(table)


def _precompute_ranges(w: _Writer) -> None:
    sheet = quote_sheetname(w.schema.lists_name)
    for c, (key, values) in enumerate(_listed(w.schema).items()):
        letter = col_letter(c)
        w.list_ranges[key] = f"={sheet}!${letter}$2:${letter}${len(values) + 1}"


def _listed(schema: Schema) -> dict[str, tuple[str, ...]]:
    """The columns of the Listes sheet: the schema's lists, then the département codes."""
    return {**schema.lists, DEPARTMENTS_LIST: DEPARTMENTS}


def check_output(path: Path, force: bool) -> None:
    """Refuse, in French, an output that cannot or should not be written."""
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"Dossier introuvable pour {path} : créez-le d'abord.")
    if path.is_dir():
        raise OutputError(f"{path} est un dossier : donnez un nom de fichier .xlsx.")
    if path.exists() and not force:
        raise OutputError(f"Le fichier {path} existe déjà : utilisez --force pour le remplacer.")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"Dossier non accessible en écriture : {parent}.")
