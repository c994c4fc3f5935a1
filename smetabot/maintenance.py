"""Checking an installation and saving its state: `smetabot doctor`, `backup`, `restore`.

Also the lock `serve` holds on its data dir (so `restore` never writes under a running serve),
and the sentence that tells an operator why the bot could not log in to Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from smetabot import errors
from smetabot.config import Config, telegram_proxy
from smetabot.datadir import DataDir


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
                                 timeout=60, check=False).stdout.strip() or soffice
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
    database = DataDir(data_dir).database
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
    if cfg["render.queue"]:
        checks.append(queue_check(cfg))
    return checks


def queue_check(cfg: Config) -> Check:
    """A Redis render queue: reachable, authenticated, how many workers are listening."""
    from smetabot.render import remote

    try:
        found = remote.status(cfg["render.queue"])
    except errors.SmetaBotError as exc:
        return Check("render queue", False, exc.message("en").removeprefix("Cannot start: "))
    own = cfg["render.serve_workers"]
    listening = (f"{found.workers} worker process(es) on {found.machines} machine(s) "
                 f"listening" if found.workers else "no worker is listening")
    detail = (f"{found.where}: reachable, authenticated; {listening}"
              + (f" (serve runs {own} of its own)" if own else "")
              + f"; {found.waiting} task(s) waiting")
    if not found.workers and not own:
        detail += "; start `smetabot worker --queue …` on a render machine"
    return Check("render queue", bool(found.workers or own), detail)


# --- the lock serve holds ---------------------------------------------------------------------


# Descriptors of locks this process holds. A forked child (a render worker) closes its copies:
# the lock is released only when every copy is closed, and an orphaned worker must not keep
# the data dir "in use" after serve is gone.
_HELD: set[int] = set()


def _close_held_in_child() -> None:
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held_in_child)


class ServeLock:
    """An exclusive lock on ``<data dir>/serve.lock`` (holding the owner's pid), held by
    `smetabot serve` while it runs and by `smetabot restore` while it writes. The kernel drops
    it when the process ends, even by ``kill -9``: no stale lock to clean up."""

    NAME = "serve.lock"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / self.NAME
        self._fd: int | None = None

    def acquire(self) -> Self:
        """Take the lock (creating the data dir); DataDirBusy when another process holds it,
        CannotCreate (naming the folder) when it cannot be written."""
        try:
            if self.data_dir.exists() and not self.data_dir.is_dir():
                raise NotADirectoryError(20, "it is a file, not a folder")
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise errors.CannotCreate(path=f"the data dir {self.data_dir}", reason=(
                f"{exc.strerror}; the data dir must be a folder this user can write "
                "(--data-dir or storage.data_dir)")) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise errors.DataDirBusy(data_dir=self.data_dir, pid=holder) from None
        if os.geteuid() == 0:  # root restoring for the service's user: the file stays theirs
            owner = self.data_dir.stat()
            os.fchown(fd, owner.st_uid, owner.st_gid)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        _HELD.add(fd)
        return self

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it would race the next taker)."""
        if self._fd is not None:
            _HELD.discard(self._fd)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- backup -----------------------------------------------------------------------------------


def backup(data_dir: Path, target: Path) -> tuple[Path, int]:
    """A .tar.gz of what must survive: a consistent copy of the database and the (encrypted)
    sessions. Not the queue, uploads or temp files; not the config (it holds secrets in the
    clear: keep it apart, with the secret key). The archive is always 0600, also when it
    replaces an existing file, and a failed backup leaves an existing file as it was."""
    paths = DataDir(data_dir)
    if not paths.database.exists():
        raise errors.BackupError(problem=f"no database in {data_dir}: nothing to back up "
                                         "(check storage.data_dir or --data-dir)")
    if target.is_dir():
        raise errors.CannotCreate(path=target, reason="it is a folder; give a file name "
                                                      "such as smetabot-backup.tar.gz")
    with tempfile.TemporaryDirectory(prefix="smetabot-backup-") as scratch:
        copy = Path(scratch) / "smetabot.db"
        try:
            with contextlib.closing(sqlite3.connect(paths.database)) as source, \
                    contextlib.closing(sqlite3.connect(copy)) as destination:
                source.backup(destination)  # consistent even while serve is writing
        except sqlite3.Error as exc:
            raise errors.BackupError(problem=f"cannot read the database {paths.database}: "
                                             f"{exc}") from None
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise errors.CannotCreate(path=target, reason=exc.strerror) from None
        try:
            with os.fdopen(descriptor, "wb") as handle:
                with tarfile.open(fileobj=handle, mode="w:gz") as archive:
                    archive.add(copy, arcname="smetabot.db")
                    if paths.sessions.is_dir():
                        archive.add(paths.sessions, arcname="sessions")
                    note = (f"SmetaBot backup of {data_dir} at "
                            f"{time.strftime('%Y-%m-%d %H:%M:%S')}.\nRestore: stop serve, then "
                            "`smetabot restore <this file>`. Sessions open only with the same "
                            "security.secret_key.\n").encode()
                    info = tarfile.TarInfo("README.txt")
                    info.size, info.mtime, info.mode = len(note), int(time.time()), 0o600
                    archive.addfile(info, io.BytesIO(note))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise errors.CannotCreate(path=target, reason=exc.strerror or str(exc)) from None
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
    return target, target.stat().st_size


# --- restore ----------------------------------------------------------------------------------

# What a backup may hold; anything else (links, devices, other paths) means it is not ours.
_MEMBER = re.compile(r"^(smetabot\.db|README\.txt|sessions|sessions/(\.keycheck|bot\.state\.enc|"
                     r"[0-9]+\.session\.enc))$")
# What a restore moves out of the way: the old database with its -wal/-shm (a leftover -wal
# would be applied on top of the restored file), the old sessions, and the render queue (its
# jobs belong to the old state; serve re-enqueues what the restored database still needs).
_REPLACED = ("smetabot.db", "smetabot.db-wal", "smetabot.db-shm", "smetabot.db-journal",
             "sessions", "queue.db", "queue.db-wal", "queue.db-shm")


@dataclass
class Restored:
    """What `restore` put back."""

    contractors: int
    channels: int
    sessions: int
    #: migrations the next `serve` applies (the backup came from an older version)
    pending: list[str]
    #: where the replaced database and sessions were moved, if there were any
    previous: Path | None


def restore(archive: Path, data_dir: Path, secret_key: str) -> Restored:
    """Put a backup back into a stopped data dir, after checking it: the database passes
    ``PRAGMA integrity_check`` and every session unseals with ``secret_key``. The data dir's
    current database, sessions and queue are moved aside first, into ``before-restore-<time>/``;
    nothing is changed when a check fails."""
    with ServeLock(data_dir):
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
        try:
            _unpack(archive, staging)
            counts = _check(archive, staging, secret_key)
            _own_like(data_dir, staging)
            previous = _set_aside(data_dir)
            os.replace(staging / "smetabot.db", DataDir(data_dir).database)
            if (staging / "sessions").is_dir():
                os.replace(staging / "sessions", DataDir(data_dir).sessions)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Restored(*counts, previous=previous)


def _unpack(archive: Path, into: Path) -> None:
    def bad(problem: str) -> errors.BadBackup:
        return errors.BadBackup(path=archive, problem=problem)

    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if not _MEMBER.match(member.name) or not (member.isfile() or member.isdir()) \
                        or member.isdir() != (member.name == "sessions"):
                    raise bad(f"it holds {member.name!r}, which a backup never does")
                if member.isdir() or member.name == "README.txt":
                    continue
                destination = into / member.name
                destination.parent.mkdir(mode=0o700, exist_ok=True)
                source = tar.extractfile(member)
                descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with source, os.fdopen(descriptor, "wb") as handle:
                    shutil.copyfileobj(source, handle)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileExistsError):
            raise bad("it holds a file twice") from None
        if isinstance(exc, OSError) and not isinstance(exc, EOFError) and exc.filename and \
                Path(exc.filename).is_relative_to(into):
            raise errors.CannotCreate(path=into, reason=exc.strerror) from None
        raise bad("not a readable .tar.gz archive") from None
    except zlib.error as exc:  # a damaged compressed stream
        raise bad(f"damaged ({exc})") from None
    if not (into / "smetabot.db").exists():
        raise bad("it holds no smetabot.db")


