"""Fair scheduling: one contractor's long job does not hold back another's first preview."""

from __future__ import annotations

import asyncio
import time

from smetabot.render.renderer import Renderer


def test_another_contractors_first_preview_overtakes_a_long_job(runner, corpus, settings,
                                                                tmp_path):
    big = corpus / "pdf_tricky/pdfjs_freeculture_352pages.pdf"
    small = corpus / "pdf_tricky/samplefiles_habibi-rotated_0-90-180-270.pdf"
    renderer = Renderer(settings, runner)
    finished: list[float] = []  # when each of A's pages was written

    async def scenario() -> tuple[float, float, int]:
        async def page_done(_page: dict) -> None:
            finished.append(time.perf_counter())

        work_a = tmp_path / "a"
        prepared = await renderer.prepare(big, work_a, owner=1)
        numbers = list(range(1, 61))
        targets = [work_a / f"page-{n:03d}.png" for n in numbers]
        long_job = asyncio.create_task(renderer.pages(prepared.pdf, numbers, targets, "A",
                                                      page_done, owner=1, dpi=150))
        while len(finished) < 2:  # A's job is under way on both workers
            assert not long_job.done(), long_job.result()
            await asyncio.sleep(0.01)
        asked = time.perf_counter()
        first: list[float] = []

        async def on_sheet(_sheet: dict) -> None:
            first.append(time.perf_counter())

        mine = await renderer.prepare(small, tmp_path / "b", owner=2)
        await renderer.contact_sheets(mine.pdf, [1, 2, 3, 4], tmp_path / "b/previews",
                                      on_sheet, owner=2)
        await long_job
        return asked, first[0], len(numbers)

    asked, first_preview, total = asyncio.run(scenario())
    overtaken = sum(1 for moment in finished if asked < moment < first_preview)
    # Only the pages the two workers were already busy with (and the next each took while B's
    # first tasks were being prepared and queued, a few more on a loaded machine) may finish
    # before B's first preview; first in, first out, all ~58 of A's remaining pages would.
    assert overtaken <= 8, (overtaken, total)
    assert sum(1 for moment in finished if moment > first_preview) > total // 2
