"""Shared fixtures: the corpus, one Huey queue with process workers and one browser for the
session, `serve --sandbox` subprocesses, and no network for any test."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from smetabot.render import jobs
from smetabot.render.pipeline import RenderSettings
from smetabot.render.tasks import create_huey
from smetabot.telegram.emulator.testing import forbid_network
from tests.helpers import ServeProcess

# Read, then removed: the appliance refuses SMETABOT_* variables that are not config keys, and
# the tests run it (in-process and as subprocesses) with this environment.
CORPUS = Path(os.environ.pop("SMETABOT_CORPUS", "")
              or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")


# CI sets SMETABOT_REQUIRE_CORPUS=1 (.ci/run): there a missing corpus fails instead of skipping.
REQUIRE_CORPUS = os.environ.pop("SMETABOT_REQUIRE_CORPUS", "") not in ("", "0")


def require_corpus() -> Path:
    """The corpus directory; skip the calling test when it is absent (fail when CI requires it)."""
    if not (CORPUS / "MANIFEST.tsv").exists():
        message = (f"needs the real-document corpus, not found at {CORPUS} "
                   "(set SMETABOT_CORPUS to where it is)")
        if REQUIRE_CORPUS:
            pytest.fail(message + "; SMETABOT_REQUIRE_CORPUS is set", pytrace=False)
        pytest.skip(message)
    return CORPUS


LOCAL = ("127.0.0.1", "::1", "localhost", "", None)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test: connecting anywhere but this machine fails, and the test with it."""
    attempts: list[str] = []

    def host_of(address: object) -> object:
        return address[0] if isinstance(address, tuple) else address

    def guard(name: str, original):
        def guarded(*args, **kwargs):
            target = args[1] if name.startswith("socket.") else args[0]
            host = host_of(target)
            if isinstance(target, (str, bytes)) and name.startswith("socket."):
                host = None  # a Unix socket
            if host not in LOCAL:
                attempts.append(f"{name} {target!r}")
                raise OSError(f"network access attempted in a test: {name} {target!r}")
            return original(*args, **kwargs)

        return guarded

    for owner, name in ((socket, "create_connection"), (socket, "getaddrinfo"),
                        (socket.socket, "connect"), (socket.socket, "connect_ex")):
        label = f"socket.{name}" if owner is socket.socket else name
        monkeypatch.setattr(owner, name, guard(label, getattr(owner, name)))
    yield attempts
    assert not attempts, f"the test tried to reach the network: {attempts}"


@pytest.fixture
def no_sockets():
    """Stricter, for the emulator's own tests: no connection at all, not even to this machine
    (real pyrogram clients attached to the emulator must never open a socket)."""
    with forbid_network() as attempts:
        yield attempts
    assert attempts == []


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real documents (read in place, never copied); see require_corpus."""
    return require_corpus()


@pytest.fixture(scope="session")
def runner(tmp_path_factory: pytest.TempPathFactory) -> jobs.JobRunner:
    """A real SQLite Huey queue and a consumer with two process workers, shared by tests."""
    huey = create_huey(tmp_path_factory.mktemp("queue") / "queue.db")
    with jobs.embedded_consumer(huey, workers=2) as consumer:
        yield jobs.JobRunner(huey, consumer)


@pytest.fixture
def settings() -> RenderSettings:
    """Default pipeline settings."""
    return RenderSettings()


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's, driven by Playwright) for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def serve_process(tmp_path):
    """A factory of `serve --sandbox` subprocesses, each stopped at the end of the test."""
    started: list[ServeProcess] = []

    def make(data: Path | None = None) -> ServeProcess:
        box = ServeProcess(data or tmp_path / f"data{len(started)}")
        started.append(box)
        box.start()
        return box

    yield make
    for box in started:
        box.stop()


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """One `smetabot serve --sandbox` subprocess for the browser tests: its base URL."""
    box = ServeProcess(tmp_path_factory.mktemp("sandbox") / "data")
    box.start()
    yield box.base
    assert box.stop() == 0
    assert "Traceback" not in box.output(), box.output()
