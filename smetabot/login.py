"""Connecting a contractor's Telegram account: QR login, phone + code, the cloud password.

One attempt at a time per Telegram user, each with its own not-yet-authorized pyrogram client;
every call of one user runs under that user's lock, so a new start cancels and disconnects the
old attempt before it makes its own, and nothing of one user races. On success the session
string goes straight into the vault (never to disk in the clear), the attempt's client is
stopped, and the bot is told in-process. The account that logs in must be the Telegram user who
opened the login, unless ``security.allow_other_account`` says otherwise; a refused account's
new session is logged out at Telegram, and a reconnect logs the previous session out.

Limits: code requests per requester and per target phone number, guesses (codes and cloud
passwords) per requester, each checked and counted in one step (one SQLite transaction, or one
step of the event loop without a database), kept in the database so a restart does not reset
them. Telegram's refusals are answered in words (:mod:`smetabot.refusals`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import segno
from pyrogram import Client, handlers, raw
from pyrogram import errors as tg

from smetabot import phones, refusals, texts
from smetabot.errors import BadPhoneNumber
from smetabot.telegram.connect import Telegram
from smetabot.texts import EN, RU
from smetabot.vault import Vault

log = logging.getLogger(__name__)

ATTEMPT_TTL = 600.0
# (attempts, window in seconds)
CODE_REQUESTS = (3, 600)         # per requester (the Telegram user who opened the page)
CODE_REQUESTS_PER_PHONE = (3, 600)  # per target phone number, whoever asks
GUESSES = (5, 600)               # codes and cloud passwords, per requester

WAITING, AUTHORIZED, PASSWORD_NEEDED, EXPIRED, ERROR = (
    "waiting", "authorized", "password_needed", "expired", "error")

#: how the code was sent (raw ``auth.SentCodeType*``) -> (the words' key, the code is words)
CODE_TYPES: dict[type, tuple[str, bool]] = {
    raw.types.auth.SentCodeTypeApp: ("app", False),
    raw.types.auth.SentCodeTypeSms: ("sms", False),
    raw.types.auth.SentCodeTypeFirebaseSms: ("sms", False),
    raw.types.auth.SentCodeTypeCall: ("call", False),
    raw.types.auth.SentCodeTypeFlashCall: ("flash_call", False),
    raw.types.auth.SentCodeTypeMissedCall: ("missed_call", False),
    raw.types.auth.SentCodeTypeEmailCode: ("email", False),
    raw.types.auth.SentCodeTypeFragmentSms: ("fragment", False),
    raw.types.auth.SentCodeTypeSmsWord: ("sms_word", True),
    raw.types.auth.SentCodeTypeSmsPhrase: ("sms_phrase", True),
}


def message(key: str, lang: str, **params: object) -> str:
    """A login message in ``lang``."""
    return texts.t(f"login.{key}", lang, **params)


def wait_words(seconds: int, lang: str) -> str:
    """``75`` → "2 мин" / "2 min"; under a minute in seconds."""
    if seconds < 60:
        return f"{seconds} с" if lang == RU else f"{seconds} s"
    minutes = (seconds + 59) // 60
    return f"{minutes} мин" if lang == RU else f"{minutes} min"


def normalize_phone(typed: str) -> str | None:
    """The number as Telegram wants it (``phones.normalize``: "8 925 123-45-67" →
    "+79251234567"); None when it cannot be a number."""
    try:
        return phones.normalize(typed)
    except BadPhoneNumber:
        return None


# -- limits -----------------------------------------------------------------------------------


class Limits:
    """At most ``count`` events per ``window`` seconds per (scope, key), checked and counted in
    one step: in one SQLite write transaction when there is a database (so a restart keeps
    them), else in one step of the event loop."""

    def __init__(self, db: Any = None) -> None:
        self.db = db
        self._events: dict[tuple[str, str], deque] = {}
        self._pruned = 0.0

    async def take(self, scope: str, key: str, count: int, window: float) -> int:
        """Count one event unless the limit is reached; returns 0 (counted) or the seconds to
        wait before another is allowed (not counted)."""
        now = time.time()
        if self.db is None:
            events = self._events.setdefault((scope, key), deque())
            while events and now - events[0] > window:
                events.popleft()
            if len(events) >= count:
                return int(window - (now - events[0])) + 1
            events.append(now)
            return 0
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM login_limit_events WHERE scope = ? AND key = ? "
                             "AND at < ?", (scope, key, now - window))
            rows = await tx.execute_fetchall(
                "SELECT COUNT(*), MIN(at) FROM login_limit_events WHERE scope = ? AND key = ?",
                (scope, key))
            used, oldest = rows[0][0], rows[0][1]
            if used >= count:
                return int(window - (now - oldest)) + 1
            await tx.execute("INSERT INTO login_limit_events (scope, key, at) VALUES (?, ?, ?)",
                             (scope, key, now))
            return 0


    async def prune(self) -> None:
        """Drop events older than every window (at most once in ten minutes)."""
        now = time.time()
        if now - self._pruned < 600:
            return
        self._pruned = now
        horizon = now - max(w for _, w in (CODE_REQUESTS, CODE_REQUESTS_PER_PHONE, GUESSES))
        if self.db is None:
            for key, events in list(self._events.items()):
                if not events or events[-1] < horizon:
                    del self._events[key]
            return
        await self.db.execute("DELETE FROM login_limit_events WHERE at < ?", (horizon,))


def _phone_key(phone: str) -> str:
    # The counters need to tell numbers apart, not to keep them.
    return hashlib.sha256(f"smetabot-login:{phone}".encode()).hexdigest()[:32]


# -- attempts -------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One login in progress for one Telegram user."""

    user_id: int
    lang: str
    client: Client
    method: str  # "qr" or "phone"
    touched: float = field(default_factory=time.monotonic)
    qr_url: str | None = None
    qr_expires: int = 0  # Telegram's time
    token_seen: asyncio.Event = field(default_factory=asyncio.Event)
    phone: str | None = None
    phone_code_hash: str | None = None
    code_is_words: bool = False
    password_needed: bool = False
    password_hint: str = ""
    closed: bool = False

    def telegram_now(self) -> float:
        """Telegram's time now: kurigram's session sets the offset from the msg_id of what
        Telegram sends (``Client.server_time``), so a host clock minutes off does not matter."""
        server_time = getattr(self.client, "server_time", None)
        return float(server_time) if isinstance(server_time, (int, float)) else time.time()


