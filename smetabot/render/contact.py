"""Contact sheets: up to 20 pages of a document on one image, each numbered, to choose pages by;
and one page larger, for a closer look.

A sheet is sent to the contractor as a Telegram photo, which Telegram keeps at most 2560 px a
side: it is drawn to fit that. Four thumbnails across, five rows down: a phone shows a photo at
its screen's width, and four columns keep each page large enough there to tell a cover from a
table (five would shrink every page by a fifth). Each page's number is drawn under it, large
and bold, as the buttons under the sheet name the pages. Pages with no colour give a grey
sheet, as pages do (see :mod:`smetabot.render.png`).

Imports nothing of the application.
"""

from __future__ import annotations

import functools
import importlib.resources
import io
from pathlib import Path

import pymupdf
from PIL import Image, ImageDraw, ImageFont

SHEET_PAGES = 20  # pages per sheet
COLUMNS = 4
MAX_SIDE = 2560  # Telegram keeps photos at most this many pixels a side
GAP = 24  # pixels around the sheet and between its cells
LABEL = 64  # height of the band under each thumbnail that holds its number (at least)
LABEL_SHARE = 0.16  # the number's size against its thumbnail's width: as readable on any sheet
MAX_THUMB = 900  # a short document's thumbnails grow up to this many pixels a side
BACKGROUND = 228  # light grey: white pages stand out from it
VIEW_SIDE = 1280  # a page shown larger: pixels on its short side
FONT_RESOURCE = "assets/fonts/DejaVuSans-Bold.ttf"


def sheets_of(numbers: list[int]) -> list[list[int]]:
    """``numbers`` in groups of up to :data:`SHEET_PAGES`, one group per sheet."""
    return [numbers[at:at + SHEET_PAGES] for at in range(0, len(numbers), SHEET_PAGES)]


def grid(count: int) -> tuple[int, int]:
    """Columns and rows of a sheet of ``count`` pages."""
    columns = max(1, min(COLUMNS, count))
    return columns, max(1, -(-count // columns))


def thumb_box(count: int) -> tuple[int, int]:
    """The box (width, height) each thumbnail of a sheet of ``count`` pages fits in, so the
    whole sheet stays within :data:`MAX_SIDE` a side."""
    columns, rows = grid(count)
    width = (MAX_SIDE - GAP * (columns + 1)) // columns
    height = (MAX_SIDE - GAP * (rows + 1)) // rows - LABEL
    return min(width, MAX_THUMB), min(height, MAX_THUMB)


@functools.lru_cache(maxsize=2)
def _font(size: int) -> ImageFont.FreeTypeFont:
    data = importlib.resources.files("smetabot").joinpath(FONT_RESOURCE).read_bytes()
    return ImageFont.truetype(io.BytesIO(data), size)


def compose(cells: list[tuple[int, Image.Image]]) -> Image.Image:
    """The sheet: ``(page number, thumbnail)`` pairs in a grid, in the order given, each
    number under its page. Grey (mode L) when every thumbnail is."""
    columns, rows = grid(len(cells))
    widths = [0] * columns
    heights = [0] * rows
    for at, (_number, image) in enumerate(cells):
        widths[at % columns] = max(widths[at % columns], image.width)
        heights[at // columns] = max(heights[at // columns], image.height)
    mode = "L" if all(image.mode == "L" for _n, image in cells) else "RGB"
    size = max(40, min(120, int(max(widths) * LABEL_SHARE)))
    band = max(LABEL, int(size * 1.35))
    width = sum(widths) + GAP * (columns + 1)
    height = sum(heights) + (band + GAP) * rows + GAP
    sheet = Image.new(mode, (width, height), BACKGROUND if mode == "L" else (BACKGROUND,) * 3)
    draw = ImageDraw.Draw(sheet)
    font = _font(size)
    black = 0 if mode == "L" else (0, 0, 0)
    edge = 150 if mode == "L" else (150, 150, 150)
    top = GAP
    for row in range(rows):
        left = GAP
        for column in range(columns):
            at = row * columns + column
            if at >= len(cells):
                break
            number, image = cells[at]
            x = left + (widths[column] - image.width) // 2
            y = top + (heights[row] - image.height) // 2
            sheet.paste(image.convert(mode), (x, y))
            draw.rectangle((x - 1, y - 1, x + image.width, y + image.height), outline=edge)
            draw.text((left + widths[column] // 2, top + heights[row] + band // 2), str(number),
                      fill=black, font=font, anchor="mm")
            left += widths[column] + GAP
        top += heights[row] + band + GAP
    if max(sheet.size) > MAX_SIDE:  # large numbers under few pages: still a photo kept whole
        sheet.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return sheet


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    """``image`` as JPEG bytes (grey stays grey: a third of the bytes)."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def write_sheet(cells: list[tuple[int, Path]], target: Path) -> dict:
    """Compose the sheet of the thumbnails stored at the given paths into ``target`` (JPEG);
    the thumbnails are removed. Returns what the sheet is: its pages, path, size in pixels
    and bytes."""
    images = []
    for number, path in cells:
        with Image.open(path) as image:
            images.append((number, image.copy()))
    data = jpeg(compose(images))
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)
    for _number, path in cells:
        path.unlink(missing_ok=True)
    with Image.open(target) as done:
        size = done.size
    return {"pages": [number for number, _ in cells], "path": str(target), "width": size[0],
            "height": size[1], "bytes": len(data)}


def view_dpi(doc: pymupdf.Document, number: int, side: int = VIEW_SIDE) -> float:
    """The DPI at which page ``number`` is ``side`` pixels on its short side."""
    rect = doc[number - 1].rect
    return side * 72 / max(1.0, min(rect.width, rect.height))


def view_is_photo(width: int, height: int) -> bool:
    """Whether a page shown larger goes as a photo: only if Telegram keeps every pixel of it
    (at most 2560 a side); a longer page goes as a document, which keeps its bytes."""
    return max(width, height) <= MAX_SIDE
