"""Shared fixtures: the corpus, and one Huey queue with process workers for the session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from smetabot.render import jobs
from smetabot.render.pipeline import RenderSettings
from smetabot.render.tasks import create_huey

CORPUS = Path(os.environ.get("SMETABOT_CORPUS",
                             Path(__file__).resolve().parents[1].parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real documents (read in place, never copied)."""
    if not (CORPUS / "MANIFEST.tsv").exists():
        pytest.fail(f"the corpus is not at {CORPUS}; set SMETABOT_CORPUS")
    return CORPUS


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
