"""The client's answer to a publication, on the record: an approval of one version, or a
question relayed to the contractor.

Tables (migration ``0007_approvals``): ``approvals_posts`` (the buttons message under each
publication, and its approval — once), ``approvals_questions`` (each question, the message that
relayed it, when it was answered), ``approvals_settings`` (the per-contractor switch). The bot's
side is ``smetabot/bot/approvals.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from smetabot.analytics import now_iso
from smetabot.db import Database
from smetabot.publication_records import Publication

QUESTIONS_PER_MINUTE = 3  # a client's questions in any 60 seconds, over all publications


@dataclass
class Approval:
    """Who approved which version of a publication, and when."""

    publication_id: int
    user_id: int
    name: str
    username: str | None
    tracking_code: str
    pages: int
    approved_at: str

    @property
    def who(self) -> str:
        return self.name + (f" (@{self.username})" if self.username else "")


@dataclass
class Question:
    """A client's question about a publication."""

    id: int
    publication_id: int
    contractor_id: int
    client_id: int
    text: str
    relay_message_id: int | None
    answered_at: str | None


def moment(stamp: str) -> str:
    """A database timestamp as people write a moment: 04.12.2026 15:32 (UTC)."""
    return f"{stamp[8:10]}.{stamp[5:7]}.{stamp[0:4]} {stamp[11:16]}"


