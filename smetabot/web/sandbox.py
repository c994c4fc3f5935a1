"""The sandbox: people using Telegram, played over HTTP, and the page that plays them.

Mounted only by ``smetabot serve --sandbox``. Each API route is a thin wrapper over the emulator's
user-side methods; Telegram's refusals come back as ``400 {"error": "MESSAGE_TOO_LONG", ...}``.
The chat page at ``/sandbox/`` (``smetabot/sandbox_assets/``) is a client of this API only.
"""

from __future__ import annotations

import functools
import importlib.resources
import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from smetabot.telegram.emulator import TelegramError

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _emulator(request: web.Request) -> Any:
    from smetabot.web.context import APP_KEY

    return request.app[APP_KEY].emulator


def _json_errors(route: Route) -> Route:
    @functools.wraps(route)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response = await route(request)
            persist = _emulator(request).persist
            if persist is not None:
                await persist.flush()  # what a person did is kept before they are told
            return response
        except TelegramError as exc:
            status = 404 if exc.message in ("USER_ID_INVALID", "CHANNEL_INVALID",
                                            "FILE_ID_INVALID") else 400
            return web.json_response({"error": exc.message, "code": exc.code}, status=status)
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": "BAD_REQUEST", "detail": str(exc)}, status=400)

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise TypeError("the body must be a JSON object")
    return body


def _user_id(request: web.Request) -> int:
    return int(request.match_info["user_id"])


@_json_errors
async def users(request: web.Request) -> web.Response:
    emulator = _emulator(request)
    return web.json_response([
        {"user_id": a.id, "first_name": a.first_name, "last_name": a.last_name,
         "username": a.username, "language_code": a.lang_code,
         "phone": f"+{a.phone}" if a.phone else None, "two_factor": a.password is not None}
        for a in emulator.accounts.values() if not a.is_bot])


@_json_errors
async def create_user(request: web.Request) -> web.Response:
    body = await _body(request)
    user_id = _emulator(request).create_user(
        str(body["first_name"]), username=body.get("username"),
        language_code=body.get("language_code"), phone=body.get("phone"),
        password=body.get("password"), last_name=body.get("last_name"),
        dc_id=int(body["dc_id"]) if body.get("dc_id") else None)
    return web.json_response({"user_id": user_id}, status=201)


@_json_errors
async def login_settings(request: web.Request) -> web.Response:
    """How Telegram treats this user's phone login: ``code_delivery`` (app, sms, call,
    flash_call, missed_call, email, setup_email, fragment, sms_word, sms_phrase, success)
    and ``login_error`` (PHONE_NUMBER_BANNED, PHONE_NUMBER_FLOOD, ... or null)."""
    body = await _body(request)
    emulator, user_id = _emulator(request), _user_id(request)
    if "code_delivery" in body:
        emulator.set_code_delivery(user_id, str(body["code_delivery"]))
    if "login_error" in body:
        emulator.set_login_error(user_id, body["login_error"] or None)
    account = emulator.account(user_id)
    return web.json_response({"code_delivery": account.code_delivery,
                              "login_error": account.login_error, "dc_id": account.dc_id})


@_json_errors
async def send(request: web.Request) -> web.Response:
    emulator, user_id = _emulator(request), _user_id(request)
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        caption = form.get("caption")
        caption = caption if isinstance(caption, str) and caption else None
        for field in ("document", "photo"):
            upload = form.get(field)
            if isinstance(upload, web.FileField):
                data = upload.file.read()
                name = upload.filename or field
                if field == "photo":
                    message_id = await emulator.user_send_photo(user_id, data, caption, name)
                else:
                    mime = (upload.content_type if upload.content_type not in
                            (None, "application/octet-stream") else
                            mimetypes.guess_type(name)[0]) or "application/octet-stream"
                    message_id = await emulator.user_send_document(user_id, name, data, mime,
                                                                   caption)
                return web.json_response({"message_id": message_id})
        raise ValueError("a multipart body needs a 'document' or 'photo' file")
    body = await _body(request)
    message_id = await emulator.user_send_text(user_id, str(body["text"]))
    return web.json_response({"message_id": message_id})


@_json_errors
async def chat(request: web.Request) -> web.Response:
    after = int(request.query.get("after", "0"))
    return web.json_response(_emulator(request).user_chat(_user_id(request), after))


@_json_errors
async def press(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _emulator(request).user_press(
        _user_id(request), int(body["message_id"]), str(body["text"]),
        **({"platform": body["platform"]} if body.get("platform") else {}))
    return web.json_response(result)


@_json_errors
async def menu_button(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).menu_button(_user_id(request)))


@_json_errors
async def open_menu(request: web.Request) -> web.Response:
    body = await _body(request) if request.can_read_body else {}
    result = await _emulator(request).user_open_menu(
        _user_id(request), **({"platform": body["platform"]} if body.get("platform") else {}))
    return web.json_response(result)


@_json_errors
async def scan(request: web.Request) -> web.Response:
    body = await _body(request)
    return web.json_response(await _emulator(request).user_scan_qr(_user_id(request),
                                                                     str(body["url"])))


