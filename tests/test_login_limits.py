"""Login abuse: guess and code limits that cannot be raced and survive a restart, one attempt
per user, the account must be the user's own, a reconnect ends the old session."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from smetabot.telegram.emulator import Emulator
from tests.helpers import labels, run, sandbox_app, say

MENU_RU = ["🆕 Новый канал", "📄 Рендер файлов", "📢 Мои каналы", "👤 Личный кабинет"]
# A Telegram that answers after 50 ms, as a real one does at best: the emulator answers at
# once, which hides races between a check and the Telegram call it guards.
LATENCY = 0.05


def wire(app) -> None:
    """What app.py hands LoginService once the lead merges it (see the branch's report): the
    database for the limits, the config, the user clients."""
    app.login.db = app.db
    app.login.config = app.config
    app.login.user_clients = app.user_clients


def slow_telegram(app) -> None:
    """Every client the login makes waits LATENCY before each call reaches the emulator."""
    make = app.telegram.user_client

    def user_client(name, session_string=None):
        client = make(name, session_string)
        invoke = client.invoke

        async def slow_invoke(*args, **kwargs):
            await asyncio.sleep(LATENCY)
            return await invoke(*args, **kwargs)

        client.invoke = slow_invoke
        return client

    app.telegram.user_client = user_client


def init_data_for(app, user_id: int, platform: str = "tdesktop") -> str:
    url = app.emulator.web_app_url(user_id, f"{app.public_url}/webapp/login", launch="inline",
                                   platform=platform)
    return parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]


async def api(app, path: str, init_data: str, body: dict | None = None):
    url, headers = f"http://127.0.0.1:{app.port}{path}", {"X-Telegram-Init-Data": init_data}
    async with aiohttp.ClientSession() as http, \
            http.post(url, headers=headers, json=body or {}) as response:
        return response.status, await response.json()


async def poll_qr(app, init_data: str) -> dict:
    async def done():
        while True:
            _, answer = await api(app, "/api/login/qr/check", init_data)
            if answer["status"] != "waiting":
                return answer
            await asyncio.sleep(0.05)
    return await asyncio.wait_for(done(), 10)


def login_sessions(app) -> list:
    """The emulator sessions of login clients that are connected now."""
    return [s for s in app.emulator.sessions if s.client.name.startswith("login")]


def signed_in_keys(emu, user_id: int) -> int:
    return sum(1 for key in emu.auth_keys.values() if key.user_id == user_id)


def test_concurrent_wrong_passwords_reach_telegram_at_most_the_limit(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            wire(app)
            slow_telegram(app)
            ivan = app.emulator.create_user("Иван", language_code="ru", password="верный")
            init = init_data_for(app, ivan)
            _, started = await api(app, "/api/login/qr/start", init)
            await app.emulator.user_scan_qr(ivan, started["url"])
            assert (await poll_qr(app, init))["status"] == "password_needed"
            before = app.emulator.calls.count("auth.CheckPassword")
            answers = await asyncio.gather(*[
                api(app, "/api/login/password", init, {"password": f"неверный {n}"})
                for n in range(40)])
            reached = app.emulator.calls.count("auth.CheckPassword") - before
            assert reached <= 5
            messages = [answer["message"] for status, answer in answers]
            assert all(status == 200 for status, _ in answers)
            assert messages.count("Неверный облачный пароль. Попробуйте ещё раз.") == reached
            refused = [m for m in messages if m.startswith("Слишком много попыток")]
            assert len(refused) == 40 - reached
            # Even the right password waits now.
            _, answer = await api(app, "/api/login/password", init, {"password": "верный"})
            assert answer["message"].startswith("Слишком много попыток. Попробуйте через")
            assert not app.vault.exists(ivan)

    run(scenario())


def test_limits_survive_a_restart_and_count_per_phone_number(tmp_path):
    async def scenario():
        emu = Emulator()
        emu.create_bot("smetabot", "SmetaBot")
        ivan = emu.create_user("Иван", language_code="ru", phone="+79251234567")
        others = [emu.create_user(f"Сосед {n}", language_code="ru") for n in range(3)]
        async with sandbox_app(tmp_path, emulator=emu) as app:
            wire(app)
            init = init_data_for(app, ivan, platform="android")
            for typed in ("8 925 123-45-67", "+7 (925) 123 45 67", "89251234567"):
                _, answer = await api(app, "/api/login/phone/start", init, {"phone": typed})
                assert answer["status"] == "waiting", answer
        async with sandbox_app(tmp_path, emulator=emu) as app:
            wire(app)
            sent = emu.calls.count("auth.SendCode")
            # The fourth request in ten minutes, after a restart: refused before Telegram.
            _, answer = await api(app, "/api/login/phone/start", init_data_for(app, ivan),
                                  {"phone": "+79251234567"})
            assert answer["status"] == "error"
            assert answer["message"].startswith("Слишком много попыток. Попробуйте через")
            # Other people asking codes for Ivan's number are refused too: the number is
            # limited whoever asks.
            for other in others:
                _, answer = await api(app, "/api/login/phone/start",
                                      init_data_for(app, other), {"phone": "8 925 1234567"})
                assert answer["message"].startswith("Слишком много попыток"), answer
            assert emu.calls.count("auth.SendCode") == sent
            assert login_sessions(app) == []

    run(scenario())


def test_twenty_simultaneous_starts_leave_one_client_and_none_after_shutdown(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            wire(app)
            slow_telegram(app)
            ivan = app.emulator.create_user("Иван", language_code="ru", phone="+79001112233")
            init = init_data_for(app, ivan)
            answers = await asyncio.gather(*[api(app, "/api/login/qr/start", init)
                                             for _ in range(20)])
            assert all(status == 200 and answer["url"].startswith("tg://login?token=")
                       for status, answer in answers)
            assert len(login_sessions(app)) == 1
            # A phone login replaces the QR one: its client goes.
            qr_client = login_sessions(app)[0].client
            _, answer = await api(app, "/api/login/phone/start", init, {"phone": "+79001112233"})
            assert answer["status"] == "waiting"
            [session] = login_sessions(app)
            assert session.client is not qr_client and not qr_client.is_connected
            # Mixed starts at once still leave one.
            await asyncio.gather(*[api(app, "/api/login/qr/start", init) for _ in range(10)],
                                 api(app, "/api/login/phone/start", init,
                                     {"phone": "+79001112233"}))
            assert len(login_sessions(app)) == 1
            await app.login.stop_all()
            assert login_sessions(app) == []
            # A start after shutdown makes no client.
            status, answer = await api(app, "/api/login/qr/start", init)
            assert answer["status"] == "error" and login_sessions(app) == []

    run(scenario())


def test_someone_elses_account_is_refused_and_its_session_ended(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            wire(app)
            emu = app.emulator
            ivan = emu.create_user("Иван", language_code="ru")
            mallory = emu.create_user("Mallory", language_code="en")
            await say(app, ivan, "/start")
            init = init_data_for(app, ivan)
            _, started = await api(app, "/api/login/qr/start", init)
            keys_before = signed_in_keys(emu, mallory)
            # Ivan shows his QR to Mallory (or is shown Mallory's): Mallory's phone approves.
            await emu.user_scan_qr(mallory, started["url"])
            answer = await poll_qr(app, init)
            assert answer["status"] == "error"
            assert answer["message"].startswith("Вошли в другой аккаунт Telegram")
            assert not app.vault.exists(ivan) and not app.vault.exists(mallory)
            # The session the scan created is logged out at Telegram.
            assert signed_in_keys(emu, mallory) == keys_before
            assert login_sessions(app) == []
            chat = emu.user_chat(ivan)
            assert not any("Аккаунт подключён" in (m["text"] or "") for m in chat)

    run(scenario())


def test_an_operator_may_allow_another_account(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            wire(app)
            app.config.values["security"]["allow_other_account"] = True  # the config key
            emu = app.emulator
            ivan = emu.create_user("Иван", language_code="ru")
            firm = emu.create_user("ООО Ремонт", language_code="ru")
            await say(app, ivan, "/start")
            init = init_data_for(app, ivan)
            _, started = await api(app, "/api/login/qr/start", init)
            await emu.user_scan_qr(firm, started["url"])
            assert (await poll_qr(app, init))["status"] == "authorized"
            async with app.user_clients.use(ivan) as client:
                assert (await client.get_me()).id == firm

    run(scenario())


def test_reconnecting_logs_the_previous_session_out(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            wire(app)
            emu = app.emulator
            ivan = emu.create_user("Иван", language_code="ru")
            old = emu.session_string(ivan)
            app.vault.save(ivan, old)
            await say(app, ivan, "/start")
            async with app.user_clients.use(ivan) as client:  # cached by the user clients
                assert (await client.get_me()).id == ivan
            init = init_data_for(app, ivan)
            _, started = await api(app, "/api/login/qr/start", init)
            await emu.user_scan_qr(ivan, started["url"])
            assert (await poll_qr(app, init))["status"] == "authorized"
            assert app.vault.load(ivan) != old
            with pytest.raises(Exception) as caught:
                await app.telegram.user_client("old", old).start()
            assert "AUTH_KEY_UNREGISTERED" in str(caught.value)
            # The new session is the one in use, and still works.
            async with app.user_clients.use(ivan) as client:
                assert (await client.get_me()).id == ivan
            assert app.vault.exists(ivan)

    run(scenario())


def test_a_user_the_bot_never_talked_to_is_connected_and_told_where_to_go(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            wire(app)
            emu = app.emulator
            ivan = emu.create_user("Иван", language_code="ru")  # never wrote to the bot
            init = init_data_for(app, ivan)
            _, started = await api(app, "/api/login/qr/start", init)
            await emu.user_scan_qr(ivan, started["url"])
            status_code, answer = 200, await poll_qr(app, init)
            assert answer == {"status": "authorized", "message": (
                "Аккаунт подключён. Вернитесь в чат с ботом и отправьте /start — появится "
                "меню.")}, (status_code, answer)
            assert app.vault.exists(ivan)
            [reply] = await say(app, ivan, "/start")
            assert labels(reply) == MENU_RU
            async with app.user_clients.use(ivan) as client:
                assert (await client.get_me()).id == ivan

    run(scenario())


# The product reads Telegram's time from kurigram (Client.server_time, which a session sets from
# the msg_id of the messages Telegram sends; the emulator's session does so too).
@pytest.mark.parametrize("skew", [-300, 300], ids=["telegram-behind", "telegram-ahead"])
def test_qr_expiry_follows_telegrams_clock_not_the_hosts(tmp_path, skew):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            wire(app)
            emu = app.emulator
            emu.advance_time(skew)  # the host's clock is off by five minutes
            ivan = emu.create_user("Иван", language_code="ru")
            await say(app, ivan, "/start")
            init = init_data_for(app, ivan)
            _, started = await api(app, "/api/login/qr/start", init)
            assert 20 <= started["expires_in"] <= 31
            assert (await api(app, "/api/login/qr/check", init))[1] == {"status": "waiting"}
            await emu.user_scan_qr(ivan, started["url"])
            assert (await poll_qr(app, init))["status"] == "authorized"

    run(scenario())


def test_the_attempt_reads_telegrams_time_from_kurigrams_session_sync():
    """What kurigram's Session does with every message from Telegram (Client._set_server_time
    with its msg_id) is what the QR expiry is compared with."""
    import time

    from pyrogram import Client

    from smetabot.login import Attempt

    client = Client("clock", api_id=1, api_hash="0" * 32, in_memory=True)
    attempt = Attempt(user_id=1, lang="ru", client=client, method="qr")
    telegram_time = time.time() - 300  # this host is five minutes ahead of Telegram
    client._set_server_time(int(telegram_time * 2**32))
    assert abs(attempt.telegram_now() - telegram_time) < 2