def _check(archive: Path, staging: Path, secret_key: str) -> tuple[int, int, int, list[str]]:
    from smetabot.migrations import MIGRATIONS
    from smetabot.vault import Vault, VaultError

    database = staging / "smetabot.db"
    try:
        with contextlib.closing(sqlite3.connect(database)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise errors.BadBackup(path=archive, problem="its database fails the integrity "
                                                             f"check: {problems[0]}")
            applied = {row[0] for row in connection.execute("SELECT name FROM schema_migrations")}
            contractors = connection.execute("SELECT count(*) FROM core_contractors").fetchone()[0]
            channels = connection.execute("SELECT count(*) FROM core_channels").fetchone()[0]
    except sqlite3.Error as exc:
        raise errors.BadBackup(path=archive, problem=f"its database cannot be read ({exc})") \
            from None
    known = [name for name, _ in MIGRATIONS]
    newer = sorted(applied - set(known))
    if newer:
        raise errors.BadBackup(path=archive, problem=(
            f"it comes from a newer SmetaBot (migration {newer[0]}): upgrade SmetaBot first"))
    sessions = staging / "sessions"
    sealed = sorted(sessions.glob("*.session.enc")) if sessions.is_dir() else []
    vault = Vault(sessions, secret_key)  # ConfigError when the key is not a key
    if sessions.is_dir():
        try:
            vault.open()
        except errors.StartupError:
            raise errors.ConfigError(problem=(
                f"the sessions in {archive} do not open with security.secret_key: restore with "
                "the key that was in force when the backup was made")) from None
    for path in sealed:
        try:
            vault.load(int(path.name.split(".")[0]))
        except VaultError:
            raise errors.BadBackup(path=archive, problem=f"the session {path.name} is damaged "
                                                         "or sealed with another key") from None
    _forget_bot_updates(vault)
    return contractors, channels, len(sealed), [n for n in known if n not in applied]


def _forget_bot_updates(vault: Any) -> None:
    """A restored bot keeps its session and the channels it knows, but not where its update
    sequence stood: catching up from there would replay, on the restored data, everything the
    bot answered after the backup was made."""
    state = vault.load_bot()
    if not state:
        return
    try:
        parsed = json.loads(state)
    except ValueError:
        vault.bot_path.unlink(missing_ok=True)
        return
    parsed.pop("updates", None)
    vault.save_bot(json.dumps(parsed))


def _own_like(data_dir: Path, staging: Path) -> None:
    # Run as root (sudo) for a service that runs as its own user: the restored files must
    # belong to the data dir's owner, or serve cannot open them.
    if os.geteuid() != 0:
        return
    owner = data_dir.stat()
    for folder, _, files in os.walk(staging):
        for path in (folder, *(os.path.join(folder, name) for name in files)):
            os.chown(path, owner.st_uid, owner.st_gid)


def _set_aside(data_dir: Path) -> Path | None:
    present = [name for name in _REPLACED if (data_dir / name).exists()]
    if not present:
        return None
    aside = data_dir / f"before-restore-{time.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir(mode=0o700)
    for name in present:
        os.replace(data_dir / name, aside / name)
    return aside


# --- Telegram ---------------------------------------------------------------------------------


def telegram_failure(exc: BaseException, *, proxy: str = "", timeout: float | None = None) -> str:
    """Why the bot could not log in to Telegram, as the end of "Cannot start: …": Telegram
    rejected the token (or api_id), asked to wait, or could not be reached at all."""
    from pyrogram import errors as tg

    via = f" through the proxy in telegram.proxy ({proxy.split('@')[-1]})" if proxy else ""
    if isinstance(exc, (tg.AccessTokenInvalid, tg.AccessTokenExpired, tg.AuthKeyUnregistered,
                        tg.UserDeactivated, tg.BotMethodInvalid)):
        return (f"Telegram rejected the bot token ({exc.ID}): check telegram.bot_token against "
                "@BotFather (/mybots → API Token)")
    if isinstance(exc, (tg.ApiIdInvalid, tg.ApiIdPublishedFlood)):
        return (f"Telegram rejected telegram.api_id / telegram.api_hash ({exc.ID}): copy them "
                "again from my.telegram.org → API development tools")
    if isinstance(exc, tg.FloodWait):
        return (f"Telegram asks the bot to wait {exc.value} s before logging in again "
                "(FLOOD_WAIT): start again after that")
    if isinstance(exc, tg.RPCError):
        return f"Telegram refused the bot's login ({exc.ID or type(exc).__name__})"
    advice = ("check that proxy" if proxy else "check this machine's network and firewall, or "
              "set telegram.proxy") + "; `smetabot serve --sandbox` works without Telegram"
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        waited = f" within {timeout:g} s" if timeout else ""
        return f"no route to Telegram{via}: no answer{waited}; {advice}"
    if isinstance(exc, OSError):
        return (f"no route to Telegram{via}: {exc.strerror or str(exc) or 'the connection failed'}"
                f"; {advice}")
    # pyrogram fails while parsing when the connection is answered by something that is not
    # Telegram (a firewall or filtering proxy that accepts and closes): KeyError: 0 and kin.
    return (f"no route to Telegram{via}: the connection was answered, but not by Telegram "
            f"({type(exc).__name__}: a firewall or filter in the way?); {advice}")


async def check_telegram(cfg: Config, timeout: float = 30.0,
                         client: Any = None) -> list[Check]:
    """Log the bot in to Telegram (``doctor --online``) and say whether it worked and why not,
    then how far this machine's clock is from Telegram's. ``client`` replaces the real one
    (tests: a client attached to the emulator)."""
    from pyrogram import Client

    with tempfile.TemporaryDirectory(prefix="smetabot-doctor-") as workdir:
        if client is None:
            client = Client("smetabot-doctor", api_id=cfg["telegram.api_id"],
                            api_hash=cfg["telegram.api_hash"],
                            bot_token=cfg["telegram.bot_token"], in_memory=True, workdir=workdir,
                            proxy=telegram_proxy(cfg), no_updates=True)
        try:
            await asyncio.wait_for(client.start(), timeout)
            me = await asyncio.wait_for(client.get_me(), timeout)
            # kurigram keeps Telegram's time from the msg_ids of what Telegram sends
            skew = client.server_time - time.time()
        except Exception as exc:  # noqa: BLE001 - every failure becomes the doctor's sentence
            return [Check("Telegram", False, telegram_failure(
                exc, proxy=cfg["telegram.proxy"], timeout=timeout))]
        finally:
            if client.is_connected:
                with contextlib.suppress(Exception):
                    await client.stop()
    return [Check("Telegram", True, f"the bot @{me.username} logs in"), clock_check(skew)]


def clock_check(skew: float) -> Check:
    """The doctor's line on this machine's clock, ``skew`` seconds behind Telegram's (negative:
    ahead). Logins compare Telegram's expiries with Telegram's time, so only a large skew
    matters: the WebApp's signed data would look dated in the future or too old."""
    from smetabot.initdata import MAX_CLOCK_SKEW

    seconds = round(abs(skew))
    if seconds < 2:
        return Check("clock", True, "this machine's clock agrees with Telegram's")
    where = "behind" if skew > 0 else "ahead of"
    said = f"this machine's clock is {seconds} s {where} Telegram's"
    if seconds <= MAX_CLOCK_SKEW:
        return Check("clock", True, said)
    return Check("clock", False, f"{said}: logins through the WebApp may be refused as "
                                 "dated in the future or too old; let the system keep time "
                                 "(timedatectl set-ntp true, or chrony)")


async def resolve_admin_usernames(cfg: Config, bot: Any) -> list[str]:
    """Add the ids of ``admins.usernames`` to ``admins.telegram_ids`` (in memory), asking
    Telegram through the logged-in ``bot``; returns the usernames it could not resolve."""
    unresolved = []
    ids = cfg.values["admins"]["telegram_ids"]
    for name in cfg["admins.usernames"]:
        try:
            user = await bot.get_users(name)
        except Exception:  # noqa: BLE001 - USERNAME_NOT_OCCUPIED, USERNAME_INVALID, network
            unresolved.append(name)
            continue
        if user.id not in ids:
            ids.append(user.id)
    return unresolved
