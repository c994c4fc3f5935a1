"""Benchmark: how responsive the bot stays under load.

Runs the whole appliance in sandbox mode in this process (real pyrogram bot client, the
emulator, SQLite, the render consumer idle) and has 100 sandbox users send 10 `/start`s each,
all users at once, each user waiting for the answer before the next. Prints updates per second
and the 50th/99th percentile time from a user's message to the bot's answer.

    .venv/bin/python benchmarks/bot_starts.py [--users 100] [--per-user 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from smetabot import config
from smetabot.app import App
from smetabot.telegram.emulator import Emulator

SECRET = "YmVuY2htYXJrLWtleS1iZW5jaG1hcmsta2V5LTMyYnl0ZXM="


def _telegram() -> Emulator:
    # An emulator kept in memory only: this measures the appliance, not the sandbox's habit
    # of writing its emulated Telegram to disk after every change (real Telegram has no
    # such cost on our side).
    emulator = Emulator()
    emulator.create_bot("smetabot", "SmetaBot")
    return emulator


async def user_session(app: App, user_id: int, count: int, latencies: list[float]) -> None:
    emulator = app.emulator
    for _ in range(count):
        started = time.perf_counter()
        sent = await emulator.user_send_text(user_id, "/start")
        await emulator.wait_for_bot_reply(user_id, after=sent, timeout=60)
        latencies.append(time.perf_counter() - started)


async def main(users: int, per_user: int) -> None:
    with tempfile.TemporaryDirectory(prefix="smetabot-bench-") as data:
        app = App(config.load(None, env={}), Path(data), host="127.0.0.1", port=0,
                  sandbox=True, secret_key=SECRET, workers=1, emulator=_telegram())
        await app.start()
        try:
            people = [app.emulator.create_user(f"Клиент {n}", language_code="ru")
                      for n in range(users)]
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(user_session(app, person, per_user, latencies)
                                   for person in people))
            elapsed = time.perf_counter() - started
        finally:
            await app.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{len(latencies)} /start from {users} users in {elapsed:.2f} s: "
          f"{len(latencies) / elapsed:.0f} updates/s; time to answer p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.per_user))
