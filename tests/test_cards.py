"""«📢 Мои каналы» as the place where the work is managed: a channel's card lists its
publications (replace with a new version, withdraw), its clients (remove one), and the archive
(restore a channel); a client of a channel who is no contractor gets a client's answer.

Everything goes through the emulator with real pyrogram clients, as a person would use the bot.
"""

from __future__ import annotations

from pathlib import Path

import pymupdf
from pyrogram.types import ChatPrivileges
from typer.testing import CliRunner

from smetabot.cli import app as cli_app
from smetabot.contractors import Contractors
from smetabot.db import Database
from smetabot.telegram.emulator import TelegramError
from tests.helpers import SAMPLES, labels, press, run, sandbox_app, say
from tests.test_channels import connected, create
from tests.test_publish import bot_messages, send_file, wait_text


def small_pdf(path: Path, pages: int, words: str) -> Path:
    """A PDF of ``pages`` pages, each saying ``words`` and its number."""
    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page()
        page.insert_text((72, 72), f"{words} {number}", fontsize=24)
    document.save(path)
    return path


async def channel_with_client(app, title="Квартира на Ленина"):
    """A contractor (Иван) with a channel made by the 🆕 wizard, and a client (Пётр) who
    joined it through the bot's invite link."""
    emu = app.emulator
    ivan = connected(app)
    await create(app, ivan, title)
    row = await app.db.fetchone("SELECT c.id, c.telegram_channel_id AS tg, i.link FROM "
                                "core_channels c JOIN core_invites i ON i.channel_id = c.id "
                                "WHERE c.title = ?", (title,))
    petr = emu.create_user("Пётр", username="petr", language_code="ru")
    await emu.user_join(petr, row["link"])
    await app.emulator.wait_until(lambda: [m for m in emu.user_chat(ivan)
                                           if "присоединился" in (m["text"] or "")], 10)
    return ivan, petr, row


