"""Office documents (DOC, DOCX, XLS, XLSX, ODT, ODS, RTF) to PDF with LibreOffice headless.

What LibreOffice should never see is refused before, by the one sniffer
(:func:`smetabot.render.detect.sniff`: bombs, passwords, non-documents, huge sheets). Each conversion
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
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from xml.sax.saxutils import escape

from smetabot.errors import (
    ConversionFailed,
    DamagedDocument,
    DocumentTooComplex,
    OfficeUnavailable,
    PasswordProtected,
    SmetaBotError,
    UnsupportedFile,
)
from smetabot.render import detect
from smetabot.render.detect import Sniffed

log = logging.getLogger(__name__)

KINDS = detect.OFFICE_KINDS
#: paper for sheets that name none (OOXML's default is US Letter), in 1/100 mm, short x long side
PAPERS = {"a4": "21000x29700", "a3": "29700x42000", "a5": "14800x21000", "letter": ""}
_WORK, _TEMPLATE = "smetabot-office-", "smetabot-lo-template-"  # temp dir prefixes, then a pid
_MACRO_URL = "macro:///Standard.Module1.Convert"
_WARMUP_TIMEOUT = 60.0
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

T = TypeVar("T")


def find_soffice(configured: str | None = None) -> str:
    """Path of soffice: the configured one, else `soffice`/`libreoffice` on PATH; raises OfficeUnavailable."""
    # A configured path that is wrong is an operator error to show, not to paper over with PATH.
    for name in [configured] if configured else ["soffice", "libreoffice"]:
        if found := shutil.which(name):
            return found
    raise OfficeUnavailable(f"{configured} is not a program" if configured else "not on PATH")


def convert_to_pdf(
    src: Path,
    out_dir: Path,
    *,
    soffice: str | None = None,
    timeout: float = 120.0,
    sniffed: Sniffed | None = None,
    paper: str = "A4",
) -> Path:
    """Convert an Office file (doc, docx, xls, xlsx, odt, ods, rtf) to PDF in out_dir; returns the PDF path.

    ``sniffed`` is what :func:`detect.sniff` found, when the caller already asked it; ``paper``
    (A4, A3, A5 or letter) is what a sheet that names no paper size is printed on."""
    if paper.lower() not in PAPERS:
        raise ValueError(f"unknown paper size {paper!r}")
    return _guarded(_convert, Path(src), Path(out_dir), soffice, timeout, sniffed,
                    PAPERS[paper.lower()])


def _guarded(fn: Callable[..., T], *args: object) -> T:
    try:
        return fn(*args)
    except SmetaBotError:
        raise
    except Exception as exc:  # the pipeline must only ever see our error classes
        raise ConversionFailed(f"{type(exc).__name__}: {exc}") from exc


def _convert(
    src: Path, out_dir: Path, soffice: str | None, timeout: float, sniffed: Sniffed | None,
    paper: str,
) -> Path:
    started = time.monotonic()
    exe = find_soffice(soffice)
    sniffed = sniffed or detect.sniff(src)
    if not sniffed.office:
        raise UnsupportedFile(f"{sniffed.kind} is not an Office type we convert")
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
        env["SMETABOT_PAPER"] = paper
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
    _remove_pipe(profile_url)


def _remove_pipe(profile_url: str) -> None:
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


def sweep_orphans(folder: Path) -> None:
    """Before a serve starts on ``folder`` (its data dir's temp folder, which no other process
    uses): kill every soffice a killed previous run left there, and remove what it left, so a
    contractor's document never outlives the run that converted it."""
    _sweep_orphans(folder, max_age=0.0)


def _sweep_orphans(folder: Path | None = None, max_age: float = 3600.0) -> None:
    """Clean up after processes killed mid-conversion (a worker past its limit): soffice, dirs."""
    stale = []
    for entry in Path(folder or tempfile.gettempdir()).glob("smetabot-*-*"):
        for prefix in (_WORK, _TEMPLATE):
            owner = entry.name.removeprefix(prefix).split("-")[0]
            if entry.name.startswith(prefix) and owner.isdigit() and not _alive(int(owner)):
                stale.append(entry.as_uri().encode())
                # In the shared /tmp the age test spares a live process whose pid this
                # namespace cannot see; a data dir's own temp folder has no such neighbours.
                if entry.stat().st_mtime < time.time() - max_age or max_age == 0.0:
                    shutil.rmtree(entry, ignore_errors=True)
    for cmdline in Path("/proc").glob("[0-9]*/cmdline") if stale else ():
        try:  # soffice still running for a dead worker: its own session, so kill the group
            args = cmdline.read_bytes().split(b"\0")
            if any(b"UserInstallation=" + url + b"/" in arg for arg in args for url in stale):
                os.killpg(os.getpgid(int(cmdline.parent.name)), signal.SIGKILL)
                for arg in args:  # and its single-instance socket, as _kill_group does
                    if arg.startswith(b"-env:UserInstallation="):
                        _remove_pipe(arg.partition(b"=")[2].decode(errors="replace"))
        except (OSError, ValueError):
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # A worker killed with serve stays a zombie until its new parent reaps it, which an init
    # may take seconds to do: it is dead all the same, and its soffice an orphan.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2:].split()[0] != "Z"
    except (OSError, ValueError, IndexError):
        return True
