"""Connecting a contractor's account through the WebApp API, end to end through the emulator."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from smetabot.errors import SessionRevoked
from tests.helpers import labels, press, run, sandbox_app, say

MENU_RU = ["🆕 Новый канал", "📄 Рендер файлов", "📢 Мои каналы", "👤 Личный кабинет"]



def init_data_for(app, user_id: int, platform: str = "tdesktop") -> str:
    url = app.emulator.web_app_url(user_id, f"{app.public_url}/webapp/login", platform=platform)
    return parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]


async def api(app, path: str, init_data: str | None, body: dict | None = None):
    headers = {} if init_data is None else {"X-Telegram-Init-Data": init_data}
    async with aiohttp.ClientSession() as http:
        method = http.get if body is None and path.endswith("status") else http.post
        kwargs = {} if body is None else {"json": body}
        async with method(f"http://127.0.0.1:{app.port}{path}", headers=headers, **kwargs) as r:
            return r.status, await r.json()


async def poll_qr(app, init_data: str) -> dict:
    async def done():
        while True:
            _, answer = await api(app, "/api/login/qr/check", init_data, {})
            if answer["status"] != "waiting":
                return answer
            await asyncio.sleep(0.05)
    return await asyncio.wait_for(done(), 10)


def files_containing(root: Path, needle: bytes) -> list[Path]:
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if needle in path.read_bytes():
                found.append(path)
    return found


async def assert_connected(app, user_id: int) -> None:
    assert app.vault.exists(user_id)
    async with app.user_clients.use(user_id) as client:
        me = await client.get_me()
    assert me.id == user_id
    # The bot replaced the connect button with the menu, without the contractor asking.
    chat = app.emulator.user_chat(user_id)
    announced = [m for m in chat if m["from"] == "bot" and "Аккаунт подключён" in (m["text"] or "")]
    assert len(announced) == 1 and labels(announced[0]) == MENU_RU
    session = app.vault.load(user_id)
    assert session and not files_containing(app.paths.root, session.encode())
    assert (await app.contractors.get(user_id)).session_state == "connected"


def test_qr_login(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            await say(app, ivan, "/start")
            init = init_data_for(app, ivan)
            status, started = await api(app, "/api/login/qr/start", init, {})
            assert status == 200 and started["url"].startswith("tg://login?token=")
            assert started["qr_svg"].startswith("<svg") and started["expires_at"] > 0
            assert (await api(app, "/api/login/qr/check", init, {}))[1] == {"status": "waiting"}
            await app.emulator.user_scan_qr(ivan, started["url"])
            answer = await poll_qr(app, init)
            assert answer["status"] == "authorized"
            await assert_connected(app, ivan)
            assert (await api(app, "/api/session/status", init))[1]["status"] == "authorized"
            # Opened from an inline button, the Mini App has no sendData (Telegram gives it only
            # to keyboard-button Mini Apps): the bot was told in-process, exactly once.
            told = [m for m in app.emulator.user_chat(ivan)
                    if m["from"] == "bot" and "Аккаунт подключён" in (m["text"] or "")]
            assert len(told) == 1

    run(scenario())


def test_qr_login_with_cloud_password(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru", password="секрет 123")
            await say(app, ivan, "/start")
            init = init_data_for(app, ivan)
            _, started = await api(app, "/api/login/qr/start", init, {})
            await app.emulator.user_scan_qr(ivan, started["url"])
            answer = await poll_qr(app, init)
            assert answer["status"] == "password_needed"
            assert "облачный пароль" in answer["message"]
            _, answer = await api(app, "/api/login/password", init, {"password": "неверный"})
            assert answer == {"status": "error",
                              "message": "Неверный облачный пароль. Попробуйте ещё раз."}
            assert not app.vault.exists(ivan)
            _, answer = await api(app, "/api/login/password", init, {"password": "секрет 123"})
            assert answer["status"] == "authorized"
            await assert_connected(app, ivan)

    run(scenario())


def code_of(app, user_id: int) -> str:
    return app.emulator.user_login_codes(user_id)[-1]["code"]


@pytest.mark.parametrize("password", [None, "p@ss"])
def test_phone_and_code_login(tmp_path, password):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru", phone="+79001234567",
                                            password=password)
            await say(app, ivan, "/start")
            init = init_data_for(app, ivan, platform="android")
            _, answer = await api(app, "/api/login/phone/start", init,
                                  {"phone": "+7 900 123-45-67"})
            assert answer["status"] == "waiting" and "Код отправлен" in answer["message"]
            right = code_of(app, ivan)
            wrong = "0" * len(right) if right != "0" * len(right) else "1" * len(right)
            _, answer = await api(app, "/api/login/phone/code", init, {"code": wrong})
            assert answer == {"status": "error",
                              "message": "Неверный код. Проверьте и введите ещё раз."}
            _, answer = await api(app, "/api/login/phone/code", init, {"code": right})
            if password:
                assert answer["status"] == "password_needed"
                _, answer = await api(app, "/api/login/password", init, {"password": password})
            assert answer["status"] == "authorized"
            await assert_connected(app, ivan)

    run(scenario())


def test_phone_login_errors_in_english(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            john = app.emulator.create_user("John", language_code="en", phone="+447700900123")
            init = init_data_for(app, john, platform="ios")
            _, answer = await api(app, "/api/login/phone/start", init, {"phone": "12"})
            assert answer["status"] == "error" and "international format" in answer["message"]
            _, answer = await api(app, "/api/login/phone/code", init, {"code": "12345"})
            assert answer["status"] == "error" and "Start again" in answer["message"]
            app.emulator.inject_flood_wait("auth.SendCode", 420)
            _, answer = await api(app, "/api/login/phone/start", init, {"phone": "+447700900123"})
            assert answer == {"status": "error",
                              "message": "Telegram asks to wait 7 min before the next attempt."}
            # Telegram keeps refusing until its wait is over; we say so, never "try again".
            _, answer = await api(app, "/api/login/phone/start", init, {"phone": "+447700900123"})
            assert answer["status"] == "error" and "Telegram asks to wait" in answer["message"]

    run(scenario())


def test_revoked_session_is_noticed_and_removed(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            app.vault.save(ivan, app.emulator.session_string(ivan))
            await app.contractors.touch(ivan, "Иван", None, "ru")
            # The contractor ends the session on their phone (Settings → Devices).
            assert app.emulator.user_terminate_sessions(ivan) == 1
            with pytest.raises(SessionRevoked) as caught:
                async with app.user_clients.use(ivan) as client:
                    await client.get_me()
            assert "Подключите аккаунт заново" in caught.value.message("ru")
            assert not app.vault.exists(ivan)
            assert (await app.contractors.get(ivan)).session_state == "revoked"
            [reply] = await say(app, ivan, "/start")
            assert labels(reply) == ["🔐 Подключить аккаунт"]

    run(scenario())


def test_disconnect_logs_out_and_deletes_the_session(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            session = app.emulator.session_string(ivan)
            app.vault.save(ivan, session)
            [card] = await say(app, ivan, "👤 Личный кабинет")
            [question] = await press(app, ivan, card["id"], "🔌 Отключить аккаунт")
            assert "Отключить аккаунт?" in question["text"]
            [reply] = await press(app, ivan, question["id"], "Да, отключить")
            assert "Аккаунт отключён" in reply["text"]
            assert labels(reply) == ["🔐 Подключить аккаунт"]
            assert not app.vault.exists(ivan)
            assert not list(app.paths.sessions.glob(f"{ivan}.session.enc"))
            # Logged out at Telegram too: the old session string no longer works.
            client = app.telegram.user_client("old", session)
            with pytest.raises(Exception) as caught:
                await client.start()
            assert "AUTH_KEY_UNREGISTERED" in str(caught.value)

    run(scenario())


def test_guessing_codes_is_rate_limited(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru", phone="+79001112233")
            init = init_data_for(app, ivan, platform="android")
            await api(app, "/api/login/phone/start", init, {"phone": "+79001112233"})
            right = code_of(app, ivan)
            wrong = "0" * len(right) if right != "0" * len(right) else "1" * len(right)
            for _ in range(5):
                _, answer = await api(app, "/api/login/phone/code", init, {"code": wrong})
                assert answer["message"].startswith("Неверный код")
            # The sixth guess within ten minutes is refused, even the right code.
            _, answer = await api(app, "/api/login/phone/code", init, {"code": right})
            assert answer["status"] == "error"
            assert answer["message"].startswith("Слишком много попыток. Попробуйте через")
            assert not app.vault.exists(ivan)

    run(scenario())
