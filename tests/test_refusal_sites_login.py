"""Every refusal Telegram documents for the login calls, injected where the login API makes
the call: the login page reads the answer tests/data/telegram_errors.tsv promises for it (never
the "could not connect" or "our side" catch-all, never an HTTP 500), and nothing is left
connected or half-saved (a refused login stores no session; a refusal the login works around
ends in a saved session)."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from smetabot import login, refusals
from smetabot.telegram.emulator import Emulator
from tests.helpers import run, sandbox_app
from tests.refusal_sites import (
    CATCH_ALL,
    WAIT,
    inject,
    over,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

PASSWORD = "секрет-42"
_phones = itertools.count(79250000001)
pytestmark = pytest.mark.usefixtures("retries_at_once")


def init_data_for(app, user_id: int) -> str:
    url = app.emulator.web_app_url(user_id, f"{app.public_url}/webapp/login", launch="inline",
                                   platform="android")
    return parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]


async def api(app, path: str, init_data: str, body: dict) -> tuple[int, dict]:
    url, headers = f"http://127.0.0.1:{app.port}{path}", {"X-Telegram-Init-Data": init_data}
    async with aiohttp.ClientSession() as http, http.post(url, headers=headers, json=body) as r:
        return r.status, await r.json()


#: kinds the login API words itself (the form asks again), as it does for a code typed wrong
OWN_WORDS = {"specific:code_invalid": "code_invalid", "specific:code_expired": "code_expired",
             "specific:password_invalid": "password_invalid"}


def expected_words(row: dict[str, str], lang: str, ident: str) -> str:
    if row["answer"] == "group:flood":  # the login API's own words for a flood: how long
        return login.message("flood", lang, wait=login.wait_words(WAIT, lang))
    if row["answer"] == "group:telegram_trouble":  # nothing retries a login: start again
        return refusals.text_for("specific:login_restart", lang)
    if row["answer"] in OWN_WORDS:  # a wrong code or password: the form's own words
        return login.message(OWN_WORDS[row["answer"]], lang)
    return refusals.text_for(row["answer"], lang, error=ident)


class Person:
    """A Telegram user opening the login page."""

    def __init__(self, app, lang: str = "ru", password: str | None = None,
                 dc_id: int | None = None) -> None:
        self.app, self.emu = app, app.emulator
        self.phone = f"+{next(_phones)}"
        self.id = self.emu.create_user("Иван", language_code=lang, phone=self.phone,
                                       password=password, dc_id=dc_id)
        self.init = init_data_for(app, self.id)

    async def post(self, path: str, body: dict) -> dict:
        status, answer = await api(self.app, path, self.init, body)
        assert status == 200, (path, status, answer)
        return answer

    async def phone_start(self) -> dict:
        return await self.post("/api/login/phone/start", {"phone": self.phone})

    async def phone_code(self) -> dict:
        code = self.emu.user_login_codes(self.id)[-1]["code"]
        return await self.post("/api/login/phone/code", {"code": code})

    async def up_to_the_password(self) -> None:
        assert (await self.phone_start())["status"] == "waiting"
        assert (await self.phone_code())["status"] == "password_needed"


async def refused_at(person: Person, method: str) -> dict:
    """Drive the login up to ``method`` (injected already) and return the page's answer."""
    if method == "auth.sendCode":
        return await person.phone_start()
    if method in ("auth.signIn", "users.getFullUser"):
        assert (await person.phone_start())["status"] == "waiting"
        return await person.phone_code()
    if method in ("auth.checkPassword", "account.getPassword"):
        return await person.post("/api/login/password", {"password": PASSWORD})
    if method == "auth.exportLoginToken":
        return await person.post("/api/login/qr/start", {})
    if method == "auth.importLoginToken":
        return await person.post("/api/login/qr/check", {})
    raise AssertionError(method)


async def before(person: Person, method: str) -> None:
    """What the person does before the call that is refused."""
    if method in ("auth.checkPassword", "account.getPassword"):
        await person.up_to_the_password()
    elif method == "auth.importLoginToken":
        # a user homed on another DC: the QR login moves there and imports its token
        started = await person.post("/api/login/qr/start", {})
        await person.emu.user_scan_qr(person.id, started["url"])


# What each method needs of the person: 2FA for the password calls; another DC for the QR
# import (the sandbox's login clients connect to DC2 first).
NEEDS = {"auth.checkPassword": {"password": PASSWORD},
         "account.getPassword": {"password": PASSWORD},
         "auth.importLoginToken": {"dc_id": 4}}
REFUSED_LOGINS = ["auth.sendCode", "auth.signIn", "auth.checkPassword", "account.getPassword",
                  "auth.exportLoginToken", "auth.importLoginToken", "users.getFullUser"]


def test_every_refusal_of_a_login_call_is_answered_on_the_page(tmp_path):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")
    cases = [(method, row) for method in REFUSED_LOGINS for row in reachable(method)]
    assert len(cases) >= 40, "the table lost its rows for the login calls"

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            for method, row in cases:
                lang = "en" if len(emu.accounts) % 2 else "ru"  # both languages, in turn
                person = Person(app, lang, **NEEDS.get(method, {}))
                await before(person, method)
                ident = inject(emu, method, row)
                answer = await refused_at(person, method)
                over(emu, method)  # and Telegram's wait is over for the next person
                where = (method, row["error"], lang, answer)
                text = answer.get("message", "")
                assert not any(phrase in text for phrase in CATCH_ALL), where
                assert answer["status"] in ("error", "expired"), where
                assert expected_words(row, lang, ident) in text, where
                assert not app.vault.exists(person.id), where
                await app.login.cancel(person.id)

    run(scenario(), timeout=300)


def test_refusals_the_login_works_around_still_end_in_a_saved_session(tmp_path):
    """The password hint (account.getPassword before the password is asked for) and logging
    out the session a reconnect replaces (auth.logOut) are conveniences: refused, the login
    goes on and the contractor is connected."""
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            for row in reachable("account.getPassword"):
                person = Person(app, password=PASSWORD)
                assert (await person.phone_start())["status"] == "waiting"
                inject(emu, "account.getPassword", row)
                # the hint is not read, the password is still asked for
                assert (await person.phone_code())["status"] == "password_needed", row
                over(emu, "account.getPassword")
                done = await person.post("/api/login/password", {"password": PASSWORD})
                assert done["status"] == "authorized", (row, done)
                assert app.vault.exists(person.id)
            rows = reachable("auth.logOut")
            assert rows
            for row in rows:
                person = Person(app)
                app.vault.save(person.id, emu.session_string(person.id))  # connected before
                old = app.vault.load(person.id)
                inject(emu, "auth.logOut", row)
                assert (await person.phone_start())["status"] == "waiting"
                done = await person.phone_code()
                over(emu, "auth.logOut")
                assert done["status"] == "authorized", (row, done)
                assert app.vault.load(person.id) != old  # the new session is the one kept

    run(scenario(), timeout=300)
