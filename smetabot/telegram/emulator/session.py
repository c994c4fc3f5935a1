"""The hook into pyrogram: a session object that talks to the emulator instead of a socket.

``attach(client, emulator)`` replaces two methods on one ``pyrogram.Client`` instance:

- ``load_session``: a new authorization gets an auth key from the emulator instead of a
  Diffie-Hellman exchange with Telegram's servers (which needs the network);
- ``get_session``: every session the client asks for — the main one, and the media
  sessions uploads and downloads go through (``client.media_sessions[dc_id]``) — is an
  ``EmulatorSession``.

Everything else is pyrogram's own code: it builds and serializes every request, parses
every answer and raises RPC errors through ``RPCError.raise_it``; updates reach it through
``client.handle_updates``, as they do from a real session.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import pyrogram
from pyrogram import raw
from pyrogram.raw.core import TLObject
from pyrogram.session import Session

from .state import DC_ID
from .wire import TelegramError, raise_as_pyrogram, read_query, roundtrip, unwrap

if TYPE_CHECKING:
    from .server import Server as Emulator

log = logging.getLogger(__name__)

SERVER_ADDRESS = "emulator.invalid"  # never resolved: nothing here opens a socket


class EmulatorSession:
    """Stands where ``pyrogram.session.Session`` stands; answers from the emulator."""

    def __init__(self, emulator: Emulator, client: pyrogram.Client, dc_id: int,
                 auth_key: bytes, is_media: bool = False) -> None:
        self.emulator = emulator
        self.client = client
        self.dc_id = dc_id
        self.auth_key = auth_key
        self.is_media = is_media
        self.is_cdn = False
        self.test_mode = False
        self.server_address = SERVER_ADDRESS
        self.port = 443
        self.is_started = asyncio.Event()
        self.cut = False  # Server.disconnect: the network between client and server is down
        self.last_call = 0  # when it last called the server (Server._connected)
        self._update_tasks: set[asyncio.Task] = set()

    @property
    def account_id(self) -> int | None:
        """The account this session's auth key is signed in as, if any."""
        return self.emulator.user_of_key(self.auth_key)

    async def start(self) -> None:
        self.is_started.set()
        self.emulator._session_started(self)
        # A started session tells the client's ConnectHandler, each (re)start
        # (pyrogram/session/session.py, Session.start).
        if callable(self.client.connect_handler):
            try:
                await self.client.connect_handler(self.client, self)
            except Exception:
                log.exception("%s: the connect handler failed", self.client.name)

    async def stop(self) -> None:
        self.emulator._session_stopped(self)
        self.is_started.clear()
        while self._update_tasks:
            await asyncio.gather(*list(self._update_tasks), return_exceptions=True)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    # The client side of a call is kurigram's own: Session.invoke sleeps out FLOOD_WAITs up to
    # sleep_threshold, retries 500s (RANDOM_ID_DUPLICATE among them) and OSErrors ``retries``
    # times ``retry_delay`` apart, then raises TimeoutError (pyrogram/session/session.py).
    WAIT_TIMEOUT = Session.WAIT_TIMEOUT
    SLEEP_THRESHOLD = Session.SLEEP_THRESHOLD
    MAX_RETRIES = Session.MAX_RETRIES
    RETRY_DELAY = getattr(Session, "RETRY_DELAY", 1)
    invoke = Session.invoke

    async def send(self, data: TLObject, wait_response: bool = True,
                   timeout: float | None = None) -> Any:
        """What ``Session.send`` does for ``invoke``: one request, one answer or RPC error."""
        return await self._call(data)

    async def _call(self, query: TLObject) -> Any:
        if not self.is_started.is_set():
            # What a real session's send does without a connection (an OSError, retried)
            raise ConnectionError("Session is not started")
        if self.cut:
            raise ConnectionResetError("Telegram emulator: connection cut (Emulator.disconnect)")
        received = read_query(query)  # the server reads bytes, never pyrogram's objects
        inner = unwrap(received)
        try:
            answer = await self.emulator.dispatch(self, inner)
        except TelegramError as error:
            failure = error
        else:
            failure = None
        self._sync_clock()
        if failure is not None:
            raise_as_pyrogram(failure, type(inner))
        if isinstance(answer, bool):
            return answer  # Bool results are plain Python booleans in pyrogram
        if isinstance(answer, list):
            return [roundtrip(item) if isinstance(item, TLObject) else item for item in answer]
        return roundtrip(answer)

    def _sync_clock(self) -> None:
        """Telegram's packets carry msg_ids made of its time, from which kurigram keeps its
        server time offset (pyrogram/session/session.py handle_packet → _set_server_time)."""
        self.client._set_server_time(int(self.emulator.time() * 2**32))

    def push(self, updates: TLObject) -> None:
        """Deliver an Updates object to the client, as a real session does for a push."""
        if not self.is_started.is_set() or self.is_media or self.cut:
            return
        task = asyncio.get_running_loop().create_task(
            self.client.handle_updates(roundtrip(updates))
        )
        self._update_tasks.add(task)
        task.add_done_callback(self._update_done)

    def _update_done(self, task: asyncio.Task) -> None:
        self._update_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed to handle an update", self.client.name,
                      exc_info=task.exception())

    def __str__(self) -> str:
        return f"EmulatorSession(dc_id={self.dc_id}, is_media={self.is_media})"


