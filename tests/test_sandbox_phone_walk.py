"""The contractor's whole flow on a phone (390×844), through the sandbox page in Chromium.

Connect by phone number and code, make a channel, a client joins, send a document, look at the
contact sheet and tap a page, pick pages, publish; then in «📢 Мои каналы» replace the document
with a new version, remove the client, archive the channel and restore it. Each step leaves a
screenshot under test-artifacts/phone-walk/: look at them. At every step no button under a
message has its text cut off.

Named to run after test_sandbox_browser.py: the session's browser, once up, leaves Playwright's
loop marked as running, and tests before these that call asyncio.run themselves would fail.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import ARTIFACTS, SAMPLES, call

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SHOTS = ARTIFACTS / "phone-walk"
PHONE = {"width": 390, "height": 844}


class Phone:
    """The sandbox page on a phone, used by tapping and typing."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.shots = itertools.count(1)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    @property
    def pane(self):
        return self.page.locator(".pane.active")

    def bot_message(self, text: str):
        return self.pane.locator(".msg.in").filter(has_text=text).last

    def button(self, text: str, under=None):
        """A button: on the reply keyboard, or under the newest message having it (or under
        the message ``under``)."""
        if under is not None:
            return under.locator(".inline-kb").get_by_role("button", name=text, exact=True)
        reply = self.pane.get_by_role("group", name="Клавиатура бота").get_by_role(
            "button", name=text, exact=True)
        inline = self.pane.locator(".inline-kb").get_by_role("button", name=text, exact=True)
        return reply.or_(inline).last

    def tap(self, text: str, under=None) -> None:
        button = self.button(text, under)
        expect(button).to_be_visible()
        button.click()

    def type(self, text: str) -> None:
        box = self.pane.get_by_label("Сообщение", exact=True)
        box.fill(text)
        box.press("Enter")
        expect(self.pane.locator(".msg.out").filter(has_text=text).last).to_be_visible()

    def send_file(self, path: Path) -> None:
        with self.page.expect_file_chooser() as chooser:
            self.pane.get_by_role("button", name="Прикрепить файл").click()
        chooser.value.set_files(str(path))
        sheet = self.pane.get_by_role("group", name="Отправка файла")
        expect(sheet).to_contain_text(path.name)
        sheet.get_by_role("button", name="Отправить").click()
        expect(sheet).to_be_hidden()

    def cut_buttons(self) -> list[str]:
        """Labels of buttons whose text does not fit them (drawn with an ellipsis)."""
        return self.pane.locator(".kb-label").evaluate_all(
            "labels => labels.filter(l => l.scrollWidth > l.clientWidth + 1)"
            ".map(l => l.textContent)")

    def shot(self, step: str) -> None:
        """A screenshot of this step, after checking no button's text is cut off."""
        self.page.wait_for_function("""() => [...document.images].every((img) => {
            const r = img.getBoundingClientRect();
            return img.complete || r.width === 0 || r.bottom <= 0 || r.top >= innerHeight;
        })""")
        self.page.evaluate("() => new Promise((done) => requestAnimationFrame(() => "
                           "requestAnimationFrame(done)))")
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{next(self.shots):02d}-{step}.png"))
        assert self.cut_buttons() == [], step


