"""`smetabot doctor` and `smetabot backup`: checking an installation and saving its state."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from smetabot import errors
from smetabot.config import Config


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str


def doctor(cfg: Config, data_dir: Path) -> list[Check]:
    """Check the config, LibreOffice, the data dir, the database and the secret key."""
    from smetabot.render import office
    from smetabot.vault import Vault

    checks: list[Check] = []
    missing = cfg.missing()
    checks.append(Check("config", not missing, "complete" if not missing else
                        "missing: " + ", ".join(missing)))
    try:
        soffice = office.find_soffice(cfg["render.soffice"] or None)
        version = subprocess.run([soffice, "--version"], capture_output=True, text=True,
                                 timeout=60).stdout.strip() or soffice
        checks.append(Check("LibreOffice", True, version))
    except errors.OfficeUnavailable as exc:
        checks.append(Check("LibreOffice", False, exc.message()))
    except (OSError, subprocess.TimeoutExpired) as exc:
        checks.append(Check("LibreOffice", False, f"does not answer: {exc}"))
    writable = data_dir.is_dir() and os.access(data_dir, os.W_OK)
    free = shutil.disk_usage(data_dir).free if data_dir.is_dir() else 0
    checks.append(Check("data dir", writable and free > 500 * 1024 * 1024,
                        f"{data_dir}: " + (f"writable, {free / 1024 ** 3:.1f} GB free"
                                           if writable else "missing or not writable")))
    database = data_dir / "smetabot.db"
    if database.exists():
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
                result = connection.execute("PRAGMA quick_check").fetchone()[0]
                applied = {row[0] for row in connection.execute(
                    "SELECT name FROM schema_migrations")}
            from smetabot.migrations import MIGRATIONS

            pending = [name for name, _ in MIGRATIONS if name not in applied]
            checks.append(Check("database", result == "ok", f"integrity {result}; " + (
                f"{len(pending)} migration(s) to apply at next start" if pending else
                "schema up to date")))
        except sqlite3.Error as exc:
            checks.append(Check("database", False, str(exc)))
    else:
        checks.append(Check("database", True, "not created yet (serve creates it)"))
    if cfg["security.secret_key"]:
        sessions = data_dir / "sessions"
        try:
            vault = Vault(sessions, cfg["security.secret_key"])  # checks the key's form
            if (sessions / ".keycheck").exists():
                vault.open()  # only reads: the key must be the one that sealed the sessions
                checks.append(Check("secret key", True, "opens the session vault"))
            else:
                checks.append(Check("secret key", True, "valid; no sessions stored yet"))
        except errors.SmetaBotError as exc:
            checks.append(Check("secret key", False, exc.message()))
    return checks


def backup(data_dir: Path, target: Path) -> tuple[Path, int]:
    """A .tar.gz of what must survive: a consistent copy of the database and the (encrypted)
    sessions. Not the queue, uploads or temp files; not the config (it holds secrets in the
    clear: keep it apart, with the secret key)."""
    database = data_dir / "smetabot.db"
    if not database.exists():
        raise errors.StartupError(problem=f"no database in {data_dir}: nothing to back up")
    with tempfile.TemporaryDirectory(prefix="smetabot-backup-") as scratch:
        copy = Path(scratch) / "smetabot.db"
        with sqlite3.connect(database) as source, sqlite3.connect(copy) as destination:
            source.backup(destination)  # consistent even while serve is writing
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle, \
                tarfile.open(fileobj=handle, mode="w:gz") as archive:
            archive.add(copy, arcname="smetabot.db")
            sessions = data_dir / "sessions"
            if sessions.is_dir():
                archive.add(sessions, arcname="sessions")
            note = (f"SmetaBot backup of {data_dir} at {time.strftime('%Y-%m-%d %H:%M:%S')}.\n"
                    "Restore: stop serve, unpack into the data dir. Sessions open only with "
                    "the same security.secret_key.\n").encode()
            info = tarfile.TarInfo("README.txt")
            info.size, info.mtime = len(note), int(time.time())
            archive.addfile(info, io.BytesIO(note))
    return target, target.stat().st_size