async def publish(app, ivan: int, path: Path, channel_title: str) -> dict:
    """The whole 📄 wizard for a short document: every page, the name kept, this channel."""
    sent = await send_file(app, ivan, path)
    [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
    [question] = await press(app, ivan, picker["id"], "Далее ➡️")
    [choice] = await press(app, ivan, question["id"], "✅ Оставить")
    await press(app, ivan, choice["id"], f"📢 {channel_title}")
    [done] = await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
    return done


async def open_card(app, ivan: int, title: str) -> dict:
    [listing] = await say(app, ivan, "📢 Мои каналы")
    [card] = await press(app, ivan, listing["id"], f"📢 {title}")
    return card


def posts(app, channel_tg: int) -> list[dict]:
    return [p for p in app.emulator.channel(channel_tg)["posts"] if p["media"]]


def test_replace_with_a_new_version_then_withdraw(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row = await channel_with_client(app)
            await publish(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf", "Квартира на Ленина")
            assert len(posts(app, row["tg"])) == 3
            old = await app.db.fetchone("SELECT id, tracking_code FROM core_publications")

            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "Публикации (1):" in card["text"]
            assert "1. «smeta-remont-kvartiry» — " in card["text"]
            assert f"стр. 1–3, #{old['tracking_code']}" in card["text"]
            assert "🔁 1. Заменить новой версией" in labels(card)
            assert "🗑 1. Снять с публикации" in labels(card)
            assert "👥 Клиенты (1)" in labels(card)

            # 🔁: the bot asks for the file and says what will happen to the old version.
            [ask] = await press(app, ivan, card["id"], "🔁 1. Заменить новой версией")
            assert "Пришлите файлом новую версию «smeta-remont-kvartiry»" in ask["text"]
            assert f"#{old['tracking_code']}) будет удалена" in ask["text"]
            [again] = await say(app, ivan, "вот")
            assert "Пришлите новую версию" in again["text"]
            new_file = small_pdf(tmp_path / "smeta-v2.pdf", 2, "Версия 2")
            sent = await send_file(app, ivan, new_file)
            [told] = await wait_text(app, ivan, "🔁 «smeta-remont-kvartiry» заменена", after=sent)
            new = await app.db.fetchone(
                "SELECT id, tracking_code, status, title FROM core_publications WHERE id != ?",
                (old["id"],))
            assert f"новая версия (#{new['tracking_code']})" in told["text"]
            assert f"старые посты (#{old['tracking_code']}) удалены" in told["text"]
            await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
            # The client sees the new version only: two pages under the same title.
            now = posts(app, row["tg"])
            assert len(now) == 2
            assert now[0]["caption"].startswith("«smeta-remont-kvartiry», стр. 1–2")
            viewed = await emu.user_view_channel(petr, row["tg"])
            assert len([p for p in viewed if p["media"]]) == 2
            was = await app.db.fetchone("SELECT status, replaced_by, finished_at FROM "
                                        "core_publications WHERE id = ?", (old["id"],))
            assert (was["status"], was["replaced_by"]) == ("replaced", new["id"])
            assert was["finished_at"]
            assert (new["status"], new["title"]) == ("published", "smeta-remont-kvartiry")

            # The old card's buttons no longer act: a callback answer says so.
            answer = await emu.user_press(ivan, card["id"], "🔁 1. Заменить новой версией")
            assert answer["text"] == "Это уже неактуально"
            answer = await emu.user_press(ivan, card["id"], "🗑 1. Снять с публикации")
            assert answer["text"] == "Это уже неактуально"

            # The fresh card: the new version first, the old one marked as replaced.
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "Публикации (2):" in card["text"]
            assert "1. «smeta-remont-kvartiry» — " in card["text"]
            assert f"стр. 1–2, #{new['tracking_code']}" in card["text"]
            assert "заменена новой версией" in card["text"]
            assert "🔁 2. Заменить новой версией" not in labels(card)

            # 🗑 asks first; "Нет" keeps it; "Да, снять" deletes the posts and keeps the record.
            [confirm] = await press(app, ivan, card["id"], "🗑 1. Снять с публикации")
            assert "Снять «smeta-remont-kvartiry»" in confirm["text"]
            assert labels(confirm) == ["Да, снять", "Нет, оставить"]
            assert len(posts(app, row["tg"])) == 2
            await emu.user_press(ivan, confirm["id"], "Да, снять")
            [gone] = [m for m in emu.user_chat(ivan) if m["id"] == confirm["id"]]
            assert "снята с публикации: посты удалены" in gone["text"]
            assert gone["buttons"] == []
            assert posts(app, row["tg"]) == []
            status = await app.db.fetchone("SELECT status FROM core_publications WHERE id = ?",
                                           (new["id"],))
            assert status["status"] == "withdrawn"
            answer = await emu.user_press(ivan, card["id"], "🗑 1. Снять с публикации")
            assert answer["text"] == "Это уже неактуально"
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "🗑 снята с публикации" in card["text"]
            assert not [b for b in labels(card) if b.startswith(("🔁", "🗑"))]

    run(scenario())


def test_a_new_version_that_cannot_be_read_leaves_the_old_one(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, _, row = await channel_with_client(app)
            await publish(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf", "Квартира на Ленина")
            old = await app.db.fetchone("SELECT id, tracking_code FROM core_publications")
            card = await open_card(app, ivan, "Квартира на Ленина")
            await press(app, ivan, card["id"], "🔁 1. Заменить новой версией")
            sent = await send_file(app, ivan, SAMPLES / "zashchishchen-parolem.pdf")
            [told] = await wait_text(app, ivan, "остаётся в канале", after=sent)
            assert "❌" in told["text"] and f"(#{old['tracking_code']})" in told["text"]
            assert len(posts(app, row["tg"])) == 3
            was = await app.db.fetchone("SELECT status, replaced_by FROM core_publications "
                                        "WHERE id = ?", (old["id"],))
            assert (was["status"], was["replaced_by"]) == ("published", None)
            # The card still offers to replace it.
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "🔁 1. Заменить новой версией" in labels(card)

    run(scenario())


def test_withdraw_refused_by_telegram_is_said_and_changes_nothing(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, _, row = await channel_with_client(app)
            await publish(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf", "Квартира на Ленина")
            card = await open_card(app, ivan, "Квартира на Ленина")
            [confirm] = await press(app, ivan, card["id"], "🗑 1. Снять с публикации")
            # Meanwhile the contractor took the bot's admin rights away in Telegram.
            async with app.user_clients.use(ivan) as client:
                await client.promote_chat_member(row["tg"], emu.bot.username,
                                                 ChatPrivileges(can_manage_chat=False))
            await emu.user_press(ivan, confirm["id"], "Да, снять")
            [said] = [m for m in emu.user_chat(ivan) if m["id"] == confirm["id"]]
            assert "❌ Бот не смог удалить посты из «Квартира на Ленина»" in said["text"]
            assert "публикация осталась как была" in said["text"]
            assert len(posts(app, row["tg"])) == 3
            status = await app.db.fetchone("SELECT status FROM core_publications")
            assert status["status"] == "published"

    run(scenario())


def test_a_client_writing_in_english_gets_english(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, _, row = await channel_with_client(app)
            john = emu.create_user("John", language_code="en")
            await emu.user_join(john, row["link"])
            await emu.wait_until(lambda: [m for m in emu.user_chat(ivan)
                                          if "John" in (m["text"] or "")], 10)
            sent = await emu.user_send_text(john, "/start")
            answers = await emu.wait_until(
                lambda: len(bot_messages(app, john, sent)) >= 2 and bot_messages(app, john, sent))
            assert "You are a client" in answers[0]["text"]
            assert "📢 “Квартира на Ленина” — contractor Иван (@ivan)" in answers[0]["text"]
            assert labels(answers[1]) == ["📢 Квартира на Ленина", "✉️ Write to Иван"]

    run(scenario())


def test_card_pages_its_publications(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, _, row = await channel_with_client(app)
            # Seven earlier publications, as the publish wizard records them.
            for number in range(7):
                await app.db.execute(
                    "INSERT INTO core_publications (channel_id, contractor_id, file_name, "
                    "title, pages, tracking_code, message_ids, status) VALUES "
                    "(?, ?, 'f.pdf', ?, '[1, 2]', ?, '[]', 'published')",
                    (row["id"], ivan, f"Смета {number + 1}", f"CODE{number}"))
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "Публикации (7, стр. 1 из 2):" in card["text"]
            assert "1. «Смета 7»" in card["text"] and "«Смета 2»" not in card["text"]
            assert "Старее ➡️" in labels(card)
            await app.emulator.user_press(ivan, card["id"], "Старее ➡️")
            [paged] = [m for m in app.emulator.user_chat(ivan) if m["id"] == card["id"]]
            assert "Публикации (7, стр. 2 из 2):" in paged["text"]
            assert "6. «Смета 2»" in paged["text"] and "7. «Смета 1»" in paged["text"]
            assert "🗑 7. Снять с публикации" in labels(paged) and "⬅️ Новее" in labels(paged)
            assert len(paged["text"]) < 4096

    run(scenario())


def test_remove_a_client_and_invite_them_again(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row = await channel_with_client(app)
            card = await open_card(app, ivan, "Квартира на Ленина")
            [clients] = await press(app, ivan, card["id"], "👥 Клиенты (1)")
            assert "👥 Клиенты «Квартира на Ленина» (1):" in clients["text"]
            assert "1. Пётр (@petr)" in clients["text"]
            [confirm] = await press(app, ivan, clients["id"], "❌ 1. Пётр (@petr)")
            assert "Удалить Пётр (@petr) из «Квартира на Ленина»?" in confirm["text"]
            await emu.user_press(ivan, confirm["id"], "Да, удалить")
            [done] = [m for m in emu.user_chat(ivan) if m["id"] == confirm["id"]]
            assert "удалён из «Квартира на Ленина»" in done["text"]
            assert "Ссылка, по которой он пришёл, отозвана" in done["text"]
            channel = emu.channel(row["tg"])
            assert petr not in channel["members"]
            assert [i["revoked"] for i in channel["invite_links"] if i["link"] == row["link"]] \
                == [True]
            member = await app.db.fetchone("SELECT left_at FROM core_channel_members WHERE "
                                           "telegram_user_id = ?", (petr,))
            assert member["left_at"]
            # Pressing the old button again: nothing to do.
            answer = await emu.user_press(ivan, clients["id"], "❌ 1. Пётр (@petr)")
            assert answer["text"] == "Это уже неактуально"
            # The old link no longer lets anyone in; a new one lets Пётр back.
            try:
                await emu.user_join(petr, row["link"])
                raise AssertionError("the revoked link still works")
            except TelegramError as exc:
                assert "INVITE_HASH_EXPIRED" in str(exc)
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "👥 Клиенты (0)" in labels(card)
            [fresh] = await press(app, ivan, card["id"], "🔗 Новая ссылка")
            link = fresh["text"].split("\n")[-1]
            await emu.user_join(petr, link)
            assert petr in emu.channel(row["tg"])["members"]

    run(scenario())


def test_archived_channels_are_listed_and_restored_within_the_plan(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan = connected(app)
            for title in ("Дом 1", "Дом 2", "Дом 3"):
                await create(app, ivan, title)
            card = await open_card(app, ivan, "Дом 1")
            [confirm] = await press(app, ivan, card["id"], "🗄 В архив")
            await emu.user_press(ivan, confirm["id"], "Да, в архив")
            [listing] = await say(app, ivan, "📢 Мои каналы")
            assert "🗄 Архив (1)" in labels(listing) and "📢 Дом 1" not in labels(listing)
            [archive] = await press(app, ivan, listing["id"], "🗄 Архив (1)")
            assert "🗄 Архив (1)" in archive["text"] and labels(archive) == ["♻️ Дом 1"]
            # The plan (free: 3 channels) is full again once a fourth is made: refused in words.
            await create(app, ivan, "Дом 4")
            [refused] = await press(app, ivan, archive["id"], "♻️ Дом 1")
            assert "⛔" in refused["text"] and "3 из 3" in refused["text"]
            row = await app.db.fetchone("SELECT status FROM core_channels WHERE title = 'Дом 1'")
            assert row["status"] == "archived"
            # Archive another: now Дом 1 comes back, with a fresh link that works.
            card = await open_card(app, ivan, "Дом 4")
            [confirm] = await press(app, ivan, card["id"], "🗄 В архив")
            await emu.user_press(ivan, confirm["id"], "Да, в архив")
            [back] = await press(app, ivan, archive["id"], "♻️ Дом 1")
            assert "♻️ Канал «Дом 1» восстановлен из архива" in back["text"]
            link = back["text"].split("\n")[-1]
            assert link.startswith("https://t.me/+")
            assert "📤 Поделиться ссылкой" in labels(back)
            row = await app.db.fetchone("SELECT status, telegram_channel_id AS tg FROM "
                                        "core_channels WHERE title = 'Дом 1'")
            assert row["status"] == "ready"
            assert (await app.billing.usage(ivan)).channels == 3
            client = emu.create_user("Анна", language_code="ru")
            await emu.user_join(client, link)
            assert client in emu.channel(row["tg"])["members"]
            await emu.wait_until(lambda: [m for m in emu.user_chat(ivan)
                                          if "Анна присоединился к «Дом 1»" in (m["text"] or "")])
            [listing] = await say(app, ivan, "📢 Мои каналы")
            assert "📢 Дом 1" in labels(listing)
            # The restore button is now a button of something done.
            answer = await emu.user_press(ivan, archive["id"], "♻️ Дом 1")
            assert answer["text"] == "Это уже неактуально"

    run(scenario())


def test_a_client_is_not_a_contractor(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row = await channel_with_client(app)
            sent = await emu.user_send_text(petr, "/start")
            answers = await emu.wait_until(
                lambda: len(bot_messages(app, petr, sent)) >= 2 and bot_messages(app, petr, sent))
            text = answers[0]["text"]
            assert "Вы клиент" in text and "Подключить" not in text
            assert "📢 «Квартира на Ленина» — подрядчик Иван (@ivan)" in text
            assert answers[0]["keyboard"] != "reply" or not labels(answers[0])
            assert answers[-1]["text"] == "Открыть канал или написать подрядчику:"
            assert labels(answers[-1]) == ["📢 Квартира на Ленина", "✉️ Написать: Иван"]
            opened = await emu.user_press(petr, answers[-1]["id"], "✉️ Написать: Иван")
            assert opened == {"url": "https://t.me/ivan"}
            opened = await emu.user_press(petr, answers[-1]["id"], "📢 Квартира на Ленина")
            assert opened["url"].startswith("https://t.me/c/")
            # Any other message, or a menu button typed by hand, gets the same answer.
            sent = await emu.user_send_text(petr, "📢 Мои каналы")
            answers = await emu.wait_until(
                lambda: len(bot_messages(app, petr, sent)) >= 2 and bot_messages(app, petr, sent))
            assert "Вы клиент" in answers[0]["text"]
            # Not a contractor anywhere: not in `smetabot contractors list` (contractors.all).
            listed = [c.id for c in await app.contractors.all()]
            assert ivan in listed and petr not in listed
            # /connect still lets a client become a contractor.
            [connect] = await say(app, petr, "/connect")
            assert "🔐 Подключить аккаунт" in labels(connect)

    run(scenario())


def test_a_contractor_who_is_also_a_client_gets_the_menu(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, _, row = await channel_with_client(app)
            olga = connected(app, "Ольга", "olga")
            await emu.user_join(olga, row["link"])
            await app.emulator.wait_until(lambda: [m for m in emu.user_chat(ivan)
                                                   if "Ольга" in (m["text"] or "")], 10)
            [answer] = await say(app, olga, "/start")
            assert "Главное меню" in answer["text"] and "📢 Мои каналы" in labels(answer)
            await app.contractors.set_session_state(olga, "connected")  # as her login did
            assert olga in [c.id for c in await app.contractors.all()]
            assert not [m for m in bot_messages(app, olga) if "Вы клиент" in (m["text"] or "")]

    run(scenario())


def test_contractors_list_leaves_out_clients(tmp_path):
    root = tmp_path / "data"
    root.mkdir()

    async def fill() -> None:
        db = Database(root / "smetabot.db")
        await db.open()
        contractors = Contractors(db)
        await contractors.touch(700000002, "Иван", "ivan", "ru")
        await contractors.set_session_state(700000002, "connected")
        await contractors.touch(700000005, "Пётр", "petr", "ru")  # opened the bot: a client
        channel = await db.execute("INSERT INTO core_channels (contractor_id, title, status) "
                                   "VALUES (700000002, 'Квартира', 'ready')")
        await db.execute("INSERT INTO core_channel_members (channel_id, telegram_user_id, name) "
                         "VALUES (?, 700000005, 'Пётр')", (channel,))
        await db.close()

    run(fill())
    result = CliRunner().invoke(cli_app, ["contractors", "list", "--data-dir", str(root)])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split()[:4] == ["700000002", "Иван", "@ivan", "connected"]
    assert "700000005" not in result.stdout
    assert "1 contractor(s)" in result.stdout
    assert "1 client(s) of channels, who never connected an account, are not contractors" \
        in result.stdout
