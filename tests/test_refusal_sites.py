"""Every refusal Telegram documents for the publishing calls, injected where the product makes
the call: the contractor reads the answer tests/data/telegram_errors.tsv promises for it (never
the "our side" catch-all), and the publication is left in a state the retry button can finish.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from smetabot import refusals
from smetabot.telegram.emulator import Emulator
from tests.helpers import SAMPLES, run, sandbox_app, say

TABLE = Path(__file__).resolve().parent / "data" / "telegram_errors.tsv"


def reachable(method: str) -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")),
                              delimiter="\t")
        return [row for row in rows if row["method"] == method and row["reachable"] == "yes"]


def emulated(method: str) -> str:
    """messages.sendMedia → messages.SendMedia, as the emulator names functions."""
    namespace, _, name = method.partition(".")
    return f"{namespace}.{name[0].upper()}{name[1:]}"


def concrete(error: str) -> str:
    return error.replace("%d", "30")


async def wait_for(emu: Emulator, uid: int, words: tuple[str, ...], after: int) -> dict:
    return await emu.wait_until(lambda: next(
        (m for m in emu.user_chat(uid, after) if m["from"] == "bot" and
         any(w in (m["text"] or "") for w in words)), None), timeout=60)


@pytest.mark.parametrize("method,pages", [("messages.sendMedia", "1"),
                                          ("messages.sendMultiMedia", "1-3")])
def test_every_refusal_of_a_send_is_answered_as_the_table_says(tmp_path, method, pages):
    emu = Emulator(fake_clock=True)  # flood waits and retries pass at once
    emu.create_bot("smetabot", "SmetaBot")
    rows = reachable(method)
    assert len(rows) >= 15, "the table lost its rows for this method"

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            ivan = emu.create_user("Иван", language_code="ru")
            app.vault.save(ivan, emu.session_string(ivan))
            await say(app, ivan, "🆕 Новый канал")
            await say(app, ivan, "Квартира")
            sent = await emu.user_send_text(ivan, "Пропустить")
            await wait_for(emu, ivan, ("✅",), sent)
            for row in rows:
                await app.db.execute("DELETE FROM billing_usage_counters")  # a plan's limit
                error = concrete(row["error"])
                code = 500 if row["code"] == "500" else int(row["code"])
                sent = await emu.user_send_document(
                    ivan, "smeta.pdf", (SAMPLES / "smeta-remont-kvartiry.pdf").read_bytes(),
                    "application/pdf")
                picker = await wait_for(emu, ivan, ("Какие страницы",), sent)
                typed = await emu.user_send_text(ivan, pages)
                picker = await wait_for(emu, ivan, ("Выбрано",), typed)
                await emu.user_press(ivan, picker["id"], "Далее ➡️")
                question = await wait_for(emu, ivan, ("Водяной знак",), picker["id"])
                await emu.user_press(ivan, question["id"], "✅ Оставить")
                choice = await wait_for(emu, ivan, ("В какой канал",), question["id"])
                # Telegram refuses the send (a 5xx every time it is asked; others once).
                emu.inject_error(emulated(method), code, error, times=10 if code == 500 else 1)
                await emu.user_press(ivan, choice["id"], "📢 Квартира")
                told = await wait_for(emu, ivan, ("✅ Документ опубликован", "❌", "⚠️"),
                                      choice["id"])
                emu.injected.pop(emulated(method), None)
                text = told["text"]
                assert "на нашей стороне" not in text and "Traceback" not in text, (error, text)
                row_db = await app.db.fetchone(
                    "SELECT id, status FROM core_publications ORDER BY id DESC LIMIT 1")
                if error == "RANDOM_ID_DUPLICATE":  # Telegram already has it: published, once
                    assert "✅ Документ опубликован" in text and row_db["status"] == "published"
                    continue
                if row["answer"] == "group:flood":  # waited out, then published
                    assert "✅ Документ опубликован" in text and row_db["status"] == "published"
                    continue
                if text.startswith("⚠️"):  # the bot lost its rights: the blocked answer
                    assert row_db["status"] == "blocked", error
                else:
                    expected = refusals.text_for(row["answer"], "ru", 30, error)
                    assert expected in text, (error, text)
                    assert row_db["status"] == "failed", error
                # Nothing was posted, and the retry button finishes it, once.
                await emu.user_press(ivan, told["id"], "🔁 Повторить")
                try:
                    await wait_for(emu, ivan, ("✅ Документ опубликован",), told["id"] - 1)
                except TimeoutError:
                    tail = [m["text"] for m in emu.user_chat(ivan, told["id"] - 1)]
                    raise AssertionError(f"{error}: the retry did not finish: {tail}") from None
                done = await app.db.fetchone(
                    "SELECT status FROM core_publications WHERE id = ?", (row_db["id"],))
                assert done["status"] == "published", error

    run(scenario(), timeout=600)
