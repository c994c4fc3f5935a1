"""Every refusal Telegram documents for the bot's own calls in a chat, injected where the bot
makes them: its reply (messages.sendMessage, to «📢 Мои каналы»), its edit of the page picker
(messages.editMessage, a page number pressed), its answer to a button (messages.
setBotCallbackAnswer), and its download of the contractor's document (upload.getFile). The
contractor reads the answer tests/data/telegram_errors.tsv promises — never the "our side"
catch-all — or nothing where the refusal needs no word (already so, a late button); a refused
download keeps nothing. A contractor who blocked the bot (USER_IS_BLOCKED) is the one refusal
the bot cannot tell: a publication under way completes and its result waits."""

from __future__ import annotations

import asyncio

import pytest

from smetabot import refusals
from smetabot.telegram.emulator import Emulator
from tests.helpers import SAMPLES, run, sandbox_app, say
from tests.refusal_sites import (
    CATCH_ALL,
    assert_answered,
    emulated,
    inject,
    over,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

pytestmark = pytest.mark.usefixtures("retries_at_once")
PDF = (SAMPLES / "smeta-remont-kvartiry.pdf").read_bytes()


def bot_messages(emu: Emulator, uid: int, after: int) -> list[dict]:
    return [m for m in emu.user_chat(uid, after) if m["from"] == "bot"]


async def contractor(app, title: str | None = "Квартира") -> int:
    emu = app.emulator
    uid = emu.create_user("Иван", language_code="ru")
    app.vault.save(uid, emu.session_string(uid))
    if title:
        await say(app, uid, "🆕 Новый канал")
        await say(app, uid, title)
        sent = await emu.user_send_text(uid, "Пропустить")
        await emu.wait_until(lambda: any((m["text"] or "").startswith("✅")
                                         for m in bot_messages(emu, uid, sent)), timeout=60)
    return uid


async def picker(app, uid: int) -> dict:
    """The contractor sends the sample PDF: the page picker, once it is ready."""
    emu = app.emulator
    sent = await emu.user_send_document(uid, "smeta.pdf", PDF, "application/pdf")
    await emu.wait_until(lambda: any("Какие страницы" in (m["text"] or "")
                                     for m in bot_messages(emu, uid, sent)), timeout=120)
    typed = await emu.user_send_text(uid, "1")
    return await emu.wait_until(lambda: next(
        (m for m in bot_messages(emu, uid, typed) if "Выбрано" in (m["text"] or "")
         and m["buttons"]), None), timeout=60)


async def refused_once(emu: Emulator, uid: int, act, method: str, row: dict) -> tuple[str, str]:
    """Inject ``row`` on ``method``, ``act()``, and read what the bot said after (once it
    has said something, or settled); the error's ID and the text."""
    before = max((m["id"] for m in emu.user_chat(uid)), default=0)
    ident = inject(emu, method, row)
    try:
        await act()
    except Exception as exc:  # noqa: BLE001  a button whose answer never came
        assert "BOT_RESPONSE_TIMEOUT" in str(exc), exc
    # the refused call is made (a press is answered before the bot edits its message)
    await emu.wait_until(lambda: not emu.injected.get(emulated(method)), timeout=30)
    kind = row["answer"]
    if not (refusals.is_harmless(kind) or kind == "specific:bot_blocked"):
        await emu.wait_until(lambda: bot_messages(emu, uid, before), timeout=30)
    await emu.settle()
    over(emu, method)
    return ident, "\n".join(m["text"] or "" for m in bot_messages(emu, uid, before))


def page_one(emu: Emulator, uid: int, message_id: int) -> str:
    """The picker's button of page 1 as it reads now (ticked or not)."""
    message = next(m for m in emu.user_chat(uid, message_id - 1) if m["id"] == message_id)
    return next(b["text"] for row in message["buttons"] for b in row
                if b["text"] in ("1", "✓1"))


def judge(row: dict, ident: str, text: str) -> None:
    where = (row["method"], row["error"], text)
    assert not any(phrase in text for phrase in CATCH_ALL), where
    if refusals.is_harmless(row["answer"]):  # nothing to say
        assert "❌" not in text, where
        return
    assert_answered(row, text, "ru", ident)


def test_every_refusal_of_the_bots_reply_edit_and_button_answer_is_answered(tmp_path):
    emu = Emulator(fake_clock=True, callback_timeout=2)
    emu.create_bot("smetabot", "SmetaBot")

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            uid = await contractor(app)

            rows = [r for r in reachable("messages.sendMessage")
                    if r["answer"] != "specific:bot_blocked"]
            assert len(rows) >= 15
            for row in rows:
                ident, text = await refused_once(
                    emu, uid, lambda: emu.user_send_text(uid, "📢 Мои каналы"),
                    "messages.sendMessage", row)
                judge(row, ident, text)

            shown = await picker(app, uid)
            for method in ("messages.editMessage", "messages.setBotCallbackAnswer"):
                rows = reachable(method)
                assert len(rows) >= 4
                for row in rows:
                    ident, text = await refused_once(
                        emu, uid, lambda: emu.user_press(uid, shown["id"], page_one(
                            emu, uid, shown["id"])), method, row)
                    judge(row, ident, text)

    run(scenario(), timeout=300)


def test_every_refusal_of_downloading_the_document_is_answered_and_keeps_nothing(tmp_path):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            uid = await contractor(app, title=None)
            rows = reachable("upload.getFile")
            assert len(rows) >= 8
            for row in rows:
                ident, text = await refused_once(
                    emu, uid,
                    lambda: emu.user_send_document(uid, "smeta.pdf", PDF, "application/pdf"),
                    "upload.getFile", row)
                judge(row, ident, text)
                kept = await app.db.fetchone("SELECT COUNT(*) AS n FROM core_uploads")
                assert kept["n"] == 0, row
                assert not any((app.publishing.uploads_dir).glob("*/*")), row

    run(scenario(), timeout=300)


def test_a_contractor_who_blocked_the_bot_does_not_stop_the_publication(tmp_path):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            uid = await contractor(app)
            shown = await picker(app, uid)
            await emu.user_press(uid, shown["id"], "Далее ➡️")
            question = await emu.wait_until(lambda: next(
                (m for m in bot_messages(emu, uid, shown["id"])
                 if "Водяной знак" in (m["text"] or "")), None), timeout=60)
            await emu.user_press(uid, question["id"], "✅ Оставить")
            choice = await emu.wait_until(lambda: next(
                (m for m in bot_messages(emu, uid, question["id"])
                 if "В какой канал" in (m["text"] or "")), None), timeout=60)
            await emu.user_press(uid, choice["id"], "📢 Квартира")
            for _ in range(500):  # the publication is under way
                if await app.db.fetchone("SELECT id FROM core_publications"):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the publication did not start")
            # from here on the bot may not write to them, nor edit what it wrote
            for row in reachable("messages.sendMessage"):
                if row["answer"] == "specific:bot_blocked":
                    inject(emu, "messages.sendMessage", row, times=100)
                    inject(emu, "messages.editMessage", row, times=100)
            told = len(bot_messages(emu, uid, 0))
            channel = next(c for c in emu.channels() if c["title"] == "Квартира")
            await emu.wait_until(lambda: any(p["media"] for p in emu.channel(
                channel["id"])["posts"]), timeout=120)
            for _ in range(500):
                published = await app.db.fetchone(
                    "SELECT status FROM core_publications ORDER BY id DESC LIMIT 1")
                if published["status"] == "published":
                    break
                await asyncio.sleep(0.01)
            assert published["status"] == "published"
            assert emu.injected["messages.EditMessage"] or emu.injected["messages.SendMessage"]
            assert len(emu.injected["messages.SendMessage"]) + len(
                emu.injected["messages.EditMessage"]) < 200  # the bot did try to tell them
            assert len(bot_messages(emu, uid, 0)) == told  # and nothing got through
            emu.injected.clear()

    run(scenario(), timeout=300)
