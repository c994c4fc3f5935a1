"""The Telegram emulator with real pyrogram clients: a bot chatting with sandbox users."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from pyrogram import Client, errors, filters, raw
from pyrogram.types import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    WebAppInfo,
)

from smetabot.telegram.emulator import Emulator, TelegramError
from tests.helpers import run

WEBAPP = "https://smeta.example/webapp/login"


pytestmark = pytest.mark.usefixtures("no_sockets")



async def start_bot(emu: Emulator, setup=None) -> Client:
    """A real pyrogram bot client on the emulator, with handlers added by ``setup``."""
    bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
    if setup:
        setup(bot)
    await bot.start()
    return bot


def menu_bot(bot: Client) -> None:
    @bot.on_message(filters.command("start") & filters.private)
    async def start(client, message):
        await message.reply(
            "Привет!",
            reply_markup=ReplyKeyboardMarkup(
                [[KeyboardButton("🔐 Подключить аккаунт", web_app=WebAppInfo(url=WEBAPP))],
                 [KeyboardButton("📢 Мои каналы")]],
                resize_keyboard=True,
            ),
        )
        await message.reply("Меню", reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton("Готово", callback_data="done"),
            InlineKeyboardButton("Сайт", url="https://smeta.example"),
        ], [InlineKeyboardButton("🔐 Войти", web_app=WebAppInfo(url=WEBAPP))]]))

    @bot.on_message(filters.text & filters.private & ~filters.command("start"))
    async def echo(client, message):
        await message.reply(f"echo: {message.text}")

    @bot.on_callback_query(filters.regex("^done$"))
    async def done(client, query):
        await query.answer("Сделано", show_alert=True)
        await query.message.edit_text("Меню (готово)")


def test_start_shows_reply_keyboard_with_web_app_button():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu, menu_bot)
        alice = emu.create_user("Alice", username="alice", language_code="ru")
        sent = await emu.user_send_text(alice, "/start")
        await emu.wait_until(lambda: len(emu.user_chat(alice, after=sent)) == 2)
        chat = emu.user_chat(alice)
        assert [(m["from"], m["text"]) for m in chat] == [
            ("user", "/start"), ("bot", "Привет!"), ("bot", "Меню")]
        assert chat[1]["buttons"] == [
            [{"text": "🔐 Подключить аккаунт", "kind": "web_app", "url": WEBAPP}],
            [{"text": "📢 Мои каналы", "kind": "reply"}],
        ]
        assert chat[2]["buttons"] == [[
            {"text": "Готово", "kind": "callback"},
            {"text": "Сайт", "kind": "url", "url": "https://smeta.example"},
        ], [{"text": "🔐 Войти", "kind": "web_app", "url": WEBAPP}]]
        # A reply button sends its text, as Telegram does.
        pressed = await emu.user_press(alice, chat[1]["id"], "📢 Мои каналы")
        reply = await emu.wait_for_bot_reply(alice, after=pressed["message_id"])
        assert reply[0]["text"] == "echo: 📢 Мои каналы"
        await bot.stop()

    run(main())


def test_callback_button_is_answered_and_message_edited():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu, menu_bot)
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "/start")
        menu = (await emu.wait_until(lambda: [m for m in emu.user_chat(alice)
                                              if m["text"] == "Меню"]))[0]
        assert (await emu.user_press(alice, menu["id"], "Сайт")) == {"url": "https://smeta.example"}
        answer = await emu.user_press(alice, menu["id"], "Готово")
        assert answer == {"text": "Сделано", "alert": True, "url": None}
        edited = await emu.wait_until(
            lambda: [m for m in emu.user_chat(alice) if m["id"] == menu["id"] and m["edited"]])
        assert edited[0]["text"] == "Меню (готово)"
        assert edited[0]["buttons"] == []  # editMessage without reply_markup drops it
        # Editing to the same content is refused as Telegram refuses it.
        bot_message_id = emu.bot.box.messages[max(emu.bot.box.messages)].id
        with pytest.raises(errors.MessageNotModified):
            await bot.edit_message_text(alice, bot_message_id, "Меню (готово)")
        await bot.stop()

    run(main())


def test_callback_without_answer_times_out():
    async def main():
        emu = Emulator(callback_timeout=0.2)
        bot = await start_bot(emu, menu_bot)
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "/start")
        await emu.wait_until(lambda: len(emu.user_chat(alice)) == 3)
        await bot.stop()  # nobody is there to answer
        with pytest.raises(TelegramError, match="BOT_RESPONSE_TIMEOUT"):
            await emu.user_press(alice, emu.user_chat(alice)[2]["id"], "Готово")

    run(main())


def _signed_init_data(web_app_url: str, token: str) -> dict[str, str]:
    """initData from a Mini App URL, its HMAC checked as Telegram's docs prescribe."""
    url = urlsplit(web_app_url)
    assert url._replace(fragment="").geturl() == WEBAPP
    fragment = dict(parse_qsl(url.fragment))
    init_data = dict(parse_qsl(fragment["tgWebAppData"]))
    received = init_data.pop("hash")
    check = "\n".join(f"{k}={v}" for k, v in sorted(init_data.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    assert hmac.new(secret, check.encode(), hashlib.sha256).hexdigest() == received
    return init_data


def test_inline_web_app_button_opens_url_with_signed_init_data():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu, menu_bot)
        alice = emu.create_user("Alice", username="alice", language_code="ru")
        await emu.user_send_text(alice, "/start")
        await emu.wait_until(lambda: len(emu.user_chat(alice)) == 3)
        inline = emu.user_chat(alice)[2]
        opened = await emu.user_press(alice, inline["id"], "🔐 Войти")
        init_data = _signed_init_data(opened["web_app_url"], bot.bot_token)
        user = json.loads(init_data["user"])
        assert (user["id"], user["username"], user["language_code"]) == (alice, "alice", "ru")
        assert abs(int(init_data["auth_date"]) - emu.now()) < 5
        assert init_data["query_id"]
        await bot.stop()

    run(main())


def test_reply_keyboard_web_app_button_gets_no_init_data():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu, menu_bot)
        alice = emu.create_user("Alice", username="alice", language_code="ru")
        await emu.user_send_text(alice, "/start")
        keyboard = (await emu.wait_for_bot_reply(alice))[0]
        assert keyboard["keyboard"] == "reply"
        opened = await emu.user_press(alice, keyboard["id"], "🔐 Подключить аккаунт",
                                      platform="android")
        url = urlsplit(opened["web_app_url"])
        assert url._replace(fragment="").geturl() == WEBAPP
        fragment = dict(parse_qsl(url.fragment, keep_blank_values=True))
        assert "tgWebAppData" not in fragment
        assert fragment["tgWebAppPlatform"] == "android"
        await bot.stop()

    run(main())


