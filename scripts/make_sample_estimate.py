"""Writes the made-up documents in samples/, so that their provenance is plain.

- smeta-remont-kvartiry.pdf — a three-page renovation estimate (the README's main job renders it);
- smeta-kottedzh.pdf — a longer estimate of the same kind, 16 A4 pages;
- smeta-remont-kvartiry.xlsx — the estimate as a workbook: sheets "Смета" (about three pages)
  and "Акт"; no page setup, so the paper size is the OOXML default (US Letter) and the width is
  the converter's to fit;
- dogovor-podryada.docx — a two-page contract with a table of stages;
- zashchishchen-parolem.pdf — one page, AES-256, opened only with the user password "1234".

The Office files are written as bare OOXML packages (no library needed) with fixed timestamps,
so running this again gives the same bytes. Run: .venv/bin/python scripts/make_sample_estimate.py
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pymupdf

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

WORKS = [
    ("Демонтаж напольного покрытия", "м²"), ("Демонтаж плитки со стен", "м²"),
    ("Вынос строительного мусора", "меш."), ("Штукатурка стен по маякам", "м²"),
    ("Шпаклёвка стен под покраску", "м²"), ("Грунтование стен", "м²"),
    ("Окраска стен в два слоя", "м²"), ("Устройство стяжки пола", "м²"),
    ("Укладка ламината", "м²"), ("Монтаж плинтуса", "м.п."),
    ("Укладка керамогранита", "м²"), ("Затирка швов", "м²"),
    ("Монтаж натяжного потолка", "м²"), ("Прокладка кабеля ВВГнг 3×2,5", "м.п."),
    ("Установка розеток и выключателей", "шт."), ("Монтаж светильников", "шт."),
    ("Разводка труб водоснабжения", "точка"), ("Установка унитаза", "шт."),
    ("Установка смесителя", "шт."), ("Монтаж межкомнатных дверей", "шт."),
]
CSS = ("* {font-family: sans-serif; font-size: 9pt} table {width: 100%; border-collapse: "
       "collapse} td, th {border: 1px solid #444; padding: 3px} td.n {text-align: right}")
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
A4 = (595.2756, 841.8898)  # points: 210 × 297 mm exactly (2481 × 3508 px at 300 DPI)


def rub(amount: int) -> str:
    """``1234567`` → ``1 234 567 ₽`` with no-break spaces."""
    return f"{amount:,}".replace(",", "\u00a0") + "\u00a0₽"


def works(seed: int, count: int) -> list[tuple[str, str, int, int]]:
    """``count`` estimate lines (name, unit, quantity, price), the same for the same seed."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        name, unit = rng.choice(WORKS)
        lines.append((name, unit, rng.randint(1, 60), rng.randrange(150, 4500, 50)))
    return lines


def estimate_pdf(target: Path, title: str, customer: str, seed: int, sheets: int) -> None:
    """An A4 estimate of ``sheets`` pages, 26 lines a page, the total on the last."""
    doc = pymupdf.open()
    lines = works(seed, 26 * sheets)
    total = 0
    for sheet in range(sheets):
        rows = []
        for number in range(sheet * 26, sheet * 26 + 26):
            name, unit, qty, price = lines[number]
            total += qty * price
            rows.append(f"<tr><td>{number + 1}</td><td>{name}</td><td>{unit}</td>"
                        f"<td class=n>{qty}</td><td class=n>{rub(price)}</td>"
                        f"<td class=n>{rub(qty * price)}</td></tr>")
        footer = f"<p><b>Итого по смете: {rub(total)}</b></p>" if sheet == sheets - 1 else ""
        html = (f"<h2>{title}</h2><p>{customer}</p>"
                f"<p>Лист {sheet + 1} из {sheets}</p><table><tr><th>№</th>"
                "<th>Наименование работ</th><th>Ед.</th><th>Кол-во</th><th>Цена</th>"
                "<th>Сумма</th></tr>" + "".join(rows) + "</table>" + footer)
        page = doc.new_page(width=A4[0], height=A4[1])
        page.insert_htmlbox(pymupdf.Rect(40, 40, 555, 800), html, css=CSS)
    doc.set_metadata({"title": f"{title} (пример)", "creator": "SmetaBot"})
    doc.subset_fonts()
    doc.save(target, garbage=4, deflate=True, no_new_id=True)


