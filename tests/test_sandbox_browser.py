"""The sandbox chat page at /sandbox/, in headless Chromium, against a real `smetabot serve`.

A person is played by clicking and typing only. Each step leaves a screenshot under
test-artifacts/sandbox/<laptop|phone>/, numbered in the order the tests take them: look at them.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_serve import call, free_port, wait_for

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
def server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`smetabot serve --sandbox` as a subprocess on a free port; its base URL."""
    home = tmp_path_factory.mktemp("sandbox-serve")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "smetabot", "serve", "--sandbox", "--port", str(port),
         "--data-dir", str(home / "data")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=home,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read())
        try:
            return call(base, "/healthz")[0] == 200
        except OSError:
            return False

    wait_for(healthy)
    yield base
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    errors = process.stderr.read()
    process.stderr.close()
    assert "Traceback" not in errors, errors


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
            self.webapp.get_by_role("button", name={"phone": "Как на телефоне",
                                                    "desktop": "Как на компьютере"}[size]).click()
            expect(self.webapp.get_by_role("button", name={"phone": "Как на телефоне",
                                                           "desktop": "Как на компьютере"}[size])
                   ).to_have_attribute("aria-pressed", "true")
        frame = self.webapp.locator("iframe")
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
        self.page.wait_for_timeout(150)  # let the last scroll and image settle
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


def test_contractor_starts_and_opens_the_webapp_login(sandbox: SandboxPage):
    ui = sandbox
    ui.screenshot("welcome")
    ui.create_person("Иван Подрядчиков", role="contractor")
    expect(ui.pane.get_by_role("button", name="Начать")).to_be_visible()
    ui.screenshot("new-person")

    ui.send_text("/start")
    expect(ui.bot_message("Здравствуйте! Я SmetaBot")).to_be_visible()
    connect = ui.reply_keyboard.get_by_role("button", name="🔐 Подключить аккаунт")
    expect(connect).to_be_visible()
    ui.screenshot("start")

    # The WebApp opens exactly as Telegram opens it: the URL with signed initData in its
    # fragment, for the platform the panel plays.
    src = ui.open_webapp("🔐 Подключить аккаунт")
    url = urlsplit(src)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ui.base}/webapp/login"
    fragment = parse_qs(url.fragment)
    init_data = parse_qs(fragment["tgWebAppData"][0])
    assert set(init_data) >= {"user", "auth_date", "hash", "chat_instance"}
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
    expect(ui.reply_keyboard.get_by_role("button", name="🔐 Подключить аккаунт")).to_be_visible()

    ui.split()
    ui.focus_pane(1)
    ui.create_person("John Smith", language="en")
    ui.send_text("/start")
    expect(ui.bot_message("Hello! I am SmetaBot")).to_be_visible()
    expect(ui.reply_keyboard.get_by_role("button", name="🔐 Connect account")).to_be_visible()
    ui.screenshot("two-people")

    # Each pane polls its own person: the Russian one's chat is still there, untouched.
    ui.focus_pane(0)
    expect(ui.bot_message("Здравствуйте! Я SmetaBot")).to_be_visible()
    ui.open_chat("Telegram")
    expect(ui.pane.locator(".telegram-chat")).to_contain_text("коды входа")
    ui.screenshot("telegram-chat")
