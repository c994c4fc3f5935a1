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


DARK = {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499",
        "link_color": "#6ab3f3", "button_color": "#5288c1", "button_text_color": "#ffffff",
        "secondary_bg_color": "#232e3c", "destructive_text_color": "#ec3942"}
SIZES = {"phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                   "has_touch": True},
         "desktop": {"viewport": {"width": 1280, "height": 800}}}


def wait_for_event(page, where: str, event: str, timeout: float = 5.0) -> None:
    """Poll the events the page posted (its CSP forbids the eval wait_for_function uses)."""
    import time

    deadline = time.monotonic() + timeout
    while event not in page.evaluate(where):
        assert time.monotonic() < deadline, (event, page.evaluate(where))
        page.wait_for_timeout(50)


def with_theme(url: str, theme: dict) -> str:
    """The URL as Telegram opens a Mini App for a user with this theme (tgWebAppThemeParams)."""
    from urllib.parse import quote

    return url + "&tgWebAppThemeParams=" + quote(json.dumps(theme))


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_dark_mode_user_gets_a_dark_page(browser, sandbox_server, size):
    platform = "android" if size == "phone" else "tdesktop"
    _, url = open_login(sandbox_server, platform=platform)
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    try:
        page.goto(with_theme(url, DARK))
        page.wait_for_selector("#step-phone:not([hidden])" if size == "phone" else "#qr svg")
        colors = page.evaluate("""() => {
            const body = getComputedStyle(document.body);
            const step = getComputedStyle(document.querySelector('.step:not([hidden])'));
            return [body.backgroundColor, body.color, step.backgroundColor];
        }""")
        assert colors == ["rgb(23, 33, 43)", "rgb(245, 245, 245)", "rgb(35, 46, 60)"]
        page.screenshot(path=str(SHOTS / f"7-dark-{size}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_without_init_data_the_page_says_what_to_do(browser, sandbox_server, size):
    # Without initData the page knows no Telegram language: the device's decides.
    context = browser.new_context(**SIZES[size], locale="ru-RU")
    page = context.new_page()
    try:
        # As Telegram opens a Mini App from a reply-keyboard button: no tgWebAppData.
        page.goto(sandbox_server + "/webapp/login#tgWebAppVersion=8.0&tgWebAppPlatform=android")
        page.wait_for_selector("#error:not([hidden])")
        text = page.inner_text("#error")
        assert "не получила от Telegram данных о вас" in text
        assert "«🔐 Подключить аккаунт» под сообщением бота" in text
        for step in ("qr", "phone", "code", "password", "done"):
            assert page.locator(f"#step-{step}").is_hidden()
        page.screenshot(path=str(SHOTS / f"8-no-init-data-{size}.png"))
    finally:
        context.close()


def test_in_a_telegram_web_client_frame_it_speaks_the_mini_app_events(browser, sandbox_server):
    """Hosted in a frame as web.telegram.org hosts a Mini App (no telegram-web-app.js in the
    sandbox): ready, expand, the theme asked for and applied, and close after the login."""
    base = sandbox_server
    user_id, url = open_login(base)
    host = base + "/test-host"  # same origin: frame-ancestors allows 'self'
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route(host, lambda route: route.fulfill(content_type="text/html", body=f"""
        <!doctype html><body><script>
        window.events = [];
        window.addEventListener("message", (e) => {{
          const m = JSON.parse(e.data); window.events.push(m.eventType);
          if (m.eventType === "web_app_request_theme") {{
            e.source.postMessage(JSON.stringify({{eventType: "theme_changed",
              eventData: {{theme_params: {json.dumps(DARK)}}}}}), "*");
          }}
        }});
        </script><iframe id="app" src="{url}" width="800" height="700"></iframe></body>"""))
    page = context.new_page()
    try:
        page.goto(host)
        frame = page.frame_locator("#app")
        frame.locator("#qr svg").wait_for()
        events = page.evaluate("window.events")
        assert {"web_app_ready", "web_app_expand", "web_app_request_theme"} <= set(events)
        background = frame.locator("body").evaluate(
            "(body) => getComputedStyle(body).backgroundColor")
        assert background == "rgb(23, 33, 43)"
        tg_url = frame.locator("#qr").get_attribute("data-url")
        call(base, f"/sandbox/api/users/{user_id}/scan", {"url": tg_url})
        frame.locator("#step-done:not([hidden])").wait_for(timeout=15000)
        wait_for_event(page, "window.events", "web_app_close")
    finally:
        context.close()


def test_in_a_mobile_app_webview_it_closes_through_the_proxy(browser, sandbox_server):
    """Telegram's mobile apps take a Mini App's events through TelegramWebviewProxy."""
    base = sandbox_server
    user_id, url = open_login(base, platform="android", phone="+79005550103")
    context = browser.new_context(**SIZES["phone"])
    context.add_init_script("""
        window.proxyEvents = [];
        window.TelegramWebviewProxy = { postEvent: (type, data) => window.proxyEvents.push(type) };
    """)
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("#step-phone:not([hidden])")
        assert {"web_app_ready", "web_app_expand"} <= set(page.evaluate("window.proxyEvents"))
        page.fill("#phone", "8 900 555-01-03")
        page.click("#phone-submit")
        page.wait_for_selector("#step-code:not([hidden])")
        assert "Код отправлен в Telegram" in page.inner_text("#code-hint")
        assert page.get_attribute("#code", "inputmode") == "numeric"
        code = call(base, f"/sandbox/api/users/{user_id}/codes")[-1]["code"]
        page.fill("#code", code)
        page.click("#code-submit")
        page.wait_for_selector("#step-done:not([hidden])", timeout=15000)
        wait_for_event(page, "window.proxyEvents", "web_app_close")
    finally:
        context.close()


def test_a_qr_scanned_by_another_account_is_refused_in_words(page, sandbox_server):
    base = sandbox_server
    _, url = open_login(base)
    stranger = call(base, "/sandbox/api/users", {"first_name": "Чужой",
                                                 "language_code": "ru"})["user_id"]
    page.goto(url)
    page.wait_for_selector("#qr svg")
    tg_url = page.get_attribute("#qr", "data-url")
    call(base, f"/sandbox/api/users/{stranger}/scan", {"url": tg_url})
    page.wait_for_selector("#qr-again:not([hidden])", timeout=15000)
    assert page.inner_text("#error").startswith("Вошли в другой аккаунт Telegram")
    assert page.locator("#qr svg").count() == 0  # no stale code, no more polling
    assert page.locator("#step-done").is_hidden()
    page.screenshot(path=str(SHOTS / "9-other-account.png"))
    page.click("#qr-again")
    page.wait_for_selector("#qr svg")
    assert page.locator("#error").is_hidden()
