"""Office documents (DOC, DOCX, XLS, XLSX, ODT, ODS, RTF) to PDF with LibreOffice headless.

`check_office_file` refuses, cheaply and before LibreOffice sees it, what it should never see:
empty files, non-documents, zip and XML entity bombs, password-protected files. Each conversion
runs soffice in a throwaway profile copied from one warmed-up template per process, under a time
limit, with our Basic macro (`office_macro/Module1.bas`): it opens the file hidden, fits every
visible sheet of a workbook to the page width and exports PDF. LibreOffice exits 0 even when it
cannot open a file, so the macro writes a status file that says how far it got.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.resources
import logging
import multiprocessing.util
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NamedTuple, TypeVar
from xml.sax.saxutils import escape

from smetabot.errors import (
    ConversionFailed,
    DamagedDocument,
    DocumentTooComplex,
    EmptyDocument,
    OfficeUnavailable,
    PasswordProtected,
    SmetaBotError,
    UnsupportedFile,
)

log = logging.getLogger(__name__)

KINDS = ("doc", "docx", "xls", "xlsx", "odt", "ods", "rtf")
_WORK, _TEMPLATE = "smetabot-office-", "smetabot-lo-template-"  # temp dir prefixes, then a pid
_MACRO_URL = "macro:///Standard.Module1.Convert"
_WARMUP_TIMEOUT = 60.0
_MAX_UNPACKED, _MAX_RATIO = 500_000_000, 100
_BIG_MEMBER = 1 << 20  # the compression-ratio check spares small parts, which compress wildly
_PROLOG_BYTES = 1 << 16  # no real Office part has this much before its root element
# Excel holds at most 32,767 characters in a cell, under 300 KB of XML even fully escaped. A
# longer shared string is a made-up file, and LibreOffice lays it out for every cell that uses it
# (Apache POI's poc-shared-strings.xlsx keeps it busy for many minutes).
_MAX_TEXT_RUN = 300_000
_SETTINGS = (
    # Russian defaults where a file sets none: A4 paper, "1 234,56" numbers, dd.mm.yyyy dates.
    '<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" '
    'oor:op="fuse"><value>ru-RU</value></prop></item>\n'
    # Fetch nothing a document links to (images by URL: a tracking pixel in a client's estimate);
    # only signed or trusted documents' macros may run (ours live in the profile, so they do).
    '<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name='
    '"BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop><prop oor:name='
    '"MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>\n'
)
_XBA = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE script:module PUBLIC "-//OpenOffice.org'
    '//DTD OfficeDocument 1.0//EN" "module.dtd">\n<script:module xmlns:script="http://openoffice'
    '.org/2000/script" script:name="Module1" script:language="StarBasic">{}</script:module>\n'
)
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_OLE_STREAMS = ("encryptedpackage", "workbook", "book", "worddocument")

T = TypeVar("T")


class _Sniffed(NamedTuple):
    kind: str  # one of KINDS: the extension LibreOffice gets
    encrypted: bool  # may open with Excel's built-in password; otherwise needs the user's


def find_soffice(configured: str | None = None) -> str:
    """Path of soffice: the configured one, else `soffice`/`libreoffice` on PATH; raises OfficeUnavailable."""
    # A configured path that is wrong is an operator error to show, not to paper over with PATH.
    for name in [configured] if configured else ["soffice", "libreoffice"]:
        if found := shutil.which(name):
            return found
    raise OfficeUnavailable(f"{configured} is not a program" if configured else "not on PATH")


def check_office_file(
    path: Path, *, max_unpacked_bytes: int = _MAX_UNPACKED, max_ratio: int = _MAX_RATIO
) -> None:
    """Cheap pre-checks before LibreOffice sees the file; raises DocumentError subclasses."""
    _guarded(_sniff, Path(path), None, max_unpacked_bytes, max_ratio)


def convert_to_pdf(
    src: Path,
    out_dir: Path,
    *,
    soffice: str | None = None,
    timeout: float = 120.0,
    kind: str | None = None,
) -> Path:
    """Convert an Office file (doc, docx, xls, xlsx, odt, ods, rtf) to PDF in out_dir; returns the PDF path."""
    # kind is what the caller expects (say, from the uploaded file's name); the content decides.
    return _guarded(_convert, Path(src), Path(out_dir), soffice, timeout, kind)


def _guarded(fn: Callable[..., T], *args: object) -> T:
    try:
        return fn(*args)
    except SmetaBotError:
        raise
    except Exception as exc:  # the pipeline must only ever see our error classes
        raise ConversionFailed(f"{type(exc).__name__}: {exc}") from exc


def _convert(
    src: Path, out_dir: Path, soffice: str | None, timeout: float, kind: str | None
) -> Path:
    started = time.monotonic()
    exe = find_soffice(soffice)
    claimed = (kind or src.suffix.lstrip(".")).lower()
    if kind is not None and claimed not in KINDS:
        raise UnsupportedFile(f"{kind} is not an Office type we convert")
    sniffed = _sniff(src, claimed, _MAX_UNPACKED, _MAX_RATIO)
    if kind is not None and sniffed.kind != claimed:
        log.info("%s is a %s file, not %s as claimed", src.name, sniffed.kind, claimed)
    template = _template_profile(exe, min(_WARMUP_TIMEOUT, timeout))
    # The caller's limit covers the warm-up too: the job runner kills workers that overrun it.
    remaining = timeout - (time.monotonic() - started)
    if remaining < 1:
        raise ConversionFailed(f"LibreOffice took {timeout - remaining:.0f} s to start")
    with tempfile.TemporaryDirectory(prefix=f"{_WORK}{os.getpid()}-") as tmp:
        profile, pdf, status = (Path(tmp, name) for name in ("profile", "out.pdf", "status"))
        source = Path(tmp, f"in.{sniffed.kind}")  # a plain name: no quoting trouble
        shutil.copytree(template, profile, symlinks=True)
        shutil.copyfile(src, source)  # and LibreOffice's lock file lands in our dir
        env = {"SMETABOT_IN": source.as_uri(), "SMETABOT_OUT": pdf.as_uri()}
        env["SMETABOT_STATUS"] = str(status)  # the macro reads its arguments from the environment
        try:
            rc, output = _run_soffice(exe, profile, [_MACRO_URL], Path(tmp), remaining, **env)
        except TimeoutError as exc:
            raise DocumentTooComplex(str(exc), limit=f"{timeout:g} s of conversion") from exc
        state = status.read_text(errors="replace").strip() if status.exists() else ""
        steps = {line.split(" ", 1)[0] for line in state.splitlines()}
        if "exported" in steps and pdf.is_file() and pdf.stat().st_size > 0:
            if "fitfailed" in steps:
                log.warning("%s: fitting sheets to the page width failed: %s", src.name, state)
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / f"{src.stem or 'document'}.pdf"
            shutil.move(pdf, target)
            log.info("converted %s to PDF in %.1f s", src.name, time.monotonic() - started)
            return target
    log.info("LibreOffice did not convert %s: exit %s, %r, %r", src.name, rc, state, output)
    if sniffed.encrypted and "loaded" not in steps:
        raise PasswordProtected()  # not even Excel's built-in password opened it
    if "notloaded" in steps:
        # LibreOffice gives no reason; our checks passed the file, so it is broken inside.
        raise DamagedDocument(state)
    if "unsupported" in steps:
        raise UnsupportedFile("LibreOffice opened it as neither a text document nor a sheet")
    # A crash or a macro error: LibreOffice's fault or ours, not something the user can fix.
    raise ConversionFailed(f"soffice exited {rc} with status {state!r}: {output!r}")


# --- running soffice ---------------------------------------------------------------------------


def _run_soffice(
    exe: str, profile: Path, args: list[str], work: Path, timeout: float, **extra_env: str
) -> tuple[int, str]:
    """Run soffice on `profile` in its own session; past `timeout` kill it all, raise TimeoutError."""
    (work / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(work / "tmp"), **extra_env)  # where its lu*.tmp files go
    if getattr(sys, "frozen", False):  # a PyInstaller binary points LD_LIBRARY_PATH at its libs
        env.pop("LD_LIBRARY_PATH", None)
        if "LD_LIBRARY_PATH_ORIG" in env:
            env["LD_LIBRARY_PATH"] = env.pop("LD_LIBRARY_PATH_ORIG")
    url = profile.as_uri()
    flags = ["--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck"]
    with open(work / "soffice.log", "wb") as out:
        try:
            proc = subprocess.Popen(
                [exe, *flags, f"-env:UserInstallation={url}", *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=work,
                start_new_session=True,
            )
        except OSError as exc:
            raise OfficeUnavailable(f"cannot start {exe}: {exc}") from exc
    deadline = time.monotonic() + timeout
    try:
        # Wait without reaping: while the leader is a zombie its group id cannot be reused, so
        # the kill below can only hit LibreOffice's own processes (oosplash, soffice.bin).
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"LibreOffice ran over {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        _kill_group(proc, url)
    return proc.returncode, (work / "soffice.log").read_bytes()[-2000:].decode(errors="replace")


def _kill_group(proc: subprocess.Popen[bytes], profile_url: str) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers after a normal exit, everything otherwise
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    # A killed soffice leaves its single-instance socket in /tmp whatever TMPDIR says; its name
    # is the MD5 of the profile URL in UTF-16, each byte in hex without leading zeros.
    digest = "".join(f"{b:x}" for b in hashlib.md5(profile_url.encode("utf-16-le")).digest())
    for folder in ("/tmp", "/var/tmp"):
        Path(folder, f"OSL_PIPE_{os.getuid()}_SingleOfficeIPC_{digest}").unlink(missing_ok=True)


# --- the template profile ------------------------------------------------------------------------

_template_lock = threading.Lock()
_template: tuple[int, str, Path] | None = None  # (pid, soffice, profile dir)


def _template_profile(exe: str, timeout: float) -> Path:
    """One initialised profile per process and soffice, with our macro in it, for copying."""
    global _template
    with _template_lock:
        if _template and _template[:2] == (os.getpid(), exe) and _template[2].is_dir():
            return _template[2]
        if _template and _template[0] == os.getpid():
            shutil.rmtree(_template[2].parent, ignore_errors=True)
        _sweep_orphans()
        root = Path(tempfile.mkdtemp(prefix=f"{_TEMPLATE}{os.getpid()}-"))
        atexit.register(_remove_template, root, os.getpid())
        # multiprocessing workers (Huey's) leave through os._exit, past atexit, after finalizers
        multiprocessing.util.Finalize(None, _remove_template, (root, os.getpid()), exitpriority=0)
        try:
            profile = _warm_up(exe, root, timeout)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        log.info("LibreOffice profile template ready in %s", root)
        _template = (os.getpid(), exe, profile)
        return profile


def _warm_up(exe: str, root: Path, timeout: float) -> Path:
    # A first start creates the profile and restarts itself, which loses a macro given on the
    # command line: convert a text and a table once (Writer and Calc settle their settings),
    # then add the macro and our settings.
    profile, warmup = root / "profile", root / "warmup"
    warmup.mkdir()
    (warmup / "a.txt").write_text("SmetaBot\n", "utf-8")
    (warmup / "b.csv").write_text("1,2\n", "utf-8")
    args = ["--convert-to", "pdf", "--outdir", str(warmup), *map(str, warmup.iterdir())]
    try:
        rc, output = _run_soffice(exe, profile, args, root, timeout)
    except TimeoutError as exc:
        raise ConversionFailed(f"LibreOffice did not start: {exc}") from exc
    registry = profile / "user" / "registrymodifications.xcu"
    if not registry.is_file():
        raise ConversionFailed(f"soffice made no profile (exit {rc}): {output[-300:]!r}")
    text = registry.read_text("utf-8")
    registry.write_text(text.replace("</oor:items>", _SETTINGS + "</oor:items>"), "utf-8")
    basic, macro = profile / "user" / "basic", importlib.resources.files(__package__)
    macro = macro / "office_macro"
    for name in ("script.xlc", "dialog.xlc", "script.xlb", "dialog.xlb"):  # the library registry
        target = basic / ("Standard" if name.endswith(".xlb") else ".") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((macro / name).read_bytes())
    code = (macro / "Module1.bas").read_text("utf-8")
    (basic / "Standard" / "Module1.xba").write_text(_XBA.format(escape(code)), "utf-8")
    shutil.rmtree(root / "tmp", ignore_errors=True)
    shutil.rmtree(warmup, ignore_errors=True)
    (root / "soffice.log").unlink(missing_ok=True)
    return profile


def _remove_template(root: Path, owner: int) -> None:
    if os.getpid() == owner:  # a forked child inherits this handler; the template is not its own
        shutil.rmtree(root, ignore_errors=True)


def _sweep_orphans() -> None:
    """Clean up after processes killed mid-conversion (a worker past its limit): soffice, dirs."""
    stale = []
    for entry in Path(tempfile.gettempdir()).glob("smetabot-*-*"):
        for prefix in (_WORK, _TEMPLATE):
            owner = entry.name.removeprefix(prefix).split("-")[0]
            if entry.name.startswith(prefix) and owner.isdigit() and not _alive(int(owner)):
                stale.append(entry.as_uri().encode())
                # The age test spares a live process whose pid this namespace cannot see.
                if entry.stat().st_mtime < time.time() - 3600:
                    shutil.rmtree(entry, ignore_errors=True)
    for cmdline in Path("/proc").glob("[0-9]*/cmdline") if stale else ():
        try:  # soffice still running for a dead worker: its own session, so kill the group
            if any(b"UserInstallation=" + url + b"/" in cmdline.read_bytes() for url in stale):
                os.killpg(os.getpgid(int(cmdline.parent.name)), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


# --- sniffing and pre-checks ---------------------------------------------------------------------


def _sniff(path: Path, claimed: str | None, max_unpacked: int, max_ratio: int) -> _Sniffed:
    """The file's real type, or the DocumentError that stops it before LibreOffice."""
    claimed = claimed if claimed is not None else path.suffix.lstrip(".").lower()
    if path.stat().st_size == 0:
        raise EmptyDocument("the file is empty (0 bytes)")  # LibreOffice would print a blank page
    with path.open("rb") as f:
        if (head := f.read(8)) == _OLE_MAGIC:
            return _sniff_ole(f, claimed)
    if head.startswith(b"PK"):
        return _sniff_zip(path, claimed, max_unpacked, max_ratio)
    if head.startswith(b"{\\rtf"):
        return _Sniffed("rtf", False)
    raise UnsupportedFile("neither a zip package, an OLE compound file nor RTF")


def _sniff_zip(path: Path, claimed: str, max_unpacked: int, max_ratio: int) -> _Sniffed:
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
            return _Sniffed(kind, False)
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


def _sniff_ole(f: BinaryIO, claimed: str) -> _Sniffed:
    try:
        streams = _ole_streams(f)
    except (struct.error, ValueError, OSError) as exc:
        raise DamagedDocument(f"broken OLE compound file: {exc}") from exc
    if "encryptedpackage" in streams:
        # An encrypted DOCX/XLSX; Excel's built-in password opens some, so LibreOffice tries.
        return _Sniffed(claimed if claimed in ("docx", "xlsx") else "xlsx", True)
    if (book := streams.get("workbook", streams.get("book"))) is not None:
        return _Sniffed("xls", _biff_has_filepass(book))
    if (fib := streams.get("worddocument")) is not None:
        if len(fib) >= 12 and struct.unpack_from("<H", fib, 10)[0] & 0x0100:  # fEncrypted
            raise PasswordProtected()
        return _Sniffed("doc", False)
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
