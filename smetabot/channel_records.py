"""Rows behind client channels: ``core_channels``, ``core_invites``, ``core_channel_members``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smetabot.billing import Billing, iso, utcnow
from smetabot.db import Database
from smetabot.statuses import ACTIVE_CHANNELS, ChannelStatus

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_COLUMNS = {"telegram_channel_id", "access_hash", "protected", "bot_is_admin", "status",
            "next_retry_at", "attempts", "last_error"}
_ACTIVE_LINK = ("(SELECT link FROM core_invites i WHERE i.channel_id = c.id AND i.revoked = 0 "
                "ORDER BY i.id DESC LIMIT 1) AS link")


@dataclass(frozen=True)
class ClientChannel:
    """A client channel as the bot knows it; ``link`` is its newest working invite link."""

    id: int
    contractor_id: int
    telegram_id: int | None
    access_hash: int | None
    title: str
    protected: bool
    bot_is_admin: bool
    status: str
    next_retry_at: str | None
    attempts: int
    created_at: str
    link: str | None
    #: how clients get in: "approve" (join requests), "single_use" or "open"
    join_mode: str = "open"

    @property
    def publishable(self) -> bool:
        """Pages can go out here now: by the bot, or, while a fresh session may not yet make
        the bot an admin, by the contractor's own account (which made the link)."""
        return self.status == ChannelStatus.READY or (
            self.status == ChannelStatus.WAITING_ADMIN and bool(self.link))


@dataclass(frozen=True)
class Invite:
    id: int
    link: str
    name: str | None
    created_at: str
    member_limit: int | None = None
    request_needed: bool = False


@dataclass(frozen=True)
class JoinRequest:
    """Someone asking to join a channel through a request link."""

    channel_id: int
    user_id: int
    name: str
    username: str | None
    link: str | None
    status: str
    requested_at: str
    message_id: int | None = None  # the contractor's message about it, with its buttons


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    username: str | None
    joined_at: str


def _channel(row: Any) -> ClientChannel:
    return ClientChannel(
        id=row["id"], contractor_id=row["contractor_id"], telegram_id=row["telegram_channel_id"],
        access_hash=row["access_hash"], title=row["title"], protected=bool(row["protected"]),
        bot_is_admin=bool(row["bot_is_admin"]), status=row["status"],
        next_retry_at=row["next_retry_at"], attempts=row["attempts"],
        created_at=row["created_at"], link=row["link"], join_mode=row["join_mode"])


