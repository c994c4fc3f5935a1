"""What the tests that inject Telegram's refusals at their call sites share (the
test_refusal_sites*.py files): the table's reachable rows, injecting one, and what a person
must (and must never) read about it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from smetabot import refusals
from smetabot.telegram.emulator import Emulator
from smetabot.telegram.emulator.session import EmulatorSession
from tests.helpers import SAMPLES

TABLE = Path(__file__).resolve().parent / "data" / "telegram_errors.tsv"
#: what nobody may read about a Telegram refusal
CATCH_ALL = ("на нашей стороне", "on our side", "Не удалось подключить", "Could not connect",
             "Traceback")
#: the seconds of every injected flood wait: over what kurigram sleeps through by itself
#: (10 s; 60 s in get_chat_members)
WAIT = 120


def reachable(method: str) -> list[dict[str, str]]:
    """The table's rows for ``method`` marked as reachable from our calls."""
    with TABLE.open(encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")),
                              delimiter="\t")
        return [row for row in rows if row["method"] == method and row["reachable"] == "yes"]


def emulated(method: str) -> str:
    """messages.sendMedia → messages.SendMedia, as the emulator names functions."""
    namespace, _, name = method.partition(".")
    return f"{namespace}.{name[0].upper()}{name[1:]}"


def inject(emu: Emulator, method: str, row: dict[str, str], times: int | None = None) -> str:
    """Telegram refuses the next ``times`` calls of ``method`` as ``row`` says (by default
    once; a 500-class error every time kurigram asks, so that it gives up); the error's ID as
    kurigram and refusals.py spell it."""
    error = row["error"].replace("%d", str(WAIT))
    code = int(row["code"])
    if times is None:
        times = 10 if code == 500 else 1
    emu.inject_error(emulated(method), code, error, times=times)
    return "TIMEOUT" if code == 500 else refusals.normalize_error(row["error"]).replace(
        "_%d", "_X")


def over(emu: Emulator, method: str) -> None:
    """Check the product did make the call refused, then forget what is left of the
    injection (a 5xx kurigram stopped asking about) and any flood wait it started."""
    left = emu.injected.pop(emulated(method), [])
    assert len(left) < 10 and not (left and left[0].code != 500), \
        f"{method} was not called ({left[0]}): the scenario does not reach its call site " \
        f"(the last calls: {emu.calls[-8:]})"
    emu.flood_until.clear()


def assert_answered(row: dict[str, str], text: str, lang: str, ident: str,
                    own: dict[str, str] | None = None) -> None:
    """``text`` gives the answer the table names for ``row``: the kind's words (for a flood,
    at least how long to wait), or the call site's ``own`` words for that kind."""
    where = (row["method"], row["error"], lang, text)
    assert text, where
    assert not any(phrase in text for phrase in CATCH_ALL), where
    kind = row["answer"]
    if own and kind in own:
        assert own[kind] in text, where
    elif kind == "group:flood":
        assert refusals.wait_words(WAIT, lang) in text, where
    else:
        assert refusals.text_for(kind, lang, error=ident) in text, where


@pytest.fixture
def retries_at_once(monkeypatch):
    """kurigram retries a 5xx ten times, a real second apart, before it raises TimeoutError;
    the emulator's sessions retry at once here, so the 5xx rows take no time."""
    invoke = EmulatorSession.invoke

    async def quick(self, *args, **kwargs):
        kwargs["retry_delay"] = 0
        return await invoke(self, *args, **kwargs)

    monkeypatch.setattr(EmulatorSession, "invoke", quick)


async def wait_for(emu: Emulator, uid: int, words: str, after: int) -> dict:
    return await emu.wait_until(lambda: next(
        (m for m in emu.user_chat(uid, after) if m["from"] == "bot" and
         words in (m["text"] or "")), None), timeout=120)


async def publish(app, uid: int, title: str) -> None:
    """The contractor ``uid`` publishes page 1 of the sample estimate into ``title``."""
    emu = app.emulator
    await app.db.execute("DELETE FROM billing_usage_counters")  # a plan's monthly limit
    sent = await emu.user_send_document(
        uid, "smeta.pdf", (SAMPLES / "smeta-remont-kvartiry.pdf").read_bytes(),
        "application/pdf")
    await wait_for(emu, uid, "Какие страницы", sent)
    picker = await wait_for(emu, uid, "Выбрано", await emu.user_send_text(uid, "1"))
    await emu.user_press(uid, picker["id"], "Далее ➡️")
    question = await wait_for(emu, uid, "Водяной знак", picker["id"])
    await emu.user_press(uid, question["id"], "✅ Оставить")
    choice = await wait_for(emu, uid, "В какой канал", question["id"])
    await emu.user_press(uid, choice["id"], f"📢 {title}")
    await wait_for(emu, uid, "✅ Документ опубликован", choice["id"])
