"""How many cells a spreadsheet declares, read from its XML before LibreOffice opens it.

A 1.3 KB ODS can declare a billion cells (``table:number-rows-repeated`` ×
``table:number-columns-repeated`` on a cell with a value), and LibreOffice then holds a render
worker for minutes laying them out. What counts is the *used area*: the rows down to the last
one with content times the columns across to the last one with content, repeats included.
Empty repeated cells and rows (LibreOffice itself writes a million of them for styled blanks)
cost nothing. XLSX cannot repeat a cell, but one value at XFD1048576 makes the used area the
whole grid; its ``<dimension>`` is not trusted (it may say anything), the cells are read.

Imports nothing of the application.
"""

from __future__ import annotations

import re
import zipfile
from xml.etree import ElementTree

from smetabot.errors import SpreadsheetTooLarge

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ROW, _CELL, _COVERED = f"{{{_TABLE}}}table-row", f"{{{_TABLE}}}table-cell", \
    f"{{{_TABLE}}}covered-table-cell"
_SHEET, _VALUE_TYPE = f"{{{_TABLE}}}table", f"{{{_OFFICE}}}value-type"
_ROWS_REPEATED = f"{{{_TABLE}}}number-rows-repeated"
_COLS_REPEATED = f"{{{_TABLE}}}number-columns-repeated"
_REF = re.compile(r"([A-Z]+)(\d+)")


def check_cells(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], kind: str,
                max_cells: int) -> None:
    """Raise SpreadsheetTooLarge when a sheet of the package uses more than ``max_cells``."""
    if kind == "ods":
        info = names.get("content.xml")
        areas = _ods_areas(zf, info) if info is not None else []
    else:
        areas = [(info.filename, _xlsx_area(zf, info)) for name, info in sorted(names.items())
                 if name.startswith("xl/worksheets/") and name.endswith(".xml")]
    for sheet, (rows, cols) in areas:
        if rows * cols > max_cells:
            raise SpreadsheetTooLarge(f"{sheet}: {rows} rows × {cols} columns",
                                      cells=f"{rows * cols:,}", limit=f"{max_cells:,}")


def _ods_areas(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> list[tuple[str, tuple[int, int]]]:
    areas = []
    name, row, last_row, last_col = "", 0, 0, 0
    with zf.open(info) as stream:
        context = ElementTree.iterparse(stream, events=("start", "end"))
        for event, element in context:
            tag = element.tag
            if event == "start":
                if tag == _SHEET:
                    name = element.get(f"{{{_TABLE}}}name", "")
                    row, last_row, last_col = 0, 0, 0
                continue
            if tag == _ROW:
                repeat = int(element.get(_ROWS_REPEATED, "1") or 1)
                col = used = 0
                for cell in element:
                    if cell.tag not in (_CELL, _COVERED):
                        continue
                    span = int(cell.get(_COLS_REPEATED, "1") or 1)
                    col += span
                    if cell.get(_VALUE_TYPE) is not None or len(cell):
                        used = col
                if used:
                    last_row, last_col = row + repeat, max(last_col, used)
                row += repeat
                element.clear()
            elif tag == _SHEET:
                areas.append((name, (last_row, last_col)))
                element.clear()
    return areas


def _xlsx_area(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    last_row = last_col = 0
    with zf.open(info) as stream:
        row = 0
        for _, element in ElementTree.iterparse(stream, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "row":
                row = int(element.get("r") or row + 1)
                col = 0
                for cell in element:
                    if cell.tag.rsplit("}", 1)[-1] != "c":
                        continue
                    match = _REF.fullmatch(cell.get("r") or "")
                    col = _column(match.group(1)) if match else col + 1
                    if len(cell):  # a value, a formula or inline text; a bare <c/> is styling
                        last_row, last_col = max(last_row, row), max(last_col, col)
                element.clear()
    return last_row, last_col


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number
