"""The emulated Telegram server: its state, the dispatch of calls, and update delivery."""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyrogram
from pyrogram import raw

from . import tl
from .files import image_size, process_photo
from .session import EmulatorSession, attach
from .srp import make_verifier
from .state import (
    DC_ID,
    DC_IDS,
    Account,
    AuthKey,
    Channel,
    ExportedAuth,
    LoginToken,
    Msg,
    Password,
    SrpChallenge,
    StoredFile,
    new_access_hash,
)
from .wire import HANDLERS, NO_AUTH, TelegramError, bad_request, method_name

log = logging.getLogger(__name__)

UNSET: Any = object()
FIRST_USER_ID = 5_000_000_000
USER_DCS = (2, 4, 1)  # where new sandbox users live, in turn
FIRST_CHANNEL_ID = 2_147_483_649


@dataclass
class Limits:
    """Telegram's limits; tests may lower them to reach them quickly."""

    message_length: int = 4096
    caption_length: int = 1024
    callback_data: int = 64
    album_size: int = 10
    channels_per_user: int = 500
    photo_max_bytes: int = 10 * 1024 * 1024
    file_max_bytes: int = 2000 * 1024 * 1024
    login_token_seconds: int = 30
    login_code_seconds: int = 300


@dataclass
class Call:
    """One RPC call: who makes it, over which session."""

    emu: Server
    session: EmulatorSession
    key: AuthKey
    me: Account | None


_READS = ("Get", "Check", "Resolve", "Search", "Export", "SaveFilePart", "SaveBigFilePart")


def _reads_only(name: str) -> bool:
    """Calls that change nothing worth keeping (file parts are kept once the file is whole)."""
    return name.rpartition(".")[2].startswith(_READS)


