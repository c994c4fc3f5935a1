"""Every refusal Telegram documents for the calls behind a channel card's buttons, injected
where the product makes them: letting a client in (messages.hideChatJoinRequest), removing a
client (channels.editBanned, and channels.getParticipants when the owner's account does it),
revoking a link (messages.editExportedChatInvite), withdrawing a publication
(channels.deleteMessages). The contractor reads the answer tests/data/telegram_errors.tsv
promises (never the "our side" catch-all), and the records say what Telegram did: a request
still waiting, a client still in, a link still working, a publication still up — or done, when
the refusal means it is done already."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from smetabot.telegram.emulator import Emulator
from tests.helpers import run, sandbox_app, say
from tests.refusal_sites import (
    CATCH_ALL,
    assert_answered,
    inject,
    over,
    publish,
    reachable,
    retries_at_once,  # noqa: F401  (a fixture, used below)
)

pytestmark = pytest.mark.usefixtures("retries_at_once")
TITLE = "Квартира"
_clients = itertools.count(1)


def bot_says(emu: Emulator, uid: int, after: int, *starts: str) -> dict | None:
    return next((m for m in emu.user_chat(uid, after) if m["from"] == "bot" and
                 (m["text"] or "").startswith(starts)), None)


async def wait_said(emu: Emulator, uid: int, after: int, *starts: str) -> dict:
    return await emu.wait_until(lambda: bot_says(emu, uid, after, *starts), timeout=60)


def last_id(emu: Emulator, uid: int) -> int:
    return max(m["id"] for m in emu.user_chat(uid))


class Contractor:
    """A connected contractor with the ready channel «Квартира» asking for join requests."""

    def __init__(self, app) -> None:
        self.app, self.emu = app, app.emulator

    async def setup(self) -> None:
        emu = self.emu
        self.id = emu.create_user("Иван", language_code="ru")
        self.app.vault.save(self.id, emu.session_string(self.id))
        await say(self.app, self.id, "🆕 Новый канал")
        await say(self.app, self.id, TITLE)
        sent = await emu.user_send_text(self.id, "Пропустить")
        await wait_said(emu, self.id, sent, "✅")
        channel = await self.app.channels.records.by_telegram_id(next(
            c["id"] for c in emu.channels() if c["title"] == TITLE))
        self.channel, self.link = channel.id, channel.link

    async def card(self) -> dict:
        """📢 Мои каналы → «Квартира»: the card."""
        sent = await self.emu.user_send_text(self.id, "📢 Мои каналы")
        listing = await wait_said(self.emu, self.id, sent, "📢 Ваши каналы")
        await self.emu.user_press(self.id, listing["id"], f"📢 {TITLE}")
        return await wait_said(self.emu, self.id, listing["id"], "📢", "Канал")

    async def press(self, message: dict, button: str) -> tuple[dict, list[dict]]:
        """Press ``button``: the callback's answer and the bot's messages since."""
        before = last_id(self.emu, self.id)
        answer = await self.emu.user_press(self.id, message["id"], button)

        def said() -> list[dict]:
            return [m for m in self.emu.user_chat(self.id, before) if m["from"] == "bot"]

        if not answer.get("text"):  # the bot answers with a message (or edits this one)
            await self.emu.wait_until(lambda: said() or self.emu.user_chat(
                self.id, message["id"] - 1)[0]["edited"], timeout=30)
        await self.emu.settle()
        return answer, said()

    async def asking_client(self) -> tuple[int, dict]:
        """A new client taps the link: their id and the request's message to the contractor."""
        client = self.emu.create_user(f"Клиент {next(_clients)}", language_code="ru")
        before = last_id(self.emu, self.id)
        try:
            await self.emu.user_join(client, self.link)
        except Exception as exc:  # noqa: BLE001  INVITE_REQUEST_SENT: the request waits
            assert "INVITE_REQUEST_SENT" in str(exc)
        return client, await wait_said(self.emu, self.id, before, "🚪")

    async def member(self) -> int:
        """A client let in (nothing refused)."""
        client, asked = await self.asking_client()
        await self.press(asked, "✅ Пустить")
        for _ in range(200):  # the bot records them from Telegram's chat_member update
            if await self.app.channels.records.present_member(self.channel, client):
                return client
            await self.emu.settle()
            await asyncio.sleep(0.02)
        raise AssertionError("the client let in was never recorded as a member")


def told(answer: dict, said: list[dict]) -> str:
    return "\n".join([answer.get("text") or "", *[m["text"] or "" for m in said]])


