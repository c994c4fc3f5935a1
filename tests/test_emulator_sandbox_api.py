"""The sandbox's HTTP API over the emulator (on a local port: no network beyond 127.0.0.1)."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pyrogram import Client, errors

from smetabot.telegram.emulator import Emulator
from smetabot.web import APP_KEY, sandbox
from tests.helpers import run


async def bot_and_user(emu: Emulator) -> tuple[Client, int]:
    bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
    await bot.start()
    alice = emu.create_user("Alice")
    await emu.user_send_text(alice, "hi")
    await emu.settle()
    return bot, alice


def sandbox_client(emu: Emulator) -> TestClient:
    app = web.Application()
    app[APP_KEY] = type("SandboxApp", (), {"emulator": emu})()
    sandbox.add_routes(app)
    return TestClient(TestServer(app))


def test_sandbox_inject_makes_the_next_calls_fail():
    async def main():
        emu = Emulator()
        bot, alice = await bot_and_user(emu)
        async with sandbox_client(emu) as http:
            answer = await http.post("/sandbox/api/inject", json={
                "method": "messages.SendMessage", "error": "CHAT_WRITE_FORBIDDEN",
                "code": 403, "times": 1})
            assert answer.status == 200
            for bad in ({"method": "messages.NoSuchThing", "error": "X"},
                        {"method": "messages.SendMessage", "error": "lower case"}):
                refused = await http.post("/sandbox/api/inject", json=bad)
                assert refused.status == 400
        with pytest.raises(errors.ChatWriteForbidden):
            await bot.send_message(alice, "one")
        await bot.send_message(alice, "two")
        await bot.stop()

    run(main())


def test_sandbox_menu_button_and_keyboard_web_apps_follow_telegram():
    from urllib.parse import parse_qsl, urlsplit

    from pyrogram.types import KeyboardButton, MenuButtonWebApp, ReplyKeyboardMarkup, WebAppInfo

    url = "https://smeta.example/webapp/login"

    async def main():
        emu = Emulator()
        bot, alice = await bot_and_user(emu)
        await bot.send_message(alice, "Войти", reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("🔐 Войти", web_app=WebAppInfo(url=url))]]))
        keyboard = emu.user_chat(alice)[-1]
        async with sandbox_client(emu) as http:
            assert await (await http.get(f"/sandbox/api/users/{alice}/menu")).json() is None
            refused = await http.post(f"/sandbox/api/users/{alice}/menu")
            assert refused.status == 400 and (await refused.json())["error"] == "BUTTON_NOT_FOUND"
            await bot.set_chat_menu_button(menu_button=MenuButtonWebApp(
                "Войти", WebAppInfo(url=url)))
            menu = await (await http.get(f"/sandbox/api/users/{alice}/menu")).json()
            assert menu == {"kind": "web_app", "text": "Войти", "url": url}
            opened = await (await http.post(f"/sandbox/api/users/{alice}/menu",
                                            json={"platform": "ios"})).json()
            fragment = dict(parse_qsl(urlsplit(opened["web_app_url"]).fragment))
            assert "user" in dict(parse_qsl(fragment["tgWebAppData"]))
            assert fragment["tgWebAppPlatform"] == "ios"
            pressed = await (await http.post(f"/sandbox/api/users/{alice}/press", json={
                "message_id": keyboard["id"], "text": "🔐 Войти"})).json()
            assert "tgWebAppData" not in urlsplit(pressed["web_app_url"]).fragment
        await bot.stop()

    run(main())


def test_sandbox_start_link_and_login_settings():
    async def main():
        emu = Emulator()
        bot, alice = await bot_and_user(emu)
        async with sandbox_client(emu) as http:
            created = await (await http.post("/sandbox/api/users", json={
                "first_name": "Анна", "phone": "+79990000005", "dc_id": 4})).json()
            anna = created["user_id"]
            settings = await (await http.post(f"/sandbox/api/users/{anna}/login_settings", json={
                "code_delivery": "sms_word"})).json()
            assert settings == {"code_delivery": "sms_word", "login_error": None, "dc_id": 4}
            refused = await http.post(f"/sandbox/api/users/{anna}/login_settings",
                                      json={"login_error": "NOT_AN_ERROR"})
            assert refused.status == 400
            started = await (await http.post(f"/sandbox/api/users/{alice}/start",
                                             json={"param": "ref-7"})).json()
            chat = emu.user_chat(alice)
            assert chat[-1]["id"] == started["message_id"]
            assert chat[-1]["text"] == "/start ref-7"
        await bot.stop()

    run(main())
