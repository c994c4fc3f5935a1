"""Every refusal Telegram documents for the calls only `smetabot selftest` makes (reading the
bot's commands, the test channel's post, deleting the test channel) or that it makes as serve
does at start (the bot logging in), injected where the walk makes them: the step fails (or
falls back) naming Telegram's error, and the report gives the sentence a contractor would read
— the answer tests/data/telegram_errors.tsv names, never the catch-all. The test channel is
deleted all the same, unless that is the refused call."""

from __future__ import annotations

import json

import pytest

from smetabot import selftest
from smetabot.telegram.emulator import Emulator
from tests.helpers import own_event_loop
from tests.refusal_sites import (
    CATCH_ALL,
    assert_answered,
    emulated,
    inject,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

pytestmark = pytest.mark.usefixtures("retries_at_once")

#: the calls, and the step of the walk that makes them
SELFTEST = {"auth.importBotAuthorization": "Bot logs in", "updates.getState": "Bot logs in",
            "bots.getBotCommands": "Bot's commands", "channels.getChannels": "Forwarding off",
            "channels.getMessages": "Page published",
            "channels.deleteChannel": "Test channel deleted"}




CASES = [(method, row) for method in SELFTEST for row in reachable(method)]


@pytest.mark.parametrize("method,row", CASES,
                         ids=[f"{m}-{r['error']}" for m, r in CASES])
def test_a_refusal_in_the_selftest_walk_is_reported_in_the_contractors_words(
        tmp_path, capsys, method, row):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")
    ident = inject(emu, method, row)
    report = tmp_path / "r.json"
    with own_event_loop():
        code = selftest.run(selftest.Options(sandbox=True, data_dir=tmp_path / "data",
                                             json_file=report), emulator=emu)
    printed = capsys.readouterr()
    left = emu.injected.pop(emulated(method), [])
    assert len(left) < (10 if row["code"] == "500" else 1), f"{method} was not called"
    step = next(s for s in json.loads(report.read_text())["steps"]
                if s["name"] == SELFTEST[method])
    where = (method, row["error"], step)
    assert step["status"] in ("FAILED", "fallback"), where
    assert code == (69 if step["required"] else 0), where
    if ident == "TIMEOUT" and SELFTEST[method] == "Bot logs in":
        # the bot's own start, as serve's: the operator reads why (no contractor involved)
        assert "Telegram" in step["happened"], where
        assert not any(p in step["happened"] for p in CATCH_ALL), where
    else:
        assert step["error"] == ident, where
        for lang in ("ru", "en"):
            assert_answered(row, step[f"contractor_{lang}"], lang, ident)
            assert " ".join(step[f"contractor_{lang}"].split()) in " ".join(
                (printed.out + printed.err).split())
    if method != "channels.deleteChannel":  # the test channel is cleaned up all the same
        assert emu.channels_by_id == {}, where