def protected_pdf(target: Path) -> None:
    """One page that opens only with the user password "1234"."""
    doc = pymupdf.open()
    page = doc.new_page(width=A4[0], height=A4[1])
    page.insert_htmlbox(pymupdf.Rect(40, 40, 555, 800),
                        "<h2>Смета № 18/2026</h2><p>Файл защищён паролем 1234.</p>", css=CSS)
    doc.subset_fonts()
    doc.save(target, garbage=4, deflate=True, encryption=pymupdf.PDF_ENCRYPT_AES_256,
             user_pw="1234", owner_pw="smetabot-owner")


def write_package(target: Path, parts: dict[str, str]) -> None:
    """An OOXML package (a zip) with fixed timestamps, so the bytes do not change run to run."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, text.encode())


RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
        '"http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>')
REL = '<Relationship Id="{}" Type="{}" Target="{}"/>'
OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def cell(ref: str, value: str | int, style: int = 1, formula: str = "") -> str:
    """One worksheet cell: an inline string, or a number (with its formula and cached value)."""
    if isinstance(value, str):
        return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    f = f"<f>{formula}</f>" if formula else ""
    return f'<c r="{ref}" s="{style}">{f}<v>{value}</v></c>'


def worksheet(rows: list[str], widths: list[float], merges: list[str] = ()) -> str:
    cols = "".join(f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>'
                   for n, w in enumerate(widths, 1))
    merged = (f'<mergeCells count="{len(merges)}">'
              + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
              if merges else "")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
            f'"{SHEET_NS}"><cols>{cols}</cols><sheetData>{"".join(rows)}</sheetData>{merged}'
            '</worksheet>')


def estimate_xlsx(target: Path) -> None:
    """The apartment estimate as a two-sheet workbook with formulas and their cached values."""
    lines = works(7, 78)
    title, note = 0, 4  # styles: 0 plain, 1 bordered, 2 bordered bold, 3 bordered money, 4 bold
    customer = "Заказчик: Петров П.П. · Объект: г. Москва, ул. Примерная, д. 1, кв. 2"
    rows = [f'<row r="1">{cell("A1", "Смета № 17/2026 на ремонт квартиры", note)}</row>',
            f'<row r="2">{cell("A2", customer, title)}</row>']
    header = ["№", "Наименование работ", "Ед.", "Кол-во", "Цена, ₽", "Сумма, ₽", "Примечание"]
    rows.append('<row r="4">' + "".join(cell(f"{c}4", h, 2) for c, h in zip("ABCDEFG", header))
                + "</row>")
    total = 0
    for n, (name, unit, qty, price) in enumerate(lines, 1):
        r = n + 4
        total += qty * price
        rows.append(f'<row r="{r}">' + cell(f"A{r}", n) + cell(f"B{r}", name)
                    + cell(f"C{r}", unit) + cell(f"D{r}", qty) + cell(f"E{r}", price, 3)
                    + cell(f"F{r}", qty * price, 3, f"D{r}*E{r}")
                    + cell(f"G{r}", "по факту" if n % 9 == 0 else "") + "</row>")
    last = len(lines) + 4
    rows.append(f'<row r="{last + 1}">' + cell(f"B{last + 1}", "Итого по смете", 2)
                + cell(f"F{last + 1}", total, 3, f"SUM(F5:F{last})") + "</row>")
    smeta = worksheet(rows, [6, 46, 8, 10, 14, 16, 24])
    act_rows = [f'<row r="1">{cell("A1", "Акт № 1 о приёмке выполненных работ", note)}</row>',
                '<row r="3">' + cell("A3", "№", 2) + cell("B3", "Этап", 2)
                + cell("C3", "Сумма, ₽", 2) + "</row>"]
    stages = [("Демонтаж", total // 10), ("Черновая отделка", total // 2),
              ("Чистовая отделка", total - total // 10 - total // 2)]
    for n, (stage, amount) in enumerate(stages, 1):
        act_rows.append(f'<row r="{n + 3}">' + cell(f"A{n + 3}", n) + cell(f"B{n + 3}", stage)
                        + cell(f"C{n + 3}", amount, 3) + "</row>")
    act_rows.append('<row r="8">' + cell("A8", "Работы выполнены полностью и в срок. "
                                               "Заказчик претензий не имеет.", 0) + "</row>")
    act = worksheet(act_rows, [6, 40, 18], ["A8:C8"])
    styles = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{SHEET_NS}">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.00"/></numFmts>'
        '<fonts count="2"><font><sz val="10"/><name val="Arial"/></font>'
        '<font><b/><sz val="10"/><name val="Arial"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '<border><left style="thin"/><right style="thin"/><top style="thin"/>'
        '<bottom style="thin"/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="5">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1">'
        '<alignment wrapText="1" vertical="top"/></xf>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" '
        'applyBorder="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="1" xfId="0" applyNumberFormat="1" '
        'applyBorder="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '</cellXfs></styleSheet>')
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns='
                f'"{SHEET_NS}" xmlns:r="{OFFICE_DOC[:-1]}"><sheets>'
                '<sheet name="Смета" sheetId="1" r:id="rId1"/>'
                '<sheet name="Акт" sheetId="2" r:id="rId2"/></sheets></workbook>')
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml."
    write_package(target, {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://'
            'schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}worksheet+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{ct}worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}styles+xml"/></Types>'),
        "_rels/.rels": RELS.format(REL.format("rId1", OFFICE_DOC + "officeDocument",
                                              "xl/workbook.xml")),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": RELS.format(
            REL.format("rId1", OFFICE_DOC + "worksheet", "worksheets/sheet1.xml")
            + REL.format("rId2", OFFICE_DOC + "worksheet", "worksheets/sheet2.xml")
            + REL.format("rId3", OFFICE_DOC + "styles", "styles.xml")),
        "xl/worksheets/sheet1.xml": smeta,
        "xl/worksheets/sheet2.xml": act,
        "xl/styles.xml": styles,
    })


def contract_docx(target: Path) -> None:
    """A two-page A4 contract: numbered clauses and a table of stages."""
    rng = random.Random(11)

    def para(text: str, bold: bool = False, size: int = 22) -> str:
        props = f'<w:rPr>{"<w:b/>" if bold else ""}<w:sz w:val="{size}"/></w:rPr>'
        return f'<w:p><w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'

    def tc(text: str) -> str:
        return f"<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr>{para(text)}</w:tc>"

    body = [para("Договор строительного подряда № 17/2026", True, 32),
            para("г. Москва, 1 января 2026 г."),
            para("ООО «Ремонт» (Подрядчик) и Петров П.П. (Заказчик) заключили договор о "
                 "нижеследующем.")]
    clauses = [("Подрядчик выполняет ремонт квартиры по адресу: г. Москва, ул. Примерная, д. 1, "
               "кв. 2, в объёме, указанном в смете № 17/2026."),
               "Заказчик принимает выполненные работы по акту и оплачивает их в сроки договора.",
               "Материалы закупает Подрядчик; их стоимость входит в смету.",
               "Изменение объёма работ оформляется дополнительным соглашением.",
               "Гарантийный срок на выполненные работы — 24 месяца со дня подписания акта."]
    for section in range(1, 9):
        body.append(para(f"{section}. Раздел {section}", True, 24))
        for item in range(1, 5):
            body.append(para(f"{section}.{item}. {rng.choice(clauses)}"))
    border = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                     for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    rows = [("Этап", "Срок", "Сумма, ₽"), ("Демонтаж", "до 15.01.2026", "120 000"),
            ("Черновая отделка", "до 15.02.2026", "480 000"),
            ("Чистовая отделка", "до 31.03.2026", "390 000")]
    table = (f'<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:tblBorders>{border}'
             "</w:tblBorders></w:tblPr>"
             + "".join("<w:tr>" + "".join(tc(c) for c in row) + "</w:tr>" for row in rows)
             + "</w:tbl>")
    body += [para("Этапы и оплата", True, 24), table, para(""),
             para("Подрядчик: ____________ / Иванов И.И.    Заказчик: ____________ / Петров П.П.")]
    section = ('<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="850" '
               'w:bottom="1134" w:left="1701" w:header="708" w:footer="708" w:gutter="0"/>'
               "</w:sectPr>")
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
                '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                + "".join(body) + section + "</w:body></w:document>")
    write_package(target, {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://'
            'schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats'
            '-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        "_rels/.rels": RELS.format(REL.format("rId1", OFFICE_DOC + "officeDocument",
                                              "word/document.xml")),
        "word/document.xml": document,
    })


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    estimate_pdf(SAMPLES / "smeta-remont-kvartiry.pdf", "Смета № 17/2026 на ремонт квартиры",
                 "Заказчик: Петров П.П. · Объект: г. Москва, ул. Примерная, д. 1, кв. 2", 7, 3)
    estimate_pdf(SAMPLES / "smeta-kottedzh.pdf", "Смета № 21/2026 на отделку коттеджа",
                 "Заказчик: Сидорова А.А. · Объект: МО, пос. Примерный, уч. 5", 21, 16)
    estimate_xlsx(SAMPLES / "smeta-remont-kvartiry.xlsx")
    contract_docx(SAMPLES / "dogovor-podryada.docx")
    protected_pdf(SAMPLES / "zashchishchen-parolem.pdf")
    for path in sorted(SAMPLES.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
