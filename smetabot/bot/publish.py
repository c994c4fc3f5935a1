"""📄 Рендер файлов: a document in, pages picked, watermark, channel, published.

The wizard's answers live in the conversation state; the long work (previews, rendering,
publishing) runs as background jobs whose state is in the database, so the bot answers other
contractors meanwhile and a restart resumes them (:func:`resume`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from pyrogram import Client
from pyrogram import errors as tg
from pyrogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from smetabot import errors, refusals, texts
from smetabot.bot import approvals, channels
from smetabot.bot.menu import main_menu, require_account
from smetabot.bot.router import Ctx, Router, sent_at
from smetabot.channel_records import ClientChannel
from smetabot.contractors import WATERMARK_LIMIT
from smetabot.conversations import State, set_state
from smetabot.errors import LimitReached
from smetabot.publication_records import Publication, Upload, document_title
from smetabot.publishing import fixed_random_id, send_photo_once
from smetabot.render import contact
from smetabot.render.pages import PageSyntaxError, parse_pages
from smetabot.services import Services
from smetabot.statuses import ChannelStatus, UploadStatus

log = logging.getLogger(__name__)

FLOW = "publish"
# Page toggles per keyboard screen, four across: the rows of a contact sheet, and wide enough
# that "✓107" reads whole on a 390 px phone (five across cut "✓10" there).
WINDOW = contact.SHEET_PAGES
PER_ROW = contact.COLUMNS
NAV_PER_ROW = 3  # "101–120" reads whole three across
PRESELECT_UP_TO = 20  # longer documents start with nothing selected: the contractor chooses
TITLE_LIMIT = 100
PROGRESS_EVERY = 1.0  # seconds between edits of a status message


# -- small helpers ----------------------------------------------------------------------------

def ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``"1–3, 5"``."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def failure_text(lang: str, exc: BaseException) -> str:
    """What to tell the contractor about a failed job: the file's fault, Telegram's refusal
    (in refusals.py's words), or — logged once with a reference — ours."""
    if isinstance(exc, errors.SmetaBotError) and type(exc) is not errors.ServiceError:
        return "❌ " + exc.message(lang, detail=False)
    if isinstance(exc, (tg.RPCError, TimeoutError)):
        return "❌ " + refusals.explain(exc, lang)
    ref = uuid.uuid4().hex[:8]
    trace = getattr(exc, "trace", None)
    log.error("job failed (reference %s)%s", ref, f"\nIn the worker:\n{trace}" if trace else "",
              exc_info=exc)
    return texts.t("error", lang, ref=ref)


def retryable(exc: BaseException) -> bool:
    """Whether trying the same publication again may work (Telegram refused or had trouble;
    not a problem of the file)."""
    return isinstance(exc, (tg.RPCError, TimeoutError, errors.TelegramRefused))


class StatusMessage:
    """A message edited as work advances, no more often than once a second."""

    def __init__(self, bot: Client, chat_id: int, message_id: int | None) -> None:
        self.bot, self.chat_id, self.message_id = bot, chat_id, message_id
        self._shown = ""
        self._at = 0.0

    async def show(self, text: str, force: bool = False, reply_markup: Any = None) -> None:
        if text == self._shown or (not force and time.monotonic() - self._at < PROGRESS_EVERY):
            return
        self._shown, self._at = text, time.monotonic()
        try:
            if self.message_id is not None:
                try:
                    await self.bot.edit_message_text(self.chat_id, self.message_id, text,
                                                     reply_markup=reply_markup)
                    return
                except tg.MessageNotModified:
                    return
                except (tg.MessageIdInvalid, tg.MessageEditTimeExpired):
                    self.message_id = None  # deleted by the contractor, or too old: a new one
            sent = await self.bot.send_message(self.chat_id, text, reply_markup=reply_markup)
            self.message_id = sent.id
        except (tg.UserIsBlocked, tg.InputUserDeactivated, tg.PeerIdInvalid) as exc:
            # The contractor blocked the bot (or is gone): the work goes on; the result waits
            # in the database and in the channel.
            log.info("cannot tell %s about the work (%s)", self.chat_id, exc.ID)


# -- receiving a document ---------------------------------------------------------------------

async def start(ctx: Ctx) -> None:
    """The menu button: ask for a file (after saying what the plan still allows)."""
    if not await require_account(ctx) or not await _plan_allows(ctx):
        return
    await ctx.set_state(FLOW, "file")
    await ctx.reply(ctx.t("publish.send_file", limit=ctx.svc.settings.max_file_mb) +
                    await _left_this_month(ctx))


async def _plan_allows(ctx: Ctx) -> bool:
    """False (and the contractor told why) when the plan allows no more publications."""
    decision = await ctx.svc.billing.can_publish(ctx.user_id)
    if not decision.allowed:
        await ctx.reply("❌ " + LimitReached(decision).message(ctx.lang),
                        reply_markup=main_menu(ctx))
    return decision.allowed


async def _left_this_month(ctx: Ctx) -> str:
    """"\n\nОсталось N из M публикаций в этом месяце." when the plan has a limit."""
    decision = await ctx.svc.billing.can_publish(ctx.user_id)
    if decision.limit is None:
        return ""
    return "\n\n" + ctx.t("publish.left", left=max(decision.limit - decision.used, 0),
                           limit=decision.limit)


def _has_document(message: Message) -> bool:
    return message.document is not None


async def _takes(ctx: Ctx, name: str, size: int | None) -> bool:
    """Whether a document can be taken now (if not, the contractor was told why)."""
    if not await require_account(ctx):
        return False
    try:
        ctx.svc.publishing.check_file(name, size)
    except errors.DocumentError as exc:
        await ctx.reply("❌ " + exc.message(ctx.lang, detail=False))
        return False
    return await _plan_allows(ctx)


async def on_document(ctx: Ctx) -> None:
    """A document sent at any time starts a publication. First thing, it is claimed with a
    receipt: a crash then leaves it either unhandled (Telegram hands it again, as it does with
    recent updates after a restart) or answered from its receipt, never handled twice."""
    message = ctx.message
    assert message is not None and message.document is not None
    document = message.document
    name = document.file_name or "document"
    records = ctx.svc.publishing.records
    receipt = await records.claim_receipt(ctx.user_id, message.id, sent_at(message), name,
                                          ctx.lang)
    if receipt is None:
        return  # handled before a restart: its receipt or its upload carries on
    status = None
    try:
        if await _takes(ctx, name, document.file_size):
            status = await ctx.reply(ctx.t("publish.received", file=name) +
                                     await _left_this_month(ctx))
            await records.set_receipt(receipt, status.id)
    finally:
        if status is None:  # refused, or failed: nothing to answer from the receipt
            await records.drop_receipt(receipt)
    if status is None:
        return

    async def download(path: Any) -> None:
        await ctx.client.download_media(message, file_name=str(path))

    async def previewing(tx: Any, upload_id: str) -> None:
        # With the upload's row, in its transaction: a crash cannot leave the contractor's
        # wizard on an older document, which would keep this one's picker from showing.
        ctx.state = State(FLOW, "previewing", {"upload_id": upload_id, "selected": [],
                                               "offset": 0})
        await set_state(tx, ctx.user_id, ctx.state)

    try:
        await ctx.svc.publishing.receive(ctx.user_id, name, document.file_size or 0, download,
                                         ctx.lang, status.id, receipt=receipt, also=previewing)
    except errors.DocumentError as exc:
        await ctx.client.edit_message_text(ctx.user_id, status.id,
                                           "❌ " + exc.message(ctx.lang, detail=False))


def initial_selection(pages: int) -> list[int]:
    """What the picker starts with: every page of a short document; nothing of a long one,
    so a contractor never publishes 100 pages without choosing to."""
    return list(range(1, pages + 1)) if pages <= PRESELECT_UP_TO else []


# -- picking pages ----------------------------------------------------------------------------

def _data(upload: Upload, command: str, argument: object = "") -> str:
    """Callback data of a wizard button, tied to its document (a button of another document,
    or of a finished wizard, then says so instead of acting)."""
    return f"pub:{upload.id}:{command}:{argument}"


def sheet_keyboard(upload: Upload, pages: list[int]) -> InlineKeyboardMarkup:
    """The page numbers of a contact sheet as buttons, laid out as the sheet is (four across),
    each short enough to read whole on a phone: a press shows that page larger."""
    columns, _rows = contact.grid(len(pages))
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(str(number), callback_data=_data(upload, "v", number))
         for number in pages[at:at + columns]]
        for at in range(0, len(pages), columns)])


