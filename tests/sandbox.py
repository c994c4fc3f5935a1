"""Running the whole appliance in sandbox mode inside a test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from smetabot import config
from smetabot.app import App
from smetabot.telegram.emulator import Emulator

SECRET = "c21ldGFib3Qtc2FuZGJveC10ZXN0LWtleS0zMi1ieXRlcyE="


@contextlib.asynccontextmanager
async def sandbox_app(data_dir: Path, emulator: Emulator | None = None,
                      **env: str) -> AsyncIterator[App]:
    """An App on the emulator, listening on an ephemeral port, stopped at the end."""
    if emulator is None:
        emulator = Emulator()
        emulator.create_bot("smetabot", "SmetaBot")
    cfg = config.load(None, env={f"SMETABOT_{k.upper()}": v for k, v in env.items()})
    app = App(cfg, data_dir, host="127.0.0.1", port=0, sandbox=True, secret_key=SECRET,
              workers=1, emulator=emulator)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def say(app: App, user_id: int, text: str) -> list[dict[str, Any]]:
    """The user sends ``text``; returns the bot's answers to it."""
    sent = await app.emulator.user_send_text(user_id, text)
    return await app.emulator.wait_for_bot_reply(user_id, after=sent)


async def press(app: App, user_id: int, message_id: int, text: str) -> list[dict[str, Any]]:
    """The user presses a button; returns what the bot sent after that message."""
    last = max(m["id"] for m in app.emulator.user_chat(user_id))
    await app.emulator.user_press(user_id, message_id, text)
    return await app.emulator.wait_for_bot_reply(user_id, after=last)


def labels(message: dict[str, Any]) -> list[str]:
    """The texts of a message's buttons, row by row flattened."""
    return [button["text"] for row in message["buttons"] for button in row]
