"""`smetabot selftest`: the walk through every Telegram call, against the emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smetabot import config, refusals, selftest
from smetabot.cli import app
from smetabot.render.pipeline import RenderSettings
from smetabot.telegram.connect import choose
from smetabot.telegram.emulator import Emulator
from smetabot.vault import Vault
from tests.helpers import own_event_loop, run

cli = CliRunner()

STEPS = ["Bot logs in", "Bot's commands", "Public URL", "User account logs in",
         "Private channel", "Forwarding off", "Bot made admin", "Invite link",
         "Invite link revoked", "Watermarked page", "Page published", "View count",
         "Duplicate send", "Test channel deleted", "Session logged out"]




def emulator() -> Emulator:
    emu = Emulator()
    emu.create_bot("smetabot", "SmetaBot")
    return emu


def walk(tmp_path: Path, emu: Emulator, capsys, **options) -> tuple[int, str]:
    """The command on ``emu`` (as --sandbox): its exit code and what it printed."""
    with own_event_loop():
        code = selftest.run(selftest.Options(sandbox=True, data_dir=tmp_path / "data",
                                             **options), emulator=emu)
    printed = capsys.readouterr()
    return code, " ".join((printed.out + printed.err).split())


def rows(output: str) -> dict[str, str]:
    """Each step's mark, as the table shows it."""
    return {name: output[output.index(f" {name} ") - 1] for name in STEPS
            if f" {name} " in output}


def selftest_user(emu: Emulator) -> int:
    return next(a.id for a in emu.accounts.values() if a.first_name == "Selftest")


def signed_in(emu: Emulator, user_id: int) -> bool:
    return any(key.user_id == user_id for key in emu.auth_keys.values())


def test_sandbox_selftest_passes_every_step_and_writes_json_without_secrets(tmp_path):
    report = tmp_path / "selftest.json"
    with own_event_loop():
        result = cli.invoke(app, ["selftest", "--sandbox", "--data-dir", str(tmp_path / "d"),
                                  "--json", str(report)])
    assert result.exit_code == 0, result.output
    out = result.output
    for name in STEPS:
        assert name in out
    assert "✗" not in out
    assert "Telegram check passed" in out
    assert "refused as expected (RANDOM_ID_DUPLICATE)" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    statuses = {step["key"]: step["status"] for step in data["steps"]}
    assert statuses.pop("public_url") == "skipped"  # the sandbox has no public URL
    assert set(statuses.values()) == {"ok"}, statuses
    assert data["exit_code"] == 0 and data["mode"] == "sandbox"
    publish = next(s for s in data["steps"] if s["key"] == "publish")
    assert "protected document" in publish["happened"]
    text = report.read_text(encoding="utf-8")
    assert not any(len(word) > 80 for word in text.split()), "a session string?"


def test_selftest_cleans_up_and_names_no_secret(tmp_path, capsys):
    emu = emulator()
    code, out = walk(tmp_path, emu, capsys, json_file=tmp_path / "r.json")
    assert code == 0, out
    assert all(mark == "✓" for name, mark in rows(out).items() if name != "Public URL"), out
    assert emu.channels_by_id == {}  # the test channel was deleted
    assert not signed_in(emu, selftest_user(emu))  # the session it made is logged out
    posted = [call for call in emu.calls if call in ("messages.SendMedia",
                                                     "messages.UploadMedia")]
    assert posted == ["messages.UploadMedia", "messages.SendMedia"] * 2  # as publishing does
    for text in (out, (tmp_path / "r.json").read_text(encoding="utf-8")):
        assert emu.bot.bot_token not in text
        assert emu.bot.bot_token.split(":")[1] not in text


@pytest.mark.parametrize("method, code, error, step, kind", [
    ("auth.ImportBotAuthorization", 400, "ACCESS_TOKEN_INVALID", "Bot logs in",
     "group:operator"),
    ("channels.CreateChannel", 400, "CHANNELS_TOO_MUCH", "Private channel",
     "specific:channels_too_much"),
    ("channels.CreateChannel", 420, "FLOOD_WAIT_3600", "Private channel", "group:flood"),
    ("messages.ToggleNoForwards", 400, "CHAT_ADMIN_REQUIRED", "Forwarding off",
     "specific:account_not_admin"),
    ("messages.ExportChatInvite", 403, "CHAT_WRITE_FORBIDDEN", "Invite link",
     "specific:bot_not_admin"),
    ("messages.SendMedia", 400, "MEDIA_EMPTY", "Page published", "group:file_refused"),
])
def test_an_injected_refusal_fails_its_step_in_telegrams_and_the_contractors_words(
        tmp_path, capsys, method, code, error, step, kind):
    emu = emulator()
    emu.inject_error(method, code, error)
    exit_code, out = walk(tmp_path, emu, capsys, json_file=tmp_path / "r.json")
    assert exit_code == 69, out
    assert rows(out)[step] == "✗", out
    named = error.replace("3600", "X")  # kurigram's spelling
    assert f"{step}: Telegram answered {named} in {method}." in out
    seconds = 3600 if "FLOOD" in error else None
    words = refusals.text_for(kind, "en", seconds=seconds, error=named)
    assert f"A contractor would read: {words}" in out
    assert " ".join(refusals.text_for(kind, "ru", seconds=seconds, error=named).split()) in out
    assert "Telegram check FAILED" in out
    failed = next(s for s in json.loads((tmp_path / "r.json").read_text())["steps"]
                  if s["name"] == step)
    assert (failed["status"], failed["error"], failed["contractor_en"]) == \
        ("FAILED", named, words)
    assert emu.channels_by_id == {}  # cleaned up all the same
    assert not signed_in(emu, selftest_user(emu))


