"""Hostile spreadsheets: refused from their declared dimensions before LibreOffice opens them."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetabot import errors
from smetabot.cli import app
from smetabot.render.detect import sniff

ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Смета">'
)
ODS_TAIL = "</table:table></office:spreadsheet></office:body></office:document-content>"
VALUE = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p>' \
        '</table:table-cell>'


def ods(path: Path, rows: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", ODS_HEAD + rows + ODS_TAIL, zipfile.ZIP_DEFLATED)
    return path


def xlsx(path: Path, cells: str) -> Path:
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxml'
             'formats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/>'
             f'<sheetData>{cells}</sheetData></worksheet>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", sheet, zipfile.ZIP_DEFLATED)
    return path


def billion_cells(path: Path) -> Path:
    """1.3 KB that declares 1,000,000 rows × 1,000 columns of a number."""
    return ods(path, '<table:table-row table:number-rows-repeated="1000000">'
                     '<table:table-cell table:number-columns-repeated="1000" '
                     'office:value-type="float" office:value="7"><text:p>7</text:p>'
                     '</table:table-cell></table:table-row>')


def test_billion_repeated_cells_are_refused_in_well_under_a_second(tmp_path):
    src = billion_cells(tmp_path / "bomb.ods")
    assert src.stat().st_size < 2000
    started = time.perf_counter()
    with pytest.raises(errors.SpreadsheetTooLarge) as caught:
        sniff(src)
    assert time.perf_counter() - started < 0.2
    assert "1,000,000,000" in caught.value.message("en")
    assert "ячеек" in caught.value.message("ru")


def test_empty_repeated_rows_and_columns_cost_nothing(tmp_path):
    # What LibreOffice itself writes after the last row of a styled sheet.
    src = ods(tmp_path / "styled.ods", f'<table:table-row>{VALUE}{VALUE}</table:table-row>'
              '<table:table-row table:number-rows-repeated="1048574"><table:table-cell '
              'table:number-columns-repeated="1024"/></table:table-row>')
    assert sniff(src).kind == "ods"


def test_used_area_counts_the_rows_before_the_last_value(tmp_path):
    src = ods(tmp_path / "far.ods", '<table:table-row table:number-rows-repeated="999999">'
              '<table:table-cell table:number-columns-repeated="3"/></table:table-row>'
              f'<table:table-row><table:table-cell table:number-columns-repeated="2"/>{VALUE}'
              '</table:table-row>')
    with pytest.raises(errors.SpreadsheetTooLarge):
        sniff(src, max_cells=2_999_999)
    assert sniff(src, max_cells=3_000_000).kind == "ods"


def test_xlsx_value_in_the_far_corner_is_refused(tmp_path):
    far = xlsx(tmp_path / "corner.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row>'
               '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')
    with pytest.raises(errors.SpreadsheetTooLarge):
        sniff(far)
    # The same <dimension> with only styled blanks out there is a small sheet.
    near = xlsx(tmp_path / "near.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row>'
                '<row r="1048576"><c r="XFD1048576" s="1"/></row>')
    assert sniff(near).kind == "xlsx"


def test_real_estimates_are_within_the_default_budget(corpus):
    sheets = sorted((corpus / "estimates_ru").glob("*.xlsx")) + \
        sorted((corpus / "office_testsuite").glob("*.ods"))
    assert len(sheets) > 5
    for path in sheets:
        try:
            sniff(path)
        except errors.SpreadsheetTooLarge:
            pytest.fail(f"{path.name} refused as too large")
        except errors.DocumentError:
            pass  # the corpus holds broken and locked files on purpose


def test_cli_refuses_with_its_budget_and_a_clear_line(corpus, tmp_path, monkeypatch):
    cli = CliRunner()
    result = cli.invoke(app, ["render", str(billion_cells(tmp_path / "bomb.ods")), "--out",
                              str(tmp_path / "o")])
    assert result.exit_code == errors.EXIT_DOCUMENT
    assert "1,000,000,000 cells" in result.stderr and "2,000,000" in result.stderr
    monkeypatch.setenv("SMETABOT_RENDER_MAX_CELLS", "100")
    src = corpus / "estimates_ru/ks2_unified-form_blank.xlsx"
    result = cli.invoke(app, ["render", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == errors.EXIT_DOCUMENT
    assert "the limit is 100" in result.stderr
    assert not (tmp_path / "o").exists()
