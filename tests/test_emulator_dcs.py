"""Several data centres: each with its own auth keys, accounts homed on them, QR login that
migrates to the user's DC, files served by their own DC."""

from __future__ import annotations

import asyncio
import io

import pytest
from pyrogram import Client, errors, raw
from pyrogram.qrlogin import QRLogin

from smetabot.telegram.emulator import Emulator, TelegramError
from tests.helpers import run

pytestmark = pytest.mark.usefixtures("no_sockets")



async def scan_while_waiting(emu: Emulator, user_id: int, qr: QRLogin):
    waiting = asyncio.create_task(qr.wait(timeout=5))
    await asyncio.sleep(0)
    await emu.user_scan_qr(user_id, qr.url)
    return await waiting


@pytest.mark.parametrize("dc_id", [1, 2, 4])
@pytest.mark.parametrize("password", [None, "секрет"])
def test_qr_login_reaches_the_users_own_dc(dc_id, password):
    async def main():
        emu = Emulator()
        ivan = emu.create_user("Иван", dc_id=dc_id, password=password)
        client = emu.attach(Client("ivan", in_memory=True))
        await client.connect()
        assert await client.storage.dc_id() == 2  # every new client starts on DC2
        qr = QRLogin(client)
        await qr.recreate()
        emu.advance_time(31)  # the first code expired while the page was open: a new one
        with pytest.raises(TelegramError, match="AUTH_TOKEN_EXPIRED"):
            await emu.user_scan_qr(ivan, qr.url)
        await qr.recreate()
        if password is None:
            user = await scan_while_waiting(emu, ivan, qr)
        else:
            with pytest.raises(errors.SessionPasswordNeeded):
                await scan_while_waiting(emu, ivan, qr)
            user = await client.check_password(password)
        assert user.id == ivan
        assert await client.storage.dc_id() == dc_id
        migrated = "auth.ImportLoginToken" in emu.calls
        assert migrated == (dc_id != 2)
        session = await client.export_session_string()
        await client.disconnect()
        again = emu.attach(Client("again", session_string=session))
        await again.start()
        assert again.me.id == ivan
        await again.stop()

    run(main())


def test_auth_keys_belong_to_their_dc():
    async def main():
        emu = Emulator()
        ivan = emu.create_user("Иван", dc_id=4)
        client = emu.attach(Client("ivan", session_string=emu.session_string(ivan)))
        await client.start()
        key = client.session.auth_key
        assert emu.auth_keys[key].dc_id == 4
        emu.auth_keys[key].dc_id = 2  # the same key presented to another DC is unknown there
        with pytest.raises(errors.AuthKeyUnregistered):
            await client.invoke(raw.functions.users.GetUsers(id=[raw.types.InputUserSelf()]))
        emu.auth_keys[key].dc_id = 4
        await client.stop()

    run(main())


def test_phone_login_moves_to_the_users_dc():
    async def main():
        emu = Emulator()
        anna = emu.create_user("Анна", phone="+79990000004", dc_id=4)
        client = emu.attach(Client("anna", in_memory=True))
        await client.connect()
        sent = await client.send_code("+79990000004")  # PHONE_MIGRATE_4, handled by kurigram
        assert await client.storage.dc_id() == 4
        code = emu.user_login_codes(anna)[-1]["code"]
        user = await client.sign_in("+79990000004", sent.phone_code_hash, code)
        assert user.id == anna
        await client.disconnect()

    run(main())


def test_files_live_on_the_uploaders_dc():
    async def main():
        emu = Emulator()
        bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
        received = []

        @bot.on_message()
        async def got(client, message):
            received.append(message)

        await bot.start()
        far = emu.create_user("Дальний", dc_id=4)
        await emu.user_send_document(far, "смета.pdf", b"%PDF-1.4 far away", "application/pdf")
        message = (await emu.wait_until(lambda: received))[0]
        assert message.document.file_name == "смета.pdf"
        # Asking the bot's own DC for the bytes is redirected: FILE_MIGRATE_4.
        document = message.document
        stored = next(f for f in emu.files.values() if f.name == "смета.pdf")
        assert stored.dc_id == 4
        location = raw.types.InputDocumentFileLocation(
            id=stored.id, access_hash=stored.access_hash, file_reference=stored.file_reference,
            thumb_size="")
        with pytest.raises(errors.FileMigrate) as caught:
            await bot.invoke(raw.functions.upload.GetFile(location=location, offset=0,
                                                          limit=1024 * 1024))
        assert caught.value.value == 4
        # kurigram goes to DC4 itself: a key there, authorization exported and imported.
        data = await bot.download_media(document.file_id, in_memory=True)
        assert bytes(data.getbuffer()) == b"%PDF-1.4 far away"
        assert "auth.ExportAuthorization" in emu.calls and "auth.ImportAuthorization" in emu.calls
        # The bot's uploads live on its own DC2.
        sent = await bot.send_document(far, io.BytesIO(b"answer"), file_name="a.txt")
        assert sent.document.file_name == "a.txt"
        assert next(f for f in emu.files.values() if f.name == "a.txt").dc_id == 2
        await bot.stop()

    run(main())
