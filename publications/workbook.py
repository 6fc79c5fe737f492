"""A statement's files: the CSV (every column, machine names) and the XLSX (people's words,
ready to print).

* **Safe.** Text from upstream never becomes a formula: in the CSV a value starting with
  ``= + - @``, tab or carriage return is prefixed with ``'`` (OWASP's CSV-injection
  guidance); in the XLSX every text cell is typed as a string, and characters a worksheet
  cannot hold are written as ``\\xNN``. No formula at all: the TOTAL line holds the checked sums.
* **Reproducible.** The same statement gives the same bytes: zip entries in name order at
  one fixed time, document times from the warehouse build.
* **Printable** (D44). Landscape, one page wide, the heading row on every page, a header
  (the statement, its period, PROVISIONAL when it is) and a footer (the build, page x of y) on
  every page, the Notes wrapped in a readable column, months as 2024-07.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList

MONEY, RATE, RATIO, PERCENT, DATE, MONTH = (
    "#,##0.00",
    "0.00%",
    "0.00",
    "0.0%",
    "yyyy-mm-dd",
    "yyyy-mm",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Arial, not openpyxl's Calibri: every office suite has it or a metric twin (Liberation Sans),
# so column widths and the print scale come out the same in Excel and LibreOffice (D44).
FONT, FONT_PT, HEADER_PT = "Arial", 10, 9
LINE_PT = 12.75  # the height of one line of 10 pt Arial in a row
ROW_MAX_PT = 409  # the tallest row Excel and LibreOffice keep
# A provisional statement's banner, at the top of every printed page (issue 47).
PROVISIONAL_BANNER, BANNER_PT, BANNER_COLOR = "PROVISIONAL · NOT FOR SETTLEMENT", 16, "C00000"


@dataclass(frozen=True)
class Column:
    name: str  # the warehouse's column (the CSV's heading)
    label: str  # what people read (the workbook's heading), units in brackets
    fmt: str | None = None  # Excel number format
    width: int = 12  # printed width, in characters
    printed: bool = True  # in the workbook (every column is in the CSV)
    wrap: bool = False  # long text (names) wraps within the width instead of running on


@dataclass
class Statement:
    kind: str  # rebates | compensation
    title: str  # "Monthly rebates 2024-07"
    period: str  # 2024-07 | 2024-07-01..2024-07-31
    stem: str  # file names
    sheet: str  # ≤ 31 characters
    columns: list[Column]
    rows: list[tuple]
    money: list[str]  # columns with a control total
    label: str  # the column that says TOTAL
    notes: list[tuple[str, str]] = field(default_factory=list)  # (heading, line): the Notes
    provisional: bool = False
    as_of: str = ""  # "build 822b55f2c44d · data through 2024-08-03", on every page

    def label_of(self, name: str) -> str:
        return next(c.label for c in self.columns if c.name == name)

    @property
    def period_said(self) -> str:
        """The period for people: 2024-07, or 2024-07-01 to 2024-07-31."""
        return self.period.replace("..", " to ")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def csv_text(value: str) -> str:
    """A text cell of the CSV, never read as a formula by a spreadsheet."""
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(statement: Statement, total: tuple) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(statement.names)
    for row in [*statement.rows, total]:
        writer.writerow(
            [
                ""
                if v is None
                else csv_text(v)
                if isinstance(v, str)
                else v.isoformat()
                if isinstance(v, dt.date)
                else str(v)
                for v in row
            ]
        )
    return buf.getvalue().encode("utf-8")


CELL_MAX = 32_767  # characters a spreadsheet cell holds (Excel's limit; LibreOffice's too)


def cut_mark(length: int) -> str:
    return f" … [cut: {length:,} characters in all; the CSV holds the whole text]"


def fitted(text: str) -> str:
    """Text a cell can hold: too long, it is cut and says so, in the cell itself (issue 47)."""
    if len(text) <= CELL_MAX:
        return text
    mark = cut_mark(len(text))
    return text[: CELL_MAX - len(mark)] + mark


def _cut_cells(statement: Statement) -> list[str]:
    """Where the workbook cuts text, for the Notes: row and column, as people read them."""
    return [
        f"row {i} ({statement.columns[j].label}, {len(v):,} characters)"
        for i, row in enumerate(statement.rows, start=2)
        for j, v in enumerate(row)
        if isinstance(v, str) and len(v) > CELL_MAX
    ]


def _cell(
    ws, row: int, col: int, value, fmt: str | None = None, bold: bool = False, wrap: bool = False
):
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = fitted(ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", value))
        cell.data_type = "s"  # typed as text: openpyxl would make '=…' a formula
    elif isinstance(value, Decimal):
        cell.value = float(value)
    else:
        cell.value = value
    if fmt:
        cell.number_format = fmt
    cell.font = Font(name=FONT, size=FONT_PT, bold=bold)
    # Top-aligned: a wrapped name and its figures read on one line.
    cell.alignment = Alignment(wrap_text=wrap, vertical="top")
    return cell


def _header_text(text: str) -> str:
    """Text for a page header or footer: '&' starts a code there, so it is doubled."""
    return text.replace("&", "&&")


def _lines(text: str, width: int) -> int:
    """How many lines ``text`` takes wrapped in a column ``width`` characters wide (a little
    pessimistic: a row too tall prints, one too short hides text)."""
    per_line = max(1, int(width * 0.95))
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _fit_rows(ws, widths: dict[int, int], first_row: int = 1) -> None:
    """Rows with wrapped text get the height their longest cell needs: a spreadsheet computes
    it when it edits a cell, but prints a saved file with the heights it was given."""
    for row in ws.iter_rows(min_row=first_row):
        lines = max(
            (
                _lines(str(c.value), widths[c.column])
                for c in row
                if c.value is not None and c.alignment.wrap_text and c.column in widths
            ),
            default=1,
        )
        if lines > 1:  # at most the tallest row a spreadsheet has
            ws.row_dimensions[row[0].row].height = min(lines * LINE_PT + 2, ROW_MAX_PT)


def _print_setup(ws, statement: Statement) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    # One page wide, as many pages long as it needs.
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.page_margins.header = ws.page_margins.footer = 0.3
    parts = {
        "header": (
            _header_text(statement.title),
            PROVISIONAL_BANNER if statement.provisional else "",
            _header_text(statement.period_said),
        ),
        "footer": (
            _header_text(f"As of {statement.as_of}"),
            "Page &P of &N",
            _header_text(statement.stem),
        ),
    }
    for kind, (left, center, right) in parts.items():
        for which in ("odd", "even", "first"):
            block = getattr(ws, f"{which}{kind.capitalize()}")
            for part, text in ((block.left, left), (block.center, center), (block.right, right)):
                part.text, part.size = text, HEADER_PT
                part.font = (
                    f"{FONT},Bold"
                    if part is block.center or (kind == "header" and part is block.left)
                    else f"{FONT},Regular"
                )
            if kind == "header" and statement.provisional:  # unmistakable on every printed page
                block.center.size, block.center.color = BANNER_PT, BANNER_COLOR


def to_xlsx(statement: Statement, total: tuple, built_at: dt.datetime | None) -> bytes:
    wb = Workbook()
    # The default style's font: column widths count in it.
    wb._fonts = IndexedList([Font(name=FONT, size=FONT_PT)])
    _statement_sheet(wb.active, statement, total)
    _notes_sheet(wb.create_sheet("Notes"), statement)
    stamp = (built_at or dt.datetime(2000, 1, 1)).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = wb.properties.lastModifiedBy = "fullsite"
    wb.properties.created = stamp
    wb.properties.title = statement.title
    buf = io.BytesIO()
    wb.save(buf)
    return _stable_zip(buf.getvalue(), stamp)


def _statement_sheet(ws, statement: Statement, total: tuple) -> None:
    """The printed columns, a heading row that stays in view and prints on every page, the
    lines, and the TOTAL line in bold."""
    ws.title = statement.sheet
    printed = [(j, c) for j, c in enumerate(statement.columns) if c.printed]
    widths = {k: col.width for k, (_, col) in enumerate(printed, start=1)}
    for k, (_, col) in enumerate(printed, start=1):
        head = _cell(ws, 1, k, col.label, bold=True, wrap=True)
        head.fill = PatternFill("solid", start_color="F2F4F7")
        ws.column_dimensions[get_column_letter(k)].width = col.width
    for i, row in enumerate([*statement.rows, total], start=2):
        last = i == len(statement.rows) + 2
        for k, (j, col) in enumerate(printed, start=1):
            value = row[j]
            fmt = col.fmt or (DATE if isinstance(value, dt.date) else None)
            _cell(ws, i, k, value, fmt, bold=last, wrap=isinstance(value, str) and col.wrap)
    _fit_rows(ws, widths)
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"  # the heading row on every printed page
    ws.auto_filter.ref = f"A1:{get_column_letter(len(printed))}{len(statement.rows) + 1}"
    _print_setup(ws, statement)


def _notes_sheet(notes, statement: Statement) -> None:
    note_widths = {1: 20, 2: 100}
    for k, width in note_widths.items():
        notes.column_dimensions[get_column_letter(k)].width = width
    for i, (heading, line) in enumerate(_notes(statement), start=1):
        _cell(notes, i, 1, heading, bold=True, wrap=True)
        _cell(notes, i, 2, line, wrap=True)
    _fit_rows(notes, note_widths)
    _print_setup(notes, statement)


def _notes(statement: Statement) -> list[tuple[str, str]]:
    """The Notes sheet: PROVISIONAL first when it is, the statement's notes, and where the
    workbook cuts text a cell cannot hold."""
    lines = []
    if statement.provisional:
        said = (
            f"Some figures of this period are not final yet ({statement.as_of}): they can still "
            "change as later nights are published. Not for settlement: issue it again once final."
        )
        lines.append(("PROVISIONAL", said))
    lines += statement.notes
    if cut := _cut_cells(statement):
        said = (
            f"Text longer than a spreadsheet cell holds ({CELL_MAX:,} characters) is cut in this "
            f"workbook and marked where it is cut: {'; '.join(cut)}. The CSV holds it whole."
        )
        lines.append(("Cut", said))
    return lines


def _stable_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """The same workbook as the same bytes: entries in name order at one fixed time, and the
    document's modified time (openpyxl writes "now") set to the warehouse's build time."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for name in sorted(src.namelist()):
            body = src.read(name)
            if name == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + iso.encode() + rb"\g<2>",
                    body,
                )
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
            dst.writestr(info, body)
    return out.getvalue()
