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
from aiohttp import web_response as aiohttp_web_response
from aiohttp.http_exceptions import HttpProcessingError

from smetabot import texts
from smetabot.initdata import InitDataError, WebAppUser, check_init_data
from smetabot.services import Services
from smetabot.texts import lang_of
from smetabot.web.context import services

log = logging.getLogger(__name__)

ASSETS = "webapp_assets"
SERVER_NAME = "SmetaBot"
#: the largest body a login call may send (a phone number, a code, a password)
API_BODY_LIMIT = 64 * 1024
#: Telegram's web clients, which show a Mini App in a frame (the apps open it in a webview)
TELEGRAM_WEB_CLIENTS = ("https://web.telegram.org", "https://webk.telegram.org",
                        "https://webz.telegram.org")
LOGIN_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' https://telegram.org",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self' " + " ".join(TELEGRAM_WEB_CLIENTS),
])
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
                                 "Content-Security-Policy": LOGIN_CSP,
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
        if request.content_length is not None and request.content_length > API_BODY_LIMIT:
            return _too_large(request)
        try:
            user = check_init_data(request.headers.get("X-Telegram-Init-Data"),
                                   app.bot_token, app.config["security.init_data_max_age"])
        except InitDataError as exc:
            log.info("refused %s: %s", request.path, exc)
            return web.json_response({"status": "error", "message": "unauthorized"}, status=401)
        body: dict = {}
        if request.method == "POST" and request.can_read_body:
            raw_body = await _read_limited(request)
            if raw_body is None:
                return _too_large(request)
            try:
                body = json.loads(raw_body) if raw_body.strip() else {}
            except (ValueError, UnicodeDecodeError):
                body = None  # type: ignore[assignment]
            if not isinstance(body, dict):
                log.warning("bad request to %s: the body is not a JSON object", request.path)
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


async def _read_limited(request: web.Request) -> bytes | None:
    """The body, or None once it grows past API_BODY_LIMIT (chunked bodies have no length)."""
    data = bytearray()
    async for chunk in request.content.iter_any():
        data += chunk
        if len(data) > API_BODY_LIMIT:
            return None
    return bytes(data)


def _too_large(request: web.Request) -> web.Response:
    log.warning("refused %s: body larger than %d bytes", request.path, API_BODY_LIMIT)
    return web.json_response({"status": "error", "message": "request body too large"},
                             status=413)


def _lang(user: WebAppUser) -> str:
    return lang_of(user.language_code)


@_api
async def qr_start(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.qr_start(user.id, _lang(user))


@_api
async def qr_check(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.qr_check(user.id, _lang(user))


@_api
async def phone_start(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.phone_start(user.id, _lang(user), str(body.get("phone", "")))


@_api
async def phone_code(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.phone_code(user.id, str(body.get("code", "")),
                                                _lang(user))


@_api
async def password(request: web.Request, user: WebAppUser, body: dict) -> dict:
    return await _app(request).login.password(user.id, str(body.get("password", "")),
                                              _lang(user))


@_api
async def session_status(request: web.Request, user: WebAppUser, body: dict) -> dict:
    app = _app(request)
    connected = app.vault.exists(user.id)
    return {"status": "authorized" if connected else "none",
            "login_in_progress": user.id in app.login.in_flight()}


class _MalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot parse as an ERROR with a traceback: that is a client's
    mistake (or a scanner), one WARNING line without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if (record.levelno >= logging.ERROR and isinstance(exc, HttpProcessingError)
                and str(record.msg).startswith("Error handling request")):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "malformed HTTP request from %s: %s"
            record.args = (*(record.args or ("?",))[:1], _one_line(exc))
            record.exc_info = record.exc_text = None
        return True


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "message", "") or exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


_MALFORMED = _MalformedRequests()


def add_routes(webapp: web.Application) -> None:
    """Mount the WebApp page and the login API."""
    # aiohttp says "Server: Python/3.11 aiohttp/3.x" on every answer, its own error pages
    # included (they pass no hook of ours): no versions for a scanner to match.
    aiohttp_web_response.SERVER_SOFTWARE = SERVER_NAME
    server_log = logging.getLogger("aiohttp.server")
    if _MALFORMED not in server_log.filters:
        server_log.addFilter(_MALFORMED)
    webapp.router.add_get("/webapp/login", login_page)
    webapp.router.add_get("/webapp/assets/{name}", asset)
    webapp.router.add_post("/api/login/qr/start", qr_start)
    webapp.router.add_post("/api/login/qr/check", qr_check)
    webapp.router.add_post("/api/login/password", password)
    webapp.router.add_post("/api/login/phone/start", phone_start)
    webapp.router.add_post("/api/login/phone/code", phone_code)
    webapp.router.add_get("/api/session/status", session_status)
