"""The bot's entry point for every update: who is writing, in which language, in which wizard.

One handler per update kind dispatches to the flow modules (``menu``, ``cabinet``, …): commands
first, then the wizard the user is in, then menu buttons. Any unexpected error is logged once
with a reference id and answered with a short apology in the user's language.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pyrogram import Client, filters
from pyrogram import errors as tg
from pyrogram.handlers import CallbackQueryHandler, MessageHandler
from pyrogram.types import BotCommand, CallbackQuery, Message

from smetabot import refusals, texts
from smetabot.channels import telegram_error
from smetabot.contractors import Contractor
from smetabot.conversations import State
from smetabot.services import Services

log = logging.getLogger(__name__)


@dataclass
class Ctx:
    """One incoming update, with the things every handler needs."""

    svc: Services
    client: Client
    user_id: int
    lang: str
    contractor: Contractor
    message: Message | None = None
    callback: CallbackQuery | None = None
    state: State | None = None
    router: Router | None = None

    def t(self, key: str, **params: object) -> str:
        """Text ``key`` in the user's language."""
        return texts.t(key, self.lang, **params)

    async def reply(self, text: str, reply_markup: Any = None) -> Message:
        """Send ``text`` to the user; a text over Telegram's 4096 characters goes as several
        messages, split between lines, the buttons under the last."""
        parts = split_text(text)
        for part in parts[:-1]:
            await self.client.send_message(self.user_id, part)
        return await self.client.send_message(self.user_id, parts[-1], reply_markup=reply_markup)

    async def answer(self, text: str | None = None, show_alert: bool = False) -> None:
        """Answer the button press (a late answer Telegram no longer takes is dropped: the
        press is still acted on, and nothing retries it)."""
        if self.callback is None:
            return
        try:
            await self.callback.answer(text, show_alert=show_alert)
        except tg.QueryIdInvalid:
            log.info("a late answer to a button press of %s was refused", self.user_id)

    async def set_state(self, flow: str, step: str, **data: Any) -> None:
        """Enter (or move within) a wizard."""
        merged = dict(self.state.data) if self.state and self.state.flow == flow else {}
        merged.update(data)
        self.state = State(flow, step, merged)
        await self.svc.conversations.set(self.user_id, self.state)

    async def clear_state(self) -> bool:
        """Leave the wizard."""
        if self.state is None:
            return False
        self.state = None
        return await self.svc.conversations.clear(self.user_id)

    async def resume(self, flow: str, data: dict[str, Any], result: Any) -> None:
        """Back to the wizard ``flow`` that opened another one (a channel made in the middle
        of a publication): it continues with its saved ``data`` and the other's ``result``."""
        assert self.router is not None
        await self.router.continuations[flow](self, data, result)

    @property
    def connected(self) -> bool:
        """Whether the contractor has a stored Telegram session."""
        return self.svc.vault.exists(self.user_id)


def sent_at(message: Message) -> int:
    """When a message was sent, in unix seconds (Telegram's own clock)."""
    return int(message.date.timestamp()) if message.date else 0


MESSAGE_LIMIT = 4096  # Telegram's limit on a message's text, in characters


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in pieces Telegram takes, cut between lines where it can."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut].rstrip("\n"))
        text = text[cut:].lstrip("\n")
    return [*parts, text]


Handler = Callable[[Ctx], Awaitable[None]]