async def show_page(ctx: Ctx, upload_id: str, argument: str) -> None:
    """A number under a contact sheet: that page larger, as a photo (a page too long for a
    photo, as a document). It works as long as the document is kept, whatever step the
    wizard is at: looking changes nothing."""
    number = int(argument) if argument.isdigit() else 0
    upload = await ctx.svc.publishing.upload(upload_id)
    if upload is None or upload.contractor_id != ctx.user_id or not upload.pdf_path or \
            not 1 <= number <= (upload.pages or 0):
        await ctx.answer(ctx.t("stale"))
        return
    await ctx.answer(ctx.t("publish.page_view_wait", number=number))
    try:
        view = await ctx.svc.publishing.page_view(ctx.user_id, upload_id, number)
    except errors.SmetaBotError as exc:
        await ctx.reply(failure_text(ctx.lang, exc))
        return
    if view is None:  # expired meanwhile
        await ctx.reply(ctx.t("publish.gone"))
        return
    caption = ctx.t("publish.page_view", file=upload.file_name, number=number,
                    total=upload.pages)
    if view["photo"]:
        await ctx.client.send_photo(ctx.user_id, view["path"], caption=caption)
    else:
        await ctx.client.send_document(
            ctx.user_id, view["path"], caption=caption,
            file_name=f"{document_title(upload.file_name)[:80]} — "
                      f"{ctx.t('publish.page_word')} {number}.png")


