"""`kill -9` of a real `serve --sandbox` at random points of several publications.

The sandbox keeps its Telegram on disk (written before each answer leaves, as Telegram's own
state is durable), so a killed and restarted serve meets the same channel. Every publication
must end published exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest


class Sandbox:
    """A `serve --sandbox` subprocess on one data dir, killed and restarted at will."""

    def __init__(self, data: Path) -> None:
        self.data = data
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = (data.parent / "serve.log").open("a")

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "smetabot", "serve", "--sandbox", "--port", str(self.port),
             "--data-dir", str(self.data)], stdout=self.log, stderr=subprocess.STDOUT,
            cwd=self.data.parent)
        self.wait(lambda: self.call("/healthz")[0] == 200, 60)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()

    def call(self, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data,
                                         method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return 0, None

    def send_file(self, user: int, path: Path) -> int:
        boundary = "smetabot-test-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; "
                f"filename=\"{path.name}\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
        body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.base}/sandbox/api/users/{user}/send", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["message_id"]

    def chat(self, user: int) -> list[dict]:
        status, messages = self.call(f"/sandbox/api/users/{user}/chat")
        return messages if status == 200 else []

    @staticmethod
    def wait(predicate, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError("timed out")

    def bot_says(self, user: int, words: str, after: int = 0, timeout: float = 60) -> dict:
        return self.wait(lambda: next((m for m in self.chat(user) if m["id"] > after and
                                       m["from"] == "bot" and words in (m["text"] or "")),
                                      None), timeout)

    def say(self, user: int, text: str) -> int:
        return self.call(f"/sandbox/api/users/{user}/send", {"text": text})[1]["message_id"]

    def press(self, user: int, message: dict, text: str) -> dict:
        return self.call(f"/sandbox/api/users/{user}/press",
                         {"message_id": message["id"], "text": text})[1]


@pytest.fixture
def sandbox(tmp_path):
    box = Sandbox(tmp_path / "data")
    box.start()
    yield box
    box.stop()


def connect(box: Sandbox, user: int) -> None:
    """The contractor connects their account by QR, as the WebApp does it."""
    box.say(user, "/start")
    offer = box.bot_says(user, "подключите свой аккаунт")
    url = box.press(user, offer, "🔐 Подключить аккаунт")["web_app_url"]
    init = {"X-Telegram-Init-Data": parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]}
    started = box.call("/api/login/qr/start", {}, init)[1]
    box.call(f"/sandbox/api/users/{user}/scan", {"url": started["url"]})
    box.wait(lambda: box.call("/api/login/qr/check", {}, init)[1]["status"] == "authorized")
    box.bot_says(user, "Аккаунт подключён")


def test_kill_9_at_random_points_publishes_each_document_exactly_once(sandbox, corpus):
    rng = random.Random(7)
    box = sandbox
    ivan = box.call("/sandbox/api/users", {"first_name": "Иван", "language_code": "ru"})[1][
        "user_id"]
    connect(box, ivan)
    box.say(ivan, "🆕 Новый канал")
    box.bot_says(ivan, "Как назвать канал")
    box.say(ivan, "Квартира на Ленина")
    box.bot_says(ivan, "Пропустить")
    box.say(ivan, "Пропустить")
    box.bot_says(ivan, "готов", timeout=60)
    [channel] = box.call("/sandbox/api/channels")[1]
    pdf = corpus / "estimates_ru/treasury_223fz_formats_v16.2.pdf"
    kills = 0
    for number in range(3):
        sent = box.send_file(ivan, pdf)
        box.bot_says(ivan, "Какие страницы", after=sent, timeout=120)
        typed = box.say(ivan, f"{number + 1}-{number + 12}")
        picker = box.bot_says(ivan, "Выбрано", after=typed)
        question = box.press(ivan, picker, "Далее ➡️") and box.bot_says(ivan, "Водяной знак",
                                                                        after=typed)
        box.press(ivan, question, "✅ Оставить")
        choice = box.bot_says(ivan, "В какой канал", after=question["id"])
        box.press(ivan, choice, "📢 Квартира на Ленина")
        # Kill it somewhere in rendering or posting, start it again, and again.
        for _ in range(2):
            time.sleep(rng.uniform(0.2, 2.5))
            box.kill()
            kills += 1
            box.start()

    def all_published():
        done = [m for m in box.chat(ivan) if m["from"] == "bot"
                and "✅ Документ опубликован" in (m["text"] or "")]
        return len(done) == 3

    box.wait(all_published, 180)
    posts = [p for p in box.call(f"/sandbox/api/channels/{channel['id']}")[1]["posts"]
             if p["media"]]
    assert kills == 6
    assert len(posts) == 36  # 3 × 12 pages, none lost and none twice
    assert all(p["protected"] for p in posts)
    resumed = [m for m in box.chat(ivan) if "после перезапуска" in (m["text"] or "")]
    assert resumed  # the kills did land in the middle of the work
    assert not os.listdir(box.data / "tmp")
