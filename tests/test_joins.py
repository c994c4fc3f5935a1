"""Only the client reads: joins the contractor approves, single-use links, the join mode.

Everything goes through the emulator with real pyrogram clients: a stranger taps the channel's
link and Telegram answers INVITE_REQUEST_SENT; the bot hears the request
(updateBotChatInviteRequester) and asks the contractor, whose «✅ Пустить» approves it
(messages.hideChatJoinRequest).
"""

from __future__ import annotations

import asyncio

import pytest

from smetabot import config
from smetabot.telegram.emulator import Emulator, TelegramError
from tests.helpers import call, labels, press, run, sandbox_app
from tests.test_cards import open_card, publish, small_pdf
from tests.test_channels import bot_says, connected, create, last_id

APPROVE = {"channels_join": "approve"}


def message(app, uid: int, message_id: int) -> dict:
    """The message as the user sees it now (after edits)."""
    return next(m for m in app.emulator.user_chat(uid) if m["id"] == message_id)


def invite_of(app, title: str) -> dict:
    channel = next(c for c in app.emulator.channels() if c["title"] == title)
    return next(i for i in channel["invite_links"] if not i["revoked"])


def channel_of(app, title: str) -> dict:
    return next(c for c in app.emulator.channels() if c["title"] == title)


async def ask_to_join(app, user: int, link: str) -> None:
    """The user taps a request link: Telegram says the request is sent, nothing more."""
    with pytest.raises(TelegramError, match="INVITE_REQUEST_SENT"):
        await app.emulator.user_join(user, link)


def test_the_default_is_join_requests():
    assert config.load(None, env={})["channels.join"] == "approve"
    with pytest.raises(Exception, match="channels.join must be one of"):
        config.load(None, env={"SMETABOT_CHANNELS_JOIN": "anyone"})


def test_a_stranger_is_in_only_when_the_contractor_lets_them_in(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path, **APPROVE) as app:
            emu, ivan = app.emulator, connected(app)
            await create(app, ivan, "Квартира")
            await create(app, ivan, "Дача")
            invite = invite_of(app, "Квартира")
            assert invite["request_needed"] is True and invite["usage_limit"] is None
            flat = channel_of(app, "Квартира")["id"]
            await publish(app, ivan, small_pdf(tmp_path / "smeta.pdf", 1, "Смета"), "Квартира")

            # Пётр taps the link: asked, not in; the contractor gets one message about it.
            petr = emu.create_user("Пётр", username="petr", last_name="Сидоров")
            before = last_id(app, ivan)
            await ask_to_join(app, petr, invite["link"])
            asked = await bot_says(app, ivan, "просит доступ", after=before)
            assert asked["text"] == ("🚪 Пётр Сидоров (@petr) просит доступ к «Квартира».\n"
                                     f"Ссылка: {invite['link']}\n"
                                     "В других ваших каналах его нет.")
            assert labels(asked) == ["✅ Пустить", "❌ Отклонить"]
            assert petr not in channel_of(app, "Квартира")["members"]
            with pytest.raises(TelegramError, match="CHANNEL_PRIVATE"):
                await emu.user_view_channel(petr, flat)
            assert [r["user_id"] for r in channel_of(app, "Квартира")["join_requests"]] == [petr]
            # The card lists the waiting request.
            card = await open_card(app, ivan, "Квартира")
            assert "Вход: по одобрению" in card["text"]
            assert "⏳ Ждут одобрения (1):\n1. Пётр Сидоров (@petr)" in card["text"]
            assert "✅ 1. Пустить Пётр Сидоров" in labels(card)
            assert "🔗 Одноразовая ссылка" in labels(card)

            # «✅ Пустить»: the message says so, Пётр is in and reads the estimate.
            before = last_id(app, ivan)
            await emu.user_press(ivan, asked["id"], "✅ Пустить")
            done = message(app, ivan, asked["id"])
            assert done["text"] == "✅ Пётр Сидоров (@petr) допущен в «Квартира»."
            assert done["buttons"] == []
            await bot_says(app, ivan, "👤 Клиент Пётр Сидоров (@petr) присоединился к «Квартира»",
                           after=before)
            assert petr in channel_of(app, "Квартира")["members"]
            assert [p for p in await emu.user_view_channel(petr, flat) if p["media"]]
            # The card's button for the same request now acts no more.
            answer = await emu.user_press(ivan, card["id"], "✅ 1. Пустить Пётр Сидоров")
            assert answer["text"] == "Уже решено"

            # Пётр asks for «Дача» too: the message says he is a client of «Квартира».
            before = last_id(app, ivan)
            await ask_to_join(app, petr, invite_of(app, "Дача")["link"])
            asked = await bot_says(app, ivan, "просит доступ к «Дача»", after=before)
            assert "Уже клиент других ваших каналов: «Квартира»." in asked["text"]

            # Анна is declined: nobody but the contractor hears of it; she never sees a post.
            anna = emu.create_user("Анна", language_code="ru")
            before = last_id(app, ivan)
            await ask_to_join(app, anna, invite["link"])
            asked = await bot_says(app, ivan, "🚪 Анна просит доступ к «Квартира»", after=before)
            await emu.user_press(ivan, asked["id"], "❌ Отклонить")
            assert message(app, ivan, asked["id"])["text"].startswith(
                "❌ Запрос Анна в «Квартира» отклонён.")
            assert anna not in channel_of(app, "Квартира")["members"]
            assert anna not in [r["user_id"] for r in channel_of(app, "Квартира")["join_requests"]]
            with pytest.raises(TelegramError, match="CHANNEL_PRIVATE"):
                await emu.user_view_channel(anna, flat)
            assert [m for m in emu.user_chat(anna) if m["from"] == "bot"] == []
            assert not [m for m in emu.user_chat(ivan, before)
                        if "присоединился" in (m["text"] or "")]
            card = await open_card(app, ivan, "Квартира")
            assert "Ждут одобрения" not in card["text"]

    run(scenario())


