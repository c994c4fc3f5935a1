"""`smetabot backup` and `smetabot restore`: round trips through the real App (sandbox mode),
and every way a restore is refused, with nothing changed."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import stat
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetabot.cli import app as cli_app
from smetabot.maintenance import ServeLock
from smetabot.telegram.emulator import Emulator
from tests.helpers import SECRET, labels, press, run, sandbox_app, say

cli = CliRunner()
OTHER_KEY = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzJi"


def smetabot(*args: str) -> tuple[int, str, str]:
    result = cli.invoke(cli_app, [str(arg) for arg in args])
    return result.exit_code, result.stdout, result.stderr


def write_config(tmp_path: Path, data: Path, secret: str = SECRET) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[security]\nsecret_key = "{secret}"\n[storage]\ndata_dir = "{data}"\n')
    return config


async def new_channel(app, uid: int, title: str) -> None:
    """The contractor's whole 🆕 wizard, up to the ready channel."""
    await say(app, uid, "🆕 Новый канал")
    await say(app, uid, title)
    sent = await app.emulator.user_send_text(uid, "Пропустить")

    def ready():
        return any(m["from"] == "bot" and f"Канал «{title}» готов" in (m["text"] or "")
                   for m in app.emulator.user_chat(uid, sent))
    await app.emulator.wait_until(ready, 20)


async def channel_list(app, uid: int) -> list[str]:
    """The channel buttons the contractor sees under 📢 Мои каналы."""
    [listing] = await say(app, uid, "📢 Мои каналы")
    return [label for label in labels(listing) if label.startswith("📢 ")]


@pytest.fixture
def emulator() -> Emulator:
    emulator = Emulator()
    emulator.create_bot("smetabot", "SmetaBot")
    return emulator


def test_backup_wipe_restore_and_the_contractor_carries_on(tmp_path, emulator):
    data = tmp_path / "data"
    config = write_config(tmp_path, data)
    archive = tmp_path / "backup.tar.gz"

    async def before() -> int:
        async with sandbox_app(data, emulator) as app:
            ivan = emulator.create_user("Иван", username="ivan", language_code="ru")
            app.vault.save(ivan, emulator.session_string(ivan))
            await new_channel(app, ivan, "Ремонт на Ленина, 5")
            # Taken while serving, as an operator would from cron.
            code, _out, err = smetabot("backup", "--config", config, "--out", archive)
            assert code == 0, err
            return ivan

    ivan = run(before())
    shutil.rmtree(data)  # the disk is lost

    code, out, err = smetabot("restore", archive, "--config", config)
    assert code == 0, err
    assert out.startswith(f"Restored {archive} into {data}: 1 contractor(s), 1 channel(s), "
                          "1 session(s) checked with the secret key.")
    assert stat.S_IMODE((data / "smetabot.db").stat().st_mode) == 0o600

    async def after() -> None:
        async with sandbox_app(data, emulator) as app:
            # The account is still connected: the main menu, not "connect your account".
            [menu] = await say(app, ivan, "/start")
            assert "🔐 Подключить аккаунт" not in labels(menu)
            assert await channel_list(app, ivan) == ["📢 Ремонт на Ленина, 5"]
            async with app.user_clients.use(ivan) as client:  # the restored session works
                assert (await client.get_me()).id == ivan
            [listing] = await say(app, ivan, "📢 Мои каналы")
            [card] = await press(app, ivan, listing["id"], "📢 Ремонт на Ленина, 5")
            assert "Состояние: готов" in card["text"]

    run(after())


def test_restore_drops_the_data_dirs_leftover_wal(tmp_path, emulator):
    """The old instructions ("unpack into the data dir") let a leftover smetabot.db-wal bring
    back changes made after the backup; restore moves it aside with the database it belongs
    to."""
    data = tmp_path / "data"
    config = write_config(tmp_path, data)
    archive = tmp_path / "backup.tar.gz"
    leftover = tmp_path / "leftover.db-wal"

    async def before() -> int:
        async with sandbox_app(data, emulator) as app:
            ivan = emulator.create_user("Иван", username="ivan", language_code="ru")
            app.vault.save(ivan, emulator.session_string(ivan))
            await new_channel(app, ivan, "До бэкапа")
            assert smetabot("backup", "--config", config, "--out", archive)[0] == 0
            await new_channel(app, ivan, "После бэкапа")
            # What a crash leaves beside the database: the WAL with the latest changes.
            shutil.copy(data / "smetabot.db-wal", leftover)
            return ivan

    ivan = run(before())
    shutil.copy(leftover, data / "smetabot.db-wal")
    # The premise: unpacked by hand beside that WAL, the backup shows the later channel.
    by_hand = tmp_path / "by-hand"
    by_hand.mkdir()
    with tarfile.open(archive) as tar:
        tar.extract("smetabot.db", by_hand, filter="data")
    shutil.copy(leftover, by_hand / "smetabot.db-wal")
    with sqlite3.connect(by_hand / "smetabot.db") as db:
        assert {r[0] for r in db.execute("SELECT title FROM core_channels")} == {
            "До бэкапа", "После бэкапа"}

    code, out, err = smetabot("restore", archive, "--config", config)
    assert code == 0, err
    [aside] = data.glob("before-restore-*")
    assert f"What was there before is in {aside}." in out
    assert {p.name for p in aside.iterdir()} >= {"smetabot.db", "smetabot.db-wal", "sessions"}
    assert not (data / "smetabot.db-wal").exists()

    async def after() -> None:
        async with sandbox_app(data, emulator) as app:
            assert await channel_list(app, ivan) == ["📢 До бэкапа"]

    run(after())


# --- refusals: each leaves the data dir as it was ---------------------------------------------


