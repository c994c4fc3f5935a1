"""Benchmark: SmetaBot's render pipeline against `mutool draw -r 300`, in the same run.

Renders the same pages of a multi-page A4 estimate, ours with the watermark (the whole
pipeline: the SQLite Huey queue and its process workers), MuPDF's own tool at 300 DPI in one
process without one, alternating, and prints the ratio of median wall times, the peak RSS per worker
and the average page size. Ours renders each page at the DPI its content needs (between
``render.min_dpi`` and 300, as the product does); ``--min-dpi 300`` renders every page at 300
as mutool does. The machine is shared and noisy: read the ratio, not the seconds.

    .venv/bin/python benchmarks/render_vs_mutool.py [PDF] [--pages 1-36] [--runs 3]
        [--png-level N] [--min-dpi N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smetabot.render import jobs, pipeline
from smetabot.render.renderer import Renderer
from smetabot.render.tasks import create_huey

DEFAULT_PDF = (Path(__file__).resolve().parents[2] / "shared/corpus/estimates_ru/"
               "treasury_223fz_formats_v16.2.pdf")


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_ours(pdf: Path, first: int, last: int, workers: int,
             overrides: dict) -> tuple[float, list[float], int, list[float]]:
    work = Path(tempfile.mkdtemp(prefix="smetabot-bench-"))
    try:
        huey = create_huey(work / "queue.db")
        with jobs.embedded_consumer(huey, workers) as consumer:
            settings = pipeline.RenderSettings(**overrides)
            renderer = Renderer.on_queue(settings, huey, consumer)
            started = time.perf_counter()
            result = renderer.render_sync(pdf, work / "out", work, pages=f"{first}-{last}",
                                          watermark="Иванов И.И. · #K7Q2")
            seconds = time.perf_counter() - started
            rss = [peak_rss_mb(process.pid) for _, process in consumer.worker_threads]
        return (seconds, rss, result.bytes // len(result.pages),
                [page["dpi"] for page in result.pages])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_mutool(pdf: Path, first: int, last: int) -> tuple[float, int, float]:
    """Wall time, average page bytes and peak RSS (MB) of one mutool run."""
    out = Path(tempfile.mkdtemp(prefix="smetabot-bench-mutool-"))
    try:
        started = time.perf_counter()
        process = subprocess.Popen(["mutool", "draw", "-q", "-r", "300", "-o",
                                    str(out / "page-%d.png"), str(pdf), f"{first}-{last}"],
                                   stderr=subprocess.DEVNULL)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix in our workers).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            sys.exit(f"mutool failed with {process.returncode}")
        size = sum(f.stat().st_size for f in out.iterdir()) // (last - first + 1)
        return seconds, size, usage.ru_maxrss / 1024
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", nargs="?", type=Path, default=DEFAULT_PDF)
    parser.add_argument("--pages", default="1-36")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--png-level", type=int, default=None,
                        help="render.png_level for our pages (default: the product's)")
    parser.add_argument("--min-dpi", type=int, default=None,
                        help="render.min_dpi for our pages (default: the product's)")
    args = parser.parse_args()
    if shutil.which("mutool") is None:
        sys.exit("mutool not found: apt-get install mupdf-tools")
    first, last = (int(part) for part in args.pages.split("-"))
    ours, theirs, rss, mutool_rss, page_bytes, mutool_bytes, dpis = [], [], [], [], 0, 0, []
    for _ in range(args.runs):
        seconds, mutool_bytes, peak = run_mutool(args.pdf, first, last)
        theirs.append(seconds)
        mutool_rss.append(peak)
        overrides = {key: value for key, value in (("png_level", args.png_level),
                                                   ("min_dpi", args.min_dpi)) if value}
        seconds, worker_rss, page_bytes, dpis = run_ours(args.pdf, first, last, args.workers,
                                                         overrides)
        ours.append(seconds)
        rss.extend(worker_rss)
    pages = last - first + 1
    print(f"document: {args.pdf.name}, pages {first}-{last} ({pages}), mutool at 300 DPI, "
          f"{args.workers} workers, {args.runs} runs, {os.cpu_count()} cores")
    print(f"mutool draw -r 300:        median {statistics.median(theirs):6.2f} s  "
          f"({statistics.median(theirs) / pages * 1000:.0f} ms/page), "
          f"peak RSS {max(mutool_rss):.0f} MB, avg page {mutool_bytes / 1024:.0f} KiB")
    print(f"smetabot render+watermark: median {statistics.median(ours):6.2f} s  "
          f"({statistics.median(ours) / pages * 1000:.0f} ms/page), "
          f"peak RSS per worker {max(rss):.0f} MB, avg page {page_bytes / 1024:.0f} KiB, "
          f"pages at {min(dpis):.0f}-{max(dpis):.0f} DPI (mean {statistics.mean(dpis):.0f})")
    print(f"ratio (smetabot / mutool): {statistics.median(ours) / statistics.median(theirs):.2f}")


if __name__ == "__main__":
    main()