@_json_errors
async def codes(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).user_login_codes(_user_id(request)))


@_json_errors
async def join(request: web.Request) -> web.Response:
    body = await _body(request)
    channel_id = await _emulator(request).user_join(_user_id(request), str(body["link"]))
    return web.json_response({"channel_id": channel_id})


@_json_errors
async def web_app_data(request: web.Request) -> web.Response:
    body = await _body(request)
    message_id = await _emulator(request).user_web_app_send_data(
        _user_id(request), str(body["button_text"]), str(body["data"]))
    return web.json_response({"message_id": message_id})


@_json_errors
async def inject(request: web.Request) -> web.Response:
    """The next ``times`` calls of a Telegram method fail with the given error."""
    body = await _body(request)
    method, error = str(body["method"]), str(body["error"])
    code, times = int(body.get("code", 400)), int(body.get("times", 1))
    _emulator(request).inject_error(method, code, error, times)
    return web.json_response({"method": method, "error": error, "code": code, "times": times})


@_json_errors
async def user_channels(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    return web.json_response([
        {"id": c["id"], "title": c["title"], "photo": c["photo"], "noforwards": c["noforwards"],
         "owner_id": c["owner_id"], "posts": len(c["posts"])}
        for c in _emulator(request).channels() if user_id in c["members"]])


@_json_errors
async def channels(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).channels())


@_json_errors
async def channel(request: web.Request) -> web.Response:
    return web.json_response(_emulator(request).channel(int(request.match_info["channel_id"])))


@_json_errors
async def view_channel(request: web.Request) -> web.Response:
    posts = await _emulator(request).user_view_channel(
        _user_id(request), int(request.match_info["channel_id"]))
    return web.json_response(posts)


@_json_errors
async def channel_press(request: web.Request) -> web.Response:
    body = await _body(request)
    result = await _emulator(request).user_press_in_channel(
        _user_id(request), int(request.match_info["channel_id"]), int(body["message_id"]),
        str(body["text"]))
    return web.json_response(result)


@_json_errors
async def start(request: web.Request) -> web.Response:
    body = await _body(request) if request.can_read_body else {}
    message_id = await _emulator(request).user_start(_user_id(request), body.get("param"))
    return web.json_response({"message_id": message_id})


@_json_errors
async def file(request: web.Request) -> web.Response:
    thumb = request.query.get("thumb") in ("1", "true")
    data = _emulator(request).file_bytes(request.match_info["file_id"], thumb=thumb)
    return web.Response(body=data, content_type="image/jpeg" if thumb
                        else "application/octet-stream")


ASSETS = "sandbox_assets"
_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript",
          ".svg": "image/svg+xml"}


def _asset(name: str) -> web.Response:
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in _TYPES:
        raise web.HTTPNotFound()
    try:
        body = importlib.resources.files("smetabot").joinpath(f"{ASSETS}/{name}").read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise web.HTTPNotFound() from None
    return web.Response(body=body, content_type=_TYPES[suffix], charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def page(request: web.Request) -> web.Response:
    """The sandbox chat page."""
    return _asset("index.html")


async def asset(request: web.Request) -> web.Response:
    """The page's scripts and styles."""
    return _asset(request.match_info["name"])


async def to_page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/sandbox/")


def add_routes(webapp: web.Application) -> None:
    """Mount the sandbox page at /sandbox/ and its API under /sandbox/api."""
    webapp.router.add_get("/sandbox", to_page)
    webapp.router.add_get("/sandbox/", page)
    webapp.router.add_get("/sandbox/assets/{name}", asset)
    base = "/sandbox/api"
    webapp.router.add_get(f"{base}/users", users)
    webapp.router.add_post(f"{base}/users", create_user)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/send", send)
    webapp.router.add_get(f"{base}/users/{{user_id:\\d+}}/chat", chat)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/press", press)
    webapp.router.add_get(f"{base}/users/{{user_id:\\d+}}/menu", menu_button)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/menu", open_menu)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/scan", scan)
    webapp.router.add_get(f"{base}/users/{{user_id:\\d+}}/codes", codes)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/login_settings", login_settings)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/join", join)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/web_app_data", web_app_data)
    webapp.router.add_get(f"{base}/users/{{user_id:\\d+}}/channels", user_channels)
    webapp.router.add_get(f"{base}/users/{{user_id:\\d+}}/channels/{{channel_id:-?\\d+}}",
                          view_channel)
    webapp.router.add_post(f"{base}/inject", inject)
    webapp.router.add_post(
        f"{base}/users/{{user_id:\\d+}}/channels/{{channel_id:-?\\d+}}/press", channel_press)
    webapp.router.add_post(f"{base}/users/{{user_id:\\d+}}/start", start)
    webapp.router.add_get(f"{base}/channels", channels)
    webapp.router.add_get(f"{base}/channels/{{channel_id:-?\\d+}}", channel)
    webapp.router.add_get(f"{base}/files/{{file_id}}", file)
