"""The invitee list as files for spreadsheets: CSV and XLSX, with replies and attendance.

Both come from :func:`roundtable.reports.render.invitee_rows`, so they hold the
same columns as ``roundtable report --csv``. Invitees wrote some of these cells
themselves (notes, names of representatives): a cell that a spreadsheet would run
as a formula (``=cmd|…``, ``+…``, ``@…``, also after blanks or in full-width forms)
is neutralised in both formats: a quote in front in CSV, typed text in XLSX.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from roundtable.reports.render import (
    INVITEE_COLUMNS,
    invitee_rows,
    looks_like_formula,
    neutralise,
)

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: columns that hold numbers, written as numbers in XLSX so that sums work
NUMERIC_COLUMNS = frozenset({"guests"})
#: columns that hold instants, written as real dates in XLSX (in UTC, which the format shows)
TIME_COLUMNS = frozenset({"invited_at", "responded_at", "attended_at"})
TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'
WIDEST_COLUMN = 60


def invitees_csv(session: Session, slug: str) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to read accents right; CRLF lines."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=INVITEE_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in invitee_rows(session, slug):
        writer.writerow({key: neutralise(value) for key, value in row.items()})
    return out.getvalue().encode("utf-8-sig")


def invitees_xlsx(session: Session, slug: str) -> bytes:
    """One sheet, a bold frozen header with filters, every text cell typed as text."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Invitees"
    sheet.append(list(INVITEE_COLUMNS))
    header_fill = PatternFill("solid", fgColor="0B2A4A")
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="top")
    widths = [len(name) for name in INVITEE_COLUMNS]
    for row_number, row in enumerate(invitee_rows(session, slug), start=2):
        for column_number, name in enumerate(INVITEE_COLUMNS, start=1):
            value = row[name]
            cell = sheet.cell(row=row_number, column=column_number)
            if name in NUMERIC_COLUMNS and value.isdigit():
                cell.value = int(value)
            elif name in TIME_COLUMNS and value:
                # A spreadsheet date has no zone: the instant in UTC, and the format says so.
                cell.value = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
                cell.number_format = TIME_FORMAT
                value = "0000-00-00 00:00:00 UTC"  # its width
            else:
                # Typed as a string explicitly (openpyxl would store "=…" as a formula), a
                # cell is text and shows what was written; the quote prefix, invisible,
                # keeps it text when someone edits it in Excel.
                cell.value = value
                cell.data_type = "s"
                if looks_like_formula(value):
                    cell.quotePrefix = True
            widths[column_number - 1] = max(widths[column_number - 1], len(value))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, WIDEST_COLUMN)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    workbook.properties.creator = "Roundtable"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_filename(slug: str, extension: str, now: datetime) -> str:
    """``inter-ethnic-city-invitees-2027-09-01.xlsx``: the slug is already file-safe."""
    return f"{slug}-invitees-{now.date().isoformat()}.{extension}"
