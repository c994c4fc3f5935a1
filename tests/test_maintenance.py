"""`smetabot doctor` and `smetabot backup` through the CLI."""

from __future__ import annotations

import socket
import sqlite3
import stat
import tarfile
import time

import pytest
from typer.testing import CliRunner

from smetabot.cli import app
from tests.helpers import SECRET, run, sandbox_app

cli = CliRunner()


def write_config(tmp_path, secret=SECRET):
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\nbot_token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"\napi_id = 1\n'
        'api_hash = "0123456789abcdef0123456789abcdef"\n[server]\n'
        'public_url = "https://x.example"\n'
        f'[security]\nsecret_key = "{secret}"\n[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    return config


def make_data(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            await app.contractors.touch(ivan, "Иван", None, "ru")
            app.vault.save(ivan, app.emulator.session_string(ivan))
            return ivan
    return run(scenario())


def test_doctor_on_a_healthy_install(tmp_path):
    config = write_config(tmp_path)
    make_data(tmp_path)
    result = cli.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 0, result.stdout
    assert "✓ LibreOffice: LibreOffice" in result.stdout
    assert "✓ database: integrity ok; schema up to date" in result.stdout
    assert "✓ secret key: opens the session vault" in result.stdout


def test_doctor_names_what_is_wrong(tmp_path):
    config = write_config(tmp_path, secret="b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzJi")
    make_data(tmp_path)
    config.write_text(config.read_text().replace('api_id = 1\n', '')
                      + '[render]\nsoffice = "/nowhere/soffice"\n')
    result = cli.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 78  # EX_CONFIG: the config is (among) the problem(s)
    assert "✗ config: missing: telegram.api_id" in result.stdout
    assert "✗ LibreOffice:" in result.stdout
    assert "✗ secret key:" in result.stdout and "not the one" in result.stdout


def test_backup_holds_database_and_sealed_sessions_only(tmp_path):
    config = write_config(tmp_path)
    ivan = make_data(tmp_path)
    target = tmp_path / "backup.tar.gz"
    result = cli.invoke(app, ["backup", "--config", str(config), "--out", str(target)])
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with tarfile.open(target) as archive:
        names = set(archive.getnames())
        assert {"smetabot.db", "sessions", f"sessions/{ivan}.session.enc",
                "README.txt"} <= names
        assert not any(name.startswith(("uploads", "tmp", "queue")) for name in names)
        archive.extract("smetabot.db", tmp_path / "restored", filter="data")
    with sqlite3.connect(tmp_path / "restored/smetabot.db") as restored:
        assert restored.execute("SELECT id FROM core_contractors").fetchall() == [(ivan,)]
    result = cli.invoke(app, ["backup", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code == 74 and "nothing to back up" in result.stderr


def test_doctor_without_libreoffice_only_is_unavailable_not_config(tmp_path):
    config = write_config(tmp_path)
    make_data(tmp_path)
    config.write_text(config.read_text() + '[render]\nsoffice = "/nowhere/soffice"\n')
    result = cli.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 69
    assert "✗ LibreOffice:" in result.stdout and "✓ config: complete" in result.stdout


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_doctor_online_says_there_is_no_route_to_telegram(tmp_path):
    """Nothing leaves this machine: the route to Telegram goes through a proxy that is not
    there, as when a firewall stands in the way."""
    config = write_config(tmp_path)
    make_data(tmp_path)
    port = closed_port()
    config.write_text(config.read_text().replace(
        "api_id = 1\n", f'api_id = 1\nproxy = "socks5://user:pr0xyPa55@127.0.0.1:{port}"\n'))
    started = time.monotonic()
    result = cli.invoke(app, ["doctor", "--online", "--timeout", "20", "--config", str(config)])
    assert time.monotonic() - started < 30
    assert result.exit_code == 69, result.stdout
    [line] = [line for line in result.stdout.splitlines() if "Telegram:" in line]
    assert line.startswith(f"✗ Telegram: no route to Telegram through the proxy in "
                           f"telegram.proxy (127.0.0.1:{port}): ")
    assert "check that proxy" in line
    assert "pr0xyPa55" not in result.stdout + result.stderr  # the proxy's password stays hidden
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_online_is_refused_a_malformed_token_before_connecting(tmp_path):
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace(
        "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "123456:AAAA AAAA"))
    result = cli.invoke(app, ["doctor", "--online", "--config", str(config)])
    assert result.exit_code == 78
    assert result.stderr.strip() == (
        "Error: Configuration error: telegram.bot_token is not a bot token: @BotFather gives "
        "one like 123456789:AAH… (digits, a colon, 35 characters)")


def test_a_token_telegram_rejects_is_told_apart_from_no_route(tmp_path):
    """Through the emulator: Telegram answers ACCESS_TOKEN_INVALID."""
    from pyrogram import Client

    from smetabot import config as config_mod
    from smetabot.maintenance import check_telegram
    from smetabot.telegram.emulator import Emulator

    emulator = Emulator()
    token = emulator.create_bot("smetabot", "SmetaBot")
    cfg = config_mod.load(write_config(tmp_path), env={})

    async def check(bot_token: str):
        client = emulator.attach(Client("doctor", bot_token=bot_token, in_memory=True,
                                        workdir=str(tmp_path)))
        return await check_telegram(cfg, 10, client=client)

    [rejected] = run(check(token.split(":")[0] + ":" + "B" * 35))
    assert not rejected.ok
    assert rejected.detail == ("Telegram rejected the bot token (ACCESS_TOKEN_INVALID): check "
                               "telegram.bot_token against @BotFather (/mybots → API Token)")
    accepted, clock = run(check(token))
    assert accepted.ok and accepted.detail == "the bot @smetabot logs in"
    assert clock.ok and clock.detail == "this machine's clock agrees with Telegram's"


@pytest.mark.parametrize("skew,ok,words", [
    (90, True, "this machine's clock is 90 s behind Telegram's"),
    (-900, False, ("this machine's clock is 900 s ahead of Telegram's: logins through the "
                  "WebApp may be refused")),
])
def test_doctor_online_says_how_far_the_clock_is_from_telegrams(tmp_path, skew, ok, words):
    from pyrogram import Client

    from smetabot import config as config_mod
    from smetabot.maintenance import check_telegram
    from smetabot.telegram.emulator import Emulator

    emulator = Emulator()
    token = emulator.create_bot("smetabot", "SmetaBot")
    emulator.advance_time(skew)  # Telegram's clock is this far from the machine's
    cfg = config_mod.load(write_config(tmp_path), env={})
    client = emulator.attach(Client("doctor", bot_token=token, in_memory=True,
                                    workdir=str(tmp_path)))
    _, clock = run(check_telegram(cfg, 10, client=client))
    assert clock.ok is ok and clock.detail.startswith(words)


@pytest.mark.parametrize("exc,words", [
    (ConnectionRefusedError(111, "Connection refused"),
     "no route to Telegram: Connection refused; check this machine's network"),
    (TimeoutError(), "no route to Telegram: no answer within 30 s;"),
    (KeyError(0), "no route to Telegram: the connection was answered, but not by Telegram"),
])
def test_startup_failures_in_one_sentence(exc, words):
    from smetabot.maintenance import telegram_failure

    sentence = telegram_failure(exc, timeout=30)
    assert sentence.startswith(words) and "\n" not in sentence
    assert sentence.endswith("`smetabot serve --sandbox` works without Telegram")


def test_admin_usernames_are_resolved_when_the_bot_has_logged_in(tmp_path):
    """What serve does after its bot logs in (`maintenance.resolve_admin_usernames`)."""
    from pyrogram import Client

    from smetabot import config as config_mod
    from smetabot.maintenance import resolve_admin_usernames
    from smetabot.telegram.emulator import Emulator

    emulator = Emulator()
    token = emulator.create_bot("smetabot", "SmetaBot")
    boss = emulator.create_user("Иван", username="Ivan_Foreman", language_code="ru")
    cfg = config_mod.load(None, env={"SMETABOT_ADMINS_TELEGRAM_IDS": "42",
                                     "SMETABOT_ADMINS_USERNAMES": "@ivan_foreman,nobody_here"})

    async def resolve():
        bot = emulator.attach(Client("bot", bot_token=token, in_memory=True,
                                     workdir=str(tmp_path)))
        await bot.start()
        try:
            return await resolve_admin_usernames(cfg, bot)
        finally:
            await bot.stop()

    assert run(resolve()) == ["nobody_here"]
    assert cfg["admins.telegram_ids"] == [42, boss]
