"""Rows behind uploads and publications: ``core_uploads``, ``core_publications``.

Their statuses are in ``statuses.py``; the transitions are made in ``publishing.py`` only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smetabot.contractors import claim_message
from smetabot.db import Database
from smetabot.statuses import UNFINISHED_PUBLICATIONS as UNFINISHED
from smetabot.statuses import PublicationStatus, UploadStatus


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
    previews_sent: int = 0
    sheets: str | None = None  # JSON [[name, first page, last page], ...] of a spreadsheet

    @property
    def folder(self) -> Path:
        return Path(self.path).parent


@dataclass
class Stored:
    """What changes with an upload's row when a received document is stored: its receipt
    goes, its status message is noted, and ``also(tx, upload_id)`` runs in the transaction."""

    receipt: int
    status_message_id: int | None = None
    also: Callable[[Any, str], Awaitable[None]] | None = None


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
    title: str
    replaced_by: int | None
    created_at: str

    @property
    def name(self) -> str:
        """What the client reads as the document's name."""
        return self.title or document_title(self.file_name)


def document_title(file_name: str) -> str:
    """A title from a file name: no extension, no underscores ("Смета_кухня.xlsx" →
    "Смета кухня")."""
    stem = Path(file_name or "").stem if "." in (file_name or "") else (file_name or "")
    return " ".join(stem.replace("_", " ").split()) or "Документ"


_UPLOAD_COLUMNS = ("id, contractor_id, file_name, kind, size, path, pages, status, expires_at, "
                   "status_message_id, error, pdf_path, previews_sent, sheets")
_PUBLICATION_COLUMNS = ("id, contractor_id, channel_id, upload_id, file_name, pages, watermark, "
                        "tracking_code, message_ids, random_ids, sent_albums, status, "
                        "status_message_id, lang, title, replaced_by, created_at")
_JSON = ("pages", "message_ids", "random_ids")


def _publication(row: Any) -> Publication:
    data = dict(row)
    for key in _JSON:
        data[key] = json.loads(data[key])
    return Publication(**data)


