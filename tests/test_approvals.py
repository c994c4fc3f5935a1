"""The client answers under a publication: «✅ Согласовать» (confirmed, recorded once, told to the
contractor) and «💬 Задать вопрос» (relayed to the contractor, the answer relayed back), all
through the emulator as people would press and type."""

from __future__ import annotations

import asyncio
import csv
import io
import re

import pytest
from typer.testing import CliRunner

from smetabot.cli import app as cli_app
from smetabot.telegram.emulator import TelegramError
from tests.helpers import SAMPLES, call, labels, press, run, sandbox_app, say
from tests.test_cards import channel_with_client, open_card, publish, send_file, small_pdf
from tests.test_publish import wait_text

MOMENT = r"\d\d\.\d\d\.\d{4} \d\d:\d\d"


def buttons_post(app, channel_tg: int, code: str) -> dict:
    """The bot's text post under the publication with this tracking code."""
    [post] = [p for p in app.emulator.channel(channel_tg)["posts"]
              if not p["media"] and f"#{code}" in (p["text"] or "")]
    return post


async def post_with(app, channel_tg: int, code: str, words: str) -> dict:
    """Wait until that post shows ``words`` (in its text or its buttons)."""
    def look():
        post = buttons_post(app, channel_tg, code)
        shown = [post["text"] or "", *labels(post)]
        return [post] if any(words in text for text in shown) else []
    [post] = await app.emulator.wait_until(look, 10)
    return post


