"""Uploads and publications: from a contractor's file to protected pages in a client channel.

Every step's state is in the database, so a restart resumes the work:

    upload:       received → previewing → ready | failed        (expired ones are swept)
    publication:  rendering → publishing → published | failed | blocked

Rendering runs on the Huey queue (process workers) and is awaited without blocking the event
loop. Publishing is idempotent: the ``random_id`` of every page is chosen and stored before the
first send and reused on a retry, so Telegram's RANDOM_ID_DUPLICATE means "already sent" and a
crash between sending and recording never posts a page twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
import shutil
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyrogram import Client, raw, utils
from pyrogram import errors as tg

from smetabot import errors
from smetabot.render.detect import Sniffed
from smetabot.render.renderer import Renderer

if TYPE_CHECKING:
    from smetabot.app import App

log = logging.getLogger(__name__)

ALBUM = 10  # Telegram's limit of items per album
PREVIEW_CHUNK = 5
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a photo of a page


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def safe_name(name: str) -> str:
    """A file name safe to keep on disk (the original is kept in the database)."""
    stem = re.sub(r"[^\w.\- ]+", "_", Path(name or "document").name).strip(" .") or "document"
    return stem[:120]


def new_tracking_code() -> str:
    """A short code burned into every page of one publication."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))


def new_random_id() -> int:
    """A random_id for one message, as Telegram wants it (signed 64-bit)."""
    return secrets.randbits(63) * (1 if secrets.randbits(1) else -1)


@dataclass
class Upload:
    """A row of ``core_uploads``."""

    id: str
    contractor_id: int
    file_name: str
    kind: str
    size: int
    path: str
    pages: int | None
    status: str
    expires_at: str
    status_message_id: int | None
    error: str | None
    pdf_path: str | None

    @property
    def folder(self) -> Path:
        return Path(self.path).parent


@dataclass
class Publication:
    """A row of ``core_publications`` with what publishing needs."""

    id: int
    contractor_id: int
    channel_id: int  # core_channels.id
    upload_id: str | None
    file_name: str
    pages: list[int]
    watermark: str
    tracking_code: str
    message_ids: list[int]
    random_ids: list[int]
    sent_albums: int
    status: str
    status_message_id: int | None
    lang: str


_UPLOAD_COLUMNS = ("id, contractor_id, file_name, kind, size, path, pages, status, expires_at, "
                   "status_message_id, error, pdf_path")
_PUBLICATION_COLUMNS = ("id, contractor_id, channel_id, upload_id, file_name, pages, watermark, "
                        "tracking_code, message_ids, random_ids, sent_albums, status, "
                        "status_message_id, lang")


def _publication(row: Any) -> Publication:
    data = dict(row)
    for key in ("pages", "message_ids", "random_ids"):
        data[key] = json.loads(data[key])
    return Publication(**data)


Progress = Callable[[int, int], Awaitable[None]]


