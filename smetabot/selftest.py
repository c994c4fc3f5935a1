"""``smetabot selftest``: walk every Telegram call the product depends on, and say what happened.

The first place SmetaBot meets the real Telegram is an operator's server. This command, run
after ``init`` and before inviting contractors, does once what the product does every day —
the bot logs in, a user account makes a protected channel and appoints the bot, the bot makes
an invite link and publishes a watermarked page, the account reads its views — then deletes
what it made. Each step is timed and reported with Telegram's own error and the words a
contractor would read (``refusals.explain``); ``--json`` writes the same for a bug report,
without the token, session strings or phone numbers. ``--sandbox`` walks the same steps
against the built-in emulator (the suite's check of this module).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from smetabot import __version__, errors, refusals
from smetabot import config as config_mod

if TYPE_CHECKING:
    from pyrogram import Client

    from smetabot.render.pipeline import RenderSettings
    from smetabot.telegram.connect import Telegram

# pyrogram, the render pipeline and publishing are imported where the walk uses them: every
# CLI command imports this module (to register it), and most never talk to Telegram.

log = logging.getLogger(__name__)

OK, FAILED, SKIPPED, FALLBACK = "ok", "FAILED", "skipped", "fallback"
MARKS = {OK: "✓", FAILED: "✗", SKIPPED: "–", FALLBACK: "!"}
TITLE = "SmetaBot selftest"


@dataclass
class Step:
    """One step of the walk and what came of it."""

    key: str
    name: str
    expected: str
    required: bool  # the product cannot work without it: a failure makes the exit non-zero
    status: str = SKIPPED
    happened: str = "not run"
    seconds: float = 0.0
    error: str | None = None  # Telegram's error, as kurigram names it
    method: str | None = None  # the Telegram method that refused
    contractor_en: str | None = None  # what the product tells a contractor in that case
    contractor_ru: str | None = None


class Skip(Exception):
    """The step cannot be checked from here; the message says why."""


class Fallback(Exception):
    """Telegram refused in a way the product works around; the message says how."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message)
        self.cause = cause


def _steps() -> list[Step]:
    return [
        Step("bot_login", "Bot logs in", "the token is accepted; the bot's @username",
             True),
        Step("bot_commands", "Bot's commands", "readable (serve sets /start /menu /cancel "
             "/help when it starts)", False),
        Step("public_url", "Public URL", "answers over HTTPS with the login page", True),
        Step("user_login", "User account logs in", "a user session (typed in, or a "
             "connected contractor's)", True),
        Step("channel_create", "Private channel", "created by the user account", True),
        Step("no_forwards", "Forwarding off", "the channel's content protected", True),
        Step("bot_admin", "Bot made admin", "with the product's rights (post, edit, delete, "
             "invite)", True),
        Step("invite_create", "Invite link", "made by the bot, with join requests", True),
        Step("invite_revoke", "Invite link revoked", "the link stops working", True),
        Step("render", "Watermarked page", "one page rendered with its watermark", True),
        Step("publish", "Page published", "a protected document, as the product posts it",
             True),
        Step("views", "View count", "read by the user account (GetMessagesViews)", False),
        Step("duplicate", "Duplicate send", "refused: the same random_id again "
             "(RANDOM_ID_DUPLICATE)", True),
        Step("channel_delete", "Test channel deleted", "gone from the user account", False),
        Step("logout", "Session logged out", "the session made here ends (a contractor's "
             "is kept)", False),
    ]


def _is_refusal(exc: BaseException) -> bool:
    """Telegram's answer (an RPC error, or a 500-class one kurigram gave up retrying)."""
    from pyrogram.errors import RPCError

    return isinstance(exc, (RPCError, TimeoutError))