def picker(ctx: Ctx, upload: Upload) -> tuple[str, InlineKeyboardMarkup]:
    """The page picker's text and keyboard for the current selection: numbers short enough
    for a phone, a screen of 20 at a time (the pages of one contact sheet)."""
    assert ctx.state is not None
    selected = set(ctx.state.data.get("selected", []))
    total = upload.pages or 0
    offset = min(max(int(ctx.state.data.get("offset", 0)), 0), max(total - 1, 0))
    offset -= offset % WINDOW
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    for number in range(offset + 1, min(total, offset + WINDOW) + 1):
        label = f"✓{number}" if number in selected else str(number)
        row.append(InlineKeyboardButton(label, callback_data=_data(upload, "t", number)))
        if len(row) == PER_ROW:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    if total > WINDOW:  # every screen of the picker, as the sheets are: "1–20", "21–40", …
        nav = [InlineKeyboardButton(
            ("· " if start == offset else "") + f"{start + 1}–{min(start + WINDOW, total)}",
            callback_data=_data(upload, "nav", start)) for start in range(0, total, WINDOW)]
        rows.extend(nav[at:at + NAV_PER_ROW] for at in range(0, len(nav), NAV_PER_ROW))
    rows.append([InlineKeyboardButton(ctx.t("btn.pages_all"), callback_data=_data(upload, "all")),
                 InlineKeyboardButton(ctx.t("btn.pages_none"),
                                      callback_data=_data(upload, "none"))])
    rows.append([InlineKeyboardButton(ctx.t("btn.next"), callback_data=_data(upload, "next"))])
    chosen = ranges(sorted(selected)) if selected else ctx.t("publish.nothing")
    text = ctx.t("publish.pick", file=upload.file_name, total=total, chosen=chosen,
                 count=len(selected))
    sheets = upload_sheets(upload)
    if len(sheets) > 1:  # which pages belong to which sheet: "Смета: 1–6 · Акт: 7–8"
        text += "\n" + " · ".join(f"{name}: {ranges(list(range(first, last + 1)))}"
                                  for name, first, last in sheets)
    return text, InlineKeyboardMarkup(rows)