def test_menu_button_web_app_opens_with_signed_init_data():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        alice = emu.create_user("Alice", username="alice", language_code="en")
        bob = emu.create_user("Bob")
        with pytest.raises(TelegramError, match="BUTTON_NOT_FOUND"):
            await emu.user_open_menu(alice)
        await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(
            "Login", WebAppInfo(url=WEBAPP)))
        assert emu.menu_button(bob) == {"kind": "web_app", "text": "Login", "url": WEBAPP}
        got = await bot.get_chat_menu_button()
        assert isinstance(got, MenuButtonWebApp) and got.web_app.url == WEBAPP
        opened = await emu.user_open_menu(alice)
        user = json.loads(_signed_init_data(opened["web_app_url"], bot.bot_token)["user"])
        assert user["id"] == alice
        with pytest.raises(errors.ButtonUrlInvalid):
            await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(
                "Login", WebAppInfo(url="http://smeta.example/webapp")))
        await bot.set_chat_menu_button(menu_button=MenuButtonDefault())
        assert emu.menu_button(bob) is None
        await bot.stop()

    run(main())


def test_web_app_send_data_reaches_the_bot_as_service_message():
    async def main():
        emu = Emulator()
        received = []

        def setup(bot):
            menu_bot(bot)

            @bot.on_message(filters.create(lambda _, __, m: m.web_app_data is not None))
            async def data(client, message):
                received.append((message.from_user.id, message.web_app_data.data))
                await message.reply("✅ Аккаунт подключён")

        bot = await start_bot(emu, setup)
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "/start")
        await emu.wait_until(lambda: len(emu.user_chat(alice)) == 3)
        sent = await emu.user_web_app_send_data(alice, "🔐 Подключить аккаунт", '{"ok":true}')
        reply = await emu.wait_for_bot_reply(alice, after=sent)
        assert received == [(alice, '{"ok":true}')]
        assert reply[0]["text"] == "✅ Аккаунт подключён"
        assert emu.user_chat(alice, after=sent - 1)[0]["service"] == "MessageActionWebViewDataSent"
        with pytest.raises(TelegramError, match="BUTTON_NOT_FOUND"):
            await emu.user_web_app_send_data(alice, "no such button", "x")
        await bot.stop()

    run(main())