class PublicationRecords:
    """Reading and changing the upload and publication tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- uploads --------------------------------------------------------------------------

    async def insert_upload(self, upload_id: str, contractor_id: int, file_name: str, kind: str,
                            size: int, sha256: str, path: str, expires_at: str,
                            stored: Stored | None = None) -> Upload:
        """Record a stored file; with ``stored``, in the same transaction its receipt goes
        and what else must change with it does (a crash leaves all of it or none)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO core_uploads (id, contractor_id, file_name, kind, size, sha256, "
                "path, status, expires_at, status_message_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (upload_id, contractor_id, file_name, kind, size, sha256, path,
                 UploadStatus.RECEIVED, expires_at, stored.status_message_id if stored else None))
            if stored is not None:
                await tx.execute("DELETE FROM core_receipts WHERE id = ?", (stored.receipt,))
                if stored.also is not None:
                    await stored.also(tx, upload_id)
        upload = await self.upload(upload_id)
        assert upload is not None
        return upload

    async def upload(self, upload_id: str) -> Upload | None:
        """The upload ``upload_id``, or None (never existed, or expired and swept)."""
        row = await self.db.fetchone(
            f"SELECT {_UPLOAD_COLUMNS} FROM core_uploads WHERE id = ?", (upload_id,))
        return Upload(**dict(row)) if row else None

    async def set_upload(self, upload_id: str, **fields: Any) -> None:
        """Update columns of an upload."""
        assignments = ", ".join(f"{key} = ?" for key in fields)
        await self.db.execute(f"UPDATE core_uploads SET {assignments} WHERE id = ?",
                              (*fields.values(), upload_id))

    async def delete_upload(self, upload_id: str) -> None:
        await self.db.execute("DELETE FROM core_uploads WHERE id = ?", (upload_id,))

    async def expired_uploads(self, now: str) -> list[Upload]:
        """Uploads past their expiry that no unfinished publication still needs."""
        marks = ", ".join("?" * len(UNFINISHED))
        rows = await self.db.fetchall(
            f"SELECT {_UPLOAD_COLUMNS} FROM core_uploads WHERE expires_at < ? AND id NOT IN ("
            "SELECT upload_id FROM core_publications WHERE upload_id IS NOT NULL AND status IN "
            f"({marks}))", (now, *UNFINISHED))
        return [Upload(**dict(row)) for row in rows]

    async def unfinished_uploads(self) -> list[Upload]:
        """Uploads whose previews a crash interrupted (or that were ready but not yet shown)."""
        rows = await self.db.fetchall(
            f"SELECT {_UPLOAD_COLUMNS} FROM core_uploads WHERE status IN (?, ?) "
            "OR (status = ? AND shown_at IS NULL)",
            (UploadStatus.RECEIVED, UploadStatus.PREVIEWING, UploadStatus.READY))
        return [Upload(**dict(row)) for row in rows]

    async def all_upload_ids(self) -> set[str]:
        rows = await self.db.fetchall("SELECT id FROM core_uploads")
        return {row["id"] for row in rows}

    # -- receipts: documents being received before they have an upload row ----------------

    async def add_receipt(self, contractor_id: int, file_name: str,
                          status_message_id: int | None, lang: str) -> int:
        return await self.db.execute(
            "INSERT INTO core_receipts (contractor_id, file_name, status_message_id, lang) "
            "VALUES (?, ?, ?, ?)", (contractor_id, file_name, status_message_id, lang))

    async def claim_receipt(self, contractor_id: int, message_id: int, date: int,
                            file_name: str, lang: str) -> int | None:
        """A receipt for the document in message ``message_id``, the message claimed in the
        same transaction (see ``Contractors.claim_message``): a crash leaves it either
        unhandled (Telegram hands it again) or with its receipt. None: claimed before."""
        async with self.db.transaction() as tx:
            if not await claim_message(tx, contractor_id, message_id, date):
                return None
            cursor = await tx.execute(
                "INSERT INTO core_receipts (contractor_id, file_name, lang) VALUES (?, ?, ?)",
                (contractor_id, file_name, lang))
            return cursor.lastrowid

    async def set_receipt(self, receipt_id: int, status_message_id: int) -> None:
        await self.db.execute("UPDATE core_receipts SET status_message_id = ? WHERE id = ?",
                              (status_message_id, receipt_id))

    async def drop_receipt(self, receipt_id: int) -> None:
        await self.db.execute("DELETE FROM core_receipts WHERE id = ?", (receipt_id,))

    async def receipts(self) -> list[dict[str, Any]]:
        """Every receipt (at start, before the bot handles updates: those a crash interrupted;
        each is dropped once the contractor is told)."""
        return [dict(row) for row in await self.db.fetchall("SELECT * FROM core_receipts")]

    # -- publications ---------------------------------------------------------------------

    async def insert_publication(self, upload: Upload, channel_row_id: int, pages: list[int],
                                 watermark: str, title: str, lang: str, random_ids: list[int],
                                 codes: Callable[[], str],
                                 count: Callable[[Any], Awaitable[None]]) -> Publication:
        """Record a publication with a tracking code drawn from ``codes`` (drawn again on a
        collision), and ``count`` it against the plan in the same transaction."""
        for _ in range(10):
            code = codes()
            try:
                async with self.db.transaction() as tx:
                    cursor = await tx.execute(
                        "INSERT INTO core_publications (channel_id, upload_id, file_name, pages, "
                        "watermark, tracking_code, random_ids, status, contractor_id, lang, "
                        "title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (channel_row_id, upload.id, upload.file_name, json.dumps(pages),
                         watermark, code, json.dumps(random_ids), PublicationStatus.RENDERING,
                         upload.contractor_id, lang, title))
                    publication_id = cursor.lastrowid
                    await count(tx)
                break
            except sqlite3.IntegrityError as exc:  # a tracking code collision: draw again
                if "tracking_code" not in str(exc):
                    raise
        else:
            raise RuntimeError("no free tracking code after 10 draws")
        publication = await self.publication(publication_id)
        assert publication is not None
        return publication

    async def publication(self, publication_id: int) -> Publication | None:
        """The publication ``publication_id``."""
        row = await self.db.fetchone(
            f"SELECT {_PUBLICATION_COLUMNS} FROM core_publications WHERE id = ?",
            (publication_id,))
        return _publication(row) if row else None

    async def set_publication(self, publication_id: int, **fields: Any) -> None:
        """Update columns of a publication."""
        for key in _JSON:
            if key in fields:
                fields[key] = json.dumps(fields[key])
        assignments = ", ".join(f"{key} = ?" for key in fields)
        await self.db.execute(f"UPDATE core_publications SET {assignments} WHERE id = ?",
                              (*fields.values(), publication_id))

    async def unfinished_publications(self) -> list[Publication]:
        """Publications a crash interrupted, oldest first."""
        rows = await self.db.fetchall(
            f"SELECT {_PUBLICATION_COLUMNS} FROM core_publications WHERE status IN (?, ?) "
            "ORDER BY id", UNFINISHED)
        return [_publication(row) for row in rows]

    async def unannounced_publications(self) -> list[Publication]:
        """Publications out in their channel whose contractor a crash kept from being told."""
        rows = await self.db.fetchall(
            f"SELECT {_PUBLICATION_COLUMNS} FROM core_publications WHERE status = ? "
            "AND announced_at IS NULL ORDER BY id", (PublicationStatus.PUBLISHED,))
        return [_publication(row) for row in rows]
