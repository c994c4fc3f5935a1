"""Connecting a contractor's Telegram account: QR login, phone + code, the cloud password.

One attempt in flight per Telegram user, each with its own not-yet-authorized pyrogram client.
On success the session string goes straight into the vault (never to disk in the clear), the
attempt's client is stopped, and the bot is told in-process. Attempts expire after
``ATTEMPT_TTL`` seconds of inactivity; codes and passwords are rate limited.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import segno
from pyrogram import Client, handlers, raw
from pyrogram import errors as tg

from smetabot import texts
from smetabot.telegram.connect import Telegram
from smetabot.texts import EN, RU
from smetabot.vault import Vault

log = logging.getLogger(__name__)

ATTEMPT_TTL = 600.0
# (attempts, window in seconds)
CODE_REQUESTS = (3, 600)
GUESSES = (5, 600)

WAITING, AUTHORIZED, PASSWORD_NEEDED, EXPIRED, ERROR = (
    "waiting", "authorized", "password_needed", "expired", "error")

def message(key: str, lang: str, **params: object) -> str:
    """A login message in ``lang``."""
    return texts.t(f"login.{key}", lang, **params)


def wait_words(seconds: int, lang: str) -> str:
    """``75`` → "2 мин" / "2 min"; under a minute in seconds."""
    if seconds < 60:
        return f"{seconds} с" if lang == RU else f"{seconds} s"
    minutes = (seconds + 59) // 60
    return f"{minutes} мин" if lang == RU else f"{minutes} min"


@dataclass
class Attempt:
    """One login in progress for one Telegram user."""

    user_id: int
    lang: str
    client: Client
    method: str  # "qr" or "phone"
    touched: float = field(default_factory=time.monotonic)
    qr_url: str | None = None
    qr_expires: int = 0
    token_seen: asyncio.Event = field(default_factory=asyncio.Event)
    phone: str | None = None
    phone_code_hash: str | None = None
    password_needed: bool = False
    password_hint: str = ""
    guesses: deque = field(default_factory=deque)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RateLimiter:
    """At most ``count`` events per ``window`` seconds per key."""

    def __init__(self, count: int, window: float) -> None:
        self.count, self.window = count, window
        self._events: dict[int, deque] = {}

    def retry_after(self, key: int) -> int:
        """Seconds until another event is allowed (0: now)."""
        now = time.monotonic()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] > self.window:
            events.popleft()
        if len(events) < self.count:
            return 0
        return int(self.window - (now - events[0])) + 1

    def hit(self, key: int) -> None:
        """Record one event."""
        self._events.setdefault(key, deque()).append(time.monotonic())


class LoginService:
    """Login attempts by Telegram user id, and what happens when one succeeds."""

    def __init__(self, telegram: Telegram, vault: Vault,
                 on_authorized: Callable[[int, str], Awaitable[None]] | None = None) -> None:
        self.telegram = telegram
        self.vault = vault
        self.on_authorized = on_authorized
        self._attempts: dict[int, Attempt] = {}
        self._code_requests = RateLimiter(*CODE_REQUESTS)
        self._guesses = RateLimiter(*GUESSES)

    # -- QR -------------------------------------------------------------------------------

    async def qr_start(self, user_id: int, lang: str) -> dict[str, Any]:
        """Begin (or refresh) a QR login; returns the tg://login URL, its SVG and expiry."""
        attempt = self._attempts.get(user_id)
        if attempt is None or attempt.method != "qr" or attempt.password_needed:
            attempt = await self._new_attempt(user_id, lang, "qr")
        async with attempt.lock:
            attempt.touched = time.monotonic()
            try:
                token = await attempt.client.invoke(raw.functions.auth.ExportLoginToken(
                    api_id=attempt.client.api_id, api_hash=attempt.client.api_hash,
                    except_ids=[]))
            except tg.FloodWait as exc:
                return _error("flood", lang, wait=wait_words(int(exc.value), lang))
            if isinstance(token, raw.types.auth.LoginTokenSuccess):
                return await self._authorized(attempt)
            attempt.qr_url = "tg://login?token=" + base64.urlsafe_b64encode(
                token.token).decode().rstrip("=")
            attempt.qr_expires = token.expires
        svg = segno.make(attempt.qr_url, error="m").svg_inline(scale=6, border=2)
        return {"url": attempt.qr_url, "qr_svg": svg, "expires_at": attempt.qr_expires}

    async def qr_check(self, user_id: int) -> dict[str, Any]:
        """Has the QR code been scanned and approved?"""
        attempt = self._attempts.get(user_id)
        if attempt is None or attempt.method != "qr":
            return _error("no_attempt", EN if attempt is None else attempt.lang)
        if attempt.password_needed:
            return self._password_status(attempt)
        if not attempt.token_seen.is_set():
            if time.time() > attempt.qr_expires:
                return {"status": EXPIRED, "message": message("qr_expired", attempt.lang)}
            return {"status": WAITING}
        async with attempt.lock:
            attempt.touched = time.monotonic()
            try:
                result = await attempt.client.invoke(raw.functions.auth.ExportLoginToken(
                    api_id=attempt.client.api_id, api_hash=attempt.client.api_hash,
                    except_ids=[]))
                if isinstance(result, raw.types.auth.LoginTokenMigrateTo):
                    result = await self._migrate(attempt, result)
            except tg.SessionPasswordNeeded:
                return await self._need_password(attempt)
            if isinstance(result, raw.types.auth.LoginTokenSuccess):
                return await self._authorized(attempt)
            attempt.token_seen.clear()
            return {"status": WAITING}

    async def _migrate(self, attempt: Attempt, moved: Any) -> Any:
        # The account lives in another data centre: continue the login there (as QRLogin does).
        client = attempt.client
        option = await client.get_dc_option(moved.dc_id, ipv6=client.ipv6)
        await client.session.stop()
        client.session = await client.get_session(
            dc_id=moved.dc_id, server_address=option.ip_address, port=option.port,
            export_authorization=False, temporary=True)
        await client.storage.dc_id(moved.dc_id)
        await client.storage.server_address(option.ip_address)
        await client.storage.port(option.port)
        await client.storage.auth_key(client.session.auth_key)
        return await client.invoke(raw.functions.auth.ImportLoginToken(token=moved.token))

    # -- phone + code ---------------------------------------------------------------------

    async def phone_start(self, user_id: int, lang: str, phone: str) -> dict[str, Any]:
        """Ask Telegram to send a login code to ``phone``."""
        phone = "+" + "".join(ch for ch in phone if ch.isdigit())
        if not 8 <= len(phone) <= 16:
            return _error("phone_invalid", lang)
        wait = self._code_requests.retry_after(user_id)
        if wait:
            return _error("too_many", lang, wait=wait_words(wait, lang))
        attempt = await self._new_attempt(user_id, lang, "phone")
        async with attempt.lock:
            self._code_requests.hit(user_id)
            try:
                sent = await attempt.client.send_code(phone)
            except tg.FloodWait as exc:
                return _error("flood", lang, wait=wait_words(int(exc.value), lang))
            except (tg.PhoneNumberInvalid, tg.PhoneNumberBanned):
                return _error("phone_invalid", lang)
            attempt.phone, attempt.phone_code_hash = phone, sent.phone_code_hash
        return {"status": WAITING, "message": message("code_sent", lang)}

    async def phone_code(self, user_id: int, code: str) -> dict[str, Any]:
        """Sign in with the code Telegram sent."""
        attempt = self._attempts.get(user_id)
        if attempt is None or attempt.method != "phone" or not attempt.phone_code_hash:
            return _error("no_attempt", EN if attempt is None else attempt.lang)
        lang = attempt.lang
        refused = self._refuse_guess(attempt)
        if refused:
            return refused
        async with attempt.lock:
            attempt.touched = time.monotonic()
            self._guesses.hit(user_id)
            try:
                signed = await attempt.client.sign_in(attempt.phone, attempt.phone_code_hash,
                                                      "".join(ch for ch in code if ch.isdigit()))
            except tg.SessionPasswordNeeded:
                return await self._need_password(attempt)
            except (tg.PhoneCodeInvalid, tg.PhoneCodeEmpty):
                return _error("code_invalid", lang)
            except tg.PhoneCodeExpired:
                return {"status": EXPIRED, "message": message("code_expired", lang)}
            except tg.FloodWait as exc:
                return _error("flood", lang, wait=wait_words(int(exc.value), lang))
            if not hasattr(signed, "id"):  # terms of service / sign-up: no account here
                await self.cancel(user_id)
                return _error("phone_unknown", lang)
            return await self._authorized(attempt)

    def _refuse_guess(self, attempt: Attempt) -> dict[str, Any] | None:
        """The answer when codes and passwords were guessed too often, else None."""
        wait = self._guesses.retry_after(attempt.user_id)
        return _error("too_many", attempt.lang, wait=wait_words(wait, attempt.lang)) if wait \
            else None

    # -- cloud password -------------------------------------------------------------------

    async def _need_password(self, attempt: Attempt) -> dict[str, Any]:
        attempt.password_needed = True
        with contextlib.suppress(Exception):
            attempt.password_hint = await attempt.client.get_password_hint() or ""
        return self._password_status(attempt)

    def _password_status(self, attempt: Attempt) -> dict[str, Any]:
        hint = (f" (подсказка: {attempt.password_hint})" if attempt.lang == RU else
                f" (hint: {attempt.password_hint})") if attempt.password_hint else ""
        return {"status": PASSWORD_NEEDED,
                "message": message("password_needed", attempt.lang, hint=hint)}

    async def password(self, user_id: int, password: str) -> dict[str, Any]:
        """Finish a login that needs the cloud password (SRP; the password never leaves)."""
        attempt = self._attempts.get(user_id)
        if attempt is None or not attempt.password_needed:
            return _error("no_attempt", EN if attempt is None else attempt.lang)
        lang = attempt.lang
        refused = self._refuse_guess(attempt)
        if refused:
            return refused
        async with attempt.lock:
            attempt.touched = time.monotonic()
            self._guesses.hit(user_id)
            try:
                await attempt.client.check_password(password)
            except tg.PasswordHashInvalid:
                return _error("password_invalid", lang)
            except tg.FloodWait as exc:
                return _error("flood", lang, wait=wait_words(int(exc.value), lang))
            return await self._authorized(attempt)

    # -- life of an attempt ---------------------------------------------------------------

    async def _new_attempt(self, user_id: int, lang: str, method: str) -> Attempt:
        await self.cancel(user_id)
        client = self.telegram.user_client(f"login{user_id}")
        attempt = Attempt(user_id=user_id, lang=lang, client=client, method=method)

        async def on_token(_client: Client, update: Any, _users: Any, _chats: Any) -> None:
            if isinstance(update, raw.types.UpdateLoginToken):
                attempt.token_seen.set()

        client.add_handler(handlers.RawUpdateHandler(on_token))
        await client.connect()
        await client.dispatcher.start()
        self._attempts[user_id] = attempt
        return attempt

    async def _authorized(self, attempt: Attempt) -> dict[str, Any]:
        client = attempt.client
        me = await client.get_me()
        await client.storage.user_id(me.id)
        await client.storage.is_bot(False)
        session = await client.export_session_string()
        self.vault.save(attempt.user_id, session)
        del session
        self._attempts.pop(attempt.user_id, None)
        await _close(client)
        log.info("contractor %s connected a Telegram account", attempt.user_id)
        if self.on_authorized is not None:
            await self.on_authorized(attempt.user_id, me.first_name or "")
        return {"status": AUTHORIZED, "message": message("authorized", attempt.lang)}

    async def cancel(self, user_id: int) -> None:
        """Drop the user's attempt, if any, and stop its client."""
        attempt = self._attempts.pop(user_id, None)
        if attempt is not None:
            await _close(attempt.client)

    async def sweep(self) -> None:
        """Expire attempts idle for longer than ATTEMPT_TTL."""
        now = time.monotonic()
        for user_id, attempt in list(self._attempts.items()):
            if now - attempt.touched > ATTEMPT_TTL and not attempt.lock.locked():
                await self.cancel(user_id)

    async def stop_all(self) -> None:
        """Stop every attempt's client (shutdown)."""
        for user_id in list(self._attempts):
            await self.cancel(user_id)

    def in_flight(self) -> list[int]:
        """Users with a login in progress."""
        return list(self._attempts)


def _error(key: str, lang: str, **params: object) -> dict[str, Any]:
    return {"status": ERROR, "message": message(key, lang, **params)}


async def _close(client: Client) -> None:
    with contextlib.suppress(Exception):
        await client.dispatcher.stop()
    with contextlib.suppress(Exception):
        await client.disconnect()
