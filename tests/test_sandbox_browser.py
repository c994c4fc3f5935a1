"""The sandbox chat page at /sandbox/, in headless Chromium, against a real `smetabot serve`.

A person is played by clicking and typing only. Each step leaves a screenshot under
test-artifacts/sandbox/<laptop|phone>/, numbered in the order the tests take them: look at them.
"""

from __future__ import annotations

import io
import itertools
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from pyrogram import filters
from pyrogram.types import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from smetabot.telegram.emulator import Emulator
from tests.helpers import call, run, start_bot

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "sandbox"
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
XLSX = "estimates_ru/ks2_unified-form_blank.xlsx"

expect.set_options(timeout=15_000)
_shot_numbers = {size: itertools.count(1) for size in SIZES}


@pytest.fixture(scope="module", autouse=True)
def fresh_artifacts() -> None:
    """Screenshots of this run only."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)


@pytest.fixture(scope="module")
def server(sandbox_server: str) -> str:
    """The session's `serve --sandbox` subprocess: its base URL."""
    return sandbox_server


class SandboxPage:
    """The sandbox page as a person uses it: helpers that click and type, then wait."""

    def __init__(self, page, base: str, size: str) -> None:
        self.page = page
        self.base = base
        self.size = size
        self.narrow = SIZES[size]["width"] < 700
        self.page_errors: list[str] = []
        self.outside: list[str] = []  # requests that tried to leave the sandbox server
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        # Uncaught exceptions and console.error; an API refusal the page shows is not one.
        page.on("console", lambda msg: msg.type == "error" and not msg.text.startswith(
            "Failed to load resource") and self.page_errors.append(msg.text))
        page.context.route("**/*", self._only_ours)

    def _only_ours(self, route) -> None:
        url = route.request.url
        if url.startswith((self.base, "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    # -- where things are ---------------------------------------------------------------

    @property
    def pane(self):
        """The pane being used: the focused one when two are side by side."""
        return self.page.locator(".pane.active")

    @property
    def messages(self):
        return self.pane.locator(".messages .msg")

    def bot_message(self, text: str):
        """The newest message from the bot (or channel) containing ``text``."""
        return self.pane.locator(".msg.in").filter(has_text=text).last

    def my_message(self, text: str):
        return self.pane.locator(".msg.out").filter(has_text=text).last

    @property
    def reply_keyboard(self):
        return self.pane.get_by_role("group", name="Клавиатура бота")

    def inline_button(self, text: str):
        """A button under the newest message that has it (an inline keyboard)."""
        return self.pane.locator(".inline-kb").get_by_role("button", name=text, exact=True).last

    @property
    def webapp(self):
        return self.page.get_by_role("dialog", name=re.compile("^WebApp"))

    # -- actions ------------------------------------------------------------------------

    def open(self) -> None:
        self.page.goto(f"{self.base}/sandbox/")
        expect(self.page.get_by_role("note").first).to_contain_text("ничего не уходит")

    def create_person(self, name: str, *, language: str = "ru", password: str | None = None,
                      role: str | None = None, username: str | None = None) -> int:
        """Create a Telegram person from the header button; returns their user id."""
        self.page.get_by_role("button", name="Новый человек").click()
        dialog = self.page.get_by_role("dialog", name="Новый человек Telegram")
        dialog.get_by_label("Имя", exact=True).fill(name)
        if role:
            dialog.get_by_label({"contractor": "Подрядчик", "client": "Клиент"}[role]).check()
        dialog.get_by_label({"ru": "Русский", "en": "English"}[language]).check()
        if username:
            dialog.get_by_label("Имя пользователя").fill(username)
        if password:
            dialog.get_by_label("Облачный пароль").fill(password)
        dialog.get_by_role("button", name="Создать", exact=True).click()
        expect(dialog).to_be_hidden()
        expect(self.pane.locator(".who")).to_have_attribute("aria-label",
                                                            f"Человек: {name} — сменить")
        info = self.pane.locator(".person-info").text_content()
        return int(re.search(r"id (\d+)", info).group(1))

    def send_text(self, text: str) -> None:
        """Type into the message box and press Enter; wait until the message shows."""
        box = self.pane.get_by_label("Сообщение", exact=True)
        box.fill(text)
        box.press("Enter")
        expect(self.my_message(text)).to_be_visible()

    def press(self, text: str) -> None:
        """Press a button, once it is there: on the reply keyboard, else the one under the
        newest message that has it."""
        reply = self.reply_keyboard.get_by_role("button", name=text, exact=True)
        inline = self.pane.locator(".inline-kb").get_by_role("button", name=text, exact=True)
        button = reply.or_(inline).last  # the keyboard comes after the messages
        expect(button).to_be_visible()
        button.click()

    def open_webapp(self, button: str, size: str | None = None) -> str:
        """Open a WebApp from its button (or, when open, switch it to ``size``: "phone" or
        "desktop", which presses the button again for that platform); its frame's URL."""
        if not self.webapp.is_visible():
            self.press(button)
        expect(self.webapp).to_be_visible()
        if size:
            switch = self.webapp.get_by_role("button", name={"phone": "Как на телефоне",
                                                             "desktop": "Как на компьютере"}[size])
            switch.click()
            expect(switch).to_have_attribute("aria-pressed", "true")
        # The panel is busy until the page it (re)opened has loaded: not the previous one.
        expect(self.webapp).to_have_attribute("aria-busy", "false")
        frame = self.webapp.locator("iframe")
        if size:
            platform = {"phone": "android", "desktop": "tdesktop"}[size]
            expect(frame).to_have_attribute(
                "src", re.compile(f"#tgWebAppData=.*&tgWebAppPlatform={platform}(&|$)"))
        expect(frame).to_have_attribute("src", re.compile("#tgWebAppData="))
        return frame.get_attribute("src")

    def close_webapp(self) -> None:
        self.webapp.get_by_role("button", name="Закрыть WebApp").click()
        expect(self.webapp).to_be_hidden()

    def scan_qr(self) -> None:
        """Play the person's phone: scan the QR the open login page shows."""
        expect(self.webapp.get_by_label("Ссылка из QR-кода")).to_have_value(
            re.compile(r"^tg://login\?token="))
        self.webapp.get_by_role("button", name="Сканировать QR этим телефоном").click()
        expect(self.webapp.get_by_role("status")).to_contain_text("Вход подтверждён")

    def send_file(self, path: Path, caption: str = "", as_photo: bool = False) -> None:
        """Pick a file with the attach button's file picker and send it."""
        with self.page.expect_file_chooser() as chooser:
            self.pane.get_by_role("button", name="Прикрепить файл").click()
        chooser.value.set_files(str(path))
        sheet = self.pane.get_by_role("group", name="Отправка файла")
        expect(sheet).to_contain_text(path.name)
        photo = sheet.get_by_label("Сжать как фото")
        if photo.count() and photo.is_checked() != as_photo:
            photo.click()
        if caption:
            sheet.get_by_label("Подпись").fill(caption)
        sheet.get_by_role("button", name="Отправить").click()
        expect(sheet).to_be_hidden()

    def join_link(self, as_person: str) -> None:
        """Tap the newest invite link in the chat and join as ``as_person``."""
        self.pane.locator(".text a.invite").last.click()
        self.page.get_by_role("menuitem", name=f"Вступить как {as_person}").click()

    def join_link_as_new_person(self, name: str) -> None:
        """Tap the newest invite link, create a new person (a client) in the dialog that opens,
        and join as them: they open in the other pane (a second tab on a phone)."""
        self.pane.locator(".text a.invite").last.click()
        self.page.get_by_role("menuitem", name="➕ Новый человек и вступить…").click()
        dialog = self.page.get_by_role("dialog", name="Новый человек Telegram")
        expect(dialog.get_by_label("Клиент")).to_be_checked()
        dialog.get_by_label("Имя", exact=True).fill(name)
        dialog.get_by_role("button", name="Создать", exact=True).click()
        expect(dialog).to_be_hidden()
        expect(self.pane.locator(".who")).to_have_attribute("aria-label",
                                                            f"Человек: {name} — сменить")

    def show_chats(self) -> None:
        """On a narrow pane (a phone, or half a laptop), go back from the chat to the list."""
        back = self.pane.get_by_role("button", name="К списку чатов")
        if back.is_visible():
            back.click()

    def open_chat(self, title: str) -> None:
        """Open a chat (the bot, Telegram, a channel) from the pane's chat list."""
        self.show_chats()
        self.pane.get_by_role("navigation", name="Чаты").get_by_role(
            "button", name=re.compile("^" + re.escape(title))).first.click()

    def open_channel(self, title: str) -> None:
        self.open_chat(title)
        expect(self.pane.locator(".channel-view .conv-title")).to_contain_text(title)

    def split(self) -> None:
        """Two panes side by side (a contractor and a client)."""
        self.page.get_by_role("button", name="Два окна").click()
        expect(self.page.get_by_role("button", name="Два окна")).to_have_attribute(
            "aria-pressed", "true")

    def focus_pane(self, index: int) -> None:
        if self.narrow:
            self.page.get_by_role("tab").nth(index).click()
        else:
            self.page.locator(f'.pane[data-pane="{index}"]').dispatch_event("pointerdown")
        expect(self.page.locator(f'.pane[data-pane="{index}"]')).to_have_class(re.compile("active"))

    def screenshot(self, step: str) -> Path:
        """Keep a picture of this step (test-artifacts/sandbox/<size>/NN-<step>.png)."""
        folder = ARTIFACTS / self.size
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(_shot_numbers[self.size]):02d}-{step}.png"
        # The pictures in view have loaded (or failed), and the layout they caused is painted.
        self.page.wait_for_function("""() => [...document.images].every((img) => {
            const r = img.getBoundingClientRect();
            return img.complete || r.width === 0 || r.bottom <= 0 || r.top >= innerHeight;
        })""")
        self.page.evaluate("() => new Promise((done) => requestAnimationFrame(() => "
                           "requestAnimationFrame(done)))")
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture(params=list(SIZES))
def sandbox(request, browser, server):
    """A fresh browser context (its own localStorage) at a laptop size or a phone width."""
    size = request.param
    context = browser.new_context(viewport=SIZES[size], locale="ru-RU",
                                  device_scale_factor=1, has_touch=size == "phone")
    page = context.new_page()
    page.set_default_timeout(15_000)
    ui = SandboxPage(page, server, size)
    ui.open()
    yield ui
    context.close()
    assert ui.page_errors == []
    assert ui.outside == [], "the page reached outside the sandbox server"


@pytest.mark.parametrize("path, status, content_type, must_contain", [
    ("/sandbox/", 200, "text/html", "nothing reaches Telegram"),
    ("/sandbox", 200, "text/html", "<script type=\"module\""),  # redirected to /sandbox/
    ("/sandbox/assets/main.js", 200, "text/javascript", "import"),
    ("/sandbox/assets/sandbox.css", 200, "text/css", "--accent"),
    ("/sandbox/assets/missing.js", 404, None, None),
    ("/sandbox/assets/..%2Fweb%2F__init__.py", 404, None, None),
    ("/sandbox/assets/.hidden.js", 404, None, None),
    ("/sandbox/assets/index.py", 404, None, None),
])
def test_page_and_assets_are_served_from_the_package(server, path, status, content_type,
                                                      must_contain):
    try:
        with urllib.request.urlopen(server + path, timeout=10) as response:
            code, kind, body = response.status, response.headers.get_content_type(), \
                response.read().decode()
    except urllib.error.HTTPError as exc:
        code, kind, body = exc.code, None, ""
    assert code == status
    if content_type:
        assert kind == content_type
    if must_contain:
        assert must_contain in body
    # Nothing the page loads comes from another host.
    assert "https://" not in body.replace("https://t.me", "")


def test_people_and_their_channels_over_the_api(server):
    status, created = call(server, "/sandbox/api/users",
                           {"first_name": "Анна", "language_code": "ru",
                            "phone": "+7 999 555-00-11", "password": "пароль"})
    assert status == 201
    status, people = call(server, "/sandbox/api/users")
    assert status == 200
    [anna] = [p for p in people if p["user_id"] == created["user_id"]]
    assert anna == {"user_id": created["user_id"], "first_name": "Анна", "last_name": None,
                    "username": None, "language_code": "ru", "phone": "+79995550011",
                    "two_factor": True}
    assert call(server, f"/sandbox/api/users/{created['user_id']}/channels") == (200, [])
    assert call(server, "/sandbox/api/users/999/channels")[0] == 200  # nobody: no channels


def test_chat_entries_say_when_which_album_and_what_keyboard():
    """What the page draws from: each entry's time, its album, and what its markup does."""

    def picture(width: int, height: int) -> io.BytesIO:
        data = io.BytesIO()
        Image.new("RGB", (width, height), "white").save(data, "PNG")
        data.name = "page.png"
        data.seek(0)
        return data

    def setup(bot):
        @bot.on_message(filters.command("go"))
        async def go(client, message):
            await message.reply("Меню", reply_markup=ReplyKeyboardMarkup(
                [["Да", "Нет"]], resize_keyboard=True, one_time_keyboard=True,
                placeholder="Выберите"))
            await message.reply("Кнопки", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Ок", callback_data="ok")]]))
            await message.reply("Название?", reply_markup=ForceReply(placeholder="Название"))
            await client.send_media_group(message.chat.id, [
                InputMediaPhoto(picture(800, 566), caption=f"стр. {n}") for n in (1, 2, 3)])
            await message.reply("Без клавиатуры", reply_markup=ReplyKeyboardRemove())

    async def main():
        emu = Emulator()
        bot = await start_bot(emu, setup)
        alice = emu.create_user("Alice")
        before = int(time.time()) - 1
        sent = await emu.user_send_text(alice, "/go")
        chat = await emu.wait_until(lambda: len(emu.user_chat(alice, sent)) == 7
                                    and emu.user_chat(alice))
        await bot.stop()
        return before, chat

    before, chat = run(main(), 20)
    assert all(before <= entry["date"] <= time.time() + 1 for entry in chat)
    mine, menu, inline, force, *album, gone = chat
    assert (mine["keyboard"], mine["keyboard_options"], mine["grouped_id"]) == (None, None, None)
    assert menu["keyboard"] == "reply" and menu["buttons"] == [
        [{"text": "Да", "kind": "reply"}, {"text": "Нет", "kind": "reply"}]]
    assert menu["keyboard_options"] == {"resize": True, "one_time": True, "persistent": False,
                                        "selective": False, "placeholder": "Выберите"}
    assert inline["keyboard"] == "inline" and inline["keyboard_options"] is None
    assert force["keyboard"] == "force_reply" and force["keyboard_options"]["placeholder"] == \
        "Название"
    assert gone["keyboard"] == "remove" and gone["buttons"] == []
    assert [entry["caption"] for entry in album] == ["стр. 1", "стр. 2", "стр. 3"]
    assert len({entry["grouped_id"] for entry in album}) == 1 and album[0]["grouped_id"]
    assert (album[0]["media"]["width"], album[0]["media"]["height"]) == (800, 566)
    assert not any(entry["edited"] or entry["edit_date"] for entry in chat)


def test_contractor_starts_and_opens_the_webapp_login(sandbox: SandboxPage):
    ui = sandbox
    ui.screenshot("welcome")
    ui.create_person("Иван Подрядчиков", role="contractor")
    expect(ui.pane.get_by_role("button", name="Начать")).to_be_visible()
    ui.screenshot("new-person")

    ui.send_text("/start")
    expect(ui.bot_message("Здравствуйте! Я SmetaBot")).to_be_visible()
    connect = ui.inline_button("🔐 Подключить аккаунт")
    expect(connect).to_be_visible()
    ui.screenshot("start")

    # The WebApp opens exactly as Telegram opens it: the URL with signed initData in its
    # fragment, for the platform the panel plays.
    src = ui.open_webapp("🔐 Подключить аккаунт")
    url = urlsplit(src)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ui.base}/webapp/login"
    fragment = parse_qs(url.fragment)
    init_data = parse_qs(fragment["tgWebAppData"][0])
    assert set(init_data) >= {"user", "auth_date", "hash"}
    assert '"first_name":"Иван Подрядчиков"' in init_data["user"][0]
    assert fragment["tgWebAppPlatform"] == ["android" if ui.narrow else "tdesktop"]
    ui.screenshot("webapp")
    other = "desktop" if ui.narrow else "phone"
    src = ui.open_webapp("🔐 Подключить аккаунт", size=other)
    assert parse_qs(urlsplit(src).fragment)["tgWebAppPlatform"] == [
        "android" if other == "phone" else "tdesktop"]
    ui.screenshot(f"webapp-{other}")
    ui.close_webapp()


def test_help_unknown_text_and_a_document_from_the_computer(sandbox: SandboxPage, corpus: Path):
    ui = sandbox
    ui.create_person("Пётр Сметов", role="contractor")
    ui.send_text("/help")
    expect(ui.bot_message("Команды:")).to_contain_text("/cancel")
    # Commands in the bot's text can be tapped, as in Telegram: /menu sends /menu.
    ui.bot_message("Команды:").get_by_role("link", name="/menu").click()
    expect(ui.my_message("/menu")).to_be_visible()
    expect(ui.bot_message("Сначала подключите аккаунт")).to_be_visible()
    ui.screenshot("help")

    ui.send_text("привет, сколько стоит ремонт?")
    expect(ui.bot_message("Не понимаю это сообщение")).to_be_visible()

    estimate = corpus / XLSX
    ui.send_file(estimate)
    document = ui.pane.locator(".msg.out .file").filter(has_text=estimate.name).last
    expect(document).to_be_visible()
    expect(document).to_contain_text("КБ")
    # An unprotected document of one's own can be saved; the bot answers it.
    expect(document).to_have_attribute("download", estimate.name)
    expect(ui.messages.last).to_contain_text("Сначала подключите аккаунт")
    ui.screenshot("document-sent")
    # The newest message is in view: the chat follows it.
    expect(ui.messages.last).to_be_in_viewport()


def test_english_person_beside_a_russian_one(sandbox: SandboxPage):
    ui = sandbox
    ui.create_person("Мария Клиентова", role="client")
    ui.send_text("/start")
    expect(ui.inline_button("🔐 Подключить аккаунт")).to_be_visible()

    ui.split()
    ui.focus_pane(1)
    ui.create_person("John Smith", language="en")
    ui.send_text("/start")
    expect(ui.bot_message("Hello! I am SmetaBot")).to_be_visible()
    expect(ui.inline_button("🔐 Connect account")).to_be_visible()
    ui.screenshot("two-people")

    # Each pane polls its own person: the Russian one's chat is still there, untouched.
    ui.focus_pane(0)
    expect(ui.bot_message("Здравствуйте! Я SmetaBot")).to_be_visible()
    ui.open_chat("Telegram")
    expect(ui.pane.locator(".telegram-chat")).to_contain_text("коды входа")
    ui.screenshot("telegram-chat")


def test_the_whole_seed_flow_through_the_page(sandbox: SandboxPage, corpus: Path):
    """A contractor connects by QR (with a cloud password), creates a channel, publishes the
    pages of an XLSX estimate; a client joins by the invite link and reads them, protected."""
    ui = sandbox
    page = ui.page
    ui.create_person("Сергей Прорабов", role="contractor", password="секрет")
    ui.send_text("/start")
    expect(ui.inline_button("🔐 Подключить аккаунт")).to_be_visible()
    # Messages carry their time, as in Telegram.
    expect(ui.bot_message("Здравствуйте! Я SmetaBot").locator(".time")).to_have_text(
        re.compile(r"^\d\d:\d\d$"))
    ui.screenshot("flow-start")

    # -- connecting by QR: the login page on a computer, scanned with the person's phone --
    ui.open_webapp("🔐 Подключить аккаунт", size="desktop")
    login = ui.webapp.frame_locator("iframe")
    expect(login.locator("#qr svg")).to_be_visible()
    ui.screenshot("flow-qr")
    ui.scan_qr()
    password = login.get_by_label("Облачный пароль")
    expect(password).to_be_visible()  # 2FA is on: the login page asks for it
    ui.screenshot("flow-password")
    password.fill("секрет")
    password.press("Enter")
    # The page sends the bot its data and closes, as Telegram does; the bot greets.
    expect(ui.webapp).to_be_hidden()
    expect(ui.bot_message("Аккаунт подключён")).to_be_visible()
    expect(ui.bot_message("Главное меню")).to_be_visible()
    for button in ("🆕 Новый канал", "📄 Рендер файлов", "📢 Мои каналы", "👤 Личный кабинет"):
        expect(ui.reply_keyboard.get_by_role("button", name=button)).to_be_visible()
    ui.screenshot("flow-connected")

    # -- a new channel: a title, no avatar --
    ui.press("🆕 Новый канал")
    expect(ui.bot_message("Как назвать канал")).to_be_visible()
    ui.send_text("Дача в Светлом")
    expect(ui.bot_message("аватарки канала")).to_be_visible()
    ui.press("Пропустить")
    created = ui.bot_message("Ссылка-приглашение для клиента")
    expect(created).to_contain_text("Дача в Светлом")
    invite = created.locator(".text a.invite")
    expect(invite).to_have_text(re.compile(r"^https://t\.me/\+[\w-]+$"))
    if not ui.narrow:  # the chat list beside the chat shows the new channel
        expect(ui.pane.get_by_role("navigation", name="Чаты")).to_contain_text("Дача в Светлом")
    ui.screenshot("flow-channel-created")

    # -- the estimate, from the computer's file picker --
    ui.press("📄 Рендер файлов")
    expect(ui.bot_message("Пришлите документ файлом")).to_be_visible()
    estimate = corpus / XLSX
    ui.send_file(estimate)
    expect(ui.pane.locator(".msg.out .file").filter(has_text=estimate.name)).to_be_visible()
    picker = ui.bot_message("Какие страницы")
    expect(picker).to_contain_text("Выбрано: 1–3 — 3 из 3", timeout=90_000)
    # The previews came as one contact sheet (a photo), its page numbers as buttons under it.
    sheet = ui.pane.locator(".msg.in").filter(has_text=f"🗂 «{estimate.name}»").last
    expect(sheet).to_contain_text("стр. 1–3 из 3")
    expect(sheet.locator(".media-img")).to_have_count(1)
    expect(sheet.locator(".inline-kb button")).to_have_text(["1", "2", "3"])
    ui.screenshot("flow-previews")

    # Every page number in the picker reads whole, also on a 390 px phone (no "1…" buttons).
    clipped = picker.locator(".inline-kb button").evaluate_all(
        "buttons => buttons.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.innerText)")
    assert picker.locator(".inline-kb button").count() >= 6 and clipped == []
    # Pages: page 2 off (the picker is edited in place), then a range typed: all three.
    ui.press("✓2")
    expect(picker).to_contain_text("2 из 3")
    expect(picker.get_by_role("button", name="2", exact=True)).to_be_visible()
    expect(picker.locator(".meta")).to_contain_text("изменено")
    ui.screenshot("flow-page-off")
    picker.get_by_role("button", name="2", exact=True).click()  # the picker's, not the sheet's
    expect(picker).to_contain_text("Выбрано: 1–3 — 3 из 3")
    expect(picker.get_by_role("button", name="✓2")).to_be_visible()
    ui.send_text("1-3")
    expect(ui.messages.last).to_contain_text("Выбрано: 1–3 — 3 из 3")
    ui.press("Далее ➡️")

    # The watermark is kept; the channel is chosen; the pages are rendered and published.
    expect(ui.bot_message("Водяной знак на каждой странице")).to_contain_text("Сергей Прорабов")
    ui.press("✅ Оставить")
    expect(ui.bot_message("В какой канал опубликовать")).to_be_visible()
    ui.screenshot("flow-choose-channel")
    ui.press("📢 Дача в Светлом")
    published = ui.bot_message("✅ Документ опубликован")
    expect(published).to_contain_text("«Дача в Светлом»: 3 стр.", timeout=90_000)
    code = re.search(r"код #(\w+)", published.text_content()).group(1)
    ui.screenshot("flow-published")

    # -- the client: a new person, joining by the invite link the bot gave --
    ui.join_link_as_new_person("Ольга Заказчикова")
    channel = ui.pane.locator(".channel-view")
    expect(channel.locator(".conv-title")).to_contain_text("Дача в Светлом")
    expect(channel.get_by_role("note")).to_contain_text(
        "Защищённый контент: пересылка и сохранение запрещены")
    # the album's post (the bot's «✅ Согласовать» message follows it)
    post = channel.locator(".post").filter(has=page.locator(".media-img")).last
    pages = post.locator(".media-img")
    expect(pages).to_have_count(3)
    expect(post).to_contain_text("«ks2 unified-form blank», стр. 1–3 из 3")
    expect(post.locator(".meta .lock")).to_be_visible()
    # The pages are the published 300 DPI renders, not the previews.
    expect(pages.first).to_have_js_property("complete", True)
    assert pages.first.evaluate("img => img.naturalWidth") >= 2000
    expect(channel.locator(".channel-foot")).to_contain_text("Ольга Заказчикова")
    ui.screenshot("flow-client-reads")

    # A page opened full size: the protected mark, and nothing to save or forward it with.
    pages.first.click()
    viewer = page.get_by_role("dialog", name="Просмотр")
    expect(viewer.locator(".protected-mark")).to_contain_text("Защищённый контент")
    expect(viewer.locator(".viewer-img")).to_have_js_property("complete", True)
    expect(viewer.get_by_text("Сохранить")).to_have_count(0)
    expect(viewer.locator("a[download]")).to_have_count(0)
    ui.screenshot("flow-client-page")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # Back to the contractor, whose chat is kept as it was: the publication and its code.
    ui.focus_pane(0)
    expect(ui.bot_message("✅ Документ опубликован")).to_contain_text(f"#{code}")
    expect(ui.reply_keyboard.get_by_role("button", name="🆕 Новый канал")).to_be_visible()
