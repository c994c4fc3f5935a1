"""The WebApp login page and its JSON API (``/webapp/login``, ``/api/login/*``).

Every ``/api/*`` call carries Telegram WebApp ``initData`` in ``X-Telegram-Init-Data``; it is
checked against the bot token and its age, and the call acts only for the user it names.
Anything else is 401, the same for every reason, so a caller learns nothing from it.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from smetabot import texts
from smetabot.initdata import InitDataError, WebAppUser, check_init_data
from smetabot.services import Services
from smetabot.texts import lang_of
from smetabot.web.context import services

log = logging.getLogger(__name__)

ASSETS = "webapp_assets"
_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript",
          ".svg": "image/svg+xml"}
TELEGRAM_SCRIPT = '<script src="https://telegram.org/js/telegram-web-app.js"></script>'


def _app(request: web.Request) -> Services:
    return services(request)


def _asset(name: str) -> bytes:
    return importlib.resources.files("smetabot").joinpath(f"{ASSETS}/{name}").read_bytes()


async def login_page(request: web.Request) -> web.Response:
    """The WebApp page; Telegram's own script only outside the sandbox (no network there)."""
    html = _asset("login.html").decode()
    html = html.replace("<!--TELEGRAM_SCRIPT-->", "" if _app(request).sandbox else TELEGRAM_SCRIPT)
    page_texts = json.dumps(texts.page_texts(), ensure_ascii=False).replace("</", "<\\/")
    html = html.replace("<!--PAGE_TEXTS-->", '<script id="page-texts" type="application/json">'
                        f"{page_texts}</script>")
    return web.Response(text=html, content_type="text/html",
                        headers={"Cache-Control": "no-store",
                                 "Referrer-Policy": "no-referrer",
                                 "X-Content-Type-Options": "nosniff"})


async def asset(request: web.Request) -> web.Response:
    """Static files of the WebApp."""
    name = request.match_info["name"]
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in _TYPES or name == "login.html":
        raise web.HTTPNotFound()
    try:
        body = _asset(name)
    except (FileNotFoundError, IsADirectoryError):
        raise web.HTTPNotFound() from None
    return web.Response(body=body, content_type=_TYPES[suffix],
                        headers={"Cache-Control": "no-cache"})


Api = Callable[[web.Request, WebAppUser, dict], Awaitable[dict]]


def _api(handler: Api) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def wrapped(request: web.Request) -> web.Response:
        app = _app(request)
        try:
            user = check_init_data(request.headers.get("X-Telegram-Init-Data"),
                                   app.bot_token, app.config["security.init_data_max_age"])
        except InitDataError as exc:
            log.info("refused %s: %s", request.path, exc)
            return web.json_response({"status": "error", "message": "unauthorized"}, status=401)
        body: dict = {}
        if request.method == "POST" and request.can_read_body:
            try:
                body = await request.json()
            except (ValueError, UnicodeDecodeError):
                body = None  # type: ignore[assignment]
            if not isinstance(body, dict):
                return web.json_response({"status": "error", "message": "bad request"},
                                         status=400)
        try:
            return web.json_response(await handler(request, user, body))
        except Exception:
            log.exception("login API %s failed for %s", request.path, user.id)
            lang = lang_of(user.language_code)
            return web.json_response({"status": "error",
                                      "message": texts.t("login.failed", lang)}, status=500)

    return wrapped


def _lang(user: WebAppUser) -> str:
    return lang_of(user.language_code)


@_api
async def qr_start(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.qr_start(user.id, _lang(user))


@_api
async def qr_check(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.qr_check(user.id)


@_api
async def phone_start(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.phone_start(user.id, _lang(user), str(body.get("phone", "")))


@_api
async def phone_code(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.phone_code(user.id, str(body.get("code", "")))


@_api
async def password(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.password(user.id, str(body.get("password", "")))


@_api
async def session_status(request: web.Request, user: WebAppUser, body: dict) -> dict:
    app = _app(request)
    connected = app.vault.exists(user.id)
    return {"status": "authorized" if connected else "none",
            "login_in_progress": user.id in app.login.in_flight()}


def add_routes(webapp: web.Application) -> None:
    """Mount the WebApp page and the login API."""
    webapp.router.add_get("/webapp/login", login_page)
    webapp.router.add_get("/webapp/assets/{name}", asset)
    webapp.router.add_post("/api/login/qr/start", qr_start)
    webapp.router.add_post("/api/login/qr/check", qr_check)
    webapp.router.add_post("/api/login/password", password)
    webapp.router.add_post("/api/login/phone/start", phone_start)
    webapp.router.add_post("/api/login/phone/code", phone_code)
    webapp.router.add_get("/api/session/status", session_status)
