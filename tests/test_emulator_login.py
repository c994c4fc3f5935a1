"""The Telegram emulator with real pyrogram clients: QR login, phone codes, SRP 2FA."""

from __future__ import annotations

import asyncio
import base64
import struct

import pytest
from pyrogram import Client, errors, raw, utils
from pyrogram.qrlogin import QRLogin
from pyrogram.storage import Storage

from smetabot.telegram.emulator import Emulator, TelegramError, srp
from tests.helpers import run

pytestmark = pytest.mark.usefixtures("no_sockets")



async def qr_login(emu: Emulator, user_id: int, client: Client):
    """Drive pyrogram's QRLogin while the user scans the code; returns wait()'s outcome."""
    qr = QRLogin(client)
    await qr.recreate()
    assert qr.url.startswith("tg://login?token=")
    waiting = asyncio.create_task(qr.wait(timeout=5))
    await asyncio.sleep(0)
    assert await emu.user_scan_qr(user_id, qr.url) == {"status": "accepted"}
    return await waiting


def test_qr_login_then_session_string_reconnects():
    async def main():
        emu = Emulator()
        ivan = emu.create_user("Иван", username="ivan")
        client = emu.attach(Client("ivan", in_memory=True))
        await client.connect()
        signed_in = await qr_login(emu, ivan, client)
        assert signed_in.id == ivan
        session = await client.export_session_string()
        await client.disconnect()
        again = emu.attach(Client("ivan-again", session_string=session))
        await again.start()
        assert (again.me.id, again.me.username) == (ivan, "ivan")
        await again.stop()

    run(main())


def test_qr_login_with_2fa_checks_the_password_by_srp():
    async def main():
        emu = Emulator()
        ivan = emu.create_user("Иван", password="correct horse")
        client = emu.attach(Client("ivan", in_memory=True))
        await client.connect()
        with pytest.raises(errors.SessionPasswordNeeded):
            await qr_login(emu, ivan, client)
        with pytest.raises(errors.PasswordHashInvalid):
            await client.check_password("wrong horse")
        with pytest.raises(errors.Unauthorized):  # still not signed in
            await client.invoke(raw.functions.updates.GetState())
        me = await client.check_password("correct horse")
        assert me.id == ivan
        assert (await client.invoke(raw.functions.updates.GetState())).pts >= 1
        await client.disconnect()

    run(main())


def test_qr_token_expires_after_30_seconds():
    async def main():
        emu = Emulator()
        ivan = emu.create_user("Иван")
        client = emu.attach(Client("ivan", in_memory=True))
        await client.connect()
        qr = QRLogin(client)
        await qr.recreate()
        emu.advance_time(31)
        with pytest.raises(TelegramError, match="AUTH_TOKEN_EXPIRED"):
            await emu.user_scan_qr(ivan, qr.url)
        await qr.recreate()  # the page refreshes its QR code
        assert await emu.user_scan_qr(ivan, qr.url) == {"status": "accepted"}
        with pytest.raises(TelegramError, match="AUTH_TOKEN_ALREADY_ACCEPTED"):
            await emu.user_scan_qr(ivan, qr.url)
        await client.disconnect()

    run(main())


def test_phone_code_login():
    async def main():
        emu = Emulator()
        ivan = emu.create_user("Иван", phone="+7 999 000-11-22")
        client = emu.attach(Client("ivan", in_memory=True))
        await client.connect()
        with pytest.raises(errors.PhoneNumberInvalid):
            await client.send_code("+1 555 0000")
        sent = await client.send_code("+79990001122")
        code = emu.user_login_codes(ivan)[-1]["code"]
        with pytest.raises(errors.PhoneCodeInvalid):
            await client.sign_in("+79990001122", sent.phone_code_hash, "00000" if code != "00000"
                                 else "11111")
        me = await client.sign_in("+79990001122", sent.phone_code_hash, code)
        assert me.id == ivan
        assert emu.user_login_codes(ivan)[-1]["used"] is True
        await client.disconnect()

    run(main())


def test_code_sent_in_a_message_is_cancelled():
    async def main():
        emu = Emulator()
        emu.create_bot()
        ivan = emu.create_user("Иван", phone="+79990001122")
        client = emu.attach(Client("ivan", in_memory=True))
        await client.connect()
        sent = await client.send_code("+79990001122")
        code = emu.user_login_codes(ivan)[-1]["code"]
        await emu.user_send_text(ivan, f"my code is {code}")  # Telegram voids it
        with pytest.raises(errors.PhoneCodeExpired):
            await client.sign_in("+79990001122", sent.phone_code_hash, code)
        await client.disconnect()

    run(main())


