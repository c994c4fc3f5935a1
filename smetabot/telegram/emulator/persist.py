"""Keeping the emulated Telegram's state on disk, so a sandbox survives a restart or a kill.

Telegram never forgets what it answered: so the state is written after every change, before
the answer leaves (``Server.persist``). Files are written once each, by id, beside a pickle of
everything else (accounts and their chats, channels, authorizations, counters). Pending
uploads, login tokens and SRP challenges are short-lived and not kept: a client restarts them.
The folder belongs to the sandbox's data dir (mode 0700); nothing in it is a real secret.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path
from typing import Any

STATE = ("limits", "accounts", "channels_by_id", "auth_keys", "_clock_offset",
         "_next_user_id", "_next_channel_id")


class Snapshot:
    """One emulator's state in ``folder``: ``state.pickle`` and ``files/<id>``."""

    def __init__(self, emulator: Any, folder: Path) -> None:
        self.emulator = emulator
        self.folder = folder
        self.files = folder / "files"
        self._written: set[int] = set()

    def load(self) -> bool:
        """Restore the state saved in the folder; False when there is none."""
        path = self.folder / "state.pickle"
        if not path.exists():
            return False
        state = pickle.loads(path.read_bytes())
        for name in STATE:
            setattr(self.emulator, name, state[name])
        self.emulator.files = {
            file_id: dataclasses.replace(stored, data=(self.files / str(file_id)).read_bytes())
            for file_id, stored in state["files"].items()}
        self._written = set(self.emulator.files)
        return True

    def attach(self) -> None:
        """Save after every change from now on."""
        self.files.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self.emulator.persist = self.save
        self.save()

    def save(self) -> None:
        """Write the state (files first, then the pickle that refers to them)."""
        emulator = self.emulator
        stripped = {}
        for file_id, stored in emulator.files.items():
            if file_id not in self._written:
                _write(self.files / str(file_id), stored.data)
                self._written.add(file_id)
            stripped[file_id] = dataclasses.replace(stored, data=b"")
        state = {name: getattr(emulator, name) for name in STATE}
        state["files"] = stripped
        _write(self.folder / "state.pickle", pickle.dumps(state, pickle.HIGHEST_PROTOCOL))


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
