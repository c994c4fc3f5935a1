"""Client channels end to end: a sandbox contractor creates channels, a sandbox client joins.

Everything goes through the emulator with real pyrogram clients: the contractor's user client
creates the channel, the bot client makes the invite link and hears the client join.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from smetabot.telegram.emulator import Emulator, TelegramError
from tests.helpers import SAMPLES, labels, press, run, sandbox_app, say
from tests.test_publish import up_to_the_channel_choice, wait_text

PRO = '{"pro": {"title": "Pro", "channels": 30, "publications": 500}}'
BOT_RIGHTS = ["delete_messages", "edit_messages", "invite_users", "post_messages"]



def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 400), "orange").save(out, "JPEG")
    return out.getvalue()


def new_emulator() -> Emulator:
    emulator = Emulator()
    emulator.create_bot("smetabot", "SmetaBot")
    return emulator


def connected(app, name="Иван", username="ivan", lang="ru") -> int:
    """A contractor whose account is connected (a session in the vault)."""
    uid = app.emulator.create_user(name, username=username, language_code=lang)
    app.vault.save(uid, app.emulator.session_string(uid))
    return uid


async def bot_says(app, uid: int, words: str, after: int = 0) -> dict:
    """Wait for the bot's message to ``uid`` (after message ``after``) containing ``words``."""
    def found():
        return next((m for m in app.emulator.user_chat(uid, after) if m["from"] == "bot"
                     and words in (m["text"] or "")), None)
    return await app.emulator.wait_until(found, 10)


def last_id(app, uid: int) -> int:
    return max((m["id"] for m in app.emulator.user_chat(uid)), default=0)


async def create(app, uid: int, title: str, photo: bytes | None = None,
                 expect: str = "✅") -> dict:
    """The whole 🆕 wizard; returns the bot's message containing ``expect``."""
    [ask] = await say(app, uid, "🆕 Новый канал")
    assert "Как назвать канал?" in ask["text"] and labels(ask) == ["✖️ Отмена"]
    [ask] = await say(app, uid, title)
    assert f"аватарки канала «{title}»" in ask["text"]
    assert labels(ask) == ["Пропустить", "✖️ Отмена"]
    if photo is None:
        sent = await app.emulator.user_send_text(uid, "Пропустить")
    else:
        sent = await app.emulator.user_send_photo(uid, photo)
    return await bot_says(app, uid, expect, after=sent)


async def row(app, title: str):
    return await app.db.fetchone("SELECT * FROM core_channels WHERE title = ?", (title,))


async def channels_created(app, uid: int) -> int:
    return (await app.billing.usage(uid)).channels_created


