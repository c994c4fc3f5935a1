"""What kind of document a file is, decided by its bytes rather than its name: the one sniffer.

:func:`sniff` reads the head of the file and, for Office packages, their directory and the prologs
of their XML parts, and refuses cheaply, before LibreOffice sees it, what it should never see:
empty files, non-documents, zip and XML entity bombs, password-protected files, and spreadsheets
that declare more cells than the budget (:mod:`smetabot.render.sheets`). It imports nothing of
the application.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, NamedTuple

from smetabot.errors import (
    DamagedDocument,
    DocumentTooComplex,
    EmptyDocument,
    PasswordProtected,
    UnsupportedFile,
)
from smetabot.render.sheets import check_cells

PDF = "pdf"
#: the Office types LibreOffice converts for us (the extension its input file gets)
OFFICE_KINDS = ("doc", "docx", "xls", "xlsx", "odt", "ods", "rtf")
#: extensions users may send, for messages and for the bot's first check
EXTENSIONS = (".pdf", ".docx", ".doc", ".xlsx", ".xls", ".odt", ".ods", ".rtf")

MAX_UNPACKED, MAX_RATIO = 500_000_000, 100
MAX_CELLS = 2_000_000
_BIG_MEMBER = 1 << 20  # the compression-ratio check spares small parts, which compress wildly
_PROLOG_BYTES = 1 << 16  # no real Office part has this much before its root element
# Excel holds at most 32,767 characters in a cell, under 300 KB of XML even fully escaped. A
# longer shared string is a made-up file, and LibreOffice lays it out for every cell that uses it
# (Apache POI's poc-shared-strings.xlsx keeps it busy for many minutes).
_MAX_TEXT_RUN = 300_000
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_OLE_STREAMS = ("encryptedpackage", "workbook", "book", "worddocument")
_IMAGES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"RIFF": "a media file",
}


class Sniffed(NamedTuple):
    """A file we take: ``kind`` is ``"pdf"`` or one of :data:`OFFICE_KINDS`."""

    kind: str
    encrypted: bool = False  # may open with Excel's built-in password; otherwise needs the user's

    @property
    def office(self) -> bool:
        """Whether LibreOffice must convert it first."""
        return self.kind != PDF

    @property
    def label(self) -> str:
        """One word to store (``xlsx``, ``xlsx+encrypted``); :meth:`from_label` reads it back."""
        return f"{self.kind}+encrypted" if self.encrypted else self.kind

    @classmethod
    def from_label(cls, label: str) -> Sniffed | None:
        """The :attr:`label` read back; None for what no sniff wrote (older records)."""
        kind, _, flag = label.partition("+")
        return cls(kind, flag == "encrypted") if kind == PDF or kind in OFFICE_KINDS else None


def sniff(path: Path, claimed: str | None = None, *, max_unpacked_bytes: int = MAX_UNPACKED,
          max_ratio: int = MAX_RATIO, max_cells: int = MAX_CELLS) -> Sniffed:
    """The file's real type, or the document error that stops it before any renderer."""
    path = Path(path)
    claimed = (claimed if claimed is not None else path.suffix.lstrip(".")).lower()
    with path.open("rb") as handle:
        head = handle.read(1024)
        if not head:
            raise EmptyDocument("the file is empty (0 bytes)")
        if b"%PDF-" in head:
            # Producers prepend junk before the header; readers accept it within the first 1 KB.
            return Sniffed(PDF)
        if head.startswith(_OLE_MAGIC):
            return _sniff_ole(handle, claimed)
    if head.startswith(b"PK"):
        return _sniff_zip(path, claimed, max_unpacked_bytes, max_ratio, max_cells)
    if head.startswith(b"{\\rtf"):
        return Sniffed("rtf")
    for magic, what in _IMAGES.items():
        if head.startswith(magic):
            raise UnsupportedFile(f"the file is {what}, not a document")
    raise UnsupportedFile("the file is not a PDF or an Office document")