def test_two_quick_taps_approve_once_and_the_card_answers_too(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path, **APPROVE) as app:
            emu, ivan = app.emulator, connected(app)
            await create(app, ivan, "Кухня")
            link = invite_of(app, "Кухня")["link"]
            petr = emu.create_user("Пётр", username="petr")
            before = last_id(app, ivan)
            await ask_to_join(app, petr, link)
            asked = await bot_says(app, ivan, "просит доступ", after=before)
            calls = []
            real = app.bot.approve_chat_join_request

            async def counted(*args, **kwargs):
                calls.append(args)
                return await real(*args, **kwargs)

            app.bot.approve_chat_join_request = counted
            answers = await asyncio.gather(emu.user_press(ivan, asked["id"], "✅ Пустить"),
                                           emu.user_press(ivan, asked["id"], "✅ Пустить"))
            assert sorted(a.get("text") or "" for a in answers) == ["", "Уже решено"]
            assert len(calls) == 1
            await bot_says(app, ivan, "присоединился", after=before)
            assert channel_of(app, "Кухня")["members"].count(petr) == 1
            assert message(app, ivan, asked["id"])["text"] == "✅ Пётр (@petr) допущен в «Кухня»."
            joined = [m for m in emu.user_chat(ivan, before) if "присоединился" in (m["text"] or "")]
            assert len(joined) == 1

            # Answered from the card: the request's message says so and its buttons go.
            anna = emu.create_user("Анна")
            before = last_id(app, ivan)
            await ask_to_join(app, anna, link)
            asked = await bot_says(app, ivan, "🚪 Анна", after=before)
            card = await open_card(app, ivan, "Кухня")
            answer = await emu.user_press(ivan, card["id"], "❌ 1. Отклонить")
            assert answer["text"].startswith("❌ Запрос Анна в «Кухня» отклонён")
            assert "Ждут одобрения" not in message(app, ivan, card["id"])["text"]
            edited = await emu.wait_until(lambda: [
                m for m in [message(app, ivan, asked["id"])] if m["edited"]], 10)
            assert edited[0]["text"].startswith("❌ Запрос Анна в «Кухня» отклонён")
            assert labels(edited[0]) == []
            assert anna not in channel_of(app, "Кухня")["members"]

    run(scenario())


def test_pending_requests_survive_a_restart(tmp_path):
    async def scenario():
        emulator = Emulator()
        emulator.create_bot("smetabot", "SmetaBot")
        async with sandbox_app(tmp_path, emulator, **APPROVE) as app:
            ivan = connected(app)
            await create(app, ivan, "Баня")
            petr = emulator.create_user("Пётр", username="petr")
            before = last_id(app, ivan)
            await ask_to_join(app, petr, invite_of(app, "Баня")["link"])
            asked = await bot_says(app, ivan, "просит доступ", after=before)
        async with sandbox_app(tmp_path, emulator, **APPROVE) as app:
            card = await open_card(app, ivan, "Баня")
            assert "⏳ Ждут одобрения (1):\n1. Пётр (@petr)" in card["text"]
            before = last_id(app, ivan)
            await emulator.user_press(ivan, asked["id"], "✅ Пустить")
            await bot_says(app, ivan, "Клиент Пётр (@petr) присоединился к «Баня»", after=before)
            assert petr in channel_of(app, "Баня")["members"]

    run(scenario())