@pytest.fixture
def phone(browser, sandbox_server):
    shutil.rmtree(SHOTS, ignore_errors=True)
    context = browser.new_context(viewport=PHONE, locale="ru-RU", device_scale_factor=1,
                                  has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    ui = Phone(page, sandbox_server)
    page.goto(f"{sandbox_server}/sandbox/")
    yield ui
    context.close()
    assert ui.errors == []


def test_a_contractor_works_the_whole_flow_on_a_phone(phone: Phone, tmp_path):
    ui, page = phone, phone.page
    # -- a new person: the contractor, with a phone number --
    page.get_by_role("button", name="Новый человек").click()
    dialog = page.get_by_role("dialog", name="Новый человек Telegram")
    dialog.get_by_label("Имя", exact=True).fill("Иван Прорабов")
    dialog.get_by_label("Подрядчик").check()
    dialog.get_by_label("Русский").check()
    phone_box = dialog.locator("input[name=phone]")
    phone_box.fill("+7 925 555-01-77")
    dialog.get_by_role("button", name="Создать", exact=True).click()
    expect(dialog).to_be_hidden()
    ivan = int(re.search(r"id (\d+)", ui.pane.locator(".person-info").text_content()).group(1))
    ui.type("/start")
    expect(ui.button("🔐 Подключить аккаунт")).to_be_visible()
    ui.shot("start")

    # -- connect: on a phone the login page asks for the number, then the code --
    ui.tap("🔐 Подключить аккаунт")
    webapp = page.get_by_role("dialog", name=re.compile("^WebApp"))
    expect(webapp).to_have_attribute("aria-busy", "false")
    login = webapp.frame_locator("iframe")
    login.get_by_label("Номер телефона").fill("8 925 555-01-77")  # as people type it
    ui.shot("login-phone")
    login.get_by_role("button", name="Получить код").click()
    expect(login.get_by_label("Код из Telegram")).to_be_visible()
    # The code arrives as Telegram's notification on the phone: read it there.
    notice = page.locator(".toast").filter(has_text="Код для входа")
    expect(notice).to_be_visible()
    code = re.search(r"Код для входа: (\d+)", notice.text_content()).group(1)
    assert code == call(ui.base, f"/sandbox/api/users/{ivan}/codes")[1][-1]["code"]
    login.get_by_label("Код из Telegram").fill(code)
    ui.shot("login-code")
    login.get_by_role("button", name="Войти").click()
    expect(webapp).to_be_hidden()
    expect(ui.bot_message("Главное меню")).to_be_visible()
    # The used code's notice goes: it no longer covers the top of the screen.
    expect(notice).to_have_count(0)
    ui.shot("connected")

    # -- a new channel --
    ui.tap("🆕 Новый канал")
    expect(ui.bot_message("Как назвать канал")).to_be_visible()
    ui.type("Кухня на Мира")
    ui.tap("Пропустить")
    created = ui.bot_message("Ссылка-приглашение для клиента")
    expect(created.locator(".text a.invite")).to_be_visible()
    ui.shot("channel-created")

    # -- the client joins by the link (a second person, in the second tab) --
    created.locator(".text a.invite").last.click()
    page.get_by_role("menuitem", name="➕ Новый человек и вступить…").click()
    dialog = page.get_by_role("dialog", name="Новый человек Telegram")
    dialog.get_by_label("Имя", exact=True).fill("Ольга Заказчикова")
    dialog.get_by_role("button", name="Создать", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(ui.pane.locator(".channel-view .conv-title")).to_contain_text("Кухня на Мира")
    page.get_by_role("tab").nth(0).click()
    expect(ui.bot_message("присоединился")).to_be_visible()

    # -- a 16-page estimate: one contact sheet, its numbers as buttons --
    ui.tap("📄 Рендер файлов")
    expect(ui.bot_message("Пришлите документ файлом")).to_be_visible()
    ui.send_file(SAMPLES / "smeta-kottedzh.pdf")
    picker = ui.bot_message("Какие страницы")
    expect(picker).to_contain_text("Выбрано: 1–16 — 16 из 16", timeout=60_000)
    sheet = ui.pane.locator(".msg.in").filter(has_text="🗂 «smeta-kottedzh.pdf»").last
    expect(sheet).to_contain_text("стр. 1–16 из 16")
    expect(sheet.locator(".media-img")).to_have_count(1)
    expect(sheet.locator(".inline-kb button")).to_have_count(16)
    sheet.scroll_into_view_if_needed()
    ui.shot("contact-sheet")
    # The sheet itself: tapping the picture opens it whole.
    sheet.locator(".media-img").click()
    viewer = page.get_by_role("dialog", name="Просмотр")
    expect(viewer.locator(".viewer-img")).to_have_js_property("complete", True)
    ui.shot("contact-sheet-open")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    # 2 under the sheet: that page, larger.
    ui.tap("2", under=sheet)
    larger = ui.bot_message("🔍 «smeta-kottedzh.pdf», стр. 2 из 16")
    expect(larger.locator(".media-img")).to_have_js_property("complete", True)
    assert larger.locator(".media-img").evaluate("img => img.naturalWidth") >= 1280
    larger.scroll_into_view_if_needed()
    ui.shot("page-2-larger")

    # -- the picker: page 2 off, then on again; on --
    picker = ui.bot_message("Какие страницы")
    ui.tap("✓2", under=picker)
    expect(picker).to_contain_text("15 из 16")
    ui.shot("picker")
    ui.tap("2", under=picker)
    expect(picker).to_contain_text("Выбрано: 1–16 — 16 из 16")
    ui.tap("Далее ➡️", under=picker)
    expect(ui.bot_message("Водяной знак на каждой странице")).to_be_visible()
    ui.tap("✅ Оставить")
    expect(ui.bot_message("В какой канал опубликовать")).to_be_visible()
    ui.shot("choose-channel")
    ui.tap("📢 Кухня на Мира")
    published = ui.bot_message("✅ Документ опубликован")
    expect(published).to_contain_text("«Кухня на Мира»: 16 стр.", timeout=90_000)
    ui.shot("published")

    # -- «📢 Мои каналы»: the channel's card, a new version of the document --
    ui.tap("📢 Мои каналы")
    ui.tap("📢 Кухня на Мира")
    card = ui.bot_message("Публикации (1)")
    expect(card).to_contain_text("«smeta-kottedzh»")
    ui.shot("card")
    ui.tap("🔁 1. Заменить новой версией", under=card)
    expect(ui.bot_message("Пришлите файлом новую версию")).to_be_visible()
    ui.send_file(SAMPLES / "smeta-remont-kvartiry.pdf")
    expect(ui.bot_message("🔁 «smeta-kottedzh» заменена")).to_be_visible(timeout=90_000)
    ui.shot("replaced")

    # -- remove the client --
    ui.tap("📢 Мои каналы")
    ui.tap("📢 Кухня на Мира")
    card = ui.bot_message("Публикации (2)")
    ui.tap("👥 Клиенты (1)", under=card)
    clients = ui.bot_message("👥 Клиенты «Кухня на Мира» (1)")
    ui.tap("❌ 1. Ольга Заказчикова", under=clients)
    ui.tap("Да, удалить")
    expect(ui.bot_message("удалён из «Кухня на Мира»")).to_be_visible()
    ui.shot("client-removed")

    # -- archive the channel, then restore it --
    ui.tap("📢 Мои каналы")
    ui.tap("📢 Кухня на Мира")
    ui.tap("🗄 В архив", under=ui.bot_message("Публикации (2)"))
    ui.tap("Да, в архив")
    expect(ui.bot_message("🗄 Канал «Кухня на Мира» перенесён в архив")).to_be_visible()
    ui.shot("archived")
    ui.tap("📢 Мои каналы")
    expect(ui.bot_message("Действующих каналов нет, в архиве: 1")).to_be_visible()
    ui.tap("🗄 Архив (1)")
    ui.tap("♻️ Кухня на Мира")
    restored = ui.bot_message("восстановлен из архива")
    expect(restored.locator(".text a.invite")).to_be_visible()
    ui.shot("restored")