class Router:
    """Dispatches updates to flows; flows register their commands, buttons and steps."""

    def __init__(self, services: Services) -> None:
        self.svc = services
        self.commands: dict[str, Handler] = {}
        self.buttons: dict[str, Handler] = {}
        self.flows: dict[str, Handler] = {}
        self.callbacks: dict[str, Callable[[Ctx, str], Awaitable[None]]] = {}
        self.fallbacks: list[tuple[Callable[[Message], bool], Handler]] = []
        #: other pyrogram handlers flows need (chat member updates, ...), added as they are
        self.extra_handlers: list[Any] = []
        #: wizards that take files themselves (an avatar sent as a file), before the fallbacks
        self.file_flows: set[str] = set()
        #: what a wizard does when a menu button interrupts it (True: it handled the button)
        self.interrupts: dict[str, Callable[[Ctx, str], Awaitable[bool]]] = {}
        #: how a wizard continues after another it opened has finished (see ``Ctx.resume``)
        self.continuations: dict[str, Callable[[Ctx, dict[str, Any], Any], Awaitable[None]]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._later: set[asyncio.Task] = set()  # refusals told once a flood wait is over

    def install(self, client: Client) -> None:
        """Attach the router's handlers to the bot client."""
        client.add_handler(MessageHandler(self.on_message, filters.private & filters.incoming))
        client.add_handler(CallbackQueryHandler(self.on_callback))
        for handler in self.extra_handlers:
            client.add_handler(handler)

    async def register_commands(self, client: Client) -> None:
        """Tell Telegram the command list, in Russian and in English."""
        for lang, code in ((texts.EN, ""), (texts.RU, "ru")):
            commands = [BotCommand(name, texts.t(f"cmd.{name}", lang))
                        for name in ("start", "menu", "cancel", "help")]
            try:
                await client.set_bot_commands(commands, language_code=code)
            except (tg.RPCError, TimeoutError) as exc:  # a convenience: /start works without
                log.warning("the bot's command list (%s) was not set: Telegram answered %s; "
                            "the commands work all the same", code or "default",
                            refusals.error_id(exc))

    async def _context(self, client: Client, user: Any) -> Ctx:
        lang = texts.lang_of(user.language_code)
        contractor = await self.svc.contractors.touch(user.id, user.first_name or "",
                                                      user.username, lang)
        state = await self.svc.conversations.get(user.id)
        return Ctx(self.svc, client, user.id, lang, contractor, state=state, router=self)

    def _lock(self, user_id: int) -> asyncio.Lock:
        # One update of a user at a time: pyrogram runs handlers concurrently, and a message
        # typed right after a button press must see the state that press left.
        lock = self._locks.get(user_id)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {uid: held for uid, held in self._locks.items() if held.locked()}
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    async def on_message(self, client: Client, message: Message) -> None:
        """Every private message to the bot."""
        if message.from_user is None:
            return
        async with self._lock(message.from_user.id):
            ctx = await self._context(client, message.from_user)
            ctx.message = message
            in_file_flow = ctx.state is not None and ctx.state.flow in self.file_flows
            # After a crash Telegram hands recent messages again (the saved update state lags):
            # each is handled once. A document claims itself, with its receipt (bot.publish).
            if not (message.document is not None and not in_file_flow) and \
                    not await self.svc.contractors.claim_message(ctx.user_id, message.id,
                                                                 sent_at(message)):
                log.info("message %s of %s was handled before a restart", message.id,
                         ctx.user_id)
                return
            await self._guard(ctx, self._route_message)

    async def on_callback(self, client: Client, callback: CallbackQuery) -> None:
        """Every inline-button press."""
        async with self._lock(callback.from_user.id):
            await self._on_callback(client, callback)

    async def _on_callback(self, client: Client, callback: CallbackQuery) -> None:
        ctx = await self._context(client, callback.from_user)
        ctx.callback = callback
        ctx.message = callback.message

        async def route(ctx: Ctx) -> None:
            prefix, _, rest = (callback.data or "").partition(":")
            handler = self.callbacks.get(prefix)
            if handler is None:
                await ctx.answer()
                return
            await handler(ctx, rest)

        await self._guard(ctx, route)

    async def _route_message(self, ctx: Ctx) -> None:
        message = ctx.message
        assert message is not None
        text = (message.text or "").strip()
        if text.startswith("/"):
            name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
            handler = self.commands.get(name)
            if handler is not None:
                await handler(ctx)
                return
        button = texts.button_key(text) if text else None
        if button in self.buttons and (ctx.state is None or button != "btn.skip"):
            # A menu button always wins over a half-done wizard: the user changed their mind.
            if ctx.state is not None and button not in ("btn.skip", "btn.cancel"):
                interrupt = self.interrupts.get(ctx.state.flow)
                if interrupt is not None and await interrupt(ctx, button):
                    return
                await ctx.clear_state()
            await self.buttons[button](ctx)
            return
        in_file_flow = ctx.state is not None and ctx.state.flow in self.file_flows
        for matches, handler in self.fallbacks:
            # A document or WebApp data means the same whatever wizard the user was in, but
            # for a wizard that asked for a file.
            if matches(message) and not (in_file_flow and message.document is not None):
                await handler(ctx)
                return
        if ctx.state is not None and ctx.state.flow in self.flows:
            await self.flows[ctx.state.flow](ctx)
            return
        await self.commands["unknown"](ctx)

    async def _guard(self, ctx: Ctx, handler: Handler) -> None:
        try:
            await handler(ctx)
        except (tg.RPCError, TimeoutError) as exc:  # Telegram said no: in its words, not ours
            await self._refused(ctx, exc)
        except Exception:  # one bad update must not stop the bot; the user hears about it
            ref = uuid.uuid4().hex[:8]
            log.exception("update from %s failed (reference %s)", ctx.user_id, ref)
            try:
                if ctx.callback is not None:
                    await ctx.answer()
                await ctx.reply(ctx.t("error", ref=ref))
            except Exception:
                log.exception("could not tell %s about reference %s", ctx.user_id, ref)

    async def _refused(self, ctx: Ctx, exc: BaseException) -> None:
        """A call of the handler Telegram refused (or a 500 kurigram gave up on): the user reads
        what refusals.py says of it, unless it needs no word or cannot reach them."""
        kind = refusals.kind_of(exc)
        log.info("update from %s: Telegram refused %s with %s", ctx.user_id,
                 refusals.method_of(exc) or "a call", refusals.error_id(exc))
        if refusals.is_harmless(kind) or kind == "specific:bot_blocked":
            return  # done already, or the bot may not write to them
        text = "❌ " + telegram_error(exc).message(ctx.lang)
        try:
            if ctx.callback is not None:
                with contextlib.suppress(tg.RPCError, TimeoutError):
                    await ctx.answer()
            await ctx.reply(text)
        except tg.FloodWait as again:
            # the bot may not write for a while: it says so once it may
            task = asyncio.get_running_loop().create_task(
                self._tell_later(ctx.client, ctx.user_id, float(again.value or 1), text))
            self._later.add(task)
            task.add_done_callback(self._told_later)
        except (tg.RPCError, TimeoutError) as again:
            log.info("could not tell %s of the refusal: %s", ctx.user_id,
                     refusals.error_id(again))

    async def _tell_later(self, client: Client, user_id: int, seconds: float,
                          text: str) -> None:
        await self.svc.telegram.sleep(seconds)
        await client.send_message(user_id, text)

    def _told_later(self, task: asyncio.Task) -> None:
        self._later.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("could not tell about a refusal later: %r", task.exception())
