"""The aiohttp application: health, the WebApp login and, in sandbox mode, the sandbox API."""

from __future__ import annotations

from aiohttp import web

from smetabot import __version__
from smetabot.services import Services
from smetabot.web import login
from smetabot.web.context import APP_KEY


def make_web_app(app: Services) -> web.Application:
    """Routes of the public server (and the sandbox's, never mounted outside sandbox mode)."""
    webapp = web.Application(client_max_size=app.settings.max_file_mb * 1024 * 1024 + 65536)
    webapp[APP_KEY] = app
    webapp.router.add_get("/healthz", healthz)
    login.add_routes(webapp)
    if app.sandbox:
        from smetabot.web import sandbox

        sandbox.add_routes(webapp)
    return webapp


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the database answers and the bot is connected."""
    app = request.app[APP_KEY]
    await app.db.fetchone("SELECT 1")
    connected = bool(app.bot.is_connected)
    return web.json_response({"status": "ok" if connected else "degraded",
                              "version": __version__, "sandbox": app.sandbox,
                              "bot_connected": connected},
                             status=200 if connected else 503)
