"""Publishing a document to a client channel, end to end through the emulator."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from PIL import Image
from pyrogram.types import ChatPrivileges

from tests.helpers import SAMPLES, labels, press, run, sandbox_app, say

BOT_RIGHTS = ChatPrivileges(can_post_messages=True, can_edit_messages=True,
                            can_delete_messages=True, can_invite_users=True)



async def contractor_with_channel(app, title="Квартира на Ленина"):
    """A connected contractor, a ready channel of theirs, and a client who joined it."""
    emu = app.emulator
    ivan = emu.create_user("Иван", username="ivan_remont", language_code="ru")
    app.vault.save(ivan, emu.session_string(ivan))
    await say(app, ivan, "/start")
    async with app.user_clients.use(ivan) as client:
        chat = await client.create_channel(title)
        await client.set_chat_protected_content(chat.id, True)
        await client.promote_chat_member(chat.id, emu.bot.username, BOT_RIGHTS)
        link = (await client.create_chat_invite_link(chat.id)).invite_link
    await app.db.execute(
        "INSERT INTO core_channels (contractor_id, telegram_channel_id, title, protected, "
        "bot_is_admin, status) VALUES (?, ?, ?, 1, 1, 'ready')", (ivan, chat.id, title))
    client_user = emu.create_user("Пётр", language_code="ru")
    await emu.user_join(client_user, link)
    await emu.wait_until(lambda: [m for m in emu.user_chat(ivan)  # the join notice is in
                                  if "присоединился" in (m["text"] or "")], 10)
    return ivan, chat.id, client_user


async def send_file(app, user_id, path: Path):
    return await app.emulator.user_send_document(user_id, path.name, path.read_bytes(),
                                                 "application/octet-stream")


async def wait_text(app, user_id, words, after=0, timeout=60):
    """Wait for a bot message (new or edited) containing ``words``."""
    def look():
        return [m for m in app.emulator.user_chat(user_id, after)
                if m["from"] == "bot" and words in (m["text"] or "")]
    try:
        return await app.emulator.wait_until(look, timeout)
    except TimeoutError:
        seen = [(m["id"], m["from"], m["text"] or m["caption"])
                for m in app.emulator.user_chat(user_id, after)]
        raise AssertionError(f"no bot message with {words!r}; the chat after {after}: "
                             f"{seen}") from None


def bot_messages(app, user_id, after=0):
    return [m for m in app.emulator.user_chat(user_id, after) if m["from"] == "bot"]


def test_pdf_published_as_watermarked_protected_pages(tmp_path, corpus):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, client_user = await contractor_with_channel(app)
            sent = await send_file(app, ivan, corpus /
                                   "estimates_ru/treasury_223fz_formats_v16.2.pdf")
            [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
            # 90 pages come as five contact sheets (photos), not 90 thumbnails: each says
            # which pages it holds, and has their numbers as buttons, four across.
            sheets = [m for m in bot_messages(app, ivan, sent) if m["media"]]
            assert [m["caption"] for m in sheets] == [
                f"🗂 «treasury_223fz_formats_v16.2.pdf»: стр. {first}–{last} из 90. "
                "Нажмите номер — покажу страницу крупнее."
                for first, last in ((1, 20), (21, 40), (41, 60), (61, 80), (81, 90))]
            assert {m["media"]["kind"] for m in sheets} == {"photo"}
            assert sheets[0]["buttons"][0] == [{"text": str(n), "kind": "callback"}
                                               for n in (1, 2, 3, 4)]
            assert labels(sheets[0]) == [str(n) for n in range(1, 21)]
            assert labels(sheets[4]) == [str(n) for n in range(81, 91)]
            assert all(m["id"] < picker["id"] for m in sheets)  # all there before the picker
            # 90 pages: nothing is chosen for the contractor, and the picker shows 20 at a
            # time, four across as the sheets; every screen of it is a button.
            assert "Выбрано: ничего — 0 из 90" in picker["text"]
            assert labels(picker)[:3] == ["1", "2", "3"] and "21" not in labels(picker)
            assert picker["buttons"][0] == [{"text": str(n), "kind": "callback"}
                                            for n in (1, 2, 3, 4)]
            assert [[b["text"] for b in row] for row in picker["buttons"][5:7]] == [
                ["· 1–20", "21–40", "41–60"], ["61–80", "81–90"]]
            # "Далее" with nothing chosen says so; then pick by toggles: 2 and 3.
            await app.emulator.user_press(ivan, picker["id"], "2")
            # the next button exists once the bot has edited the keyboard
            await app.emulator.wait_until(lambda: "✓2" in labels(
                next(m for m in app.emulator.user_chat(ivan) if m["id"] == picker["id"])))
            await app.emulator.user_press(ivan, picker["id"], "3")
            await app.emulator.wait_until(lambda: "✓3" in labels(
                next(m for m in app.emulator.user_chat(ivan) if m["id"] == picker["id"])))
            [edited] = [m for m in app.emulator.user_chat(ivan) if m["id"] == picker["id"]]
            assert edited["edited"] and "Выбрано: 2–3 — 2 из 90" in edited["text"]
            assert labels(edited)[:3] == ["1", "✓2", "✓3"]
            [question] = await press(app, ivan, picker["id"], "Далее ➡️")
            assert "Водяной знак" in question["text"] and "«Иван»" in question["text"]
            assert "Название для клиента: «treasury 223fz formats v16.2»" in question["text"]
            # The picker's buttons are gone once it is answered: an old one cannot act.
            [answered] = [m for m in app.emulator.user_chat(ivan) if m["id"] == picker["id"]]
            assert answered["buttons"] == []
            [ask] = await press(app, ivan, question["id"], "📝 Другое название")
            assert "Как назвать документ для клиента" in ask["text"]
            [choice] = await say(app, ivan, "Смета на ремонт кухни")
            assert labels(choice)[0] == "📢 Квартира на Ленина"
            await press(app, ivan, choice["id"], "📢 Квартира на Ленина")
            [done] = await wait_text(app, ivan, "✅ Документ опубликован")
            assert "2 стр." in done["text"] and "https://t.me/c/" in done["text"]
            # What the client sees: two protected PNG documents with the watermark, at the DPI
            # the page's smallest text (its 10-pt header) needs: 28 px per em.
            channel = app.emulator.channel(channel_id)
            posts = [p for p in channel["posts"] if p["media"]]
            assert len(posts) == 2 and all(p["protected"] for p in posts)
            assert channel["noforwards"] is True
            assert posts[0]["caption"] == "«Смета на ремонт кухни», стр. 2–3 (часть 1 из 1)"
            assert posts[1]["media"]["file_name"] == "Смета на ремонт кухни — стр. 3.png"
            assert posts[0]["grouped_id"] and posts[0]["grouped_id"] == posts[1]["grouped_id"]
            page = Image.open(io.BytesIO(app.emulator.file_bytes(posts[1]["media"]["file_id"])))
            assert page.format == "PNG" and round(page.info["dpi"][0]) == 202
            assert page.size == (1671, 2363)
            row = await app.db.fetchone(
                "SELECT pages, watermark, tracking_code, status, message_ids FROM "
                "core_publications")
            assert (row["pages"], row["watermark"], row["status"]) == ("[2, 3]", "Иван",
                                                                       "published")
            assert f"#{row['tracking_code']}" in done["text"]
            viewed = await app.emulator.user_view_channel(client_user, channel_id)
            assert len([p for p in viewed if p["media"]]) == 2

    run(scenario())


def test_xlsx_with_typed_range_and_custom_watermark(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            sent = await send_file(app, ivan, SAMPLES / "smeta-remont-kvartiry.xlsx")
            [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
            # The picker says which pages belong to which sheet.
            assert re.search(r"Смета: 1(–\d+)? · Акт: \d+", picker["text"]), picker["text"]
            [again] = await say(app, ivan, "1")
            assert "Выбрано: 1 — 1 из" in again["text"]
            [question] = await press(app, ivan, again["id"], "Далее ➡️")
            [ask] = await press(app, ivan, question["id"], "✏️ Другой текст")
            [choice] = await say(app, ivan, "ООО «Ремонт» для Петрова")
            await press(app, ivan, choice["id"], "📢 Квартира на Ленина")
            await wait_text(app, ivan, "✅ Документ опубликован")
            row = await app.db.fetchone("SELECT watermark FROM core_publications")
            assert row["watermark"] == "ООО «Ремонт» для Петрова"
            posts = [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            assert len(posts) == 1 and posts[0]["protected"]

    run(scenario())


def test_bad_files_get_one_clear_message(tmp_path, corpus):
    async def scenario():
        async with sandbox_app(tmp_path, render_max_file_mb="1") as app:
            ivan, _, _ = await contractor_with_channel(app)
            sent = await send_file(app, ivan, corpus / "pdf_tricky/qpdf_enc-AES256-R6_userpw-view.pdf")
            [reply] = await wait_text(app, ivan, "защищён паролем", after=sent)
            assert reply["text"].startswith("❌")
            sent = await send_file(app, ivan, corpus / "pdf_tricky/pdfjs_freeculture_352pages.pdf")
            [reply] = await wait_text(app, ivan, "слишком большой", after=sent)
            assert "3 МБ, можно не больше 1 МБ" in reply["text"]
            assert not any(app.paths.uploads.iterdir())

    run(scenario())


def test_crashes_at_random_points_publish_everything_exactly_once(tmp_path, corpus):
    """The appliance is stopped abruptly at random moments of several publications (its jobs
    cancelled wherever they are, as a kill would leave them) and started again on the same data
    dir and the same Telegram; every publication ends published exactly once."""

    from smetabot.telegram.emulator import Emulator

    async def scenario():
        emulator = Emulator()
        emulator.create_bot("smetabot", "SmetaBot")
        src = corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf"
        async with sandbox_app(tmp_path, emulator) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            for number in range(3):
                sent = await send_file(app, ivan, src)
                [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
                [again] = await say(app, ivan, f"{number + 1}-{number + 12}")
                [question] = await press(app, ivan, again["id"], "Далее ➡️")
                [choice] = await press(app, ivan, question["id"], "✅ Оставить")
                await press(app, ivan, choice["id"], "📢 Квартира на Ленина")
        # The first stop above came right after the last publication was queued; now stop
        # again each time the restarted app has made progress (another page rendered or
        # posted), while work remains.
        def progress() -> int:
            rendered = len(list(tmp_path.glob("uploads/*/publication-*/*.png")))
            return rendered + len([p for p in emulator.channel(channel_id)["posts"]
                                   if p["media"]])

        stops = 0
        for _ in range(4):
            async with sandbox_app(tmp_path, emulator) as app:
                before = progress()
                while True:
                    rows = await app.db.fetchall("SELECT status FROM core_publications")
                    if all(r["status"] == "published" for r in rows) or progress() > before:
                        break
                    await asyncio.sleep(0.01)
                stops += any(r["status"] != "published" for r in rows)
        assert stops >= 1
        async with sandbox_app(tmp_path, emulator) as app:
            async def all_done():
                rows = await app.db.fetchall("SELECT status FROM core_publications")
                return len(rows) == 3 and all(r["status"] == "published" for r in rows)
            while not await all_done():
                await asyncio.sleep(0.1)
            posts = [p for p in emulator.channel(channel_id)["posts"] if p["media"]]
            assert len(posts) == 36  # 3 publications × 12 pages, none twice
            captions = [p["caption"] for p in posts if p["caption"]]
            # one caption per album, saying which pages of the publication it holds
            assert len(captions) == len(set(captions)) == 6
            assert "«treasury 223fz formats v16.2», стр. 1–10 из 12" in captions
            told = [m for m in emulator.user_chat(ivan)
                    if m["from"] == "bot" and "✅ Документ опубликован" in (m["text"] or "")]
            assert len(told) == 3
            interrupted = [m for m in emulator.user_chat(ivan)
                           if "Прервано перезапуском" in (m["text"] or "")]
            assert interrupted  # the stops did land in the middle of the work
            # No progress message is left frozen: each says how its work ended.
            frozen = [m["text"] for m in emulator.user_chat(ivan)
                      if m["from"] == "bot" and (m["text"] or "").startswith(("⏳ Готовлю", "⏳ Публикую", "⏳ Открываю", "📤"))]
            assert frozen == []

    run(scenario(), timeout=120)


def test_publishing_into_a_channel_made_mid_flow(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan = emu.create_user("Иван", language_code="ru")
            app.vault.save(ivan, emu.session_string(ivan))
            await say(app, ivan, "/start")
            sent = await send_file(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
            [question] = await press(app, ivan, picker["id"], "Далее ➡️")
            [choice] = await press(app, ivan, question["id"], "✅ Оставить")
            assert "ещё нет каналов" in choice["text"]
            [ask_title] = await press(app, ivan, choice["id"], "🆕 Новый канал")
            assert "Название" in ask_title["text"] or "назв" in ask_title["text"].lower()
            await say(app, ivan, "Дача в Светлом")
            last = max(m["id"] for m in emu.user_chat(ivan))
            await emu.user_send_text(ivan, "Пропустить")
            [done] = await wait_text(app, ivan, "✅ Документ опубликован", after=last)
            assert "«Дача в Светлом»: 3 стр." in done["text"]
            [channel] = emu.channels()
            assert channel["title"] == "Дача в Светлом" and channel["noforwards"]
            assert len([p for p in channel["posts"] if p["media"]]) == 3

    run(scenario())


def test_plan_limit_is_told_before_any_work_and_checked_again_at_the_end(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            month = __import__("datetime").datetime.utcnow().strftime("%Y-%m")

            async def used(count: int) -> None:
                await app.db.execute(
                    "INSERT INTO billing_usage_counters (contractor_id, month, publications) "
                    "VALUES (?, ?, ?) ON CONFLICT (contractor_id, month) DO UPDATE SET "
                    "publications = excluded.publications", (ivan, month, count))

            # At the limit: the document is refused as it arrives, nothing is prepared.
            await used(20)
            sent = await send_file(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            refusal = await wait_text(app, ivan, "Достигнут лимит", after=sent)
            assert refusal[0]["text"].startswith("❌") and "20 из 20" in refusal[0]["text"]
            assert await app.db.fetchone("SELECT id FROM core_uploads") is None
            [answer] = await say(app, ivan, "📄 Рендер файлов")
            assert "Достигнут лимит" in answer["text"]
            # One left: said before any work starts.
            await used(19)
            sent = await send_file(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            [received] = await wait_text(app, ivan, "Получил", after=sent)
            assert "Осталось 1 из 20 публикаций в этом месяце" in received["text"]
            [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
            # The limit is reached meanwhile (another publication): the last click says so.
            await used(20)
            [question] = await press(app, ivan, picker["id"], "Далее ➡️")
            [choice] = await press(app, ivan, question["id"], "✅ Оставить")
            [refusal] = await press(app, ivan, choice["id"], "📢 Квартира на Ленина")
            assert refusal["text"].startswith("❌") and "20" in refusal["text"]
            assert not [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            assert await app.db.fetchone("SELECT id FROM core_publications") is None

    run(scenario())


async def up_to_the_channel_choice(app, user_id, path):
    """Send ``path``, keep its pages and the watermark: (the sent message's id, the channel
    choice)."""
    sent = await send_file(app, user_id, path)
    [picker] = await wait_text(app, user_id, "Какие страницы", after=sent)
    [question] = await press(app, user_id, picker["id"], "Далее ➡️")
    [choice] = await press(app, user_id, question["id"], "✅ Оставить")
    return sent, choice


async def choose_all_and_publish(app, user_id, path):
    sent, choice = await up_to_the_channel_choice(app, user_id, path)
    await press(app, user_id, choice["id"], "📢 Квартира на Ленина")
    return sent


def test_flood_wait_while_publishing_waits_and_continues(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            app.emulator.inject_flood_wait("messages.SendMultiMedia", 2)
            sent = await choose_all_and_publish(
                app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
            posts = [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            assert len(posts) == 3

    run(scenario())


def test_a_stop_between_the_last_album_and_the_notice_tells_it_at_the_next_start(
        tmp_path, monkeypatch):
    from smetabot.bot.publish import PublishingNotices
    from smetabot.telegram.emulator import Emulator
    told = PublishingNotices.publication_done

    async def stopped_first(*_args):  # the app stops while it would tell
        await asyncio.Event().wait()

    async def scenario():
        emulator = Emulator()
        emulator.create_bot("smetabot", "SmetaBot")
        monkeypatch.setattr(PublishingNotices, "publication_done", stopped_first)
        async with sandbox_app(tmp_path, emulator) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            sent = await choose_all_and_publish(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")

            async def published():
                rows = await app.db.fetchall("SELECT status FROM core_publications")
                return [r["status"] for r in rows] == ["published"]
            while not await published():
                await asyncio.sleep(0.05)
        assert not [m for m in bot_messages(app, ivan, sent)
                    if "✅ Документ опубликован" in (m["text"] or "")]
        monkeypatch.setattr(PublishingNotices, "publication_done", told)
        async with sandbox_app(tmp_path, emulator) as app:
            [done] = await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
            assert "3 стр." in done["text"]
            buttons = [p for p in emulator.channel(channel_id)["posts"]
                       if not p["media"] and "✅ Согласовать" in labels(p)]
            assert len(buttons) == 1
        async with sandbox_app(tmp_path, emulator) as app:  # told once, not at every start
            await asyncio.sleep(0.5)
            assert len([m for m in bot_messages(app, ivan, sent)
                        if "✅ Документ опубликован" in (m["text"] or "")]) == 1

    run(scenario())


def test_lost_admin_rights_get_a_clear_message_and_a_retry(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            async with app.user_clients.use(ivan) as client:
                await client.promote_chat_member(channel_id, app.emulator.bot.username,
                                                 ChatPrivileges(can_post_messages=False,
                                                                can_invite_users=False,
                                                                can_manage_chat=False))
            sent = await choose_all_and_publish(
                app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            [blocked] = await wait_text(app, ivan, "нет прав администратора", after=sent)
            assert labels(blocked) == ["🔁 Повторить"]
            row = await app.db.fetchone("SELECT status FROM core_publications")
            assert row["status"] == "blocked"
            async with app.user_clients.use(ivan) as client:
                await client.promote_chat_member(channel_id, app.emulator.bot.username,
                                                 BOT_RIGHTS)
            await app.emulator.user_press(ivan, blocked["id"], "🔁 Повторить")
            await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
            posts = [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            assert len(posts) == 3

    run(scenario())


def test_a_refused_album_is_told_in_words_and_retry_completes_it_once(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            sent, choice = await up_to_the_channel_choice(
                app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            app.emulator.inject_error("messages.SendMultiMedia", 400, "MEDIA_EMPTY")
            await app.emulator.user_press(ivan, choice["id"], "📢 Квартира на Ленина")
            [failed] = await wait_text(app, ivan, "❌", after=sent)
            assert "на нашей стороне" not in failed["text"]
            assert "Traceback" not in failed["text"] and "MEDIA_EMPTY" not in failed["text"]
            assert labels(failed) == ["🔁 Повторить"]
            await app.emulator.user_press(ivan, failed["id"], "🔁 Повторить")
            await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
            posts = [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            assert len(posts) == 3
            row = await app.db.fetchone("SELECT status FROM core_publications")
            assert row["status"] == "published"

    run(scenario())


def test_a_contractor_who_blocked_the_bot_still_gets_the_publication_done(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            _, choice = await up_to_the_channel_choice(
                app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            await app.emulator.user_press(ivan, choice["id"], "📢 Квартира на Ленина")
            # The contractor blocks the bot as soon as the publication is under way: from
            # then on every message to them fails.
            while await app.db.fetchone("SELECT id FROM core_publications") is None:
                await asyncio.sleep(0.01)
            for method in ("messages.SendMessage", "messages.EditMessage"):
                app.emulator.inject_error(method, 403, "USER_IS_BLOCKED", times=50)

            async def published():
                row = await app.db.fetchone("SELECT status FROM core_publications")
                return row is not None and row["status"] == "published"

            for _ in range(600):
                if await published():
                    break
                await asyncio.sleep(0.05)
            assert await published()
            posts = [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            assert len(posts) == 3

    run(scenario())


def test_a_deleted_progress_message_is_replaced_and_work_goes_on(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            app.emulator.inject_error("messages.EditMessage", 400, "MESSAGE_ID_INVALID",
                                      times=3)
            sent = await choose_all_and_publish(app, ivan,
                                                SAMPLES / "smeta-remont-kvartiry.pdf")
            await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
            assert len([p for p in app.emulator.channel(channel_id)["posts"]
                        if p["media"]]) == 3

    run(scenario())
