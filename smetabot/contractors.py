"""Contractors: the people who use the bot to share documents with their clients."""

from __future__ import annotations

from dataclasses import dataclass

from smetabot.db import Database

WATERMARK_LIMIT = 64


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
        """Every contractor, oldest first."""
        rows = await self.db.fetchall(
            "SELECT id, first_name, username, language, default_watermark, session_state "
            "FROM core_contractors ORDER BY created_at")
        return [Contractor(**dict(row)) for row in rows]
