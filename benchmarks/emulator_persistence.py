"""Benchmark: what keeping the sandbox's Telegram on disk costs.

20 documents (7.5 MB each, about the 151 MB of issue 12) go through the emulator as in the
sandbox: a person sends each to the bot, the bot (a real kurigram client) downloads it and
posts it to a channel (upload, SendMedia), while the contractor's client reads the channel.
Run once with the state kept on disk (``persist.Snapshot``) and once in memory only; prints
both wall times, how many times the state was written, and the folder's size.

    .venv/bin/python benchmarks/emulator_persistence.py [--documents 20] [--mb 7.5]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import tempfile
import time
from pathlib import Path

from pyrogram import Client
from pyrogram.types import ChatPrivileges

from smetabot.telegram.emulator import Emulator
from smetabot.telegram.emulator.persist import Snapshot


async def scenario(documents: int, size: int, folder: Path | None) -> tuple[float, int]:
    emu = Emulator()
    snapshot = None
    if folder is not None:
        snapshot = Snapshot(emu, folder)
        snapshot.attach()
    bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True,
                            no_updates=False))
    received: list = []
    bot.on_message()(lambda client, message: received.append(message))
    await bot.start()
    owner = emu.create_user("Иван", dc_id=2)
    user = emu.attach(Client("ivan", session_string=emu.session_string(owner)))
    await user.start()
    channel = await user.create_channel("Объект")
    await user.promote_chat_member(channel.id, "smetabot", ChatPrivileges(
        can_post_messages=True, can_manage_chat=True))
    await emu.settle()
    client = emu.create_user("Клиент", dc_id=2)
    started = time.perf_counter()
    for n in range(documents):
        data = os.urandom(size)
        await emu.user_send_document(client, f"smeta-{n}.pdf", data, "application/pdf")
        message = await emu.wait_until(
            lambda n=n: received[n] if len(received) > n else None, 60)
        got = await bot.download_media(message, in_memory=True)
        upload = io.BytesIO(got.getbuffer())
        upload.name = f"smeta-{n}.pdf"
        await bot.send_document(channel.id, upload, protect_content=True)
        if snapshot is not None:
            await snapshot.flush()
    elapsed = time.perf_counter() - started
    await bot.stop()
    await user.stop()
    return elapsed, snapshot.writes if snapshot else 0


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20)
    parser.add_argument("--mb", type=float, default=7.5)
    args = parser.parse_args()
    size = int(args.mb * 1024 * 1024)
    off, _ = asyncio.run(scenario(args.documents, size, None))
    with tempfile.TemporaryDirectory(prefix="smetabot-bench-") as tmp:
        folder = Path(tmp) / "telegram"
        on, writes = asyncio.run(scenario(args.documents, size, folder))
        on_disk = size_of(folder)
    print(f"{args.documents} documents of {args.mb} MB through the emulator")
    print(f"  saving off: {off:6.1f} s")
    print(f"  saving on:  {on:6.1f} s  ({writes} state writes, {on_disk / 2**20:.0f} MB on disk)")


if __name__ == "__main__":
    main()
