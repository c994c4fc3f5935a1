"""Plans, subscriptions and usage counters on a real SQLite file; plans in the config."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest

from smetabot import config
from smetabot.billing import (
    Billing,
    DatePassed,
    LimitReached,
    UnknownContractor,
    UnknownPlan,
    iso,
    utcnow,
)
from smetabot.contractors import Contractors
from smetabot.db import Database
from smetabot.errors import ConfigError
from tests.helpers import run

PLANS = '{"pro": {"title": "Pro", "channels": 30, "publications": 500}, "vip": {"title": "VIP"}}'



@contextlib.asynccontextmanager
async def billing_on(tmp_path, **env: str):
    """Billing on a fresh database, with contractors 1 (@ivan) and 2 (@boss)."""
    cfg = config.load(None, env={f"SMETABOT_{k.upper()}": v for k, v in env.items()})
    db = Database(tmp_path / "smetabot.db")
    await db.open()
    try:
        billing = Billing(db, cfg)
        await billing.sync_plans()
        contractors = Contractors(db)
        await contractors.touch(1, "Иван", "ivan", "ru")
        await contractors.touch(2, "Оператор", "boss", "ru")
        yield billing
    finally:
        await db.close()


async def add_channel(billing: Billing, status: str, contractor: int = 1) -> None:
    await billing.db.execute("INSERT INTO core_channels (contractor_id, title, status) "
                             "VALUES (?, 'x', ?)", (contractor, status))


def test_without_a_subscription_the_default_plan_limits_live_channels(tmp_path):
    async def scenario():
        async with billing_on(tmp_path) as billing:
            sub = await billing.subscription(1)
            assert (sub.plan.code, sub.plan.max_channels, sub.plan.max_publications) == (
                "free", 3, 20)
            assert sub.starts_at is None and sub.ends_at is None
            for status in ("archived", "failed", "ready", "waiting_admin"):
                await add_channel(billing, status)
            decision = await billing.can_create_channel(1)
            assert decision.allowed and decision.used == 2 and decision.contact == ""
            await add_channel(billing, "creating")  # one being made takes its place too
            decision = await billing.can_create_channel(1)
            assert not decision.allowed and (decision.used, decision.limit) == (3, 3)
            assert (await billing.can_create_channel(2)).allowed  # per contractor

    run(scenario())


def test_a_subscription_runs_from_now_to_the_end_of_its_last_day(tmp_path):
    async def scenario():
        async with billing_on(tmp_path, billing_plans=PLANS) as billing:
            last_day = date.today() + timedelta(days=30)
            sub = await billing.set_plan(1, "pro", last_day)
            assert sub.ends_at == f"{last_day.isoformat()}T23:59:59.999Z"
            assert (await billing.subscription(1)).plan.code == "pro"
            for _ in range(3):
                await add_channel(billing, "ready")
            assert (await billing.can_create_channel(1)).allowed
            # Back to free: the Pro subscription ends now, history is kept.
            await billing.set_plan(1, "free")
            assert (await billing.subscription(1)).plan.code == "free"
            rows = await billing.db.fetchall("SELECT plan_code, ends_at FROM "
                                             "billing_subscriptions ORDER BY id")
            assert [r["plan_code"] for r in rows] == ["pro", "free"]
            assert rows[0]["ends_at"] <= iso(utcnow()) and rows[1]["ends_at"] is None
            # A subscription that has ended leaves the contractor on the default plan.
            await billing.db.execute(
                "INSERT INTO billing_subscriptions (contractor_id, plan_code, starts_at, ends_at)"
                " VALUES (2, 'pro', '2020-01-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z')")
            assert (await billing.subscription(2)).plan.code == "free"
            # A plan without limits.
            await billing.set_plan(2, "vip")
            decision = await billing.can_publish(2)
            assert decision.allowed and decision.limit is None

    run(scenario())


def test_publications_are_counted_per_month(tmp_path):
    async def scenario():
        async with billing_on(tmp_path) as billing:
            await billing.db.execute("INSERT INTO billing_usage_counters (contractor_id, month, "
                                     "publications) VALUES (1, '2020-01', 99)")
            for _ in range(19):
                async with billing.db.transaction() as tx:
                    await Billing.count_publication(tx, 1)
            assert (await billing.can_publish(1)).allowed
            async with billing.db.transaction() as tx:
                await Billing.count_publication(tx, 1)
                await Billing.count_channel(tx, 1)
            usage = await billing.usage(1)
            assert (usage.publications, usage.channels_created) == (20, 1)
            assert usage.month == utcnow().strftime("%Y-%m")
            decision = await billing.can_publish(1)
            assert not decision.allowed and (decision.used, decision.limit) == (20, 20)

    run(scenario())


@pytest.mark.parametrize("env,lang,words", [
    ({"billing_contact": "@smeta_support"}, "ru",
     ("⛔ Достигнут лимит тарифа «Бесплатный»: каналов 3 из 3. Перенесите ненужный канал в "
      "архив («📢 Мои каналы») или расширьте тариф. Чтобы расширить тариф, напишите: "
      "@smeta_support.")),
    ({"admins_telegram_ids": "2"}, "ru", "напишите: @boss."),
    ({}, "ru", "обратитесь к администратору этого бота"),
    ({"billing_contact": "+7 900 000-00-00"}, "en",
     "The limit of the plan “Free” is reached: 3 of 3 channels"),
])
def test_a_refusal_says_the_limit_the_usage_and_whom_to_ask(tmp_path, env, lang, words):
    async def scenario():
        async with billing_on(tmp_path, **env) as billing:
            for _ in range(3):
                await add_channel(billing, "ready")
            decision = await billing.can_create_channel(1)
            assert words in decision.message(lang)
            assert LimitReached(decision).message(lang) == decision.message(lang)

    run(scenario())


def test_assigning_a_plan_refuses_what_cannot_be(tmp_path):
    async def scenario():
        async with billing_on(tmp_path, billing_plans=PLANS) as billing:
            with pytest.raises(UnknownPlan) as caught:
                await billing.set_plan(1, "gold")
            assert caught.value.message("en") == "there is no plan “gold”; plans: free, pro, vip"
            assert "тарифа «gold» нет" in caught.value.message("ru")
            with pytest.raises(DatePassed):
                await billing.set_plan(1, "pro", date(2020, 1, 1))
            with pytest.raises(UnknownContractor):
                await billing.set_plan(42, "pro")
            assert await billing.db.fetchall("SELECT * FROM billing_subscriptions") == []

    run(scenario())


def test_a_plan_dropped_from_the_config_keeps_its_subscribers(tmp_path):
    async def scenario():
        async with billing_on(tmp_path, billing_plans=PLANS) as billing:
            await billing.set_plan(1, "pro")
        async with billing_on(tmp_path) as billing:  # the operator removed "pro"
            sub = await billing.subscription(1)
            assert (sub.plan.code, sub.plan.max_channels) == ("pro", 30)
            assert [p.code for p in await billing.plans()] == ["free"]
            with pytest.raises(UnknownPlan):
                await billing.set_plan(2, "pro")

    run(scenario())


@pytest.mark.parametrize("toml,env,words", [
    ("[billing.plans.pro]\nchanels = 5\n", {},
     "unknown key billing.plans.pro.chanels; known: title, channels, publications"),
    ("[billing.plans.pro]\nchannels = -1\n", {},
     "billing.plans.pro.channels must be a whole number >= 0, got -1"),
    ("[billing.plans.pro]\ntitle = 5\n", {}, "billing.plans.pro.title must be a string"),
    ("[billing.plans.Pro]\nchannels = 5\n", {}, "billing.plans.Pro: a plan code is"),
    ("[billing]\nplans = 5\n", {}, "billing.plans must be a table"),
    ("[billing]\ndefault_plan = 'gold'\n", {}, "billing.default_plan names no plan: 'gold'"),
    ("", {"SMETABOT_BILLING_PLANS": "{not json"}, "billing.plans must be a table"),
    ("[channels]\nadmin_retry_seconds = 0\n", {}, "channels.admin_retry_seconds must be positive"),
])
def test_plan_mistakes_in_the_config_are_named(tmp_path, toml, env, words):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        config.load(path, env=env)
    assert words in caught.value.message()


def test_the_free_plan_is_always_there_and_can_be_changed(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[billing.plans.free]\nchannels = 5\n[billing.plans.team]\ntitle = 'Team'\n")
    plans = config.load(path, env={})["billing.plans"]
    assert plans == {"free": {"title": "Free", "channels": 5, "publications": 20},
                     "team": {"title": "Team"}}
    assert config.load(None, env={})["billing.plans"] == {
        "free": {"title": "Free", "channels": 3, "publications": 20}}
