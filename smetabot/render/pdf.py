"""Opening PDFs safely and rasterising their pages with PyMuPDF.

Imports nothing of the application: given a path and numbers, it returns pixels or raises one
of the document errors of :mod:`smetabot.errors`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pymupdf
from PIL import Image, ImageChops

from smetabot.errors import DamagedDocument, EmptyDocument, PasswordProtected, UnsupportedFile

# MuPDF prints repair warnings to stderr; they are not for the user, and errors reach us as
# exceptions anyway.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)

# A page whose low-resolution render shows no pixel with more chroma than this is rendered in
# gray: a third of the bytes to encode and store, and most estimates are black on white. MuPDF's
# gray render of a page without colour is exactly its RGB render converted to gray (tested), so
# nothing is lost; the small tolerance only absorbs a scan's colour noise.
_CHROMA_THRESHOLD = 4
_COLOR_PROBE_DPI = 72

# A page is rendered at the resolution its content needs, between ``render.min_dpi`` and
# ``render.dpi``: its smallest visible text gets at least this many pixels per em (10 pt at
# 202 DPI, 7 pt at 288), and a picture covering a quarter of the page or more keeps its own
# pixels (a 150-DPI scan gains nothing from 300 DPI but bytes). A page with neither, only
# drawings or text turned into outlines, gets ``render.dpi``. Pages are most of what a
# publication uploads: 36 estimate pages at 202 DPI instead of 300 are a third fewer bytes.
TEXT_EM_PX = 28
_PICTURE_SHARE = 0.25
_INVISIBLE = 3  # get_texttrace's "type" of text drawn in render mode 3 (a scan's OCR layer)


@dataclass(frozen=True)
class PageImage:
    """One rendered page: an L or RGB Pillow image and the DPI it was rendered at."""

    image: Image.Image
    dpi: float
    scaled: bool  # True when the pixel budget forced a lower DPI than asked


def _open(source: Path | bytes) -> pymupdf.Document:
    try:
        if isinstance(source, bytes):
            return pymupdf.open(stream=source, filetype="pdf")
        return pymupdf.open(source, filetype="pdf")
    except (pymupdf.FileDataError, pymupdf.EmptyFileError) as exc:
        raise UnsupportedFile("not a readable PDF") from exc
    except Exception as exc:  # MuPDF's format errors: cycles, broken xref chains
        raise DamagedDocument(str(exc)) from exc


def _reconstructed(path: Path) -> pymupdf.Document | None:
    """Reopen with the cross-reference table rebuilt from the objects themselves.

    MuPDF trusts the last ``startxref``; when that chain loops or points nowhere it may show no
    pages although every page object is intact. Hiding the keyword makes it scan the file.
    """
    data = path.read_bytes()
    at = data.rfind(b"startxref")
    if at < 0:
        return None
    try:
        doc = _open(data[:at] + b"startxre_" + data[at + 9:])
    except DamagedDocument:
        return None
    if doc.page_count and not doc.needs_pass:
        return doc
    doc.close()
    return None


def open_pdf(path: Path) -> pymupdf.Document:
    """Open a PDF for reading, or raise the document error that tells the user why not."""
    doc = _open(path)
    try:
        if doc.needs_pass and not doc.authenticate(""):
            # An empty user password opens many "encrypted" PDFs without a prompt in any viewer.
            raise PasswordProtected()
        count = doc.page_count
        if count:
            doc[0]  # loads the page tree: cycles in it surface here
            return doc
    except PasswordProtected:
        doc.close()
        raise
    except Exception as exc:
        doc.close()
        raise DamagedDocument(str(exc)) from exc
    repaired = doc.is_repaired
    doc.close()
    rebuilt = _reconstructed(path)
    if rebuilt is not None:
        return rebuilt
    if repaired:
        raise DamagedDocument("no readable pages")
    raise EmptyDocument()


def prepare_pdf(path: Path, workdir: Path) -> tuple[Path, int]:
    """Validate the PDF at ``path``; returns the path to render from and its page count.

    A PDF readable only after reconstruction is saved repaired into ``workdir`` so that each
    render worker opens a sound file instead of repeating the repair.
    """
    doc = open_pdf(path)
    try:
        count = doc.page_count
        if doc.name == str(path):
            return path, count
        target = workdir / "document.pdf"
        try:
            doc.save(target, garbage=1)
        except Exception as exc:
            raise DamagedDocument(str(exc)) from exc
        return target, count
    finally:
        doc.close()


def sheet_pages(doc: pymupdf.Document) -> list[tuple[str, int, int]]:
    """``(sheet name, first page, last page)`` of a PDF LibreOffice made from a workbook, read
    from the bookmarks it writes, one per sheet at its first page."""
    marks = [(title, page) for level, title, page, *_ in doc.get_toc(simple=True)
             if level == 1 and page >= 1]
    marks.sort(key=lambda mark: mark[1])
    return [(title, page, (marks[at + 1][1] - 1) if at + 1 < len(marks) else doc.page_count)
            for at, (title, page) in enumerate(marks)
            if at + 1 == len(marks) or marks[at + 1][1] > page]


def page_count(path: Path) -> int:
    """Number of pages of the PDF at ``path`` (validating it on the way)."""
    doc = open_pdf(path)
    try:
        return doc.page_count
    finally:
        doc.close()


def _chroma(image: Image.Image) -> int:
    red, green, blue = image.split()
    return max(ImageChops.difference(red, green).getextrema()[1],
               ImageChops.difference(green, blue).getextrema()[1],
               ImageChops.difference(red, blue).getextrema()[1])


def _is_gray(page: pymupdf.Page) -> bool:
    probe = page.get_pixmap(dpi=_COLOR_PROBE_DPI, alpha=False)
    return _chroma(Image.frombytes("RGB", (probe.width, probe.height), probe.samples)) \
        <= _CHROMA_THRESHOLD


def fit_dpi(page: pymupdf.Page, dpi: float, max_pixels: int) -> float:
    """The DPI to render ``page`` at so it stays within ``max_pixels``."""
    width_in = page.rect.width / 72
    height_in = page.rect.height / 72
    pixels = width_in * dpi * height_in * dpi
    if pixels <= max_pixels:
        return dpi
    # MuPDF rounds the pixmap's edges outwards: aim a little under the budget.
    return math.floor(dpi * math.sqrt(max_pixels * 0.995 / pixels) * 100) / 100


def content_dpi(page: pymupdf.Page, most: float, least: float) -> float:
    """The DPI ``page``'s content needs (see TEXT_EM_PX), between ``least`` and ``most``."""
    if least >= most:
        return most
    try:
        needs = _needs(page)
    except Exception:  # noqa: BLE001 - a page MuPDF can draw but not trace gets the most
        return most
    if not needs:
        return most
    return min(most, max(least, round(max(needs))))


