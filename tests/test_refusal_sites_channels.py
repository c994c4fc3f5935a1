"""Every refusal Telegram documents for the calls that make a client channel, injected where
the product makes them while a contractor creates a channel (🆕 Новый канал → title → picture
or Skip): the contractor reads the answer tests/data/telegram_errors.tsv promises (never the
"our side" catch-all), and the channel's row says what happened — none when Telegram made
nothing, a setup to be finished later, given up on for a channel that is gone, or ready when
the refusal did not matter."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image

from smetabot import texts
from smetabot.telegram.emulator import Emulator
from tests.helpers import run, sandbox_app, say
from tests.refusal_sites import (
    CATCH_ALL,
    assert_answered,
    inject,
    over,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

pytestmark = pytest.mark.usefixtures("retries_at_once")

#: the calls of a channel's creation, in the order the product makes them, and whether the
#: contractor sends a picture (the avatar's upload and channels.editPhoto need one)
CREATION = [("channels.createChannel", False), ("messages.toggleNoForwards", False),
            ("contacts.resolveUsername", False), ("channels.getParticipant", False),
            ("channels.editAdmin", False), ("upload.saveFilePart", True),
            ("channels.editPhoto", True), ("messages.exportChatInvite", False)]
_numbers = itertools.count(1)


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 400), (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def own_words(title: str, lang: str) -> dict[str, str]:
    """Kinds the channel wizard words itself (its own notices for the same situations)."""
    return {"specific:avatar_refused": texts.t("newch.photo_refused", lang, title=title),
            "group:file_refused": texts.t("newch.photo_refused", lang, title=title),
            # the channel is worked from the contractor's own account meanwhile
            "specific:fresh_admin_wait": texts.t("newch.owner_posts", lang, title=title,
                                                 link="", every="")[:120]}


def finished(emu: Emulator, uid: int, after: int, title: str) -> list[dict] | None:
    """The bot's messages since ``after`` once the creation has ended (a ready, deferred,
    waiting or refused message), else None."""
    said = [m for m in emu.user_chat(uid, after) if m["from"] == "bot"]
    ends = ("✅ Канал", "✅ The channel", "❌", f"Канал «{title}» создан",
            f"The channel “{title}” is created")
    if any((m["text"] or "").startswith(ends) for m in said):
        return said
    return None


def test_every_refusal_while_making_a_channel_is_answered_as_the_table_says(tmp_path):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")
    photo = picture()
    cases = [(method, with_photo, row) for method, with_photo in CREATION
             for row in reachable(method)]
    assert len(cases) >= 60, "the table lost its rows for the channel calls"

    async def scenario():
        async with sandbox_app(tmp_path, emu) as app:
            for method, with_photo, row in cases:
                number = next(_numbers)
                lang = "ru" if number % 2 else "en"
                title = f"Объект {number}"
                uid = emu.create_user(f"Подрядчик {number}", language_code=lang)
                app.vault.save(uid, emu.session_string(uid))
                await say(app, uid, "/start")
                await say(app, uid, texts.t("btn.new_channel", lang))
                await say(app, uid, title)
                ident = inject(emu, method, row)
                if with_photo:
                    sent = await emu.user_send_photo(uid, photo)
                else:
                    sent = await emu.user_send_text(uid, texts.t("btn.skip", lang))
                said = await emu.wait_until(
                    lambda uid=uid, sent=sent, title=title: finished(emu, uid, sent, title),
                    timeout=60)
                over(emu, method)
                text = "\n".join(m["text"] or "" for m in said)
                where = (method, row["error"], lang, text)
                assert not any(phrase in text for phrase in CATCH_ALL), where
                channel = await app.db.fetchone(
                    "SELECT id, status, next_retry_at FROM core_channels WHERE title = ?",
                    (title,))
                kind = row["answer"]
                if kind == "specific:not_modified":  # already so: the channel is made
                    assert channel["status"] == "ready" and "✅" in text, where
                    continue
                assert_answered(row, text, lang, ident, own_words(title, lang))
                if method == "channels.createChannel":  # nothing made, nothing kept
                    assert channel is None, where
                elif kind in ("specific:avatar_refused", "group:file_refused"):
                    assert channel["status"] == "ready", where  # made without the picture
                elif kind == "group:gone":  # not tried again: the channel will not come back
                    assert channel["status"] == "failed" and "❌" in text, where
                    assert channel["next_retry_at"] is None, where
                else:  # the setup goes on later, by itself
                    assert channel["status"] in ("creating", "waiting_admin"), where
                    assert channel["next_retry_at"], where
                    # out of this test's time: a retry must not meet the next row's refusal
                    await app.db.execute("UPDATE core_channels SET next_retry_at = ? "
                                         "WHERE id = ?", ("9999-01-01T00:00:00.000Z",
                                                          channel["id"]))

    run(scenario(), timeout=300)
