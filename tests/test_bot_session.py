"""The bot keeps its session sealed in the data dir: a restart neither logs it in again nor
forgets the channels it posts in (access hashes belong to the account that received them)."""

from __future__ import annotations

from smetabot.telegram.emulator import Emulator
from tests.helpers import SAMPLES, run, sandbox_app, say


def test_after_a_restart_the_bot_still_publishes_to_an_earlier_channel(tmp_path):
    emulator = Emulator()
    emulator.create_bot("smetabot", "SmetaBot")

    async def scenario():
        async with sandbox_app(tmp_path, emulator) as app:
            ivan = emulator.create_user("Иван", language_code="ru")
            app.vault.save(ivan, emulator.session_string(ivan))
            await say(app, ivan, "🆕 Новый канал")
            await say(app, ivan, "Квартира")
            sent = await emulator.user_send_text(ivan, "Пропустить")
            await emulator.wait_until(lambda: any(
                "✅" in (m["text"] or "") for m in emulator.user_chat(ivan, sent)))
            session = await app.bot.export_session_string()
            sealed = app.vault.bot_path.read_bytes()
            assert session.encode() not in sealed and b"access_hash" not in sealed
        # A new process: a new client object, its session and peers from the vault.
        async with sandbox_app(tmp_path, emulator) as app:
            assert await app.bot.export_session_string() == session  # not logged in again
            [channel] = emulator.channels()
            sent = await emulator.user_send_document(
                ivan, "smeta.pdf", (SAMPLES / "smeta-remont-kvartiry.pdf").read_bytes(),
                "application/pdf")
            picker = await emulator.wait_until(lambda: next(
                (m for m in emulator.user_chat(ivan, sent) if "Какие страницы" in
                 (m["text"] or "")), None), timeout=60)
            await emulator.user_press(ivan, picker["id"], "Далее ➡️")
            question = await emulator.wait_until(lambda: next(
                (m for m in emulator.user_chat(ivan, picker["id"])
                 if "Водяной знак" in (m["text"] or "")), None))
            await emulator.user_press(ivan, question["id"], "✅ Оставить")
            choice = await emulator.wait_until(lambda: next(
                (m for m in emulator.user_chat(ivan, question["id"])
                 if "В какой канал" in (m["text"] or "")), None))
            await emulator.user_press(ivan, choice["id"], "📢 Квартира")
            await emulator.wait_until(lambda: any(
                "✅ Документ опубликован" in (m["text"] or "")
                for m in emulator.user_chat(ivan, choice["id"])), timeout=60)
            posts = [p for p in emulator.channel(channel["id"])["posts"] if p["media"]]
            assert len(posts) == 3 and all(p["media"].get("thumb") for p in posts)

    run(scenario())


def test_a_message_sent_while_the_bot_was_stopped_is_answered_after_it_starts(tmp_path):
    emulator = Emulator()
    emulator.create_bot("smetabot", "SmetaBot")

    async def scenario():
        async with sandbox_app(tmp_path, emulator) as app:
            anna = emulator.create_user("Анна", language_code="ru")
            await say(app, anna, "/start")
        # serve is down: Telegram keeps what Anna sends meanwhile.
        sent = await emulator.user_send_text(anna, "/help")
        async with sandbox_app(tmp_path, emulator):
            answer = await emulator.wait_until(lambda: [
                m for m in emulator.user_chat(anna, sent) if m["from"] == "bot"], timeout=30)
            assert len(answer) == 1 and "/menu" in answer[0]["text"]  # /help, answered once

    run(scenario())


def test_what_happened_while_the_bots_connection_was_down_is_handled_once_it_is_back(
        tmp_path):
    from tests.test_publish import contractor_with_channel

    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emulator = app.emulator
            ivan, channel_id, _ = await contractor_with_channel(app)
            link = emulator.channel(channel_id)["invite_links"][0]["link"]
            anna = emulator.create_user("Анна", language_code="ru")
            await say(app, anna, "/start")
            emulator.disconnect(app.bot)  # the server's network drops; serve keeps running
            sent = await emulator.user_send_text(anna, "/help")
            petr = emulator.create_user("Пётр", language_code="ru")
            await emulator.user_join(petr, link)
            await emulator.settle()
            assert not [m for m in emulator.user_chat(anna, sent) if m["from"] == "bot"]
            emulator.reconnect(app.bot)
            answer = await emulator.wait_until(lambda: [
                m for m in emulator.user_chat(anna, sent) if m["from"] == "bot"], timeout=30)
            assert len(answer) == 1 and "/menu" in answer[0]["text"]  # /help, answered once
            await emulator.wait_until(lambda: [
                m for m in emulator.user_chat(ivan) if "Пётр" in (m["text"] or "")
                and "присоединился" in (m["text"] or "")], timeout=30)

    run(scenario())
