"""Plans, subscriptions and monthly usage: what a contractor may do, and if not, why.

Plans come from the config (``[billing.plans]``) and are copied into ``billing_plans`` at boot,
so a subscription keeps its plan's row even after the operator drops the plan from the config.
A contractor's plan is the subscription in force, or else the default plan. Channels are limited
by how many a contractor has at once (archiving one frees its place); publications per calendar
month (UTC), counted in ``billing_usage_counters`` in the same transaction as what they count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite

from smetabot import texts
from smetabot.config import FREE_PLAN, Config
from smetabot.db import Database
from smetabot.errors import (  # noqa: F401  (re-exported for callers of billing)
    BillingError,
    DatePassed,
    LimitReached,
    UnknownContractor,
    UnknownPlan,
)
from smetabot.statuses import ACTIVE_CHANNELS

#: channel statuses that take a place in the plan


def utcnow() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A timestamp as the database keeps them: ``2026-11-28T10:42:57.123Z`` (sorts as text)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def month_of(moment: datetime) -> str:
    """The usage month of a moment, ``YYYY-MM`` (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m")


@dataclass(frozen=True)
class Plan:
    """A row of ``billing_plans``; a limit of None is no limit."""

    code: str
    title: str
    max_channels: int | None
    max_publications: int | None

    def name(self, lang: str) -> str:
        """The title to show; the built-in free plan's in the user's language."""
        if self.code == "free" and self.title == FREE_PLAN["title"]:
            return texts.t("plan.free", lang)
        return self.title


@dataclass(frozen=True)
class Subscription:
    """The plan a contractor is on, since when and until when (None: no subscription / no end)."""

    plan: Plan
    starts_at: str | None
    ends_at: str | None


@dataclass(frozen=True)
class Usage:
    """What a contractor uses: channels now, and this month's counters."""

    month: str
    channels: int
    channels_created: int
    publications: int


@dataclass(frozen=True)
class Decision:
    """Whether a contractor may do something, with what the bot needs to explain a refusal."""

    allowed: bool
    what: str  # "channels" | "publications"
    limit: int | None
    used: int
    subscription: Subscription
    contact: str  # whom to ask for a bigger plan; "" when nobody is known

    def message(self, lang: str) -> str:
        """A refusal in words: the limit, the usage, and whom to ask."""
        text = texts.t(f"limit.{self.what}", lang, plan=self.subscription.plan.name(lang),
                       used=self.used, limit=self.limit)
        ask = (texts.t("limit.ask", lang, contact=self.contact) if self.contact
               else texts.t("limit.ask_operator", lang))
        return f"{text} {ask}"


def _plan(row: Any) -> Plan:
    return Plan(row["code"], row["title"], row["max_channels"], row["max_publications_month"])


class Billing:
    """Plans, subscriptions, usage counters and the decisions made from them."""

    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config

    async def sync_plans(self) -> None:
        """Copy the config's plans into ``billing_plans`` (done at boot, before anything)."""
        async with self.db.transaction() as tx:
            for code, plan in self.config["billing.plans"].items():
                await tx.execute(
                    "INSERT INTO billing_plans (code, title, max_channels, max_publications_month)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET title = excluded.title,"
                    " max_channels = excluded.max_channels,"
                    " max_publications_month = excluded.max_publications_month",
                    (code, plan["title"], plan.get("channels"), plan.get("publications")))

    async def plans(self) -> list[Plan]:
        """The plans of the config, in its order."""
        rows = {row["code"]: _plan(row) for row in await self.db.fetchall(
            "SELECT * FROM billing_plans")}
        return [rows[code] for code in self.config["billing.plans"] if code in rows]

    async def plan(self, code: str) -> Plan | None:
        """A plan by code (also one no longer in the config but still subscribed to)."""
        row = await self.db.fetchone("SELECT * FROM billing_plans WHERE code = ?", (code,))
        return _plan(row) if row else None

    async def subscription(self, contractor_id: int) -> Subscription:
        """The subscription in force now, or the default plan."""
        now = iso(utcnow())
        row = await self.db.fetchone(
            "SELECT p.*, s.starts_at, s.ends_at FROM billing_subscriptions s "
            "JOIN billing_plans p ON p.code = s.plan_code WHERE s.contractor_id = ? "
            "AND s.starts_at <= ? AND (s.ends_at IS NULL OR s.ends_at > ?) "
            "ORDER BY s.starts_at DESC, s.id DESC LIMIT 1", (contractor_id, now, now))
        if row is not None:
            return Subscription(_plan(row), row["starts_at"], row["ends_at"])
        default = await self.plan(self.config["billing.default_plan"])
        assert default is not None, "sync_plans() runs at boot"
        return Subscription(default, None, None)

    async def usage(self, contractor_id: int) -> Usage:
        """Channels the contractor has now, and this month's counters."""
        month = month_of(utcnow())
        marks = ", ".join("?" * len(ACTIVE_CHANNELS))
        channels = await self.db.fetchone(
            f"SELECT COUNT(*) AS n FROM core_channels WHERE contractor_id = ? "
            f"AND status IN ({marks})", (contractor_id, *ACTIVE_CHANNELS))
        counters = await self.db.fetchone(
            "SELECT channels_created, publications FROM billing_usage_counters "
            "WHERE contractor_id = ? AND month = ?", (contractor_id, month))
        return Usage(month, channels["n"], counters["channels_created"] if counters else 0,
                     counters["publications"] if counters else 0)

    async def can_create_channel(self, contractor_id: int) -> Decision:
        """Whether the contractor may have one more channel."""
        subscription, usage = await self.subscription(contractor_id), await self.usage(
            contractor_id)
        return await self._decide("channels", subscription.plan.max_channels, usage.channels,
                                  subscription)

    async def can_publish(self, contractor_id: int) -> Decision:
        """Whether the contractor may publish one more document this month."""
        subscription, usage = await self.subscription(contractor_id), await self.usage(
            contractor_id)
        return await self._decide("publications", subscription.plan.max_publications,
                                  usage.publications, subscription)

    async def _decide(self, what: str, limit: int | None, used: int,
                      subscription: Subscription) -> Decision:
        allowed = limit is None or used < limit
        return Decision(allowed, what, limit, used, subscription,
                        "" if allowed else await self.contact())

    async def contact(self) -> str:
        """Whom to ask for a bigger plan: the configured contact, else the admins' usernames."""
        if self.config["billing.contact"]:
            return self.config["billing.contact"]
        admins = self.config["admins.telegram_ids"]
        if not admins:
            return ""
        rows = await self.db.fetchall(
            f"SELECT username FROM core_contractors WHERE id IN ({', '.join('?' * len(admins))})"
            " AND username IS NOT NULL ORDER BY id", admins)
        return ", ".join(f"@{row['username']}" for row in rows)

    async def set_plan(self, contractor_id: int, code: str,
                       until: date | None = None) -> Subscription:
        """Put the contractor on plan ``code`` from now until the end of ``until`` (UTC)."""
        plan = await self.plan(code)
        if plan is None or code not in self.config["billing.plans"]:
            raise UnknownPlan(code=code, known=", ".join(self.config["billing.plans"]))
        now = utcnow()
        if until is not None and until < now.date():
            raise DatePassed(date=until.isoformat())
        ends_at = f"{until.isoformat()}T23:59:59.999Z" if until else None
        async with self.db.transaction() as tx:
            found = await tx.execute_fetchall("SELECT 1 FROM core_contractors WHERE id = ?",
                                              (contractor_id,))
            if not found:
                raise UnknownContractor(id=contractor_id)
            await tx.execute(
                "UPDATE billing_subscriptions SET ends_at = ? WHERE contractor_id = ? "
                "AND (ends_at IS NULL OR ends_at > ?)", (iso(now), contractor_id, iso(now)))
            await tx.execute(
                "INSERT INTO billing_subscriptions (contractor_id, plan_code, starts_at, ends_at)"
                " VALUES (?, ?, ?, ?)", (contractor_id, code, iso(now), ends_at))
            await tx.execute("INSERT INTO analytics_events (contractor_id, kind, payload) VALUES "
                             "(?, 'plan_changed', json_object('plan', ?, 'until', ?))",
                             (contractor_id, code, ends_at))
        return Subscription(plan, iso(now), ends_at)

    @staticmethod
    async def count_channel(tx: aiosqlite.Connection, contractor_id: int) -> None:
        """Count a created channel this month (inside the caller's transaction)."""
        await _count(tx, contractor_id, "channels_created")

    @staticmethod
    async def count_publication(tx: aiosqlite.Connection, contractor_id: int) -> None:
        """Count a publication this month (inside the caller's transaction)."""
        await _count(tx, contractor_id, "publications")


async def _count(tx: aiosqlite.Connection, contractor_id: int, column: str) -> None:
    await tx.execute(
        f"INSERT INTO billing_usage_counters (contractor_id, month, {column}) VALUES (?, ?, 1) "
        f"ON CONFLICT (contractor_id, month) DO UPDATE SET {column} = {column} + 1",
        (contractor_id, month_of(utcnow())))