def _needs(page: pymupdf.Page) -> list[float]:
    """The DPI each visible text span and each large picture on ``page`` asks for."""
    area = abs(page.rect)
    needs = []
    for span in page.get_texttrace():
        if span["type"] != _INVISIBLE and span["opacity"] > 0 and span["size"] > 0 \
                and pymupdf.Rect(span["bbox"]).intersects(page.rect):
            needs.append(72 * TEXT_EM_PX / span["size"])
    for image in page.get_image_info():
        box = pymupdf.Rect(image["bbox"]) & page.rect
        if box.is_empty or abs(box) < area * _PICTURE_SHARE:
            continue
        needs.append(72 * max(image["width"] / box.width, image["height"] / box.height))
    return needs


def render_page(doc: pymupdf.Document, number: int, dpi: float, max_pixels: int,
                min_dpi: float | None = None) -> PageImage:
    """Rasterise 1-based page ``number`` at ``dpi``, or at what its content needs down to
    ``min_dpi`` when given (see TEXT_EM_PX), lowered to fit ``max_pixels``."""
    try:
        page = doc[number - 1]
        if min_dpi is not None:
            dpi = content_dpi(page, dpi, min_dpi)
        actual = fit_dpi(page, dpi, max_pixels)
        gray = _is_gray(page)
        colorspace = pymupdf.csGRAY if gray else pymupdf.csRGB
        pixmap = page.get_pixmap(dpi=None, matrix=pymupdf.Matrix(actual / 72, actual / 72),
                                 colorspace=colorspace, alpha=False)
    except Exception as exc:
        raise DamagedDocument(f"page {number}: {exc}") from exc
    mode = "L" if gray else "RGB"
    image = Image.frombytes(mode, (pixmap.width, pixmap.height), pixmap.samples)
    return PageImage(image=image, dpi=actual, scaled=actual < dpi)


def render_thumbnail(doc: pymupdf.Document, number: int, width: int = 320,
                     height: int | None = None) -> Image.Image:
    """A small image of 1-based page ``number``, about ``width`` pixels wide (and, given
    ``height``, no taller): gray (mode L) when the page has no colour, RGB when it has, as
    full pages."""
    try:
        page = doc[number - 1]
        zoom = width / max(1.0, page.rect.width)
        if height is not None:
            zoom = min(zoom, height / max(1.0, page.rect.height))
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    except Exception as exc:
        raise DamagedDocument(f"page {number}: {exc}") from exc
    image = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    return image.convert("L") if _chroma(image) <= _CHROMA_THRESHOLD else image
