"""Setting a channel up: the bot is made admin before the optional photo, and a picture
Telegram will not take leaves a ready channel and a sentence, never a stuck setup."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.helpers import run, sandbox_app, say


def picture(side: int = 400) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), "orange").save(out, "PNG")
    return out.getvalue()


async def make_channel(app, title: str, send_avatar) -> list[dict]:
    """A connected contractor runs the 🆕 wizard; the bot's messages after the avatar."""
    emu = app.emulator
    uid = emu.create_user("Иван", language_code="ru")
    app.vault.save(uid, emu.session_string(uid))
    await say(app, uid, "🆕 Новый канал")
    await say(app, uid, title)
    sent = await send_avatar(emu, uid)
    await emu.wait_until(lambda: any("✅" in (m["text"] or "") for m in emu.user_chat(uid, sent)
                                     if m["from"] == "bot"), timeout=30)
    return uid, [m for m in emu.user_chat(uid, sent) if m["from"] == "bot"]


@pytest.mark.parametrize("error", ["IMAGE_PROCESS_FAILED", "PHOTO_INVALID_DIMENSIONS",
                                   "PHOTO_CROP_SIZE_SMALL"])
def test_a_photo_telegram_refuses_leaves_a_ready_channel_and_a_sentence(tmp_path, error):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            app.emulator.inject_error("channels.EditPhoto", 400, error)

            async def send(emu, uid):
                return await emu.user_send_photo(uid, picture())

            uid, said = await make_channel(app, "Баня", send)
            texts = " ".join(m["text"] or "" for m in said)
            assert "не удалось поставить аватаром" in texts and "✅" in texts
            assert error not in texts
            [channel] = app.emulator.channels()
            admins = {a["user_id"] for a in channel["admins"] if a["is_bot"]}
            assert admins and channel["noforwards"] is True and channel["invite_links"]
            row = await app.db.fetchone("SELECT status, bot_is_admin FROM core_channels")
            assert (row["status"], row["bot_is_admin"]) == ("ready", 1)

    run(scenario())


@pytest.mark.parametrize("name,data,mime", [
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>',
     "image/svg+xml"),
    ("photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    ("tiny.png", None, "image/png"),
])
def test_a_picture_that_cannot_be_a_channel_photo_is_skipped_in_words(tmp_path, name, data,
                                                                       mime):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            async def send(emu, uid):
                return await emu.user_send_document(uid, name, data or picture(40), mime)

            uid, said = await make_channel(app, "Дача", send)
            texts = " ".join(m["text"] or "" for m in said)
            assert "не удалось поставить аватаром" in texts and "✅" in texts
            [channel] = app.emulator.channels()
            assert not channel["photo"]

    run(scenario())
