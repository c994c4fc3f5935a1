"""The bot's first steps, end to end through the emulator with real pyrogram clients."""

from __future__ import annotations

from smetabot.telegram.emulator import Emulator
from tests.helpers import labels, press, run, sandbox_app, say

MENU_RU = ["🆕 Новый канал", "📄 Рендер файлов", "📢 Мои каналы", "👤 Личный кабинет"]



def test_first_start_offers_to_connect_and_creates_the_contractor(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", username="ivan", language_code="ru")
            [reply] = await say(app, ivan, "/start")
            assert "подключите свой аккаунт" in reply["text"]
            [[button]] = reply["buttons"]
            assert button["text"] == "🔐 Подключить аккаунт"
            assert button["kind"] == "web_app"
            assert button["url"].startswith(f"{app.public_url}/webapp/login")
            contractor = await app.contractors.get(ivan)
            assert (contractor.first_name, contractor.username, contractor.language) == \
                ("Иван", "ivan", "ru")
            # The command list is registered with Telegram in both languages.
            commands = {c["command"] for c in app.emulator.bot_commands(lang_code="ru")}
            assert commands == {"start", "menu", "cancel", "help"}
            english = app.emulator.bot_commands()
            assert any(c["description"] == "Main menu" for c in english)

    run(scenario())


def test_contractor_with_a_session_gets_the_main_menu(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            app.vault.save(ivan, app.emulator.session_string(ivan))
            [reply] = await say(app, ivan, "/start")
            assert reply["text"] == "Главное меню. Что сделаем?"
            assert labels(reply) == MENU_RU
            assert all(b["kind"] == "reply" for row in reply["buttons"] for b in row)

    run(scenario())


def test_a_user_writing_in_english_gets_english(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            john = app.emulator.create_user("John", language_code="en")
            [reply] = await say(app, john, "/start")
            assert "connect your Telegram account" in reply["text"]
            assert labels(reply) == ["🔐 Connect account"]
            [reply] = await say(app, john, "/help")
            assert "/cancel" in reply["text"] and "Render files" in reply["text"]
            german = app.emulator.create_user("Hans", language_code="de")
            [reply] = await say(app, german, "hallo")
            assert reply["text"].startswith("I don't understand")

    run(scenario())


def test_unknown_message_gets_a_hint(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            [reply] = await say(app, ivan, "сколько стоит ремонт?")
            assert "Не понимаю" in reply["text"] and "/help" in reply["text"]
            [reply] = await say(app, ivan, "/nosuchcommand")
            assert "Не понимаю" in reply["text"]

    run(scenario())


async def _open_watermark_wizard(app, user_id):
    [card] = await say(app, user_id, "👤 Личный кабинет")
    assert "Личный кабинет" in card["text"]
    [question] = await press(app, user_id, card["id"], "✏️ Водяной знак")
    assert "текст водяного знака" in question["text"]


def test_cancel_in_the_middle_of_a_wizard(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            app.vault.save(ivan, app.emulator.session_string(ivan))
            await _open_watermark_wizard(app, ivan)
            [reply] = await say(app, ivan, "/cancel")
            assert reply["text"] == "Действие отменено."
            assert labels(reply) == MENU_RU
            # The wizard is gone: the next text is not taken as a watermark.
            [reply] = await say(app, ivan, "ООО Ремонт")
            assert "Не понимаю" in reply["text"]
            assert (await app.contractors.get(ivan)).default_watermark is None
            [reply] = await say(app, ivan, "/cancel")
            assert reply["text"] == "Отменять нечего."

    run(scenario())


def test_restart_in_the_middle_of_a_wizard_continues_it(tmp_path):
    async def scenario():
        emulator = Emulator()
        emulator.create_bot("smetabot", "SmetaBot")
        ivan = emulator.create_user("Иван", language_code="ru")
        async with sandbox_app(tmp_path, emulator) as app:
            app.vault.save(ivan, emulator.session_string(ivan))
            await _open_watermark_wizard(app, ivan)
        # The appliance restarts; the user answers the question asked before the restart.
        async with sandbox_app(tmp_path, emulator) as app:
            [reply] = await say(app, ivan, "ООО «Ремонт» · Иванов И.И.")
            assert reply["text"] == "Водяной знак сохранён: «ООО «Ремонт» · Иванов И.И.»."
            assert (await app.contractors.get(ivan)).default_watermark == \
                "ООО «Ремонт» · Иванов И.И."

    run(scenario())


def test_watermark_wizard_checks_the_text(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            app.vault.save(ivan, app.emulator.session_string(ivan))
            await _open_watermark_wizard(app, ivan)
            [reply] = await say(app, ivan, "x" * 65)
            assert "Слишком длинно: 65 символов" in reply["text"]
            [reply] = await say(app, ivan, "Иванов")
            assert reply["text"] == "Водяной знак сохранён: «Иванов»."

    run(scenario())
