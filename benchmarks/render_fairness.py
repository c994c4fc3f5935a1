"""Benchmark: another contractor's time to first preview while one contractor floods the queue.

Contractor A sends two hostile spreadsheets (1.3 KB each, a billion repeated cells) and a
300-page document whose full-resolution pages are rendering; meanwhile contractor B sends a
document (a 4-page PDF, and with ``--long`` the 107-page one). Prints how long the hostile files
took to be refused, A's time per page, and B's time to first preview (median of ``--runs``),
in the same run:

- fair queue, contact sheets (this code): B's first sheet (up to 20 numbered pages) is ready;
- fair queue, thumbnails (before): the 320 px thumbnails of B's first album (10 pages, or all
  of a shorter document) are ready, as the bot had them before contact sheets;
- first in, first out: every task at the same priority, contact sheets.

    .venv/bin/python benchmarks/render_fairness.py [--runs 3] [--workers 2] [--long]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from smetabot import errors
from smetabot.render import jobs
from smetabot.render.pipeline import RenderSettings
from smetabot.render.renderer import PREVIEW, Renderer
from smetabot.render.tasks import create_huey

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus"
BIG = CORPUS / "pdf_tricky/pdfjs_freeculture_352pages.pdf"
SMALL = CORPUS / "pdf_tricky/samplefiles_habibi-rotated_0-90-180-270.pdf"
LONG = CORPUS / "estimates_ru/gge_VOR_format_ComparativeQuantityTakeoff-1_01.pdf"
THUMB_WIDTH, THUMB_CHUNK, ALBUM = 320, 5, 10  # the previews before contact sheets


async def first_album(renderer: Renderer, pdf: Path, numbers: list[int], out: Path,
                      owner: int) -> float:
    """The previews as they were before contact sheets, to compare: 320 px thumbnails, five
    pages per task; the moment those of the first album (ten pages) were all ready."""
    settings = renderer.settings
    out.mkdir(parents=True, exist_ok=True)
    pending = [renderer.runner.submit(renderer.tasks.render_cells, str(pdf),
                                      numbers[at:at + THUMB_CHUNK], str(out), THUMB_WIDTH,
                                      100_000, settings.worker_memory_mb,
                                      timeout=settings.page_timeout * 2, owner=owner,
                                      priority=PREVIEW)
               for at in range(0, len(numbers), THUMB_CHUNK)]
    needed = set(range(-(-min(ALBUM, len(numbers)) // THUMB_CHUNK)))
    done: set[int] = set()
    ready: list[float] = []

    async def collect(index: int, _result: dict) -> None:
        done.add(index)
        if not ready and needed <= done:
            ready.append(time.perf_counter())

    await renderer.runner.gather(pending, collect)
    return ready[0]


class FifoRunner(jobs.JobRunner):
    """Every task at one priority: the queue as it was before fair scheduling."""

    def submit(self, task: Any, *args: Any, **options: Any) -> jobs.Pending:
        options["priority"], options["owner"] = 0, 0
        return super().submit(task, *args, **options)


def hostile(path: Path) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:'
        'names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:'
        'xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:'
        'body><office:spreadsheet><table:table table:name="x"><table:table-row table:number-'
        'rows-repeated="1000000"><table:table-cell table:number-columns-repeated="1000" office:'
        'value-type="float" office:value="7"><text:p>7</text:p></table:table-cell></table:table-'
        'row></table:table></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


async def scenario(renderer: Renderer, work: Path, pages: int, small: Path,
                   sheets: bool) -> tuple[float, float, float]:
    """(seconds to refuse both hostile files, a worker's seconds per page of A, seconds from B's
    sending to B's first preview)."""
    started = time.perf_counter()
    for number in (1, 2):
        try:
            await renderer.prepare(hostile(work / f"bomb{number}.ods"), work, owner=1)
        except errors.SpreadsheetTooLarge:
            pass
    refused = time.perf_counter() - started
    prepared = await renderer.prepare(BIG, work / "a", owner=1)
    numbers = list(range(1, pages + 1))
    done: list[float] = []

    async def page_done(_page: dict) -> None:
        done.append(time.perf_counter())

    flood_started = time.perf_counter()
    flood = asyncio.create_task(renderer.pages(
        prepared.pdf, numbers, [work / "a" / f"page-{n:03d}.png" for n in numbers], "A",
        page_done, owner=1))
    while len(done) < 4:
        if flood.done():
            flood.result()  # it failed: say why
        await asyncio.sleep(0.01)
    asked = time.perf_counter()
    first: list[float] = []

    async def on_sheet(_sheet: dict) -> None:
        first.append(time.perf_counter())

    mine = await renderer.prepare(small, work / "b", owner=2)
    theirs = list(range(1, mine.pages + 1))
    if sheets:
        await renderer.contact_sheets(mine.pdf, theirs, work / "b", on_sheet, owner=2)
    else:
        first.append(await first_album(renderer, mine.pdf, theirs, work / "b", owner=2))
    await flood
    workers = len(renderer.runner.consumer.worker_threads) if renderer.runner.consumer else 1
    per_page = (done[-1] - flood_started) / len(done) * workers  # one worker's time per page
    return refused, per_page, first[0] - asked


def run(fifo: bool, workers: int, pages: int, small: Path,
        sheets: bool) -> tuple[float, float, float]:
    work = Path(tempfile.mkdtemp(prefix="smetabot-bench-fair-"))
    try:
        huey = create_huey(work / "queue.db")
        with jobs.embedded_consumer(huey, workers) as consumer:
            runner = (FifoRunner if fifo else jobs.JobRunner)(huey, consumer)
            return asyncio.run(scenario(Renderer(RenderSettings(), runner), work, pages, small,
                                        sheets))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--long", action="store_true",
                        help="B also sends a 107-page PDF (first sheet: 20 pages)")
    args = parser.parse_args()
    if not BIG.exists():
        sys.exit(f"the corpus is not at {CORPUS}")
    modes = (("fair queue, contact sheets (this code)", False, True),
             ("fair queue, thumbnails (before)", False, False),
             ("first in, first out, contact sheets", True, True))
    documents = [("a 4-page PDF", SMALL)] + ([("a 107-page PDF", LONG)] if args.long else [])
    print(f"A: 2 hostile spreadsheets + {args.pages} pages at 300 DPI in flight; "
          f"{args.workers} workers, {args.runs} runs")
    for words, small in documents:
        figures: dict[str, list[tuple[float, float, float]]] = {label: [] for label, *_ in modes}
        for _ in range(args.runs):
            for label, fifo, sheets in modes:
                figures[label].append(run(fifo, args.workers, args.pages, small, sheets))
        print(f"B: first preview of {words}")
        for label, *_ in modes:
            refused, per_page, first = (statistics.median(v) for v in zip(*figures[label]))
            print(f"  {label:40} hostile files refused in {refused * 1000:.0f} ms, "
                  f"one page {per_page * 1000:.0f} ms, B's first preview after {first:.2f} s")


if __name__ == "__main__":
    main()
