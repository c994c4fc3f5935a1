"""Analytics: every act recorded as an event, and the questions asked of them.

:meth:`Analytics.record` never waits for the database: events are buffered and written in one
transaction by a background flush, so a bot answer never waits behind an analytics write. The
queries (a publication's pages seen, a trace of a tracking code, the operator's statistics)
flush first, so they see every event recorded before them.

Event kinds: ``upload_received``, ``previews_made``, ``publication_rendered``,
``publication_sent``, ``publication_failed``, ``link_created``, ``link_revoked``,
``client_joined``, ``client_left``, ``channel_archived``, ``plan_changed``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smetabot.db import Database

log = logging.getLogger(__name__)

KINDS = ("upload_received", "previews_made", "publication_rendered", "publication_sent",
         "publication_failed", "link_created", "link_revoked", "client_joined", "client_left",
         "channel_archived", "plan_changed", "approval", "question",
         "question_answered")


def now_iso() -> str:
    """The current moment as the database writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class PageView:
    """One posted page of a publication and what is known of its views."""

    page: int
    message_id: int
    views: int | None  # raw count (the contractor's own view included); None: not read yet
    first_seen_at: str | None  # when views beyond the contractor's own first appeared

    @property
    def others(self) -> int:
        """Views by accounts other than the contractor's."""
        return max(0, (self.views or 0) - 1)


@dataclass
class PublicationViews:
    """A publication with its pages' views."""

    id: int
    channel_id: int
    file_name: str
    tracking_code: str
    created_at: str
    status: str
    pages: list[PageView]
    read_at: str | None  # the latest reading

    @property
    def opened(self) -> list[int]:
        """Page numbers someone besides the contractor has opened."""
        return [p.page for p in self.pages if p.others > 0]

    @property
    def first_seen_at(self) -> str | None:
        seen = [p.first_seen_at for p in self.pages if p.first_seen_at]
        return min(seen) if seen else None


@dataclass
class Trace:
    """What a tracking code leads to."""

    code: str
    publication_id: int
    contractor_id: int
    contractor_name: str
    file_name: str
    pages: list[int]
    published_at: str
    channel_title: str
    channel_status: str
    #: members at publication time, and those who joined later: (name, joined_at, left_at)
    members: list[tuple[str, str, str | None]] = field(default_factory=list)
    views: PublicationViews | None = None


@dataclass
class ContractorStats:
    """One contractor's figures for the operator."""

    contractor_id: int
    name: str
    channels: int
    publications: int
    pages_rendered: int
    failures: int
    clients_joined: int
    views: int

    COLUMNS = ("contractor_id", "name", "channels", "publications", "pages_rendered",
               "failures", "clients_joined", "views")

    def row(self) -> list[Any]:
        return [getattr(self, column) for column in self.COLUMNS]


