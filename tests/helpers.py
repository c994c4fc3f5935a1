"""Helpers the tests share: one way to run a coroutine, the appliance in sandbox mode, a person
talking to the bot through the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from pyrogram import Client

from smetabot import config
from smetabot.app import App
from smetabot.telegram.emulator import Emulator

# Documents the repository makes itself (scripts/make_sample_estimate.py): always present.
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SECRET = "c21ldGFib3Qtc2FuZGJveC10ZXN0LWtleS0zMi1ieXRlcyE="
#: how long one test's coroutine may take before it is reported as hanging
RUN_TIMEOUT = 180.0


@contextlib.contextmanager
def own_event_loop() -> Iterator[None]:
    """Playwright's sync API leaves its event loop marked as running in the main thread once
    the session's browser is up; it is set aside meanwhile, so code under test may start its
    own with asyncio.run, as it does from a terminal (the app's Huey consumer needs the main
    thread for its signal handlers, so a thread of our own is not an option)."""
    playwright_loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(playwright_loop)


def run(coro: Any, timeout: float = RUN_TIMEOUT) -> Any:
    """Run a test's coroutine to its end in a fresh event loop, failing it if it hangs."""
    with own_event_loop():
        return asyncio.run(asyncio.wait_for(coro, timeout))


@contextlib.asynccontextmanager
async def sandbox_app(data_dir: Path, emulator: Emulator | None = None,
                      **env: str) -> AsyncIterator[App]:
    """An App on the emulator, listening on an ephemeral port, stopped at the end. Clients
    join by open links unless a test asks for join requests (``channels_join="approve"``,
    the appliance's default): the tests written before join requests tap a link and are in."""
    env.setdefault("channels_join", "open")
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


async def start_bot(emu: Emulator, setup: Any = None) -> Client:
    """A bare pyrogram bot client on the emulator (no SmetaBot), with handlers from ``setup``."""
    bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
    if setup:
        setup(bot)
    await bot.start()
    return bot


def call(base: str, path: str, body: dict | None = None,
         headers: dict | None = None) -> tuple[int, Any]:
    """A JSON request to a server under test; (status, decoded body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class ServeProcess:
    """A real `smetabot serve --sandbox` subprocess on one data dir and a free port: started,
    killed (SIGKILL, as a crash) and started again at will, talked to over its port."""

    @staticmethod
    def free_port() -> int:
        """A TCP port nothing listens on now."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = self.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        data.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = data.parent / f"serve-{self.port}.log"
        self._log = self.log_path.open("a")

    def start(self, timeout: float = 60) -> None:
        """Start serve and wait until /healthz answers 200."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "smetabot", "serve", "--sandbox", "--port", str(self.port),
             "--data-dir", str(self.data)], stdout=self._log, stderr=subprocess.STDOUT,
            cwd=self.data.parent, env={"SMETABOT_CHANNELS_JOIN": "open",  # as sandbox_app
                                       **os.environ, "PYTHONUNBUFFERED": "1"})
        self.wait(lambda: self.call("/healthz")[0] == 200, timeout)

    def kill(self) -> None:
        """SIGKILL: nothing of serve runs any more (its render workers die with it)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int | None:
        """SIGTERM, as an operator stops it; its exit code."""
        code = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                code = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return code

    def output(self) -> str:
        """Everything serve printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def call(self, path: str, body: dict | None = None,
             headers: dict | None = None) -> tuple[int, object]:
        """A JSON request; (status, decoded body), or (0, None) when nothing answers."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data,
                                         method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n"
                                     f"{self.output()[-3000:]}") from None
            return 0, None

    @staticmethod
    def wait(predicate, timeout: float = 60, every: float = 0.05):
        """Poll ``predicate`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout} s")


ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def leftovers() -> set[str]:
    """Our temporary directories and files in the system temp dir."""
    return {name for name in os.listdir(tempfile.gettempdir())
            if name.startswith(("smetabot-", "lu", "OSL_PIPE"))}