def _sniff_zip(path: Path, claimed: str, max_unpacked: int, max_ratio: int,
               max_cells: int) -> Sniffed:
    # RuntimeError: a member zipfile cannot read (encrypted), NotImplementedError: compression
    broken = (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        ValueError,
        RuntimeError,
    )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {info.filename.lower(): info for info in infos}
            if (kind := _zip_kind(zf, names)) is None:
                # An .xlsx that holds no workbook is broken; a zip sent as a zip is not ours.
                ours = claimed in ("docx", "xlsx", "odt", "ods")
                raise (DamagedDocument if ours else UnsupportedFile)("a zip, not a document")
            manifest = names.get("meta-inf/manifest.xml")
            if kind in ("odt", "ods") and manifest and b"encryption-data" in _head(zf, manifest):
                raise PasswordProtected()
            if any(info.flag_bits & 1 for info in infos):
                raise PasswordProtected("zip-level encryption")
            if (total := sum(info.file_size for info in infos)) > max_unpacked:
                limit = f"{max_unpacked / 1e6:g} MB unpacked"
                raise DocumentTooComplex(f"{total} bytes unpacked", limit=limit)
            for info in infos:
                if info.file_size > max(_BIG_MEMBER, max_ratio * info.compress_size):
                    limit = f"{max_ratio}:1 compression"
                    raise DocumentTooComplex(f"{info.filename} is packed tighter", limit=limit)
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    _check_xml_part(zf, info)
            if kind in ("xlsx", "ods") and max_cells:
                check_cells(zf, names, kind, max_cells)
            return Sniffed(kind, False)
    except broken as exc:
        raise DamagedDocument(f"broken zip package: {exc}") from exc


def _zip_kind(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> str | None:
    if (mimetype := names.get("mimetype")) is not None and mimetype.file_size < 200:
        media = zf.read(mimetype).strip().removesuffix(b"-template")
        return {
            b"application/vnd.oasis.opendocument.spreadsheet": "ods",
            b"application/vnd.oasis.opendocument.text": "odt",
        }.get(media)
    if "[content_types].xml" in names:
        for prefix, kind in (("xl/", "xlsx"), ("word/", "docx")):
            if any(name.startswith(prefix) for name in names):
                return kind
    return None


def _head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int = 1 << 20) -> bytes:
    with zf.open(info) as stream:
        return stream.read(size)


