"""The sandbox's Telegram kept on disk: written before each answer, file bytes once by hash."""

from __future__ import annotations

import io
import os

import pytest
from pyrogram import Client

from smetabot.telegram.emulator import Emulator
from smetabot.telegram.emulator.persist import Snapshot
from tests.helpers import run

pytestmark = pytest.mark.usefixtures("no_sockets")



def test_each_answer_leaves_after_its_change_is_on_disk(tmp_path):
    async def main():
        emu = Emulator()
        Snapshot(emu, tmp_path).attach()
        bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
        await bot.start()
        alice = emu.create_user("Alice")
        big = os.urandom(3 * 1024 * 1024)
        await emu.user_send_document(alice, "plan.pdf", big, "application/pdf")
        await emu.settle()
        sent = await bot.send_document(alice, io.BytesIO(big), file_name="copy.pdf")
        # What a fresh Telegram reads from the folder right now (as after a kill -9).
        again = Emulator()
        assert Snapshot(again, tmp_path).load()
        chat = again.user_chat(alice)
        assert [m["media"]["file_name"] for m in chat] == ["plan.pdf", "copy.pdf"]
        assert chat[-1]["id"] == emu.user_chat(alice)[-1]["id"]
        assert again.file_bytes(chat[-1]["media"]["file_id"]) == big
        # The same bytes twice are kept once, and never inside the state itself.
        assert len([p for p in (tmp_path / "files").iterdir()]) == 1
        assert (tmp_path / "state.pickle").stat().st_size < 200 * 1024
        assert sent.document.file_size == len(big)
        await bot.stop()

    run(main())


def test_a_person_acting_through_the_sandbox_is_saved_soon(tmp_path):
    async def main():
        emu = Emulator()
        snapshot = Snapshot(emu, tmp_path)
        snapshot.attach()
        emu.create_bot("smetabot")
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "привет")
        await snapshot.flush()
        again = Emulator()
        assert Snapshot(again, tmp_path).load()
        assert [m["text"] for m in again.user_chat(alice)] == ["привет"]

    run(main())