class Records:
    """Reading and changing the channel tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _select(self, where: str, params: tuple = (), tail: str = "") -> list[ClientChannel]:
        rows = await self.db.fetchall(
            f"SELECT c.*, {_ACTIVE_LINK} FROM core_channels c WHERE {where} {tail}", params)
        return [_channel(row) for row in rows]

    async def insert(self, contractor_id: int, title: str, join_mode: str = "open") -> int:
        """A new row in ``creating``; its id."""
        return await self.db.execute(
            "INSERT INTO core_channels (contractor_id, title, join_mode) VALUES (?, ?, ?)",
            (contractor_id, title, join_mode))

    async def delete(self, row_id: int) -> None:
        await self.db.execute("DELETE FROM core_channels WHERE id = ?", (row_id,))

    async def update(self, row_id: int, **fields: Any) -> None:
        """Set columns of one row."""
        assert set(fields) <= _COLUMNS, set(fields) - _COLUMNS
        sets = ", ".join(f"{name} = ?" for name in fields)
        await self.db.execute(f"UPDATE core_channels SET {sets}, updated_at = {_NOW} "
                              "WHERE id = ?", (*fields.values(), row_id))

    async def get(self, row_id: int) -> ClientChannel | None:
        found = await self._select("c.id = ?", (row_id,))
        return found[0] if found else None

    async def ready(self, contractor_id: int) -> list[ClientChannel]:
        """The contractor's channels pages can be published in, newest first."""
        found = await self._select("c.contractor_id = ? AND c.status IN (?, ?)",
                                   (contractor_id, ChannelStatus.READY,
                                    ChannelStatus.WAITING_ADMIN),
                                   "ORDER BY c.created_at DESC, c.id DESC")
        return [channel for channel in found if channel.publishable]

    async def by_telegram_id(self, telegram_id: int) -> ClientChannel | None:
        found = await self._select("c.telegram_channel_id = ?", (telegram_id,))
        return found[0] if found else None

    async def counted(self, channel: ClientChannel, status: str, *, link: str | None = None,
                      link_name: str | None = None, member_limit: int | None = None,
                      request_needed: bool = False,
                      next_retry_at: str | None = None) -> ClientChannel:
        """Move the channel to ``status``; leaving ``creating`` counts it in this month's usage,
        in the same transaction (and so does recording its first invite link)."""
        async with self.db.transaction() as tx:
            cursor = await tx.execute(
                f"UPDATE core_channels SET status = ?, next_retry_at = ?, last_error = NULL, "
                f"updated_at = {_NOW} WHERE id = ? AND status = ?",
                (status, next_retry_at, channel.id, channel.status))
            if cursor.rowcount and channel.status == ChannelStatus.CREATING:
                await Billing.count_channel(tx, channel.contractor_id)
            if link:
                await tx.execute("INSERT OR IGNORE INTO core_invites (channel_id, link, name, "
                                 "member_limit, request_needed) VALUES (?, ?, ?, ?, ?)",
                                 (channel.id, link, link_name, member_limit, int(request_needed)))
        fresh = await self.get(channel.id)
        assert fresh is not None
        return fresh

    async def unfinished(self, before: str) -> list[ClientChannel]:
        """Setups a previous run left: ``creating`` rows older than ``before``, and every
        channel waiting for admin rights."""
        return await self._select("(c.status = ? AND c.created_at < ?) OR c.status = ?",
                                  (ChannelStatus.CREATING, before, ChannelStatus.WAITING_ADMIN))

    async def scheduled(self) -> list[ClientChannel]:
        """Setups waiting for their next attempt."""
        return await self._select("c.status IN (?, ?) AND c.telegram_channel_id IS NOT NULL "
                                  "AND c.next_retry_at IS NOT NULL",
                                  (ChannelStatus.CREATING, ChannelStatus.WAITING_ADMIN),
                                  "ORDER BY c.next_retry_at")

    async def page(self, contractor_id: int, offset: int,
                   limit: int) -> tuple[list[ClientChannel], int]:
        """Live channels (not archived, not failed), newest first, and how many in all."""
        live = (f"c.contractor_id = ? AND c.status IN "
                f"({', '.join(repr(status.value) for status in ACTIVE_CHANNELS)})")
        total = await self.db.fetchone(f"SELECT COUNT(*) AS n FROM core_channels c WHERE {live}",
                                       (contractor_id,))
        rows = await self._select(live, (contractor_id, limit, offset),
                                  "ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?")
        return rows, total["n"]

    async def invites(self, channel_id: int) -> list[Invite]:
        """The channel's working links, oldest first."""
        rows = await self.db.fetchall(
            "SELECT id, link, name, created_at, member_limit, request_needed FROM core_invites "
            "WHERE channel_id = ? AND revoked = 0 ORDER BY id", (channel_id,))
        return [Invite(**{**dict(row), "request_needed": bool(row["request_needed"])})
                for row in rows]

    async def add_invite(self, channel_id: int, link: str, name: str | None,
                         member_limit: int | None = None, request_needed: bool = False) -> None:
        await self.db.execute("INSERT INTO core_invites (channel_id, link, name, member_limit, "
                              "request_needed) VALUES (?, ?, ?, ?, ?)",
                              (channel_id, link, name, member_limit, int(request_needed)))

    async def revoke_invites(self, channel_id: int, invite_ids: list[int]) -> None:
        async with self.db.transaction() as tx:
            for invite_id in invite_ids:
                await tx.execute("UPDATE core_invites SET revoked = 1 WHERE id = ? AND "
                                 "channel_id = ?", (invite_id, channel_id))

    async def archive(self, channel_id: int, invite_ids: list[int]) -> None:
        """Archive the channel and mark its links revoked, together."""
        async with self.db.transaction() as tx:
            await tx.execute(f"UPDATE core_channels SET status = ?, next_retry_at = NULL, "
                             f"updated_at = {_NOW} WHERE id = ?",
                             (ChannelStatus.ARCHIVED, channel_id))
            for invite_id in invite_ids:
                await tx.execute("UPDATE core_invites SET revoked = 1 WHERE id = ?", (invite_id,))

    async def member(self, channel_id: int, user_id: int, name: str, username: str | None,
                     link: str | None, joined: bool) -> bool:
        """Record a member joining or leaving; True when that changed what we knew."""
        async with self.db.transaction() as tx:
            rows = await tx.execute_fetchall(
                "SELECT left_at FROM core_channel_members WHERE channel_id = ? AND "
                "telegram_user_id = ?", (channel_id, user_id))
            present = bool(rows) and rows[0]["left_at"] is None
            if joined == present:
                return False
            if joined:
                await tx.execute(
                    "INSERT INTO core_channel_members (channel_id, telegram_user_id, name, "
                    "username, invite_link) VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, "
                    f"telegram_user_id) DO UPDATE SET name = excluded.name, username = "
                    f"excluded.username, invite_link = excluded.invite_link, joined_at = {_NOW}, "
                    "left_at = NULL", (channel_id, user_id, name, username, link))
            else:
                await tx.execute("UPDATE core_channel_members SET left_at = ? WHERE "
                                 "channel_id = ? AND telegram_user_id = ?",
                                 (iso(utcnow()), channel_id, user_id))
        return True

    async def members(self, channel_id: int) -> list[Member]:
        """Clients in the channel now, in the order they joined."""
        rows = await self.db.fetchall(
            "SELECT telegram_user_id AS user_id, name, username, joined_at FROM "
            "core_channel_members WHERE channel_id = ? AND left_at IS NULL ORDER BY joined_at",
            (channel_id,))
        return [Member(**dict(row)) for row in rows]

    async def publications(self, channel_id: int) -> int:
        """Documents published in the channel (publications with posted messages)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM core_publications WHERE channel_id = ? "
            "AND status = 'published'", (channel_id,))
        return row["n"]

    # -- the card: archive, clients, readers -----------------------------------------------

    async def archived(self, contractor_id: int) -> list[ClientChannel]:
        """The contractor's archived channels, newest first."""
        return await self._select("c.contractor_id = ? AND c.status = ?",
                                  (contractor_id, ChannelStatus.ARCHIVED),
                                  "ORDER BY c.updated_at DESC, c.id DESC")

    async def restore(self, channel_id: int) -> bool:
        """An archived channel back to ``ready``; False when it was not archived."""
        found = await self.db.fetchone(
            "SELECT status FROM core_channels WHERE id = ?", (channel_id,))
        if found is None or found["status"] != ChannelStatus.ARCHIVED:
            return False
        await self.db.execute(f"UPDATE core_channels SET status = ?, updated_at = {_NOW} "
                              "WHERE id = ? AND status = ?",
                              (ChannelStatus.READY, channel_id, ChannelStatus.ARCHIVED))
        return True

    async def present_member(self, channel_id: int, user_id: int) -> tuple[Member, str | None] | None:
        """A client in the channel now, and the invite link they came by (None: unknown)."""
        row = await self.db.fetchone(
            "SELECT telegram_user_id AS user_id, name, username, joined_at, invite_link FROM "
            "core_channel_members WHERE channel_id = ? AND telegram_user_id = ? AND left_at IS "
            "NULL", (channel_id, user_id))
        if row is None:
            return None
        data = dict(row)
        link = data.pop("invite_link")
        return Member(**data), link

    async def invite_by_link(self, channel_id: int, link: str) -> Invite | None:
        """The channel's working invite ``link``, if it still works."""
        return next((i for i in await self.invites(channel_id) if i.link == link), None)

    async def reading(self, user_id: int) -> list[tuple[ClientChannel, str, str | None]]:
        """Channels ``user_id`` is a client of now (ready or archived: they can still read
        an archived one), with the contractor's name and username, newest first."""
        rows = await self.db.fetchall(
            f"SELECT c.*, {_ACTIVE_LINK}, k.first_name AS k_name, k.username AS k_username "
            "FROM core_channel_members m JOIN core_channels c ON c.id = m.channel_id "
            "LEFT JOIN core_contractors k ON k.id = c.contractor_id "
            "WHERE m.telegram_user_id = ? AND m.left_at IS NULL AND c.status IN (?, ?) "
            "ORDER BY m.joined_at DESC", (user_id, ChannelStatus.READY, ChannelStatus.ARCHIVED))
        return [(_channel(row), row["k_name"] or "", row["k_username"]) for row in rows]

    # -- who gets in: the join mode, single-use links, join requests --------------------------

    async def set_join_mode(self, channel_id: int, mode: str) -> None:
        await self.db.execute(f"UPDATE core_channels SET join_mode = ?, updated_at = {_NOW} "
                              "WHERE id = ?", (mode, channel_id))

    async def spend_single_use(self, channel_id: int, link: str, user_id: int) -> Invite | None:
        """A single-use ``link`` of the channel used by ``user_id``: it works no more. The
        invite, or None when the link is no single-use link of ours (or was already spent)."""
        if await self.db.fetchone(  # most joins are not by one: no write for them
                "SELECT 1 FROM core_invites WHERE channel_id = ? AND link = ? AND "
                "member_limit = 1 AND used_by IS NULL", (channel_id, link)) is None:
            return None
        async with self.db.transaction() as tx:
            rows = await tx.execute_fetchall(
                "SELECT id, link, name, created_at, member_limit, request_needed FROM "
                "core_invites WHERE channel_id = ? AND link = ? AND member_limit = 1 AND "
                "used_by IS NULL", (channel_id, link))
            if not rows:
                return None
            await tx.execute("UPDATE core_invites SET used_by = ?, revoked = 1 WHERE id = ?",
                             (user_id, rows[0]["id"]))
        row = dict(rows[0])
        return Invite(**{**row, "request_needed": bool(row["request_needed"])})

    async def join_requested(self, channel_id: int, user_id: int, name: str,
                             username: str | None, link: str | None) -> bool:
        """Record a join request; True when it is news (not already waiting)."""
        async with self.db.transaction() as tx:
            rows = await tx.execute_fetchall(
                "SELECT status FROM core_join_requests WHERE channel_id = ? AND "
                "telegram_user_id = ?", (channel_id, user_id))
            if rows and rows[0]["status"] == "pending":
                return False
            await tx.execute(
                "INSERT INTO core_join_requests (channel_id, telegram_user_id, name, username, "
                "invite_link) VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, telegram_user_id) "
                "DO UPDATE SET name = excluded.name, username = excluded.username, invite_link = "
                f"excluded.invite_link, status = 'pending', requested_at = {_NOW}, "
                "decided_at = NULL, message_id = NULL", (channel_id, user_id, name, username,
                                                         link))
        return True

    async def request_shown(self, channel_id: int, user_id: int, message_id: int) -> None:
        """The contractor's message about a request, to edit once it is answered elsewhere."""
        await self.db.execute(
            "UPDATE core_join_requests SET message_id = ? WHERE channel_id = ? AND "
            "telegram_user_id = ?", (message_id, channel_id, user_id))

    async def join_request(self, channel_id: int, user_id: int) -> JoinRequest | None:
        row = await self.db.fetchone(
            "SELECT channel_id, telegram_user_id AS user_id, name, username, invite_link AS link, "
            "status, requested_at, message_id FROM core_join_requests WHERE channel_id = ? AND "
            "telegram_user_id = ?", (channel_id, user_id))
        return JoinRequest(**dict(row)) if row else None

    async def pending_requests(self, channel_id: int) -> list[JoinRequest]:
        """Requests waiting for the contractor, oldest first."""
        rows = await self.db.fetchall(
            "SELECT channel_id, telegram_user_id AS user_id, name, username, invite_link AS link, "
            "status, requested_at, message_id FROM core_join_requests WHERE channel_id = ? AND "
            "status = 'pending' ORDER BY requested_at, telegram_user_id", (channel_id,))
        return [JoinRequest(**dict(row)) for row in rows]

    async def decide_request(self, channel_id: int, user_id: int, status: str,
                             was: str = "pending") -> bool:
        """Move a request from ``was`` to ``status``; False when it was not ``was`` (another
        tap decided it first)."""
        if await self.db.fetchone(
                "SELECT 1 FROM core_join_requests WHERE channel_id = ? AND telegram_user_id = ? "
                "AND status = ?", (channel_id, user_id, was)) is None:
            return False
        async with self.db.transaction() as tx:
            cursor = await tx.execute(
                f"UPDATE core_join_requests SET status = ?, decided_at = {_NOW} WHERE "
                "channel_id = ? AND telegram_user_id = ? AND status = ?",
                (status, channel_id, user_id, was))
            return cursor.rowcount > 0

    async def other_channels_of(self, contractor_id: int, user_id: int,
                                but: int) -> list[str]:
        """Titles of the contractor's other channels ``user_id`` is a client of now."""
        rows = await self.db.fetchall(
            "SELECT c.title FROM core_channel_members m JOIN core_channels c ON "
            "c.id = m.channel_id WHERE c.contractor_id = ? AND m.telegram_user_id = ? AND "
            "m.left_at IS NULL AND c.id != ? AND c.status IN (?, ?) ORDER BY c.title",
            (contractor_id, user_id, but, ChannelStatus.READY, ChannelStatus.ARCHIVED))
        return [row["title"] for row in rows]
