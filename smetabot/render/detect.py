"""What kind of document a file is, decided by its bytes rather than its name."""

from __future__ import annotations

import zipfile
from pathlib import Path

from smetabot.errors import DamagedDocument, EmptyDocument, UnsupportedFile

PDF = "pdf"
OFFICE = "office"

#: extensions users may send, for messages and for the bot's first check
EXTENSIONS = (".pdf", ".docx", ".doc", ".xlsx", ".xls", ".odt", ".ods", ".rtf")

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97 .doc, Excel .xls, encrypted OOXML
_IMAGES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"RIFF": "a media file",
}
_ZIP_OFFICE_MARKERS = ("word/", "xl/", "ppt/")


def sniff(path: Path) -> str:
    """Return ``"pdf"`` or ``"office"`` for a file we can take, else raise a document error."""
    with path.open("rb") as handle:
        head = handle.read(1024)
    if not head:
        raise EmptyDocument("the file is empty (0 bytes)")
    if b"%PDF-" in head:
        # Producers prepend junk before the header; readers accept it within the first 1 KB.
        return PDF
    if head.startswith(_OLE) or head.startswith(b"{\\rtf"):
        return OFFICE
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_zip(path)
    for magic, what in _IMAGES.items():
        if head.startswith(magic):
            raise UnsupportedFile(f"the file is {what}, not a document")
    raise UnsupportedFile("the file is not a PDF or an Office document")


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        # A truncated Office package is still the user's document: let the office step say
        # "damaged" after its own checks.
        return OFFICE
    if "[Content_Types].xml" in names and any(
            name.startswith(_ZIP_OFFICE_MARKERS) for name in names):
        return OFFICE
    if "mimetype" in names or "content.xml" in names:
        return OFFICE
    if path.suffix.lower() in EXTENSIONS:
        # Named like an Office file but holding none of its parts: a broken export.
        raise DamagedDocument("the Office package holds no document")
    raise UnsupportedFile("the file is a ZIP archive, not a document")
