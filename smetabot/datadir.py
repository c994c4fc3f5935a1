"""The data dir: everything the appliance keeps, under one folder (no Telegram, no app)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from smetabot.errors import StartupError


@dataclass(frozen=True)
class DataDir:
    """Everything the appliance keeps, under one folder."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "smetabot.db"

    @property
    def queue(self) -> Path:
        return self.root / "queue.db"

    @property
    def sessions(self) -> Path:
        return self.root / "sessions"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def prepare(self) -> None:
        """Create the folders; wipe the temp folder left by a previous run."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
            shutil.rmtree(self.tmp, ignore_errors=True)
            for folder in (self.uploads, self.tmp):
                folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise StartupError(problem=f"cannot use the data dir {self.root}: "
                                       f"{exc.strerror}") from exc
