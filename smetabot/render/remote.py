"""Render workers on other machines, through a Redis queue (``[render] queue = "redis://…"``).

``smetabot worker`` runs :func:`run_worker`: a process-worker consumer of the same tasks as the
embedded queue, with only the ``[render]`` settings (no token, no sessions, no database).
Documents come from Redis (:class:`~smetabot.render.tasks.BlobStore`), pages go back as
results. While it runs, each worker machine keeps a heartbeat key alive, so the main machine
and ``smetabot doctor`` can tell how many workers are listening. Nothing here imports redis
until a Redis queue is used.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from smetabot import errors
from smetabot.render import tasks
from smetabot.render.pipeline import RenderSettings

log = logging.getLogger(__name__)

HEARTBEAT = 5.0  # seconds between a worker machine's heartbeats
HEARTBEAT_TTL = 15  # a heartbeat key outlives a missed beat or two, not a dead machine


def where(url: str) -> str:
    """The queue's address for messages: scheme, host, port and database, never a password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path or ''}"


def _unreachable(url: str, exc: BaseException) -> errors.SmetaBotError:
    name = type(exc).__name__
    if "Authentication" in name or "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
        problem = f"the Redis queue at {where(url)} refused the password"
    else:
        problem = f"the Redis queue at {where(url)} is not reachable ({name})"
    return errors.StartupError(problem=problem)


@dataclass(frozen=True)
class QueueStatus:
    """What ``smetabot doctor`` reports of a Redis queue."""

    where: str
    workers: int  # worker processes listening, over all machines
    machines: int
    waiting: int  # tasks on the queue not yet taken


def status(url: str) -> QueueStatus:
    """Reach and authenticate to the queue; count the workers listening. Raises
    :class:`~smetabot.errors.StartupError` (with no password in it) when it cannot."""
    huey = tasks.create_redis_huey(url)
    try:
        conn = huey.storage.conn
        conn.ping()
        workers = machines = 0
        for key in conn.scan_iter(match=tasks.WORKER_KEY + "*", count=100):
            value = conn.get(key)
            if value is not None:
                machines += 1
                workers += int(value)
        return QueueStatus(where(url), workers, machines, huey.pending_count())
    except Exception as exc:  # noqa: BLE001 - redis's errors, told in our words
        raise _unreachable(url, exc) from None


def workers_listening(huey: object) -> int:
    """Worker processes listening on ``huey``'s Redis queue (0 when it cannot tell)."""
    conn = huey.storage.conn  # type: ignore[attr-defined]
    try:
        return sum(int(conn.get(key) or 0)
                   for key in conn.scan_iter(match=tasks.WORKER_KEY + "*", count=100))
    except Exception:  # noqa: BLE001 - a status figure, never a reason to fail
        return 0


def run_worker(url: str, workers: int, settings: RenderSettings, cache: Path,
               stop: threading.Event | None = None) -> None:
    """Consume the Redis queue at ``url`` with ``workers`` processes until SIGTERM/SIGINT
    (or ``stop``). Documents are cached in ``cache``."""
    from smetabot.render import jobs

    huey = tasks.create_redis_huey(url)
    try:
        huey.storage.conn.ping()
    except Exception as exc:  # noqa: BLE001 - redis's errors, told in our words
        raise _unreachable(url, exc) from None
    cache.mkdir(parents=True, exist_ok=True)
    huey.smetabot_blobs.cache = cache
    # A hard limit per task inside the worker itself: no main machine can kill it from afar.
    tasks.cpu_limit = settings.page_timeout * 2 + 5
    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    key = f"{tasks.WORKER_KEY}{socket.gethostname()}:{os.getpid()}"
    conn = huey.storage.conn
    with jobs.embedded_consumer(huey, workers) as consumer:
        log.info("render worker: %d processes on %s", workers, where(url))
        print(f"smetabot worker: {workers} render processes on {where(url)}", flush=True)
        beat = 0.0
        try:
            while not stop.is_set():
                consumer.check_worker_health()  # a killed render process is replaced
                if time.monotonic() - beat >= HEARTBEAT:
                    try:
                        conn.set(key, workers, ex=HEARTBEAT_TTL)
                        beat = time.monotonic()
                    except Exception as exc:  # noqa: BLE001 - Redis restarting: keep trying
                        log.warning("render worker: heartbeat failed (%s)",
                                    type(exc).__name__)
                stop.wait(0.5)
        finally:
            try:
                conn.delete(key)
            except Exception as exc:  # noqa: BLE001 - leaving anyway; the key expires
                log.info("render worker: could not say goodbye (%s)", type(exc).__name__)
