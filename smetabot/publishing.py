"""Uploads and publications: from a contractor's file to protected pages in a client channel.

This module owns the workflow and every status change of an upload and a publication (the
statuses are in ``statuses.py``, the rows in ``publication_records.py``). The bot asks it to act
and hears what happens through a :class:`Notifier` it implements.

Every step's state is in the database, so a restart resumes the work (:meth:`resume`).
Rendering runs on the Huey queue (process workers) and is awaited without blocking the event
loop. Publishing is idempotent: the ``random_id`` of every page is chosen and stored before the
first send and reused on a retry, so Telegram's RANDOM_ID_DUPLICATE means "already sent" and a
crash between sending and recording never posts a page twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import io
import json
import logging
import re
import secrets
import shutil
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from PIL import Image
from pyrogram import Client, raw, utils
from pyrogram import errors as tg

from smetabot import errors, refusals, texts
from smetabot.analytics import Analytics
from smetabot.billing import Billing
from smetabot.channel_records import ClientChannel
from smetabot.channel_records import Records as ChannelRecords
from smetabot.channels import telegram_error
from smetabot.publication_records import (
    _PUBLICATION_COLUMNS,
    Publication,
    PublicationRecords,
    Stored,
    Upload,
    _publication,
    document_title,
)
from smetabot.render.contact import SHEET_PAGES
from smetabot.render.detect import Sniffed
from smetabot.render.jobs import JobRunner
from smetabot.render.pipeline import RenderSettings
from smetabot.render.renderer import Renderer
from smetabot.statuses import PublicationStatus, UploadStatus
from smetabot.userclients import UserClients

log = logging.getLogger(__name__)

ALBUM = 10  # Telegram's limit of items per album
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


T = TypeVar("T")
Progress = Callable[[int, int], Awaitable[None]]
Spawn = Callable[[Coroutine[Any, Any, None], str], Any]


class Notifier(Protocol):
    """What publishing reports as it goes; the bot tells the contractor."""

    async def preview_started(self, upload: Upload, resumed: bool) -> None: ...
    async def preview_progress(self, upload: Upload, done: int, total: int) -> None: ...
    async def previews(self, upload: Upload, sheets: list[dict]) -> None: ...
    async def previews_ready(self, upload: Upload) -> None: ...
    async def preview_failed(self, upload: Upload, error: BaseException) -> None: ...
    async def publication_started(self, publication: Publication, resumed: bool) -> None: ...
    async def publication_progress(self, publication: Publication, done: int,
                                   total: int) -> None: ...
    async def publication_sending(self, publication: Publication,
                                  channel: ClientChannel) -> None: ...
    async def publication_waiting(self, publication: Publication, seconds: int) -> None: ...
    async def publication_done(self, publication: Publication, channel: ClientChannel,
                               link: str, pages: int) -> None: ...
    async def publication_blocked(self, publication: Publication,
                                  channel: ClientChannel) -> None: ...
    async def publication_failed(self, publication: Publication,
                                 error: BaseException) -> None: ...


class Publishing:
    """Uploads, their previews, and publications: the workflow and its state."""

    def __init__(self, records: PublicationRecords, channels: ChannelRecords, billing: Billing,
                 bot: Client, runner: Callable[[], JobRunner], settings: RenderSettings,
                 uploads_dir: Path, upload_ttl_hours: float, notifier: Notifier,
                 spawn: Spawn, analytics: Analytics | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 user_clients: UserClients | None = None) -> None:
        #: the contractors' accounts, which post in a channel whose bot is not an admin yet
        self.user_clients = user_clients
        #: waits out Telegram's flood waits (on the emulator's clock in the sandbox)
        self.sleep = sleep
        self.analytics = analytics or Analytics(None)
        self.records = records
        self.channels = channels
        self.billing = billing
        self.bot = bot
        self._runner = runner
        self.settings = settings
        self.uploads_dir = uploads_dir
        self.upload_ttl_hours = upload_ttl_hours
        self.notifier = notifier
        self.spawn = spawn
        #: upload each page as soon as it is rendered, its parts in parallel (False: the
        #: old way, every file after the other once all pages are rendered; kept for the
        #: benchmark's comparison)
        self.parallel_uploads = True
        self._parts_in_flight = asyncio.Semaphore(PARTS_IN_FLIGHT)  # the office's one uplink
        self._previewing: set[str] = set()  # uploads whose preview job runs in this process
        #: what a killed run left, noted at start (``take_unfinished``) and resumed after
        self._unfinished: tuple[list, list, list, list] | None = None

    @property
    def runner(self) -> JobRunner:
        return self._runner()

    @property
    def renderer(self) -> Renderer:
        """The render API on the app's queue (its per-contractor fairness lives there)."""
        return Renderer(self.settings, self.runner)

    async def _tell(self, event: str, *args: Any) -> None:
        """Report to the notifier; a failure to tell never stops the work (its state is in
        the database, and the channel has the pages)."""
        try:
            await getattr(self.notifier, event)(*args)
        except Exception:
            log.exception("could not report %s", event)

    # -- uploads --------------------------------------------------------------------------

    def check_file(self, file_name: str | None, size: int | None) -> None:
        """Refuse what cannot be a document we take, before downloading anything."""
        self.renderer.check_announced(file_name, size)

    async def receive(self, contractor_id: int, file_name: str, size: int,
                      download: Callable[[Path], Awaitable[Any]], lang: str,
                      status_message_id: int | None = None,
                      receipt: int | None = None,
                      also: Callable[[Any, str], Awaitable[None]] | None = None) -> Upload:
        """Store a received file and start making its previews (in the background). Its
        ``receipt`` (made now unless given) goes in the transaction that records the upload,
        with its status message and whatever ``also(tx, upload_id)`` changes."""
        if receipt is None:
            receipt = await self.records.add_receipt(contractor_id, file_name,
                                                     status_message_id, lang)
        try:
            upload = await self.create_upload(contractor_id, file_name, size, download,
                                              Stored(receipt, status_message_id, also))
        finally:
            await self.records.drop_receipt(receipt)  # gone already, unless it failed
        await self.analytics.record("upload_received", contractor_id, kind=upload.kind,
                                    size=upload.size)
        self._start_previews(upload.id, lang)
        return upload

    async def create_upload(self, contractor_id: int, file_name: str, size: int,
                            download: Callable[[Path], Awaitable[Any]],
                            stored: Stored | None = None) -> Upload:
        """Store a received file under the data dir with its expiry; returns the row."""
        upload_id = uuid.uuid4().hex[:12]
        folder = self.uploads_dir / upload_id
        folder.mkdir(parents=True)
        target = folder / safe_name(file_name)
        try:
            await download(target)
            data_size = target.stat().st_size
            kind = (await asyncio.to_thread(self.renderer.check_file, target)).label
            digest = await asyncio.to_thread(_sha256, target)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        expires = _now() + timedelta(hours=self.upload_ttl_hours)
        return await self.records.insert_upload(upload_id, contractor_id, file_name, kind,
                                                data_size, digest, str(target), _iso(expires),
                                                stored)

    async def upload(self, upload_id: str) -> Upload | None:
        """The upload ``upload_id``, or None (never existed, or expired and swept)."""
        return await self.records.upload(upload_id)

    def _start_previews(self, upload_id: str, lang: str, resumed: bool = False) -> None:
        """Start the preview job of an upload, unless this process runs it already: a
        document received just as the app starts is both new and unfinished, and two jobs
        would send its sheets twice."""
        if upload_id in self._previewing:
            return
        self._previewing.add(upload_id)
        self.spawn(self._preview_job(upload_id, lang, resumed), f"preview {upload_id}")

    async def _preview_job(self, upload_id: str, lang: str, resumed: bool = False) -> None:
        """Contact sheets of every page, handed to the notifier a sheet at a time."""
        try:
            await self._previews_of(upload_id, lang, resumed)
        finally:
            self._previewing.discard(upload_id)

    async def _previews_of(self, upload_id: str, lang: str, resumed: bool) -> None:
        upload = await self.records.upload(upload_id)
        if upload is None:
            return
        await self._tell("preview_started", upload, resumed)

        async def on_sheets(sheets: list[dict]) -> None:
            await self._tell("previews", upload, sheets)

        async def progress(done: int, total: int) -> None:
            await self._tell("preview_progress", upload, done, total)

        try:
            upload = await self.make_previews(upload, on_sheets, progress)
        except Exception as exc:  # noqa: BLE001  (any failure is reported to the contractor)
            _unless_stopping(exc)
            if isinstance(exc, errors.DocumentError):
                await self.discard(upload_id)  # the file is the problem: keep nothing
            else:
                await self.records.set_upload(upload_id, status=UploadStatus.FAILED,
                                              error=type(exc).__name__)
            await self._tell("preview_failed", upload, exc)
            return
        await self.analytics.record("previews_made", upload.contractor_id, pages=upload.pages)
        await self._tell("previews_ready", upload)
        # Shown: a crash before this shows it at the next start (resume).
        await self.records.set_upload(upload_id, shown_at=_iso(_now()))

    async def make_previews(self, upload: Upload, on_sheets: Callable[[list[dict]],
                                                                       Awaitable[None]],
                            progress: Progress, *, sheets: bool = True) -> Upload:
        """Convert (Office), validate, and (with ``sheets``) make the contact sheets of every
        page, handing them out in order as soon as each is ready. Sheets the contractor was
        already sent (``previews_sent``, before a restart) are not made again."""
        renderer = self.renderer
        await self.records.set_upload(upload.id, status=UploadStatus.PREVIEWING, error=None)
        work = upload.folder / "work"
        work.mkdir(exist_ok=True)
        prepared = await renderer.prepare(Path(upload.path), work, owner=upload.contractor_id,
                                          sniffed=Sniffed.from_label(upload.kind))
        total = prepared.pages
        if total > renderer.settings.max_pages:
            raise errors.TooManyPages(pages=total, limit=renderer.settings.max_pages)
        sheet_list = json.dumps(list(prepared.sheets or []), ensure_ascii=False)
        await self.records.set_upload(upload.id, pages=total, pdf_path=str(prepared.pdf),
                                      sheets=sheet_list)
        upload.pages, upload.pdf_path = total, str(prepared.pdf)  # as the notifier reads it
        done_sheets = upload.previews_sent // SHEET_PAGES
        if sheets and upload.previews_sent < total:

            async def on_sheet(sheet: dict) -> None:
                await progress(sheet["pages"][-1], total)
                await on_sheets([sheet])

            await renderer.contact_sheets(
                prepared.pdf, list(range(done_sheets * SHEET_PAGES + 1, total + 1)),
                upload.folder / "previews", on_sheet, owner=upload.contractor_id,
                first_sheet=done_sheets + 1)
        await self.records.set_upload(upload.id, status=UploadStatus.READY)
        refreshed = await self.records.upload(upload.id)
        assert refreshed is not None
        return refreshed

    async def page_view(self, contractor_id: int, upload_id: str, number: int) -> dict | None:
        """Page ``number`` of the contractor's upload, larger (rendered once, then kept with
        the upload): ``{"path", "photo", ...}``; None when the upload is gone, not theirs, or
        not yet read."""
        upload = await self.records.upload(upload_id)
        if upload is None or upload.contractor_id != contractor_id or not upload.pdf_path or \
                not 1 <= number <= (upload.pages or 0):
            return None
        folder = upload.folder / "views"
        for suffix, photo in ((".jpg", True), (".png", False)):
            kept = folder / f"view-{number:03d}{suffix}"
            if kept.exists():
                return {"page": number, "path": str(kept), "photo": photo}
        return await self.renderer.page_view(Path(upload.pdf_path), number, folder,
                                             owner=contractor_id)

    async def discard(self, upload_id: str) -> None:
        """Forget an upload that cannot be used (its file and row)."""
        upload = await self.records.upload(upload_id)
        if upload is not None:
            shutil.rmtree(upload.folder, ignore_errors=True)
            await self.records.delete_upload(upload_id)

    async def sweep(self) -> int:
        """Remove expired uploads and their renders; returns how many."""
        expired = await self.records.expired_uploads(_iso(_now()))
        for upload in expired:
            shutil.rmtree(upload.folder, ignore_errors=True)
            await self.records.delete_upload(upload.id)
        return len(expired)

    # -- publications ---------------------------------------------------------------------

    async def ready_channels(self, contractor_id: int) -> list[ClientChannel]:
        """The contractor's channels the bot can post in, newest first."""
        return await self.channels.ready(contractor_id)

    async def channel_for(self, contractor_id: int, channel_row_id: int) -> ClientChannel | None:
        """The contractor's channel ``channel_row_id`` if pages can be published there now."""
        channel = await self.channels.get(channel_row_id)
        if channel is None or channel.contractor_id != contractor_id or \
                not channel.publishable:
            return None
        return channel

    async def publish(self, upload: Upload, channel: ClientChannel, pages: list[int],
                      watermark: str, lang: str, status_message_id: int | None = None,
                      title: str = "") -> Publication:
        """Record a publication (tracking code and every page's random_id chosen now), count it
        against the plan in the same transaction, and start rendering and sending it."""
        publication = await self.records.insert_publication(
            upload, channel.id, pages, watermark, title or document_title(upload.file_name), lang,
            [new_random_id() for _ in pages],
            new_tracking_code, lambda tx: self.billing.count_publication(tx,
                                                                         upload.contractor_id))
        if status_message_id is not None:
            await self.records.set_publication(publication.id,
                                               status_message_id=status_message_id)
            publication.status_message_id = status_message_id
        self.spawn(self._publish_job(publication.id), f"publication {publication.id}")
        return publication

    async def publication(self, publication_id: int) -> Publication | None:
        """The publication ``publication_id``."""
        return await self.records.publication(publication_id)

    async def retry(self, contractor_id: int, publication_id: int) -> bool:
        """Try a blocked or failed publication again (the contractor's retry button): pages
        already posted are not posted again; False if there is nothing to retry."""
        publication = await self.records.publication(publication_id)
        if publication is None or publication.contractor_id != contractor_id or \
                publication.status not in (PublicationStatus.BLOCKED, PublicationStatus.FAILED):
            return False
        await self.records.set_publication(publication_id, status=PublicationStatus.PUBLISHING)
        self.spawn(self._publish_job(publication_id), f"publication {publication_id}")
        return True

    async def take_unfinished(self) -> None:
        """At start, before the bot handles any update: clear what a crash left half-received
        and note the work it left unfinished, for :meth:`resume`. (Done later, it would count
        a document the first updates are receiving as the killed run's: its folder removed
        mid-download, or its previews made twice.)"""
        known = await self.records.all_upload_ids()
        if self.uploads_dir.is_dir():
            for folder in self.uploads_dir.iterdir():
                if folder.name not in known:  # downloaded, never recorded: nobody needs it
                    shutil.rmtree(folder, ignore_errors=True)
        self._unfinished = (await self.records.receipts(),
                            await self.records.unfinished_uploads(),
                            await self.records.unfinished_publications(),
                            await self.records.unannounced_publications())

    async def resume(self, language_of: Callable[[int], Awaitable[str]]) -> None:
        """After a restart: tell what a crash left half-received, then finish what was under
        way (previews and publications), as :meth:`take_unfinished` found them."""
        if self._unfinished is None:
            await self.take_unfinished()
        assert self._unfinished is not None
        receipts, uploads, publications, unannounced = self._unfinished
        self._unfinished = None
        for receipt in receipts:  # dropped once told: a kill before tells it next time
            await self._tell("receipt_interrupted", receipt)
            await self.records.drop_receipt(receipt["id"])
        for upload in uploads:
            lang = await language_of(upload.contractor_id)
            self._start_previews(upload.id, lang, resumed=True)
        for publication in publications:
            self.spawn(self._publish_job(publication.id, resumed=True),
                       f"publication {publication.id}")
        for publication in unannounced:
            channel = await self.channels.get(publication.channel_id)
            assert channel is not None  # channel rows are archived, never deleted
            self.spawn(self._announce(publication, channel, publication.message_ids,
                                      len(publication.message_ids)),
                       f"announce {publication.id}")

    async def _publish_job(self, publication_id: int, resumed: bool = False) -> None:
        """Render the pages, post them, record it; report every turn to the notifier."""
        publication = await self.records.publication(publication_id)
        if publication is None or publication.status not in (PublicationStatus.RENDERING,
                                                               PublicationStatus.PUBLISHING):
            return
        channel = await self.channels.get(publication.channel_id)
        assert channel is not None  # channel rows are archived, never deleted
        await self._tell("publication_started", publication, resumed)

        async def progress(done: int, total: int) -> None:
            await self._tell("publication_progress", publication, done, total)

        uploads = None
        try:
            async with self.admin_of(channel) as sender:
                uploads = PageUploads(self, publication, sender) if self.parallel_uploads \
                    else None
                files = await self.render_pages(publication, progress,
                                                uploads.start if uploads else None)
                await self.analytics.record("publication_rendered", publication.contractor_id,
                                            channel_id=channel.id,
                                            publication_id=publication_id, pages=len(files))
                await self.records.set_publication(publication_id,
                                                   status=PublicationStatus.PUBLISHING)
                await self._tell("publication_sending", publication, channel)
                ids = await self.send_pages(publication, channel.telegram_id, files, uploads,
                                            sender)
        except (tg.ChatAdminRequired, tg.ChannelPrivate, tg.ChatWriteForbidden) as exc:
            log.info("publication %s blocked: %s", publication_id, exc)
            await self.records.set_publication(publication_id, status=PublicationStatus.BLOCKED,
                                               error=type(exc).__name__)
            await self.analytics.record("publication_failed", publication.contractor_id,
                                        channel_id=channel.id, publication_id=publication_id,
                                        error=type(exc).__name__)
            await self._tell("publication_blocked", publication, channel)
            return
        except Exception as exc:  # noqa: BLE001  (any failure is reported to the contractor)
            _unless_stopping(exc)
            await self.records.set_publication(publication_id, status=PublicationStatus.FAILED,
                                               error=type(exc).__name__)
            await self.analytics.record("publication_failed", publication.contractor_id,
                                        channel_id=channel.id, publication_id=publication_id,
                                        error=type(exc).__name__)
            await self._tell("publication_failed", publication, exc)
            return
        finally:
            if uploads is not None:
                await uploads.close()
        await self.records.set_publication(publication_id, status=PublicationStatus.PUBLISHED)
        await self.analytics.record("publication_sent", publication.contractor_id,
                                    channel_id=channel.id, publication_id=publication_id,
                                    pages=len(ids))
        await self._announce(publication, channel, ids, len(files))

    async def _announce(self, publication: Publication, channel: ClientChannel,
                        ids: list[int], pages: int) -> None:
        """Tell the contractor the publication is out, and record that it was told (a stop
        before this leaves it for the next start, which tells it then)."""
        link = post_link(channel.telegram_id, ids[0] if ids else None)
        await self._tell("publication_done", publication, channel, link, pages)
        await self.records.set_publication(publication.id, announced_at=_iso(_now()))

    async def render_pages(self, publication: Publication, progress: Progress,
                           on_page: Callable[[int, Path], None] | None = None) -> list[Path]:
        """The publication's watermarked pages (rendered now unless already there);
        ``on_page(index, path)`` hears of each page as soon as it is on disk (those already
        there first), in the order they finish."""
        upload = await self.records.upload(publication.upload_id) if publication.upload_id \
            else None
        if upload is None or not upload.pdf_path:
            raise errors.ServiceError("the upload of this publication is gone")
        out = upload.folder / f"publication-{publication.id}"
        out.mkdir(exist_ok=True)
        text = f"{publication.watermark} · #{publication.tracking_code}".strip(" ·")
        targets = [out / f"page-{number:03d}.png" for number in publication.pages]
        missing = [(number, target) for number, target in zip(publication.pages, targets)
                   if not target.exists()]
        done = len(targets) - len(missing)

        where = {target: index for index, target in enumerate(targets)}

        async def on_done(page: dict) -> None:
            nonlocal done
            done += 1
            if on_page is not None:
                on_page(where[Path(page["path"])], Path(page["path"]))
            await progress(done, len(targets))

        if on_page is not None:
            for index, target in enumerate(targets):
                if target.exists():
                    on_page(index, target)
        await progress(done, len(targets))
        await self.renderer.pages(
            Path(upload.pdf_path), [number for number, _ in missing],
            [target for _, target in missing], text, on_done, owner=publication.contractor_id)
        return targets

    def admin_of(self, channel: ClientChannel) -> contextlib.AbstractAsyncContextManager[Client]:
        """The client that posts in ``channel``: its bot, or the contractor's own account
        while the bot may not be made an admin yet."""
        if self.user_clients is None:  # (it answers with the bot itself once it is admin)
            return contextlib.nullcontext(self.bot)
        return self.user_clients.admin_of(channel, self.bot)

    async def send_pages(self, publication: Publication, chat_id: int, files: list[Path],
                         uploads: PageUploads | None = None,
                         sender: Client | None = None) -> list[int]:
        """Post the pages as protected documents, albums of ten, in page order, resuming
        after the albums already recorded as sent; returns all message ids known. With
        ``uploads`` the pages are those it uploaded (each album posted once its ten are up);
        without, each album's files are uploaded one after another, then posted. ``sender``
        posts them (the bot if not given)."""
        bot = sender or self.bot
        peer = await bot.resolve_peer(chat_id)
        message_ids = list(publication.message_ids)
        albums = [list(range(at, min(at + ALBUM, len(files)))) for at in range(0, len(files),
                                                                               ALBUM)]
        for number, album in enumerate(albums):
            if number < publication.sent_albums:
                continue
            random_ids = [publication.random_ids[i] for i in album]
            caption = album_caption(publication, album[0], album[-1])
            for again in (False, True):
                if uploads is not None:
                    if again:
                        await uploads.forget(album)
                    for index in range(album[0], len(files)):  # each once, whoever started it
                        uploads.start(index, files[index])
                    uploads.make_documents(list(range(album[0], len(files))), peer)
                    medias = await all_of([uploads.media(index, peer) for index in album])
                    post = functools.partial(post_album, bot, peer, medias, random_ids, caption)
                else:  # uploads the album's pages anew at every call
                    post = functools.partial(
                        send_album, bot, peer, [files[i] for i in album], random_ids, caption,
                        [page_file_name(publication, i) for i in album])
                try:
                    sent = await self.patiently(publication, post)
                except tg.RandomIdDuplicate:
                    sent = []  # sent before a crash: Telegram remembers, we do not repost
                except tg.RPCError as exc:
                    # Telegram no longer knows the uploaded pages (nothing was posted): they
                    # go up once more; refused again, the contractor's retry button is next.
                    if again or refusals.kind_of(exc) != FILE_REFERENCE:
                        raise
                    log.info("publication %s: %s, uploading album %s again", publication.id,
                             refusals.error_id(exc), number + 1)
                    continue
                break
            message_ids.extend(sent)
            await self.records.set_publication(publication.id, sent_albums=number + 1,
                                               message_ids=message_ids)
        return message_ids

    async def patiently(self, publication: Publication, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, again after a flood wait (told to the notifier) and a few times while
        Telegram is having trouble; anything else (RANDOM_ID_DUPLICATE among them) raises."""
        attempt = 0
        while True:
            try:
                return await call()
            except tg.FloodWait as exc:
                log.info("flood wait %s s while publishing %s", exc.value, publication.id)
                await self._tell("publication_waiting", publication, int(exc.value or 1))
                await self.sleep(float(exc.value or 1))
            except (tg.InternalServerError, tg.ServiceUnavailable, OSError,
                    TimeoutError) as exc:
                if isinstance(exc, tg.RandomIdDuplicate):
                    raise
                attempt += 1
                if attempt >= TROUBLE_RETRIES:
                    raise TimeoutError(f"Telegram kept failing: {exc!r}") from exc
                log.info("publication %s: Telegram trouble (%r), retrying", publication.id, exc)
                await self.sleep(TROUBLE_DELAY * 2 ** (attempt - 1))

    # -- the channel card: the list, withdrawing, replacing with a new version -------------

    async def of_channel(self, channel_id: int, offset: int,
                         limit: int) -> tuple[list[Publication], int]:
        """The channel's publications a client saw or sees (published, withdrawn, replaced),
        newest first, and how many in all."""
        shown = (PublicationStatus.PUBLISHED, PublicationStatus.WITHDRAWN,
                 PublicationStatus.REPLACED)
        where = "channel_id = ? AND status IN (?, ?, ?)"
        total = await self.records.db.fetchone(
            f"SELECT COUNT(*) AS n FROM core_publications WHERE {where}", (channel_id, *shown))
        rows = await self.records.db.fetchall(
            f"SELECT {_PUBLICATION_COLUMNS} FROM core_publications WHERE {where} "
            "ORDER BY id DESC LIMIT ? OFFSET ?", (channel_id, *shown, limit, offset))
        return [_publication(row) for row in rows], total["n"]

    async def live_publication(self, contractor_id: int,
                               publication_id: int) -> Publication | None:
        """The contractor's publication if its posts are in the channel now."""
        publication = await self.records.publication(publication_id)
        if publication is None or publication.contractor_id != contractor_id or \
                publication.status != PublicationStatus.PUBLISHED:
            return None
        return publication

    async def _delete_posts(self, publication: Publication) -> None:
        channel = await self.channels.get(publication.channel_id)
        assert channel is not None
        if publication.message_ids:
            async with self.admin_of(channel) as admin:
                await admin.delete_messages(channel.telegram_id, publication.message_ids)

    async def withdraw(self, contractor_id: int, publication_id: int) -> Publication | None:
        """Delete the publication's posts from the channel and keep its record (withdrawn);
        None when it is not published any more. Raises a SmetaBotError in words when
        Telegram refuses (the publication then stays as it was)."""
        publication = await self.live_publication(contractor_id, publication_id)
        if publication is None:
            return None
        try:
            await self._delete_posts(publication)
        except (tg.MessageIdInvalid, tg.MsgIdInvalid):
            pass  # deleted already (in the Telegram app): withdrawn all the same
        except (tg.RPCError, TimeoutError) as exc:
            raise telegram_error(exc) from exc
        await self.records.set_publication(publication_id, status=PublicationStatus.WITHDRAWN,
                                           finished_at=_iso(_now()))
        return await self.records.publication(publication_id)

    async def replace(self, old: Publication, file_name: str, size: int,
                      download: Callable[[Path], Awaitable[Any]], lang: str,
                      tell: Callable[[str, dict], Awaitable[None]]) -> Upload:
        """Receive the new version of ``old``; in the background its every page is published
        into the same channel under the same title and watermark, then the old posts are
        deleted (or, if Telegram refuses, marked as replaced). ``tell(event, details)``
        reports what the notifier does not: "failed", "limit", "kept", "replaced"."""
        upload = await self.create_upload(old.contractor_id, file_name, size, download)
        self.spawn(self._replace_job(old.id, upload.id, lang, tell), f"replace {old.id}")
        return upload

    async def _replace_job(self, old_id: int, upload_id: str, lang: str,
                           tell: Callable[[str, dict], Awaitable[None]]) -> None:
        old = await self.records.publication(old_id)
        upload = await self.records.upload(upload_id)
        if old is None or upload is None:
            return

        async def nothing(*_: Any) -> None:
            return None

        try:
            upload = await self.make_previews(upload, nothing, nothing, sheets=False)
        except Exception as exc:  # noqa: BLE001  (told to the contractor)
            await self.discard(upload_id)
            await tell("failed", {"old": old, "error": exc})
            return
        # A new version has no previews to show: never resumed as if it had.
        await self.records.set_upload(upload_id, shown_at=_iso(_now()))
        channel = await self.channel_for(old.contractor_id, old.channel_id)
        decision = await self.billing.can_publish(old.contractor_id)
        if channel is None or not decision.allowed or \
                await self.live_publication(old.contractor_id, old_id) is None:
            await tell("limit" if decision.allowed is False else "kept",
                       {"old": old, "decision": decision})
            return
        pages = list(range(1, (upload.pages or 0) + 1))
        new = await self.records.insert_publication(
            upload, channel.id, pages, old.watermark, old.name, lang,
            [new_random_id() for _ in pages], new_tracking_code,
            lambda tx: self.billing.count_publication(tx, old.contractor_id))
        await self.records.set_publication(old_id, replaced_by=new.id)
        await self._publish_job(new.id)
        outcome = await self.finish_replacement(old_id)
        if outcome is not None:
            await tell(outcome, {"old": old, "new": await self.records.publication(new.id)})

    async def finish_replacement(self, old_id: int) -> str | None:
        """After the new version of ``old_id`` is published: its old posts go. "replaced"
        (deleted), "marked" (Telegram refused the deletion; their captions now say so),
        "left" (neither worked), "kept" (the new version failed: the old one stays), or None
        (nothing to do yet)."""
        old = await self.records.publication(old_id)
        if old is None or old.replaced_by is None or old.status != PublicationStatus.PUBLISHED:
            return None
        new = await self.records.publication(old.replaced_by)
        if new is None or new.status in (PublicationStatus.FAILED, PublicationStatus.BLOCKED):
            await self.records.set_publication(old_id, replaced_by=None)
            return "kept"
        if new.status != PublicationStatus.PUBLISHED:
            return None  # still under way
        outcome = "replaced"
        try:
            await self._delete_posts(old)
        except tg.RPCError as exc:
            log.info("could not delete the posts of publication %s: %s", old_id, exc)
            outcome = "marked"
            channel = await self.channels.get(old.channel_id)
            assert channel is not None
            mark = texts.t("card.replaced_mark", old.lang, title=new.name,
                           code=new.tracking_code)
            async with self.admin_of(channel) as admin:
                for first in old.message_ids[::ALBUM]:  # the album captions
                    try:
                        await admin.edit_message_caption(channel.telegram_id, first, mark)
                    except tg.RPCError as again:
                        log.info("could not mark post %s as replaced: %s", first, again)
                        outcome = "left"
        await self.records.set_publication(old_id, status=PublicationStatus.REPLACED,
                                           finished_at=_iso(_now()))
        return outcome

    async def finish_replacements(self) -> int:
        """Finish the replacements a restart interrupted (the new version was published,
        the old posts still there); how many were finished."""
        rows = await self.records.db.fetchall(
            "SELECT id FROM core_publications WHERE replaced_by IS NOT NULL AND status = ?",
            (PublicationStatus.PUBLISHED,))
        done = 0
        for row in rows:
            if await self.finish_replacement(row["id"]) is not None:
                done += 1
        return done

def _unless_stopping(exc: BaseException) -> None:
    """A job the app is cancelling (it stops; the next start resumes the job) records no
    failure for what its clients raise while they shut down. Python 3.11's wait_for can
    swallow the cancellation itself, so the task's cancel count is what tells."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError() from exc


FILE_REFERENCE = "specific:file_reference_expired"  # refusals.py's kind: upload again
TROUBLE_RETRIES = 4  # sends of one album while Telegram answers 500s or nothing at all
TROUBLE_DELAY = 1.0  # seconds before the second try; doubled each time
PART_SIZE = 512 * 1024  # the largest file part Telegram takes (core.telegram.org/api/files)
BIG_FILE = 10 * 1024 * 1024  # larger files go up with saveBigFilePart
# File parts on their way at once, for all publications (they share the office's uplink).
# Telegram takes the parts of a file in any order and in parallel (core.telegram.org/api/files);
# a few in flight keep the uplink busy while each call waits for its answer. kurigram's own
# save_file sends a small file's parts one by one and one file at a time.
PARTS_IN_FLIGHT = 6


class PageUploads:
    """A publication's pages going up to Telegram while the rest still render: each page's
    file and thumbnail are uploaded (their parts in parallel, within the shared bound) as soon
    as the page is handed over. Nothing here posts anything, nor needs the channel: the
    documents are made and posted in page order by :meth:`Publishing.send_pages`, with the
    stored random_ids, once the pages are rendered (as before)."""

    def __init__(self, publishing: Publishing, publication: Publication,
                 client: Client | None = None) -> None:
        self.publishing = publishing
        self.publication = publication
        self.client = client or publishing.bot  # who will post them: files are its own
        self.tasks: dict[int, asyncio.Task] = {}
        self.documents: dict[int, asyncio.Task] = {}
        # pages of albums already posted (before a restart) are not uploaded again
        self.first = publication.sent_albums * ALBUM

    def start(self, index: int, path: Path) -> None:
        """Start uploading page ``index`` (once; pages of posted albums never)."""
        if index < self.first or index in self.tasks:
            return
        self.tasks[index] = asyncio.get_running_loop().create_task(
            self._upload(path), name=f"upload {self.publication.id}/{index}")

    def make_documents(self, indices: list[int], peer: Any) -> None:
        """Start making documents of pages ``indices`` (each as soon as it is uploaded), so
        a later album's are ready when its turn comes."""
        for index in indices:
            if index not in self.documents:
                self.documents[index] = asyncio.get_running_loop().create_task(
                    self._media(index, peer), name=f"document {self.publication.id}/{index}")

    async def media(self, index: int, peer: Any) -> Any:
        """Page ``index`` as an album item (its upload and its document awaited)."""
        self.make_documents([index], peer)
        return await asyncio.shield(self.documents[index])

    async def _media(self, index: int, peer: Any) -> Any:
        uploaded_file, uploaded_thumb = await self.tasks[index]
        name = page_file_name(self.publication, index)
        return await self.publishing.patiently(self.publication, lambda: make_document(
            self.client, peer, uploaded_file, uploaded_thumb, name))

    async def _upload(self, path: Path) -> tuple[Any, Any]:
        publishing = self.publishing
        return await publishing.patiently(self.publication, lambda: upload_page_files(
            self.client, path, publishing._parts_in_flight))

    async def forget(self, indices: list[int]) -> None:
        """Drop what pages ``indices`` uploaded (Telegram lost it), so they go up again."""
        dropped = [task for index in indices for task in (self.tasks.pop(index, None),
                                                          self.documents.pop(index, None))
                   if task is not None]
        for task in dropped:
            task.cancel()
        await asyncio.gather(*dropped, return_exceptions=True)

    async def close(self) -> None:
        """Stop what is still going up (a failure, a stop) and wait for it to end."""
        everything = [*self.tasks.values(), *self.documents.values()]
        for task in everything:
            task.cancel()
        await asyncio.gather(*everything, return_exceptions=True)


async def all_of(calls: list[Awaitable[T]]) -> list[T]:
    """Await ``calls`` at once; the first failure cancels the rest and is raised as it is."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def upload_bytes(bot: Client, data: bytes, name: str,
                       slots: asyncio.Semaphore) -> Any:
    """Upload ``data`` as one file, its parts in parallel (at most ``slots`` parts of all
    uploads at once); the InputFile to name it by."""
    file_id = secrets.randbits(63)
    parts = [data[at:at + PART_SIZE] for at in range(0, len(data), PART_SIZE)] or [b""]
    big = len(data) > BIG_FILE
    session = await bot.get_session(await bot.storage.dc_id(), is_media=True)

    async def send(number: int, chunk: bytes) -> None:
        if big:
            query: Any = raw.functions.upload.SaveBigFilePart(
                file_id=file_id, file_part=number, file_total_parts=len(parts), bytes=chunk)
        else:
            query = raw.functions.upload.SaveFilePart(file_id=file_id, file_part=number,
                                                      bytes=chunk)
        async with slots:
            if not await session.invoke(query):
                raise OSError(f"Telegram did not take part {number} of {name}")

    await all_of([send(number, chunk) for number, chunk in enumerate(parts)])
    if big:
        return raw.types.InputFileBig(id=file_id, parts=len(parts), name=name)
    return raw.types.InputFile(id=file_id, parts=len(parts), name=name,
                               md5_checksum=hashlib.md5(data).hexdigest())


async def upload_page_files(bot: Client, path: Path,
                            slots: asyncio.Semaphore) -> tuple[Any, Any]:
    """Upload one page's file and its thumbnail at once; their InputFiles."""
    data = await asyncio.to_thread(path.read_bytes)
    thumb = await asyncio.to_thread(page_thumbnail, path)
    uploaded_file, uploaded_thumb = await all_of([
        upload_bytes(bot, data, path.name, slots), upload_bytes(bot, thumb, "thumb.jpg", slots)])
    return uploaded_file, uploaded_thumb


async def make_document(bot: Client, peer: Any, uploaded_file: Any, uploaded_thumb: Any,
                        name: str) -> Any:
    """messages.uploadMedia: the uploaded page as a protected-to-be document, for an album."""
    uploaded = await bot.invoke(raw.functions.messages.UploadMedia(
        peer=peer, media=raw.types.InputMediaUploadedDocument(
            file=uploaded_file, thumb=uploaded_thumb, mime_type="image/png", force_file=True,
            attributes=[raw.types.DocumentAttributeFilename(file_name=name)])))
    document = uploaded.document
    return raw.types.InputMediaDocument(id=raw.types.InputDocument(
        id=document.id, access_hash=document.access_hash,
        file_reference=document.file_reference))


async def send_once(bot: Client, query: Any) -> Any:
    """One call, its refusal exactly as Telegram gave it. kurigram's session retries 500-class
    answers and then raises a bare TimeoutError (pyrogram/session/session.py Session.invoke):
    that would hide RANDOM_ID_DUPLICATE, Telegram's word that a page was already posted."""
    result = await bot.session.send(query, timeout=bot.session.WAIT_TIMEOUT)
    await bot.fetch_peers(getattr(result, "users", []))
    await bot.fetch_peers(getattr(result, "chats", []))
    return result


def fixed_random_id(*key: object) -> int:
    """A message's random_id made from what it is (an upload and a sheet, say): the same
    message sent again after a restart carries the same one, and Telegram refuses it."""
    digest = hashlib.sha256(":".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


async def send_photo_once(bot: Client, chat_id: int, path: str, caption: str,
                          markup: Any, random_id: int) -> None:
    """A photo (plain caption, ``markup`` under it) that appears once even when sent again
    after a crash: its ``random_id`` is fixed, so Telegram answers RANDOM_ID_DUPLICATE to a
    second send, which means it is there. A 500 or no answer is tried again, as kurigram
    would (whose own retries would turn the duplicate into a bare TimeoutError)."""
    peer = await bot.resolve_peer(chat_id)
    photo = io.BytesIO(await asyncio.to_thread(Path(path).read_bytes))
    photo.name = Path(path).name
    uploaded = await bot.save_file(photo)
    query = raw.functions.messages.SendMedia(
        peer=peer, media=raw.types.InputMediaUploadedPhoto(file=uploaded), message=caption,
        random_id=random_id, reply_markup=await markup.write(bot) if markup else None)
    troubles = 0
    while True:
        try:
            await send_once(bot, query)
            return
        except tg.RandomIdDuplicate:
            return  # sent before a restart
        except tg.FloodWait as exc:
            if exc.value > bot.sleep_threshold:
                raise
            await asyncio.sleep(float(exc.value or 1))
        except (tg.InternalServerError, tg.ServiceUnavailable, TimeoutError):
            troubles += 1
            if troubles >= TROUBLE_RETRIES:
                raise
            await asyncio.sleep(TROUBLE_DELAY * 2 ** (troubles - 1))


def page_thumbnail(path: Path) -> bytes:
    """The page as Telegram wants a document's thumbnail: JPEG, at most 320 px a side and
    200 KB (core.telegram.org/api/files#uploading-thumbnails), so the client sees the page,
    not a grey file icon."""
    with Image.open(path) as image:
        image.thumbnail((320, 320))
        out = io.BytesIO()
        image.convert("L" if image.mode in ("L", "P", "1", "LA") else "RGB").save(
            out, "JPEG", quality=80)
    return out.getvalue()


async def send_album(bot: Client, peer: Any, files: list[Path], random_ids: list[int],
                     caption: str, names: list[str]) -> list[int]:
    """Upload pages one after another (each with kurigram's save_file, then a thumbnail) and
    post them as one album of protected documents; the new message ids. The sequential way
    (selftest, and the benchmark's comparison); publications use :class:`PageUploads`.
    Raises RandomIdDuplicate when Telegram already has them (a resend after a crash)."""
    medias = []
    for path, name in zip(files, names):
        # Our own handles, closed whatever happens: pyrogram leaves a path it opened itself
        # unclosed when the upload is cancelled (a stop in the middle of publishing).
        with path.open("rb") as handle:
            uploaded_file = await bot.save_file(handle)
        thumb_file = io.BytesIO(await asyncio.to_thread(page_thumbnail, path))
        thumb_file.name = "thumb.jpg"
        uploaded_thumb = await bot.save_file(thumb_file)
        medias.append(await make_document(bot, peer, uploaded_file, uploaded_thumb, name))
    return await post_album(bot, peer, medias, random_ids, caption)


async def post_album(bot: Client, peer: Any, medias: list[Any], random_ids: list[int],
                     caption: str) -> list[int]:
    """Post uploaded pages as one album of protected documents (one page: one post); the new
    message ids. Raises RandomIdDuplicate when Telegram already has them."""
    if len(medias) == 1:
        result = await send_once(bot, raw.functions.messages.SendMedia(
            peer=peer, media=medias[0], message=caption, random_id=random_ids[0],
            noforwards=True))
    else:
        result = await send_once(bot, raw.functions.messages.SendMultiMedia(
            peer=peer, noforwards=True, multi_media=[
                raw.types.InputSingleMedia(media=media, random_id=random_id,
                                           message=caption if index == 0 else "")
                for index, (media, random_id) in enumerate(zip(medias, random_ids))]))
    by_random = {update.random_id: update.id for update in getattr(result, "updates", [])
                 if isinstance(update, raw.types.UpdateMessageID)}
    return [by_random[rid] for rid in random_ids if rid in by_random]


def album_caption(publication: Publication, first: int, last: int) -> str:
    """What the client reads under an album: the document and which of its pages these are
    ("«Смета на кухню», стр. 1–10 из 11"), so a publication in several albums reads as one."""
    pages = publication.pages
    if pages[last] - pages[first] == last - first:
        numbers = str(pages[first]) if first == last else f"{pages[first]}–{pages[last]}"
    else:
        numbers = ", ".join(str(n) for n in pages[first:last + 1])
    if pages == list(range(1, len(pages) + 1)):  # the whole document, or its first pages
        return texts.t("publish.caption", publication.lang, title=publication.name,
                       pages=numbers, total=len(pages))
    albums = (len(pages) + ALBUM - 1) // ALBUM
    return texts.t("publish.caption_part", publication.lang, title=publication.name,
                   pages=numbers, part=first // ALBUM + 1, parts=albums)


def page_file_name(publication: Publication, index: int) -> str:
    """The file name the client sees for one page: the document's title and the page."""
    title = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", publication.name).strip()[:80] or "page"
    return f"{title} — {texts.t('publish.page_word', publication.lang)} " \
           f"{publication.pages[index]}.png"


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