def text_length(text: str) -> int:
    """Length as Telegram counts it, in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class Server:
    """The emulated Telegram server: state, dispatch, delivery (people act in ``people.py``)."""

    API_ID = 2040
    API_HASH = "b18441a1ff607e10a989891a5462e627"

    def __init__(self, *, callback_timeout: float = 10.0, latency: float = 0.0,
                 uplink_bytes_per_s: float | None = None, clock_skew: float = 0.0,
                 fake_clock: bool = False) -> None:
        """``latency``: seconds added to every call; ``uplink_bytes_per_s``: upload throughput
        shared by every file part in flight (None: unlimited); ``clock_skew``: how far
        Telegram's clock is ahead of the host's; ``fake_clock``: ``sleep`` jumps the clock
        forward instead of waiting, so waiting out a 3,000 s flood wait takes no time (the
        clock still runs with the host's, so kurigram's own short sleeps work as usual)."""
        self.limits = Limits()
        self.callback_timeout = callback_timeout
        self.latency = latency
        self.uplink_bytes_per_s = uplink_bytes_per_s
        self.clock_skew = clock_skew
        self.fake_clock = fake_clock
        self._uplink_free_at = 0.0
        #: (account id, method) -> when its flood wait ends (emulator clock)
        self.flood_until: dict[tuple[int, str], float] = {}
        self.accounts: dict[int, Account] = {}
        self.channels_by_id: dict[int, Channel] = {}
        self.files: dict[int, StoredFile] = {}
        self.auth_keys: dict[bytes, AuthKey] = {}
        self.login_tokens: dict[bytes, LoginToken] = {}
        self.srp_challenges: dict[int, SrpChallenge] = {}
        self.exported_auths: dict[bytes, ExportedAuth] = {}
        self.dropped_thumbs: list[int] = []  # documents whose thumbnail broke the rules
        self.setup_email_hashes: set[str] = set()  # sendCode answered "set up e-mail first"
        self.uploads: dict[tuple[bytes, int], dict[int, bytes]] = {}
        self.sessions: set[EmulatorSession] = set()
        self.callback_waiters: dict[int, tuple[int, asyncio.Future]] = {}
        self.injected: dict[str, list[TelegramError]] = {}
        self._restarts: set[asyncio.Task] = set()  # sessions starting again (reconnect)
        self.calls: list[str] = []  # every function called, in order
        self._calls_made = 0  # orders sessions by their last call (``_connected``)
        self.refused: list[str] = []  # functions refused as not implemented
        self._clock_offset = 0.0
        # User ids are above 2^32 now and new channel ids above 2^31 (bot API -100 + 10 digits)
        # https://core.telegram.org/api/bots/ids
        self._next_user_id = FIRST_USER_ID
        self._next_channel_id = FIRST_CHANNEL_ID
        self._changed = asyncio.Event()
        #: keeps the state on disk when set (a ``persist.Snapshot``)
        self.persist: Any = None

    # -- clock, keys, accounts ------------------------------------------------------------

    def time(self) -> float:
        """Telegram's clock: the host's (or a fake one) plus the skew and any advance."""
        return time.time() + self.clock_skew + self._clock_offset

    def now(self) -> int:
        """The emulator's clock (unix seconds), used wherever Telegram answers with its time
        (dates, config, update states, token expiries); ``advance_time`` moves it."""
        return int(self.time())

    def advance_time(self, seconds: float) -> None:
        """Move the clock forward, e.g. to expire a QR login token."""
        self._clock_offset += seconds

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of the emulator's time: at once with a fake clock (which jumps
        forward), else for real. A sandboxed product can wait out flood waits with it."""
        if self.fake_clock:
            self.advance_time(seconds)
            self._changed.set()
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(seconds)

    async def uplink(self, size: int) -> None:
        """Hold a file part until the shared uplink has carried its ``size`` bytes."""
        rate = self.uplink_bytes_per_s
        if not rate:
            return
        loop = asyncio.get_running_loop()
        start = max(loop.time(), self._uplink_free_at)
        self._uplink_free_at = start + size / rate
        await asyncio.sleep(self._uplink_free_at - loop.time())

    def new_auth_key(self, dc_id: int = DC_ID) -> bytes:
        """A fresh, not yet signed-in authorization on ``dc_id`` (each DC has its own keys)."""
        if dc_id not in DC_IDS:
            raise ValueError(f"no DC{dc_id}")
        key = os.urandom(256)
        self.auth_keys[key] = AuthKey(key=key, created=self.now(), dc_id=dc_id)
        return key

    def user_of_key(self, key: bytes) -> int | None:
        auth = self.auth_keys.get(key)
        return auth.user_id if auth else None

    def attach(self, client: pyrogram.Client) -> pyrogram.Client:
        """Connect an ordinary ``pyrogram.Client`` to this emulator; returns it."""
        return attach(client, self)

    def create_bot(self, username: str = "smetabot", first_name: str = "SmetaBot") -> str:
        """Register a bot as @BotFather would; returns its token."""
        bot = self._new_account(first_name=first_name, username=username, is_bot=True)
        bot.bot_token = f"{bot.id}:{secrets.token_urlsafe(26)[:35]}"
        return bot.bot_token

    def create_user(self, first_name: str, username: str | None = None,
                    language_code: str | None = None, phone: str | None = None,
                    password: str | None = None, last_name: str | None = None,
                    dc_id: int | None = None) -> int:
        """Register a Telegram user; ``password`` turns on 2FA; ``dc_id`` is their home DC
        (by default users are spread over DC2, DC4 and DC1, as real accounts are). Returns
        the user id."""
        if dc_id is None:
            dc_id = USER_DCS[sum(1 for a in self.accounts.values() if not a.is_bot) % 3]
        if dc_id not in DC_IDS:
            raise bad_request("DC_ID_INVALID")
        if username and self.find_username(username):
            raise bad_request("USERNAME_OCCUPIED")
        if phone and self.find_phone(phone):
            raise bad_request("PHONE_NUMBER_OCCUPIED")
        user = self._new_account(first_name=first_name, username=username, dc_id=dc_id,
                                 lang_code=language_code, last_name=last_name,
                                 phone="".join(c for c in phone if c.isdigit()) if phone else None)
        if password:
            user.password = Password(*make_verifier(password), hint="")
        return user.id

    def _new_account(self, **fields: Any) -> Account:
        account = Account(id=self._next_user_id, access_hash=new_access_hash(), **fields)
        self._next_user_id += 1
        self.accounts[account.id] = account
        return account

    @property
    def bot(self) -> Account:
        """The first bot created (SmetaBot's own)."""
        return next(a for a in self.accounts.values() if a.is_bot)

    def account(self, user_id: int) -> Account:
        try:
            return self.accounts[user_id]
        except KeyError:
            raise bad_request("USER_ID_INVALID") from None

    def find_username(self, username: str) -> Account | None:
        name = username.lstrip("@").lower()
        return next((a for a in self.accounts.values()
                     if a.username and a.username.lower() == name), None)

    def find_phone(self, phone: str) -> Account | None:
        digits = "".join(c for c in phone if c.isdigit())
        return next((a for a in self.accounts.values() if a.phone == digits), None)

    def channel_by_id(self, channel_id: int) -> Channel:
        try:
            return self.channels_by_id[channel_id]
        except KeyError:
            raise bad_request("CHANNEL_INVALID") from None

    # -- fault injection ------------------------------------------------------------------

    def inject_error(self, method: str, code: int, message: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` (e.g. "messages.SendMessage") fail."""
        target: Any = raw.functions
        for part in method.split("."):
            target = getattr(target, part, None)
        if not isinstance(target, type) or not hasattr(target, "QUALNAME"):
            raise ValueError(f"{method!r} is not a Telegram function (e.g. messages.SendMedia)")
        if not 300 <= code < 600 and code not in (-503,) or times < 1:
            raise ValueError("code must be Telegram's (303..599) and times at least 1")
        if not message or not message.replace("_", "").isalnum() or not message.isupper():
            raise ValueError("error must be Telegram's upper-case name, e.g. MEDIA_EMPTY")
        self.injected.setdefault(method, []).extend([TelegramError(code, message)] * times)

    def inject_flood_wait(self, method: str, seconds: int, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail with FLOOD_WAIT_<seconds>; the
        caller stays refused (with the seconds left) until the emulator's clock passes it."""
        self.inject_error(method, 420, f"FLOOD_WAIT_{seconds}", times)

    def _flood_check(self, account_id: int | None, name: str) -> None:
        # A call during a flood wait is refused with the seconds still to wait
        # (https://core.telegram.org/api/errors#420-flood)
        until = self.flood_until.get((account_id, name))
        if until is None:
            return
        left = math.ceil(until - self.time())
        if left > 0:
            raise TelegramError(420, f"FLOOD_WAIT_{left}")
        del self.flood_until[(account_id, name)]

    # -- dispatch -------------------------------------------------------------------------

    async def dispatch(self, session: EmulatorSession, query: Any) -> Any:
        """Answer one Telegram function call coming from ``session``."""
        name = method_name(query)
        self.calls.append(name)
        if self.latency:
            await asyncio.sleep(self.latency)
        self._calls_made += 1
        session.last_call = self._calls_made
        account_id = self.user_of_key(session.auth_key)
        self._flood_check(account_id, name)
        injected = self.injected.get(name)
        if injected:
            error = injected.pop(0)
            if error.code == 420 and error.message.startswith("FLOOD_WAIT_"):
                seconds = int(error.message.rpartition("_")[2])
                self.flood_until[(account_id, name)] = self.time() + seconds
            raise error
        func = HANDLERS.get(name)
        if func is None:
            self.refuse(name)
        key = self.auth_keys.get(session.auth_key)
        if key is None or key.dc_id != session.dc_id:
            # an auth key is known only to the DC it was made with
            # (https://core.telegram.org/api/datacenter)
            raise TelegramError(401, "AUTH_KEY_UNREGISTERED")
        me = self.accounts.get(key.user_id) if key.user_id else None
        if me is None and name not in NO_AUTH:
            raise TelegramError(401, "AUTH_KEY_UNREGISTERED")
        result = func(Call(self, session, key, me), query)
        if inspect.isawaitable(result):
            result = await result
        if self.persist is not None and not _reads_only(name):
            self.persist.changed()
            await self.persist.flush()  # durable before the answer leaves, as Telegram's is
        return result

    def refuse(self, what: str):
        """Refuse loudly something the emulator does not do (never ignore it silently)."""
        self.refused.append(what)
        log.error("Telegram emulator: %s is not implemented; refusing it", what)
        raise bad_request("METHOD_NOT_IMPLEMENTED_IN_EMULATOR")

    def expire_codes_in(self, user: Account, text: str) -> None:
        """Telegram cancels a login code its owner sends in a message (anti-phishing)."""
        for code in user.login_codes:
            if code.code in text:
                code.used = True

    def _session_started(self, session: EmulatorSession) -> None:
        self.sessions.add(session)

    def _session_stopped(self, session: EmulatorSession) -> None:
        self.sessions.discard(session)

    # -- update delivery ------------------------------------------------------------------

    def updates(self, viewer_id: int, updates: list[Any], users: list[int] = (),
                chats: list[int] = ()) -> raw.types.Updates:
        """An Updates object for ``viewer_id``, with the users and chats it mentions."""
        return raw.types.Updates(
            updates=updates,
            users=[tl.user(viewer_id, self.accounts[u]) for u in dict.fromkeys(users)],
            chats=[tl.channel(viewer_id, self.channels_by_id[c]) for c in dict.fromkeys(chats)],
            date=self.now(),
            seq=0,
        )

    def push(self, account_id: int, updates: list[Any], users: list[int] = (),
             chats: list[int] = (), exclude: EmulatorSession | None = None) -> None:
        """Deliver updates to the sessions of ``account_id`` that get them (``_connected``)
        but ``exclude``."""
        targets = [s for s in self._connected(account_id) if s is not exclude]
        if targets:
            packed = self.updates(account_id, updates, users, chats)
            for session in targets:
                session.push(packed)

    def push_qts(self, account: Account, make: Callable[[int], Any], users: list[int] = (),
                 chats: list[int] = ()) -> Any:
        """Queue an update in a bot's qts sequence (chat_member, callback queries) and deliver
        it; a session that was away gets it from updates.getDifference
        (https://core.telegram.org/api/updates#update-sequences)."""
        account.box.qts += 1
        qts = account.box.qts
        update = make(qts)
        account.box.qts_log.append((qts, update, list(users), list(chats)))
        for session in self._connected(account.id):
            key = self.auth_keys.get(session.auth_key)
            if key is not None:
                key.delivered_qts = max(key.delivered_qts, qts)
        self.push(account.id, [update], users, chats)
        return update

    def log_channel(self, ch: Channel, update: Any) -> None:
        """Remember a channel's update by its pts, for updates.getChannelDifference."""
        ch.log.append((ch.pts, update))

    def _connected(self, account_id: int) -> list[EmulatorSession]:
        """The sessions that get ``account_id``'s updates: one per authorization (its last
        active connection), on the account's home DC only — not media sessions, nor the
        authorizations a client exports to other DCs to reach files there."""
        # https://core.telegram.org/api/updates#subscribing-to-updates ("last active connection")
        home = self.accounts[account_id].dc_id if account_id in self.accounts else None
        latest: dict[bytes, EmulatorSession] = {}
        for s in self.sessions:
            if s.is_media or s.cut or s.dc_id != home or s.account_id != account_id:
                continue
            held = latest.get(s.auth_key)
            if held is None or s.last_call > held.last_call:
                latest[s.auth_key] = s
        return list(latest.values())

    def disconnect(self, client: pyrogram.Client) -> None:
        """Cut ``client``'s connection: its calls fail as a dropped network does (OSError,
        which kurigram retries) and updates pushed meanwhile never reach it."""
        for session in self._sessions_of(client):
            session.cut = True

    def reconnect(self, client: pyrogram.Client) -> None:
        """Restore ``client``'s connection. Its sessions start again, as kurigram's do once
        their pings fail (Session.ping_worker → restart → start, which calls the client's
        ConnectHandler: pyrogram/session/session.py). Updates it missed are not resent: the
        client catches up with updates.getDifference (kurigram: recover_gaps)."""
        loop = asyncio.get_running_loop()
        for session in self._sessions_of(client):
            session.cut = False
            task = loop.create_task(session.restart(), name=f"restart {client.name}")
            self._restarts.add(task)
            task.add_done_callback(self._restarts.discard)

    def _sessions_of(self, client: pyrogram.Client) -> list[EmulatorSession]:
        sessions = [s for s in self.sessions if s.client is client]
        if not sessions:
            raise ValueError("that client has no session on this emulator")
        return sessions

    def push_to_key(self, key: bytes, update: Any) -> None:
        """Deliver an UpdateShort to the sessions of one auth key (e.g. UpdateLoginToken)."""
        for session in list(self.sessions):
            if session.auth_key == key and not session.is_media:
                session.push(raw.types.UpdateShort(update=update, date=self.now()))

    def log_update(self, account: Account, make: Callable[[int], Any]) -> Any:
        """Give the next pts of ``account``'s box to an update, and remember it."""
        account.box.pts += 1
        update = make(account.box.pts)
        account.box.log.append((account.box.pts, update))
        return update

    def notify(self) -> None:
        """Wake everyone waiting in ``wait_until`` (and save the state, when kept on disk)."""
        if self.persist is not None:
            self.persist.changed()
        self._changed.set()
        self._changed = asyncio.Event()

    async def settle(self) -> None:
        """Wait until every pushed update has been taken in by its client (peers stored,
        handlers queued) and the clients' dispatchers have picked them up."""
        for _ in range(100):
            tasks = [t for s in list(self.sessions) for t in s._update_tasks]
            queues = [s.client.dispatcher.updates_queue for s in list(self.sessions)]
            if not tasks and all(q.empty() for q in queues):
                return
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.sleep(0)
        raise TimeoutError("Telegram emulator: updates did not settle")

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``predicate()`` is truthy and return its value; TimeoutError if not.

        Re-checked on every change of the emulator's state, and every 50 ms.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"Telegram emulator: condition not met in {timeout} s")
            changed = self._changed
            try:
                # Also poll: a predicate may look at client-side state (a handler's list).
                await asyncio.wait_for(changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    # -- messages -------------------------------------------------------------------------

    def _box_message(self, owner: Account, **fields: Any) -> Msg:
        msg = Msg(id=owner.box.next_id, in_channel=False, date=self.now(), **fields)
        owner.box.next_id += 1
        owner.box.messages[msg.id] = msg
        return msg

    def post_private(self, sender: Account, recipient: Account, *,
                     exclude: EmulatorSession | None = None, recipient_action: Any = None,
                     **content: Any) -> tuple[Msg, Any]:
        """Put a message in both boxes of a private chat and deliver it to both sides.

        Returns the sender's copy and the sender's UpdateNewMessage.
        """
        mine = self._box_message(sender, peer=recipient.id, from_id=sender.id, out=True,
                                 **content)
        if recipient_action is not None:
            content = {**content, "action": recipient_action}
        theirs = self._box_message(recipient, peer=sender.id, from_id=sender.id, **content)
        mine.twin, theirs.twin = theirs, mine
        users = [sender.id, recipient.id]
        for owner, msg in ((recipient, theirs), (sender, mine)):
            update = self.log_update(owner, lambda pts, m=msg: raw.types.UpdateNewMessage(
                message=tl.message(m), pts=pts, pts_count=1))
            self.push(owner.id, [update], users, exclude=exclude)
        self.notify()
        return mine, update

    def post_channel(self, ch: Channel, sender: Account, *,
                     exclude: EmulatorSession | None = None, **content: Any) -> tuple[Msg, Any]:
        """Publish a post in a channel and deliver it to the members' sessions."""
        msg = Msg(id=ch.next_id, peer=ch.id, in_channel=True, from_id=sender.id,
                  date=self.now(), post=True, **content)
        ch.next_id += 1
        ch.messages[msg.id] = msg
        ch.pts += 1
        self.log_channel(ch, raw.types.UpdateNewChannelMessage(
            message=tl.message(msg), pts=ch.pts, pts_count=1))
        for member_id in list(ch.members):
            update = raw.types.UpdateNewChannelMessage(
                message=tl.message(msg, member_id), pts=ch.pts, pts_count=1)
            self.push(member_id, [update], [sender.id], [ch.id], exclude=exclude)
        self.notify()
        return msg, raw.types.UpdateNewChannelMessage(
            message=tl.message(msg, sender.id), pts=ch.pts, pts_count=1)

    def edit(self, holder: Account, msg: Msg, *, exclude: EmulatorSession | None = None,
             **changes: Any) -> Any:
        """Apply an edit to a message (both copies of a private one); returns holder's update."""
        date = self.now()
        copies = [msg] + ([msg.twin] if msg.twin else [])
        for copy in copies:
            for name, value in changes.items():
                setattr(copy, name, value)
            copy.edit_date = date
        result = None
        if msg.in_channel:
            ch = self.channels_by_id[msg.peer]
            ch.pts += 1
            self.log_channel(ch, raw.types.UpdateEditChannelMessage(
                message=tl.message(msg), pts=ch.pts, pts_count=1))
            for member_id in list(ch.members):
                update = raw.types.UpdateEditChannelMessage(
                    message=tl.message(msg, member_id), pts=ch.pts, pts_count=1)
                self.push(member_id, [update], [holder.id], [ch.id], exclude=exclude)
                if member_id == holder.id:
                    result = update
        else:
            for copy in copies:
                owner = holder if copy is msg else self.accounts[msg.peer]
                update = self.log_update(owner, lambda pts, c=copy: raw.types.UpdateEditMessage(
                    message=tl.message(c), pts=pts, pts_count=1))
                self.push(owner.id, [update], [holder.id, msg.peer], exclude=exclude)
                if copy is msg:
                    result = update
        self.notify()
        return result

    # -- files ----------------------------------------------------------------------------

    def store_file(self, kind: str, data: bytes, name: str, mime_type: str,
                   dc_id: int = DC_ID) -> StoredFile:
        """Keep a document, or a photo after Telegram-like recompression to JPEG."""
        width = height = 0
        if kind == "photo":
            data, width, height = process_photo(data, self.limits.photo_max_bytes)
            name, mime_type = "photo.jpg", "image/jpeg"
        elif len(data) > self.limits.file_max_bytes:
            raise bad_request("FILE_PARTS_INVALID")
        elif mime_type.startswith("image/"):
            width, height = image_size(data)
        file = StoredFile(id=secrets.randbits(62), access_hash=new_access_hash(), kind=kind,
                          data=data, name=name, mime_type=mime_type, date=self.now(),
                          width=width, height=height, dc_id=dc_id)
        self.files[file.id] = file
        return file
