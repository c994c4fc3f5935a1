"""Benchmark: the views poller's Telegram calls per hour, and the bot's answers meanwhile.

Runs the appliance in sandbox mode in this process. 100 contractors each own a channel with 50
publications of 20 pages (real posts in the emulator), published over the last 60 days (one
every 1.2 days); clients have opened half of the pages. The poller is driven through two
simulated hours (one round every ``views_interval`` of simulated time, each making its real
calls to the emulator), while 20 other users keep sending /start and wait for the answers.
Prints the calls of the first hour (every publication read for the first time, within the
budget) and of the second (steady state), the readings table's rows and bytes, and the p50/p99
time to answer with the poller busy and without it.

    .venv/bin/python benchmarks/views_poller.py [--contractors 100] [--publications 50]
                                                [--pages 20] [--interval 300] [--budget 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyrogram import utils

from smetabot import config
from smetabot.app import App
from smetabot.telegram.emulator import Emulator

SECRET = "YmVuY2htYXJrLWtleS1iZW5jaG1hcmsta2V5LTMyYnl0ZXM="


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def setup(app: App, contractors: int, publications: int, pages: int,
                now: datetime) -> None:
    emu = app.emulator
    for n in range(contractors):
        owner = emu.create_user(f"Подрядчик {n}", language_code="ru")
        app.vault.save(owner, emu.session_string(owner))
        sent = await emu.user_send_text(owner, "/start")  # so the bot may write to them
        await emu.wait_for_bot_reply(owner, after=sent, timeout=60)
        async with app.user_clients.use(owner) as client:
            chat = await client.create_channel(f"Объект {n}")
            peer = await client.resolve_peer(chat.id)
        channel_row = await app.db.execute(
            "INSERT INTO core_channels (contractor_id, telegram_channel_id, access_hash, title, "
            "protected, bot_is_admin, status) VALUES (?, ?, ?, ?, 1, 1, 'ready')",
            (owner, chat.id, peer.access_hash, f"Объект {n}"))
        await app.user_clients.forget(owner)  # no session to push 1,000 posts to
        ch = emu.channel_by_id(utils.get_raw_peer_id(chat.id))
        account = emu.account(owner)
        reader = emu.create_user(f"Клиент {n}")
        async with app.db.transaction() as tx:
            for p in range(publications):
                ids = [emu.post_channel(ch, account, text=f"page {k}")[0].id
                       for k in range(pages)]
                for k, mid in enumerate(ids):
                    if k % 2 == 0:
                        ch.messages[mid].viewers.add(reader)
                created = now - timedelta(days=60 * p / publications)
                await tx.execute(
                    "INSERT INTO core_publications (channel_id, contractor_id, file_name, pages, "
                    "tracking_code, message_ids, status, created_at) VALUES "
                    "(?, ?, ?, ?, ?, ?, 'published', ?)",
                    (channel_row, owner, f"smeta-{p}.pdf", json.dumps(list(range(1, pages + 1))),
                     f"B{n:03d}{p:03d}", json.dumps(ids), iso(created)))


async def answers(app: App, users: list[int], stop: asyncio.Event, latencies: list[float]):
    async def one(user: int) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            sent = await app.emulator.user_send_text(user, "/start")
            await app.emulator.wait_for_bot_reply(user, after=sent, timeout=60)
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.1)  # a person reads before the next message

    await asyncio.gather(*(one(user) for user in users))


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


async def main(contractors: int, publications: int, pages: int, interval: float,
               budget: int) -> None:
    emulator = Emulator()
    emulator.create_bot("smetabot", "SmetaBot")
    with tempfile.TemporaryDirectory(prefix="smetabot-bench-") as data:
        app = App(config.load(None, env={}), Path(data), host="127.0.0.1", port=0,
                  sandbox=True, secret_key=SECRET, workers=1, emulator=emulator)
        await app.start()
        try:
            poller = app.views
            poller.interval, poller.budget = interval, budget
            for task in app._tasks:  # drive the poller here, on simulated time
                if task.get_name() == "views poller":
                    task.cancel()
            now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            started = time.perf_counter()
            await setup(app, contractors, publications, pages, now)
            print(f"setup: {contractors} contractors × {publications} publications × {pages} "
                  f"pages in {time.perf_counter() - started:.0f} s")
            users = [emulator.create_user(f"Пользователь {n}") for n in range(20)]
            quiet: list[float] = []
            stop = asyncio.Event()
            probe = asyncio.ensure_future(answers(app, users, stop, quiet))
            await asyncio.sleep(5)
            stop.set()
            await probe
            busy: list[float] = []
            stop = asyncio.Event()
            probe = asyncio.ensure_future(answers(app, users, stop, busy))
            per_hour = []
            wall = time.perf_counter()
            for hour in range(2):
                before = poller.calls
                steps = int(3600 / interval)
                for step in range(steps):
                    await poller.round(now + timedelta(seconds=hour * 3600 + step * interval))
                per_hour.append(poller.calls - before)
            wall = time.perf_counter() - wall
            stop.set()
            await probe
            rows = (await app.db.fetchone("SELECT COUNT(*) AS n FROM "
                                          "analytics_view_readings"))["n"]
            latest = (await app.db.fetchone("SELECT COUNT(*) AS n FROM "
                                            "analytics_publication_views"))["n"]
            database = Path(app.paths.database)
            size = sum(path.stat().st_size for path in (database, Path(f"{database}-wal"))
                       if path.exists())
            try:
                table = (await app.db.fetchone(
                    "SELECT SUM(pgsize) AS n FROM dbstat WHERE name = "
                    "'analytics_view_readings'"))["n"]
            except sqlite3.Error:  # SQLite built without dbstat
                table = None
        finally:
            await app.stop()
    print(f"poller: {per_hour[0]} Telegram calls in the first hour (budget {budget}/contractor/h "
          f"= {budget * contractors}), {per_hour[1]} in the second (steady state), "
          f"≤100 ids a call; {wall:.0f} s of wall time for the two simulated hours")
    print(f"readings: {rows} rows in analytics_view_readings, {latest} in "
          f"analytics_publication_views; the readings table "
          f"{(table or 0) / 1e3:.0f} KB, the database with its WAL {size / 1e6:.1f} MB")
    print(f"time to answer /start, 20 users: without the poller p50 "
          f"{statistics.median(quiet) * 1000:.0f} ms p99 {percentile(quiet, .99) * 1000:.0f} ms "
          f"({len(quiet)} answers); while it runs p50 {statistics.median(busy) * 1000:.0f} ms "
          f"p99 {percentile(busy, .99) * 1000:.0f} ms ({len(busy)} answers)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contractors", type=int, default=100)
    parser.add_argument("--publications", type=int, default=50)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--interval", type=float, default=300.0)
    parser.add_argument("--budget", type=int, default=60)
    args = parser.parse_args()
    asyncio.run(main(args.contractors, args.publications, args.pages, args.interval,
                     args.budget))