class LoginService:
    """Login attempts by Telegram user id, and what happens when one succeeds.

    ``db`` (the :class:`~smetabot.db.Database`) keeps the limits across restarts; ``config``
    is read for ``security.allow_other_account`` (default false); ``user_clients`` is told to
    drop a contractor's cached client when a reconnect replaces the session."""

    def __init__(self, telegram: Telegram, vault: Vault,
                 on_authorized: Callable[[int, str], Awaitable[None]] | None = None, *,
                 db: Any = None, config: Any = None, user_clients: Any = None) -> None:
        self.telegram = telegram
        self.vault = vault
        self.on_authorized = on_authorized
        self.limits = Limits(db)
        self.config = config
        self.user_clients = user_clients
        self._attempts: dict[int, Attempt] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._stopped = False

    @property
    def db(self) -> Any:
        """The database the limits are kept in (None: in memory)."""
        return self.limits.db

    @db.setter
    def db(self, value: Any) -> None:
        self.limits.db = value

    @property
    def allow_other_account(self) -> bool:
        """Whether an account other than the one who opened the login may be connected."""
        values = getattr(self.config, "values", None) or {}
        return bool((values.get("security") or {}).get("allow_other_account", False))

    def _lock(self, user_id: int) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    # -- QR -------------------------------------------------------------------------------

    async def qr_start(self, user_id: int, lang: str) -> dict[str, Any]:
        """Begin (or refresh) a QR login; returns the tg://login URL, its SVG and expiry."""
        async with self._lock(user_id):
            attempt = self._attempts.get(user_id)
            if attempt is None or attempt.method != "qr" or attempt.password_needed:
                attempt = await self._new_attempt(user_id, lang, "qr")
                if attempt is None:
                    return _error("failed", lang)
            attempt.touched = time.monotonic()
            try:
                token = await self._export_token(attempt)
                if isinstance(token, raw.types.auth.LoginTokenMigrateTo):
                    token = await self._migrate(attempt, token)
            except tg.SessionPasswordNeeded:
                return await self._need_password(attempt)
            except (tg.RPCError, TimeoutError) as exc:
                return self._refused(attempt, exc, "auth.ExportLoginToken")
            if isinstance(token, raw.types.auth.LoginTokenSuccess):
                return await self._authorized(attempt)
            attempt.qr_url = "tg://login?token=" + base64.urlsafe_b64encode(
                token.token).decode().rstrip("=")
            attempt.qr_expires = token.expires
            expires_in = max(0, int(token.expires - attempt.telegram_now()))
        svg = segno.make(attempt.qr_url, error="m").svg_inline(scale=6, border=2)
        # expires_at is Telegram's time; expires_in (seconds from now) is what a page with a
        # clock of its own should count down from.
        return {"url": attempt.qr_url, "qr_svg": svg, "expires_at": attempt.qr_expires,
                "expires_in": expires_in}

    async def qr_check(self, user_id: int, lang: str | None = None) -> dict[str, Any]:
        """Has the QR code been scanned and approved?"""
        async with self._lock(user_id):
            attempt = self._attempts.get(user_id)
            if attempt is None or attempt.method != "qr":
                return _error("no_attempt", _lang_of(attempt, lang))
            if attempt.password_needed:
                return self._password_status(attempt)
            if not attempt.token_seen.is_set():
                # Telegram's expiry against Telegram's clock, not the host's.
                if attempt.telegram_now() > attempt.qr_expires:
                    return {"status": EXPIRED, "message": message("qr_expired", attempt.lang)}
                return {"status": WAITING}
            attempt.touched = time.monotonic()
            try:
                result = await self._export_token(attempt)
                if isinstance(result, raw.types.auth.LoginTokenMigrateTo):
                    result = await self._migrate(attempt, result)
            except tg.SessionPasswordNeeded:
                return await self._need_password(attempt)
            except (tg.RPCError, TimeoutError) as exc:
                return self._refused(attempt, exc, "auth.ExportLoginToken")
            if isinstance(result, raw.types.auth.LoginTokenSuccess):
                return await self._authorized(attempt)
            attempt.token_seen.clear()
            return {"status": WAITING}

    async def _export_token(self, attempt: Attempt) -> Any:
        client = attempt.client
        return await client.invoke(raw.functions.auth.ExportLoginToken(
            api_id=client.api_id, api_hash=client.api_hash, except_ids=[]))

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
        """Ask Telegram to send a login code to ``phone`` (typed as people type it)."""
        number = normalize_phone(phone)
        if number is None:
            return _error("phone_invalid", lang)
        async with self._lock(user_id):
            # Checked and counted in one step each; a request refused by the second limit still
            # counts against the first (it was one).
            wait = await self.limits.take("code_user", str(user_id), *CODE_REQUESTS)
            if not wait:
                wait = await self.limits.take("code_phone", _phone_key(number),
                                              *CODE_REQUESTS_PER_PHONE)
            if wait:
                return _error("too_many", lang, wait=wait_words(wait, lang))
            attempt = await self._new_attempt(user_id, lang, "phone")
            if attempt is None:
                return _error("failed", lang)
            try:
                sent = await self._send_code(attempt.client, number)
            except (tg.RPCError, TimeoutError) as exc:
                await self._cancel(user_id)
                return self._refused(attempt, exc, "auth.SendCode")
            if isinstance(sent, raw.types.auth.SentCodeSuccess):
                return await self._authorized(attempt)
            if not isinstance(sent, raw.types.auth.SentCode):  # e.g. payment required
                await self._cancel(user_id)
                return _error("code_unavailable", lang)
            kind, words = CODE_TYPES.get(type(sent.type), ("app", False))
            if kind == "app" and type(sent.type) is not raw.types.auth.SentCodeTypeApp:
                # SentCodeTypeSetUpEmailRequired, or a type newer than this code knows
                await self._cancel(user_id)
                key = ("code_setup_email" if isinstance(
                    sent.type, raw.types.auth.SentCodeTypeSetUpEmailRequired)
                    else "code_unavailable")
                return _error(key, lang)
            attempt.phone, attempt.phone_code_hash = number, sent.phone_code_hash
            attempt.code_is_words = words
        return {"status": WAITING, "code_type": kind, "code_words": words,
                "code_length": int(getattr(sent.type, "length", 0) or 0),
                "message": code_sent_words(sent.type, number, lang)}

    async def _send_code(self, client: Client, phone: str) -> Any:
        """``auth.sendCode`` itself: kurigram's send_code cannot read ``auth.sentCodeSuccess``
        and hides which words Telegram sent. Follows PHONE_MIGRATE as kurigram does."""
        while True:
            try:
                return await client.invoke(raw.functions.auth.SendCode(
                    phone_number=phone.lstrip("+"), api_id=client.api_id,
                    api_hash=client.api_hash, settings=raw.types.CodeSettings()))
            except (tg.PhoneMigrate, tg.NetworkMigrate) as exc:
                dc_id = int(getattr(exc, "dc_id", None) or exc.value)
                option = await client.get_dc_option(dc_id, ipv6=client.ipv6)
                await client.session.stop()
                client.session = await client.get_session(
                    dc_id=dc_id, server_address=option.ip_address, port=option.port,
                    export_authorization=False, temporary=True)
                await client.storage.dc_id(dc_id)
                await client.storage.server_address(option.ip_address)
                await client.storage.port(option.port)
                await client.storage.auth_key(client.session.auth_key)

    async def phone_code(self, user_id: int, code: str,
                         lang: str | None = None) -> dict[str, Any]:
        """Sign in with the code Telegram sent (digits, or words for SMS word/phrase codes)."""
        async with self._lock(user_id):
            attempt = self._attempts.get(user_id)
            if attempt is None or attempt.method != "phone" or not attempt.phone_code_hash:
                return _error("no_attempt", _lang_of(attempt, lang))
            lang = attempt.lang
            if attempt.code_is_words:
                code = " ".join(code.split())
            else:
                code = "".join(ch for ch in code if ch.isdigit())
            if not code:
                return _error("code_invalid", lang)
            refused = await self._take_guess(attempt)
            if refused:
                return refused
            attempt.touched = time.monotonic()
            try:
                signed = await attempt.client.invoke(raw.functions.auth.SignIn(
                    phone_number=attempt.phone.lstrip("+"),
                    phone_code_hash=attempt.phone_code_hash, phone_code=code))
            except tg.SessionPasswordNeeded:
                return await self._need_password(attempt)
            except (tg.PhoneCodeInvalid, tg.PhoneCodeEmpty):
                return _error("code_invalid", lang)
            except tg.PhoneCodeExpired:
                return {"status": EXPIRED, "message": message("code_expired", lang)}
            except (tg.RPCError, TimeoutError) as exc:
                return self._refused(attempt, exc, "auth.SignIn")
            if not isinstance(signed, raw.types.auth.Authorization):
                await self._cancel(user_id)  # sign-up required: no account with this number
                return _error("phone_unknown", lang)
            return await self._authorized(attempt)

    async def _take_guess(self, attempt: Attempt) -> dict[str, Any] | None:
        """Count one guess; the answer when there were too many, else None."""
        wait = await self.limits.take("guess_user", str(attempt.user_id), *GUESSES)
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

    async def password(self, user_id: int, password: str,
                       lang: str | None = None) -> dict[str, Any]:
        """Finish a login that needs the cloud password (SRP; the password never leaves)."""
        async with self._lock(user_id):
            attempt = self._attempts.get(user_id)
            if attempt is None or not attempt.password_needed:
                return _error("no_attempt", _lang_of(attempt, lang))
            lang = attempt.lang
            refused = await self._take_guess(attempt)
            if refused:
                return refused
            attempt.touched = time.monotonic()
            try:
                await attempt.client.check_password(password)
            except tg.PasswordHashInvalid:
                return _error("password_invalid", lang)
            except (tg.RPCError, TimeoutError) as exc:
                return self._refused(attempt, exc, "auth.CheckPassword")
            return await self._authorized(attempt)

    # -- life of an attempt ---------------------------------------------------------------

    async def _new_attempt(self, user_id: int, lang: str, method: str) -> Attempt | None:
        """Cancel the user's attempt and start another (the caller holds the user's lock);
        None once the service is stopping."""
        await self._cancel(user_id)
        if self._stopped:
            return None
        client = self.telegram.user_client(f"login{user_id}")
        attempt = Attempt(user_id=user_id, lang=lang, client=client, method=method)

        async def on_token(_client: Client, update: Any, _users: Any, _chats: Any) -> None:
            if isinstance(update, raw.types.UpdateLoginToken):
                attempt.token_seen.set()

        client.add_handler(handlers.RawUpdateHandler(on_token))
        self._attempts[user_id] = attempt  # before connecting: stop_all sees it
        try:
            await client.connect()
            await client.dispatcher.start()
        except BaseException:
            await self._cancel(user_id)
            raise
        if attempt.closed:  # cancelled or stopped while connecting: leave nothing connected
            await _close(client)
            return None
        return attempt

    async def _authorized(self, attempt: Attempt) -> dict[str, Any]:
        client, lang = attempt.client, attempt.lang
        try:
            me = await client.get_me()
        except (tg.RPCError, TimeoutError) as exc:  # signed in, but unknown: start again
            with contextlib.suppress(Exception):
                await client.invoke(raw.functions.auth.LogOut())
            await self._cancel(attempt.user_id)
            return self._refused(attempt, exc, "users.GetFullUser")
        if me.id != attempt.user_id and not self.allow_other_account:
            # Someone else's account (a QR shown to the wrong person is classic phishing): its
            # new session must not stay alive anywhere.
            log.warning("login of %s refused: Telegram account %s logged in instead",
                        attempt.user_id, me.id)
            with contextlib.suppress(Exception):
                await client.invoke(raw.functions.auth.LogOut())
            await self._cancel(attempt.user_id)
            return _error("other_account", lang)
        await client.storage.user_id(me.id)
        await client.storage.is_bot(False)
        session = await client.export_session_string()
        previous = self.vault.load(attempt.user_id)
        self.vault.save(attempt.user_id, session)
        del session
        await self._cancel(attempt.user_id)
        if previous:
            await self._log_out_previous(attempt.user_id, previous)
        log.info("contractor %s connected a Telegram account", attempt.user_id)
        if self.on_authorized is not None:
            try:
                await self.on_authorized(attempt.user_id, me.first_name or "")
            except tg.RPCError as exc:
                # The session is saved and works; only the bot's message did not go (a user
                # the bot cannot write to yet: PEER_ID_INVALID). The chat picks it up on /start.
                log.warning("contractor %s connected, but the bot could not tell them: %s",
                            attempt.user_id, refusals.error_id(exc))
                return {"status": AUTHORIZED, "message": message("authorized_write_bot", lang)}
        return {"status": AUTHORIZED, "message": message("authorized", lang)}

    async def _log_out_previous(self, user_id: int, session: str) -> None:
        """A reconnect: end the session it replaces at Telegram (best effort)."""
        if self.user_clients is not None:
            with contextlib.suppress(Exception):
                await self.user_clients.forget(user_id)
        client = self.telegram.user_client(f"old{user_id}", session)
        try:
            await client.connect()
            await client.invoke(raw.functions.auth.LogOut())
        except (tg.RPCError, OSError, TimeoutError) as exc:
            log.warning("could not log out the previous session of %s: %s", user_id,
                        refusals.error_id(exc))
        finally:
            await _close(client)

    def _refused(self, attempt: Attempt, exc: Exception, method: str) -> dict[str, Any]:
        """Telegram refused: a sentence for the page, never a 500."""
        lang = attempt.lang
        if isinstance(exc, tg.FloodWait):
            return _error("flood", lang, wait=wait_words(int(exc.value or 0), lang))
        if refusals.error_id(exc) == "SEND_CODE_UNAVAILABLE":
            return _error("code_unavailable", lang)
        log.info("login of %s: Telegram refused %s with %s", attempt.user_id, method,
                 refusals.error_id(exc))
        if refusals.kind_of(exc, method) == "group:telegram_trouble":
            # a 500 (AUTH_RESTART among them, hidden by kurigram's retries): nothing retries
            # a login by itself, the person starts it again
            return {"status": ERROR, "message": refusals.text_for("specific:login_restart",
                                                                   lang)}
        return {"status": ERROR, "message": refusals.explain(exc, lang, method)}

    async def cancel(self, user_id: int) -> None:
        """Drop the user's attempt, if any, and stop its client."""
        async with self._lock(user_id):
            await self._cancel(user_id)

    async def _cancel(self, user_id: int) -> None:
        attempt = self._attempts.pop(user_id, None)
        if attempt is not None:
            attempt.closed = True
            await _close(attempt.client)

    async def sweep(self) -> None:
        """Expire attempts idle for longer than ATTEMPT_TTL; forget what no limit needs."""
        now = time.monotonic()
        for user_id, attempt in list(self._attempts.items()):
            if now - attempt.touched > ATTEMPT_TTL and not self._lock(user_id).locked():
                await self.cancel(user_id)
        for user_id, lock in list(self._locks.items()):
            if user_id not in self._attempts and not lock.locked():
                del self._locks[user_id]
        await self.limits.prune()

    async def stop_all(self) -> None:
        """Stop every attempt's client (shutdown); no attempt starts after this."""
        self._stopped = True
        for user_id in list(self._attempts):
            await self._cancel(user_id)

    def in_flight(self) -> list[int]:
        """Users with a login in progress."""
        return list(self._attempts)


