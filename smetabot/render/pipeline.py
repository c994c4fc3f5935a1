"""From a contractor's file to watermarked page images: the steps, in order.

check size → sniff the type → LibreOffice for Office files → validate the PDF → render the
selected pages in parallel (one task per page) and, on request, thumbnails.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from smetabot.errors import FileTooLarge, TooManyPages
from smetabot.render import detect
from smetabot.render.jobs import JobRunner
from smetabot.render.pages import parse_pages


@dataclass(frozen=True)
class RenderSettings:
    """Limits and knobs of the pipeline (the ``[render]`` config section)."""

    dpi: int = 300
    max_file_mb: int = 50
    max_pages: int = 300
    max_megapixels: float = 40.0
    page_timeout: float = 60.0
    office_timeout: float = 120.0
    soffice: str = ""
    png_level: int = 3
    worker_memory_mb: int = 2048
    preview_width: int = 320

    @classmethod
    def from_config(cls, section: dict) -> RenderSettings:
        """Settings from the config's ``[render]`` section (unknown keys ignored)."""
        names = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in section.items() if key in names})


@dataclass
class RenderResult:
    """What a render produced."""

    total_pages: int
    pages: list[dict] = field(default_factory=list)
    previews: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    converted: bool = False

    @property
    def bytes(self) -> int:
        """Size of everything written."""
        return sum(item["bytes"] for item in self.pages + self.previews)

    @property
    def scaled(self) -> list[dict]:
        """Pages rendered below the asked DPI to stay within the pixel budget."""
        return [page for page in self.pages if page["scaled"]]


def check_size(src: Path, settings: RenderSettings) -> None:
    """Refuse a file over the size limit before doing anything with it."""
    check_size_bytes(src.stat().st_size, settings)


def check_size_bytes(size: int, settings: RenderSettings) -> None:
    """Refuse ``size`` bytes when over the limit (before a download, say)."""
    if size > settings.max_file_mb * 1024 * 1024:
        raise FileTooLarge(size_mb=math.ceil(size / 1024 / 1024), limit_mb=settings.max_file_mb)


def prepare(runner: JobRunner, src: Path, workdir: Path,
            settings: RenderSettings) -> tuple[str, int, bool]:
    """Make sure there is a readable PDF for ``src``: returns its path, page count, and
    whether it came from LibreOffice."""
    check_size(src, settings)
    kind = detect.sniff(src)
    pdf, converted = str(src), False
    if kind == detect.OFFICE:
        converted_dir = workdir / "converted"
        converted_dir.mkdir(exist_ok=True)
        result = runner.run("convert_office", str(src), str(converted_dir), settings.soffice,
                            settings.office_timeout, timeout=settings.office_timeout + 10,
                            limit_words=f"{settings.office_timeout:g} s of conversion")
        pdf, converted = result["pdf"], True
    info = runner.run("inspect_pdf", pdf, str(workdir), settings.worker_memory_mb,
                      timeout=settings.page_timeout)
    return info["pdf"], info["pages"], converted


def render(runner: JobRunner, src: Path, out_dir: Path, workdir: Path,
           settings: RenderSettings, *, pages: str | None = None, watermark: str = "",
           dpi: int | None = None, previews: bool = False, workers: int = 1) -> RenderResult:
    """Render ``src`` into ``out_dir``: ``page-NNN.png`` and, with ``previews``,
    ``preview-NNN.jpg``. Work happens in ``workdir``; only finished files reach ``out_dir``."""
    started = time.perf_counter()
    pdf, total, converted = prepare(runner, src, workdir, settings)
    numbers = parse_pages(pages, total)
    if len(numbers) > settings.max_pages:
        raise TooManyPages(pages=len(numbers), limit=settings.max_pages)
    dpi = dpi or settings.dpi
    staging = workdir / "out"
    staging.mkdir(exist_ok=True)
    max_pixels = int(settings.max_megapixels * 1_000_000)
    jobs = [runner.submit("render_page", pdf, number, str(staging / f"page-{number:03d}.png"),
                          dpi, max_pixels, watermark, settings.png_level,
                          settings.worker_memory_mb, timeout=settings.page_timeout,
                          limit_words=f"{settings.page_timeout:g} s per page")
            for number in numbers]
    if previews:
        chunk = max(1, math.ceil(len(numbers) / max(1, workers)))
        jobs += [runner.submit("render_previews", pdf, numbers[at:at + chunk], str(staging),
                               settings.preview_width, settings.worker_memory_mb,
                               timeout=settings.page_timeout * 2)
                 for at in range(0, len(numbers), chunk)]
    done = runner.wait(jobs)
    result = RenderResult(total_pages=total, converted=converted)
    for item in done:
        if "previews" in item:
            result.previews.extend(item["previews"])
        else:
            result.pages.append(item)
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in result.pages + result.previews:
        target = out_dir / Path(item["path"]).name
        shutil.move(item["path"], target)
        item["path"] = str(target)
    result.seconds = time.perf_counter() - started
    return result


def default_workers(configured: int = 0) -> int:
    """Worker processes: the configured number, or one per core."""
    return configured if configured > 0 else (os.cpu_count() or 1)
