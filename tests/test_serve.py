"""`smetabot serve` as a real subprocess, driven only over its HTTP port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from smetabot import errors
from tests.helpers import ServeProcess, call


def free_port() -> int:
    return ServeProcess.free_port()


@pytest.fixture
def serve(serve_process, tmp_path):
    """A `serve --sandbox` subprocess on tmp_path/data: (base URL, its process)."""
    box = serve_process(tmp_path / "data")
    return box.base, box.process


def test_serve_sandbox_over_http_and_stops_on_sigterm(serve, tmp_path):
    base, process = serve
    status, health = call(base, "/healthz")
    assert status == 200 and health["sandbox"] is True and health["bot_connected"] is True

    status, created = call(base, "/sandbox/api/users",
                           {"first_name": "Иван", "username": "ivan", "language_code": "ru"})
    assert status == 201
    user = created["user_id"]
    status, sent = call(base, f"/sandbox/api/users/{user}/send", {"text": "/start"})
    assert status == 200

    def bot_replied():
        return [m for m in call(base, f"/sandbox/api/users/{user}/chat?after="
                                      f"{sent['message_id']}")[1] if m["from"] == "bot"]

    [reply] = ServeProcess.wait(bot_replied)
    assert reply["buttons"][0][0]["text"] == "🔐 Подключить аккаунт"
    assert reply["buttons"][0][0]["kind"] == "web_app"

    # Telegram's refusals come back as JSON errors with Telegram's names.
    status, error = call(base, f"/sandbox/api/users/{user}/send", {"text": "я" * 4097})
    assert (status, error["error"]) == (400, "MESSAGE_TOO_LONG")
    status, error = call(base, "/sandbox/api/users/999/chat")
    assert status == 404

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    out = (tmp_path / f"serve-{base.rsplit(':', 1)[1]}.log").read_text()
    assert "SmetaBot stopped." in out
    assert "Traceback" not in out
    # The database is there, migrated; nothing else is running.
    assert (tmp_path / "data/smetabot.db").exists()


def test_serve_without_config_says_what_to_do(tmp_path):
    result = subprocess.run([sys.executable, "-m", "smetabot", "serve"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == errors.EXIT_CONFIG
    assert "smetabot init" in result.stderr and "--sandbox" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_on_a_busy_port_is_one_clear_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "smetabot", "serve", "--sandbox", "--port", str(port),
             "--data-dir", str(tmp_path / "d")], cwd=tmp_path, capture_output=True, text=True,
            timeout=60, check=False)
    assert result.returncode == errors.EXIT_UNAVAILABLE
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_running_serve_holds_its_data_dir(serve, tmp_path):
    """restore refuses to write under it, and a second serve on it is refused, naming the pid."""
    base, process = serve
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    # No secret key in the config: restore takes the sandbox's own, beside its data.
    config.write_text(f'[storage]\ndata_dir = "{data}"\n')
    backup = subprocess.run([sys.executable, "-m", "smetabot", "backup", "--config", str(config),
                             "--out", str(tmp_path / "b.tar.gz")], capture_output=True, text=True,
                            timeout=60, check=False)
    assert backup.returncode == 0, backup.stderr  # a backup is fine while serving
    before = (data / "smetabot.db").stat().st_mtime_ns
    restore = subprocess.run([sys.executable, "-m", "smetabot", "restore",
                              str(tmp_path / "b.tar.gz"), "--config", str(config)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert restore.returncode == errors.EXIT_UNAVAILABLE
    assert restore.stderr == (f"Error: the data dir {data} is in use by a running `smetabot "
                              f"serve` (pid {process.pid}); stop it first\n")
    second = subprocess.run([sys.executable, "-m", "smetabot", "serve", "--sandbox", "--port",
                             str(free_port()), "--data-dir", str(data)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert second.returncode == errors.EXIT_UNAVAILABLE
    assert f"is in use by a running `smetabot serve` (pid {process.pid})" in second.stderr
    assert (data / "smetabot.db").stat().st_mtime_ns == before
    assert call(base, "/healthz")[0] == 200
    # Stopped, the data dir is free again: restore goes through.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    restore = subprocess.run([sys.executable, "-m", "smetabot", "restore",
                              str(tmp_path / "b.tar.gz"), "--config", str(config)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert restore.returncode == 0, restore.stderr
