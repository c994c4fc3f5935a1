"""Conversation state per Telegram user, in SQLite: a restart does not lose a half-done wizard."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from smetabot.db import Database


@dataclass
class State:
    """Where a user is in a wizard: the flow, its step, and what was collected so far."""

    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class Conversations:
    """The ``conversation_states`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> State | None:
        """The user's current state, or None when no wizard is under way."""
        row = await self.db.fetchone(
            "SELECT flow, step, data FROM conversation_states WHERE telegram_user_id = ?",
            (user_id,))
        if row is None:
            return None
        return State(row["flow"], row["step"], json.loads(row["data"]))

    async def set(self, user_id: int, state: State) -> None:
        """Store the user's state."""
        async with self.db.transaction() as tx:
            await set_state(tx, user_id, state)

    async def clear(self, user_id: int) -> bool:
        """End the user's wizard; True when there was one."""
        existed = await self.get(user_id) is not None
        await self.db.execute("DELETE FROM conversation_states WHERE telegram_user_id = ?",
                              (user_id,))
        return existed


async def set_state(tx: Any, user_id: int, state: State) -> None:
    """``Conversations.set`` inside the caller's transaction ``tx``."""
    await tx.execute(
        "INSERT INTO conversation_states (telegram_user_id, flow, step, data) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (telegram_user_id) DO UPDATE SET "
        "flow = excluded.flow, step = excluded.step, data = excluded.data, "
        "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        (user_id, state.flow, state.step, json.dumps(state.data, ensure_ascii=False)))