def upload_sheets(upload: Upload) -> list[tuple[str, int, int]]:
    """Which pages belong to which sheet of a spreadsheet, when the pipeline says."""
    try:
        return [tuple(sheet) for sheet in json.loads(upload.sheets or "[]")]
    except ValueError:
        return []


async def send_picker(ctx: Ctx, upload: Upload) -> None:
    """Send a fresh page picker and remember it."""
    text, keyboard = picker(ctx, upload)
    sent = await ctx.reply(text, reply_markup=keyboard)
    await ctx.set_state(FLOW, "pages", picker_id=sent.id)


async def _current_upload(ctx: Ctx, quiet: bool = False) -> Upload | None:
    upload_id = ctx.state.data.get("upload_id") if ctx.state and ctx.state.flow == FLOW else None
    upload = await ctx.svc.publishing.upload(upload_id) if upload_id else None
    if upload is None or upload.status != UploadStatus.READY:
        await ctx.clear_state()
        if not quiet:
            await ctx.reply(ctx.t("publish.gone"), reply_markup=main_menu(ctx))
        return None
    return upload


async def _close_keyboard(ctx: Ctx) -> None:
    """A wizard step is answered: its buttons go, so an old one cannot act later."""
    if ctx.callback is not None and ctx.callback.message is not None:
        with contextlib.suppress(tg.RPCError):
            await ctx.callback.message.edit_reply_markup(None)


async def on_callback(ctx: Ctx, action: str) -> None:
    """Buttons of the picker, the watermark question and the channel choice."""
    assert ctx.callback is not None
    parts = action.split(":")
    if parts[0] == "retry" and len(parts) == 2 and parts[1].isdigit():
        await ctx.answer()
        await retry(ctx, int(parts[1]))
        return
    if len(parts) != 3:  # a button of an older version of this wizard
        await ctx.answer(ctx.t("stale"))
        return
    upload_id, command, argument = parts
    if command == "v":
        await show_page(ctx, upload_id, argument)
        return
    if command == "back":
        await ctx.answer()
        await back_to_document(ctx, upload_id)
        return
    current = ctx.state.data.get("upload_id") if ctx.state and ctx.state.flow == FLOW else None
    if current != upload_id:
        await ctx.answer(ctx.t("stale"))
        return
    upload = await _current_upload(ctx)
    if upload is None:
        await ctx.answer()
        return
    assert ctx.state is not None
    data = ctx.state.data
    total = upload.pages or 0
    step_buttons = {"pages": ("t", "all", "none", "nav", "next"),
                    "watermark": ("wm", "title"), "channel": ("ch", "newch")}
    if command not in step_buttons.get(ctx.state.step, ()):
        await ctx.answer(ctx.t("stale"))
        return
    if command in ("t", "all", "none", "nav"):
        selected = set(data.get("selected", []))
        if command == "t" and argument.isdigit() and 1 <= int(argument) <= total:
            selected ^= {int(argument)}
        elif command == "all":
            selected = set(range(1, total + 1))
        elif command == "none":
            selected = set()
        elif command == "nav" and argument.isdigit():
            await ctx.set_state(FLOW, "pages", offset=min(int(argument), max(total - 1, 0)))
        await ctx.set_state(FLOW, "pages", selected=sorted(selected))
        await ctx.answer()
        text, keyboard = picker(ctx, upload)
        with contextlib.suppress(tg.MessageNotModified):
            await ctx.callback.message.edit_text(text, reply_markup=keyboard)
        return
    if command == "next":
        if not data.get("selected"):
            await ctx.answer(ctx.t("publish.pick_something"), show_alert=True)
            return
        await ctx.answer()
        await _close_keyboard(ctx)
        await ask_watermark(ctx, upload)
        return
    await ctx.answer()
    await _close_keyboard(ctx)
    if command == "wm" and argument == "keep":
        await ask_channel(ctx, upload)
    elif command == "wm" and argument == "edit":
        await ctx.set_state(FLOW, "watermark_text")
        await ctx.reply(ctx.t("watermark.ask", limit=WATERMARK_LIMIT))
    elif command == "title":
        await ctx.set_state(FLOW, "title_text")
        await ctx.reply(ctx.t("publish.title_ask", limit=TITLE_LIMIT))
    elif command == "ch" and argument.isdigit():
        await publish(ctx, upload, int(argument))
    elif command == "newch":
        await new_channel(ctx)