def test_new_channel_is_protected_the_bot_is_admin_and_the_client_joins(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu, ivan = app.emulator, connected(app)
            ready = await create(app, ivan, "Ремонт на Ленина, 5")
            assert "✅ Канал «Ремонт на Ленина, 5» готов" in ready["text"]
            assert labels(ready) == ["📤 Поделиться ссылкой", "📋 Скопировать ссылку"]
            assert ready["buttons"][0][0]["url"].startswith("https://t.me/share/url?url=")
            [channel] = emu.channels()
            assert channel["title"] == "Ремонт на Ленина, 5" and channel["noforwards"] is True
            assert channel["owner_id"] == ivan and channel["photo"] is None
            assert channel["admins"] == [{"user_id": emu.bot.id, "is_bot": True,
                                          "rights": BOT_RIGHTS}]
            [invite] = channel["invite_links"]
            assert invite["title"] == "Ремонт на Ленина, 5" and invite["admin_id"] == emu.bot.id
            assert invite["link"] in ready["text"]
            record = await row(app, "Ремонт на Ленина, 5")
            assert (record["status"], record["protected"], record["bot_is_admin"]) == (
                "ready", 1, 1)
            assert await channels_created(app, ivan) == 1
            # The client taps the link; the contractor hears of it and sees them on the card.
            petr = emu.create_user("Пётр", username="petr", last_name="Сидоров")
            before = last_id(app, ivan)
            await emu.user_join(petr, invite["link"])
            joined = await bot_says(app, ivan, "присоединился", after=before)
            assert joined["text"] == ("👤 Клиент Пётр Сидоров (@petr) присоединился к "
                                      "«Ремонт на Ленина, 5».")
            [listing] = await say(app, ivan, "📢 Мои каналы")
            [card] = await press(app, ivan, listing["id"], "📢 Ремонт на Ленина, 5")
            assert "Клиенты: 1 — Пётр Сидоров (@petr)" in card["text"]
            assert "Состояние: готов" in card["text"] and "Публикаций: 0" in card["text"]
            assert invite["link"] in card["text"]

    run(scenario())


def test_new_channel_with_an_avatar(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = connected(app)
            title = "🏡 Дача *Петровых* <b> в Подмосковье, второй этаж"
            await create(app, ivan, title, photo=jpeg())
            [channel] = app.emulator.channels()
            assert channel["photo"] is not None and channel["noforwards"] is True
            assert channel["title"] == title  # no markup eaten anywhere
            # The link is named after the project, within Telegram's 32 characters.
            assert channel["invite_links"][0]["title"] == "🏡 Дача *Петровых* <b> в Подмоск"
            assert not list((tmp_path / "avatars").glob("*"))  # the avatar file is gone

    run(scenario())


def test_title_and_avatar_are_checked_and_the_wizard_can_be_cancelled(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = connected(app)
            await say(app, ivan, "🆕 Новый канал")
            [reply] = await say(app, ivan, "Я" * 129)
            assert "Слишком длинное название: 129 символов, можно до 128" in reply["text"]
            sent = await app.emulator.user_send_photo(ivan, jpeg())
            await bot_says(app, ivan, "Пришлите название канала текстом", after=sent)
            [reply] = await say(app, ivan, "Кухня")
            assert "аватарки" in reply["text"]
            [reply] = await say(app, ivan, "вот фото")
            assert "Это не фото" in reply["text"]
            [reply] = await say(app, ivan, "✖️ Отмена")
            assert reply["text"] == "Действие отменено."
            assert app.emulator.channels() == []
            [reply] = await say(app, ivan, "Пропустить")  # the wizard is over
            assert "Не понимаю" in reply["text"]

    run(scenario())


def test_free_plan_stops_the_fourth_channel_and_a_plan_change_lets_it_through(tmp_path):
    async def scenario():
        emulator = new_emulator()
        boss = emulator.create_user("Оператор", username="boss", language_code="ru")
        async with sandbox_app(tmp_path, emulator, admins_telegram_ids=str(boss),
                               billing_contact="@smeta_support", billing_plans=PRO) as app:
            ivan = connected(app)
            for n in range(1, 4):
                await create(app, ivan, f"Объект {n}")
            [refusal] = await say(app, ivan, "🆕 Новый канал")
            assert "лимит тарифа «Бесплатный»: каналов 3 из 3" in refusal["text"]
            assert "напишите: @smeta_support" in refusal["text"]
            assert len(app.emulator.channels()) == 3
            [card] = await say(app, ivan, "👤 Личный кабинет")
            assert "Тариф: Бесплатный, бессрочно" in card["text"]
            assert "Каналы: 3 из 3" in card["text"]
            assert "Публикации в этом месяце: 0 из 20" in card["text"]
            # Not an admin: the command does not exist for him.
            [reply] = await say(app, ivan, "/plan ivan pro")
            assert "Не понимаю" in reply["text"]
            # The operator moves him to Pro from the bot; he is told.
            before = last_id(app, ivan)
            [done] = await say(app, boss, "/plan @ivan pro 2099-12-31")
            assert done["text"] == "✅ Иван: тариф Pro до 31.12.2099."
            told = await bot_says(app, ivan, "Ваш тариф изменён", after=before)
            assert "Pro до 31.12.2099" in told["text"]
            await create(app, ivan, "Объект 4")
            async with app.db.transaction() as tx:  # what publishing a document counts
                await app.billing.count_publication(tx, ivan)
            [card] = await say(app, ivan, "👤 Личный кабинет")
            assert "Тариф: Pro до 31.12.2099" in card["text"]
            assert "Каналы: 4 из 30" in card["text"]
            assert "Публикации в этом месяце: 1 из 500" in card["text"]
            assert await channels_created(app, ivan) == 4
            # The operator's overview.
            [plans] = await say(app, boss, "/admin")
            assert "• pro — «Pro»: каналов 30, публикаций в месяц 500" in plans["text"]
            [listing] = await say(app, boss, "/contractors")
            assert (f"• {ivan} Иван @ivan: Pro до 31.12.2099; каналов 4, публикаций в этом "
                    "месяце 1") in listing["text"]
            [reply] = await say(app, boss, "/plan @nobody pro")
            assert reply["text"] == "Подрядчик «@nobody» не найден. Список: /contractors"
            [reply] = await say(app, boss, "/plan @ivan gold")
            assert reply["text"] == "Не получилось: тарифа «gold» нет; тарифы: free, pro"

    run(scenario())


@pytest.mark.parametrize("code,error,words", [
    (420, "FLOOD_WAIT_3900", "Telegram просит подождать 1 час 5 минут, прежде чем повторить"),
    (400, "CHANNELS_TOO_MUCH", "состоит в слишком многих каналах"),
    (403, "USER_RESTRICTED", "Telegram ограничил ваш аккаунт"),
    (400, "CHAT_TITLE_EMPTY", "Telegram не принял название канала"),
])
def test_telegram_refusals_are_told_in_words_and_leave_nothing(tmp_path, code, error, words):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = connected(app)
            app.emulator.inject_error("channels.CreateChannel", code, error)
            refusal = await create(app, ivan, "Баня", expect="❌")
            assert words in refusal["text"] and "Traceback" not in refusal["text"]
            assert app.emulator.channels() == []
            assert await row(app, "Баня") is None
            assert await channels_created(app, ivan) == 0
            if code == 420:  # the wait is Telegram's: asking again meanwhile is refused again
                again = await create(app, ivan, "Баня", expect="❌")
                assert "прежде чем повторить" in again["text"]
                assert app.emulator.channels() == []
                return
            await create(app, ivan, "Баня")  # Telegram says yes the next time
            assert len(app.emulator.channels()) == 1

    run(scenario())


def test_a_revoked_session_is_explained_and_asks_to_connect_again(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = connected(app)
            app.emulator.user_terminate_sessions(ivan)  # Settings → Devices → Terminate
            reply = await create(app, ivan, "Гараж", expect="Telegram завершил сеанс")
            assert labels(reply) == ["🔐 Подключить аккаунт"]
            assert not app.vault.exists(ivan) and app.emulator.channels() == []
            assert (await app.contractors.get(ivan)).session_state == "revoked"
            assert await row(app, "Гараж") is None

    run(scenario())


def test_fresh_session_waits_for_admin_rights_and_retries_on_schedule(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path, channels_admin_retry_seconds="0.2") as app:
            emu, ivan = app.emulator, connected(app)
            emu.inject_error("channels.EditAdmin", 400, "FRESH_CHANGE_ADMINS_FORBIDDEN", times=2)
            waiting = await create(app, ivan, "Офис", expect="пока не разрешает")
            assert "Канал «Офис» создан и защищён от пересылки" in waiting["text"]
            [channel] = emu.channels()
            assert channel["noforwards"] and channel["admins"] == []
            # the link is the contractor's own account's meanwhile
            assert [i["admin_id"] for i in channel["invite_links"]] == [ivan]
            assert (await row(app, "Офис"))["status"] == "waiting_admin"
            assert await channels_created(app, ivan) == 1  # the channel exists: it counts
            ready = await bot_says(app, ivan, "✅ Бот стал администратором канала «Офис»",
                                   after=waiting["id"])
            assert labels(ready)[0] == "📤 Поделиться ссылкой"
            assert emu.channel(channel["id"])["admins"][0]["rights"] == BOT_RIGHTS
            assert emu.calls.count("channels.EditAdmin") == 3
            assert (await row(app, "Офис"))["status"] == "ready"
            assert await channels_created(app, ivan) == 1  # counted once

    run(scenario())


def test_fresh_session_retry_survives_a_restart(tmp_path):
    async def scenario():
        emulator = new_emulator()
        async with sandbox_app(tmp_path, emulator) as app:  # retries an hour apart
            ivan = connected(app)
            emulator.inject_error("channels.EditAdmin", 400, "FRESH_CHANGE_ADMINS_FORBIDDEN")
            waiting = await create(app, ivan, "Склад", expect="пока не разрешает")
            assert "каждые 1 ч" in waiting["text"]
            assert (await row(app, "Склад"))["next_retry_at"] is not None
        async with sandbox_app(tmp_path, emulator) as app:
            await bot_says(app, ivan, "✅ Бот стал администратором канала «Склад»",
                           after=waiting["id"])
            [channel] = emulator.channels()
            assert channel["admins"][0]["user_id"] == emulator.bot.id
            record = await row(app, "Склад")
            assert record["status"] == "ready" and record["next_retry_at"] is None
            assert await channels_created(app, ivan) == 1

    run(scenario())


def test_a_setup_cut_short_is_finished_after_a_restart(tmp_path):
    async def scenario():
        emulator = new_emulator()
        async with sandbox_app(tmp_path, emulator) as app:
            ivan = connected(app)
            emulator.inject_flood_wait("messages.ToggleNoForwards", 3900)
            cut = await create(app, ivan, "Магазин", photo=jpeg(), expect="прервать")
            assert "Подождите 1 час 5 минут — бот продолжит сам" in cut["text"]
            assert "Я закончу её сам" in cut["text"]
            [channel] = emulator.channels()
            assert channel["noforwards"] is False
            assert (await row(app, "Магазин"))["status"] == "creating"
            [listing] = await say(app, ivan, "📢 Мои каналы")  # it is listed meanwhile
            assert labels(listing) == ["📢 Магазин"]
        emulator.fake_clock = True
        emulator.advance_time(3900)  # Telegram's wait is over by the time serve is back
        async with sandbox_app(tmp_path, emulator) as app:
            await bot_says(app, ivan, "✅ Канал «Магазин» готов", after=cut["id"])
            channel = emulator.channel(channel["id"])
            assert channel["noforwards"] and channel["photo"] and channel["admins"]
            assert await channels_created(app, ivan) == 1

    run(scenario())


def test_a_crash_before_telegram_answered_is_reported_on_restart(tmp_path):
    async def scenario():
        emulator = new_emulator()
        async with sandbox_app(tmp_path, emulator) as app:
            ivan = connected(app)
            await say(app, ivan, "/start")
            # What a crash (kill -9) during channels.CreateChannel leaves: a row, no id yet.
            await app.db.execute("INSERT INTO core_channels (contractor_id, title) "
                                 "VALUES (?, 'Прерванный')", (ivan,))
        before = last_id(app, ivan)
        async with sandbox_app(tmp_path, emulator) as app:
            told = await bot_says(app, ivan, "прервалось", after=before)
            assert "Если в вашем Telegram появился канал «Прерванный», удалите его" in \
                told["text"]
            assert (await row(app, "Прерванный"))["status"] == "failed"
            assert (await app.billing.usage(ivan)).channels == 0  # it takes no place

    run(scenario())


def test_an_english_contractor_gets_english(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            john = connected(app, "John", "john", lang="en")
            [ask] = await say(app, john, "🆕 New channel")
            assert "What shall the channel be called?" in ask["text"]
            await say(app, john, "Kitchen")
            sent = await app.emulator.user_send_text(john, "Skip")
            ready = await bot_says(app, john, "✅ The channel “Kitchen” is ready", after=sent)
            assert labels(ready) == ["📤 Share the link", "📋 Copy the link"]
            [card] = await say(app, john, "👤 My account")
            assert "Plan: Free, no end date" in card["text"] and "Channels: 1 of 3" in \
                card["text"]

    run(scenario())


async def edited(app, uid: int, message_id: int, words: str) -> dict:
    """Wait until the bot's message ``message_id`` reads ``words``."""
    def found():
        return next((m for m in app.emulator.user_chat(uid) if m["id"] == message_id
                     and words in (m["text"] or "")), None)
    return await app.emulator.wait_until(found, 10)


def test_my_channels_are_listed_newest_first_page_by_page(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path, billing_plans='{"free": {"channels": 10}}') as app:
            emu, ivan = app.emulator, connected(app)
            [empty] = await say(app, ivan, "📢 Мои каналы")
            assert "У вас пока нет каналов" in empty["text"]
            for n in range(1, 8):
                await app.channels.create(ivan, f"Объект {n}")
            [listing] = await say(app, ivan, "📢 Мои каналы")
            assert "Ваши каналы: 7 (страница 1 из 2)" in listing["text"]
            assert labels(listing) == [f"📢 Объект {n}" for n in (7, 6, 5, 4, 3)] + [
                "Вперёд ▶️"]
            await emu.user_press(ivan, listing["id"], "Вперёд ▶️")
            page = await edited(app, ivan, listing["id"], "страница 2 из 2")
            assert labels(page) == ["📢 Объект 2", "📢 Объект 1", "◀️ Назад"]
            await emu.user_press(ivan, listing["id"], "◀️ Назад")
            page = await edited(app, ivan, listing["id"], "страница 1 из 2")
            assert labels(page)[0] == "📢 Объект 7"

    run(scenario())


def test_card_makes_and_revokes_links_and_archives_the_channel(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu, ivan = app.emulator, connected(app)
            await create(app, ivan, "Квартира")
            [listing] = await say(app, ivan, "📢 Мои каналы")
            [card] = await press(app, ivan, listing["id"], "📢 Квартира")
            assert labels(card) == ["📤 Поделиться ссылкой", "📋 Скопировать ссылку",
                                    "👥 Клиенты (0)", "🔗 Новая ссылка", "🚫 Отозвать ссылку",
                                    "🔗 Одноразовая ссылка", "🔐 Как входят клиенты",
                                    "🗄 В архив", "⬅️ К списку"]
            assert "Публикаций пока нет." in card["text"]
            [fresh] = await press(app, ivan, card["id"], "🔗 Новая ссылка")
            assert fresh["text"].startswith("🔗 Новая ссылка-приглашение в «Квартира»:")
            [channel] = emu.channels()
            first, second = (i["link"] for i in channel["invite_links"])
            assert second in fresh["text"] and labels(fresh)[0] == "📤 Поделиться ссылкой"
            # Two links: the bot asks which one to revoke.
            [which] = await press(app, ivan, card["id"], "🚫 Отозвать ссылку")
            assert first in which["text"] and second in which["text"]
            before = last_id(app, ivan)
            answer = await emu.user_press(ivan, which["id"], f"🚫 1. …{first[-12:]}")
            assert answer["text"] == "Ссылка отозвана."
            card = await bot_says(app, ivan, "📢 Квартира", after=before)
            assert second in card["text"] and first not in card["text"]
            with pytest.raises(TelegramError, match="INVITE_HASH_EXPIRED"):
                await emu.user_join(emu.create_user("Чужой"), first)
            await emu.user_join(emu.create_user("Анна"), second)
            await bot_says(app, ivan, "Клиент Анна присоединился к «Квартира»")
            # Archive: asked first, then the links stop working and the place is freed.
            [confirm] = await press(app, ivan, card["id"], "🗄 В архив")
            assert "Перенести «Квартира» в архив?" in confirm["text"]
            await emu.user_press(ivan, confirm["id"], "Да, в архив")
            await edited(app, ivan, confirm["id"], "🗄 Канал «Квартира» перенесён в архив.")
            assert all(i["revoked"] for i in emu.channels()[0]["invite_links"])
            assert (await app.billing.usage(ivan)).channels == 0
            [empty] = await say(app, ivan, "📢 Мои каналы")
            assert "Действующих каналов нет, в архиве: 1" in empty["text"]
            assert "пока нет каналов" not in empty["text"]
            answer = await emu.user_press(ivan, card["id"], "🔗 Новая ссылка")
            assert answer == {"text": "Этого канала больше нет в списке.", "alert": True,
                              "url": None}

    run(scenario())


def test_a_fresh_session_publishes_from_the_contractors_account_until_the_bot_is_admin(
        tmp_path):
    async def publish(app, uid):
        sent, choice = await up_to_the_channel_choice(app, uid,
                                                      SAMPLES / "smeta-remont-kvartiry.pdf")
        await press(app, uid, choice["id"], "📢 Офис")
        return (await wait_text(app, uid, "✅ Документ опубликован", after=sent))[0]

    async def scenario():
        async with sandbox_app(tmp_path, channels_admin_retry_seconds="0.3",
                               channels_join="approve") as app:
            emu, ivan = app.emulator, connected(app)
            # Telegram keeps refusing a fresh session the right to appoint admins
            emu.inject_error("channels.EditAdmin", 406, "FRESH_CHANGE_ADMINS_FORBIDDEN",
                             times=10_000)
            waiting = await create(app, ivan, "Офис", expect="пока не разрешает")
            [channel] = emu.channels()
            [invite] = channel["invite_links"]  # made by the contractor's own account
            assert invite["request_needed"] and invite["link"] in waiting["text"]
            assert "публикуются от вашего аккаунта" in waiting["text"]
            assert "одобряйте их в Telegram" in waiting["text"]
            assert labels(waiting)[0] == "📤 Поделиться ссылкой"
            assert channel["admins"] == []

            done = await publish(app, ivan)
            assert "3 стр." in done["text"]
            posts = [p for p in emu.channel(channel["id"])["posts"] if p["media"]]
            assert len(posts) == 3 and all(p["protected"] for p in posts)
            assert (await row(app, "Офис"))["status"] == "waiting_admin"

            emu.injected.pop("channels.EditAdmin")  # a day on: Telegram allows it
            promoted = await bot_says(app, ivan, "Бот стал администратором канала «Офис»",
                                      after=done["id"])
            assert invite["link"] in promoted["text"]
            assert emu.channel(channel["id"])["admins"][0]["user_id"] == emu.bot.id
            assert (await row(app, "Офис"))["status"] == "ready"
            await publish(app, ivan)  # now by the bot, with the client's buttons under it
            posts = emu.channel(channel["id"])["posts"]
            assert len([p for p in posts if p["media"]]) == 6
            assert [p for p in posts if not p["media"] and "✅ Согласовать" in labels(p)]
            assert await channels_created(app, ivan) == 1

    run(scenario())
