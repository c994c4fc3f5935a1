"""The main SQLite database: one writer connection, a reader, migrations at boot.

Pragmas live in one place (:func:`_connect`): WAL, ``synchronous=NORMAL``, foreign keys, a busy
timeout. Writes go through :meth:`Database.transaction`, serialised by a lock on the single
writer connection; reads use their own connection and never wait for a writer (WAL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiosqlite

from smetabot.errors import StartupError
from smetabot.migrations import MIGRATIONS

log = logging.getLogger(__name__)


async def _connect(path: Path) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path, isolation_level=None)
    connection.row_factory = aiosqlite.Row
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON",
                   "busy_timeout = 5000"):
        await connection.execute(f"PRAGMA {pragma}")
    return connection


class Database:
    """The appliance's database file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        """Connect and apply pending migrations, before anything serves."""
        try:
            self._writer = await _connect(self.path)
            self._reader = await _connect(self.path)
        except sqlite3.Error as exc:
            raise StartupError(problem=f"cannot open the database {self.path}: {exc}") from exc
        await self.migrate()

    async def close(self) -> None:
        """Close both connections."""
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    async def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded, all in one transaction; returns their names."""
        async with self.transaction() as tx:
            await tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "name TEXT PRIMARY KEY, applied_at TEXT NOT NULL "
                             "DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))")
            done = {row[0] for row in await tx.execute_fetchall(
                "SELECT name FROM schema_migrations")}
            applied = []
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                try:
                    for statement in _statements(sql):
                        await tx.execute(statement)
                except sqlite3.Error as exc:
                    raise StartupError(problem=f"database migration {name} failed: {exc}") from exc
                await tx.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
                applied.append(name)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer connection inside ``BEGIN IMMEDIATE … COMMIT`` (rolled back on error)."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement in its own transaction; returns lastrowid."""
        async with self.transaction() as tx:
            cursor = await tx.execute(sql, tuple(params))
            return cursor.lastrowid or 0

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """Rows of a read query."""
        if self._reader is None:
            raise RuntimeError("database is not open")
        return list(await self._reader.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row of a read query, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (sqlite3.complete_statement knows quoting)."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