async def step(ctx: Ctx) -> None:
    """Text while in the wizard: a range of pages, the watermark text, or the title."""
    assert ctx.state is not None and ctx.message is not None
    text = (ctx.message.text or "").strip()
    if ctx.state.step in ("file", "previewing"):
        await ctx.reply(ctx.t("publish.send_file" if ctx.state.step == "file" else
                              "publish.wait_previews", limit=ctx.svc.settings.max_file_mb))
        return
    upload = await _current_upload(ctx)
    if upload is None:
        return
    if ctx.state.step == "pages":
        try:
            selected = parse_pages(text, upload.pages or 0)
        except (PageSyntaxError, errors.BadPageSelection) as exc:
            words = exc.message(ctx.lang) if isinstance(exc, errors.SmetaBotError) else \
                ctx.t("publish.bad_range")
            await ctx.reply("❌ " + words)
            return
        await ctx.set_state(FLOW, "pages", selected=selected)
        await send_picker(ctx, upload)
    elif ctx.state.step == "watermark_text":
        watermark = " ".join(text.split())
        if not watermark:
            await ctx.reply(ctx.t("watermark.need_text"))
        elif len(watermark) > WATERMARK_LIMIT:
            await ctx.reply(ctx.t("watermark.too_long", length=len(watermark),
                                  limit=WATERMARK_LIMIT))
        else:
            await ctx.set_state(FLOW, "channel", watermark=watermark)
            await ask_channel(ctx, upload)
    elif ctx.state.step == "title_text":
        title = " ".join(text.split())
        if not title or len(title) > TITLE_LIMIT:
            await ctx.reply(ctx.t("publish.title_ask", limit=TITLE_LIMIT))
        else:
            await ctx.set_state(FLOW, "channel", title=title)
            await ask_channel(ctx, upload)
    else:
        await ctx.reply(ctx.t("publish.use_buttons"))


# -- watermark, title and channel -------------------------------------------------------------

async def ask_watermark(ctx: Ctx, upload: Upload) -> None:
    """The watermark and the title the client will read: keep them, or type others."""
    assert ctx.state is not None
    data = ctx.state.data
    watermark = data.get("watermark") or ctx.contractor.watermark
    title = data.get("title") or document_title(upload.file_name)
    await ctx.set_state(FLOW, "watermark", watermark=watermark, title=title)
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(ctx.t("btn.wm_keep"), callback_data=_data(upload, "wm", "keep")),
         InlineKeyboardButton(ctx.t("btn.wm_edit"), callback_data=_data(upload, "wm", "edit"))],
        [InlineKeyboardButton(ctx.t("btn.title_edit"), callback_data=_data(upload, "title"))]])
    await ctx.reply(ctx.t("publish.watermark", watermark=watermark) + "\n\n" +
                    ctx.t("publish.title", title=title), reply_markup=keyboard)


async def ask_channel(ctx: Ctx, upload: Upload) -> None:
    """Which channel: one of theirs, or a new one made right here."""
    await ctx.set_state(FLOW, "channel")
    ready = await ctx.svc.publishing.ready_channels(ctx.user_id)
    rows = [[InlineKeyboardButton(f"📢 {channel.title}",
                                  callback_data=_data(upload, "ch", channel.id))]
            for channel in ready[:20]]
    rows.append([InlineKeyboardButton(ctx.t("btn.new_channel"),
                                      callback_data=_data(upload, "newch"))])
    await ctx.reply(ctx.t("publish.channel" if ready else "publish.no_channels"),
                    reply_markup=InlineKeyboardMarkup(rows))


