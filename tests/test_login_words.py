"""What the login page is told: where the code went, Telegram's refusals in a sentence, phone
numbers as Russians type them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from pyrogram import raw

from smetabot.login import code_sent_words, normalize_phone
from tests.helpers import run, sandbox_app

T = raw.types.auth
PHONE = "+79251234567"

WHERE = [
    (T.SentCodeTypeApp(length=5), "Код отправлен в Telegram на другом вашем устройстве"),
    (T.SentCodeTypeSms(length=5), "Код отправлен по SMS на номер +79251234567."),
    (T.SentCodeTypeCall(length=5), "Вам позвонят на номер +79251234567 и продиктуют код."),
    (T.SentCodeTypeFlashCall(pattern="+7925*"), "звонок, который сразу прервётся"),
    (T.SentCodeTypeMissedCall(prefix="+7 495 12", length=4),
     "с номера, начинающегося на +7 495 12. Отвечать не нужно: введите последние 4 цифр"),
    (T.SentCodeTypeEmailCode(email_pattern="i***@mail.ru", length=6),
     "Код отправлен на электронную почту i***@mail.ru."),
    (T.SentCodeTypeFragmentSms(url="https://fragment.com/number/888", length=5),
     "через Fragment: откройте https://fragment.com/number/888."),
    (T.SentCodeTypeSmsWord(beginning="к"),
     "По SMS на номер +79251234567 пришло слово (начинается с «к»). Введите это слово."),
    (T.SentCodeTypeSmsPhrase(), "пришла фраза. Введите её целиком."),
]


@pytest.mark.parametrize("sent_type,words", WHERE, ids=[type(t).__name__ for t, _ in WHERE])
def test_the_page_says_where_the_code_went(sent_type, words):
    assert words in code_sent_words(sent_type, PHONE, "ru")
    english = code_sent_words(sent_type, PHONE, "en")
    assert english and "{" not in english and english != code_sent_words(sent_type, PHONE, "ru")


TYPED = [("8 925 123-45-67", PHONE), ("+7 (925) 123 45 67", PHONE), ("89251234567", PHONE),
         ("9251234567", PHONE), ("+8 925 123 45 67", PHONE), ("+44 7700 900123", "+447700900123"),
         ("00 49 30 1234567", "+49301234567"), ("12", None), ("8 925 12", None),
         ("телефон", None), ("+7 925 123 45 678", None)]


@pytest.mark.parametrize("typed,number", TYPED)
def test_phone_numbers_as_people_type_them(typed, number):
    assert normalize_phone(typed) == number


def init_data_for(app, user_id: int) -> str:
    url = app.emulator.web_app_url(user_id, f"{app.public_url}/webapp/login", launch="inline",
                                   platform="android")
    return parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]


async def api(app, path: str, init_data: str, body: dict):
    url, headers = f"http://127.0.0.1:{app.port}{path}", {"X-Telegram-Init-Data": init_data}
    async with aiohttp.ClientSession() as http, http.post(url, headers=headers, json=body) as r:
        return r.status, await r.json()


REFUSALS = [
    ("auth.SendCode", 400, "PHONE_NUMBER_FLOOD", "ru",
     ["Telegram временно запретил присылать коды на этот номер", "Не запрашивайте код снова",
      "Войти можно сейчас по QR-коду"]),
    ("auth.SendCode", 406, "PHONE_PASSWORD_FLOOD", "ru",
     ["Слишком много попыток входа в этот аккаунт", "обычно на несколько часов"]),
    ("auth.SendCode", 406, "UPDATE_APP_TO_LOGIN", "ru", ["Войдите по QR-коду"]),
    ("auth.SendCode", 400, "PHONE_NUMBER_BANNED", "ru", ["Telegram заблокировал этот номер"]),
    ("auth.SendCode", 400, "PHONE_NUMBER_INVALID", "ru", ["Telegram не узнал этот номер"]),
    ("auth.SendCode", 406, "SEND_CODE_UNAVAILABLE", "ru",
     ["Telegram сейчас не может прислать код на этот номер", "Войдите по QR-коду"]),
    ("auth.SendCode", 420, "FLOOD_WAIT_3000", "ru", ["Telegram просит подождать 50 мин"]),
    ("auth.SendCode", 400, "PHONE_NUMBER_FLOOD", "en",
     ["Telegram has stopped sending codes to this number", "Do not ask for a code again"]),
    ("auth.SignIn", 406, "UPDATE_APP_TO_LOGIN", "ru", ["Войдите по QR-коду"]),
    ("auth.SignIn", 420, "FLOOD_WAIT_600", "en", ["Telegram asks to wait 10 min"]),
]


@pytest.mark.parametrize("method,code,error,lang,words", REFUSALS,
                         ids=[f"{m}-{e}-{lang}" for m, _, e, lang, _ in REFUSALS])
def test_telegrams_refusals_are_answered_in_words(tmp_path, method, code, error, lang, words):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan = emu.create_user("Иван", language_code=lang, phone=PHONE)
            init = init_data_for(app, ivan)
            emu.inject_error(method, code, error)
            status, answer = await api(app, "/api/login/phone/start", init,
                                       {"phone": "8 925 123-45-67"})
            if method == "auth.SignIn":
                assert answer["status"] == "waiting"
                status, answer = await api(app, "/api/login/phone/code", init,
                                           {"code": emu.user_login_codes(ivan)[-1]["code"]})
            assert status == 200 and answer["status"] == "error", answer
            for part in words:
                assert part in answer["message"]
            for generic in ("Не удалось подключить", "Could not connect", "на нашей стороне"):
                assert generic not in answer["message"]
            assert not app.vault.exists(ivan)
            if method == "auth.SendCode":  # nothing left connected for a refused start
                assert not [s for s in emu.sessions if s.client.name.startswith("login")]

    run(scenario())


def test_the_code_may_be_typed_with_spaces_and_dashes(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan = emu.create_user("Иван", language_code="ru", phone=PHONE)
            init = init_data_for(app, ivan)
            _, answer = await api(app, "/api/login/phone/start", init,
                                  {"phone": "+7 (925) 123 45 67"})
            assert answer["code_type"] == "app" and answer["code_words"] is False
            assert answer["code_length"] == 5
            assert answer["message"].startswith("Код отправлен в Telegram")
            code = emu.user_login_codes(ivan)[-1]["code"]
            _, answer = await api(app, "/api/login/phone/code", init,
                                  {"code": f"{code[:2]} - {code[2:]}"})
            assert answer["status"] == "authorized"

    run(scenario())
