"""Every refusal Telegram documents for the calls the bot makes for itself rather than for a
request — its command list and a chat's menu button (conveniences), catching up on what it
missed while stopped (updates.getDifference), resolving the admins named by username
(users.getUsers) — injected where serve makes them: serve starts and the bot answers all the
same, nobody reads the "our side" catch-all, and the operator's log says what Telegram
answered. (The bot's own login at start, auth.importBotAuthorization and what follows it, is
refused in tests/test_refusal_sites_selftest.py, where the walk makes the same calls.)"""

from __future__ import annotations

import logging

import pytest

from smetabot.telegram.emulator import Emulator
from tests.helpers import run, sandbox_app, say
from tests.refusal_sites import (
    CATCH_ALL,
    inject,
    over,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

pytestmark = pytest.mark.usefixtures("retries_at_once")


async def answers(app, uid: int) -> str:
    said = await say(app, uid, "/start")
    text = "\n".join(m["text"] or "" for m in said)
    assert said and not any(phrase in text for phrase in CATCH_ALL), text
    return text


def logged(caplog, ident: str) -> bool:
    return any(ident in r.getMessage() or ident in repr(r.args) for r in caplog.records
               if r.name.startswith("smetabot") and r.levelno >= logging.INFO)


@pytest.mark.parametrize("method", ["bots.setBotCommands", "users.getUsers"])
def test_a_refusal_at_start_does_not_stop_serve(tmp_path, caplog, method):
    rows = reachable(method)
    assert len(rows) >= 3

    async def scenario():
        for number, row in enumerate(rows):
            caplog.clear()
            emu = Emulator(fake_clock=True)
            emu.create_bot("smetabot", "SmetaBot")
            emu.create_user("Борис", username="boss", language_code="ru")
            ident = inject(emu, method, row)
            async with sandbox_app(tmp_path / str(number), emu, admins_usernames="boss") as app:
                over(emu, method)
                uid = emu.create_user("Иван", language_code="ru")
                await answers(app, uid)
            assert logged(caplog, "boss" if method == "users.getUsers" else ident), row

    run(scenario(), timeout=300)


def test_a_refused_menu_button_leaves_the_login_button(tmp_path):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")
    rows = reachable("bots.setBotMenuButton")
    assert len(rows) >= 4

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            for row in rows:
                uid = emu.create_user("Иван", language_code="ru")  # not connected yet
                inject(emu, "bots.setBotMenuButton", row)
                text = await answers(app, uid)
                await emu.settle()
                over(emu, "bots.setBotMenuButton")
                assert "❌" not in text, (row, text)
                buttons = [b for m in emu.user_chat(uid) for line in m["buttons"]
                           for b in line]
                assert any(b["kind"] == "web_app" for b in buttons), (row, buttons)

    run(scenario(), timeout=300)


def test_a_refused_catch_up_after_a_restart_does_not_stop_serve(tmp_path, caplog):
    rows = reachable("updates.getDifference")
    assert len(rows) >= 2

    async def scenario():
        emu = Emulator(fake_clock=True)
        emu.create_bot("smetabot", "SmetaBot")
        uid = emu.create_user("Иван", language_code="ru")
        async with sandbox_app(tmp_path, emu) as app:
            await answers(app, uid)  # the bot has an update state to catch up from
        for row in rows:
            caplog.clear()
            ident = inject(emu, "updates.getDifference", row)
            async with sandbox_app(tmp_path, emu) as app:
                over(emu, "updates.getDifference")
                await answers(app, uid)
            assert logged(caplog, "could not catch up"), (row, ident)

    run(scenario(), timeout=300)
