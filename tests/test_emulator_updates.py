"""Per-account access hashes, update sequences, and a client that was away catching up."""

from __future__ import annotations

import asyncio

import pytest
from pyrogram import Client, errors, filters, raw
from pyrogram.types import ChatPrivileges, InlineKeyboardButton, InlineKeyboardMarkup

from smetabot.telegram.emulator import Emulator
from smetabot.telegram.emulator.persist import Snapshot
from tests.helpers import run

BOT_RIGHTS = ChatPrivileges(can_post_messages=True, can_invite_users=True, can_manage_chat=True)


pytestmark = pytest.mark.usefixtures("no_sockets")



class Seen:
    """What a bot's handlers received."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.joins: list[int] = []
        self.presses: list[str] = []


def bot_client(emu: Emulator, token: str, workdir, seen: Seen) -> Client:
    """The bot as the product runs it: its session in a file, catching up on start."""
    bot = emu.attach(Client("bot", bot_token=token, workdir=str(workdir), skip_updates=False))

    @bot.on_message(filters.private & filters.text)
    async def text(client, message):
        seen.texts.append(message.text)
        if message.text == "/menu":
            await message.reply("Меню", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("OK", callback_data="ok")]]))

    @bot.on_callback_query()
    async def pressed(client, query):
        seen.presses.append(query.data)
        await query.answer("Принято")

    @bot.on_chat_member_updated()
    async def member(client, update):
        if update.new_chat_member and not update.new_chat_member.user.is_bot:
            seen.joins.append(update.new_chat_member.user.id)

    return bot


async def owner_with_channel(emu: Emulator):
    owner = emu.create_user("Иван", phone="+79990000001")
    user = emu.attach(Client("ivan", session_string=emu.session_string(owner)))
    await user.start()
    channel = await user.create_channel("Объект")
    await user.promote_chat_member(channel.id, emu.bot.username, BOT_RIGHTS)
    return user, channel


def test_access_hashes_belong_to_the_account_that_received_them(tmp_path):
    async def main():
        emu = Emulator()
        bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
        await bot.start()
        user, channel = await owner_with_channel(emu)
        await emu.settle()
        theirs = await user.resolve_peer(channel.id)
        mine = await bot.resolve_peer(channel.id)
        assert theirs.access_hash != mine.access_hash
        for bad_hash in (theirs.access_hash, 0):
            with pytest.raises(errors.ChannelInvalid):
                await bot.invoke(raw.functions.messages.SendMessage(
                    peer=raw.types.InputPeerChannel(channel_id=mine.channel_id,
                                                    access_hash=bad_hash),
                    message="x", random_id=1 + bad_hash % 1000))
            with pytest.raises(errors.ChannelInvalid):
                await bot.invoke(raw.functions.channels.GetChannels(id=[raw.types.InputChannel(
                    channel_id=mine.channel_id, access_hash=bad_hash)]))
        await bot.send_message(channel.id, "с моим хешем")
        # A user's hash handed to another account is refused too.
        other = emu.create_user("Пётр", username="petr")
        ivan_sees = await user.resolve_peer("petr")
        with pytest.raises(errors.PeerIdInvalid):
            await bot.invoke(raw.functions.messages.SendMessage(
                peer=raw.types.InputPeerUser(user_id=other, access_hash=ivan_sees.access_hash),
                message="x", random_id=7))
        await bot.stop()
        await user.stop()

    run(main())


def test_bot_catches_up_on_what_happened_while_it_was_cut_off(tmp_path):
    async def main():
        emu = Emulator()
        token = emu.create_bot("smetabot")
        seen = Seen()
        bot = bot_client(emu, token, tmp_path, seen)
        await bot.start()
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "/menu")
        menu = (await emu.wait_for_bot_reply(alice))[0]
        user, channel = await owner_with_channel(emu)
        await emu.settle()
        link = await bot.create_chat_invite_link(channel.id)

        emu.disconnect(bot)
        await emu.user_send_text(alice, "пока бота не было")
        await emu.user_join(emu.create_user("Клиент"), link.invite_link)
        press = asyncio.ensure_future(emu.user_press(alice, menu["id"], "OK"))
        await asyncio.sleep(0.05)  # let the press reach the emulator before the bot returns
        await emu.settle()
        assert seen.texts == ["/menu"] and seen.joins == [] and seen.presses == []

        emu.reconnect(bot)
        # What kurigram's watchdog does after a quiet spell, for the account's own box (0):
        # kurigram keeps a pts-less state per channel from chat_member updates, which its
        # recover_gaps() of every state cannot send (pts=None), so the product asks for 0.
        await bot.recover_gaps(0)
        assert (await press)["text"] == "Принято"
        await emu.wait_until(lambda: seen.joins and "пока бота не было" in seen.texts)
        assert seen.presses == ["ok"] and len(seen.joins) == 1
        # Nothing is handed over twice.
        await bot.recover_gaps(0)
        await emu.settle()
        assert seen.texts.count("пока бота не было") == 1 and len(seen.joins) == 1
        await bot.stop()
        await user.stop()

    run(main())


def test_bot_with_session_on_disk_restarts_without_logging_in_and_catches_up(tmp_path):
    async def main():
        emu = Emulator()
        snapshot = Snapshot(emu, tmp_path / "telegram")
        snapshot.attach()
        token = emu.create_bot("smetabot")
        seen = Seen()
        bot = bot_client(emu, token, tmp_path, seen)
        await bot.start()
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "раз")
        await emu.wait_until(lambda: seen.texts == ["раз"])
        await bot.stop()
        await emu.user_send_text(alice, "два")  # while the bot is down
        await snapshot.flush()  # as the sandbox API does before it answers

        # Telegram itself restarts too: its state comes back from disk.
        again = Emulator()
        assert Snapshot(again, tmp_path / "telegram").load()
        seen2 = Seen()
        bot = bot_client(again, token, tmp_path, seen2)
        await bot.start()
        assert "auth.ImportBotAuthorization" not in again.calls
        await again.wait_until(lambda: seen2.texts == ["два"])
        await bot.stop()

    run(main())


def test_a_file_fetched_from_another_dc_does_not_double_the_bots_updates(tmp_path):
    # Downloading a file homed on DC4 leaves the bot an exported authorization there; updates
    # still reach it once, through its home DC (core.telegram.org/api/updates).
    async def main():
        emu = Emulator()
        token = emu.create_bot("smetabot")
        seen = Seen()
        bot = bot_client(emu, token, tmp_path, seen)
        documents: list[bytes] = []

        @bot.on_message(filters.private & filters.document)
        async def document(client, message):
            data = await client.download_media(message, in_memory=True)
            documents.append(bytes(data.getbuffer()))

        await bot.start()
        far = emu.create_user("Пётр", dc_id=4)
        await emu.user_send_document(far, "smeta.pdf", b"%PDF-1.4 page", "application/pdf")
        await emu.wait_until(lambda: documents)
        assert documents == [b"%PDF-1.4 page"]
        assert 4 in bot.sessions  # the exported authorization on the file's DC
        await emu.user_send_text(far, "/menu")
        [menu] = await emu.wait_for_bot_reply(far)
        await emu.user_press(far, menu["id"], "OK")
        await emu.settle()
        assert seen.texts == ["/menu"] and seen.presses == ["ok"]
        assert [m["text"] for m in emu.user_chat(far) if m["from"] == "bot"] == ["Меню"]
        await bot.stop()

    run(main())
