"""A tiled, diagonal, semi-transparent watermark burned into page pixels.

The text is repeated in a staggered grid over the whole page, so no crop of a readable piece of
the page escapes it, and it is drawn with low opacity so the figures underneath stay legible.
Its edges are crisp (no anti-aliasing): at 300 DPI that looks the same, and soft edges doubled
the size of a losslessly encoded page (every edge pixel a new shade of grey). The copies sit on
a lattice with a horizontal period of whole pixels, so each row of the mask repeats itself
every few hundred pixels: PNG's deflate then stores a row's later copies as references to its
first (a watermarked page 12% smaller, measured on 36 estimate pages).
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
    # One copy, rotated once, pasted on a lattice: consecutive copies along a line of text are
    # ``spacing`` apart, the lines ~0.22 × spacing apart (about as dense as rows 3.2 fonts
    # apart), and the lattice holds the horizontal vector (period, 0) in whole pixels.
    _, _, right, bottom = font.getbbox(text)
    copy = Image.new("L", (right + 2, bottom + 2), 0)
    draw = ImageDraw.Draw(copy)
    draw.fontmode = "1"  # crisp glyphs: see the module docstring
    draw.text((0, 0), text, font=font, fill=round(255 * opacity))
    copy = copy.rotate(ANGLE, resample=Image.Resampling.NEAREST, expand=True)
    ink = copy.point(lambda value: 255 if value else 0)
    spacing = length + font_px * 2.5
    angle = math.radians(ANGLE)
    rise = round(spacing * math.sin(angle))  # from one copy to the next along its line:
    half = round(spacing * math.cos(angle)) // 2  # (period + half, -rise)
    period = round(spacing * math.cos(angle)) - half
    mask = Image.new("L", (width, height), 0)
    lines = math.ceil((height + copy.height) / rise) + 1
    for line in range(-lines, lines + 1):
        top = -line * rise
        if top > height or top + copy.height < 0:
            continue
        left = line * half
        left -= math.ceil((left + copy.width) / period) * period  # the first copy in view
        while left < width:
            mask.paste(copy, (left, top), ink)
            left += period
    return mask


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