def test_unknown_auth_key_is_unauthorized():
    async def main():
        emu = Emulator()
        packed = struct.pack(Storage.SESSION_STRING_FORMAT, 2, emu.API_ID, False,
                             b"k" * 256, 12345, False)
        stale = base64.urlsafe_b64encode(packed).decode().rstrip("=")
        client = emu.attach(Client("stale", session_string=stale))
        with pytest.raises(errors.AuthKeyUnregistered):
            await client.start()

    run(main())


def test_bot_token_must_be_valid():
    async def main():
        emu = Emulator()
        emu.create_bot()
        client = emu.attach(Client("fake", bot_token="123:nope", in_memory=True))
        with pytest.raises(errors.AccessTokenInvalid):
            await client.start()

    run(main())


def test_srp_verification_is_mathematical():
    salt1, salt2, verifier = srp.make_verifier("s3cret")
    algo = raw.types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
        salt1=salt1, salt2=salt2, g=srp.G, p=srp.P_BYTES)
    for password, expected in (("s3cret", True), ("s3cret ", False)):
        b, B = srp.challenge(verifier)
        answer = utils.compute_password_check(
            raw.types.account.Password(
                new_algo=algo, new_secure_algo=raw.types.SecurePasswordKdfAlgoUnknown(),
                secure_random=b"", has_password=True, current_algo=algo, srp_B=B, srp_id=1),
            password)
        assert srp.verify(verifier, b, B, answer.A, answer.M1, salt1, salt2) is expected


EXPECTED_TYPES = {
    "app": "APP", "sms": "SMS", "call": "CALL", "flash_call": "FLASH_CALL",
    "missed_call": "MISSED_CALL", "email": "EMAIL_CODE", "fragment": "FRAGMENT_SMS",
    "sms_word": "SMS_WORD", "sms_phrase": "SMS_PHRASE",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED_TYPES))
def test_send_code_travels_as_set_for_the_user(kind):
    async def main():
        emu = Emulator()
        anna = emu.create_user("Анна", phone="+79990000002", dc_id=2)
        emu.set_code_delivery(anna, kind)
        client = emu.attach(Client("anna", in_memory=True))
        await client.connect()
        sent = await client.send_code("+79990000002")
        assert sent.type.name == EXPECTED_TYPES[kind]
        code = emu.user_login_codes(anna)[-1]
        assert code["kind"] == kind
        assert code["code"].isdigit() == (kind not in ("sms_word", "sms_phrase"))
        with pytest.raises(errors.PhoneCodeInvalid):
            await client.sign_in("+79990000002", sent.phone_code_hash, "не тот")
        typed = code["code"].upper() if not code["code"].isdigit() else code["code"]
        user = await client.sign_in("+79990000002", sent.phone_code_hash, typed)
        assert user.id == anna
        await client.disconnect()

    run(main())


def test_send_code_success_and_setup_email_required():
    async def main():
        emu = Emulator()
        anna = emu.create_user("Анна", phone="+79990000002", dc_id=2)
        emu.set_code_delivery(anna, "success")
        client = emu.attach(Client("anna", in_memory=True))
        await client.connect()
        settings = raw.types.CodeSettings()
        answer = await client.invoke(raw.functions.auth.SendCode(
            phone_number="+79990000002", api_id=client.api_id, api_hash=client.api_hash,
            settings=settings))
        assert isinstance(answer, raw.types.auth.SentCodeSuccess)
        assert answer.authorization.user.id == anna
        await client.disconnect()
        emu.set_code_delivery(anna, "setup_email")
        other = emu.attach(Client("anna2", in_memory=True))
        await other.connect()
        sent = await other.send_code("+79990000002")
        assert sent.type.name == "SETUP_EMAIL_REQUIRED"
        assert emu.user_login_codes(anna) == []  # nothing was sent anywhere
        await other.disconnect()

    run(main())


@pytest.mark.parametrize("error, exception", [
    ("PHONE_NUMBER_BANNED", errors.PhoneNumberBanned),
    ("PHONE_NUMBER_FLOOD", errors.PhoneNumberFlood),
    ("PHONE_PASSWORD_FLOOD", errors.PhonePasswordFlood),
    ("SEND_CODE_UNAVAILABLE", errors.SendCodeUnavailable),
    ("UPDATE_APP_TO_LOGIN", errors.UpdateAppToLogin),
    ("PHONE_NUMBER_INVALID", errors.PhoneNumberInvalid),
])
def test_send_code_errors_are_injectable_per_user(error, exception):
    async def main():
        emu = Emulator()
        anna = emu.create_user("Анна", phone="+79990000002", dc_id=2)
        emu.set_login_error(anna, error)
        client = emu.attach(Client("anna", in_memory=True))
        await client.connect()
        with pytest.raises(exception):
            await client.send_code("+79990000002")
        emu.set_login_error(anna, None)
        assert (await client.send_code("+79990000002")).phone_code_hash
        await client.disconnect()

    run(main())
