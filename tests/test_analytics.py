"""Analytics through the emulator, as people use it: a client opens some pages of an estimate,
and the contractor sees which, hears about it once, and traces a page's code back to its
channel; the views poller keeps going through flood waits, revoked sessions and lost channels."""

from __future__ import annotations

import io

import pymupdf
from PIL import Image
from pyrogram import Client, raw
from pyrogram.types import ChatPrivileges

from tests.helpers import labels, press, run, sandbox_app, say

BOT_RIGHTS = ChatPrivileges(can_post_messages=True, can_edit_messages=True,
                            can_delete_messages=True, can_invite_users=True)
TITLE = "Квартира на Ленина"


def five_pages(path):
    """A 5-page estimate (PDF)."""
    document = pymupdf.open()
    for number in range(1, 6):
        page = document.new_page()
        page.insert_text((72, 72), f"Smeta page {number}", fontsize=24)
    document.save(path)
    return path


async def contractor(app, name="Иван", username="ivan_remont"):
    """A connected contractor who said /start."""
    emu = app.emulator
    user = emu.create_user(name, username=username, language_code="ru")
    app.vault.save(user, emu.session_string(user))
    await say(app, user, "/start")
    return user


async def channel_with_client(app, owner, title=TITLE, client_name="Пётр"):
    """A ready channel of ``owner`` (its access hash kept, as channel setup keeps it), and a
    client who joined it from their own Telegram app: (channel id, client id, client app)."""
    emu = app.emulator
    async with app.user_clients.use(owner) as client:
        chat = await client.create_channel(title)
        await client.set_chat_protected_content(chat.id, True)
        await client.promote_chat_member(chat.id, emu.bot.username, BOT_RIGHTS)
        link = (await client.create_chat_invite_link(chat.id)).invite_link
        peer = await client.resolve_peer(chat.id)
    await app.db.execute(
        "INSERT INTO core_channels (contractor_id, telegram_channel_id, access_hash, title, "
        "protected, bot_is_admin, status) VALUES (?, ?, ?, ?, 1, 1, 'ready')",
        (owner, chat.id, peer.access_hash, title))
    client_id = emu.create_user(client_name, language_code="ru")
    phone = emu.attach(Client(f"client{client_id}", session_string=emu.session_string(client_id),
                              in_memory=True))
    await phone.start()
    await phone.join_chat(link)
    await wait_text(app, owner, f"Клиент {client_name} присоединился к «{title}»")
    return chat.id, client_id, phone


async def wait_text(app, user_id, words, after=0, timeout=60):
    def look():
        return [m for m in app.emulator.user_chat(user_id, after)
                if m["from"] == "bot" and words in (m["text"] or m["caption"] or "")]
    try:
        return await app.emulator.wait_until(look, timeout)
    except TimeoutError:
        seen = [(m["id"], m["text"] or m["caption"]) for m in app.emulator.user_chat(user_id,
                                                                                     after)]
        raise AssertionError(f"no bot message with {words!r}; chat after {after}: "
                             f"{seen}") from None


async def publish(app, owner, path, pages="1-5", title=TITLE):
    """The contractor sends a file and publishes ``pages`` of it; the publication row."""
    sent = await app.emulator.user_send_document(owner, path.name, path.read_bytes(),
                                                 "application/pdf")
    await wait_text(app, owner, "Какие страницы", after=sent)
    [again] = await say(app, owner, pages)
    [question] = await press(app, owner, again["id"], "Далее ➡️")
    [choice] = await press(app, owner, question["id"], "✅ Оставить")
    await press(app, owner, choice["id"], f"📢 {title}")
    await wait_text(app, owner, "✅ Документ опубликован", after=sent)
    return await app.db.fetchone("SELECT id, tracking_code, message_ids FROM core_publications "
                                 "ORDER BY id DESC LIMIT 1")


async def open_pages(app, phone, channel_id, message_ids):
    """The client scrolls to these posts in their Telegram app: the app asks for their views
    with increment=True, which is how Telegram counts a view (once per account)."""
    await phone.invoke(raw.functions.messages.GetMessagesViews(
        peer=await phone.resolve_peer(channel_id), id=message_ids, increment=True))


async def poll_rounds(app, rounds=2):
    """Let the poller run ``rounds`` more rounds (a short interval, woken now)."""
    app.views.interval = 0.05
    await app.db.execute("UPDATE analytics_view_schedule SET next_at = '0000'")
    target = app.views.rounds + rounds
    app.views.wake()
    await app.emulator.wait_until(lambda: app.views.rounds >= target, 30)


def texts_with(app, user_id, words):
    return [m for m in app.emulator.user_chat(user_id)
            if m["from"] == "bot" and words in (m["text"] or "")]


