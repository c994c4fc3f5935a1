"""Page selections, the PNG encoder and the watermark, without the queue."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from smetabot.errors import BadPageSelection
from smetabot.render.pages import PageSyntaxError, parse_pages
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


def test_gray_pages_use_16_levels_and_keep_dpi():
    image = Image.linear_gradient("L").resize((300, 200))
    decoded = Image.open(io.BytesIO(encode_page(image, 150)))
    assert round(decoded.info["dpi"][0]) == 150
    gray = decoded.convert("L")
    assert len(gray.getcolors()) <= 16
    # Within one quantisation step everywhere.
    assert ImageChops.difference(gray, image).getextrema()[1] <= 9


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
