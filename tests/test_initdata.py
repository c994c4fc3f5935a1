"""initData checking: every way it can be wrong, alone and over HTTP (401)."""

from __future__ import annotations

import json
import time
from urllib.parse import quote, urlencode

import aiohttp
import pytest

from smetabot.initdata import InitDataError, check_init_data
from smetabot.telegram.emulator.webapp import sign_init_data
from tests.helpers import run, sandbox_app

TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
NOW = 1_800_000_000


def fields(user_id: int = 42, auth_date: int = NOW - 10, **extra: str) -> dict[str, str]:
    return {"user": json.dumps({"id": user_id, "first_name": "Иван", "language_code": "ru"},
                               ensure_ascii=False, separators=(",", ":")),
            "auth_date": str(auth_date), "chat_instance": "-77", "chat_type": "sender", **extra}


def signed(token: str = TOKEN, **kwargs) -> str:
    return sign_init_data(token, fields(**kwargs))


def tampered() -> str:
    good = signed()
    return good.replace(quote('"id":42'), quote('"id":43'))


BAD = [
    ("missing", None, "missing"),
    ("empty", "", "missing"),
    ("garbage", "%%%", "not a query string"),
    ("no hash", urlencode(fields(), quote_via=quote), "no hash"),
    ("wrong bot token", signed("999:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"), "does not match"),
    ("another user's id swapped in", tampered(), "does not match"),
    ("field added after signing", signed() + "&start_param=x", "does not match"),
    ("hash replaced", signed()[:-64] + "0" * 64, "does not match"),
    ("too old", signed(auth_date=NOW - 3601), "too old"),
    ("from the future", signed(auth_date=NOW + 3600), "future"),
    ("repeated field", signed() + "&auth_date=1", "repeats"),
    ("no user", sign_init_data(TOKEN, {"auth_date": str(NOW)}), "lacks"),
]


@pytest.mark.parametrize("name,init_data,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_init_data_is_refused(name, init_data, reason):
    with pytest.raises(InitDataError) as caught:
        check_init_data(init_data, TOKEN, max_age=3600, now=NOW)
    assert reason in str(caught.value)


def test_valid_init_data_names_its_user():
    user = check_init_data(signed(user_id=77), TOKEN, max_age=3600, now=NOW)
    assert (user.id, user.first_name, user.language_code) == (77, "Иван", "ru")


ENDPOINTS = [("POST", "/api/login/qr/start"), ("POST", "/api/login/qr/check"),
             ("POST", "/api/login/password"), ("POST", "/api/login/phone/start"),
             ("POST", "/api/login/phone/code"), ("GET", "/api/session/status")]


def test_every_api_endpoint_refuses_every_bad_init_data(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            token = app.emulator.bot.bot_token
            variants = [value for _, value, _ in BAD] + [
                sign_init_data("1:" + token.split(":")[1], fields(auth_date=int(time.time()))),
                sign_init_data(token, fields(auth_date=int(time.time()) - 7200)),
            ]
            async with aiohttp.ClientSession() as http:
                for method, path in ENDPOINTS:
                    for init_data in variants:
                        headers = {} if init_data is None else {"X-Telegram-Init-Data": init_data}
                        async with http.request(method, f"http://127.0.0.1:{app.port}{path}",
                                                headers=headers, json={} if method == "POST"
                                                else None) as response:
                            assert response.status == 401, (path, init_data)
                            assert await response.json() == {"status": "error",
                                                             "message": "unauthorized"}
                # A valid one gets through (and acts for the user it names only).
                good = sign_init_data(token, fields(user_id=5, auth_date=int(time.time())))
                async with http.get(f"http://127.0.0.1:{app.port}/api/session/status",
                                    headers={"X-Telegram-Init-Data": good}) as response:
                    assert response.status == 200
                    assert (await response.json())["status"] == "none"

    run(scenario())


def test_one_user_cannot_touch_another_users_login(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            alice = emu.create_user("Alice", language_code="en", password="a")
            mallory = emu.create_user("Mallory", language_code="en")
            token = emu.bot.bot_token
            now = int(time.time())
            as_alice = sign_init_data(token, fields(user_id=alice, auth_date=now))
            as_mallory = sign_init_data(token, fields(user_id=mallory, auth_date=now))
            base = f"http://127.0.0.1:{app.port}"
            async with aiohttp.ClientSession() as http:
                async with http.post(base + "/api/login/qr/start",
                                     headers={"X-Telegram-Init-Data": as_alice}, json={}) as r:
                    started = await r.json()
                await emu.user_scan_qr(alice, started["url"])
                # Mallory polls and guesses passwords: his own (empty) login, never Alice's.
                async with http.post(base + "/api/login/qr/check",
                                     headers={"X-Telegram-Init-Data": as_mallory}, json={}) as r:
                    assert (await r.json())["status"] == "error"
                async with http.post(base + "/api/login/password",
                                     headers={"X-Telegram-Init-Data": as_mallory},
                                     json={"password": "a"}) as r:
                    assert (await r.json())["status"] == "error"
            assert not app.vault.exists(mallory) and not app.vault.exists(alice)

    run(scenario())


def test_a_host_clock_behind_telegrams_by_minutes_is_tolerated():
    # auth_date is Telegram's time: a host four minutes behind sees it "in the future".
    user = check_init_data(signed(auth_date=NOW + 240), TOKEN, max_age=3600, now=NOW)
    assert user.id == 42
    # The configured age limit itself is kept.
    with pytest.raises(InitDataError):
        check_init_data(signed(auth_date=NOW - 3601), TOKEN, max_age=3600, now=NOW)