async def new_channel(ctx: Ctx) -> None:
    """🆕 Новый канал in the middle of a publication: the channel wizard, then back here."""
    assert ctx.state is not None
    pending = dict(ctx.state.data)
    await ctx.clear_state()
    await channels.start(ctx, resume_publish=pending)
    if ctx.state is None:  # the plan allows no more channels: keep the document where it was
        await ctx.set_state(FLOW, "channel", **pending)


async def after_new_channel(ctx: Ctx, pending: dict, channel: Any) -> None:
    """Back to the document after the channel wizard: publish into the new channel when it
    is ready, otherwise ask again."""
    await ctx.clear_state()
    await ctx.set_state(FLOW, "channel", **pending)
    upload = await _current_upload(ctx)
    if upload is None:
        return
    if channel is not None and channel.status == ChannelStatus.READY:
        await ctx.reply(ctx.t("publish.back_to_document", file=upload.file_name))
        await publish(ctx, upload, channel.id)
    else:
        await ask_channel(ctx, upload)


async def interrupted(ctx: Ctx, button: str) -> bool:
    """A menu button pressed in the middle of this wizard. A prepared document is never
    dropped silently: 🆕 Новый канал makes the channel and comes back to publish there; any
    other button does its work, then offers the way back to the document."""
    assert ctx.state is not None and ctx.router is not None
    if ctx.state.step not in ("pages", "watermark", "watermark_text", "title_text", "channel"):
        return False
    upload = await _current_upload(ctx, quiet=True)
    if upload is None:
        return False
    if button == "btn.new_channel":
        await ctx.set_state(FLOW, "channel")
        await new_channel(ctx)
        return True
    await ctx.clear_state()
    await ctx.router.buttons[button](ctx)
    await ctx.reply(ctx.t("publish.parked", file=upload.file_name),
                    reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
                        ctx.t("btn.back_to_document", file=upload.file_name[:40]),
                        callback_data=_data(upload, "back"))]]))
    return True


async def back_to_document(ctx: Ctx, upload_id: str) -> None:
    """↩️ Вернуться к «…»: the page picker of a document left for a menu button."""
    upload = await ctx.svc.publishing.upload(upload_id)
    if upload is None or upload.status != UploadStatus.READY or \
            upload.contractor_id != ctx.user_id:
        await ctx.reply(ctx.t("publish.gone"), reply_markup=main_menu(ctx))
        return
    await _close_keyboard(ctx)
    await ctx.clear_state()
    await ctx.set_state(FLOW, "pages", upload_id=upload.id, offset=0,
                        selected=initial_selection(upload.pages or 0))
    await send_picker(ctx, upload)


# -- publishing -------------------------------------------------------------------------------

async def publish(ctx: Ctx, upload: Upload, channel_row_id: int) -> None:
    """Check the plan, then ask publishing to publish; it reports through the notices."""
    assert ctx.state is not None
    channel = await ctx.svc.publishing.channel_for(ctx.user_id, channel_row_id)
    if channel is None:
        await ctx.reply(ctx.t("publish.channel_unavailable"))
        return
    decision = await ctx.svc.billing.can_publish(ctx.user_id)
    if not decision.allowed:
        await ctx.reply("❌ " + LimitReached(decision).message(ctx.lang),
                        reply_markup=main_menu(ctx))
        await ctx.clear_state()
        return
    data = ctx.state.data
    await ctx.clear_state()
    status = await ctx.reply(ctx.t("publish.queued", channel=channel.title),
                             reply_markup=main_menu(ctx))
    await ctx.svc.publishing.publish(upload, channel, sorted(data["selected"]),
                                     data.get("watermark") or ctx.contractor.watermark, ctx.lang,
                                     status.id, title=data.get("title", ""))


async def retry(ctx: Ctx, publication_id: int) -> None:
    """The retry button of a publication that lost the bot's admin rights."""
    await ctx.svc.publishing.retry(ctx.user_id, publication_id)


# -- what publishing reports, told to the contractor -------------------------------------------

