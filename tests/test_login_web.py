"""The login's web surface: a small body limit, the page's Content-Security-Policy, a Server
header without versions, a malformed request logged as one WARNING line."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs, urlsplit

import aiohttp

from tests.helpers import run, sandbox_app


def init_data_for(app, user_id: int) -> str:
    url = app.emulator.web_app_url(user_id, f"{app.public_url}/webapp/login", launch="inline")
    return parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]


def test_login_calls_refuse_large_bodies_with_413_json(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            ivan = app.emulator.create_user("Иван", language_code="ru")
            headers = {"X-Telegram-Init-Data": init_data_for(app, ivan),
                       "Content-Type": "application/json"}
            big = b'{"phone": "' + b"1" * (100 * 1024) + b'"}'

            async def chunks():
                for start in range(0, len(big), 8192):
                    yield big[start:start + 8192]

            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{app.port}/api/login/phone/start"
                for data in (big, chunks()):  # with a Content-Length, and chunked
                    async with http.post(url, headers=headers, data=data) as response:
                        assert response.status == 413
                        assert await response.json() == {"status": "error",
                                                         "message": "request body too large"}
                # Under the limit it is an ordinary call.
                async with http.post(url, headers=headers, json={"phone": "12"}) as response:
                    assert response.status == 200
                    assert "международном формате" in (await response.json())["message"]
            assert app.login.in_flight() == []

    run(scenario())


def test_login_page_headers(tmp_path):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{app.port}/webapp/login") as response:
                    assert response.status == 200
                    csp = response.headers["Content-Security-Policy"]
                    server = response.headers.get("Server", "")
                async with http.get(f"http://127.0.0.1:{app.port}/healthz") as response:
                    health_server = response.headers.get("Server", "")
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            ancestors = directives["frame-ancestors"].split()
            assert "https://web.telegram.org" in ancestors and "'self'" in ancestors
            assert "*" not in ancestors
            assert "https://telegram.org" in directives["script-src"]
            assert "'unsafe-inline'" not in directives["script-src"]
            for header in (server, health_server):
                assert not any(ch.isdigit() for ch in header), header
                assert "aiohttp" not in header.lower() and "python" not in header.lower()

    run(scenario())


def test_a_malformed_request_is_one_warning_line(tmp_path, caplog):
    async def scenario():
        async with sandbox_app(tmp_path) as app:
            caplog.clear()
            with caplog.at_level(logging.DEBUG):
                reader, writer = await asyncio.open_connection("127.0.0.1", app.port)
                writer.write(b"GET /webapp/login HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
                await writer.drain()
                answer = await asyncio.wait_for(reader.read(), 5)
                writer.close()
            head = answer.split(b"\r\n\r\n")[0].decode()
            assert head.split()[1] == "400" and "\r\nServer: SmetaBot" in head
            mine = [r for r in caplog.records if r.name.startswith("aiohttp")]
            assert [r.levelname for r in mine if r.levelno >= logging.WARNING] == ["WARNING"]
            [warning] = [r for r in mine if r.levelno >= logging.WARNING]
            assert warning.exc_info is None and "\n" not in warning.getMessage()
            assert "malformed HTTP request" in warning.getMessage()

    run(scenario())
