"""The views poller: how many accounts have seen each published page, read through the
contractor's own Telegram account.

Bots may not call ``messages.getMessagesViews``; the channel's owner may. Telegram counts a
post's views once per account, so the first reading of a publication is made with
``increment=True``: it puts the contractor's own view in, once and for all, whether or not
they ever open the channel on their phone. From then on readings use ``increment=False`` and
``views - 1`` is exactly the views of everyone else — in a channel with one client, whether
*this client* opened *this page*.

Schedule (all state in the database, so a restart resumes it): a publication is read every
``interval`` seconds in its first day, every 12 intervals in its first week, every 72 in its
first month, every 288 after; an archived channel's never. Each contractor spends at most
``budget`` calls an hour (ids of one channel's due publications share a call, at most 100 ids
a call). A flood wait pauses that contractor only; a revoked session stops their readings
(they are told once); a channel deleted in Telegram stops its publications' readings.
Readings are stored when a count changes; old ones are thinned (hourly after a week, daily
after a month).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pyrogram import errors as tg
from pyrogram import raw, utils

from smetabot import refusals
from smetabot.db import Database
from smetabot.errors import NotConnected, SessionRevoked

log = logging.getLogger(__name__)

MAX_IDS = 100  # messages.getMessagesViews takes at most 100 ids
DEFAULT_INTERVAL = 300.0
DEFAULT_BUDGET = 60
#: (publication age, reading every N intervals)
AGES = ((timedelta(days=1), 1), (timedelta(days=7), 12), (timedelta(days=30), 72))
OLD = 288
GONE = (tg.ChannelInvalid, tg.ChannelPrivate, tg.PeerIdInvalid, tg.ChatIdInvalid,
        tg.ChannelPublicGroupNa)

#: notice(kind, contractor_id, **details): "opened" (publication_id, pages, channel_title,
#: file_name) and "session_lost"
Notice = Callable[..., Awaitable[None]]


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)  # Python 3.11 reads the trailing Z


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def setting(config: Any, key: str, default: float) -> float:
    """``[analytics] key`` from the config (so also ``SMETABOT_ANALYTICS_<KEY>``), else the
    default: read defensively, as a config whose schema lacks the section has no such key."""
    try:
        value = config[f"analytics.{key}"]
    except (KeyError, TypeError):
        return default
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        log.warning("analytics.%s=%r is not a number; using %s", key, value, default)
        return default


def every(age: timedelta, interval: float) -> float:
    """Seconds between readings of a publication this old."""
    for limit, factor in AGES:
        if age < limit:
            return interval * factor
    return interval * OLD


class ViewsPoller:
    """Reads the view counts of published pages on a schedule, within a call budget."""

    def __init__(self, db: Database, user_clients: Any, notice: Notice,
                 interval: float = DEFAULT_INTERVAL, budget: int = DEFAULT_BUDGET,
                 connected: Callable[[int], bool] = lambda _cid: True) -> None:
        self.db = db
        self.user_clients = user_clients
        self.notice = notice
        self.interval = interval
        self.budget = budget
        self.connected = connected
        self.calls = 0  # Telegram calls made (the benchmark reads it)
        self.rounds = 0  # rounds finished (tests wait for them)
        self._last_thin = 0.0
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Read due publications until cancelled; each round logs its own failure."""
        while True:
            try:
                await self.round()
                loop = asyncio.get_running_loop()
                if loop.time() - self._last_thin > 3600:
                    self._last_thin = loop.time()
                    await self.thin()
            except Exception:
                log.exception("views round failed")
            self.rounds += 1
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(self.interval, 30.0))

    def wake(self) -> None:
        """Start the next round now (after the interval was changed, or in tests)."""
        self._wake.set()

    async def round(self, now: datetime | None = None) -> int:
        """One pass over what is due; returns the calls made."""
        now = now or datetime.now(UTC)
        stamp = _iso(now)
        await self.db.execute(
            "INSERT INTO analytics_view_schedule (publication_id, next_at) SELECT p.id, ? FROM "
            "core_publications p WHERE p.status = 'published' AND p.id NOT IN (SELECT "
            "publication_id FROM analytics_view_schedule)", (stamp,))
        await self.db.execute(
            "UPDATE analytics_view_schedule SET stopped = 'archived' WHERE stopped IS NULL AND "
            "publication_id IN (SELECT p.id FROM core_publications p JOIN core_channels c ON "
            "c.id = p.channel_id WHERE c.status = 'archived')")
        rows = await self.db.fetchall(
            "SELECT s.publication_id, s.own_view, p.contractor_id, p.channel_id, p.pages, "
            "p.message_ids, p.created_at, c.telegram_channel_id, c.access_hash "
            "FROM analytics_view_schedule s JOIN core_publications p ON p.id = s.publication_id "
            "JOIN core_channels c ON c.id = p.channel_id "
            "WHERE s.stopped IS NULL AND s.next_at <= ? ORDER BY s.next_at", (stamp,))
        by_contractor: dict[int, list[Any]] = {}
        for row in rows:
            by_contractor.setdefault(row["contractor_id"], []).append(row)
        made = 0
        for contractor_id, due in by_contractor.items():
            try:
                made += await self._contractor(contractor_id, due, now)
            except Exception:
                log.exception("views of contractor %s failed", contractor_id)
        return made

    async def _state(self, contractor_id: int) -> Any:
        await self.db.execute("INSERT OR IGNORE INTO analytics_contractors (contractor_id) "
                              "VALUES (?)", (contractor_id,))
        return await self.db.fetchone("SELECT * FROM analytics_contractors WHERE "
                                      "contractor_id = ?", (contractor_id,))

    async def _contractor(self, contractor_id: int, due: list[Any], now: datetime) -> int:
        state = await self._state(contractor_id)
        if state["paused_until"] and _parse(state["paused_until"]) > now:
            return 0
        if not self.connected(contractor_id):
            # Told only when Telegram ended the session, not after the contractor's own
            # «Отключить аккаунт».
            row = await self.db.fetchone("SELECT session_state FROM core_contractors WHERE "
                                         "id = ?", (contractor_id,))
            if row is not None and row["session_state"] == "revoked":
                await self._session_lost(contractor_id, state)
            return 0
        hour = now.strftime("%Y-%m-%dT%H")
        spent = state["budget_calls"] if state["budget_hour"] == hour else 0
        # One call per channel and kind of reading (the first, counting the contractor's own
        # view; the later ones, not), ≤100 ids each.
        groups: dict[tuple[int, bool], list[Any]] = {}
        for row in due:
            groups.setdefault((row["channel_id"], not row["own_view"]), []).append(row)
        made = 0
        try:
            for (_channel_id, first), rows in groups.items():
                for batch in _batches(rows):
                    if spent + made >= self.budget:
                        return made
                    made += await self._read(contractor_id, batch, first, now)
        except tg.FloodWait as exc:
            until = _iso(now + timedelta(seconds=float(exc.value)))
            log.info("views of contractor %s: flood wait %s s", contractor_id, exc.value)
            await self.db.execute("UPDATE analytics_contractors SET paused_until = ? WHERE "
                                  "contractor_id = ?", (until, contractor_id))
        except (SessionRevoked, NotConnected):
            await self._session_lost(contractor_id, state)
        except (tg.RPCError, TimeoutError) as exc:  # Telegram's trouble: read again later
            log.info("views of contractor %s: Telegram refused (%s); read again later",
                     contractor_id, refusals.error_id(exc))
        finally:
            if made:
                await self.db.execute(
                    "UPDATE analytics_contractors SET budget_hour = ?, budget_calls = ?, "
                    "session_told = 0 WHERE contractor_id = ?", (hour, spent + made,
                                                                  contractor_id))
        return made

    async def _session_lost(self, contractor_id: int, state: Any) -> None:
        if state["session_told"]:
            return
        await self.db.execute("UPDATE analytics_contractors SET session_told = 1 WHERE "
                              "contractor_id = ?", (contractor_id,))
        await self.notice("session_lost", contractor_id)

    async def _read(self, contractor_id: int, rows: list[Any], first: bool,
                    now: datetime) -> int:
        """Read the views of ``rows``' pages and store them; the calls made."""
        ids = [mid for row in rows for mid in json.loads(row["message_ids"])]
        telegram_id, access_hash = rows[0]["telegram_channel_id"], rows[0]["access_hash"]
        views: list[Any] = []
        try:
            async with self.user_clients.use(contractor_id) as client:
                if access_hash is not None:
                    peer = raw.types.InputPeerChannel(
                        channel_id=utils.get_raw_peer_id(telegram_id), access_hash=access_hash)
                else:
                    peer = await client.resolve_peer(telegram_id)
                for at in range(0, len(ids), MAX_IDS):
                    self.calls += 1
                    answer = await client.invoke(raw.functions.messages.GetMessagesViews(
                        peer=peer, id=ids[at:at + MAX_IDS], increment=first))
                    views.extend(answer.views)
        except GONE as exc:
            log.info("channel %s is gone (%s): its views are no longer read", telegram_id,
                     type(exc).__name__)
            await self._stop(rows, "channel_gone")
            return 1
        except (tg.MessageIdInvalid, tg.MsgIdInvalid):
            log.info("the posts of %s are gone from channel %s",
                     [row["publication_id"] for row in rows], telegram_id)
            await self._stop(rows, "messages_gone")
            return 1
        except (KeyError, ValueError) as exc:  # pyrogram knows no such peer any more
            log.info("channel %s cannot be resolved (%s)", telegram_id, exc)
            await self._stop(rows, "channel_gone")
            return 1
        counts = dict(zip(ids, (v.views for v in views)))
        await self._store(rows, counts, now)
        return max(1, (len(ids) + MAX_IDS - 1) // MAX_IDS)

    async def _stop(self, rows: list[Any], why: str) -> None:
        async with self.db.transaction() as tx:
            for row in rows:
                await tx.execute("UPDATE analytics_view_schedule SET stopped = ? WHERE "
                                 "publication_id = ?", (why, row["publication_id"]))

    async def _store(self, rows: list[Any], counts: dict[int, int | None],
                     now: datetime) -> None:
        """Record one call's readings (one transaction), then tell of newly opened pages."""
        stamp = _iso(now)
        opened: dict[int, list[int]] = {}
        async with self.db.transaction() as tx:
            for row in rows:
                publication_id = row["publication_id"]
                age = now - _parse(row["created_at"])
                next_at = _iso(now + timedelta(seconds=every(age, self.interval)))
                before = {r["message_id"]: r for r in await tx.execute_fetchall(
                    "SELECT message_id, views, first_seen_at FROM analytics_publication_views "
                    "WHERE publication_id = ?", (publication_id,))}
                for page, message_id in zip(json.loads(row["pages"]),
                                            json.loads(row["message_ids"])):
                    views = counts.get(message_id)
                    if views is None:
                        continue  # deleted from the channel
                    if views > 1:
                        opened.setdefault(publication_id, []).append(page)
                    old = before.get(message_id)
                    if old is not None and old["views"] == views:
                        await tx.execute("UPDATE analytics_publication_views SET updated_at = ? "
                                         "WHERE publication_id = ? AND message_id = ?",
                                         (stamp, publication_id, message_id))
                        continue
                    first_seen = old["first_seen_at"] if old else None
                    if first_seen is None and views > 1:
                        first_seen = stamp
                    await tx.execute(
                        "INSERT INTO analytics_publication_views (publication_id, message_id, "
                        "page, views, first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON "
                        "CONFLICT (publication_id, message_id) DO UPDATE SET views = "
                        "excluded.views, page = excluded.page, first_seen_at = "
                        "excluded.first_seen_at, updated_at = excluded.updated_at",
                        (publication_id, message_id, page, views, first_seen, stamp))
                    await tx.execute("INSERT OR REPLACE INTO analytics_view_readings "
                                     "(publication_id, page, read_at, views) VALUES (?, ?, ?, ?)",
                                     (publication_id, page, stamp, views))
                await tx.execute("UPDATE analytics_view_schedule SET next_at = ?, own_view = 1 "
                                 "WHERE publication_id = ?", (next_at, publication_id))
        for row in rows:
            pages = opened.get(row["publication_id"])
            if pages:
                try:
                    await self._maybe_notice(row, sorted(pages), now)
                except Exception:  # a notice that cannot be sent must not stop the readings
                    log.exception("could not tell contractor %s about views",
                                  row["contractor_id"])

    async def _maybe_notice(self, row: Any, opened: list[int], now: datetime) -> None:
        """Tell the contractor when pages were opened, at most once an hour per publication."""
        publication_id = row["publication_id"]
        schedule = await self.db.fetchone(
            "SELECT opened_told, notified_at FROM analytics_view_schedule WHERE "
            "publication_id = ?", (publication_id,))
        if len(opened) <= schedule["opened_told"]:
            return
        if schedule["notified_at"] and now - _parse(schedule["notified_at"]) < timedelta(hours=1):
            return
        await self.db.execute("UPDATE analytics_view_schedule SET opened_told = ?, "
                              "notified_at = ? WHERE publication_id = ?",
                              (len(opened), _iso(now), publication_id))
        wants = await self.db.fetchone("SELECT notify_views FROM analytics_contractors WHERE "
                                       "contractor_id = ?", (row["contractor_id"],))
        if wants is not None and not wants["notify_views"]:
            return
        await self.notice("opened", row["contractor_id"], publication_id=publication_id,
                          pages=opened, first=schedule["opened_told"] == 0)

    async def thin(self, now: datetime | None = None) -> int:
        """Keep one reading an hour after a week, one a day after a month; rows removed."""
        now = now or datetime.now(UTC)
        week, month = _iso(now - timedelta(days=7)), _iso(now - timedelta(days=30))
        removed = 0
        for before, bucket in ((month, 10), (week, 13)):  # 'YYYY-MM-DD', 'YYYY-MM-DDTHH'
            removed += await self._delete_thinned(before, bucket)
        return removed

    async def _delete_thinned(self, before: str, bucket: int) -> int:
        async with self.db.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM analytics_view_readings WHERE read_at < ? AND read_at <> (SELECT "
                "MAX(r.read_at) FROM analytics_view_readings r WHERE r.publication_id = "
                "analytics_view_readings.publication_id AND r.page = analytics_view_readings.page "
                f"AND substr(r.read_at, 1, {bucket}) = substr(analytics_view_readings.read_at, 1, "
                f"{bucket}))", (before,))
            return cursor.rowcount


def _batches(rows: list[Any]) -> list[list[Any]]:
    """Publications grouped so that one call asks for at most 100 ids (a publication of more
    than 100 pages gets calls of its own, split by the caller's ids)."""
    batches: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for row in rows:
        count = len(json.loads(row["message_ids"]))
        if current and size + count > MAX_IDS:
            batches.append(current)
            current, size = [], 0
        current.append(row)
        size += count
    if current:
        batches.append(current)
    return batches

