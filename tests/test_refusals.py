"""Telegram's refusals in words: every pair the error table marks reachable gets the answer the
table names, in Russian and English, and never the "our side" catch-all."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from pyrogram import raw
from pyrogram.errors import RPCError

from smetabot import refusals

TABLE = Path(__file__).resolve().parent / "data" / "telegram_errors.tsv"
OUR_SIDE = ("нашей стороне", "our side", "our fault", "нашей вине")


def table() -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def raw_function(method: str) -> type:
    """``messages.sendMessage`` -> ``raw.functions.messages.SendMessage``."""
    namespace, name = method.split(".")
    return getattr(getattr(raw.functions, namespace), name[0].upper() + name[1:])


def refusal(method: str, code: int, error: str) -> BaseException:
    """The exception kurigram raises when Telegram answers ``method`` with this error."""
    if error == "5XX":  # kurigram retries a 500 and then gives up with a plain TimeoutError
        return TimeoutError(f'Failed to invoke "{method}" after 3 retries')
    message = error.replace("%d", "42")
    try:
        RPCError.raise_it(raw.types.RpcError(error_code=code, error_message=message),
                          raw_function(method))
    except RPCError as exc:
        return exc
    raise AssertionError("raise_it did not raise")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # kurigram appends errors it does not know to ./unknown_errors.txt: keep that out of the repo
    monkeypatch.chdir(tmp_path)


REACHABLE = [row for row in table() if row["reachable"] == "yes"]


@pytest.mark.parametrize("row", REACHABLE, ids=[f"{r['method']}-{r['error']}" for r in REACHABLE])
def test_every_reachable_refusal_gets_the_answer_the_table_names(row: dict[str, str]) -> None:
    exc = refusal(row["method"], int(row["code"]), row["error"])
    # the method is read from kurigram's message, as the bot will meet it
    kind = refusals.kind_of(exc) if not isinstance(exc, TimeoutError) else \
        refusals.kind_of(exc, row["method"])
    assert kind == row["answer"]
    assert kind != refusals.UNKNOWN
    for lang in ("ru", "en"):
        text = refusals.explain(exc, lang)
        assert text and not any(phrase in text.lower() for phrase in OUR_SIDE)
        assert text != refusals.text_for(refusals.UNKNOWN, lang, error=refusals.error_id(exc))


def test_every_kind_in_the_table_has_both_languages_and_no_our_side() -> None:
    kinds = {row["answer"] for row in table() if row["reachable"] == "yes"}
    assert kinds <= set(refusals.TEXTS)
    for kind in kinds | set(refusals.TEXTS):
        ru, en = refusals.TEXTS[kind]
        assert ru and en and ru != en
        assert any("а" <= ch <= "я" for ch in ru.lower())  # Russian is Russian
        assert not any("а" <= ch <= "я" for ch in en.lower())
        for text in (ru, en):
            assert not any(phrase in text.lower() for phrase in OUR_SIDE)


def test_unreachable_rows_say_why_and_reachable_rows_do_not() -> None:
    for row in table():
        if row["reachable"] == "no":
            assert row["why_unreachable"] and row["answer"] == "-"
        else:
            assert row["reachable"] == "yes" and not row["why_unreachable"]


@pytest.mark.parametrize(("seconds", "ru", "en"), [
    (1, "1 секунду", "1 second"),
    (3, "3 секунды", "3 seconds"),
    (11, "11 секунд", "11 seconds"),
    (21, "21 секунду", "21 seconds"),
    (45, "45 секунд", "45 seconds"),
    (60, "1 минуту", "1 minute"),
    (61, "2 минуты", "2 minutes"),
    (180, "3 минуты", "3 minutes"),
    (660, "11 минут", "11 minutes"),
    (1260, "21 минуту", "21 minutes"),
    (3540, "59 минут", "59 minutes"),
    (3599, "1 час", "1 hour"),
    (3600, "1 час", "1 hour"),
    (7200, "2 часа", "2 hours"),
    (5 * 3600, "5 часов", "5 hours"),
    (22 * 3600, "22 часа", "22 hours"),
    (3 * 86400, "3 дня", "3 days"),
])
def test_waiting_time_in_words(seconds: int, ru: str, en: str) -> None:
    assert refusals.wait_words(seconds, "ru") == ru
    assert refusals.wait_words(seconds, "en") == en


def test_a_flood_wait_says_how_long_and_not_to_repeat() -> None:
    exc = refusal("messages.sendMultiMedia", 420, "FLOOD_WAIT_%d".replace("%d", "180"))
    assert refusals.kind_of(exc) == "group:flood"
    assert "Подождите 3 минуты" in refusals.explain(exc, "ru")
    assert "Wait 3 minutes" in refusals.explain(exc, "en-GB")
    assert "повторять ничего не нужно" in refusals.explain(exc, "ru")


def test_login_floods_do_not_invite_retries_and_point_to_the_qr_code() -> None:
    text = refusals.explain(refusal("auth.sendCode", 400, "PHONE_NUMBER_FLOOD"), "ru")
    assert "Не запрашивайте код снова" in text and "QR" in text
    text = refusals.explain(refusal("auth.sendCode", 406, "PHONE_PASSWORD_FLOOD"), "en")
    assert "Do not try again" in text
    text = refusals.explain(refusal("auth.signIn", 406, "UPDATE_APP_TO_LOGIN"), "ru")
    assert "QR-коду" in text


def test_admin_required_on_the_contractors_account_is_not_the_bot_not_being_admin() -> None:
    own = refusal("channels.editAdmin", 403, "CHAT_ADMIN_REQUIRED")
    bots = refusal("messages.sendMultiMedia", 400, "CHAT_ADMIN_REQUIRED")
    assert refusals.kind_of(own) == "specific:account_not_admin"
    assert refusals.kind_of(bots) == "specific:bot_not_admin"
    assert "Дело не в боте" in refusals.explain(own, "ru")
    assert "Бот больше не администратор" in refusals.explain(bots, "ru")
    # the method named by the caller wins over the one in the message
    assert refusals.kind_of(bots, "channels.editAdmin") == "specific:account_not_admin"
    assert refusals.kind_of(bots, "channels.EditAdmin") == "specific:account_not_admin"


def test_a_5xx_that_kurigram_gave_up_on_is_telegram_trouble_with_a_retry_promise() -> None:
    exc = TimeoutError('Failed to invoke "messages.SendMultiMedia" after 3 retries')
    assert refusals.kind_of(exc) == "group:telegram_trouble"
    assert "ничего не будет отправлено дважды" in refusals.explain(exc, "ru")
    other_500 = refusal("messages.sendMessage", 500, "SOMETHING_BROKE_INSIDE")
    assert refusals.kind_of(other_500) == "group:telegram_trouble"


def test_an_error_nobody_documented_is_unknown_but_still_not_our_side() -> None:
    exc = refusal("messages.sendMessage", 400, "BRAND_NEW_REFUSAL_7")
    assert refusals.error_id(exc) == "BRAND_NEW_REFUSAL_X"
    assert refusals.kind_of(exc) == refusals.UNKNOWN
    for lang in ("ru", "en"):
        text = refusals.explain(exc, lang)
        assert "BRAND_NEW_REFUSAL_X" in text
        assert not any(phrase in text.lower() for phrase in OUR_SIDE)


def test_only_floods_and_telegram_trouble_are_retried_and_gone_channels_are_not() -> None:
    assert refusals.is_transient(refusals.kind_of(refusal("messages.sendMultiMedia", 420,
                                                          "FLOOD_WAIT_%d")))
    assert refusals.is_transient(refusals.kind_of(TimeoutError(), "messages.sendMultiMedia"))
    for method, code, error in [("messages.sendMultiMedia", 400, "CHANNEL_PRIVATE"),
                                ("messages.sendMultiMedia", 400, "CHANNEL_INVALID"),
                                ("messages.sendMedia", 400, "MEDIA_EMPTY"),
                                ("auth.sendCode", 400, "PHONE_NUMBER_FLOOD")]:
        assert not refusals.is_transient(refusals.kind_of(refusal(method, code, error)))
    assert refusals.is_harmless(refusals.kind_of(refusal("messages.setBotCallbackAnswer", 400,
                                                         "QUERY_ID_INVALID")))
    assert refusals.is_harmless(refusals.kind_of(refusal("messages.editMessage", 400,
                                                         "MESSAGE_NOT_MODIFIED")))
    assert not refusals.is_harmless(refusals.kind_of(refusal("messages.editMessage", 400,
                                                             "MESSAGE_ID_INVALID")))


def test_refusals_imports_nothing_of_the_app() -> None:
    code = ("import sys, smetabot.refusals; "
            "print(sorted(m for m in sys.modules if m.startswith(('smetabot.', 'pyrogram'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1]).stdout
    assert out.strip() == "['smetabot.refusals']"