class PublishingNotices:
    """The bot's side of :class:`smetabot.publishing.Notifier`: status messages edited as
    work advances, contact sheets sent as photos with their page numbers as buttons, the page
    picker when they are all there."""

    def __init__(self, services: Callable[[], Services]) -> None:
        self._services = services
        self._status: dict[tuple[str, object], StatusMessage] = {}

    @property
    def svc(self) -> Services:
        return self._services()

    def _upload_status(self, upload: Upload) -> StatusMessage:
        key = ("upload", upload.id)
        if key not in self._status:
            self._status[key] = StatusMessage(self.svc.bot, upload.contractor_id,
                                              upload.status_message_id)
        return self._status[key]

    def _publication_status(self, publication: Publication,
                            fresh: bool = False) -> StatusMessage:
        key = ("publication", publication.id)
        if fresh or key not in self._status:
            self._status[key] = StatusMessage(
                self.svc.bot, publication.contractor_id,
                None if fresh else publication.status_message_id)
        return self._status[key]

    def _done(self, kind: str, key: object) -> StatusMessage | None:
        return self._status.pop((kind, key), None)

    # -- previews --------------------------------------------------------------------

    async def preview_started(self, upload: Upload, resumed: bool) -> None:
        lang = await self.svc.contractors.language_of(upload.contractor_id)
        if resumed:
            await self.svc.bot.send_message(upload.contractor_id, texts.t(
                "publish.resumed_preview", lang, file=upload.file_name))
        status = self._upload_status(upload)
        await status.show(texts.t("publish.checking", lang, file=upload.file_name), force=True)
        if status.message_id is not None and status.message_id != upload.status_message_id:
            # A new status message (the first one was never recorded, or is gone): the one a
            # next restart edits, so none is left frozen on "⏳ Открываю…".
            upload.status_message_id = status.message_id
            await self.svc.publishing.records.set_upload(upload.id,
                                                         status_message_id=status.message_id)
        if await self.svc.publishing.renderer.waiting_for_workers():  # Redis: none up
            await self._upload_status(upload).show(
                texts.t("publish.render_waiting", lang, file=upload.file_name), force=True)

    async def receipt_interrupted(self, receipt: dict) -> None:
        """A document was being received when the server stopped: ask for it again."""
        text = texts.t("publish.receive_interrupted", receipt["lang"], file=receipt["file_name"])
        await StatusMessage(self.svc.bot, receipt["contractor_id"],
                            receipt["status_message_id"]).show(text, force=True)

    async def preview_progress(self, upload: Upload, done: int, total: int) -> None:
        lang = await self.svc.contractors.language_of(upload.contractor_id)
        await self._upload_status(upload).show(texts.t("publish.previewing", lang, done=done,
                                                       total=total))

    async def previews(self, upload: Upload, sheets: list[dict]) -> None:
        """Each contact sheet as a photo, its page numbers as buttons under it; a sheet is
        recorded as sent (``previews_sent``) as soon as it is, so a restart never sends it
        again."""
        lang = await self.svc.contractors.language_of(upload.contractor_id)
        for sheet in sheets:
            pages = sheet["pages"]
            if pages[-1] <= upload.previews_sent:
                continue  # sent before a restart: not again
            # A crash after the send but before it is recorded: sent again, refused, once.
            await send_photo_once(
                self.svc.bot, upload.contractor_id, sheet["path"],
                texts.t("publish.sheet", lang, file=upload.file_name, pages=ranges(pages),
                        total=upload.pages or pages[-1]),
                sheet_keyboard(upload, pages), fixed_random_id("sheet", upload.id, pages[0]))
            upload.previews_sent = pages[-1]
            await self.svc.publishing.records.set_upload(upload.id,
                                                         previews_sent=upload.previews_sent)

    async def previews_ready(self, upload: Upload) -> None:
        svc = self.svc
        chat = upload.contractor_id
        lang = await svc.contractors.language_of(chat)
        status = self._done("upload", upload.id) or self._upload_status(upload)
        await status.show(texts.t("publish.previews_ready", lang, file=upload.file_name,
                                  total=upload.pages), force=True)
        self._done("upload", upload.id)
        state = await svc.conversations.get(chat)
        if not (state and state.flow == FLOW and state.data.get("upload_id") == upload.id):
            return  # the contractor moved on meanwhile; the upload waits until it expires
        if state.data.get("picker_id"):
            return  # its picker went out before a stop that came before it was noted shown
        contractor = await svc.contractors.get(chat)
        ctx = Ctx(svc, svc.bot, chat, lang, contractor, state=state)
        await ctx.set_state(FLOW, "pages", selected=initial_selection(upload.pages or 0))
        await send_picker(ctx, upload)

    async def preview_failed(self, upload: Upload, error: BaseException) -> None:
        svc = self.svc
        chat = upload.contractor_id
        lang = await svc.contractors.language_of(chat)
        status = self._upload_status(upload)
        self._done("upload", upload.id)
        await status.show(failure_text(lang, error), force=True)
        state = await svc.conversations.get(chat)
        if state and state.flow == FLOW and state.data.get("upload_id") == upload.id:
            await svc.conversations.clear(chat)

    # -- publications ----------------------------------------------------------------

    async def publication_started(self, publication: Publication, resumed: bool) -> None:
        if not resumed:
            status = self._publication_status(publication)
            if await self.svc.publishing.renderer.waiting_for_workers():  # Redis: none up
                await status.show(texts.t("publish.render_waiting", publication.lang,
                                          file=publication.file_name), force=True)
            return
        if publication.status_message_id:
            # The old progress message would stay frozen on "11 из 36…": say what happened.
            await StatusMessage(self.svc.bot, publication.contractor_id,
                                publication.status_message_id).show(
                texts.t("publish.interrupted", publication.lang), force=True)
        status = self._publication_status(publication, fresh=True)
        await status.show(texts.t("publish.resumed", publication.lang,
                                  file=publication.file_name), force=True)
        if status.message_id is not None:  # the message a next restart would find
            await self.svc.publishing.records.set_publication(
                publication.id, status_message_id=status.message_id)

    async def publication_progress(self, publication: Publication, done: int,
                                   total: int) -> None:
        await self._publication_status(publication).show(
            texts.t("publish.rendering", publication.lang, done=done, total=total))

    async def publication_sending(self, publication: Publication,
                                  channel: ClientChannel) -> None:
        await self._publication_status(publication).show(
            texts.t("publish.sending", publication.lang, channel=channel.title), force=True)

    async def publication_waiting(self, publication: Publication, seconds: int) -> None:
        await self._publication_status(publication).show(
            texts.t("publish.waiting", publication.lang,
                    wait=refusals.wait_words(seconds, publication.lang)), force=True)

    async def publication_done(self, publication: Publication, channel: ClientChannel,
                               link: str, pages: int) -> None:
        await approvals.post_buttons(self.svc, publication, channel)
        status = self._publication_status(publication)
        self._done("publication", publication.id)
        await status.show(texts.t("publish.done", publication.lang, channel=channel.title,
                                  link=link, pages=pages, code=publication.tracking_code),
                          force=True)

    async def publication_blocked(self, publication: Publication,
                                  channel: ClientChannel) -> None:
        status = self._publication_status(publication)
        self._done("publication", publication.id)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(
            texts.t("btn.retry", publication.lang),
            callback_data=f"pub:retry:{publication.id}")]])
        await status.show(texts.t("publish.blocked", publication.lang, channel=channel.title),
                          force=True, reply_markup=keyboard)

    async def publication_failed(self, publication: Publication,
                                 error: BaseException) -> None:
        status = self._publication_status(publication)
        self._done("publication", publication.id)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(
            texts.t("btn.retry", publication.lang),
            callback_data=f"pub:retry:{publication.id}")]]) if retryable(error) else None
        await status.show(failure_text(publication.lang, error), force=True,
                          reply_markup=keyboard)


def register(router: Router) -> None:
    """Buttons, callbacks, fallbacks and the wizard of this module."""
    router.buttons["btn.render"] = start
    router.callbacks["pub"] = on_callback
    router.flows[FLOW] = step
    router.fallbacks.append((_has_document, on_document))
    router.continuations[FLOW] = after_new_channel
    router.interrupts[FLOW] = interrupted