def test_every_refusal_behind_a_card_button_is_answered_as_the_table_says(tmp_path):
    emu = Emulator(fake_clock=True)
    emu.create_bot("smetabot", "SmetaBot")

    async def scenario():
        async with sandbox_app(tmp_path, emu, channels_join="approve") as app:
            ivan = Contractor(app)
            await ivan.setup()
            records = app.channels.records

            # ✅ Пустить under a join request
            rows = reachable("messages.hideChatJoinRequest")
            assert len(rows) >= 10
            for row in rows:
                client, asked = await ivan.asking_client()
                ident = inject(emu, "messages.hideChatJoinRequest", row)
                answer, said = await ivan.press(asked, "✅ Пустить")
                over(emu, "messages.hideChatJoinRequest")
                request = await records.join_request(ivan.channel, client)
                if row["answer"] == "specific:join_request_gone":  # decided elsewhere
                    assert answer["text"] == "Уже решено", (row, answer)
                    assert request is None or request.status != "pending", row
                    continue
                assert_answered(row, told(answer, said), "ru", ident)
                assert request is not None and request.status == "pending", row

            # 👥 Клиенты → ❌ → Да, удалить
            for method in ("channels.editBanned", "channels.getParticipants"):
                rows = reachable(method)
                assert len(rows) >= 5
                for row in rows:
                    client = await ivan.member()
                    card = await ivan.card()
                    _, said = await ivan.press(card, next(
                        b["text"] for line in card["buttons"] for b in line
                        if b["text"].startswith("👥")))
                    listing = said[-1]
                    name = next(b["text"] for line in listing["buttons"] for b in line
                                if b["text"].startswith("❌"))
                    _, said = await ivan.press(listing, name)
                    if method == "channels.getParticipants":
                        # the bot may not ban: the owner's account does, and meets the
                        # client in the member list first (its client, started afresh,
                        # has not met them yet)
                        await app.user_clients.forget(ivan.id)
                        emu.inject_error("channels.EditBanned", 403, "CHAT_ADMIN_REQUIRED")
                        ident = inject(emu, method, row)
                    elif row["error"] in ("CHAT_ADMIN_REQUIRED", "RIGHT_FORBIDDEN"):
                        ident = inject(emu, method, row, times=2)  # the owner cannot either
                    else:
                        ident = inject(emu, method, row)
                    answer, said = await ivan.press(said[-1], "Да, удалить")
                    over(emu, method)
                    assert_answered(row, told(answer, said), "ru", ident)
                    assert await records.present_member(ivan.channel, client), row

            # 🚫 Отозвать ссылку
            rows = reachable("messages.editExportedChatInvite")
            assert len(rows) >= 5
            for row in rows:
                card = await ivan.card()
                invites = await records.invites(ivan.channel)
                if len(invites) != 1:
                    raise AssertionError(f"one link expected, not {invites}")
                ident = inject(emu, "messages.editExportedChatInvite", row)
                answer, said = await ivan.press(card, "🚫 Отозвать ссылку")
                over(emu, "messages.editExportedChatInvite")
                left = await records.invites(ivan.channel)
                if row["answer"] == "specific:invite_gone":  # revoked already: so be it
                    assert answer["text"] == "Ссылка отозвана." and not left, row
                    card = await ivan.card()
                    await ivan.press(card, "🔗 Новая ссылка")  # for the next row
                    continue
                assert_answered(row, told(answer, said), "ru", ident)
                assert [i.id for i in left] == [i.id for i in invites], row

            # 🗑 Снять с публикации → Да, снять
            await publish(app, ivan.id, TITLE)
            rows = reachable("channels.deleteMessages")
            assert len(rows) >= 5
            for row in rows:
                card = await ivan.card()
                _, said = await ivan.press(card, "🗑 1. Снять с публикации")
                ident = inject(emu, "channels.deleteMessages", row)
                answer, said = await ivan.press(said[-1], "Да, снять")
                over(emu, "channels.deleteMessages")
                text = told(answer, said) + "\n" + "\n".join(
                    m["text"] or "" for m in emu.user_chat(ivan.id) if m["edited"])
                publication = await app.db.fetchone(
                    "SELECT id, status FROM core_publications ORDER BY id DESC LIMIT 1")
                if row["answer"] == "specific:message_gone":  # deleted already: withdrawn
                    assert publication["status"] == "withdrawn", row
                    await publish(app, ivan.id, TITLE)
                    continue
                assert not any(phrase in text for phrase in CATCH_ALL), (row, text)
                assert_answered(row, text, "ru", ident)
                assert publication["status"] == "published", row

    run(scenario(), timeout=300)