def _check_xml_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse entity declarations (billion laughs) and over-long shared strings, streaming."""
    with zf.open(info) as stream:
        chunk = stream.read(_PROLOG_BYTES)
        _check_prolog(chunk, info.filename)
        if not info.filename.lower().endswith("sharedstrings.xml"):
            return
        run = longest = 0  # bytes between two '<': the text of one string, roughly
        while chunk:
            pieces = chunk.split(b"<")
            if len(pieces) == 1:
                run += len(chunk)
            else:
                longest = max(longest, run + len(pieces[0]), *map(len, pieces[1:-1]))
                run = len(pieces[-1])
            if max(longest, run) > _MAX_TEXT_RUN:
                limit = "32,767 characters in a cell"
                raise DocumentTooComplex(f"{info.filename}: a longer string", limit=limit)
            chunk = stream.read(1 << 20)


def _check_prolog(head: bytes, name: str) -> None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "replace").encode()
    text, i = head.removeprefix(b"\xef\xbb\xbf"), 0
    while True:
        while text[i : i + 1].isspace():
            i += 1
        if text.startswith(b"<?", i) or text.startswith(b"<!--", i):
            closing = b"?>" if text.startswith(b"<?", i) else b"-->"
            if (end := text.find(closing, i)) < 0:
                break
            i = end + len(closing)
        elif text.startswith(b"<!DOCTYPE", i):
            end, subset = text.find(b">", i), text.find(b"[", i)
            # OOXML forbids DTDs; old ODF manifests name one, but never declare entities
            if subset >= 0 and (end < 0 or subset < end):
                raise DamagedDocument(f"{name} declares XML entities")
            if end < 0:
                break
            if b"://" in text[i:end]:
                raise DamagedDocument(f"{name} refers to a DTD on the network")
            i = end + 1
        else:
            return  # the root element: the prolog is over
    if len(head) >= _PROLOG_BYTES:
        raise DamagedDocument(f"{name} has over {_PROLOG_BYTES} bytes before its root element")


def _sniff_ole(f: BinaryIO, claimed: str) -> Sniffed:
    try:
        streams = _ole_streams(f)
    except (struct.error, ValueError, OSError) as exc:
        raise DamagedDocument(f"broken OLE compound file: {exc}") from exc
    if "encryptedpackage" in streams:
        # An encrypted DOCX/XLSX; Excel's built-in password opens some, so LibreOffice tries.
        return Sniffed(claimed if claimed in ("docx", "xlsx") else "xlsx", True)
    if (book := streams.get("workbook", streams.get("book"))) is not None:
        return Sniffed("xls", _biff_has_filepass(book))
    if (fib := streams.get("worddocument")) is not None:
        if len(fib) >= 12 and struct.unpack_from("<H", fib, 10)[0] & 0x0100:  # fEncrypted
            raise PasswordProtected()
        return Sniffed("doc", False)
    ours = claimed in ("doc", "xls")
    raise (DamagedDocument if ours else UnsupportedFile)("neither a .doc nor an .xls")


def _biff_has_filepass(data: bytes) -> bool:
    """Whether the workbook globals hold FILEPASS (encrypted, maybe with Excel's own password)."""
    pos = 0
    while pos + 4 <= len(data):
        record, length = struct.unpack_from("<HH", data, pos)
        if record in (0x002F, 0x000A, 0x0085):  # FILEPASS comes before EOF and BOUNDSHEET
            return record == 0x002F
        pos += 4 + length
    return False


def _ole_streams(f: BinaryIO) -> dict[str, bytes]:
    """The first sector of the streams we look at in an OLE compound file, by lower-case name."""
    f.seek(0, os.SEEK_END)
    limit = f.tell() // 512 + 1  # bounds every walk: corrupt files loop
    f.seek(0)
    header = f.read(512)
    shift, cutoff = struct.unpack_from("<H", header, 30)[0], struct.unpack_from("<I", header, 56)[0]
    if shift not in (9, 12):
        raise ValueError(f"sector shift {shift}")
    size = 1 << shift

    def raw(number: int) -> bytes:
        f.seek((number + 1) * size)
        if len(data := f.read(size)) < size:
            raise ValueError("truncated")
        return data

    def numbers(sector: int) -> tuple[int, ...]:
        return struct.unpack(f"<{size // 4}I", raw(sector))

    n_fat, dir_start = struct.unpack_from("<II", header, 44)
    difat, (sector, count) = (
        [*struct.unpack_from("<109I", header, 76)],
        struct.unpack_from("<II", header, 68),
    )
    for _ in range(min(count, limit)):  # more FAT sector numbers, past the header's 109
        *more, sector = numbers(sector)
        difat += more
    fat = [n for sector in difat[: min(n_fat, limit)] for n in numbers(sector)]
    directory, sector = b"", dir_start
    while sector < 0xFFFFFFFA:  # the special values end a chain
        if len(directory) > limit * size or sector >= len(fat):
            raise ValueError("directory chain runs off the table")
        directory, sector = directory + raw(sector), fat[sector]
    streams = {}
    for pos in range(0, len(directory) - 127, 128):
        name_len, kind = struct.unpack_from("<HB", directory, pos + 64)
        name = directory[pos : pos + max(name_len - 2, 0)].decode("utf-16-le", "replace").lower()
        if kind == 2 and name in _OLE_STREAMS:
            start, length = struct.unpack_from("<II", directory, pos + 116)
            # Small streams live in the mini stream; Word and Excel write these ones bigger.
            streams[name] = raw(start)[:length] if length >= cutoff else b""
    return streams