def _describe(exc: BaseException) -> str:
    """A refusal in one line: Telegram's error and the method, never the request's data."""
    if _is_refusal(exc):
        ident = refusals.error_id(exc)
        method = refusals.method_of(exc)
        return f"refused: {ident}" + (f" ({method})" if method else "")
    return f"{type(exc).__name__}: {exc}"[:300]


class Walk:
    """The steps, run in order against one ``Telegram``; cleans up whatever happens."""

    def __init__(self, telegram: Telegram, settings: RenderSettings, workdir: Path, *,
                 public_url: str | None, contractor_session: str | None = None,
                 interactive_login: bool = False, timeout: float = 60.0) -> None:
        self.telegram = telegram
        self.settings = settings
        self.workdir = workdir
        self.public_url = public_url
        self.contractor_session = contractor_session
        self.interactive_login = interactive_login
        self.timeout = timeout
        self.steps = {step.key: step for step in _steps()}
        self.bot: Client | None = None
        self.client: Client | None = None  # the user account's (a contractor's, or made here)
        self.admin: Client | None = None  # who acts as the channel's admin: the bot, or (the
        # fallback) the user account
        self.own_session = False  # the user session was made here, so it is logged out here
        self.chat_id: int | None = None
        self.invite: str | None = None
        self.page: Path | None = None
        self.message_id: int | None = None
        self.random_id: int | None = None
        self.secrets: list[str] = [telegram.bot_token, contractor_session or ""]

    # -- running ----------------------------------------------------------------------

    async def run(self) -> list[Step]:
        """Every step, then the cleanup (also when interrupted)."""
        try:
            await self._walk()
        finally:
            await self._cleanup()
        return list(self.steps.values())

    async def _step(self, key: str, action: Callable[[], Awaitable[str]],
                    needs: tuple[str, ...] = ()) -> bool:
        step = self.steps[key]
        # a step worked around (the fallback) still lets the steps after it run
        missing = [self.steps[n] for n in needs if self.steps[n].status not in (OK, FALLBACK)]
        if missing:
            step.status, step.happened = SKIPPED, f"not checked: needs “{missing[0].name}”"
            return False
        started = time.monotonic()
        # Typing a phone number and a code takes longer than Telegram should.
        limit = None if key == "user_login" and self.interactive_login else self.timeout
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                step.happened = self._scrub(await action())
            step.status = OK
        except TimeoutError as exc:
            step.status = FAILED
            if deadline.expired():
                step.happened = f"no answer from Telegram within {self.timeout:g} s"
            else:  # kurigram gave up retrying a 500-class answer
                step.happened = self._scrub(_describe(exc))
                self._refusal(step, exc)
        except Skip as exc:
            step.status, step.happened = SKIPPED, self._scrub(str(exc))
        except Fallback as exc:
            step.status, step.happened = FALLBACK, self._scrub(str(exc))
            self._refusal(step, exc.cause)
        except asyncio.CancelledError:
            step.status, step.happened = FAILED, "interrupted"
            raise
        except Exception as exc:  # every failure is the step's report
            step.status, step.happened = FAILED, self._scrub(_describe(exc))
            if _is_refusal(exc):
                self._refusal(step, exc)
            else:
                log.debug("selftest step %s failed", key, exc_info=exc)
        finally:
            step.seconds = time.monotonic() - started
        return step.status == OK

    def _refusal(self, step: Step, exc: BaseException) -> None:
        step.error = refusals.error_id(exc)
        step.method = refusals.method_of(exc)
        step.contractor_en = refusals.explain(exc, "en", step.method)
        step.contractor_ru = refusals.explain(exc, "ru", step.method)

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    async def _walk(self) -> None:
        await self._step("bot_login", self._bot_login)
        await self._step("bot_commands", self._bot_commands, ("bot_login",))
        await self._step("public_url", self._public_url)
        await self._step("user_login", self._user_login)
        await self._step("channel_create", self._channel_create, ("user_login",))
        await self._step("no_forwards", self._no_forwards, ("channel_create",))
        await self._step("bot_admin", self._bot_admin, ("channel_create", "bot_login"))
        await self._step("invite_create", self._invite_create, ("bot_admin",))
        await self._step("invite_revoke", self._invite_revoke, ("invite_create",))
        await self._step("render", self._render)
        await self._step("publish", self._publish, ("bot_admin", "render"))
        await self._step("views", self._views, ("publish",))
        await self._step("duplicate", self._duplicate, ("publish",))

    async def _cleanup(self) -> None:
        # Also after Ctrl-C: asyncio.run cancels the walk once, and these calls then run.
        if self.chat_id is not None:
            await self._step("channel_delete", self._channel_delete)
        if self.client is not None and self.client.is_connected:
            if self.own_session:
                await self._step("logout", self._logout)
            else:
                step = self.steps["logout"]
                step.status, step.happened = SKIPPED, "kept: the session is the contractor's"
                with contextlib.suppress(Exception):
                    await self.client.stop()
        for client in (self.bot,):
            if client is not None and client.is_connected:
                with contextlib.suppress(Exception):
                    await client.stop()

    # -- the steps ----------------------------------------------------------------------

    async def _bot_login(self) -> str:
        from pyrogram import errors as tg

        from smetabot.maintenance import telegram_failure

        self.bot = self.admin = self.telegram.bot_client()
        # A serve may be running with the same bot: leave its updates to it.
        self.bot.no_updates = True
        try:
            await self.bot.start()
        except Exception as exc:
            if isinstance(exc, tg.RPCError):
                raise
            raise RuntimeError(telegram_failure(exc, timeout=self.timeout)) from exc
        me = self.bot.me
        if not me.is_bot:
            raise RuntimeError("the token logged in an account that is not a bot")
        return f"@{me.username}"

    async def _bot_commands(self) -> str:
        found = []
        for code in ("", "ru"):
            commands = await self.bot.get_bot_commands(language_code=code)
            if commands:
                found.append(f"{code or 'default'}: " + " ".join(f"/{c.command}"
                                                                 for c in commands))
        return "; ".join(found) or "none yet: serve sets them when it starts"

    async def _public_url(self) -> str:
        if self.public_url is None:
            raise Skip("not checked: the sandbox has no public URL")
        import aiohttp

        url = f"{self.public_url.rstrip('/')}/webapp/login"
        if not url.startswith("https://"):
            raise RuntimeError(f"{url} is not HTTPS: Telegram opens the WebApp over HTTPS only")
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http, \
                    http.get(url) as answer:
                status, body = answer.status, await answer.text(errors="replace")
        except (aiohttp.ClientConnectorError, TimeoutError, OSError) as exc:
            raise Skip(f"not reachable from here ({type(exc).__name__}); open {url} from a "
                       "phone to check") from exc
        except aiohttp.ClientError as exc:
            raise RuntimeError(f"{url}: {type(exc).__name__}: {exc}") from exc
        if status != 200 or "SmetaBot" not in body:
            raise RuntimeError(f"{url} answered {status}, not SmetaBot's login page: is "
                               "`smetabot serve` running behind that address?")
        return f"{url}: 200, the login page"

    async def _user_login(self) -> str:
        telegram = self.telegram
        if self.contractor_session:
            self.client = telegram.user_client("selftest", self.contractor_session)
            await self.client.start()
            return f"the connected contractor {self.client.me.id} (session kept)"
        if telegram.sandbox:
            emulator = telegram.emulator
            user_id = emulator.create_user("Selftest", language_code="en")
            session = emulator.session_string(user_id)
            self.secrets.append(session)
            self.client = telegram.user_client("selftest", session)
            self.own_session = True
            await self.client.start()
            return f"an emulated user {user_id}"
        self.client = telegram.user_client("selftest")
        self.own_session = True  # even half-made, it is ours to end
        typer.echo("Log in a Telegram user account (phone, code, cloud password if set); "
                   "it is logged out at the end.", err=True)
        await self.client.start()  # kurigram asks in the terminal
        return f"user {self.client.me.id} logged in here"

    async def _channel_create(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        chat = await self.client.create_channel(f"{TITLE} {stamp}",
                                              "Made by smetabot selftest; deleted at its end.")
        self.chat_id = chat.id
        return f"channel {chat.id}"

    async def _no_forwards(self) -> str:
        from pyrogram import raw

        await self.client.set_chat_protected_content(self.chat_id, True)
        peer = await self.client.resolve_peer(self.chat_id)
        answer = await self.client.invoke(raw.functions.channels.GetChannels(id=[
            raw.types.InputChannel(channel_id=peer.channel_id, access_hash=peer.access_hash)]))
        if not answer.chats[0].noforwards:
            raise RuntimeError("Telegram accepted the call, but the channel is not protected")
        return "noforwards on"

    async def _bot_admin(self) -> str:
        from pyrogram import errors as tg
        from pyrogram import raw

        from smetabot.channels import BOT_RIGHTS

        try:
            await self.client.promote_chat_member(self.chat_id, self.bot.me.username, BOT_RIGHTS)
        except tg.FreshChangeAdminsForbidden as exc:
            self.admin = self.client  # as the product does meanwhile
            raise Fallback(
                "refused: FRESH_CHANGE_ADMINS_FORBIDDEN (a fresh login may not appoint admins "
                "yet). Until Telegram allows it (usually within a day) the product makes the "
                "link and posts the pages from the contractor's own account, and retries "
                "making the bot admin on its own; the next steps check that way. Run selftest "
                "again with --contractor ID later to check the bot's", exc) from exc
        # Read back as raw TL: what Telegram recorded, whatever pyrogram makes of it.
        answer = await self.client.invoke(raw.functions.channels.GetParticipant(
            channel=await self.client.resolve_peer(self.chat_id),
            participant=await self.client.resolve_peer(self.bot.me.username)))
        rights = getattr(answer.participant, "admin_rights", None)
        wanted = ("post_messages", "edit_messages", "delete_messages", "invite_users")
        missing = [name for name in wanted if not getattr(rights, name, False)]
        if missing:
            raise RuntimeError("the bot is admin without " + ", ".join(missing))
        return "admin: post, edit, delete, invite"

    @property
    def by(self) -> str:
        return "" if self.admin is self.bot else " (by the user account: the fallback)"

    async def _invite_create(self) -> str:
        invite = await self.admin.create_chat_invite_link(self.chat_id, name="selftest",
                                                          creates_join_request=True)
        self.invite = invite.invite_link
        if not invite.creates_join_request:
            raise RuntimeError("the link was made without join requests")
        return "a link that asks for approval" + self.by

    async def _invite_revoke(self) -> str:
        revoked = await self.admin.revoke_chat_invite_link(self.chat_id, self.invite)
        if not revoked.is_revoked:
            raise RuntimeError("Telegram answered, but the link is not revoked")
        return "revoked"

    async def _render(self) -> str:
        from smetabot.publishing import new_tracking_code

        code = new_tracking_code()
        self.page = await asyncio.to_thread(render_test_page, self.workdir, self.settings,
                                            f"{TITLE} · #{code}")
        return f"page 1 with watermark #{code}: {self.page.stat().st_size // 1024} KB PNG"

    async def _send(self) -> list[int]:
        from smetabot import texts
        from smetabot.publishing import send_album

        peer = await self.admin.resolve_peer(self.chat_id)
        caption = texts.t("publish.caption", texts.EN, title=TITLE, pages="1", total=1)
        name = f"{TITLE} — {texts.t('publish.page_word', texts.EN)} 1.png"
        # The product's own sending code.
        return await send_album(self.admin, peer, [self.page], [self.random_id], caption,
                                [name])

    async def _publish(self) -> str:
        from pyrogram import raw

        from smetabot.publishing import new_random_id

        self.random_id = new_random_id()
        ids = await self._send()
        if not ids:
            raise RuntimeError("Telegram answered without the message's id")
        self.message_id = ids[0]
        # Read back as raw TL: the post as Telegram keeps it.
        channel = await self.admin.resolve_peer(self.chat_id)
        answer = await self.admin.invoke(raw.functions.channels.GetMessages(
            channel=channel, id=[raw.types.InputMessageID(id=self.message_id)]))
        post = next((m for m in answer.messages if m.id == self.message_id), None)
        media = getattr(post, "media", None)
        if not isinstance(media, raw.types.MessageMediaDocument) or media.document is None:
            raise RuntimeError("the page arrived, but not as a document")
        if not post.noforwards:  # a user's post is protected by its channel's setting
            chats = await self.admin.invoke(raw.functions.channels.GetChannels(id=[
                raw.types.InputChannel(channel_id=channel.channel_id,
                                       access_hash=channel.access_hash)]))
            if not chats.chats[0].noforwards:
                raise RuntimeError("the page arrived unprotected (forwarding and saving "
                                   "allowed)")
        thumbs = "with a thumbnail" if media.document.thumbs else "no thumbnail"
        return f"message {self.message_id}: protected document, {thumbs}{self.by}"

    async def _views(self) -> str:
        from pyrogram import raw

        peer = await self.client.resolve_peer(self.chat_id)
        answer = await self.client.invoke(raw.functions.messages.GetMessagesViews(
            peer=peer, id=[self.message_id], increment=False))
        return f"{answer.views[0].views or 0} view(s)"

    async def _duplicate(self) -> str:
        from pyrogram import errors as tg

        try:
            sent = await self._send()
        except tg.RandomIdDuplicate:
            return "refused as expected (RANDOM_ID_DUPLICATE)"
        except TimeoutError:
            return "refused as expected (500 RANDOM_ID_DUPLICATE, given up by kurigram)"
        raise RuntimeError(f"Telegram posted the page a second time (message {sent}): a "
                           "retried publication would appear twice")

    async def _channel_delete(self) -> str:
        chat_id, self.chat_id = self.chat_id, None
        try:
            await self.client.delete_channel(chat_id)
        except Exception:
            self.chat_id = chat_id
            raise
        return f"channel {chat_id} deleted"

    async def _logout(self) -> str:
        client, self.client = self.client, None
        await client.log_out()
        return "logged out"


def render_test_page(workdir: Path, settings: RenderSettings, watermark: str) -> Path:
    """One page rendered by the pipeline's own functions (as its render_page task does)."""
    import pymupdf

    from smetabot.render.pdf import open_pdf
    from smetabot.render.pdf import render_page as rasterise
    from smetabot.render.png import encode_page
    from smetabot.render.watermark import apply_watermark

    source = workdir / "selftest.pdf"
    with pymupdf.open() as doc:
        page = doc.new_page()
        page.insert_text((72, 100), "SmetaBot selftest", fontsize=28)
        page.insert_text((72, 140), "One page published to check Telegram.", fontsize=14)
        doc.save(source)
    with open_pdf(source) as doc:
        rendered = rasterise(doc, 1, settings.dpi, int(settings.max_megapixels * 1e6),
                             settings.min_dpi)
    image = apply_watermark(rendered.image, watermark, rendered.dpi)
    target = workdir / "selftest-page-1.png"
    target.write_bytes(encode_page(image, rendered.dpi, settings.png_level))
    return target


# -- the report -------------------------------------------------------------------------


def exit_code(steps: list[Step]) -> int:
    """69 when a step the product cannot work without failed, else 0."""
    failed = any(s.required and s.status == FAILED for s in steps)
    return errors.EXIT_UNAVAILABLE if failed else errors.EXIT_OK


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    # Never split a word (an error name, a link) across lines.
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def table(steps: list[Step]) -> str:
    """The steps as a text table, then what a contractor would read for each refusal."""
    widths = (24, 34, 46)
    head = f"   {'step':<{widths[0]}} {'expected':<{widths[1]}} {'what happened':<{widths[2]}}" \
           "   time"
    lines = [head, "-" * len(head)]
    for step in steps:
        cells = [_wrap(text, width) or [""] for text, width in
                 zip((step.name, step.expected, f"{step.status}: {step.happened}"), widths)]
        for row in range(max(len(c) for c in cells)):
            parts = [c[row] if row < len(c) else "" for c in cells]
            mark = MARKS[step.status] if row == 0 else " "
            time_cell = f"{step.seconds:6.2f}s" if row == 0 and step.status != SKIPPED else ""
            lines.append(f"{mark}  {parts[0]:<{widths[0]}} {parts[1]:<{widths[1]}} "
                         f"{parts[2]:<{widths[2]}} {time_cell}".rstrip())
    notes = [s for s in steps if s.error]
    if notes:
        lines.append("")
    for step in notes:
        where = f" in {step.method}" if step.method else ""
        lines.append(f"{MARKS[step.status]} {step.name}: Telegram answered {step.error}{where}.")
        lines += _wrap(f"A contractor would read: {step.contractor_en}", 100, "  ")
        lines += _wrap(f"По-русски: {step.contractor_ru}", 100, "  ")
    return "\n".join(lines)


def summary(steps: list[Step]) -> str:
    """One closing line."""
    failed = [s.name for s in steps if s.status == FAILED]
    required = [s.name for s in steps if s.status == FAILED and s.required]
    skipped = [s for s in steps if s.status in (SKIPPED, FALLBACK)]
    if required:
        return ("Telegram check FAILED: " + ", ".join(required) + ". The product needs "
                "these steps; fix them before inviting contractors.")
    if failed:
        return "Telegram check passed with problems: " + ", ".join(failed) + "."
    if skipped:
        return (f"Telegram check passed; {len(skipped)} step(s) not checked or worked around "
                "(see above).")
    return "Telegram check passed: every step works."


def report(steps: list[Step], mode: str) -> dict[str, Any]:
    """What ``--json`` writes (nothing secret: no token, session or phone number)."""
    return {"smetabot": __version__, "mode": mode,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "exit_code": exit_code(steps), "summary": summary(steps),
            "steps": [asdict(s) for s in steps]}


# -- the command ----------------------------------------------------------------------


@dataclass
class Options:
    sandbox: bool = False
    data_dir: Path | None = None
    config_file: Path | None = None
    contractor: int | None = None
    json_file: Path | None = None
    timeout: float = 60.0


def run(options: Options, emulator: Any = None) -> int:
    """The whole command: set up, walk, print, write the JSON; returns the exit code.
    ``emulator`` replaces the sandbox's own (tests inject failures through it)."""
    from smetabot.render.pipeline import RenderSettings
    from smetabot.telegram.connect import choose

    throwaway: Path | None = None
    lock: Any = None
    try:
        path = config_mod.config_path(options.config_file)
        if options.sandbox:
            cfg = config_mod.load(path if options.config_file else None)
        else:
            if not path.exists():
                raise errors.ConfigError(problem=f"no config at {path}: run `smetabot init` "
                                                 "first (or try `smetabot selftest --sandbox`)")
            cfg = config_mod.load(path)
            cfg.require_complete()
        data_dir = options.data_dir
        if data_dir is None and options.sandbox and not options.config_file:
            throwaway = data_dir = Path(tempfile.mkdtemp(prefix="smetabot-selftest-"))
        data_dir = data_dir or Path(cfg["storage.data_dir"])
        session = None
        if options.contractor is not None:
            session = _contractor_session(cfg, data_dir, options)
        elif not options.sandbox and not sys.stdin.isatty():
            typer.echo("Error: the user account logs in in a terminal (phone, code, cloud "
                       "password); run selftest in one, or pass --contractor ID to use a "
                       "connected contractor's account", err=True)
            return errors.EXIT_USAGE
        if options.sandbox:
            # The sandbox's Telegram lives in the data dir: not while a sandbox serve uses it.
            from smetabot.maintenance import ServeLock

            lock = ServeLock(data_dir).acquire()
        workdir = Path(tempfile.mkdtemp(prefix="smetabot-selftest-work-"))
        try:
            telegram = choose(cfg, data_dir, workdir, sandbox=options.sandbox,
                              emulator=emulator)
            walk = Walk(telegram, RenderSettings.from_config(cfg.section("render")), workdir,
                        public_url=None if options.sandbox else cfg["server.public_url"],
                        contractor_session=session, timeout=options.timeout,
                        interactive_login=not options.sandbox and session is None)
            interrupted = False
            try:
                asyncio.run(walk.run())
            except KeyboardInterrupt:
                interrupted = True
            steps = list(walk.steps.values())
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    except errors.SmetaBotError as exc:
        typer.echo(f"Error: {exc.message('en')}", err=True)
        return exc.exit_code
    finally:
        if lock is not None:
            lock.release()
        if throwaway is not None:
            shutil.rmtree(throwaway, ignore_errors=True)
    mode = "sandbox" if options.sandbox else "telegram"
    against = "the built-in emulator" if options.sandbox else "Telegram"
    typer.echo(f"SmetaBot {__version__} selftest against {against}")
    typer.echo(table(steps))
    typer.echo("")
    typer.echo("Interrupted; the last steps show what was cleaned up." if interrupted else summary(steps))
    if options.json_file is not None:
        try:
            options.json_file.write_text(json.dumps(report(steps, mode), ensure_ascii=False,
                                                    indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            typer.echo(f"Error: cannot write {options.json_file}: {exc.strerror}", err=True)
            return errors.EXIT_CANTCREAT
        typer.echo(f"Wrote {options.json_file} (no token, session or phone number in it).")
    return 130 if interrupted else exit_code(steps)


def _contractor_session(cfg: Any, data_dir: Path, options: Options) -> str:
    from smetabot.vault import Vault

    key_file = data_dir / "sandbox.key"
    if options.sandbox:
        if not key_file.exists():
            raise errors.ConfigError(problem=f"{data_dir} holds no sandbox's sessions")
        secret_key = key_file.read_text().strip()
    else:
        secret_key = cfg["security.secret_key"]
    vault = Vault(data_dir / "sessions", secret_key)
    vault.open()
    session = vault.load(options.contractor)
    if session is None:
        raise errors.ConfigError(problem=(
            f"no connected contractor {options.contractor} in {data_dir / 'sessions'}: "
            "`smetabot contractors list` shows who is connected"))
    return session


def command(
    sandbox: bool = typer.Option(False, "--sandbox", help="Walk the steps against the built-in "
                                 "Telegram emulator: no token, no network."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory."),
    config_file: Path | None = typer.Option(None, "--config", help="Config file "
                                            "(default: ./config.toml)."),
    contractor: int | None = typer.Option(None, "--contractor", help="Use this connected "
                                          "contractor's account instead of logging one in."),
    json_file: Path | None = typer.Option(None, "--json", help="Also write the results to "
                                          "this file, to attach to a report."),
    timeout: float = typer.Option(60.0, "--timeout", min=1, max=600,
                                  help="Seconds each step may take."),
) -> None:
    """Check every Telegram call SmetaBot makes, step by step (run it after init)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyrogram").setLevel(logging.CRITICAL)  # each step says it in a line
    code = run(Options(sandbox=sandbox, data_dir=data_dir, config_file=config_file,
                       contractor=contractor, json_file=json_file, timeout=timeout))
    raise typer.Exit(code)