class Analytics:
    """Recording events, and the queries the bot and the operator ask."""

    def __init__(self, db: Database | None, flush_delay: float = 0.2) -> None:
        self.db = db
        self.flush_delay = flush_delay
        self._pending: list[tuple] = []
        self._flusher: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    # -- recording ------------------------------------------------------------------------

    async def record(self, event: str, contractor_id: int | None = None, /, *,
                     channel_id: int | None = None, publication_id: int | None = None,
                     user_id: int | None = None, **detail: Any) -> None:
        """Remember that ``event`` happened (written shortly, in the background); ``detail``
        is kept as the event's small JSON payload."""
        if self.db is None:
            return
        if event not in KINDS:
            raise ValueError(f"unknown analytics event {event!r}")
        self._pending.append((contractor_id, user_id, event,
                              json.dumps(detail, ensure_ascii=False, default=str), now_iso(),
                              channel_id, publication_id))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon(),
                                                                   name="analytics flush")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.flush_delay)  # gather the events of one burst into one write
        try:
            await self.flush()
        except Exception:  # events are worth less than the bot: log, never raise
            log.exception("could not write analytics events")

    async def flush(self) -> int:
        """Write the buffered events now; how many."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch or self.db is None:
                return 0
            async with self.db.transaction() as tx:
                await tx.executemany(
                    "INSERT INTO analytics_events (contractor_id, telegram_user_id, kind, payload, "
                    "created_at, channel_id, publication_id) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
            return len(batch)

    async def close(self) -> None:
        """Write what is buffered (at shutdown)."""
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
        try:
            await self.flush()
        except Exception:
            log.exception("could not write analytics events at shutdown")

    async def events(self, contractor_id: int | None = None,
                     kind: str | None = None) -> list[dict[str, Any]]:
        """Recorded events, oldest first (filters optional)."""
        await self.flush()
        where, params = [], []
        if contractor_id is not None:
            where.append("contractor_id = ?")
            params.append(contractor_id)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        rows = await self.db.fetchall(
            "SELECT kind, contractor_id, telegram_user_id, channel_id, publication_id, payload, "
            "created_at FROM analytics_events" + (f" WHERE {' AND '.join(where)}" if where
                                                  else "") + " ORDER BY id", params)
        return [{**dict(row), "payload": json.loads(row["payload"])} for row in rows]

    # -- the contractor's side ------------------------------------------------------------

    async def notify_enabled(self, contractor_id: int) -> bool:
        """Whether the contractor wants the "client opened" notices (on by default)."""
        row = await self.db.fetchone("SELECT notify_views FROM analytics_contractors WHERE "
                                     "contractor_id = ?", (contractor_id,))
        return row is None or bool(row["notify_views"])

    async def set_notify(self, contractor_id: int, on: bool) -> None:
        await self.db.execute(
            "INSERT INTO analytics_contractors (contractor_id, notify_views) VALUES (?, ?) "
            "ON CONFLICT (contractor_id) DO UPDATE SET notify_views = excluded.notify_views",
            (contractor_id, int(on)))

    async def publication_views(self, publication_id: int) -> PublicationViews | None:
        """A publication's pages and their views."""
        rows = await self.db.fetchall(
            "SELECT id, channel_id, file_name, tracking_code, created_at, status, pages, "
            "message_ids FROM core_publications WHERE id = ?", (publication_id,))
        return (await self._with_views(rows))[0] if rows else None

    async def channel_publications(self, channel_id: int,
                                   limit: int = 10) -> list[PublicationViews]:
        """The channel's published publications, newest first, with their pages' views."""
        rows = await self.db.fetchall(
            "SELECT id, channel_id, file_name, tracking_code, created_at, status, pages, "
            "message_ids FROM core_publications WHERE channel_id = ? AND status = 'published' "
            "ORDER BY id DESC LIMIT ?", (channel_id, limit))
        return await self._with_views(rows)

    async def _with_views(self, rows: list[Any]) -> list[PublicationViews]:
        result = []
        for row in rows:
            readings = {r["message_id"]: r for r in await self.db.fetchall(
                "SELECT message_id, views, first_seen_at, updated_at FROM "
                "analytics_publication_views WHERE publication_id = ?", (row["id"],))}
            pages = []
            for number, message_id in zip(json.loads(row["pages"]),
                                          json.loads(row["message_ids"])):
                reading = readings.get(message_id)
                pages.append(PageView(number, message_id,
                                      reading["views"] if reading else None,
                                      reading["first_seen_at"] if reading else None))
            read_at = max((r["updated_at"] for r in readings.values()), default=None)
            result.append(PublicationViews(row["id"], row["channel_id"], row["file_name"],
                                           row["tracking_code"], row["created_at"],
                                           row["status"], pages, read_at))
        return result

    async def member_history(self, channel_id: int) -> list[dict[str, Any]]:
        """Joins and leaves of the channel, oldest first: {user_id, name, kind, at}."""
        await self.flush()
        rows = await self.db.fetchall(
            "SELECT telegram_user_id, kind, payload, created_at FROM analytics_events WHERE "
            "channel_id = ? AND kind IN ('client_joined', 'client_left') ORDER BY id",
            (channel_id,))
        history = [{"user_id": r["telegram_user_id"], "kind": r["kind"],
                    "name": json.loads(r["payload"]).get("name", ""), "at": r["created_at"]}
                   for r in rows]
        known = {h["user_id"] for h in history}
        # Members who joined before events were recorded: from the members table.
        for m in await self.db.fetchall(
                "SELECT telegram_user_id, name, username, joined_at, left_at FROM "
                "core_channel_members WHERE channel_id = ?", (channel_id,)):
            if m["telegram_user_id"] in known:
                continue
            name = m["name"] + (f" (@{m['username']})" if m["username"] else "")
            history.append({"user_id": m["telegram_user_id"], "kind": "client_joined",
                            "name": name, "at": m["joined_at"]})
            if m["left_at"]:
                history.append({"user_id": m["telegram_user_id"], "kind": "client_left",
                                "name": name, "at": m["left_at"]})
        return sorted(history, key=lambda h: h["at"])

    # -- tracing --------------------------------------------------------------------------

    async def trace(self, code: str, contractor_id: int | None = None) -> Trace | None:
        """The publication a tracking code belongs to (only among ``contractor_id``'s own,
        when given), the channel, and who could see it."""
        code = code.strip().lstrip("#").upper()
        row = await self.db.fetchone(
            "SELECT p.id, p.contractor_id, p.file_name, p.pages, p.created_at, p.channel_id, "
            "c.title, c.status, k.first_name, k.username FROM core_publications p "
            "JOIN core_channels c ON c.id = p.channel_id "
            "LEFT JOIN core_contractors k ON k.id = p.contractor_id WHERE p.tracking_code = ?",
            (code,))
        if row is None or (contractor_id is not None and row["contractor_id"] != contractor_id):
            return None
        history = await self.member_history(row["channel_id"])
        members: dict[int, list] = {}
        for event in history:
            if event["kind"] == "client_joined":
                members[event["user_id"]] = [event["name"], event["at"], None]
            elif event["user_id"] in members:
                members[event["user_id"]][2] = event["at"]
        published = row["created_at"]
        # Who could have seen it: members who had not left before it was published.
        could = [tuple(m) for m in members.values() if m[2] is None or m[2] >= published]
        name = (row["first_name"] or "") + (f" (@{row['username']})" if row["username"] else "")
        return Trace(code, row["id"], row["contractor_id"], name.strip(), row["file_name"],
                     json.loads(row["pages"]), published, row["title"], row["status"],
                     sorted(could, key=lambda m: m[1]),
                     await self.publication_views(row["id"]))

    # -- the operator's figures -----------------------------------------------------------

    async def stats(self, since: str | None = None) -> list[ContractorStats]:
        """Per contractor: channels, publications, pages rendered, failures, clients joined,
        views (beyond the contractors' own), counted from ``since`` (an ISO date) on."""
        await self.flush()
        since = since or "0000"
        rows = await self.db.fetchall("""
            SELECT k.id, TRIM(k.first_name || COALESCE(' (@' || k.username || ')', '')) AS name,
              (SELECT COUNT(*) FROM core_channels c WHERE c.contractor_id = k.id
                 AND c.status NOT IN ('failed') AND c.created_at >= ?) AS channels,
              (SELECT COUNT(*) FROM core_publications p WHERE p.contractor_id = k.id
                 AND p.status = 'published' AND p.created_at >= ?) AS publications,
              (SELECT COALESCE(SUM(json_array_length(p.pages)), 0) FROM core_publications p
                 WHERE p.contractor_id = k.id AND p.status = 'published'
                 AND p.created_at >= ?) AS pages_rendered,
              (SELECT COUNT(*) FROM core_publications p WHERE p.contractor_id = k.id
                 AND p.status IN ('failed', 'blocked') AND p.created_at >= ?) AS failures,
              (SELECT COUNT(*) FROM core_channel_members m JOIN core_channels c
                 ON c.id = m.channel_id WHERE c.contractor_id = k.id
                 AND m.joined_at >= ?) AS clients_joined,
              (SELECT COALESCE(SUM(MAX(v.views - 1, 0)), 0) FROM analytics_publication_views v
                 JOIN core_publications p ON p.id = v.publication_id
                 WHERE p.contractor_id = k.id AND p.created_at >= ?) AS views
            FROM core_contractors k ORDER BY k.id""", (since,) * 6)
        return [ContractorStats(r["id"], r["name"], r["channels"], r["publications"],
                                r["pages_rendered"], r["failures"], r["clients_joined"],
                                r["views"]) for r in rows]
