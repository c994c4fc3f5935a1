"""The Telegram emulator with real pyrogram clients: documents, photos and albums."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from pyrogram import Client, errors, filters
from pyrogram.types import InputMediaDocument, InputMediaPhoto

from smetabot.telegram.emulator import Emulator
from tests.helpers import run

pytestmark = pytest.mark.usefixtures("no_sockets")



def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(out, "PNG")
    return out.getvalue()


def named(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


async def start_bot(emu: Emulator, setup=None) -> Client:
    bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
    if setup:
        setup(bot)
    await bot.start()
    return bot


def test_user_document_reaches_bot_and_downloads_byte_for_byte():
    # Over 1 MiB: the download takes two upload.GetFile chunks through the media session.
    data = os.urandom(1024 * 1024 + 12345)
    downloaded = []

    def setup(bot):
        @bot.on_message(filters.document & filters.private)
        async def on_document(client, message):
            assert message.document.file_name == "смета.pdf"
            assert message.document.mime_type == "application/pdf"
            assert message.caption == "Смета на ремонт"
            file = await client.download_media(message, in_memory=True)
            downloaded.append(bytes(file.getbuffer()))
            await message.reply("Получил")

    async def main():
        emu = Emulator()
        bot = await start_bot(emu, setup)
        alice = emu.create_user("Alice")
        sent = await emu.user_send_document(alice, "смета.pdf", data, "application/pdf",
                                            caption="Смета на ремонт")
        await emu.wait_for_bot_reply(alice, after=sent)
        assert downloaded == [data]
        entry = emu.user_chat(alice)[0]
        assert entry["media"]["size"] == len(data)
        assert entry["caption"] == "Смета на ремонт" and entry["text"] is None
        assert 2 <= emu.calls.count("upload.GetFile")
        assert bot.media_sessions, "downloads go through the media session"
        await bot.stop()

    run(main())


def test_bot_uploads_protected_document_and_photo():
    big = os.urandom(11 * 1024 * 1024)  # over 10 MiB: saveBigFilePart, 4 upload workers

    def setup(bot):
        @bot.on_message(filters.command("files"))
        async def send_files(client, message):
            await message.reply_document(named(big, "page-1.png"), caption="Стр. 1",
                                         protect_content=True)
            await message.reply_photo(named(png(3000, 1500), "p.png"))

    async def main():
        emu = Emulator()
        bot = await start_bot(emu, setup)
        alice = emu.create_user("Alice")
        sent = await emu.user_send_text(alice, "/files")
        replies = await emu.wait_until(
            lambda: len(emu.user_chat(alice, after=sent)) == 2 and emu.user_chat(alice, sent))
        document, photo = (m["media"] for m in replies)
        assert document["kind"] == "document" and document["protected"] is True
        assert document["file_name"] == "page-1.png" and document["size"] == len(big)
        assert emu.file_bytes(document["file_id"]) == big
        assert "upload.SaveBigFilePart" in emu.calls
        assert photo["kind"] == "photo" and photo["protected"] is False
        # Telegram recompresses photos: a JPEG no larger than 2560 px.
        image = Image.open(io.BytesIO(emu.file_bytes(photo["file_id"])))
        assert image.format == "JPEG" and image.size == (2560, 1280)
        await bot.stop()

    run(main())


def test_user_photo_reaches_bot():
    got = []

    def setup(bot):
        @bot.on_message(filters.photo)
        async def on_photo(client, message):
            got.append((message.photo.width, message.photo.height))
            file = await client.download_media(message, in_memory=True)
            got.append(Image.open(file).format)
            await message.reply("ok")

    async def main():
        emu = Emulator()
        bot = await start_bot(emu, setup)
        alice = emu.create_user("Alice")
        sent = await emu.user_send_photo(alice, png(640, 480))
        await emu.wait_for_bot_reply(alice, after=sent)
        assert got == [(640, 480), "JPEG"]
        await bot.stop()

    run(main())


def test_albums_hold_at_most_ten_items_and_share_a_group():
    def setup(bot):
        @bot.on_message(filters.command("album"))
        async def album(client, message):
            count = int(message.command[1])
            media = [InputMediaDocument(named(b"page %d" % i, f"p{i}.png"),
                                        caption="Смета" if i == 0 else "")
                     for i in range(count)]
            try:
                await client.send_media_group(message.chat.id, media, protect_content=True)
            except errors.MultiMediaTooLong:
                await message.reply("too many")

    async def main():
        emu = Emulator()
        bot = await start_bot(emu, setup)
        alice = emu.create_user("Alice")
        sent = await emu.user_send_text(alice, "/album 11")
        assert (await emu.wait_for_bot_reply(alice, after=sent))[0]["text"] == "too many"
        sent = await emu.user_send_text(alice, "/album 10")
        album = await emu.wait_until(lambda: len(emu.user_chat(alice, sent)) == 10
                                     and emu.user_chat(alice, sent))
        groups = {emu.accounts[alice].box.messages[m["id"]].grouped_id for m in album}
        assert len(groups) == 1 and None not in groups
        assert all(m["media"]["protected"] for m in album)
        assert [emu.file_bytes(m["media"]["file_id"]) for m in album] == [
            b"page %d" % i for i in range(10)]
        await bot.stop()

    run(main())


def test_caption_limit_is_1024():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "hi")
        await emu.settle()
        await bot.send_document(alice, named(b"x", "a.pdf"), caption="я" * 1024)
        with pytest.raises(errors.MediaCaptionTooLong):
            await bot.send_document(alice, named(b"x", "a.pdf"), caption="я" * 1025)
        with pytest.raises(errors.MediaCaptionTooLong):
            await bot.send_media_group(alice, [InputMediaPhoto(named(png(), "a.png"),
                                                               caption="я" * 1025)])
        await bot.stop()

    run(main())


def jpeg(width: int, height: int, noise: bool = False) -> bytes:
    out = io.BytesIO()
    image = (Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)) if noise
             else Image.new("RGB", (width, height), "white"))
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def test_document_thumbnails_follow_telegrams_rules():
    async def main():
        emu = Emulator()
        bot = await start_bot(emu)
        alice = emu.create_user("Alice")
        await emu.user_send_text(alice, "hi")
        await emu.settle()
        good = jpeg(226, 320)
        sent = await bot.send_document(alice, named(png(1240, 1754), "page-1.png"),
                                       thumb=named(good, "thumb.jpg"))
        media = emu.user_chat(alice)[-1]["media"]
        assert media["thumb"] == {"width": 226, "height": 320, "size": len(good)}
        assert emu.file_bytes(media["file_id"], thumb=True) == good
        # The client sees the thumbnail and downloads it from Telegram.
        assert [(t.width, t.height) for t in sent.document.thumbs] == [(226, 320)]
        got = await bot.download_media(sent.document.thumbs[0].file_id, in_memory=True)
        assert bytes(got.getbuffer()) == good
        # Thumbs that break the rules (not JPEG, over 320 px, over 200 KB) are not kept.
        bad = [png(200, 200), jpeg(321, 200), jpeg(320, 320, noise=True) + bytes(210_000)]
        assert len(bad[2]) > 200 * 1024
        for thumb in bad:
            await bot.send_document(alice, named(b"%PDF-1.4", "a.pdf"),
                                    thumb=named(thumb, "thumb.jpg"))
            assert emu.user_chat(alice)[-1]["media"]["thumb"] is None
        assert len(emu.dropped_thumbs) == 3
        await bot.stop()

    run(main())
