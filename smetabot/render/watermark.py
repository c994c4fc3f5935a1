"""A tiled, diagonal, semi-transparent watermark burned into page pixels.

The text is repeated in a staggered grid over the whole page, so no crop of a readable piece of
the page escapes it, and it is drawn with low opacity so the figures underneath stay legible.
Its edges are crisp (no anti-aliasing): at 300 DPI that looks the same, and soft edges doubled
the size of a losslessly encoded page (every edge pixel a new shade of grey).
The font ships inside the package (DejaVu Sans Bold, Cyrillic included): the binary does not
depend on the fonts of the machine.
"""

from __future__ import annotations

import functools
import importlib.resources
import math

from PIL import Image, ImageDraw, ImageFont

FONT_RESOURCE = "assets/fonts/DejaVuSans-Bold.ttf"
ANGLE = 30  # degrees, counter-clockwise: reads bottom-left to top-right
DEFAULT_COLOR = (80, 80, 80)
DEFAULT_OPACITY = 0.25


@functools.lru_cache(maxsize=1)
def _font_bytes() -> bytes:
    return importlib.resources.files("smetabot").joinpath(FONT_RESOURCE).read_bytes()


def _font(size: int) -> ImageFont.FreeTypeFont:
    import io

    return ImageFont.truetype(io.BytesIO(_font_bytes()), size)


@functools.lru_cache(maxsize=4)
def watermark_mask(width: int, height: int, dpi: float, text: str,
                   opacity: float = DEFAULT_OPACITY) -> Image.Image:
    """An L-mode mask of ``width``×``height`` with ``text`` tiled diagonally across it."""
    text = " ".join(text.split())
    if not text:
        return Image.new("L", (width, height), 0)
    # About 18 pt at any DPI, smaller if one copy would not fit twice across the page.
    font_px = max(8, round(18 * dpi / 72))
    font = _font(font_px)
    length = font.getlength(text)
    if length > width * 0.45:
        font_px = max(8, int(font_px * width * 0.45 / length))
        font = _font(font_px)
        length = font.getlength(text)
    # Draw horizontal staggered rows on a canvas that covers the page at any rotation, then
    # rotate it once: rows stay evenly spaced and no band of the page is left clean.
    side = math.ceil(math.hypot(width, height)) + 2 * font_px
    canvas = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "1"  # crisp glyphs: see the module docstring
    step_x = length + font_px * 2.5
    step_y = font_px * 3.2
    fill = round(255 * opacity)
    for row in range(math.ceil(side / step_y) + 1):
        shift = (step_x / 2) * (row % 2)
        x = -step_x + shift
        while x < side:
            draw.text((x, row * step_y), text, font=font, fill=fill)
            x += step_x
    rotated = canvas.rotate(ANGLE, resample=Image.Resampling.NEAREST)
    left = (side - width) // 2
    top = (side - height) // 2
    return rotated.crop((left, top, left + width, top + height))


def apply_watermark(image: Image.Image, text: str, dpi: float,
                    color: tuple[int, int, int] = DEFAULT_COLOR,
                    opacity: float = DEFAULT_OPACITY) -> Image.Image:
    """Burn the watermark into ``image`` (mode L or RGB) in place and return it."""
    if not text.strip():
        return image
    mask = watermark_mask(image.width, image.height, round(dpi, 2), text, opacity)
    if image.mode == "L":
        fill: int | tuple[int, int, int] = round(
            0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2])
    else:
        fill = color
    image.paste(fill, (0, 0), mask)
    return image
