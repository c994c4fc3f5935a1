"""Running pipeline tasks on the Huey queue and waiting for them, with hard time limits.

Huey's own task timeout is a SIGALRM in the worker, which cannot interrupt MuPDF or LibreOffice
while they are inside C code. So the waiting side also watches each task from the moment a
worker picks it up, and past the limit kills that worker; the consumer replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from huey import SqliteHuey
from huey.api import TaskWrapper
from huey.consumer import Consumer

from smetabot import errors
from smetabot.render.tasks import blob_store, land, raise_error, started_key

log = logging.getLogger(__name__)
_HOST = socket.gethostname()


@dataclass
class Pending:
    """A task on the queue: its Huey result handle, its time limit and whose it is."""

    result: Any
    timeout: float
    limit_words: str
    owner: int = 0
    #: to put it on the queue again (a Redis queue: its worker may have died with it)
    again: Callable[[], Any] | None = None
    attempts: int = 1


class JobRunner:
    """Submits pipeline tasks and waits for them, killing workers that run past their limit.

    ``grace`` is how long past a task's own limit its worker may run before it is killed.
    Fairness: a task's Huey priority is its class's base (see :mod:`smetabot.render.renderer`)
    minus how many tasks its owner already has on the queue, so one contractor's 300 pages
    queue behind another contractor's first ones instead of in front of them.
    """

    def __init__(self, huey: SqliteHuey, consumer: Consumer | None = None,
                 poll_interval: float = 0.02, grace: float = 5.0) -> None:
        self.huey = huey
        self.consumer = consumer
        self.poll_interval = poll_interval
        self.grace = grace
        self.queued: Counter[int] = Counter()  # tasks on the queue, by owner
        #: a Redis queue: workers may be on other machines, and a task lost with its worker
        #: (kill -9, a machine gone) is put on the queue again once before it counts as stuck
        self.remote = blob_store(huey) is not None
        self._lock = threading.Lock()  # polls run in threads

    def submit(self, task: TaskWrapper, *args: Any, timeout: float, limit_words: str = "",
               owner: int = 0, priority: float = 0) -> Pending:
        """Put ``task(*args)`` on the queue for ``owner``; higher ``priority`` runs first."""
        with self._lock:
            ahead = self.queued[owner]
            self.queued[owner] += 1
        result = task(*args, priority=priority - ahead)
        return Pending(result, timeout, limit_words or f"{timeout:g} s", owner,
                       again=lambda: task(*args, priority=priority - ahead))

    async def gather(self, pending: list[Pending],
                     on_result: Callable[[int, dict], Awaitable[None]] | None = None
                     ) -> list[dict]:
        """Wait for all tasks, polling in a thread so the event loop never blocks, and call
        ``on_result(index, result)`` as each finishes; results in order. The first failure
        (or a cancellation) revokes the rest."""
        results: list[dict | None] = [None] * len(pending)
        left = set(range(len(pending)))
        delay = self.poll_interval
        try:
            while left:
                finished = await asyncio.to_thread(self.poll, pending, left)
                for index, value in finished:
                    results[index] = value
                    if on_result is not None:
                        await on_result(index, value)
                if finished:
                    delay = self.poll_interval
                else:
                    await asyncio.sleep(delay)
                    delay = min(delay * 1.5, 0.2)
        except BaseException:
            self.cancel(pending, left)
            raise
        return [value for value in results if value is not None]

    def poll(self, pending: list[Pending], left: set[int]) -> list[tuple[int, dict]]:
        """Collect the tasks of ``left`` that finished (removing them); raise the first
        failure; kill workers past their limit."""
        finished = []
        for index in sorted(left):
            item = pending[index]
            value = item.result.get(blocking=False)
            if value is None:
                self._enforce_limit(item)
                continue
            left.discard(index)
            self._done(item)
            self.huey.get(started_key(item.result.id))  # pop the bookkeeping
            if not value.get("ok"):
                raise_error(value["error"])
            finished.append((index, land(value)))
        return finished

    def _done(self, item: Pending) -> None:
        with self._lock:
            self.queued[item.owner] -= 1
            if self.queued[item.owner] <= 0:
                del self.queued[item.owner]

    def cancel(self, pending: list[Pending], left: set[int]) -> None:
        """Revoke tasks not yet finished."""
        for index in sorted(left):
            pending[index].result.revoke()
            self._done(pending[index])
        left.clear()

    def _enforce_limit(self, item: Pending) -> None:
        started = self.huey.get(started_key(item.result.id), peek=True)
        if not started:
            return
        pid, since, *host = started[:3]
        if time.time() - since <= item.timeout + self.grace:
            return
        here = not host or host[0] == _HOST
        self.huey.get(started_key(item.result.id))
        if here and (not self.remote or self._ours(pid)):
            log.warning("task %s ran past %s s; killing worker %s", item.result.id,
                        item.timeout, pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if self.consumer is not None:
                self.consumer.check_worker_health()
        if self.remote and item.again is not None and item.attempts < 2:
            # Its worker died or was killed by its own CPU limit: once more, elsewhere.
            log.warning("task %s on %s (pid %s) ran past %s s; queueing it again",
                        item.result.id, host[0] if host else "?", pid, item.timeout)
            item.result.revoke()
            item.result = item.again()
            item.attempts += 1
            return
        raise errors.DocumentTooComplex(limit=item.limit_words)

    def _ours(self, pid: int) -> bool:
        if self.consumer is None:
            return False
        return any(getattr(process, "pid", None) == pid
                   for _worker, process in self.consumer.worker_threads)


_forking_parent = 0


def _remember_parent() -> None:
    global _forking_parent
    _forking_parent = os.getpid()


def _die_with_parent() -> None:
    # A render worker must not outlive the process that started it: after a `kill -9` of
    # serve, orphaned workers would keep taking tasks from the next serve's queue.
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != _forking_parent:  # the parent died before prctl took effect
        os._exit(1)


_hooks_installed = False


def _install_fork_hooks() -> None:
    global _hooks_installed
    if not _hooks_installed:
        os.register_at_fork(before=_remember_parent, after_in_child=_die_with_parent)
        _hooks_installed = True


@contextlib.contextmanager
def embedded_consumer(huey: SqliteHuey, workers: int) -> Iterator[Consumer]:
    """Run a process-worker consumer for the duration of the block, then stop it cleanly.

    Its processes (workers and Huey's scheduler) are killed by the kernel if this process
    dies without stopping them."""
    _install_fork_hooks()
    consumer = huey.create_consumer(
        workers=workers, worker_type="process", periodic=False,
        # Latency matters more than the cost of polling a local SQLite file while idle.
        initial_delay=0.01, backoff=1.2, max_delay=0.05,
        check_worker_health=True, health_check_interval=1, shutdown_timeout=10)
    saved = {signum: signal.getsignal(signum)
             for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    # Consumer.start() installs handlers that only its run() loop reads; we are not running
    # that loop, so give the signals back to the caller (Ctrl-C must still stop us).
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
