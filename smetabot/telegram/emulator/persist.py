"""Keeping the emulated Telegram's state on disk, so a sandbox survives a restart or a kill.

Telegram never forgets what it answered, so a call that changed something is answered only once
its change is on disk (``Server.dispatch`` awaits ``flush``). To stay fast:

- file bytes (documents, photos, thumbnails) are written once, named by their SHA-256, in
  ``files/``; the state refers to them by hash and never carries bytes;
- everything else (accounts and their chats, channels, authorizations, counters) is one
  pickle, serialized on the event loop (a consistent snapshot) and written by a worker
  thread, so the loop keeps serving while the disk works;
- changes made outside a call (people acting through the sandbox API) are saved soon after,
  and ``flush`` waits for them; several changes close together make one write.

Each write goes to a ``.part`` file renamed over the old one: a ``kill -9`` leaves the previous
complete state or the new one, never half of one. Pending uploads, login tokens and SRP
challenges are short-lived and not kept: a client restarts them. The folder belongs to the
sandbox's data dir (mode 0700); nothing in it is a real secret.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATE = ("limits", "accounts", "channels_by_id", "auth_keys", "_clock_offset",
         "_next_user_id", "_next_channel_id")


class Snapshot:
    """One emulator's state in ``folder``: ``state.pickle`` and ``files/<sha256>``."""

    def __init__(self, emulator: Any, folder: Path) -> None:
        self.emulator = emulator
        self.folder = folder
        self.files = folder / "files"
        self._on_disk: set[str] = set()
        self._dirty = False
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._soon: asyncio.Task | None = None
        self.writes = 0  # how many times the state was written (for tests and benchmarks)

    def load(self) -> bool:
        """Restore the state saved in the folder; False when there is none."""
        path = self.folder / "state.pickle"
        if not path.exists():
            return False
        state = pickle.loads(path.read_bytes())
        for name in STATE:
            setattr(self.emulator, name, state[name])
        files = state["files"]
        for file_id, stored in files.items():
            # The messages refer to these very objects: fill their bytes in place.
            stored.data = self._read(stored.sha256 or str(file_id))
            if stored.thumb_sha256:
                stored.thumb = self._read(stored.thumb_sha256)
        self.emulator.files = files
        self._on_disk = {p.name for p in self.files.iterdir()} if self.files.exists() else set()
        return True

    def _read(self, name: str) -> bytes:
        return (self.files / name).read_bytes()

    def attach(self) -> None:
        """Save every change from now on."""
        self.files.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self.emulator.persist = self
        self._dirty = True
        self._write(*self._serialize())

    # -- what the emulator calls --------------------------------------------------------

    def changed(self) -> None:
        """Something changed: save it soon (at once when no event loop runs)."""
        self._dirty = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._write(*self._serialize())
            return
        if self._soon is None or self._soon.done():
            self._soon = loop.create_task(self.flush())
            self._soon.add_done_callback(_log_failure)

    async def flush(self) -> None:
        """Return once every change made so far is on disk."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:  # a test may run several loops
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:  # one writer at a time, in order
            if not self._dirty:
                return
            blob, new_files = self._serialize()
            await asyncio.to_thread(self._write, blob, new_files)

    # -- serializing and writing ----------------------------------------------------------

    def _serialize(self) -> tuple[bytes, list[tuple[str, bytes]]]:
        """A snapshot of the state (on the loop) and the file bytes not yet on disk."""
        self._dirty = False
        emulator = self.emulator
        new_files: list[tuple[str, bytes]] = []
        for stored in emulator.files.values():
            for name, data in ((stored.sha256, stored.data),
                               (stored.thumb_sha256, stored.thumb)):
                if name and data is not None and name not in self._on_disk:
                    new_files.append((name, data))
                    self._on_disk.add(name)
        state = {name: getattr(emulator, name) for name in STATE}
        state["files"] = emulator.files
        return pickle.dumps(state, pickle.HIGHEST_PROTOCOL), new_files

    def _write(self, blob: bytes, new_files: list[tuple[str, bytes]]) -> None:
        for name, data in new_files:  # files first: the state refers to them
            _write(self.files / name, data)
        _write(self.folder / "state.pickle", blob)
        self.writes += 1


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Telegram emulator: saving the sandbox state failed", exc_info=task.exception())
