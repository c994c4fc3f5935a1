"""Shared fixtures: the corpus, and one Huey queue with process workers for the session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from smetabot.render import jobs
from smetabot.render.pipeline import RenderSettings
from smetabot.render.tasks import create_huey

# Read, then removed: the appliance refuses SMETABOT_* variables that are not config keys, and
# the tests run it (in-process and as subprocesses) with this environment.
CORPUS = Path(os.environ.pop("SMETABOT_CORPUS", "")
              or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")
# Documents the repository makes itself (scripts/make_sample_estimate.py): always present.
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


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


def leftovers() -> set[str]:
    """Our temporary directories and files in the system temp dir."""
    return {name for name in os.listdir(tempfile.gettempdir())
            if name.startswith(("smetabot-", "lu", "OSL_PIPE"))}


ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
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


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """One `smetabot serve --sandbox` subprocess for the browser tests: its base URL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path_factory.mktemp("sandbox-data")
    log = (tmp_path_factory.mktemp("sandbox-log") / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "smetabot", "serve", "--sandbox", "--port", str(port),
         "--data-dir", str(data)], stdout=log, stderr=subprocess.STDOUT, cwd=data)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()
