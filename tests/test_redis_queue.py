"""Render workers on another machine through a real Redis (issue 16).

Each test starts Debian's ``redis-server`` on a free loopback port (with a password) and a
``smetabot worker`` process with its own empty data dir; serve runs with no render workers of
its own, so every page it publishes came through Redis from that worker."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smetabot.render import remote
from tests.helpers import SAMPLES, labels, press, run, sandbox_app, say
from tests.test_publish import contractor_with_channel, send_file, wait_text

PASSWORD = "queue-pass-7c1e"
SMETABOT = Path(sys.executable).with_name("smetabot")



def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def redis_url(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (Debian's redis-server package; "
                    "scripts/setup installs it)")
    port = _free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--requirepass", PASSWORD],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"

    def up() -> bool:
        try:
            remote.status(url)
        except Exception:  # noqa: BLE001 - not listening yet
            return False
        return True

    try:
        _wait(up, what="redis-server to listen")
        yield url
    finally:
        server.kill()
        server.wait()


class Worker:
    """A ``smetabot worker`` process with its own empty data dir (no config, no token)."""

    def __init__(self, url: str, folder: Path, processes: int = 1) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.log = (folder / "worker.log").open("w")
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("SMETABOT_")}
        env["SMETABOT_RENDER_QUEUE"] = url
        self.process = subprocess.Popen(
            [str(SMETABOT), "worker", "--workers", str(processes), "--data-dir",
             str(folder / "data")],
            cwd=folder, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        _wait(lambda: remote.status(url).workers >= processes, what="the worker's heartbeat")

    def children(self) -> set[int]:
        """The pids of its render processes."""
        found = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.add(int(entry.name))
        return found

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()
        return (self.folder / "worker.log").read_text()


@pytest.fixture
def worker(redis_url, tmp_path):
    started = Worker(redis_url, tmp_path / "worker")
    yield started
    if started.process.poll() is None:
        started.stop()


async def _publish_pages(app, ivan, channel_title: str, path: Path, pages: str) -> dict:
    sent = await send_file(app, ivan, path)
    await wait_text(app, ivan, "Какие страницы", after=sent)
    [again] = await say(app, ivan, pages)
    [question] = await press(app, ivan, again["id"], "Далее ➡️")
    [ask] = await press(app, ivan, question["id"], "✏️ Другой текст")
    [choice] = await say(app, ivan, "Для Петрова")
    assert labels(choice)[0] == f"📢 {channel_title}"
    return choice


def test_worker_without_config_renders_a_publication_end_to_end(tmp_path, redis_url, worker):
    async def scenario():
        async with sandbox_app(tmp_path / "main", render_queue=redis_url,
                               render_serve_workers="0") as app:
            assert app.consumer is None  # no render process on the main machine
            ivan, channel_id, _ = await contractor_with_channel(app)
            # An Office file: LibreOffice runs on the worker; the PDF comes back once.
            choice = await _publish_pages(app, ivan, "Квартира на Ленина",
                                          SAMPLES / "smeta-remont-kvartiry.xlsx", "1")
            await press(app, ivan, choice["id"], "📢 Квартира на Ленина")
            [done] = await wait_text(app, ivan, "✅ Документ опубликован")
            posts = [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            assert len(posts) == 1 and posts[0]["protected"]
            data = app.emulator.file_bytes(posts[0]["media"]["file_id"])
            assert data.startswith(b"\x89PNG")
            # The worker cached each document it was sent, once, under its content's hash.
            cached = list((worker.folder / "data" / "documents").iterdir())
            assert cached and all(len(p.stem) == 64 for p in cached)

    run(scenario())
    assert "render processes on redis://127.0.0.1:" in worker.stop()
    assert PASSWORD not in (worker.folder / "worker.log").read_text()


def test_worker_killed_mid_page_its_page_runs_again_and_publishes_once(tmp_path, redis_url,
                                                                        worker):
    async def scenario():
        async with sandbox_app(tmp_path / "main", render_queue=redis_url,
                               render_serve_workers="0", render_page_timeout="4") as app:
            ivan, channel_id, _ = await contractor_with_channel(app)
            choice = await _publish_pages(app, ivan, "Квартира на Ленина",
                                          SAMPLES / "smeta-kottedzh.pdf", "1-8")
            conn = app.huey.storage.conn
            results = f"huey.results.{app.huey.name}"

            def page_running() -> int | None:
                for field in conn.hkeys(results):
                    if field.startswith(b"started:"):
                        started = app.huey.get(field.decode(), peek=True)
                        if started and started[3] == "render_page":
                            return started[0]
                return None

            await press(app, ivan, choice["id"], "📢 Квартира на Ленина")
            deadline = time.monotonic() + 60
            while (victim := page_running()) is None:
                assert time.monotonic() < deadline, "no page ever started"
                await asyncio.sleep(0.005)
            assert victim in worker.children()
            os.kill(victim, signal.SIGKILL)
            [done] = await wait_text(app, ivan, "✅ Документ опубликован", timeout=90)
            assert "8 стр." in done["text"]
            await asyncio.sleep(0)
            posts = [p for p in app.emulator.channel(channel_id)["posts"] if p["media"]]
            names = [p["media"]["file_name"] for p in posts]
            assert len(posts) == 8 and len(set(names)) == 8
            row = await app.db.fetchone("SELECT COUNT(*) AS n FROM core_publications")
            assert row["n"] == 1
            assert victim not in worker.children()  # the worker replaced it

    run(scenario())


def test_doctor_status_counts_workers_and_refuses_a_wrong_password(tmp_path, redis_url,
                                                                  worker):
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMETABOT_")}

    def doctor(url: str) -> str:
        out = subprocess.run([str(SMETABOT), "doctor", "--data-dir", str(tmp_path)],
                             env={**env, "SMETABOT_RENDER_QUEUE": url}, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        return out.stdout + out.stderr

    report = doctor(redis_url)
    assert PASSWORD not in report
    [line] = [line for line in report.splitlines() if "render queue" in line]
    assert ("reachable, authenticated; 1 worker process(es) on 1 machine(s) listening"
            in line), report
    [line] = [line for line in doctor(redis_url.replace(PASSWORD, "wrong")).splitlines()
              if "render queue" in line]
    assert "refused the password" in line and "wrong" not in line
    found = remote.status(redis_url)
    assert found.workers == 1 and found.machines == 1
    assert PASSWORD not in found.where
    wrong = redis_url.replace(PASSWORD, "wrong")
    with pytest.raises(Exception) as caught:
        remote.status(wrong)
    assert "refused the password" in str(caught.value.message("en"))
    assert "wrong" not in caught.value.message("en")
    worker.stop()
    assert remote.status(redis_url).workers == 0  # a stopped worker says goodbye


def test_default_queue_needs_no_redis_library(tmp_path):
    """With redis unimportable, the embedded queue renders, and a Redis queue says what is
    missing."""
    code = f"""
