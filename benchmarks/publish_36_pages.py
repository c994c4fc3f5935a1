"""Benchmark: publishing a 36-page estimate through the sandbox, and the bot meanwhile.

The whole appliance runs in this process on the Telegram emulator (real pyrogram clients, real
render workers). A contractor sends a 36-page A4 estimate (the first 36 pages of a corpus PDF),
keeps all pages and the default watermark, and publishes to a client channel; meanwhile another
user sends /start every 50 ms. Prints the time from the document arriving to the first preview
and to "✅ Документ опубликован", the time from the contractor's confirmation (the channel
pressed) to "✅ Документ опубликован", and the other user's answer times (p50/p99).

With ``--uplink 10mbit --latency 50ms`` the emulated Telegram takes 50 ms per call and carries
file parts at 10 Mbit/s shared (a small office's uplink); the run then publishes with today's
way (all pages rendered, then every file uploaded one after another) and the new one (each page
uploaded, parts in parallel, as soon as it is rendered), alternating, ``--runs`` times each,
and prints both medians. ``--variant NAME:KEY=VALUE,...`` (repeatable) instead compares
``[render]`` settings, each the new way, alternating: ``--variant 300dpi:min_dpi=300
--variant default:`` weighs pages at the DPI their content needs against every page at 300.

    .venv/bin/python benchmarks/publish_36_pages.py [PDF] [--uplink 10mbit] [--latency 50ms]
        [--runs 3] [--only parallel|sequential] [--variant NAME:KEY=VALUE,...]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path

import pymupdf

from smetabot import config
from smetabot.app import App
from smetabot.telegram.emulator import Emulator

SECRET = "YmVuY2htYXJrLWtleS1iZW5jaG1hcmsta2V5LTMyYnl0ZXM="


def _telegram(latency: float, uplink: float | None) -> Emulator:
    # An emulator kept in memory only: this measures the appliance, not the sandbox's habit
    # of writing its emulated Telegram to disk after every change (real Telegram has no
    # such cost on our side).
    emulator = Emulator(latency=latency, uplink_bytes_per_s=uplink)
    emulator.create_bot("smetabot", "SmetaBot")
    return emulator


def bits_per_second(text: str) -> float:
    """"10mbit", "512kbit", "2mbyte", "1000000" (bytes) -> bytes per second."""
    found = re.fullmatch(r"([\d.]+)\s*([kmg]?)(bit|byte|b)?(/s)?", text.strip().lower())
    if not found:
        raise argparse.ArgumentTypeError(f"not a rate: {text}")
    value = float(found[1]) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[found[2]]
    return value / 8 if found[3] == "bit" else value


def seconds(text: str) -> float:
    """"50ms", "0.05s", "0.05" -> seconds."""
    found = re.fullmatch(r"([\d.]+)\s*(ms|s)?", text.strip().lower())
    if not found:
        raise argparse.ArgumentTypeError(f"not a duration: {text}")
    return float(found[1]) / (1000 if found[2] == "ms" else 1)


DEFAULT = (Path(__file__).resolve().parents[2] / "shared/corpus/estimates_ru/"
           "treasury_223fz_formats_v16.2.pdf")


def first_pages(src: Path, count: int, target: Path) -> Path:
    with pymupdf.open(src) as whole, pymupdf.open() as part:
        part.insert_pdf(whole, from_page=0, to_page=count - 1)
        part.save(target)
    return target


async def run(src: Path, *, parallel: bool, latency: float, uplink: float | None,
              render: dict[str, str] | None = None) -> dict:
    """One publication of the 36-page estimate with these ``[render]`` settings; its
    timings."""
    env = {f"SMETABOT_RENDER_{key.upper()}": value for key, value in (render or {}).items()}
    with tempfile.TemporaryDirectory(prefix="smetabot-bench-") as folder:
        pdf = first_pages(src, 36, Path(folder) / "smeta-36.pdf")
        app = App(config.load(None, env=env), Path(folder) / "data", host="127.0.0.1", port=0,
                  sandbox=True, secret_key=SECRET, emulator=_telegram(latency, uplink))
        app.publishing.parallel_uploads = parallel
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
            await emu.user_press(ivan, picker["id"], "Все")  # nothing is picked at first
            await emu.wait_until(lambda: [m for m in bot() if m["id"] == picker["id"] and
                                          "36 из 36" in (m["text"] or "")], 30)
            await emu.user_press(ivan, picker["id"], "Далее ➡️")
            [question] = await emu.wait_until(
                lambda: [m for m in bot() if "Водяной знак" in (m["text"] or "")], 30)
            await emu.user_press(ivan, question["id"], "✅ Оставить")
            [choice] = await emu.wait_until(
                lambda: [m for m in bot() if "В какой канал" in (m["text"] or "")], 30)
            confirmed = time.perf_counter()
            await emu.user_press(ivan, choice["id"], "📢 Бенчмарк")
            await emu.wait_until(
                lambda: [m for m in bot() if "✅ Документ опубликован" in (m["text"] or "")],
                300)
            done = time.perf_counter()
            published = done - started
            pngs = sorted((Path(folder) / "data").rglob("publication-*/page-*.png"))
            page_bytes = sum(path.stat().st_size for path in pngs)
            finished.set()
            await load
        finally:
            await app.stop()
    latencies.sort()
    return {"first_thumbnail": first_thumbnail, "published": published,
            "from_confirm": done - confirmed, "workers": app.workers, "pages": len(pngs),
            "page_bytes": page_bytes,
            "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "answered": len(latencies)}


def report(name: str, runs: list[dict], uplink: float | None) -> None:
    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    confirms = ", ".join(f"{run['from_confirm']:.2f}" for run in runs)
    print(f"{name}: confirmation -> \"✅ Документ опубликован\" median "
          f"{median('from_confirm'):.2f} s ({confirms}); first preview "
          f"{median('first_thumbnail'):.2f} s, published {median('published'):.2f} s after "
          f"the document arrived (picking pages included); another user: p50 "
          f"{median('p50') * 1000:.0f} ms, p99 {median('p99') * 1000:.0f} ms")
    if uplink:
        pages = runs[0]["page_bytes"]
        print(f"  {runs[0]['pages']} pages, {pages / 1e6:.1f} MB "
              f"({pages / max(runs[0]['pages'], 1) / 1e3:.0f} KB a page): the uplink alone "
              f"needs {pages / uplink:.1f} s for them")


def variant(text: str) -> tuple[str, dict[str, str]]:
    """``NAME:KEY=VALUE,...`` → (NAME, {KEY: VALUE})."""
    name, _, settings = text.partition(":")
    try:
        render = dict(pair.split("=", 1) for pair in settings.split(",") if pair)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not NAME:KEY=VALUE,...: {text}") from None
    return name, render


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdf", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--uplink", type=bits_per_second, default=None,
                        help="upload throughput, e.g. 10mbit (default: unlimited)")
    parser.add_argument("--latency", type=seconds, default=0.0,
                        help="added to every Telegram call, e.g. 50ms (default: none)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each way (median)")
    parser.add_argument("--only", choices=("parallel", "sequential"),
                        help="measure one way only")
    parser.add_argument("--variant", type=variant, action="append", default=[],
                        help="NAME:KEY=VALUE,... [render] settings to compare (the new way "
                             "each), e.g. 300dpi:min_dpi=300; repeat it")
    args = parser.parse_args()
    ways: list[tuple[str, bool, dict[str, str] | None]] = [("sequential", False, None),
                                                           ("parallel", True, None)]
    if args.only:
        ways = [way for way in ways if way[0] == args.only]
    if args.variant:
        ways = [(name, True, render) for name, render in args.variant]
    results: dict[str, list[dict]] = {name: [] for name, _, _ in ways}
    for _ in range(args.runs):
        for name, parallel, render in ways:
            results[name].append(await run(args.pdf, parallel=parallel, latency=args.latency,
                                           uplink=args.uplink, render=render))
    workers = next(iter(results.values()))[0]["workers"]
    link = f"{args.uplink * 8 / 1e6:g} Mbit/s" if args.uplink else "unlimited uplink"
    print(f"36-page estimate, {workers} render workers, {link}, "
          f"{args.latency * 1000:g} ms a call, {args.runs} run(s) of each way:")
    labels = {"sequential": "today's way (render all, then upload file after file)",
              "parallel": "new way (upload each page as rendered, parts in parallel)"}
    for name, runs in results.items():
        report(labels.get(name, f"new way, {name}"), runs, args.uplink)


if __name__ == "__main__":
    asyncio.run(main())
