"""The WebApp login page in headless Chromium, against a real `serve --sandbox`."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.helpers import ARTIFACTS

SHOTS = ARTIFACTS / "webapp"


def call(base: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def open_login(base: str, language: str = "ru", platform: str = "tdesktop", **user) -> tuple:
    """A sandbox user who sent /start and pressed the connect button: (user id, WebApp URL)."""
    user_id = call(base, "/sandbox/api/users", {"first_name": "Иван", "language_code": language,
                                                **user})["user_id"]
    call(base, f"/sandbox/api/users/{user_id}/send", {"text": "/start"})
    import time

    deadline = time.monotonic() + 10
    while True:
        bot = [m for m in call(base, f"/sandbox/api/users/{user_id}/chat") if m["from"] == "bot"]
        if bot or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    [reply] = bot
    button = reply["buttons"][0][0]["text"]
    url = call(base, f"/sandbox/api/users/{user_id}/press",
               {"message_id": reply["id"], "text": button, "platform": platform})["web_app_url"]
    return user_id, url


@pytest.fixture
def page(browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def test_desktop_shows_qr_and_a_scan_logs_in(page, sandbox_server):
    base = sandbox_server
    user_id, url = open_login(base)
    assert "#tgWebAppData=" in url
    page.goto(url)
    page.wait_for_selector("#qr svg")
    assert page.locator("#step-qr").is_visible()
    assert "Настройки → Устройства" in page.inner_text("#step-qr")
    page.screenshot(path=str(SHOTS / "1-desktop-qr.png"))
    tg_url = page.get_attribute("#qr", "data-url")
    assert tg_url.startswith("tg://login?token=")
    call(base, f"/sandbox/api/users/{user_id}/scan", {"url": tg_url})
    page.wait_for_selector("#step-done:not([hidden])", timeout=15000)
    assert "Аккаунт подключён" in page.inner_text("#done-text")
    page.screenshot(path=str(SHOTS / "2-desktop-connected.png"))
    chat = call(base, f"/sandbox/api/users/{user_id}/chat")
    assert any("Аккаунт подключён" in (m["text"] or "") for m in chat if m["from"] == "bot")


def test_phone_shows_the_phone_form_then_code_and_password(browser, sandbox_server):
    base = sandbox_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    user_id, url = open_login(base, platform="android", phone="+79005550101", password="пароль")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("#step-phone:not([hidden])")
        assert page.locator("#step-qr").is_hidden()
        page.screenshot(path=str(SHOTS / "3-phone-number.png"))
        page.fill("#phone", "+7 900 555-01-01")
        page.click("#phone-submit")
        page.wait_for_selector("#step-code:not([hidden])")
        page.fill("#code", "00000")
        page.click("#code-submit")
        page.wait_for_selector("#error:not([hidden])")
        assert "Неверный код" in page.inner_text("#error")
        page.screenshot(path=str(SHOTS / "4-phone-wrong-code.png"))
        code = call(base, f"/sandbox/api/users/{user_id}/codes")[-1]["code"]
        page.fill("#code", code)
        page.click("#code-submit")
        page.wait_for_selector("#step-password:not([hidden])")
        page.screenshot(path=str(SHOTS / "5-phone-password.png"))
        page.fill("#password", "пароль")
        page.click("#password-submit")
        page.wait_for_selector("#step-done:not([hidden])", timeout=15000)
        page.screenshot(path=str(SHOTS / "6-phone-connected.png"))
    finally:
        context.close()


def test_page_without_init_data_says_how_to_open_it(page, sandbox_server):
    page.goto(sandbox_server + "/webapp/login?lang=en")
    page.wait_for_selector("#error:not([hidden])")
    assert "Connect account" in page.inner_text("#error")
    assert page.locator("#step-qr").is_hidden()