import sys
sys.modules["redis"] = None  # not installed
from pathlib import Path
from smetabot import app, cli, errors  # noqa: F401
from smetabot.render import jobs
from smetabot.render.pipeline import RenderSettings
from smetabot.render.renderer import Renderer
from smetabot.render.tasks import create_huey, create_redis_huey
huey = create_huey(Path({str(tmp_path)!r}) / "queue.db")
with jobs.embedded_consumer(huey, 1) as consumer:
    result = Renderer.on_queue(RenderSettings(dpi=72), huey, consumer).render_sync(
        Path({str(SAMPLES / "smeta-remont-kvartiry.pdf")!r}), Path({str(tmp_path / "out")!r}),
        Path({str(tmp_path / "work")!r}), pages="1")
print(len(result.pages))
try:
    create_redis_huey("redis://127.0.0.1:1/0")
except errors.StartupError as exc:
    print(exc.message("en"))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "1", ("Cannot start: a Redis render queue needs the redis package "
              "(pip install 'smetabot[redis]')")]


def test_with_no_worker_up_the_bot_answers_and_says_rendering_waits(tmp_path, redis_url):
    async def scenario():
        async with sandbox_app(tmp_path / "main", render_queue=redis_url,
                               render_serve_workers="0") as app:
            ivan, _, _ = await contractor_with_channel(app)
            sent = await send_file(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf")
            [waiting] = await wait_text(app, ivan, "в очереди", after=sent)
            assert "ни один обработчик страниц не запущен" in waiting["text"]
            [menu] = await say(app, ivan, "/start")  # the bot keeps answering meanwhile
            assert "Главное меню" in menu["text"]
            started = await asyncio.to_thread(Worker, redis_url, tmp_path / "late-worker")
            try:
                # The same status message now tells the previews are ready.
                [ready] = await wait_text(app, ivan, "«smeta-remont-kvartiry.pdf»: 3 стр.",
                                          after=sent)
                assert ready["id"] == waiting["id"]
                [sheet] = [m for m in app.emulator.user_chat(ivan, sent) if m["media"]]
                assert "«smeta-remont-kvartiry.pdf»: стр. 1–3 из 3" in sheet["caption"]
                assert labels(sheet) == ["1", "2", "3"]
            finally:
                await asyncio.to_thread(started.stop)

    run(scenario())
