"""The operator's analytics: `smetabot trace CODE` and `smetabot stats [--since] [--csv]` on the
data dir of an appliance that ran, the card's counts for a channel with several clients, and the
thinning of old readings."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta

import pymupdf
import typer
from pyrogram import Client, raw
from pyrogram.types import ChatPrivileges
from typer.testing import CliRunner

from smetabot import cli_analytics
from smetabot.db import Database
from smetabot.render.office import find_soffice
from smetabot.views import ViewsPoller
from tests.helpers import press, run, sandbox_app, say

BOT_RIGHTS = ChatPrivileges(can_post_messages=True, can_edit_messages=True,
                            can_delete_messages=True, can_invite_users=True)
TITLE = 'Дом "Сосны", участок 7'
NAME = 'Иван "Ремонт, Строй"'


def cli() -> typer.Typer:
    """The two commands, registered as cli.py registers them."""
    app = typer.Typer()
    app.command("trace")(cli_analytics.trace)
    app.command("stats")(cli_analytics.stats)
    return app


async def wait_text(app, user_id, words, after=0):
    def look():
        return [m for m in app.emulator.user_chat(user_id, after)
                if m["from"] == "bot" and words in (m["text"] or "")]
    return await app.emulator.wait_until(look, 60)


async def published_with_two_clients(app, tmp_path):
    """A contractor whose name has quotes and a comma, a channel with two clients, a 3-page
    publication; the first client opens page 2, the second pages 2 and 3."""
    emu = app.emulator
    ivan = emu.create_user(NAME, username="ivan_remont", language_code="ru")
    app.vault.save(ivan, emu.session_string(ivan))
    await say(app, ivan, "/start")
    async with app.user_clients.use(ivan) as client:
        chat = await client.create_channel(TITLE)
        await client.promote_chat_member(chat.id, emu.bot.username, BOT_RIGHTS)
        link = (await client.create_chat_invite_link(chat.id)).invite_link
        peer = await client.resolve_peer(chat.id)
    await app.db.execute(
        "INSERT INTO core_channels (contractor_id, telegram_channel_id, access_hash, title, "
        "protected, bot_is_admin, status) VALUES (?, ?, ?, ?, 1, 1, 'ready')",
        (ivan, chat.id, peer.access_hash, TITLE))
    phones = []
    for name in ("Пётр", "Анна"):
        uid = emu.create_user(name, language_code="ru")
        phone = emu.attach(Client(f"c{uid}", session_string=emu.session_string(uid),
                                  in_memory=True))
        await phone.start()
        await phone.join_chat(link)
        await wait_text(app, ivan, f"Клиент {name} присоединился")
        phones.append(phone)
    pdf = tmp_path / "smeta, v2.pdf"
    document = pymupdf.open()
    for number in range(3):
        document.new_page().insert_text((72, 72), f"page {number + 1}")
    document.save(pdf)
    sent = await emu.user_send_document(ivan, pdf.name, pdf.read_bytes(), "application/pdf")
    [picker] = await wait_text(app, ivan, "Какие страницы", after=sent)
    [question] = await press(app, ivan, picker["id"], "Далее ➡️")
    [choice] = await press(app, ivan, question["id"], "✅ Оставить")
    await press(app, ivan, choice["id"], f"📢 {TITLE}")
    await wait_text(app, ivan, "✅ Документ опубликован", after=sent)
    row = await app.db.fetchone("SELECT id, tracking_code, message_ids FROM core_publications")
    ids = json.loads(row["message_ids"])
    for phone, seen in zip(phones, ([ids[1]], [ids[1], ids[2]])):
        await phone.invoke(raw.functions.messages.GetMessagesViews(
            peer=await phone.resolve_peer(chat.id), id=seen, increment=True))
        await phone.stop()
    app.views.interval = 0.05
    target = app.views.rounds + 2
    app.views.wake()
    await emu.wait_until(lambda: app.views.rounds >= target, 30)
    return ivan, row


def test_trace_and_stats_from_the_command_line(tmp_path):
    data = tmp_path / "data"

    async def scenario():
        from smetabot.telegram.emulator import Emulator

        emulator = Emulator()
        emulator.create_bot("smetabot", "SmetaBot")
        boss = emulator.create_user("Оператор", language_code="ru")
        async with sandbox_app(data, emulator, admins_telegram_ids=str(boss)) as app:
            ivan, row = await published_with_two_clients(app, tmp_path)
            # The operator's /admin shows the installation's figures.
            [summary] = await say(app, boss, "/admin")
            assert "📊 Всего: подрядчиков 2, каналов 1, публикаций 1, страниц 3, сбоев 0, " \
                   "клиентов вступило 2, просмотров 3." in summary["text"]
            # Two clients: the card counts views, it does not say who opened what.
            [listing] = await say(app, ivan, "📢 Мои каналы")
            [card] = await press(app, ivan, listing["id"], f"📢 {TITLE}")
            assert "просмотров по страницам: 1: 0, 2: 2, 3: 1" in card["text"]
            assert "клиент открыл" not in card["text"]
            return ivan, row["tracking_code"]

    ivan, code = run(scenario())
    runner = CliRunner()
    result = runner.invoke(cli(), ["trace", code.lower(), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert f'Channel:     "{TITLE}" (ready)' in result.output
    assert "Пётр: joined" in result.output and "Анна: joined" in result.output
    assert "Pages opened by others: 2, 3" in result.output
    missing = runner.invoke(cli(), ["trace", "ZZZZZ", "--data-dir", str(data)])
    assert missing.exit_code == 1

    result = runner.invoke(cli(), ["stats", "--csv", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    libreoffice_round_trip(result.stdout, tmp_path / "lo", rows)
    [mine] = [r for r in rows if r["contractor_id"] == str(ivan)]
    assert mine["name"] == f"{NAME} (@ivan_remont)"  # quotes and the comma survive
    assert (mine["channels"], mine["publications"], mine["pages_rendered"], mine["failures"],
            mine["clients_joined"], mine["views"]) == ("1", "1", "3", "0", "2", "3")
    later = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    result = runner.invoke(cli(), ["stats", "--csv", "--since", later, "--data-dir", str(data)])
    [mine] = [r for r in csv.DictReader(io.StringIO(result.stdout))
              if r["contractor_id"] == str(ivan)]
    assert mine["publications"] == "0"
    table = runner.invoke(cli(), ["stats", "--data-dir", str(data)])
    assert table.exit_code == 0 and "Total: channels 1, publications 1" in table.output
    bad = runner.invoke(cli(), ["stats", "--since", "yesterday", "--data-dir", str(data)])
    assert bad.exit_code == 64 and "not a date" in bad.output


def libreoffice_round_trip(text: str, work, rows: list[dict]) -> None:
    """The CSV opened in LibreOffice Calc (as an ODS) and saved back as CSV reads the same."""
    soffice = find_soffice("")
    work.mkdir()
    source = work / "stats.csv"
    source.write_text(text, encoding="utf-8", newline="")
    profile = f"-env:UserInstallation=file://{work / 'profile'}"
    for args, out in ((["--infilter=CSV:44,34,76,1", "--convert-to", "ods", str(source)],
                       work / "ods"),
                      (["--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1",
                        str(work / "ods" / "stats.ods")], work / "back")):
        subprocess.run([soffice, "--headless", profile, *args, "--outdir", str(out)],
                       check=True, capture_output=True, timeout=120,
                       env={**os.environ, "TMPDIR": str(work)})  # its temp files stay here
    back = (work / "back" / "stats.csv").read_text(encoding="utf-8")
    assert list(csv.DictReader(io.StringIO(back))) == rows


def test_old_readings_are_thinned(tmp_path):
    async def scenario():
        db = Database(tmp_path / "smetabot.db")
        await db.open()
        try:
            await db.execute("INSERT INTO core_contractors (id) VALUES (1)")
            await db.execute("INSERT INTO core_channels (contractor_id, title) VALUES (1, 't')")
            await db.execute("INSERT INTO core_publications (channel_id, tracking_code) "
                             "VALUES (1, 'AAAAA')")
            now = datetime(2026, 12, 4, 12, tzinfo=UTC)
            stamps = []
            for days_ago in (40, 10, 1):  # a month+ ago, a week+ ago, yesterday
                for minutes in range(0, 180, 20):  # 9 readings over three hours
                    moment = now - timedelta(days=days_ago) + timedelta(minutes=minutes)
                    stamps.append(moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
            for views, stamp in enumerate(stamps):
                await db.execute("INSERT INTO analytics_view_readings (publication_id, page, "
                                 "read_at, views) VALUES (1, 1, ?, ?)", (stamp, views))
            poller = ViewsPoller(db, None, None)
            removed = await poller.thin(now)
            left = [r["read_at"] for r in await db.fetchall(
                "SELECT read_at FROM analytics_view_readings ORDER BY read_at")]
            # 40 days ago: one a day (1); 10 days ago: one an hour (3); yesterday: all (9).
            assert len(left) == 1 + 3 + 9 and removed == 27 - 13
            assert left[0] == stamps[8]  # the day's last reading is the one kept
        finally:
            await db.close()

    run(scenario())
