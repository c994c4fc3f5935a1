"""Where every pyrogram client connects: Telegram itself, or the built-in emulator (sandbox).

The one place that chooses (httpx's ``Client(transport=…)``: one transport chosen once). The
App asks for a :class:`Telegram` and builds every client through it; nothing else imports the
emulator.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pyrogram import Client

from smetabot.config import telegram_proxy


class Telegram:
    """Makes the bot's and the contractors' clients, for real Telegram or the emulator."""

    def __init__(self, *, api_id: int | None, api_hash: str | None, bot_token: str,
                 workdir: Path, emulator: Any = None,
                 proxy: dict[str, Any] | None = None) -> None:
        self.api_id, self.api_hash = api_id, api_hash
        self.proxy = proxy
        self.bot_token = bot_token
        self.workdir = workdir
        #: the emulated Telegram in sandbox mode (the sandbox's web API plays its users)
        self.emulator = emulator

    async def sleep(self, seconds: float) -> None:
        """Wait out a flood wait on Telegram's clock (the emulator's may be a fake one)."""
        if self.emulator is not None:
            await self.emulator.sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    @property
    def sandbox(self) -> bool:
        """Whether Telegram is emulated."""
        return self.emulator is not None

    def _attach(self, client: Client) -> Client:
        if self.emulator is None:
            return client
        from smetabot.telegram.emulator import attach

        return attach(client, self.emulator)

    def bot_client(self, session_string: str | None = None) -> Client:
        """The bot's client (not started); from its saved session when there is one."""
        kwargs: dict[str, Any] = {"bot_token": self.bot_token, "in_memory": True,
                                  "workdir": str(self.workdir)}
        if session_string:
            kwargs["session_string"] = session_string
        if self.emulator is None:
            kwargs.update(api_id=self.api_id, api_hash=self.api_hash, proxy=self.proxy)
        return self._attach(Client("bot", **kwargs))

    def user_client(self, name: str, session_string: str | None = None) -> Client:
        """A contractor's client, from a session string or not yet logged in (not started)."""
        kwargs: dict[str, Any] = {"in_memory": True, "workdir": str(self.workdir),
                                  "no_updates": False}
        if session_string:
            kwargs["session_string"] = session_string
        if self.emulator is None:
            kwargs.update(api_id=self.api_id, api_hash=self.api_hash, proxy=self.proxy)
        return self._attach(Client(name, **kwargs))


def choose(config: Any, data_dir: Path, workdir: Path, *, sandbox: bool,
           emulator: Any = None) -> Telegram:
    """Real Telegram from the config, or in sandbox mode the emulator (a test may pass its own;
    otherwise the sandbox's Telegram lives in the data dir, so a restart or a kill of the
    sandbox finds its people, chats and channels again)."""
    if not sandbox:
        section = config.section("telegram")
        return Telegram(api_id=section["api_id"], api_hash=section["api_hash"],
                        bot_token=section["bot_token"], workdir=workdir,
                        proxy=telegram_proxy(config))
    if emulator is None:
        from smetabot.telegram.emulator import Emulator
        from smetabot.telegram.emulator.persist import Snapshot

        emulator = Emulator()
        snapshot = Snapshot(emulator, data_dir / "sandbox-telegram")
        if not snapshot.load():
            emulator.create_bot("smetabot", "SmetaBot")
        snapshot.attach()
    return Telegram(api_id=None, api_hash=None, bot_token=emulator.bot.bot_token,
                    workdir=workdir, emulator=emulator)
