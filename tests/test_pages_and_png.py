"""Page selections, the PNG encoder and the watermark, without the queue."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from smetabot.errors import BadPageSelection
from smetabot.render.pages import PageSyntaxError, parse_pages
from smetabot.render.pdf import open_pdf, render_page, render_thumbnail
from smetabot.render.png import encode_page, encode_png
from smetabot.render.watermark import _font, apply_watermark, watermark_mask


@pytest.mark.parametrize("text,total,expected", [
    ("1,3,5-7", 10, [1, 3, 5, 6, 7]),
    ("7-5", 10, None),
    (" 2 , 2,1 ", 3, [1, 2]),
    ("", 3, [1, 2, 3]),
    (None, 2, [1, 2]),
    ("все", 2, [1, 2]),
    ("1–3", 5, [1, 2, 3]),
])
def test_parse_pages(text, total, expected):
    if expected is None:
        with pytest.raises(PageSyntaxError):
            parse_pages(text, total)
    else:
        assert parse_pages(text, total) == expected


@pytest.mark.parametrize("text", ["0", "a", "1,,x", "-3", "1-"])
def test_parse_pages_rejects_nonsense(text):
    with pytest.raises(PageSyntaxError):
        parse_pages(text, 10)


def test_parse_pages_names_missing_pages():
    with pytest.raises(BadPageSelection) as caught:
        parse_pages("2,11-12", 10)
    assert "11-12" in caught.value.message("en")
    assert "10" in caught.value.message("ru")


def test_png_roundtrip_keeps_pixels_and_dpi():
    image = Image.effect_noise((64, 48), 80).convert("RGB")
    data = encode_png(64, 48, 3, image.tobytes(), 300)
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    assert decoded.mode == "RGB"
    assert round(decoded.info["dpi"][0]) == 300
    assert decoded.tobytes() == image.tobytes()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_gray_pages_are_lossless_8_bit_and_keep_dpi():
    image = Image.linear_gradient("L").resize((300, 200))
    decoded = decode(encode_page(image, 150))
    assert decoded.mode == "L"
    assert round(decoded.info["dpi"][0]) == 150
    assert decoded.tobytes() == image.tobytes()


def test_flat_colour_pages_become_an_exact_palette():
    image = Image.new("RGB", (200, 100), "white")
    image.paste((200, 30, 30), (10, 10, 60, 60))
    image.paste((0, 0, 0), (80, 10, 120, 90))
    decoded = decode(encode_page(image, 300))
    assert decoded.mode == "P"
    assert decoded.convert("RGB").tobytes() == image.tobytes()


TREASURY = "estimates_ru/treasury_223fz_formats_v16.2.pdf"


@pytest.fixture(scope="module")
def treasury(corpus):
    doc = open_pdf(corpus / TREASURY)
    yield doc
    doc.close()


@pytest.mark.parametrize("number", [1, 10, 27])
def test_text_page_is_gray_and_pixel_exact_against_the_rgb_render(treasury, number):
    page = render_page(treasury, number, 300, 40_000_000)
    decoded = decode(encode_page(page.image, page.dpi))
    assert decoded.mode == "L" and round(decoded.info["dpi"][0]) == 300
    rgb = treasury[number - 1].get_pixmap(dpi=300, alpha=False)
    expected = Image.frombytes("RGB", (rgb.width, rgb.height), rgb.samples).convert("L")
    assert decoded.size == expected.size
    assert decoded.tobytes() == expected.tobytes()


@pytest.mark.parametrize("number", [12, 21])
def test_colour_page_stays_colour_and_exact(treasury, number):
    page = render_page(treasury, number, 150, 40_000_000)
    decoded = decode(encode_page(page.image, page.dpi)).convert("RGB")
    rgb = treasury[number - 1].get_pixmap(dpi=150, alpha=False)
    assert decoded.tobytes() == rgb.samples
    red, green, _ = decoded.split()
    assert ImageChops.difference(red, green).getextrema()[1] > 30  # visibly coloured


def test_previews_follow_the_same_rule(treasury):
    assert render_thumbnail(treasury, 10).mode == "L"
    assert render_thumbnail(treasury, 21).mode == "RGB"


def test_watermarked_page_keeps_the_watermark_and_stays_small(treasury):
    page = render_page(treasury, 10, 300, 40_000_000)
    plain = page.image.copy()
    marked = apply_watermark(page.image, "Иванов И.И. · #K7Q2", page.dpi)
    data = encode_page(marked, page.dpi)
    decoded = decode(data)
    assert decoded.tobytes() == marked.tobytes() != plain.tobytes()
    assert len(data) < 700_000  # soft-edged, the same page took 800 KB


def test_watermark_covers_the_whole_page():
    mask = watermark_mask(2480, 3508, 300, "Иванов И.И. · #K7Q2")
    # Every cell of a 4×4 grid (any crop of a sixteenth of the page) carries watermark ink.
    for row in range(4):
        for col in range(4):
            cell = mask.crop((col * 620, row * 877, (col + 1) * 620, (row + 1) * 877))
            assert cell.getextrema()[1] > 0, (row, col)


def test_watermark_is_translucent_and_leaves_text_readable():
    page = Image.new("L", (1240, 1754), 255)
    apply_watermark(page, "ООО «Ремонт»", 150)
    darkest = page.getextrema()[0]
    # Semi-transparent: the darkest watermark pixel stays far lighter than black text.
    assert 150 < darkest < 250


def test_bundled_font_draws_cyrillic():
    font = _font(40)
    missing = font.getmask("\uffff").getbbox()
    for letter in "ИвановЖЩЯ":
        assert font.getmask(letter).getbbox() != missing, letter