class Approvals:
    """Recording approvals and questions."""

    def __init__(self, db: Database, analytics: Any = None) -> None:
        self.db = db
        self.analytics = analytics

    # -- the switch -------------------------------------------------------------------

    async def enabled(self, contractor_id: int) -> bool:
        """Whether the contractor's publications get the buttons (yes unless switched off)."""
        row = await self.db.fetchone(
            "SELECT enabled FROM approvals_settings WHERE contractor_id = ?", (contractor_id,))
        return row is None or bool(row["enabled"])

    async def set_enabled(self, contractor_id: int, on: bool) -> None:
        await self.db.execute(
            "INSERT INTO approvals_settings (contractor_id, enabled) VALUES (?, ?) "
            "ON CONFLICT (contractor_id) DO UPDATE SET enabled = excluded.enabled",
            (contractor_id, int(on)))

    # -- the buttons message and the approval --------------------------------------------

    async def post_of(self, publication_id: int) -> int | None:
        """The id of the buttons message under the publication, if one was posted."""
        row = await self.db.fetchone(
            "SELECT message_id FROM approvals_posts WHERE publication_id = ?", (publication_id,))
        return row["message_id"] if row else None

    async def unpost(self, publication_id: int) -> int | None:
        """Forget the buttons message of a publication nobody approved yet (the contractor
        took the buttons away); its message id, or None when there is none to take away."""
        async with self.db.transaction() as tx:
            cursor = await tx.execute(
                "DELETE FROM approvals_posts WHERE publication_id = ? AND approved_by IS NULL "
                "RETURNING message_id", (publication_id,))
            row = await cursor.fetchone()
        return row[0] if row else None

    async def posted(self, publication_id: int, message_id: int) -> None:
        await self.db.execute(
            "INSERT OR REPLACE INTO approvals_posts (publication_id, message_id) VALUES (?, ?)",
            (publication_id, message_id))

    async def approval(self, publication_id: int) -> Approval | None:
        """The publication's approval, or None."""
        row = await self.db.fetchone(
            "SELECT publication_id, approved_by, name, username, tracking_code, pages, "
            "approved_at FROM approvals_posts WHERE publication_id = ? AND approved_by IS NOT "
            "NULL", (publication_id,))
        if row is None:
            return None
        return Approval(row["publication_id"], row["approved_by"], row["name"] or "",
                        row["username"], row["tracking_code"], row["pages"], row["approved_at"])

    async def approve(self, publication: Publication, user_id: int, name: str,
                      username: str | None) -> tuple[Approval, bool]:
        """Record that ``user_id`` approved this version; (the approval, whether it is new).
        A publication is approved once: a second press returns the first approval."""
        async with self.db.transaction() as tx:
            cursor = await tx.execute(
                "UPDATE approvals_posts SET approved_by = ?, name = ?, username = ?, "
                "tracking_code = ?, pages = ?, approved_at = ? WHERE publication_id = ? AND "
                "approved_by IS NULL",
                (user_id, name, username, publication.tracking_code, len(publication.pages),
                 now_iso(), publication.id))
            new = cursor.rowcount == 1
        approval = await self.approval(publication.id)
        if approval is None:  # no buttons message recorded: nothing to approve under
            raise LookupError(f"publication {publication.id} has no approval message")
        if new and self.analytics is not None:
            await self.analytics.record(
                "approval", publication.contractor_id, channel_id=publication.channel_id,
                publication_id=publication.id, user_id=user_id, name=name, username=username,
                code=publication.tracking_code, pages=len(publication.pages))
        return approval, new

    async def version(self, publication_id: int) -> int:
        """Which version of its document the publication is: 1, or one more than the one it
        replaced."""
        number, current = 1, publication_id
        while number < 1000:
            row = await self.db.fetchone(
                "SELECT id FROM core_publications WHERE replaced_by = ?", (current,))
            if row is None:
                break
            number, current = number + 1, row["id"]
        return number

    async def replaced_by(self, publication_id: int) -> int | None:
        """The older publication this one replaces (its buttons go), if any."""
        row = await self.db.fetchone(
            "SELECT id FROM core_publications WHERE replaced_by = ?", (publication_id,))
        return row["id"] if row else None

    async def publication_by_code(self, code: str) -> int | None:
        row = await self.db.fetchone(
            "SELECT id FROM core_publications WHERE tracking_code = ?", (code.upper(),))
        return row["id"] if row else None

    # -- questions ----------------------------------------------------------------------

    async def may_ask(self, client_id: int) -> bool:
        """Whether the client is under the limit of questions a minute."""
        since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS n FROM approvals_questions WHERE client_id = ? AND asked_at > ?",
            (client_id, since[:-3] + "Z"))
        return row["n"] < QUESTIONS_PER_MINUTE

    async def ask(self, publication: Publication, client_id: int, text: str) -> int:
        """Record a question; its id (the relay message is noted by :meth:`relayed`)."""
        question_id = await self.db.execute(
            "INSERT INTO approvals_questions (publication_id, contractor_id, client_id, text, "
            "asked_at) VALUES (?, ?, ?, ?, ?)",
            (publication.id, publication.contractor_id, client_id, text, now_iso()))
        if self.analytics is not None:
            await self.analytics.record(
                "question", publication.contractor_id, channel_id=publication.channel_id,
                publication_id=publication.id, user_id=client_id, length=len(text))
        return question_id

    async def relayed(self, question_id: int, message_id: int) -> None:
        await self.db.execute("UPDATE approvals_questions SET relay_message_id = ? WHERE id = ?",
                              (message_id, question_id))

    async def question(self, question_id: int) -> Question | None:
        row = await self.db.fetchone(
            "SELECT id, publication_id, contractor_id, client_id, text, relay_message_id, "
            "answered_at FROM approvals_questions WHERE id = ?", (question_id,))
        return Question(**dict(row)) if row else None

    async def question_relayed_as(self, contractor_id: int, message_id: int) -> Question | None:
        """The question the contractor's message ``message_id`` relayed, if it is one."""
        row = await self.db.fetchone(
            "SELECT id FROM approvals_questions WHERE contractor_id = ? AND relay_message_id = ?",
            (contractor_id, message_id))
        return await self.question(row["id"]) if row else None

    async def answered(self, question: Question) -> None:
        await self.db.execute("UPDATE approvals_questions SET answered_at = ? WHERE id = ?",
                              (now_iso(), question.id))
        if self.analytics is not None:
            await self.analytics.record("question_answered", question.contractor_id,
                                        publication_id=question.publication_id,
                                        user_id=question.client_id)

    # -- the operator's figures -----------------------------------------------------------

    async def counts(self, since: str | None = None) -> dict[int, tuple[int, int]]:
        """Per contractor: (approvals, questions) from ``since`` (an ISO date) on."""
        since = since or "0000"
        out: dict[int, list[int]] = {}
        for row in await self.db.fetchall(
                "SELECT p.contractor_id AS k, COUNT(*) AS n FROM approvals_posts a JOIN "
                "core_publications p ON p.id = a.publication_id WHERE a.approved_at >= ? "
                "GROUP BY p.contractor_id", (since,)):
            out.setdefault(row["k"], [0, 0])[0] = row["n"]
        for row in await self.db.fetchall(
                "SELECT contractor_id AS k, COUNT(*) AS n FROM approvals_questions "
                "WHERE asked_at >= ? GROUP BY contractor_id", (since,)):
            out.setdefault(row["k"], [0, 0])[1] = row["n"]
        return {k: (v[0], v[1]) for k, v in out.items()}