async def published(app, title="Квартира на Ленина"):
    ivan, petr, row = await channel_with_client(app, title)
    await publish(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf", title)
    pub = await app.db.fetchone("SELECT id, tracking_code FROM core_publications")
    return ivan, petr, row, pub


def test_client_approves_the_contractor_is_told_and_a_second_press_counts_once(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row, pub = await published(app)
            code = pub["tracking_code"]
            post = buttons_post(app, row["tg"], code)
            assert "«smeta-remont-kvartiry» (v1, код #" in post["text"]
            assert labels(post) == ["✅ Согласовать", "💬 Задать вопрос"]

            # A stray tap does not approve: it asks to confirm, naming document and code.
            answer = await emu.user_press_in_channel(petr, row["tg"], post["id"], "✅ Согласовать")
            assert f"код #{code}, 3 стр." in answer["text"]
            confirm = f"Да, согласовать «smeta-remont-kvartiry» (код #{code})"
            post = await post_with(app, row["tg"], code, confirm)
            assert not await app.db.fetchone("SELECT 1 FROM approvals_posts WHERE approved_by "
                                             "IS NOT NULL")
            # A second client presses the same confirmation at the same moment: one approval.
            anna = emu.create_user("Анна", language_code="ru")
            link = (await app.db.fetchone("SELECT link FROM core_invites"))["link"]
            await emu.user_join(anna, link)
            await emu.wait_until(lambda: [m for m in emu.user_chat(ivan)
                                          if "Анна" in (m["text"] or "")], 10)
            first, second = await asyncio.gather(
                emu.user_press_in_channel(petr, row["tg"], post["id"], confirm),
                emu.user_press_in_channel(anna, row["tg"], post["id"], confirm))
            answers = sorted([first["text"], second["text"]])
            assert sum("Вы согласовали" in a for a in answers) == 1
            assert sum(a.startswith("Уже согласовано") for a in answers) == 1
            assert first["alert"] and second["alert"]
            approver = "Пётр (@petr)" if "Вы согласовали" in first["text"] else "Анна"

            # The contractor is told at once, with the document, version, code and time.
            [told] = await wait_text(app, ivan, "✅ Клиент")
            assert re.fullmatch(rf"✅ Клиент {re.escape(approver)} согласовал "
                                rf"«smeta-remont-kvartiry» \(v1, код #{code}\) {MOMENT}",
                                told["text"]), told["text"]
            # Everyone in the channel sees it approved; the approve button is gone.
            post = await post_with(app, row["tg"], code, "✅ Согласовано")
            assert re.search(r"✅ Согласовано \d\d\.\d\d\.\d{4}", post["text"])
            assert labels(post) == ["💬 Задать вопрос"]
            rows = await app.db.fetchall("SELECT approved_by, tracking_code, pages, approved_at "
                                         "FROM approvals_posts WHERE approved_by IS NOT NULL")
            assert len(rows) == 1 and (rows[0]["tracking_code"], rows[0]["pages"]) == (code, 3)
            await app.analytics.flush()
            events = await app.db.fetchall(
                "SELECT telegram_user_id AS user_id, publication_id FROM analytics_events "
                "WHERE kind = 'approval'")
            assert [(e["user_id"], e["publication_id"]) for e in events] == [
                (rows[0]["approved_by"], pub["id"])]
            assert len([m for m in emu.user_chat(ivan) if "✅ Клиент" in (m["text"] or "")]) == 1
            # The channel card says who approved and when.
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert re.search(rf"✅ согласовано: {re.escape(approver)}, {MOMENT}", card["text"])
            return code, approver

    code, approver = run(scenario())
    # The operator's trace names the approval; stats count it.
    runner = CliRunner()
    result = runner.invoke(cli_app, ["trace", code, "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Approved:    by {approver} (Telegram id " in result.output
    assert f"code #{code}, 3 pages" in result.output
    result = runner.invoke(cli_app, ["stats", "--csv", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [mine] = [r for r in csv.DictReader(io.StringIO(result.stdout)) if r["publications"] == "1"]
    assert (mine["approvals"], mine["questions"]) == ("1", "0")


def test_a_non_member_cannot_approve(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row, pub = await published(app)
            post = buttons_post(app, row["tg"], pub["tracking_code"])
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "⏳ ждёт согласования" in card["text"]
            # The contractor owns the channel but is no client of it: refused in an alert.
            answer = await emu.user_press_in_channel(ivan, row["tg"], post["id"], "✅ Согласовать")
            assert answer == {"text": "Согласовать может только клиент — участник канала.",
                              "alert": True, "url": None}
            # Someone outside the channel cannot even press (Telegram's own refusal).
            stranger = emu.create_user("Чужой", language_code="ru")
            with pytest.raises(TelegramError):
                await emu.user_press_in_channel(stranger, row["tg"], post["id"], "✅ Согласовать")
            assert labels(buttons_post(app, row["tg"], pub["tracking_code"])) == [
                "✅ Согласовать", "💬 Задать вопрос"]
            assert not await app.db.fetchone("SELECT 1 FROM approvals_posts WHERE approved_by "
                                             "IS NOT NULL")
            # Withdrawn: a press is refused and the message loses its buttons.
            card = await open_card(app, ivan, "Квартира на Ленина")
            [confirm] = await press(app, ivan, card["id"], "🗑 1. Снять с публикации")
            await emu.user_press(ivan, confirm["id"], "Да, снять")
            await app.emulator.wait_until(lambda: not [
                p for p in emu.channel(row["tg"])["posts"] if p["media"]], 10)
            answer = await emu.user_press_in_channel(petr, row["tg"], post["id"], "✅ Согласовать")
            assert answer["alert"] and "больше не действует" in answer["text"]
            gone = await post_with(app, row["tg"], pub["tracking_code"], "снята с публикации")
            assert gone["buttons"] == []

    run(scenario())


def test_a_replaced_publication_loses_its_buttons_and_cannot_be_approved(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row, old = await published(app)
            post = buttons_post(app, row["tg"], old["tracking_code"])
            # The client had begun to approve the old version when the new one came.
            await emu.user_press_in_channel(petr, row["tg"], post["id"], "✅ Согласовать")
            await post_with(app, row["tg"], old["tracking_code"], "Да, согласовать")
            card = await open_card(app, ivan, "Квартира на Ленина")
            await press(app, ivan, card["id"], "🔁 1. Заменить новой версией")
            sent = await send_file(app, ivan, small_pdf(tmp_path / "v2.pdf", 2, "Версия 2"))
            await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
            new = await app.db.fetchone("SELECT id, tracking_code FROM core_publications "
                                        "WHERE id != ?", (old["id"],))
            gone = await post_with(app, row["tg"], old["tracking_code"], "заменена новой версией")
            assert gone["buttons"] == []
            with pytest.raises(TelegramError):
                await emu.user_press_in_channel(petr, row["tg"], gone["id"],
                                                f"Да, согласовать «smeta-remont-kvartiry» "
                                                f"(код #{old['tracking_code']})")
            # The new version has its own buttons, as v2; approving it works.
            fresh = buttons_post(app, row["tg"], new["tracking_code"])
            assert "(v2, код #" in fresh["text"]
            await emu.user_press_in_channel(petr, row["tg"], fresh["id"], "✅ Согласовать")
            await post_with(app, row["tg"], new["tracking_code"], "Да, согласовать")
            answer = await emu.user_press_in_channel(
                petr, row["tg"], fresh["id"],
                f"Да, согласовать «smeta-remont-kvartiry» (код #{new['tracking_code']})")
            assert "Вы согласовали" in answer["text"]
            approved = await app.db.fetchall(
                "SELECT publication_id FROM approvals_posts WHERE approved_by IS NOT NULL")
            assert [a["publication_id"] for a in approved] == [new["id"]]
            await wait_text(app, ivan, f"(v2, код #{new['tracking_code']})")

    run(scenario())


def test_a_question_reaches_the_contractor_and_the_answer_reaches_the_client(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row, pub = await published(app)
            code = pub["tracking_code"]
            post = buttons_post(app, row["tg"], code)
            opened = await emu.user_press_in_channel(petr, row["tg"], post["id"],
                                                     "💬 Задать вопрос")
            assert opened == {"url": f"https://t.me/{emu.bot.username}?start=q_{code}"}
            started = await emu.user_start(petr, f"q_{code}")
            [prompt] = await emu.wait_for_bot_reply(petr, after=started)
            assert f"Вопрос по «smeta-remont-kvartiry» (код #{code})" in prompt["text"]
            [sent] = await say(app, petr, "Когда начнёте работы?")
            assert "Вопрос передан" in sent["text"]
            [relay] = await wait_text(app, ivan, "💬 Вопрос от клиента")
            assert f"Пётр (@petr) по «smeta-remont-kvartiry» (v1, код #{code})" in relay["text"]
            assert "Когда начнёте работы?" in relay["text"]
            [ask] = await press(app, ivan, relay["id"], "↩️ Ответить клиенту")
            assert "Напишите ответ клиенту Пётр (@petr)" in ask["text"]
            last = max(m["id"] for m in emu.user_chat(petr))
            [done] = await say(app, ivan, "В понедельник с утра")
            assert "Ответ отправлен" in done["text"]
            [answer] = await emu.wait_for_bot_reply(petr, after=last)
            assert answer["text"] == (f"💬 Ответ подрядчика по «smeta-remont-kvartiry» "
                                      f"(код #{code}):\n\nВ понедельник с утра")
            # A few questions a minute at most.
            for number in (2, 3):
                started = await emu.user_start(petr, f"q_{code}")
                await emu.wait_for_bot_reply(petr, after=started)
                [sent] = await say(app, petr, f"Вопрос {number}")
                assert "Вопрос передан" in sent["text"]
            started = await emu.user_start(petr, f"q_{code}")
            await emu.wait_for_bot_reply(petr, after=started)
            [limited] = await say(app, petr, "Вопрос 4")
            assert "подождите минуту" in limited["text"]
            await app.analytics.flush()
            counts = await app.db.fetchall(
                "SELECT kind AS event, COUNT(*) AS n FROM analytics_events WHERE kind LIKE 'question%' "
                "GROUP BY kind ORDER BY kind")
            assert [(c["event"], c["n"]) for c in counts] == [("question", 3),
                                                               ("question_answered", 1)]

    run(scenario())


def test_through_the_sandbox_api_the_client_approves_and_the_contractor_sees_it(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan, petr, row, pub = await published(app)
            base, code = f"http://127.0.0.1:{app.port}/sandbox/api", pub["tracking_code"]

            async def api(path, body=None):
                return await asyncio.to_thread(call, base, path, body)

            status, channel = await api(f"/channels/{row['tg']}")
            [post] = [p for p in channel["posts"] if f"#{code}" in (p["text"] or "")]
            assert [b["text"] for r in post["buttons"] for b in r] == ["✅ Согласовать",
                                                                       "💬 Задать вопрос"]
            status, answer = await api(f"/users/{petr}/channels/{row['tg']}/press",
                                       {"message_id": post["id"], "text": "✅ Согласовать"})
            assert status == 200 and "Подтвердите" in answer["text"]
            confirm = f"Да, согласовать «smeta-remont-kvartiry» (код #{code})"
            await post_with(app, row["tg"], code, confirm)
            status, answer = await api(f"/users/{petr}/channels/{row['tg']}/press",
                                       {"message_id": post["id"], "text": confirm})
            assert status == 200 and answer["alert"] and "Вы согласовали" in answer["text"]

            await wait_text(app, ivan, "✅ Клиент")  # then read as the sandbox shows it
            status, chat = await api(f"/users/{ivan}/chat")
            [message] = [m for m in chat if "✅ Клиент Пётр (@petr) согласовал" in
                         (m["text"] or "")]
            assert f"(v1, код #{code})" in message["text"]

    run(scenario())


def test_the_buttons_can_be_switched_off_in_the_cabinet(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row = await channel_with_client(app)
            [cabinet] = await say(app, ivan, "👤 Личный кабинет")
            switch = "✅ Кнопки «Согласовать» под публикациями: вкл."
            assert switch in labels(cabinet)
            answer = await emu.user_press(ivan, cabinet["id"], switch)
            assert answer["alert"] and "без кнопок" in answer["text"]
            [cabinet] = await say(app, ivan, "👤 Личный кабинет")
            assert "⬜ Кнопки «Согласовать» под публикациями: выкл." in labels(cabinet)
            await publish(app, ivan, SAMPLES / "smeta-remont-kvartiry.pdf", "Квартира на Ленина")
            assert [p for p in emu.channel(row["tg"])["posts"] if not p["media"]] == []
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "ждёт согласования" not in card["text"]

    run(scenario())


def test_the_buttons_can_be_taken_away_and_put_back_for_one_publication(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            emu = app.emulator
            ivan, petr, row, pub = await published(app)
            code = pub["tracking_code"]
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert "ждёт согласования" in card["text"]
            emu.inject_error("channels.DeleteMessages", 400, "MESSAGE_DELETE_FORBIDDEN")
            answer = await emu.user_press(ivan, card["id"], "🔕 1. Убрать кнопки «Согласовать»")
            assert answer["alert"] and "Telegram не принял изменение" in answer["text"]
            assert buttons_post(app, row["tg"], code)  # still there, and still recorded
            answer = await emu.user_press(ivan, card["id"], "🔕 1. Убрать кнопки «Согласовать»")
            assert answer["alert"] and "убраны из канала" in answer["text"]
            assert [p for p in emu.channel(row["tg"])["posts"] if not p["media"]] == []
            card = await emu.wait_until(lambda: next(
                (m for m in emu.user_chat(ivan) if m["id"] == card["id"]
                 and "🔔 1. Добавить кнопки «Согласовать»" in labels(m)), None))
            assert "ждёт согласования" not in card["text"]
            answer = await emu.user_press(ivan, card["id"], "🔔 1. Добавить кнопки «Согласовать»")
            assert answer["alert"] and "появились кнопки" in answer["text"]
            post = buttons_post(app, row["tg"], code)
            assert labels(post) == ["✅ Согласовать", "💬 Задать вопрос"]
            # the client approves through the buttons put back; then there is nothing to switch
            await emu.user_press_in_channel(petr, row["tg"], post["id"], "✅ Согласовать")
            post = buttons_post(app, row["tg"], code)
            await emu.user_press_in_channel(petr, row["tg"], post["id"], labels(post)[0])
            await emu.wait_until(lambda: [m for m in emu.user_chat(ivan)
                                          if "согласовал" in (m["text"] or "")])
            card = await open_card(app, ivan, "Квартира на Ленина")
            assert not [label for label in labels(card) if "«Согласовать»" in label]

    run(scenario())
