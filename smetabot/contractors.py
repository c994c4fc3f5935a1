"""Contractors: the people who use the bot to share documents with their clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smetabot.db import Database

WATERMARK_LIMIT = 64
#: a row ``k`` of core_contractors that is only a client: never connected, owns no channel, and
#: is a member of someone's channel
CLIENT_ONLY = (
    "k.session_state = 'none' "
    "AND NOT EXISTS (SELECT 1 FROM core_channels c WHERE c.contractor_id = k.id) "
    "AND EXISTS (SELECT 1 FROM core_channel_members m WHERE m.telegram_user_id = k.id "
    "AND m.left_at IS NULL)")


async def claim_message(tx: Any, user_id: int, message_id: int, date: int) -> bool:
    """``Contractors.claim_message`` inside the caller's transaction ``tx``."""
    cursor = await tx.execute(
        "UPDATE core_contractors SET last_message_id = ?, last_message_date = ? "
        "WHERE id = ? AND (last_message_id < ? OR last_message_date < ?)",
        (message_id, date, user_id, message_id, date))
    return cursor.rowcount > 0


@dataclass(frozen=True)
class Contractor:
    """A row of ``core_contractors``."""

    id: int
    first_name: str
    username: str | None
    language: str
    default_watermark: str | None
    session_state: str

    @property
    def watermark(self) -> str:
        """The watermark to use when the contractor has not set one: their name."""
        return self.default_watermark or self.first_name or (self.username or "")


class Contractors:
    """Reading and changing contractor rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def touch(self, user_id: int, first_name: str, username: str | None,
                    language: str) -> Contractor:
        """Create the contractor on first contact; keep name and language current."""
        found = await self.get(user_id)
        if found is not None and (found.first_name, found.username, found.language) == (
                first_name or "", username, language):
            return found  # the common case: no write, no wait for the writer
        await self.db.execute(
            "INSERT INTO core_contractors (id, first_name, username, language) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "first_name = excluded.first_name, username = excluded.username, "
            "language = excluded.language, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE first_name IS NOT excluded.first_name OR username IS NOT excluded.username "
            "OR language IS NOT excluded.language",
            (user_id, first_name or "", username, language))
        found = await self.get(user_id)
        assert found is not None
        return found

    async def claim_message(self, user_id: int, message_id: int, date: int) -> bool:
        """The bot begins to handle message ``message_id`` (sent at unix time ``date``) of
        ``user_id`` (a row ``touch`` made); False when it began before: Telegram handing it
        again after a crash."""
        async with self.db.transaction() as tx:
            return await claim_message(tx, user_id, message_id, date)

    async def language_of(self, user_id: int) -> str:
        """The contractor's language (Russian when unknown)."""
        contractor = await self.get(user_id)
        return contractor.language if contractor else "ru"

    async def get(self, user_id: int) -> Contractor | None:
        """The contractor with Telegram id ``user_id``."""
        row = await self.db.fetchone(
            "SELECT id, first_name, username, language, default_watermark, session_state "
            "FROM core_contractors WHERE id = ?", (user_id,))
        return Contractor(**dict(row)) if row else None

    async def set_watermark(self, user_id: int, text: str) -> None:
        """Store the contractor's default watermark text."""
        await self.db.execute(
            "UPDATE core_contractors SET default_watermark = ?, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", (text, user_id))

    async def set_session_state(self, user_id: int, state: str) -> None:
        """Record whether the contractor's account is connected."""
        await self.db.execute(
            "UPDATE core_contractors SET session_state = ?, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", (state, user_id))

    async def all(self) -> list[Contractor]:
        """Every contractor, oldest first: not the clients of a channel who never connected an
        account and own no channel (the bot knows them, but they are readers, not users)."""
        rows = await self.db.fetchall(
            "SELECT id, first_name, username, language, default_watermark, session_state "
            f"FROM core_contractors k WHERE NOT ({CLIENT_ONLY}) ORDER BY created_at")
        return [Contractor(**dict(row)) for row in rows]

    async def is_client_only(self, user_id: int) -> bool:
        """Whether ``user_id`` is a client of a channel and not a contractor (never connected
        an account, owns no channel)."""
        row = await self.db.fetchone(
            f"SELECT 1 FROM core_contractors k WHERE k.id = ? AND {CLIENT_ONLY}", (user_id,))
        if row is not None:
            return True
        unknown = await self.get(user_id) is None
        if not unknown:
            return False
        member = await self.db.fetchone(
            "SELECT 1 FROM core_channel_members WHERE telegram_user_id = ? AND left_at IS NULL",
            (user_id,))
        return member is not None

    async def clients_only(self) -> int:
        """How many people the bot knows only as clients of channels (not contractors)."""
        row = await self.db.fetchone(
            f"SELECT COUNT(*) AS n FROM core_contractors k WHERE {CLIENT_ONLY}")
        return row["n"]
