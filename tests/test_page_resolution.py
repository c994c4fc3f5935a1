"""Each page is rendered at the resolution its content needs, between render.min_dpi and
render.dpi: enough pixels for its smallest visible text, a scan's own pixels, and never less
than the floor."""

from __future__ import annotations

import io

import pymupdf
import pytest
from PIL import Image

from smetabot.render.pdf import TEXT_EM_PX, content_dpi, open_pdf, render_page
from smetabot.render.png import encode_page

BUDGET = 40_000_000


def a4() -> tuple[pymupdf.Document, pymupdf.Page]:
    doc = pymupdf.open()
    return doc, doc.new_page(width=595, height=842)


def picture(width: int, height: int) -> pymupdf.Pixmap:
    image = Image.effect_noise((width, height), 60).convert("L")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return pymupdf.Pixmap(buffer.getvalue())


def test_the_smallest_text_decides():
    doc, page = a4()
    page.insert_text((72, 100), "Смета № 12 на ремонт квартиры", fontsize=14,
                     fontname="helv")
    assert content_dpi(page, 300, 200) == 200  # 14 pt text is legible at the floor
    page.insert_text((72, 140), "Итого: 1 234 567,89", fontsize=8, fontname="helv")
    assert content_dpi(page, 300, 200) == 252  # 8 pt gets 28 px per em: 72 * 28 / 8
    page.insert_text((72, 160), "мелкий шрифт", fontsize=5, fontname="helv")
    assert content_dpi(page, 300, 200) == 300  # never above render.dpi
    doc.close()


def test_invisible_text_and_small_pictures_do_not_count():
    doc, page = a4()
    page.insert_text((72, 100), "Смета", fontsize=16, fontname="helv")
    # A scan's OCR layer is text drawn invisibly (render mode 3), often at odd sizes.
    page.insert_text((72, 200), "ocr layer", fontsize=3, fontname="helv", render_mode=3)
    # A logo: 1,000 pixels in an inch, but a small part of the page.
    page.insert_image(pymupdf.Rect(400, 40, 472, 112), pixmap=picture(1000, 1000))
    assert content_dpi(page, 300, 200) == 200
    doc.close()


def test_a_scan_keeps_its_own_pixels_within_the_bounds():
    doc, page = a4()
    page.insert_image(page.rect, pixmap=picture(1240, 1754))  # a 150-DPI scan
    assert content_dpi(page, 300, 100) == 150
    assert content_dpi(page, 300, 200) == 200
    doc.close()
    doc, page = a4()
    page.insert_image(page.rect, pixmap=picture(3307, 4677))  # 400 DPI
    assert content_dpi(page, 300, 200) == 300
    doc.close()


def test_a_page_of_drawings_only_gets_the_full_resolution():
    doc, page = a4()
    for step in range(20):
        page.draw_line((50, 50 + step * 30), (545, 60 + step * 30), width=0.3)
    assert content_dpi(page, 300, 200) == 300
    doc.close()


def test_a_floor_at_or_above_the_ceiling_means_a_fixed_resolution():
    doc, page = a4()
    page.insert_text((72, 100), "Смета", fontsize=16, fontname="helv")
    assert content_dpi(page, 300, 300) == 300
    assert content_dpi(page, 150, 200) == 150
    doc.close()


def test_a_real_estimate_page_renders_at_what_its_10_pt_header_needs(corpus):
    with open_pdf(corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf") as doc:
        page = render_page(doc, 10, 300, BUDGET, 200)
        full = render_page(doc, 10, 300, BUDGET)
    expected = 72 * TEXT_EM_PX / 10
    assert expected <= page.dpi <= expected + 3 and not page.scaled
    assert page.image.width == pytest.approx(595.32 / 72 * page.dpi, abs=2)
    assert full.dpi == 300 and full.image.width == 2481
    decoded = Image.open(io.BytesIO(encode_page(page.image, page.dpi)))
    assert round(decoded.info["dpi"][0]) == round(page.dpi)  # the DPI is recorded
    assert len(encode_page(page.image, page.dpi)) < 0.85 * len(encode_page(full.image, 300))
