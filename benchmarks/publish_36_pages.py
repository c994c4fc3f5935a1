"""Benchmark: publishing a 36-page estimate through the sandbox, and the bot meanwhile.

The whole appliance runs in this process on the Telegram emulator (real pyrogram clients, real
render workers). A contractor sends a 36-page A4 estimate (the first 36 pages of a corpus PDF),
keeps all pages and the default watermark, and publishes to a client channel; meanwhile another
user sends /start every 50 ms. Prints the time from the document arriving to the first thumbnail
and to "✅ Документ опубликован", and the other user's answer times (p50/p99).

    .venv/bin/python benchmarks/publish_36_pages.py [PDF]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pymupdf

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
DEFAULT = (Path(__file__).resolve().parents[2] / "shared/corpus/estimates_ru/"
           "treasury_223fz_formats_v16.2.pdf")


def first_pages(src: Path, count: int, target: Path) -> Path:
    with pymupdf.open(src) as whole, pymupdf.open() as part:
        part.insert_pdf(whole, from_page=0, to_page=count - 1)
        part.save(target)
    return target


async def main(src: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="smetabot-bench-") as folder:
        pdf = first_pages(src, 36, Path(folder) / "smeta-36.pdf")
        app = App(config.load(None, env={}), Path(folder) / "data", host="127.0.0.1", port=0,
                  sandbox=True, secret_key=SECRET, emulator=_telegram())
        await app.start()
        emu = app.emulator
        try:
            ivan = emu.create_user("Иван", language_code="ru")
            app.vault.save(ivan, emu.session_string(ivan))
            await app.contractors.touch(ivan, "Иван", None, "ru")
            async with app.user_clients.use(ivan) as client:
                from pyrogram.types import ChatPrivileges

                chat = await client.create_channel("Бенчмарк")
                await client.promote_chat_member(chat.id, emu.bot.username, ChatPrivileges(
                    can_post_messages=True, can_edit_messages=True, can_delete_messages=True,
                    can_invite_users=True))
            await app.db.execute(
                "INSERT INTO core_channels (contractor_id, telegram_channel_id, title, "
                "protected, bot_is_admin, status) VALUES (?, ?, 'Бенчмарк', 1, 1, 'ready')",
                (ivan, chat.id))
            other = emu.create_user("Другой", language_code="ru")
            latencies: list[float] = []
            finished = asyncio.Event()

            async def other_user() -> None:
                while not finished.is_set():
                    started = time.perf_counter()
                    sent = await emu.user_send_text(other, "/start")
                    await emu.wait_for_bot_reply(other, after=sent, timeout=30)
                    latencies.append(time.perf_counter() - started)
                    await asyncio.sleep(0.05)

            load = asyncio.create_task(other_user())
            started = time.perf_counter()
            sent = await emu.user_send_document(ivan, pdf.name, pdf.read_bytes(),
                                                "application/pdf")
            bot = lambda: [m for m in emu.user_chat(ivan, sent) if m["from"] == "bot"]
            await emu.wait_until(lambda: [m for m in bot() if m["media"]], 60)
            first_thumbnail = time.perf_counter() - started
            [picker] = await emu.wait_until(
                lambda: [m for m in bot() if "Какие страницы" in (m["text"] or "")], 120)
            await emu.user_press(ivan, picker["id"], "Далее ➡️")
            [question] = await emu.wait_until(
                lambda: [m for m in bot() if "Водяной знак" in (m["text"] or "")], 30)
            await emu.user_press(ivan, question["id"], "✅ Оставить")
            [choice] = await emu.wait_until(
                lambda: [m for m in bot() if "В какой канал" in (m["text"] or "")], 30)
            await emu.user_press(ivan, choice["id"], "📢 Бенчмарк")
            await emu.wait_until(
                lambda: [m for m in bot() if "✅ Документ опубликован" in (m["text"] or "")],
                300)
            published = time.perf_counter() - started
            finished.set()
            await load
        finally:
            await app.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"36-page estimate, 300 DPI, {app.workers} render workers: first thumbnail "
          f"{first_thumbnail:.2f} s, published {published:.2f} s after the document arrived "
          f"(picking pages included)")
    print(f"another user meanwhile: {len(latencies)} /start answered, p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
