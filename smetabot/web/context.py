"""What every route finds on the aiohttp application: the services it may call."""

from __future__ import annotations

from aiohttp import web

from smetabot.services import Services

APP_KEY: web.AppKey[Services] = web.AppKey("smetabot", Services)


def services(request: web.Request) -> Services:
    """The services of the request's application."""
    return request.app[APP_KEY]