def test_limits_and_errors_are_telegrams():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        alice = emu.create_user("Alice")
        stranger = emu.create_user("Stranger")
        await emu.user_send_text(alice, "hi")
        await emu.settle()  # the bot has met alice (stored her access hash)
        await bot.send_message(alice, "x" * 4096)
        with pytest.raises(errors.MessageTooLong):
            await bot.send_message(alice, "x" * 4097)
        with pytest.raises(errors.ButtonDataInvalid):
            await bot.send_message(alice, "b", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="x" * 65)]]))
        with pytest.raises(errors.ButtonUrlInvalid):  # web apps need https
            await bot.send_message(alice, "b", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", web_app=WebAppInfo(url="http://smeta.example"))]]))
        with pytest.raises(errors.PeerIdInvalid):  # a bot cannot start a conversation
            await bot.send_message(stranger, "hello")
        # A reused random_id is a 500: kurigram retries it, then raises TimeoutError.
        dup = raw.functions.messages.SendMessage(peer=await bot.resolve_peer(alice),
                                                 message="dup", random_id=42)
        await bot.invoke(dup)
        before = len(emu.calls)
        with pytest.raises(TimeoutError):
            await bot.invoke(dup, retries=3, retry_delay=0)
        assert emu.calls[before:] == ["messages.SendMessage"] * 3
        assert [m["text"] for m in emu.user_chat(alice)].count("dup") == 1
        with pytest.raises(errors.BadRequest, match="METHOD_NOT_IMPLEMENTED_IN_EMULATOR"):
            await bot.invoke(raw.functions.messages.GetDialogFilters())
        assert emu.refused == ["messages.GetDialogFilters"]
        await bot.stop()

    run(main())


def test_random_id_duplicate_is_answered_as_a_500():
    from smetabot.telegram.emulator.rpc_messages import random_id_duplicate
    from smetabot.telegram.emulator.wire import raise_as_pyrogram

    with pytest.raises(errors.RandomIdDuplicate500) as caught:
        raise_as_pyrogram(random_id_duplicate(), raw.functions.messages.SendMessage)
    assert isinstance(caught.value, errors.InternalServerError)


def test_flood_wait_is_injectable():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "hi")
        await emu.settle()
        emu.inject_flood_wait("messages.SendMessage", 30)
        with pytest.raises(errors.FloodWait) as caught:
            await bot.send_message(alice, "one")
        assert caught.value.value == 30
        with pytest.raises(errors.FloodWait) as caught:  # still waiting
            await bot.send_message(alice, "one")
        assert 28 <= caught.value.value <= 30
        emu.advance_time(30)
        # Below the client's sleep_threshold pyrogram waits and retries by itself.
        bot.sleep_threshold = 5
        emu.inject_flood_wait("messages.SendMessage", 1)
        await bot.send_message(alice, "two")
        assert [m["text"] for m in emu.user_chat(alice)][-1] == "two"
        await bot.stop()

    run(main())


def test_bot_commands_are_set():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        await bot.set_bot_commands([BotCommand("start", "Главное меню"),
                                    BotCommand("help", "Помощь")])
        assert emu.bot_commands() == [{"command": "start", "description": "Главное меню"},
                                      {"command": "help", "description": "Помощь"}]
        with pytest.raises(errors.BotCommandInvalid):
            await bot.set_bot_commands([BotCommand("Bad Command", "x")])
        await bot.stop()

    run(main())


def test_missed_updates_come_back_through_get_difference():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        state = await bot.invoke(raw.functions.updates.GetState())
        await bot.stop()
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "while you were away")
        bot = emu.attach(Client("bot2", session_string=emu.session_string(emu.bot.id)))
        await bot.start()
        diff = await bot.invoke(raw.functions.updates.GetDifference(
            pts=state.pts, date=state.date, qts=0))
        assert [m.message for m in diff.new_messages] == ["while you were away"]
        assert diff.state.pts == state.pts + 1
        empty = await bot.invoke(raw.functions.updates.GetDifference(
            pts=diff.state.pts, date=diff.state.date, qts=0))
        assert isinstance(empty, raw.types.updates.DifferenceEmpty)
        await bot.stop()

    run(main())


def test_plain_pyrogram_would_use_the_network_but_the_emulated_one_does_not(no_sockets):
    async def main():
        plain = Client("plain", api_id=1, api_hash="x", in_memory=True)
        with pytest.raises((asyncio.TimeoutError, OSError)):
            await asyncio.wait_for(plain.connect(), 0.5)
        assert no_sockets, "the guard must see a real client's connection attempt"
        no_sockets.clear()
        emu = Emulator()
        bot = await start_bot(emu)
        alice = emu.create_user("Alice")
        user = emu.attach(Client("alice", session_string=emu.session_string(alice)))
        await user.start()
        await user.send_message("smetabot", "hello from a user client")
        assert emu.user_chat(alice)[-1]["text"] == "hello from a user client"
        await user.stop()
        await bot.stop()
        assert no_sockets == []

    run(main())


def test_bot_deletes_a_message_for_both_sides():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "hi")
        await emu.settle()
        preview = await bot.send_message(alice, "preview")
        assert emu.user_chat(alice)[-1]["text"] == "preview"
        assert await bot.delete_messages(alice, preview.id) == 1
        assert [m["text"] for m in emu.user_chat(alice)] == ["hi"]
        await bot.stop()

    run(main())
