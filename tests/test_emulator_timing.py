"""Time in the emulator: per-call latency, a shared uplink, flood waits on a fake clock, skew."""

from __future__ import annotations

import asyncio
import io
import os
import time

import pytest
from pyrogram import Client, errors, raw

from smetabot.telegram.emulator import Emulator
from tests.helpers import run

pytestmark = pytest.mark.usefixtures("no_sockets")



async def bot_and_user(emu: Emulator) -> tuple[Client, int]:
    bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
    await bot.start()
    alice = emu.create_user("Alice")
    await emu.user_send_text(alice, "hi")
    await emu.settle()
    return bot, alice


def named(size: int, name: str) -> io.BytesIO:
    file = io.BytesIO(os.urandom(size))
    file.name = name
    return file


def test_latency_is_added_to_every_call():
    async def main():
        emu = Emulator(latency=0.05)
        bot, _alice = await bot_and_user(emu)
        started = time.monotonic()
        for _ in range(4):
            await bot.invoke(raw.functions.help.GetConfig())
        assert time.monotonic() - started >= 0.2
        await bot.stop()

    run(main())


def test_uplink_is_shared_by_parallel_uploads():
    async def main():
        emu = Emulator(uplink_bytes_per_s=4 * 1024 * 1024)
        bot, alice = await bot_and_user(emu)
        started = time.monotonic()
        await bot.send_document(alice, named(1024 * 1024, "one.bin"))
        alone = time.monotonic() - started
        started = time.monotonic()
        await asyncio.gather(bot.send_document(alice, named(1024 * 1024, "a.bin")),
                             bot.send_document(alice, named(1024 * 1024, "b.bin")))
        together = time.monotonic() - started
        assert alone >= 0.24 and together >= 0.49  # 1 MB, then 2 MB at 4 MB/s
        assert [m["media"]["size"] for m in emu.user_chat(alice)[-3:]] == [1024 * 1024] * 3
        await bot.stop()

    run(main())


def test_long_flood_wait_on_a_fake_clock_takes_no_time():
    async def main():
        emu = Emulator(fake_clock=True)
        bot, alice = await bot_and_user(emu)
        emu.inject_flood_wait("messages.SendMessage", 3000)
        started = time.monotonic()
        with pytest.raises(errors.FloodWait) as caught:
            await bot.send_message(alice, "сейчас")
        assert caught.value.value == 3000  # above kurigram's sleep threshold: raised
        await emu.sleep(1000)
        with pytest.raises(errors.FloodWait) as caught:
            await bot.send_message(alice, "рано")
        assert 1998 <= caught.value.value <= 2000
        await emu.sleep(caught.value.value)
        await bot.send_message(alice, "после ожидания")
        assert time.monotonic() - started < 5
        assert [m["text"] for m in emu.user_chat(alice)][-1] == "после ожидания"
        await bot.stop()

    run(main())


def test_telegram_clock_may_differ_from_the_host():
    async def main():
        emu = Emulator(clock_skew=600)
        bot, alice = await bot_and_user(emu)
        config = await bot.invoke(raw.functions.help.GetConfig())
        state = await bot.invoke(raw.functions.updates.GetState())
        sent = await bot.send_message(alice, "который час?")
        for telegram_time in (config.date, state.date, sent.date.timestamp()):
            assert 590 <= telegram_time - time.time() <= 610
        await bot.stop()

    run(main())