def test_single_use_link_admits_one_and_the_mode_can_change(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:  # an open channel, as before join requests
            emu, ivan = app.emulator, connected(app)
            await create(app, ivan, "Офис")
            old = invite_of(app, "Офис")
            assert old["request_needed"] is False and old["usage_limit"] is None
            card = await open_card(app, ivan, "Офис")
            assert "Вход: открытая ссылка" in card["text"]
            [made] = await press(app, ivan, card["id"], "🔗 Одноразовая ссылка")
            assert made["text"].startswith("🔗 Одноразовая ссылка в «Офис»")
            single = made["text"].rsplit("\n", 1)[1]
            found = next(i for i in channel_of(app, "Офис")["invite_links"]
                         if i["link"] == single)
            assert found["usage_limit"] == 1
            petr = emu.create_user("Пётр", username="petr")
            before = last_id(app, ivan)
            await emu.user_join(petr, single)
            told = await bot_says(app, ivan, "по одноразовой ссылке", after=before)
            assert told["text"] == ("👤 Клиент Пётр (@petr) присоединился к «Офис» по одноразовой "
                                    "ссылке. Больше по ней никто не войдёт.")
            stranger = emu.create_user("Чужой")
            with pytest.raises(TelegramError, match="INVITE_HASH_EXPIRED"):
                await emu.user_join(stranger, single)
            assert stranger not in channel_of(app, "Офис")["members"]

            # The contractor switches the channel to approval: the open link stops working.
            card = await open_card(app, ivan, "Офис")
            [ask] = await press(app, ivan, card["id"], "🔐 Как входят клиенты")
            assert "Сейчас: открытая ссылка" in ask["text"]
            assert labels(ask) == ["✅ По одобрению", "🔗 Одноразовые ссылки",
                                   "🔓 Открытая ссылка"]
            await emu.user_press(ivan, ask["id"], "✅ По одобрению")
            switched = message(app, ivan, ask["id"])
            assert switched["text"].startswith("Готово: в «Офис» теперь вход: по одобрению.")
            with pytest.raises(TelegramError, match="INVITE_HASH_EXPIRED"):
                await emu.user_join(stranger, old["link"])
            [new] = [i for i in channel_of(app, "Офис")["invite_links"]
                     if not i["revoked"] and i["usage_limit"] is None]
            assert new["request_needed"] is True and new["link"] in switched["text"]
            before = last_id(app, ivan)
            await ask_to_join(app, stranger, new["link"])
            await bot_says(app, ivan, "🚪 Чужой просит доступ к «Офис»", after=before)
            card = await open_card(app, ivan, "Офис")
            assert "Вход: по одобрению" in card["text"]

    run(scenario())


def test_through_the_sandbox_api(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path, **APPROVE) as app:
            ivan = connected(app)
            await create(app, ivan, "Гараж")
            base, link = app.public_url + "/sandbox/api", invite_of(app, "Гараж")["link"]
            loop = asyncio.get_running_loop()

            def api(path, body=None):
                return loop.run_in_executor(None, call, base, path, body)

            status, person = await api("/users", {"first_name": "Ольга"})
            assert status == 201, person
            olga = person["user_id"]
            before = last_id(app, ivan)
            status, answer = await api(f"/users/{olga}/join", {"link": link})
            assert (status, answer) == (400, {"error": "INVITE_REQUEST_SENT", "code": 400})
            asked = await bot_says(app, ivan, "🚪 Ольга просит доступ к «Гараж»", after=before)
            channel_id = channel_of(app, "Гараж")["id"]
            status, seen = await api(f"/channels/{channel_id}")
            assert olga not in seen["members"]
            assert [r["user_id"] for r in seen["join_requests"]] == [olga]
            status, _ = await api(f"/users/{ivan}/press",
                                  {"message_id": asked["id"], "text": "✅ Пустить"})
            assert status == 200
            await bot_says(app, ivan, "Клиент Ольга присоединился к «Гараж»", after=before)
            status, seen = await api(f"/channels/{channel_id}")
            assert olga in seen["members"] and seen["join_requests"] == []

    run(scenario())



def test_a_request_answered_in_telegram_itself_is_no_longer_waiting(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path, **APPROVE) as app:
            emu, ivan = app.emulator, connected(app)
            await create(app, ivan, "Склад")
            petr = emu.create_user("Пётр")
            before = last_id(app, ivan)
            await ask_to_join(app, petr, invite_of(app, "Склад")["link"])
            asked = await bot_says(app, ivan, "просит доступ", after=before)
            # Approved outside the bot (an admin in the Telegram app does the same call).
            await app.bot.approve_chat_join_request(channel_of(app, "Склад")["id"], petr)
            await bot_says(app, ivan, "Клиент Пётр присоединился к «Склад»", after=before)
            card = await open_card(app, ivan, "Склад")
            assert "Ждут одобрения" not in card["text"]
            # Its message says so, with no buttons left to press.
            [edited] = await emu.wait_until(lambda: [
                m for m in [message(app, ivan, asked["id"])] if m["edited"]], 10)
            assert edited["text"] == "✅ Пётр допущен в «Склад»." and labels(edited) == []
            assert petr in channel_of(app, "Склад")["members"]

    run(scenario())