class Publishing:
    """Uploads, their previews, and publications."""

    def __init__(self, app: App) -> None:
        self.app = app

    # -- uploads --------------------------------------------------------------------------

    def check_file(self, file_name: str | None, size: int | None) -> None:
        """Refuse what cannot be a document we take, before downloading anything."""
        Renderer(self.app.settings, self.app.runner).check_announced(file_name, size)

    async def create_upload(self, contractor_id: int, file_name: str, size: int,
                            download: Callable[[Path], Awaitable[Any]]) -> Upload:
        """Store a received file under the data dir with its expiry; returns the row."""
        upload_id = uuid.uuid4().hex[:12]
        folder = self.app.paths.uploads / upload_id
        folder.mkdir(parents=True)
        target = folder / safe_name(file_name)
        try:
            await download(target)
            data_size = target.stat().st_size
            sniffed = await asyncio.to_thread(
                Renderer(self.app.settings, self.app.runner).check_file, target)
            kind = sniffed.label
            digest = await asyncio.to_thread(_sha256, target)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        expires = _now() + timedelta(hours=self.app.config["render.upload_ttl_hours"])
        await self.app.db.execute(
            "INSERT INTO core_uploads (id, contractor_id, file_name, kind, size, sha256, path, "
            "status, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'received', ?)",
            (upload_id, contractor_id, file_name, kind, data_size, digest, str(target),
             _iso(expires)))
        upload = await self.upload(upload_id)
        assert upload is not None
        return upload

    async def upload(self, upload_id: str) -> Upload | None:
        """The upload ``upload_id``, or None (never existed, or expired and swept)."""
        row = await self.app.db.fetchone(
            f"SELECT {_UPLOAD_COLUMNS} FROM core_uploads WHERE id = ?", (upload_id,))
        return Upload(**dict(row)) if row else None

    async def set_upload(self, upload_id: str, **fields: Any) -> None:
        """Update columns of an upload."""
        assignments = ", ".join(f"{key} = ?" for key in fields)
        await self.app.db.execute(f"UPDATE core_uploads SET {assignments} WHERE id = ?",
                                  (*fields.values(), upload_id))

    async def make_previews(self, upload: Upload, on_previews: Callable[[list[dict]],
                                                                         Awaitable[None]],
                            progress: Progress) -> Upload:
        """Convert (Office), validate, and render thumbnails of every page, handing them out
        in order, a chunk at a time, as soon as they are ready."""
        renderer = Renderer(self.app.settings, self.app.runner)
        await self.set_upload(upload.id, status="previewing", error=None)
        work = upload.folder / "work"
        work.mkdir(exist_ok=True)
        prepared = await renderer.prepare(Path(upload.path), work, owner=upload.contractor_id,
                                          sniffed=Sniffed.from_label(upload.kind))
        total = prepared.pages
        if total > renderer.settings.max_pages:
            raise errors.TooManyPages(pages=total, limit=renderer.settings.max_pages)
        await self.set_upload(upload.id, pages=total, pdf_path=str(prepared.pdf))
        done_pages = 0

        async def on_ready(batch: list[dict]) -> None:
            nonlocal done_pages
            done_pages += len(batch)
            await progress(done_pages, total)
            await on_previews(batch)

        await renderer.previews(prepared.pdf, list(range(1, total + 1)),
                                upload.folder / "previews", on_ready,
                                owner=upload.contractor_id)
        await self.set_upload(upload.id, status="ready")
        refreshed = await self.upload(upload.id)
        assert refreshed is not None
        return refreshed

    async def discard(self, upload_id: str) -> None:
        """Forget an upload that cannot be used (its file and row)."""
        upload = await self.upload(upload_id)
        if upload is not None:
            shutil.rmtree(upload.folder, ignore_errors=True)
            await self.app.db.execute("DELETE FROM core_uploads WHERE id = ?", (upload_id,))

    async def sweep(self) -> int:
        """Remove expired uploads and their renders; returns how many."""
        rows = await self.app.db.fetchall(
            "SELECT id, path FROM core_uploads WHERE expires_at < ? AND id NOT IN ("
            "SELECT upload_id FROM core_publications WHERE upload_id IS NOT NULL AND status IN "
            "('rendering', 'publishing'))", (_iso(_now()),))
        for row in rows:
            shutil.rmtree(Path(row["path"]).parent, ignore_errors=True)
            await self.app.db.execute("DELETE FROM core_uploads WHERE id = ?", (row["id"],))
        return len(rows)

    # -- publications ---------------------------------------------------------------------

    async def create_publication(self, upload: Upload, channel_row_id: int, pages: list[int],
                                 watermark: str, lang: str) -> Publication:
        """Record a publication (tracking code and every page's random_id chosen now) and
        count it against the plan, in one transaction."""
        random_ids = [new_random_id() for _ in pages]
        for _ in range(10):
            code = new_tracking_code()
            try:
                async with self.app.db.transaction() as tx:
                    cursor = await tx.execute(
                        "INSERT INTO core_publications (channel_id, upload_id, file_name, pages, "
                        "watermark, tracking_code, random_ids, status, contractor_id, lang) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'rendering', ?, ?)",
                        (channel_row_id, upload.id, upload.file_name, json.dumps(pages),
                         watermark, code, json.dumps(random_ids), upload.contractor_id, lang))
                    publication_id = cursor.lastrowid
                    await self.app.billing.count_publication(tx, upload.contractor_id)
                break
            except sqlite3.IntegrityError as exc:  # a tracking code collision: draw again
                if "tracking_code" not in str(exc):
                    raise
        else:
            raise errors.ServiceError("no free tracking code")
        publication = await self.publication(publication_id)
        assert publication is not None
        return publication

    async def publication(self, publication_id: int) -> Publication | None:
        """The publication ``publication_id``."""
        row = await self.app.db.fetchone(
            f"SELECT {_PUBLICATION_COLUMNS} FROM core_publications WHERE id = ?",
            (publication_id,))
        return _publication(row) if row else None

    async def set_publication(self, publication_id: int, **fields: Any) -> None:
        """Update columns of a publication."""
        for key in ("message_ids", "pages", "random_ids"):
            if key in fields:
                fields[key] = json.dumps(fields[key])
        assignments = ", ".join(f"{key} = ?" for key in fields)
        await self.app.db.execute(f"UPDATE core_publications SET {assignments} WHERE id = ?",
                                  (*fields.values(), publication_id))

    async def unfinished(self) -> tuple[list[Upload], list[Publication]]:
        """Work a crash interrupted: previews under way, publications not yet done."""
        uploads = [Upload(**dict(row)) for row in await self.app.db.fetchall(
            f"SELECT {_UPLOAD_COLUMNS} FROM core_uploads WHERE status IN ('received', "
            "'previewing')")]
        publications = [_publication(row) for row in await self.app.db.fetchall(
            f"SELECT {_PUBLICATION_COLUMNS} FROM core_publications WHERE status IN "
            "('rendering', 'publishing') ORDER BY id")]
        return uploads, publications

    async def render_pages(self, publication: Publication, progress: Progress) -> list[Path]:
        """The publication's watermarked 300-DPI pages (rendered now unless already there)."""
        upload = await self.upload(publication.upload_id) if publication.upload_id else None
        if upload is None or not upload.pdf_path:
            raise errors.ServiceError("the upload of this publication is gone")
        out = upload.folder / f"publication-{publication.id}"
        out.mkdir(exist_ok=True)
        text = f"{publication.watermark} · #{publication.tracking_code}".strip(" ·")
        targets = [out / f"page-{number:03d}.png" for number in publication.pages]
        missing = [(number, target) for number, target in zip(publication.pages, targets)
                   if not target.exists()]
        done = len(targets) - len(missing)

        async def on_done(_page: dict) -> None:
            nonlocal done
            done += 1
            await progress(done, len(targets))

        await progress(done, len(targets))
        await Renderer(self.app.settings, self.app.runner).pages(
            Path(upload.pdf_path), [number for number, _ in missing],
            [target for _, target in missing], text, on_done, owner=publication.contractor_id)
        return targets

    async def send_pages(self, publication: Publication, chat_id: int, files: list[Path],
                         caption: str) -> list[int]:
        """Post the pages as protected documents, albums of ten, resuming after the albums
        already recorded as sent; returns all message ids known."""
        bot: Client = self.app.bot
        peer = await bot.resolve_peer(chat_id)
        message_ids = list(publication.message_ids)
        albums = [list(range(at, min(at + ALBUM, len(files)))) for at in range(0, len(files),
                                                                               ALBUM)]
        for number, album in enumerate(albums):
            if number < publication.sent_albums:
                continue
            while True:
                try:
                    sent = await self._send_album(bot, peer, [files[i] for i in album],
                                                  [publication.random_ids[i] for i in album],
                                                  caption if number == 0 else "")
                    break
                except tg.FloodWait as exc:
                    log.info("flood wait %s s while publishing %s", exc.value, publication.id)
                    await asyncio.sleep(float(exc.value))
                except tg.RandomIdDuplicate:
                    sent = []  # sent before a crash: Telegram remembers, we do not repost
                    break
            message_ids.extend(sent)
            await self.set_publication(publication.id, sent_albums=number + 1,
                                       message_ids=message_ids)
        return message_ids

    async def _send_album(self, bot: Client, peer: Any, files: list[Path],
                          random_ids: list[int], caption: str) -> list[int]:
        medias = []
        for path in files:
            # Our own handle, closed whatever happens: pyrogram leaves a path it opened itself
            # unclosed when the upload is cancelled (a stop in the middle of publishing).
            with path.open("rb") as handle:
                uploaded_file = await bot.save_file(handle)
            uploaded = await bot.invoke(raw.functions.messages.UploadMedia(
                peer=peer, media=raw.types.InputMediaUploadedDocument(
                    file=uploaded_file, mime_type="image/png", force_file=True,
                    attributes=[raw.types.DocumentAttributeFilename(file_name=path.name)])))
            document = uploaded.document
            medias.append(raw.types.InputMediaDocument(id=raw.types.InputDocument(
                id=document.id, access_hash=document.access_hash,
                file_reference=document.file_reference)))
        if len(medias) == 1:
            result = await bot.invoke(raw.functions.messages.SendMedia(
                peer=peer, media=medias[0], message=caption, random_id=random_ids[0],
                noforwards=True))
        else:
            result = await bot.invoke(raw.functions.messages.SendMultiMedia(
                peer=peer, noforwards=True, multi_media=[
                    raw.types.InputSingleMedia(media=media, random_id=random_id,
                                               message=caption if index == 0 else "")
                    for index, (media, random_id) in enumerate(zip(medias, random_ids))]))
        by_random = {update.random_id: update.id for update in getattr(result, "updates", [])
                     if isinstance(update, raw.types.UpdateMessageID)}
        return [by_random[rid] for rid in random_ids if rid in by_random]


def post_link(chat_id: int, message_id: int | None) -> str:
    """The t.me link of a post in a private channel (members can open it)."""
    raw_id = utils.get_raw_peer_id(chat_id) if chat_id < 0 else chat_id
    return f"https://t.me/c/{raw_id}/{message_id}" if message_id else f"https://t.me/c/{raw_id}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
