"""Benchmark: pages per second through a Redis queue with one and two worker processes, beside
the embedded SQLite queue on the same document in the same run.

Starts Debian's ``redis-server`` on a free loopback port, then for each setup renders the same
pages (300 DPI, watermarked) through :class:`~smetabot.render.renderer.Renderer`:

- embedded: an SQLite queue with N process workers in this process (N = 1, then 2);
- redis: ``smetabot worker --workers 1`` processes (1, then 2 of them), each with its own empty
  data dir; the document travels through Redis and every page comes back as bytes.

    .venv/bin/python benchmarks/redis_workers.py [--pages 1-24] [--file PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smetabot.render import jobs, remote
from smetabot.render.pipeline import RenderSettings
from smetabot.render.renderer import Renderer
from smetabot.render.tasks import create_huey, create_redis_huey

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT.parent / "shared/corpus/estimates_ru/treasury_223fz_formats_v16.2.pdf"
SMETABOT = Path(sys.executable).with_name("smetabot")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def _render(renderer: Renderer, src: Path, pages: str, scratch: Path) -> tuple[int, float]:
    work = Path(tempfile.mkdtemp(dir=scratch))
    started = time.perf_counter()
    result = renderer.render_sync(src, work / "out", work / "work", pages=pages,
                                  watermark="Бенчмарк")
    seconds = time.perf_counter() - started
    shutil.rmtree(work)
    return len(result.pages), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", default="1-24")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (scripts/setup installs it)")
    settings = RenderSettings()
    scratch = Path(tempfile.mkdtemp(prefix="smetabot-bench-"))
    rows = []
    try:
        for count in (1, 2):
            huey = create_huey(scratch / f"queue-{count}.db")
            with jobs.embedded_consumer(huey, count) as consumer:
                renderer = Renderer.on_queue(settings, huey, consumer)
                _render(renderer, args.file, "1", scratch)  # warm up
                pages, seconds = _render(renderer, args.file, args.pages, scratch)
            rows.append((f"embedded SQLite, {count} process(es)", pages, seconds))

        port = _free_port()
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(scratch)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        workers: list[subprocess.Popen] = []
        try:
            _wait(lambda: _reachable(url))
            huey = create_redis_huey(url)
            renderer = Renderer.on_queue(settings, huey, None)
            for count in (1, 2):
                env = {k: v for k, v in os.environ.items() if not k.startswith("SMETABOT_")}
                workers.append(subprocess.Popen(
                    [str(SMETABOT), "worker", "--queue", url, "--workers", "1", "--data-dir",
                     str(scratch / f"worker-{count}")], cwd=scratch, env=env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                _wait(lambda n=count: remote.status(url).workers >= n)
                _render(renderer, args.file, "1", scratch)  # warm up (and the fetch)
                pages, seconds = _render(renderer, args.file, args.pages, scratch)
                rows.append((f"Redis, {count} worker process(es)", pages, seconds))
            memory = huey.storage.conn.info("memory")["used_memory_peak_human"]
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
            for process in workers:
                process.wait(timeout=30)
            server.kill()
            server.wait()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    size = args.file.stat().st_size / 1024 / 1024
    print(f"{args.file.name} ({size:.1f} MB), pages {args.pages} at {settings.dpi} DPI, "
          f"{os.cpu_count()} cores")
    for name, pages, seconds in rows:
        print(f"  {name:36} {pages:3d} pages in {seconds:6.2f} s = {pages / seconds:5.2f} pages/s")
    print(f"  Redis peak memory during the run: {memory}")


def _reachable(url: str) -> bool:
    try:
        remote.status(url)
    except Exception:  # noqa: BLE001 - not listening yet
        return False
    return True


if __name__ == "__main__":
    main()
