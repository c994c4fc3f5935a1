"""Pages go up to Telegram as they are rendered, their files' parts in parallel, and arrive in
the channel in page order, each once (issue 15: publishing at the speed of an office uplink)."""

from __future__ import annotations

import asyncio
import re

import pymupdf

from smetabot.telegram.emulator import Emulator
from tests.helpers import run, sandbox_app
from tests.test_publish import contractor_with_channel, wait_text

PAGES = 12


def first_pages(corpus, target):
    with pymupdf.open(corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf") as whole, \
            pymupdf.open() as part:
        part.insert_pdf(whole, from_page=0, to_page=PAGES - 1)
        part.save(target)
    return target


def watch_parts(emulator: Emulator, data_dir):
    """Record every file part Telegram receives: its file, when it arrived and was answered,
    and how many of the publication's pages were rendered on disk at that moment."""
    parts: list[dict] = []
    dispatch = emulator.dispatch

    async def watched(session, query):
        name = type(query).__name__
        if name not in ("SaveFilePart", "SaveBigFilePart"):
            return await dispatch(session, query)
        loop = asyncio.get_running_loop()
        entry = {"file": query.file_id, "start": loop.time(), "rendered": len(list(
            data_dir.glob("uploads/*/publication-*/page-*.png")))}
        try:
            return await dispatch(session, query)
        finally:
            entry["end"] = loop.time()
            parts.append(entry)

    emulator.dispatch = watched  # type: ignore[method-assign]
    return parts


async def publish_all(app, ivan, pdf, data_dir) -> list[dict]:
    """The contractor publishes every page; the file parts sent after their confirmation
    (the previews before it are file uploads too)."""
    emu = app.emulator
    sent = await emu.user_send_document(ivan, pdf.name, pdf.read_bytes(), "application/pdf")
    [picker] = await wait_text(app, ivan, "Какие страницы", after=sent, timeout=120)
    await emu.user_press(ivan, picker["id"], "Все")
    await wait_text(app, ivan, f"{PAGES} из {PAGES}", after=sent)
    await emu.user_press(ivan, picker["id"], "Далее ➡️")
    [question] = await wait_text(app, ivan, "Водяной знак", after=sent)
    await emu.user_press(ivan, question["id"], "✅ Оставить")
    [choice] = await wait_text(app, ivan, "В какой канал", after=sent)
    parts = watch_parts(emu, data_dir)
    await emu.user_press(ivan, choice["id"], "📢 Квартира на Ленина")
    await wait_text(app, ivan, "✅ Документ опубликован", after=sent, timeout=120)
    return parts


def overlapping_files(parts: list[dict]) -> int:
    """The most different files with a part in flight at the same moment."""
    most = 0
    for part in parts:
        at = part["start"]
        most = max(most, len({p["file"] for p in parts if p["start"] <= at < p["end"]}))
    return most


def page_numbers(emulator, channel_id):
    posts = [p for p in emulator.channel(channel_id)["posts"] if p["media"]]
    return [int(re.search(r"стр\. (\d+)\.png$", p["media"]["file_name"])[1]) for p in posts]


def test_pages_upload_while_others_render_in_parallel_and_arrive_in_order_once(tmp_path,
                                                                               corpus):
    """With a slow Telegram (50 ms a call, a 4 MB/s uplink): the first page is on its way
    before the last one is rendered, parts of several files are in flight at once, and the
    channel gets pages 1–12 in order, once each."""
    async def scenario():
        emulator = Emulator(latency=0.05, uplink_bytes_per_s=4_000_000)
        emulator.create_bot("smetabot", "SmetaBot")
        data = tmp_path / "data"
        async with sandbox_app(data, emulator) as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            parts = await publish_all(app, ivan, first_pages(corpus, tmp_path / "smeta-12.pdf"),
                                      data)
            assert page_numbers(emulator, channel_id) == list(range(1, PAGES + 1))
            # 12 pages and their 12 thumbnails
            assert len({p["file"] for p in parts}) == 2 * PAGES
            assert min(p["rendered"] for p in parts) < PAGES  # uploads began mid-render
            assert overlapping_files(parts) >= 2

    run(scenario(), timeout=240)


def test_the_sequential_way_has_one_part_in_flight_and_the_same_posts(tmp_path, corpus):
    """The old way, kept for the benchmark's comparison: what the test above checks does
    tell the two apart (one part at a time, after all pages are rendered)."""
    async def scenario():
        emulator = Emulator(latency=0.05, uplink_bytes_per_s=4_000_000)
        emulator.create_bot("smetabot", "SmetaBot")
        data = tmp_path / "data"
        async with sandbox_app(data, emulator) as app:
            app.publishing.parallel_uploads = False
            ivan, channel_id, _ = await contractor_with_channel(app)
            parts = await publish_all(app, ivan, first_pages(corpus, tmp_path / "smeta-12.pdf"),
                                      data)
            assert page_numbers(emulator, channel_id) == list(range(1, PAGES + 1))
            assert min(p["rendered"] for p in parts) == PAGES
            assert overlapping_files(parts) == 1

    run(scenario(), timeout=240)
