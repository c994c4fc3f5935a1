"""Every refusal Telegram documents for messages.getMessagesViews, injected where the views
poller reads a publication's views with the contractor's account. Nobody is written to about
it (the card shows the last counts); what the table's answer means is what the poller does:
a channel gone or posts gone stop the reading for good, a flood wait pauses the contractor's
readings for as long as Telegram asks, Telegram's trouble (or "not modified") leaves the
reading due, to be tried again. No round fails with a traceback."""

from __future__ import annotations

import logging

import pytest

from smetabot.telegram.emulator import Emulator
from tests.helpers import run, sandbox_app, say
from tests.refusal_sites import (
    inject,
    over,
    publish,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

pytestmark = pytest.mark.usefixtures("retries_at_once")
METHOD = "messages.getMessagesViews"
#: the table's answer → how the publication's reading stands after it
STOPS = {"group:gone": "channel_gone", "specific:message_gone": "messages_gone"}


def test_every_refusal_of_reading_views_is_answered_as_the_table_says(tmp_path, caplog):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")
    rows = reachable(METHOD)
    assert len(rows) >= 6

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            uid = emu.create_user("Иван", language_code="ru")
            app.vault.save(uid, emu.session_string(uid))
            await say(app, uid, "🆕 Новый канал")
            await say(app, uid, "Квартира")
            await say(app, uid, "Пропустить")
            await publish(app, uid, "Квартира")
            chat = len(emu.user_chat(uid))
            for row in rows:
                # the publication's reading is due now, nothing paused
                await app.db.execute("UPDATE analytics_view_schedule SET stopped = NULL, "
                                     "next_at = '2000-01-01T00:00:00.000Z'")
                await app.db.execute("UPDATE analytics_contractors SET paused_until = NULL")
                inject(emu, METHOD, row)
                for _ in range(2):  # a whole round after the injection
                    rounds = app.views.rounds
                    app.views.wake()
                    await emu.wait_until(lambda rounds=rounds: app.views.rounds > rounds,
                                         timeout=30)
                over(emu, METHOD)
                schedule = await app.db.fetchone(
                    "SELECT stopped FROM analytics_view_schedule ORDER BY publication_id DESC")
                paused = await app.db.fetchone(
                    "SELECT paused_until FROM analytics_contractors WHERE contractor_id = ?",
                    (uid,))
                where = (row["error"], dict(schedule), dict(paused))
                kind = row["answer"]
                assert schedule["stopped"] == STOPS.get(kind), where
                assert bool(paused["paused_until"]) == (kind == "group:flood"), where
                assert len(emu.user_chat(uid)) == chat, where  # nobody is written to
            failed = [r for r in caplog.records
                      if r.name.startswith("smetabot") and r.levelno >= logging.ERROR]
            assert not failed, [r.getMessage() for r in failed]

    run(scenario(), timeout=300)