def small_data_dir(tmp_path: Path) -> Path:
    """A data dir with a database and a sealed session, made by the real App."""
    data = tmp_path / "data"

    async def make() -> None:
        async with sandbox_app(data) as app:
            uid = app.emulator.create_user("Иван", language_code="ru")
            await app.contractors.touch(uid, "Иван", None, "ru")
            app.vault.save(uid, app.emulator.session_string(uid))

    run(make())
    return data


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and p.name != ServeLock.NAME}


def tar_of(tmp_path: Path, members: dict[str, bytes], name="crafted.tar.gz") -> Path:
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        for member, content in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture
def installed(tmp_path):
    """A data dir, its config and a good backup of it."""
    data = small_data_dir(tmp_path)
    config = write_config(tmp_path, data)
    archive = tmp_path / "good.tar.gz"
    assert smetabot("backup", "--config", config, "--out", archive)[0] == 0
    return data, config, archive


def damaged_database(tmp_path: Path, good: Path) -> bytes:
    with tarfile.open(good) as tar:
        content = bytearray(tar.extractfile("smetabot.db").read())
    # Scribble over the middle half of the file: b-tree pages (many, so that some in use are
    # hit whatever the tables' layout), not the header.
    start, end = len(content) // 4, len(content) * 3 // 4
    content[start:end] = b"\xa5" * (end - start)
    return bytes(content)


@pytest.mark.parametrize("case,code,words", [
    ("not a tar", 65, "is not a sound SmetaBot backup: not a readable .tar.gz"),
    ("a path outside", 65, "it holds '../evil', which a backup never does"),
    ("no database", 65, "it holds no smetabot.db"),
    ("a damaged database", 65, "is not a sound SmetaBot backup: its database"),
    ("another key", 78, "do not open with security.secret_key"),
    ("serve is running", 69, "is in use by a running `smetabot serve` (pid"),
    ("no such file", 64, "no such file"),
])
def test_a_refused_restore_says_why_and_changes_nothing(tmp_path, installed, case, code, words):
    data, config, good = installed
    archive = {
        "not a tar": lambda: _write(tmp_path / "x.tar.gz", b"not a tar at all"),
        "a path outside": lambda: tar_of(tmp_path, {"smetabot.db": b"", "../evil": b"x"}),
        "no database": lambda: tar_of(tmp_path, {"README.txt": b"hello"}),
        "a damaged database": lambda: tar_of(
            tmp_path, {"smetabot.db": damaged_database(tmp_path, good)}),
        "another key": lambda: good,
        "serve is running": lambda: good,
        "no such file": lambda: tmp_path / "nowhere.tar.gz",
    }[case]()
    if case == "another key":
        config = write_config(tmp_path, data, secret=OTHER_KEY)
    before = snapshot(data)
    lock = ServeLock(data).acquire() if case == "serve is running" else None
    try:
        result, _out, err = smetabot("restore", archive, "--config", config)
    finally:
        if lock:
            lock.release()
    assert result == code, err
    assert err.startswith("Error: ") and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(data) == before
    assert not list(data.glob(".restore-*")) and not list(data.glob("before-restore-*"))


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_backup_is_0600_even_over_an_existing_file_and_failures_have_their_code(tmp_path):
    data = small_data_dir(tmp_path)
    config = write_config(tmp_path, data)
    target = tmp_path / "nightly.tar.gz"
    target.write_bytes(b"yesterday")
    target.chmod(0o644)
    code, _out, err = smetabot("backup", "--config", config, "--out", target)
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert tarfile.is_tarfile(target)
    # Cannot be written: 73 (EX_CANTCREAT), the path named; an existing backup stays.
    for out_path in (tmp_path, tmp_path / "no-such-folder" / "b.tar.gz",
                     target / "inside-a-file.tar.gz"):
        code, _, err = smetabot("backup", "--config", config, "--out", out_path)
        assert code == 73, err
        assert err.startswith(f"Error: Cannot write {out_path}: ") and "Traceback" not in err
    assert tarfile.is_tarfile(target)
    assert not list(tmp_path.glob(".*.part"))
    # Nothing to back up: 74, in words.
    code, _, err = smetabot("backup", "--data-dir", tmp_path / "empty", "--config", config,
                            "--out", tmp_path / "x.tar.gz")
    assert code == 74
    assert err.strip() == (f"Error: Backup failed: no database in {tmp_path / 'empty'}: nothing "
                           "to back up (check storage.data_dir or --data-dir)")


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_restore_run_with_sudo_leaves_the_files_to_the_services_user(tmp_path, installed):
    data, config, archive = installed
    os.chown(data, 65534, 65534)  # the service's user owns the data dir
    (data / ServeLock.NAME).unlink(missing_ok=True)  # never served: restore creates it
    code, _, err = smetabot("restore", archive, "--config", config)
    assert code == 0, err
    for path in (data / "smetabot.db", data / "sessions", *(data / "sessions").iterdir(),
                 data / ServeLock.NAME):
        assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534), path


def test_a_forked_child_does_not_keep_the_data_dir_locked(tmp_path):
    """Render workers are forked from serve: if serve dies first, its lock must go with it."""
    data = tmp_path / "data"
    lock = ServeLock(data).acquire()
    read_end, write_end = os.pipe()
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker (fork hooks done): outlives the lock's holder for a moment
        os.close(write_end)
        os.write(ready_write, b"r")
        os.read(read_end, 1)
        os._exit(0)
    os.close(read_end)
    os.close(ready_write)
    assert os.read(ready_read, 1) == b"r"
    os.close(ready_read)
    try:
        lock.release()  # serve is gone; its worker still runs
        again = ServeLock(data).acquire()  # would raise DataDirBusy if the worker held a copy
        again.release()
    finally:
        os.write(write_end, b"x")
        os.close(write_end)
        os.waitpid(child, 0)