def test_fresh_login_refused_admin_rights_is_reported_with_the_products_fallback(
        tmp_path, capsys):
    emu = emulator()
    emu.inject_error("channels.EditAdmin", 400, "FRESH_CHANGE_ADMINS_FORBIDDEN")
    code, out = walk(tmp_path, emu, capsys)
    assert code == 0, out  # the product works around it: nothing it cannot work without failed
    marks = rows(out)
    assert marks["Bot made admin"] == "!"
    # the next steps walk the product's fallback: the user account links and posts
    assert marks["Invite link"] == marks["Page published"] == marks["Duplicate send"] == "✓"
    assert "FRESH_CHANGE_ADMINS_FORBIDDEN" in out
    assert "from the contractor's own account" in out and "--contractor ID" in out
    assert out.count("account: the fallback)") == 2  # the link and the page
    assert refusals.text_for("specific:fresh_admin_wait", "en") in out
    assert emu.channels_by_id == {}


def test_a_connected_contractors_session_is_used_and_kept(tmp_path, capsys):
    emu = emulator()
    contractor = emu.create_user("Ivan", language_code="ru")
    data = tmp_path / "data"
    data.mkdir()
    key = config.generate_secret_key()
    (data / "sandbox.key").write_text(key)
    vault = Vault(data / "sessions", key)
    vault.open()
    vault.save(contractor, emu.session_string(contractor))
    code, out = walk(tmp_path, emu, capsys, contractor=contractor)
    assert code == 0, out
    assert f"the connected contractor {contractor}" in out
    assert "kept: the session is the contractor's" in out
    assert signed_in(emu, contractor)
    assert emu.channels_by_id == {}
    code, out = walk(tmp_path, emu, capsys, contractor=contractor + 1)
    assert code == 78 and "no connected contractor" in out


def test_an_interrupted_walk_still_deletes_the_channel_and_logs_out(tmp_path):
    emu = emulator()
    emu.latency = 0.05  # a Telegram that takes its time, so the walk is still going
    cfg = config.load(None, env={})

    async def interrupt() -> list[selftest.Step]:
        telegram = choose(cfg, tmp_path, tmp_path, sandbox=True, emulator=emu)
        walker = selftest.Walk(telegram, RenderSettings.from_config(cfg.section("render")),
                               tmp_path, public_url=None)
        task = asyncio.create_task(walker.run())
        await emu.wait_until(lambda: emu.channels_by_id, timeout=30)
        # What Ctrl-C does to asyncio.run's task, again until a step is interrupted (Python
        # 3.11's wait_for may swallow one), then no more: the cleanup must run to its end.
        while not task.done() and not any(step.happened == "interrupted"
                                          for step in walker.steps.values()):
            task.cancel()
            await asyncio.wait([task], timeout=0.05)
        await asyncio.wait([task], timeout=30)
        assert task.cancelled()
        return list(walker.steps.values())

    steps = run(interrupt())
    assert emu.channels_by_id == {}
    assert not signed_in(emu, selftest_user(emu))
    done = {s.key: s.status for s in steps}
    assert done["channel_delete"] == "ok" and done["logout"] == "ok"
    assert "interrupted" in [s.happened for s in steps]


def test_selftest_needs_a_terminal_or_a_contractor_and_a_config(tmp_path):
    conf = tmp_path / "config.toml"
    with own_event_loop():
        missing = cli.invoke(app, ["selftest", "--config", str(conf)])
        assert missing.exit_code == 78
        assert "smetabot init" in missing.output
        made = cli.invoke(app, ["init", "--non-interactive", "--config", str(conf),
                                "--bot-token", "123456789:AAH" + "x" * 32, "--api-id", "1",
                                "--api-hash", "0123456789abcdef0123456789abcdef",
                                "--public-url", "https://example.org",
                                "--data-dir", str(tmp_path / "data")])
        assert made.exit_code == 0, made.output
        result = cli.invoke(app, ["selftest", "--config", str(conf)], input="")
    assert result.exit_code == 64
    assert "--contractor ID" in result.output


@pytest.mark.parametrize("url, status, words", [
    ("https://127.0.0.1:1", "skipped", "not reachable from here"),  # nothing listens there
    ("http://smetabot.example.org", "FAILED", "is not HTTPS"),
])
def test_the_public_url_is_checked_over_https_or_said_unreachable(tmp_path, url, status, words):
    emu = emulator()
    cfg = config.load(None, env={})

    async def check() -> selftest.Step:
        telegram = choose(cfg, tmp_path, tmp_path, sandbox=True, emulator=emu)
        walker = selftest.Walk(telegram, RenderSettings.from_config(cfg.section("render")),
                               tmp_path, public_url=url, timeout=30)
        steps = {s.key: s for s in await walker.run()}
        assert all(s.status == "ok" for k, s in steps.items() if k != "public_url")
        return steps["public_url"]

    step = run(check())
    assert step.status == status and words in step.happened
    assert selftest.exit_code([step]) == (69 if status == "FAILED" else 0)
