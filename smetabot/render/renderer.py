"""The one render API that ``smetabot render`` and ``serve`` both call.

A :class:`Renderer` is built once from the ``[render]`` settings and the Huey queue (with its
consumer). Its calls are typed and take the contractor they work for (``owner``), so the queue can
be fair between contractors:

- :meth:`Renderer.check_announced` — before a download, from the name and size Telegram announces;
- :meth:`Renderer.check_file` — size and type of a file on disk, checked once (the one sniffer);
- :meth:`Renderer.prepare` — a readable PDF for the file (LibreOffice for Office files);
- :meth:`Renderer.contact_sheets` — numbered thumbnails of up to 20 pages per image, handed
  out a sheet at a time in page order as they are ready;
- :meth:`Renderer.page_view` — one page larger, for a closer look before choosing;
- :meth:`Renderer.pages` — full-resolution watermarked pages;
- :meth:`Renderer.render` / :meth:`Renderer.render_sync` — all of it, for the CLI.

Priorities on the queue (Huey's, higher first): a document's preparation, then thumbnails (and
pages shown larger), then full pages; within a class, a contractor's task queues behind as many of that contractor's own
tasks as are already waiting (:class:`~smetabot.render.jobs.JobRunner`), so one contractor's 300
pages never hold back another's first preview by more than the page a worker is busy with.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import SqliteHuey
from huey.consumer import Consumer

from smetabot.errors import FileTooLarge, TooManyPages, UnsupportedFile
from smetabot.render import contact, detect
from smetabot.render.detect import Sniffed
from smetabot.render.jobs import JobRunner
from smetabot.render.pages import parse_pages
from smetabot.render.pipeline import RenderResult, RenderSettings
from smetabot.render.tasks import blob_store, tasks_of

PREPARE, PREVIEW, PAGE = 2_000_000, 1_000_000, 0  # Huey priorities of the three kinds of task
CELL_CHUNK = 10  # thumbnails per task (a few ms each): a sheet is split over two workers
SHEET_KINDS = ("xlsx", "xls", "ods")

OnSheet = Callable[[dict], Awaitable[None]]
OnPage = Callable[[dict], Awaitable[None]]


@dataclass(frozen=True)
class Prepared:
    """A document ready to render: the PDF to render from and its page count."""

    pdf: Path
    pages: int
    sniffed: Sniffed
    converted: bool
    #: for a workbook: each sheet's name with its first and last page, e.g. ("Смета", 1, 6)
    sheets: tuple[tuple[str, int, int], ...] = ()


class Renderer:
    """Typed render calls on one queue; see the module docstring."""

    def __init__(self, settings: RenderSettings, runner: JobRunner) -> None:
        self.settings = settings
        self.runner = runner
        self.tasks = tasks_of(runner.huey)
        self.blobs = blob_store(runner.huey)
        self._shipped: dict[tuple[str, int, int], tuple[str, float]] = {}

    def _ref(self, path: Path) -> str:
        """How tasks name the file at ``path``: the path itself on the embedded queue; on a
        Redis queue, the document stored in Redis (once per file, refreshed hourly)."""
        if self.blobs is None:
            return str(path)
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        known = self._shipped.get(key)
        if known is not None and time.monotonic() - known[1] < 3600:
            return known[0]
        if len(self._shipped) > 256:
            self._shipped.clear()
        ref = self.blobs.put(path)
        self._shipped[key] = (ref, time.monotonic())
        return ref

    async def _refs(self, path: Path) -> str:
        return await asyncio.to_thread(self._ref, path)

    @classmethod
    def on_queue(cls, settings: RenderSettings, huey: SqliteHuey | Any,
                 consumer: Consumer | None = None, **runner_options: float) -> Renderer:
        """A renderer submitting to ``huey`` (whose ``consumer``'s workers it may kill)."""
        return cls(settings, JobRunner(huey, consumer, **runner_options))

    async def waiting_for_workers(self) -> bool:
        """Whether work put on the queue now would wait for a render worker to come up: a
        Redis queue with no worker listening and none in this process."""
        if self.blobs is None or self.runner.consumer is not None:
            return False
        from smetabot.render.remote import workers_listening

        return await asyncio.to_thread(workers_listening, self.runner.huey) == 0

    # -- checks ---------------------------------------------------------------------------

    def check_size(self, size: int) -> None:
        """Refuse ``size`` bytes when over the limit."""
        limit = self.settings.max_file_mb
        if size > limit * 1024 * 1024:
            raise FileTooLarge(size_mb=math.ceil(size / 1024 / 1024), limit_mb=limit)

    def check_announced(self, name: str | None, size: int | None) -> None:
        """Refuse, before downloading, a file whose announced size or name rules it out."""
        self.check_size(size or 0)
        suffix = Path(name or "").suffix.lower()
        if suffix and suffix not in detect.EXTENSIONS:
            raise UnsupportedFile()

    def check_file(self, path: Path) -> Sniffed:
        """Size and type of the file at ``path``, checked once for the whole pipeline."""
        self.check_size(path.stat().st_size)
        return detect.sniff(path, max_cells=self.settings.max_cells)

    # -- work on the queue ----------------------------------------------------------------

    async def prepare(self, source: Path, work: Path, *, owner: int = 0,
                      sniffed: Sniffed | None = None) -> Prepared:
        """A readable PDF for ``source`` (``sniffed``: what :meth:`check_file` said, if the
        caller asked it already)."""
        if sniffed is None:
            sniffed = await asyncio.to_thread(self.check_file, source)
        settings, pdf = self.settings, source
        if sniffed.office:
            converted = work / "converted"
            converted.mkdir(parents=True, exist_ok=True)
            job = self.runner.submit(
                self.tasks.convert_office, await self._refs(source), str(converted), settings.soffice,
                settings.office_timeout, sniffed.kind, sniffed.encrypted, settings.paper,
                timeout=settings.office_timeout + 10, owner=owner, priority=PREPARE,
                limit_words=f"{settings.office_timeout:g} s of conversion")
            pdf = Path((await self.runner.gather([job]))[0]["pdf"])
        ref = await self._refs(pdf)
        job = self.runner.submit(self.tasks.inspect_pdf, ref, str(work),
                                 settings.worker_memory_mb, sniffed.kind in SHEET_KINDS,
                                 timeout=settings.page_timeout, owner=owner, priority=PREPARE)
        info = (await self.runner.gather([job]))[0]
        ready = pdf if info["pdf"] == ref else Path(info["pdf"])
        return Prepared(ready, info["pages"], sniffed, sniffed.office,
                        tuple(tuple(sheet) for sheet in info["sheets"]))

    async def contact_sheets(self, pdf: Path, numbers: list[int], out: Path,
                             on_sheet: OnSheet | None = None, *, owner: int = 0,
                             first_sheet: int = 1) -> list[dict]:
        """Contact sheets of ``numbers``, up to 20 pages each, as ``out/sheet-NN.jpg``
        (``NN`` counts from ``first_sheet``); ``on_sheet`` gets each in order as soon as it
        and those before it are ready, whatever order the workers finish in. A sheet's
        thumbnails are spread over the workers; the sheet is composed here, which is cheap."""
        settings = self.settings
        out.mkdir(parents=True, exist_ok=True)
        groups = contact.sheets_of(numbers)
        ref = await self._refs(pdf)
        jobs, sheet_of = [], []
        for index, group in enumerate(groups):
            width, height = contact.thumb_box(min(len(numbers), contact.SHEET_PAGES))
            for at in range(0, len(group), CELL_CHUNK):
                jobs.append(self.runner.submit(
                    self.tasks.render_cells, ref, group[at:at + CELL_CHUNK], str(out), width,
                    height, settings.worker_memory_mb, timeout=settings.page_timeout * 2,
                    owner=owner, priority=PREVIEW))
                sheet_of.append(index)
        waiting = {index: sheet_of.count(index) for index in range(len(groups))}
        cells: dict[int, dict[int, Path]] = {index: {} for index in range(len(groups))}
        ready: dict[int, dict] = {}
        sheets: list[dict] = []

        async def collect(job: int, result: dict) -> None:
            index = sheet_of[job]
            cells[index].update({cell["page"]: Path(cell["path"]) for cell in result["cells"]})
            waiting[index] -= 1
            if waiting[index]:
                return
            target = out / f"sheet-{first_sheet + index:02d}.jpg"
            made = await asyncio.to_thread(
                contact.write_sheet, [(n, cells[index][n]) for n in groups[index]], target)
            ready[index] = {"sheet": first_sheet + index, **made}
            while len(sheets) in ready:
                sheet = ready.pop(len(sheets))
                sheets.append(sheet)
                if on_sheet is not None:
                    await on_sheet(sheet)

        await self.runner.gather(jobs, collect)
        return sheets

    async def page_view(self, pdf: Path, number: int, out: Path, *, owner: int = 0,
                        side: int = contact.VIEW_SIDE) -> dict:
        """Page ``number`` larger (``side`` pixels on its short side, no watermark) in
        ``out``: ``{"path", "photo", "width", "height", ...}``; ``photo`` is False for a page
        longer than a Telegram photo keeps, which goes as a document."""
        settings = self.settings
        out.mkdir(parents=True, exist_ok=True)
        job = self.runner.submit(self.tasks.render_view, await self._refs(pdf), number,
                                 str(out), side, int(settings.max_megapixels * 1e6),
                                 settings.worker_memory_mb, timeout=settings.page_timeout,
                                 owner=owner, priority=PREPARE,  # someone waits for it
                                 limit_words=f"{settings.page_timeout:g} s per page")
        return (await self.runner.gather([job]))[0]

    async def pages(self, pdf: Path, numbers: list[int], targets: list[Path], watermark: str,
                    on_done: OnPage | None = None, *, owner: int = 0,
                    dpi: float | None = None) -> list[dict]:
        """Pages ``numbers`` at ``dpi`` (default: the settings'), each lower down to
        ``render.min_dpi`` as its content allows, with ``watermark`` burned in, written to
        ``targets``; ``on_done`` hears of each as it is written."""
        settings = self.settings
        for folder in {target.parent for target in targets}:
            folder.mkdir(parents=True, exist_ok=True)
        ref = await self._refs(pdf)
        jobs = [self.runner.submit(self.tasks.render_page, ref, number, str(target),
                                   dpi or settings.dpi, int(settings.max_megapixels * 1e6),
                                   watermark, settings.png_level, settings.worker_memory_mb,
                                   settings.min_dpi, timeout=settings.page_timeout,
                                   owner=owner, priority=PAGE,
                                   limit_words=f"{settings.page_timeout:g} s per page")
                for number, target in zip(numbers, targets, strict=True)]

        async def done(_index: int, result: dict) -> None:
            if on_done is not None:
                await on_done(result)

        return await self.runner.gather(jobs, done)

    # -- the whole pipeline, for the CLI --------------------------------------------------

    async def render(self, src: Path, out_dir: Path, work: Path, *, pages: str | None = None,
                     watermark: str = "", dpi: int | None = None, previews: bool = False,
                     owner: int = 0) -> RenderResult:
        """Render ``src`` into ``out_dir``: ``page-NNN.png`` and, with ``previews``, contact
        sheets of the pages rendered, ``sheet-NN.jpg``. Work happens in ``work``; only finished files reach ``out_dir``."""
        started = time.perf_counter()
        prepared = await self.prepare(src, work, owner=owner)
        numbers = parse_pages(pages, prepared.pages)
        if len(numbers) > self.settings.max_pages:
            raise TooManyPages(pages=len(numbers), limit=self.settings.max_pages)
        staging = work / "out"
        staging.mkdir(parents=True, exist_ok=True)
        targets = [staging / f"page-{number:03d}.png" for number in numbers]
        jobs = [self.pages(prepared.pdf, numbers, targets, watermark, owner=owner, dpi=dpi)]
        if previews:
            jobs.append(self.contact_sheets(prepared.pdf, numbers, staging, owner=owner))
        done = await asyncio.gather(*jobs)
        result = RenderResult(total_pages=prepared.pages, converted=prepared.converted,
                              pages=done[0], previews=done[1] if previews else [])
        out_dir.mkdir(parents=True, exist_ok=True)
        for item in result.pages + result.previews:
            target = out_dir / Path(item["path"]).name
            shutil.move(item["path"], target)
            item["path"] = str(target)
        result.seconds = time.perf_counter() - started
        return result

    def render_sync(self, src: Path, out_dir: Path, work: Path, **options: object) -> RenderResult:
        """:meth:`render` for callers without an event loop (the CLI, benchmarks)."""
        return asyncio.run(self.render(src, out_dir, work, **options))  # type: ignore[arg-type]
