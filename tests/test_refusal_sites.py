"""Every refusal Telegram documents for the publishing calls, injected where the product makes
the call: the contractor reads the answer tests/data/telegram_errors.tsv promises for it (never
the "our side" catch-all), and the publication is left in a state the retry button can finish.

The other methods' refusals are injected at their call sites in the test_refusal_sites_*.py
files; ``SITES`` below says which, and a test checks every method with reachable refusals in
the table has its file.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from smetabot import refusals
from smetabot.telegram.emulator import Emulator
from tests.helpers import SAMPLES, run, sandbox_app, say
from tests.refusal_sites import (
    CATCH_ALL,
    TABLE,
    assert_answered,
    emulated,
    inject,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

pytestmark = pytest.mark.usefixtures("retries_at_once")


async def wait_for(emu: Emulator, uid: int, words: tuple[str, ...], after: int) -> dict:
    return await emu.wait_until(lambda: next(
        (m for m in emu.user_chat(uid, after) if m["from"] == "bot" and
         any(w in (m["text"] or "") for w in words)), None), timeout=60)


FILE_REFERENCE = "specific:file_reference_expired"


def noisy_pdf() -> bytes:
    """A one-page PDF whose page, rendered at 300 DPI, is a PNG over 10 MB (a photo-like
    scan): it goes up to Telegram with upload.saveBigFilePart."""
    out = io.BytesIO()
    Image.frombytes("RGB", (2480, 3508), random.Random(7).randbytes(2480 * 3508 * 3)).save(
        out, "JPEG", quality=90)
    document = pymupdf.open()
    page = document.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=out.getvalue())
    return document.tobytes()


async def up_to_the_channel_choice(app, uid: int, pages: str, pdf: bytes | None = None) -> dict:
    """The contractor sends the sample PDF (or ``pdf``), picks ``pages``, keeps the watermark;
    the message asking for the channel."""
    emu = app.emulator
    await app.db.execute("DELETE FROM billing_usage_counters")  # a plan's monthly limit
    sent = await emu.user_send_document(
        uid, "smeta.pdf", pdf or (SAMPLES / "smeta-remont-kvartiry.pdf").read_bytes(),
        "application/pdf")
    await wait_for(emu, uid, ("Какие страницы",), sent)
    typed = await emu.user_send_text(uid, pages)
    picker = await wait_for(emu, uid, ("Выбрано",), typed)
    await emu.user_press(uid, picker["id"], "Далее ➡️")
    question = await wait_for(emu, uid, ("Водяной знак",), picker["id"])
    await emu.user_press(uid, question["id"], "✅ Оставить")
    return await wait_for(emu, uid, ("В какой канал",), question["id"])


async def contractor_with_a_channel(app, title: str = "Квартира") -> int:
    """A connected contractor who has made the channel ``title``; their user id."""
    emu = app.emulator
    ivan = emu.create_user("Иван", language_code="ru")
    app.vault.save(ivan, emu.session_string(ivan))
    await say(app, ivan, "🆕 Новый канал")
    await say(app, ivan, title)
    sent = await emu.user_send_text(ivan, "Пропустить")
    await wait_for(emu, ivan, ("✅",), sent)
    return ivan


def channel_of(emu: Emulator, title: str) -> dict:
    return next(emu.channel(c["id"]) for c in emu.channels() if c["title"] == title)


def pages_posted(emu: Emulator, title: str = "Квартира") -> int:
    """How many page posts the channel has (not the approval card under them)."""
    return len([post for post in channel_of(emu, title)["posts"] if post["media"]])


#: the publishing calls, with the pages published while each is refused: one page goes as one
#: post (sendMedia), several as an album of documents made first (uploadMedia, sendMultiMedia)
PUBLISHING = [("messages.sendMedia", "1"), ("messages.sendMultiMedia", "1-3"),
              ("messages.uploadMedia", "1-3"), ("upload.saveFilePart", "1"),
              ("upload.saveBigFilePart", "1")]
#: what the bot answers a publication the bot may not post to any more: it waits for its
#: rights back, with the retry button
BLOCKED = "⚠️ Бот не может публиковать"


@pytest.mark.parametrize("method,pages", PUBLISHING)
def test_every_refusal_of_a_publishing_call_is_answered_as_the_table_says(
        tmp_path, method, pages):
    emu = Emulator(fake_clock=True)  # flood waits and retries pass at once
    emu.create_bot("smetabot", "SmetaBot")
    rows = reachable(method)
    assert len(rows) >= 4, "the table lost its rows for this method"

    pdf = noisy_pdf() if method == "upload.saveBigFilePart" else None

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            ivan = await contractor_with_a_channel(app)
            for row in rows:
                choice = await up_to_the_channel_choice(app, ivan, pages, pdf)
                posted = pages_posted(emu)
                # Telegram refuses the call: a 5xx every time it is asked, through every
                # bounded retry; a lost file reference twice, as the pages go up again once;
                # others once.
                ident = inject(emu, method, row, times=50 if row["code"] == "500" else
                               2 if row["answer"] == FILE_REFERENCE else 1)
                await emu.user_press(ivan, choice["id"], "📢 Квартира")
                told = await wait_for(emu, ivan, ("✅ Документ опубликован", "❌", "⚠️"),
                                      choice["id"])
                left = emu.injected.pop(emulated(method), [])
                emu.flood_until.clear()
                assert len(left) < (50 if row["code"] == "500" else 1), \
                    f"{method} was not called: the scenario does not reach its call site"
                text = told["text"]
                where = (method, row["error"], text)
                assert not any(phrase in text for phrase in CATCH_ALL), where
                publication = await app.db.fetchone(
                    "SELECT id, status FROM core_publications ORDER BY id DESC LIMIT 1")
                if row["error"] == "RANDOM_ID_DUPLICATE":
                    # Telegram's word that it has these pages already (here injected, so
                    # nothing is there to count): recorded as published, not posted again
                    assert "✅ Документ опубликован" in text, where
                    assert publication["status"] == "published", where
                    assert pages_posted(emu) == posted, where
                    continue
                if row["answer"] == "group:flood" or (row["code"] == "500" and
                                                      publication["status"] == "published"):
                    # the wait is waited out, or a bounded retry got through: published, once
                    assert "✅ Документ опубликован" in text, where
                    assert publication["status"] == "published", where
                    assert pages_posted(emu) == posted + count_pages(pages), where
                    continue
                if row["answer"] == "specific:bot_not_admin":  # waits for the bot's rights
                    assert text.startswith(BLOCKED), where
                    assert publication["status"] == "blocked", where
                else:
                    assert_answered(row, text, "ru", ident)
                    assert publication["status"] == "failed", where
                # Nothing was posted, and the retry button finishes it, once.
                assert pages_posted(emu) == posted, where
                await emu.user_press(ivan, told["id"], "🔁 Повторить")
                try:
                    await wait_for(emu, ivan, ("✅ Документ опубликован",), told["id"] - 1)
                except TimeoutError:
                    tail = [m["text"] for m in emu.user_chat(ivan, told["id"] - 1)]
                    raise AssertionError(f"{where}: the retry did not finish: {tail}") from None
                done = await app.db.fetchone(
                    "SELECT status FROM core_publications WHERE id = ?", (publication["id"],))
                assert done["status"] == "published", where
                assert pages_posted(emu) == posted + count_pages(pages), where

    run(scenario(), timeout=600)


def count_pages(pages: str) -> int:
    first, _, last = pages.partition("-")
    return int(last or first) - int(first) + 1


@pytest.mark.parametrize("method,pages", [("messages.SendMedia", "1"),
                                          ("messages.SendMultiMedia", "1-3")])
def test_a_lost_file_reference_uploads_the_pages_again_once_then_asks_for_the_retry(
        tmp_path, method, pages):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")
    count = len(range(1, 4)) if pages == "1-3" else 1

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            ivan = await contractor_with_a_channel(app)
            # Once: the pages go up again and are posted, each once.
            choice = await up_to_the_channel_choice(app, ivan, pages)
            uploads = emu.calls.count("messages.UploadMedia")
            emu.inject_error(method, 400, "FILE_REFERENCE_EXPIRED")
            await emu.user_press(ivan, choice["id"], "📢 Квартира")
            told = await wait_for(emu, ivan, ("✅ Документ опубликован", "❌"), choice["id"])
            assert "✅ Документ опубликован" in told["text"], told["text"]
            assert pages_posted(emu) == count
            assert emu.calls.count("messages.UploadMedia") - uploads == 2 * count
            first = await app.db.fetchone(
                "SELECT status, message_ids FROM core_publications ORDER BY id DESC LIMIT 1")
            assert first["status"] == "published"

            # Twice: a clear sentence and the retry button; nothing posted meanwhile.
            choice = await up_to_the_channel_choice(app, ivan, pages)
            emu.inject_error(method, 400, "FILE_REFERENCE_EXPIRED", times=2)
            await emu.user_press(ivan, choice["id"], "📢 Квартира")
            told = await wait_for(emu, ivan, ("✅ Документ опубликован", "❌"), choice["id"])
            assert told["text"] == "❌ " + refusals.text_for(FILE_REFERENCE, "ru"), told["text"]
            assert "на нашей стороне" not in told["text"]
            assert [b["text"] for row in told["buttons"] for b in row] == ["🔁 Повторить"]
            assert pages_posted(emu) == count
            failed = await app.db.fetchone(
                "SELECT id, status FROM core_publications ORDER BY id DESC LIMIT 1")
            assert failed["status"] == "failed"
            await emu.user_press(ivan, told["id"], "🔁 Повторить")
            await wait_for(emu, ivan, ("✅ Документ опубликован",), told["id"] - 1)
            assert pages_posted(emu) == 2 * count
            done = await app.db.fetchone(
                "SELECT status FROM core_publications WHERE id = ?", (failed["id"],))
            assert done["status"] == "published"

    run(scenario(), timeout=300)


#: where each method with reachable refusals has them injected at its call site
SITES = {
    "test_refusal_sites.py": ["messages.sendMedia", "messages.sendMultiMedia",
                              "messages.uploadMedia", "upload.saveFilePart",
                              "upload.saveBigFilePart"],
    "test_refusal_sites_login.py": ["auth.sendCode", "auth.signIn", "account.getPassword",
                                    "auth.checkPassword", "auth.exportLoginToken",
                                    "auth.importLoginToken", "users.getFullUser",
                                    "auth.logOut"],
    "test_refusal_sites_channels.py": ["channels.createChannel", "messages.toggleNoForwards",
                                       "contacts.resolveUsername", "channels.getParticipant",
                                       "channels.editAdmin", "channels.editPhoto",
                                       "messages.exportChatInvite"],
    "test_refusal_sites_card.py": ["messages.hideChatJoinRequest", "channels.editBanned",
                                   "channels.getParticipants",
                                   "messages.editExportedChatInvite",
                                   "channels.deleteMessages"],
    "test_refusal_sites_bot.py": ["messages.sendMessage", "messages.editMessage",
                                  "messages.setBotCallbackAnswer", "upload.getFile"],
    "test_refusal_sites_views.py": ["messages.getMessagesViews"],
    "test_refusal_sites_startup.py": ["bots.setBotCommands", "users.getUsers",
                                      "bots.setBotMenuButton", "updates.getDifference"],
    "test_refusal_sites_selftest.py": ["auth.importBotAuthorization", "updates.getState",
                                       "bots.getBotCommands", "channels.getChannels",
                                       "channels.getMessages", "channels.deleteChannel"],
}


def test_every_method_with_reachable_refusals_has_them_injected_at_its_call_site():
    with TABLE.open(encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")),
                              delimiter="\t")
        methods = {row["method"] for row in rows if row["reachable"] == "yes"}
    covered = [method for names in SITES.values() for method in names]
    assert sorted(covered) == sorted(methods), "a method without (or with two) call-site tests"
    here = Path(__file__).resolve().parent
    for file_name, names in SITES.items():
        text = (here / file_name).read_text(encoding="utf-8")
        for method in names:
            assert f'"{method}"' in text, (file_name, method)
