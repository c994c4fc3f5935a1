"""Contractors' user clients: started on demand from the vault, shared, stopped when idle.

A contractor's account is driven by one pyrogram client at a time: two clients on one session
would fight over its update state. Requests of the same contractor share the client; it stops
after ``idle_seconds`` without use. A session Telegram has revoked is noticed on first use: the
file is removed, the contractor marked, and :class:`SessionRevoked` raised for the caller to
explain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pyrogram import Client
from pyrogram import errors as tg_errors

from smetabot.channel_records import ClientChannel
from smetabot.contractors import Contractors
from smetabot.errors import NotConnected, SessionRevoked
from smetabot.telegram.connect import Telegram
from smetabot.vault import Vault

log = logging.getLogger(__name__)

# What Telegram answers on a session that no longer exists.
REVOKED = (tg_errors.AuthKeyUnregistered, tg_errors.SessionRevoked, tg_errors.SessionExpired,
           tg_errors.UserDeactivated, tg_errors.UserDeactivatedBan, tg_errors.AuthKeyInvalid)


@dataclass
class _Entry:
    client: Client | None = None
    users: int = 0
    last_used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class UserClients:
    """The pool of running user clients, one per contractor at most."""

    def __init__(self, telegram: Telegram, vault: Vault, contractors: Contractors,
                 idle_seconds: float = 300.0) -> None:
        self.telegram = telegram
        self.vault = vault
        self.contractors = contractors
        self.idle_seconds = idle_seconds
        self._entries: dict[int, _Entry] = {}

    @contextlib.asynccontextmanager
    async def use(self, contractor_id: int) -> AsyncIterator[Client]:
        """The contractor's running client for the duration of the block."""
        entry = self._entries.setdefault(contractor_id, _Entry())
        async with entry.lock:
            if entry.client is None:
                entry.client = await self._start(contractor_id)
            entry.users += 1
        try:
            yield entry.client
        except REVOKED as exc:
            await self.revoked(contractor_id)
            raise SessionRevoked() from exc
        finally:
            entry.users -= 1
            entry.last_used = time.monotonic()

    @contextlib.asynccontextmanager
    async def admin_of(self, channel: ClientChannel, bot: Client) -> AsyncIterator[Client]:
        """Who acts as the channel's admin: the bot once it is one; until then (a freshly
        connected account may not appoint admins, FRESH_CHANGE_ADMINS_FORBIDDEN, for up to a
        day) the contractor's own account, which owns the channel."""
        if channel.bot_is_admin:
            yield bot
            return
        async with self.use(channel.contractor_id) as client:
            if channel.access_hash is not None:  # user clients keep peers in memory only
                await client.storage.update_peers(
                    [(channel.telegram_id, channel.access_hash, "channel", None)])
            yield client

    async def _start(self, contractor_id: int) -> Client:
        session = self.vault.load(contractor_id)
        if session is None:
            raise NotConnected()
        client = self.telegram.user_client(f"user{contractor_id}", session)
        try:
            await client.start()
        except REVOKED as exc:
            with contextlib.suppress(Exception):
                await client.stop()
            await self.revoked(contractor_id)
            raise SessionRevoked() from exc
        return client

    async def revoked(self, contractor_id: int) -> None:
        """Forget a session Telegram no longer honours."""
        log.info("session of contractor %s was revoked by Telegram", contractor_id)
        await self.forget(contractor_id)
        self.vault.delete(contractor_id)
        await self.contractors.set_session_state(contractor_id, "revoked")

    async def forget(self, contractor_id: int) -> None:
        """Stop the contractor's client, if running."""
        entry = self._entries.pop(contractor_id, None)
        if entry is not None and entry.client is not None:
            with contextlib.suppress(Exception):
                await entry.client.stop()

    async def sweep(self) -> None:
        """Stop clients idle for longer than ``idle_seconds``."""
        now = time.monotonic()
        for contractor_id, entry in list(self._entries.items()):
            if entry.users == 0 and not entry.lock.locked() and \
                    now - entry.last_used > self.idle_seconds:
                await self.forget(contractor_id)

    async def stop_all(self) -> None:
        """Stop every client (shutdown)."""
        for contractor_id in list(self._entries):
            await self.forget(contractor_id)

    def running(self) -> list[int]:
        """Contractors whose client is running."""
        return [cid for cid, entry in self._entries.items() if entry.client is not None]
