"""`kill -9` of a real `serve --sandbox` at recorded moments of several publications.

The sandbox keeps its Telegram on disk (written before each answer leaves, as Telegram's own
state is durable), so a killed and restarted serve meets the same channel. Every publication
must end published exactly once.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import ServeProcess


class Box(ServeProcess):
    """The serve subprocess, with what a person in the sandbox does and sees."""

    def send_file(self, user: int, path: Path, name: str | None = None) -> int:
        """``user`` sends the file at ``path`` (as ``name``); the message's id."""
        name = name or path.name
        boundary = "smetabot-test-boundary"
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; "
                f"filename=\"{name}\"\r\nContent-Type: {mime}\r\n\r\n").encode()
        body += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            f"{self.base}/sandbox/api/users/{user}/send", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["message_id"]

    def chat(self, user: int) -> list[dict]:
        status, messages = self.call(f"/sandbox/api/users/{user}/chat")
        return messages if status == 200 else []

    def bot_says(self, user: int, words: str, after: int = 0, timeout: float = 60) -> dict:
        return self.wait(lambda: next((m for m in self.chat(user) if m["id"] > after and
                                       m["from"] == "bot" and words in (m["text"] or "")),
                                      None), timeout)

    def say(self, user: int, text: str) -> int:
        return self.call(f"/sandbox/api/users/{user}/send", {"text": text})[1]["message_id"]

    def press(self, user: int, message: dict, text: str) -> dict:
        return self.call(f"/sandbox/api/users/{user}/press",
                         {"message_id": message["id"], "text": text})[1]

    def publication(self, number: int) -> dict | None:
        """The ``number``-th publication's row as the database records it (read-only)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.data / 'smetabot.db'}?mode=ro",
                                                uri=True, timeout=5)) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT id, status, sent_albums FROM core_publications "
                             "ORDER BY id LIMIT 1 OFFSET ?", (number,)).fetchone()
        return dict(row) if row else None

    def rendered(self, publication_id: int) -> int:
        """How many of the publication's pages are rendered on disk."""
        return len(list(self.data.glob(f"uploads/*/publication-{publication_id}/*.png")))


@pytest.fixture
def sandbox(tmp_path):
    box = Box(tmp_path / "data")
    box.start()
    yield box
    box.stop()


def connect(box: Box, user: int) -> None:
    """The contractor connects their account by QR, as the WebApp does it."""
    box.say(user, "/start")
    offer = box.bot_says(user, "подключите свой аккаунт")
    url = box.press(user, offer, "🔐 Подключить аккаунт")["web_app_url"]
    init = {"X-Telegram-Init-Data": parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]}
    started = box.call("/api/login/qr/start", {}, init)[1]
    box.call(f"/sandbox/api/users/{user}/scan", {"url": started["url"]})
    box.wait(lambda: box.call("/api/login/qr/check", {}, init)[1]["status"] == "authorized")
    box.bot_says(user, "Аккаунт подключён")


def test_kill_9_mid_work_publishes_each_document_exactly_once(sandbox, corpus):
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
    kills: list[str] = []
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
        # Kill it at recorded moments: while its pages render (some on disk, not all), and
        # again once the restarted serve is sending them (or as late as we can catch it).
        row = box.wait(lambda n=number: box.publication(n), 30, every=0.01)
        box.wait(lambda r=row: 0 < box.rendered(r["id"]) < 12, 60, every=0.01)
        box.kill()
        kills.append("rendering")
        before = box.rendered(row["id"])
        box.start()

        def progressed(r=row, n=number, b=before) -> dict | None:
            now = box.publication(n)
            return now if now["status"] != "rendering" or box.rendered(r["id"]) > b else None

        kills.append(box.wait(progressed, 120, every=0.01)["status"])
        box.kill()
        box.start()

    def all_published():
        done = [m for m in box.chat(ivan) if m["from"] == "bot"
                and "✅ Документ опубликован" in (m["text"] or "")]
        return len(done) == 3

    box.wait(all_published, 180)
    posts = [p for p in box.call(f"/sandbox/api/channels/{channel['id']}")[1]["posts"]
             if p["media"]]
    assert len(kills) == 6 and kills[::2] == ["rendering"] * 3  # each caught mid-render
    assert len(posts) == 36  # 3 × 12 pages, none lost and none twice
    assert all(p["protected"] for p in posts)
    interrupted = [m for m in box.chat(ivan) if "Прервано перезапуском" in (m["text"] or "")]
    assert len(interrupted) >= 3  # each document was caught mid-work at least once
    frozen = [m["text"] for m in box.chat(ivan)
              if m["from"] == "bot" and (m["text"] or "").startswith(("⏳ Готовлю", "⏳ Публикую", "⏳ Открываю", "📤"))]
    assert frozen == []  # no progress message left frozen
    assert not os.listdir(box.data / "tmp")