def test_client_opens_pages_1_and_3_and_the_contractor_sees_it(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = await contractor(app)
            channel_id, peter, phone = await channel_with_client(app, ivan)
            row = await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"))
            ids = __import__("json").loads(row["message_ids"])
            assert len(ids) == 5
            await poll_rounds(app)  # read once before the client looks: nothing opened
            assert not texts_with(app, ivan, "Клиент открыл смету")
            await open_pages(app, phone, channel_id, [ids[0], ids[2]])
            await poll_rounds(app)
            [notice] = await wait_text(app, ivan, "Клиент открыл смету «smeta.pdf»")
            assert "«Квартира на Ленина»: стр. 1, 3 из 5" in notice["text"]
            # More readings, and the client opening page 1 again: no second notice.
            await open_pages(app, phone, channel_id, [ids[0]])
            await poll_rounds(app, 3)
            assert len(texts_with(app, ivan, "Клиент открыл смету")) == 1

            # The channel card in «📢 Мои каналы».
            [listing] = await say(app, ivan, "📢 Мои каналы")
            [card] = await press(app, ivan, listing["id"], f"📢 {TITLE}")
            assert "клиент открыл стр. 1, 3 из 5 (впервые" in card["text"]
            assert "не открыты: 2, 4–5" in card["text"]
            assert "+ Пётр — " in card["text"]
            assert f"#{row['tracking_code']}" in card["text"]

            # The picture: one bar per page.
            [photo] = await press(app, ivan, card["id"], "📊 smeta.pdf")
            assert photo["media"]["kind"] == "photo"
            picture = Image.open(io.BytesIO(app.emulator.file_bytes(photo["media"]["file_id"])))
            assert picture.width >= 300 and "smeta.pdf" in photo["caption"]

            # /trace names the channel, the client and the pages opened.
            [traced] = await say(app, ivan, f"/trace {row['tracking_code'].lower()}")
            assert "«Квартира на Ленина»" in traced["text"]
            assert "Пётр" in traced["text"] and "стр. 1–5" in traced["text"]
            assert "Открыты клиентами: стр. 1, 3" in traced["text"]

            # Another contractor learns nothing from the same code.
            olga = await contractor(app, "Ольга", "olga_stroy")
            [other] = await say(app, olga, f"/trace {row['tracking_code']}")
            assert "не найден" in other["text"]
            assert TITLE not in other["text"] and "Пётр" not in other["text"]
            await phone.stop()

    run(scenario())


def test_notice_switched_off_in_the_cabinet_is_not_sent(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = await contractor(app)
            channel_id, _, phone = await channel_with_client(app, ivan)
            [cabinet] = await say(app, ivan, "👤 Личный кабинет")
            assert "🔔 Уведомления о просмотрах: вкл." in labels(cabinet)
            await app.emulator.user_press(ivan, cabinet["id"],
                                          "🔔 Уведомления о просмотрах: вкл.")
            [again] = await say(app, ivan, "👤 Личный кабинет")
            assert "🔕 Уведомления о просмотрах: выкл." in labels(again)
            row = await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"))
            ids = __import__("json").loads(row["message_ids"])
            await open_pages(app, phone, channel_id, ids)
            await poll_rounds(app, 3)
            assert not texts_with(app, ivan, "Клиент открыл смету")
            views = await app.analytics.publication_views(row["id"])
            assert views.opened == [1, 2, 3, 4, 5]  # still read, only not announced
            await phone.stop()

    run(scenario())


def test_every_act_is_recorded(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = await contractor(app)
            await channel_with_client(app, ivan)
            await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"), pages="2-3")
            kinds = [e["kind"] for e in await app.analytics.events(ivan)]
            for kind in ("client_joined", "upload_received", "previews_made",
                         "publication_rendered", "publication_sent"):
                assert kind in kinds
            [sent] = await app.analytics.events(ivan, "publication_sent")
            assert sent["payload"] == {"pages": 2} and sent["channel_id"]

    run(scenario())


def test_flood_wait_pauses_only_that_contractor_and_a_lost_channel_stops(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = await contractor(app)
            channel_id, _, phone = await channel_with_client(app, ivan)
            row = await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"), pages="1")
            app.emulator.inject_flood_wait("messages.GetMessagesViews", 600)
            await poll_rounds(app)
            state = await app.db.fetchone("SELECT paused_until FROM analytics_contractors "
                                          "WHERE contractor_id = ?", (ivan,))
            assert state["paused_until"] is not None
            calls = app.views.calls
            await poll_rounds(app)
            assert app.views.calls == calls  # paused: no call while the wait lasts
            await app.db.execute("UPDATE analytics_contractors SET paused_until = NULL")
            app.emulator.advance_time(600)  # the flood wait ends in Telegram too
            app.emulator.inject_error("messages.GetMessagesViews", 400, "CHANNEL_PRIVATE")
            await poll_rounds(app)
            stopped = await app.db.fetchone("SELECT stopped FROM analytics_view_schedule WHERE "
                                            "publication_id = ?", (row["id"],))
            assert stopped["stopped"] == "channel_gone"
            calls = app.views.calls
            await poll_rounds(app)
            assert app.views.calls == calls
            await phone.stop()

    run(scenario())


def test_revoked_session_stops_the_readings_and_is_told_once(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = await contractor(app)
            _, _, phone = await channel_with_client(app, ivan)
            await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"), pages="1")
            await app.user_clients.forget(ivan)
            app.emulator.user_terminate_sessions(ivan)
            await poll_rounds(app, 4)
            told = texts_with(app, ivan, "просмотры смет больше не проверяются")
            assert len(told) == 1
            calls = app.views.calls
            await poll_rounds(app, 2)
            assert app.views.calls == calls
            await phone.stop()

    run(scenario())


def test_budget_and_restart(tmp_path):
    """Two channels need two calls; with a budget of one call an hour the second waits; the
    schedule survives a restart (no reading is repeated before it is due)."""
    async def scenario():
        from smetabot.telegram.emulator import Emulator

        emulator = Emulator()
        emulator.create_bot("smetabot", "SmetaBot")
        async with sandbox_app(tmp_path / "data", emulator) as app:
            ivan = await contractor(app)
            _, _, phone1 = await channel_with_client(app, ivan)
            _, _, phone2 = await channel_with_client(app, ivan, "Дача", "Анна")
            await publish(app, ivan, five_pages(tmp_path / "a.pdf"), pages="1")
            await publish(app, ivan, five_pages(tmp_path / "b.pdf"), pages="1", title="Дача")
            app.views.budget = 1
            await poll_rounds(app, 3)
            read = await app.db.fetchall("SELECT publication_id FROM "
                                         "analytics_publication_views")
            assert len(read) == 1
            await phone1.stop()
            await phone2.stop()
        async with sandbox_app(tmp_path / "data", emulator) as app:
            state = await app.db.fetchone("SELECT budget_calls FROM analytics_contractors")
            assert state["budget_calls"] == 1  # the hour's spending is remembered
            app.views.budget = 10
            await poll_rounds(app, 2)
            read = await app.db.fetchall("SELECT publication_id FROM "
                                         "analytics_publication_views")
            assert len(read) == 2

    run(scenario())


def test_channel_deleted_in_telegram_stops_its_readings(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = await contractor(app)
            channel_id, _, phone = await channel_with_client(app, ivan)
            row = await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"), pages="1")
            await phone.stop()
            async with app.user_clients.use(ivan) as client:
                await client.delete_channel(channel_id)
            await poll_rounds(app)
            stopped = await app.db.fetchone("SELECT stopped FROM analytics_view_schedule WHERE "
                                            "publication_id = ?", (row["id"],))
            assert stopped["stopped"] == "channel_gone"

    run(scenario())


def test_the_poller_runs_on_its_configured_interval(tmp_path):
    """Nothing pokes the poller: the configured interval alone brings the answer, after the
    client read the channel as the sandbox's user API has them read it."""
    async def scenario():
        async with sandbox_app(tmp_path / "data", analytics_views_interval="0.2") as app:
            assert app.views.interval == 0.2
            ivan = await contractor(app)
            channel_id, peter, phone = await channel_with_client(app, ivan)
            await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"), pages="1-2")
            await app.emulator.user_view_channel(peter, channel_id)
            [notice] = await wait_text(app, ivan, "Клиент открыл смету «smeta.pdf»")
            assert "стр. 1–2 из 2" in notice["text"]
            await phone.stop()

    run(scenario())


def test_archived_channels_are_never_read(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path / "data") as app:
            ivan = await contractor(app)
            _, _, phone = await channel_with_client(app, ivan)
            row = await publish(app, ivan, five_pages(tmp_path / "smeta.pdf"), pages="1")
            [channel] = (await app.channels.records.page(ivan, 0, 5))[0]
            await app.channels.archive(channel)
            calls = app.views.calls
            await poll_rounds(app, 2)
            assert app.views.calls == calls
            stopped = await app.db.fetchone("SELECT stopped FROM analytics_view_schedule WHERE "
                                            "publication_id = ?", (row["id"],))
            assert stopped["stopped"] == "archived"
            assert [e["channel_id"] for e in await app.analytics.events(
                ivan, "channel_archived")] == [channel.id]
            await phone.stop()

    run(scenario())