def code_sent_words(sent_type: Any, phone: str, lang: str) -> str:
    """Where Telegram sent the code, in words (from the ``auth.SentCodeType*`` it answered)."""
    kind, _ = CODE_TYPES.get(type(sent_type), ("app", False))
    params: dict[str, object] = {"phone": phone, "length": getattr(sent_type, "length", "") or ""}
    if kind == "missed_call":
        params["prefix"] = sent_type.prefix
    elif kind == "email":
        params["email"] = sent_type.email_pattern
    elif kind == "fragment":
        params["url"] = sent_type.url
    elif kind in ("sms_word", "sms_phrase"):
        beginning = getattr(sent_type, "beginning", None)
        params["beginning"] = message("code_beginning", lang, beginning=beginning) \
            if beginning else ""
    return message(f"code_{kind}", lang, **params)


def _lang_of(attempt: Attempt | None, lang: str | None) -> str:
    return attempt.lang if attempt is not None else (lang or EN)


def _error(key: str, lang: str, **params: object) -> dict[str, Any]:
    return {"status": ERROR, "message": message(key, lang, **params)}


async def _close(client: Client) -> None:
    with contextlib.suppress(Exception):
        await client.dispatcher.stop()
    with contextlib.suppress(Exception):
        await client.disconnect()