def attach(client: pyrogram.Client, emulator: Emulator) -> pyrogram.Client:
    """Connect an ordinary ``pyrogram.Client`` to ``emulator``; returns the client."""
    original_load_session = client.load_session

    async def load_session() -> None:
        storage = client.storage
        await storage.open()
        if await storage.auth_key() is not None and await storage.user_id() is not None:
            return await original_load_session()
        # A new authorization: what pyrogram's load_session does, minus the DH exchange.
        await storage.api_id(client.api_id or emulator.API_ID)
        await storage.dc_id(DC_ID)
        await storage.server_address(SERVER_ADDRESS)
        await storage.port(443)
        await storage.date(0)
        await storage.test_mode(False)
        await storage.auth_key(emulator.new_auth_key())
        await storage.user_id(None)
        await storage.is_bot(None)

    async def get_session(dc_id: int | None = None, is_media: bool = False,
                          is_cdn: bool = False, business_connection_id: str | None = None,
                          export_authorization: bool = True, *args: Any,
                          temporary: bool = False, **kwargs: Any) -> EmulatorSession:
        # kurigram's Client.get_session, with the emulator's keys instead of Auth().create()
        # (pyrogram/client.py): another DC gets its own auth key, and the account's
        # authorization is carried there with auth.exportAuthorization/importAuthorization.
        home = await client.storage.dc_id()
        dc_id = dc_id or home
        is_current_dc = dc_id == home
        if not temporary and is_current_dc and not is_media and client.session is not None:
            return client.session
        sessions = client.media_sessions if is_media else client.sessions
        if not temporary and sessions.get(dc_id):
            return sessions[dc_id]
        if is_media:
            auth_key = (await get_session(dc_id)).auth_key
        elif not is_current_dc:
            auth_key = emulator.new_auth_key(dc_id)
        else:
            auth_key = await client.storage.auth_key()
        session = EmulatorSession(emulator, client, dc_id, auth_key, is_media=is_media)
        if not temporary:
            sessions[dc_id] = session
        await session.start()
        if not is_current_dc and not is_media and export_authorization:
            exported = await client.invoke(raw.functions.auth.ExportAuthorization(dc_id=dc_id))
            await session.invoke(raw.functions.auth.ImportAuthorization(
                id=exported.id, bytes=exported.bytes))
        return session

    if not client.api_id:
        client.api_id, client.api_hash = emulator.API_ID, emulator.API_HASH
    client.load_session = load_session
    client.get_session = get_session
    client.emulator = emulator
    return client
