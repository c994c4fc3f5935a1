"""🆕 Новый канал and 📢 Мои каналы: the channel wizard, the list and card, join announcements.

The bot hears about clients joining through ``chat_member`` updates (``UpdateChannelParticipant``
in MTProto). A Bot API bot must ask for them in ``allowed_updates``; an MTProto bot, which is
what pyrogram runs, has no such switch: Telegram sends them to a bot that is an admin of the
channel, which is why the bot is made admin of every client channel.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from typing import Any
from urllib.parse import quote

from pyrogram import Client, enums
from pyrogram import errors as tg
from pyrogram.handlers import ChatJoinRequestHandler, ChatMemberUpdatedHandler
from pyrogram.types import (
    ChatJoinRequest,
    ChatMemberUpdated,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from smetabot import texts
from smetabot.bot import analytics, approvals
from smetabot.bot.menu import connect_keyboard, main_menu, require_account
from smetabot.bot.router import Ctx, Router
from smetabot.channel_records import ClientChannel, JoinRequest, Member
from smetabot.channels import JOIN_MODES
from smetabot.errors import (
    LimitReached,
    NotConnected,
    ServiceError,
    SessionRevoked,
    SetupDeferred,
    SmetaBotError,
)
from smetabot.publication_records import Publication
from smetabot.services import Services
from smetabot.statuses import ChannelStatus, PublicationStatus
from smetabot.texts import duration

log = logging.getLogger(__name__)

FLOW = "new_channel"
TITLE_LIMIT = 128
PAGE_SIZE = 5
PLAIN = enums.ParseMode.DISABLED  # titles and names are the users' text, never markup


def link_keyboard(lang: str, channel: ClientChannel) -> InlineKeyboardMarkup | None:
    """Share and copy buttons for the channel's invite link."""
    if not channel.link:
        return None
    invitation = texts.t("share.text", lang, title=channel.title)
    share = (f"https://t.me/share/url?url={quote(channel.link, safe='')}"
             f"&text={quote(invitation, safe='')}")
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(texts.t("btn.share_link", lang), url=share)],
        [InlineKeyboardButton(texts.t("btn.copy_link", lang),
                              copy_text=CopyTextButton(text=channel.link))],
    ])


async def send(client: Client, chat_id: int, text: str, markup: Any = None) -> Any:
    """A message with no markup parsing (channel titles may contain * or <)."""
    return await client.send_message(chat_id, text, reply_markup=markup, parse_mode=PLAIN)


# -- 🆕 the wizard ---------------------------------------------------------------------------


def _keyboard(ctx: Ctx, *keys: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup([[KeyboardButton(ctx.t(key))] for key in keys],
                               resize_keyboard=True)


async def start(ctx: Ctx, **state: Any) -> None:
    """🆕 Новый канал: check the plan first, then ask for the title (``state``: more to keep
    in the wizard's state, set before the question is asked)."""
    if not await require_account(ctx):
        return
    decision = await ctx.svc.billing.can_create_channel(ctx.user_id)
    if not decision.allowed:
        await send(ctx.client, ctx.user_id, decision.message(ctx.lang), main_menu(ctx))
        return
    await ctx.set_state(FLOW, "title", **state)
    await ctx.reply(ctx.t("newch.ask_title"), reply_markup=_keyboard(ctx, "btn.cancel"))


async def step(ctx: Ctx) -> None:
    """The wizard's steps: the title, then the avatar (or Skip), then the channel is made."""
    assert ctx.message is not None and ctx.state is not None
    if ctx.state.step == "title":
        title = " ".join((ctx.message.text or "").split())
        if not title:
            await ctx.reply(ctx.t("newch.need_title"))
            return
        length = len(title.encode("utf-16-le")) // 2  # as Telegram counts
        if length > TITLE_LIMIT:
            await ctx.reply(ctx.t("newch.title_too_long", length=length, limit=TITLE_LIMIT))
            return
        await ctx.set_state(FLOW, "photo", title=title)
        await send(ctx.client, ctx.user_id, ctx.t("newch.ask_photo", title=title),
                   _keyboard(ctx, "btn.skip", "btn.cancel"))
        return
    message = ctx.message
    document = message.document
    if texts.button_key((message.text or "").strip()) == "btn.skip":
        photo = None
    elif message.photo or (document and (document.mime_type or "").startswith("image/")):
        photo = (await ctx.client.download_media(message, in_memory=True)).getvalue()
    else:
        await ctx.reply(ctx.t("newch.need_photo"))
        return
    title = ctx.state.data["title"]
    resume = ctx.state.data.get("resume_publish")
    await ctx.clear_state()
    channel = await create(ctx, title, photo)
    if resume is not None:  # opened from the publication wizard: back to it
        await ctx.resume("publish", resume, channel)


async def create(ctx: Ctx, title: str, photo: bytes | None) -> ClientChannel | None:
    """Make the channel and say how it went, in words; the channel, or None."""
    await send(ctx.client, ctx.user_id, ctx.t("newch.creating", title=title), main_menu(ctx))
    try:
        channel = await ctx.svc.channels.create(ctx.user_id, title, photo)
    except LimitReached as exc:
        await send(ctx.client, ctx.user_id, exc.message(ctx.lang))
        return
    except SetupDeferred as exc:
        reason = (exc.cause.message(ctx.lang) if exc.cause is not None
                  else ctx.t("newch.our_fault", ref=exc.ref))
        if exc.channel.status == ChannelStatus.FAILED:  # given up: nothing more will happen
            await send(ctx.client, ctx.user_id, "❌ " + reason)
            return
        await send(ctx.client, ctx.user_id, ctx.t("newch.deferred", title=title, reason=reason))
        return
    except (NotConnected, SessionRevoked) as exc:
        await ctx.reply(exc.message(ctx.lang), reply_markup=connect_keyboard(ctx))
        return
    except SmetaBotError as exc:  # Telegram said no, in words; nothing was made
        await send(ctx.client, ctx.user_id, "❌ " + exc.message(ctx.lang))
        return None
    await announce(ctx.svc, "ready" if channel.status == "ready" else "waiting_admin", channel,
                   ctx.lang)
    return channel


async def announce(svc: Services, event: str, channel: ClientChannel,
                   lang: str | None = None) -> None:
    """Tell the contractor how their channel's setup went (also from the background loop)."""
    if lang is None:
        lang = await svc.contractors.language_of(channel.contractor_id)
    markup = None
    if event == "ready":
        text = texts.t("newch.ready", lang, title=channel.title, link=channel.link)
        markup = link_keyboard(lang, channel)
    elif event == "promoted":
        text = texts.t("newch.promoted", lang, title=channel.title, link=channel.link)
        markup = link_keyboard(lang, channel)
    elif event == "waiting_admin" and channel.link:  # the contractor's account posts meanwhile
        every = duration(int(svc.channels.retry_seconds), lang)
        text = texts.t("newch.owner_posts", lang, title=channel.title, link=channel.link,
                       every=every)
        if channel.join_mode == "approve":
            text += texts.t("newch.owner_requests", lang)
        markup = link_keyboard(lang, channel)
    elif event == "waiting_admin":
        every = duration(int(svc.channels.retry_seconds), lang)
        text = texts.t("newch.waiting_admin", lang, title=channel.title, every=every)
    else:  # "failed", "interrupted"
        text = texts.t(f"newch.{event}", lang, title=channel.title)
    await send(svc.bot, channel.contractor_id, text, markup)


# -- 📢 the list and the card ----------------------------------------------------------------


async def show_list(ctx: Ctx) -> None:
    """📢 Мои каналы: the first page."""
    if not await require_account(ctx):
        return
    text, markup = await _list_view(ctx, 0)
    await send(ctx.client, ctx.user_id, text, markup)


async def _list_view(ctx: Ctx, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    channels, total = await ctx.svc.channels.records.page(ctx.user_id, page * PAGE_SIZE,
                                                          PAGE_SIZE)
    archived = len(await ctx.svc.channels.archived(ctx.user_id))
    archive_row = [InlineKeyboardButton(ctx.t("card.btn.archive_list", count=archived),
                                        callback_data="card:arch")] if archived else []
    if total == 0:
        if archived:  # "no channels yet, create your first" would be wrong: they are there
            return ctx.t("mych.only_archived", count=archived), InlineKeyboardMarkup([archive_row])
        return ctx.t("mych.empty"), None
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    if not channels and page > 0:  # the page emptied meanwhile (archived channels)
        return await _list_view(ctx, pages - 1)
    rows = [[InlineKeyboardButton(f"📢 {c.title}"[:64], callback_data=f"ch:c:{c.id}")]
            for c in channels]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(ctx.t("btn.page_prev"), callback_data=f"ch:p:{page - 1}"))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton(ctx.t("btn.page_next"), callback_data=f"ch:p:{page + 1}"))
    if nav:
        rows.append(nav)
    if archive_row:
        rows.append(archive_row)
    text = ctx.t("mych.list", total=total, page=page + 1, pages=pages)
    return text, InlineKeyboardMarkup(rows)


async def _card_view(ctx: Ctx, channel: ClientChannel,
                     page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    records = ctx.svc.channels.records
    members = await records.members(channel.id)
    names = ", ".join(_member_name(m) for m in members[:CARD_NAMES])
    if len(members) > CARD_NAMES:  # the card stays far below Telegram's 4096 characters
        names += ", …"
    who = f"{len(members)} — {names}" if members else ctx.t("mych.no_members")
    admin = channel.status == "ready"
    link = channel.link or ctx.t("mych.no_link" if admin else "mych.link_later")
    text = ctx.t("mych.card", title=channel.title, created=texts.day(channel.created_at, ctx.lang),
                 status=ctx.t(f"mych.status.{channel.status}"), members=who,
                 publications=await records.publications(channel.id), link=link)
    text += "\n" + ctx.t("join.card_mode", mode=ctx.t(f"join.mode.{channel.join_mode}"))
    requests_text, request_rows = await _requests_view(ctx, channel)
    listing, publication_rows = await publications_view(ctx, channel, page)
    extra, charts = await analytics.card_section(ctx.svc, channel, ctx.lang)
    text += requests_text + "\n\n" + listing + extra
    shared = link_keyboard(ctx.lang, channel)
    rows = request_rows + publication_rows + (list(shared.inline_keyboard) if shared else [])
    rows += charts
    rows.append([InlineKeyboardButton(ctx.t("card.btn.clients", count=len(members)),
                                      callback_data=f"card:m:{channel.id}")])
    if admin:  # one a row: two across, a 390 px phone cut them to "🔗 Одноразов…"
        rows.append([InlineKeyboardButton(ctx.t("btn.new_link"),
                                          callback_data=f"ch:n:{channel.id}")])
        if channel.link:
            rows.append([InlineKeyboardButton(ctx.t("btn.revoke_link"),
                                              callback_data=f"ch:r:{channel.id}")])
        rows.append([InlineKeyboardButton(ctx.t("join.btn.single_use"),
                                          callback_data=f"card:j1:{channel.id}")])
        rows.append([InlineKeyboardButton(ctx.t("join.btn.mode"),
                                          callback_data=f"card:jm:{channel.id}")])
    rows.append([InlineKeyboardButton(ctx.t("btn.archive"), callback_data=f"ch:a:{channel.id}")])
    rows.append([InlineKeyboardButton(ctx.t("btn.to_list"), callback_data="ch:p:0")])
    return text, InlineKeyboardMarkup(rows)


async def _edit(ctx: Ctx, text: str, markup: InlineKeyboardMarkup | None) -> None:
    assert ctx.callback is not None and ctx.callback.message is not None
    await ctx.callback.message.edit_text(text, reply_markup=markup, parse_mode=PLAIN)


async def on_callback(ctx: Ctx, data: str) -> None:
    """Buttons of the list and the card: ``ch:<action>:<channel>[:<invite>]``."""
    assert ctx.callback is not None
    action, _, rest = data.partition(":")
    if not await require_account(ctx):
        await ctx.answer()
        return
    if action == "p":
        await ctx.answer()
        await _edit(ctx, *await _list_view(ctx, int(rest) if rest.isdigit() else 0))
        return
    channel_id, _, invite_id = rest.partition(":")
    channel = await ctx.svc.channels.get(int(channel_id)) if channel_id.isdigit() else None
    if channel is None or channel.contractor_id != ctx.user_id or channel.status in (
            "archived", "failed"):
        await ctx.answer(ctx.t("mych.gone"), show_alert=True)
        return
    try:
        await _act(ctx, action, channel, invite_id)
    except SmetaBotError as exc:
        await ctx.answer()
        await send(ctx.client, ctx.user_id, "❌ " + exc.message(ctx.lang))


async def _act(ctx: Ctx, action: str, channel: ClientChannel, invite_id: str) -> None:
    assert ctx.callback is not None
    channels, uid = ctx.svc.channels, ctx.user_id
    if action == "c":
        await ctx.answer()
        await ctx.svc.publishing.finish_replacements()  # any a restart left half-done
        page = int(invite_id) if invite_id.isdigit() else 0
        await send(ctx.client, uid, *await _card_view(ctx, channel, page))
    elif action == "n":
        await ctx.answer()
        link = await channels.new_link(channel)
        fresh = await channels.get(channel.id)
        await send(ctx.client, uid, ctx.t("mych.new_link", title=channel.title, link=link),
                   link_keyboard(ctx.lang, fresh))
    elif action == "r" and not invite_id:
        invites = await channels.records.invites(channel.id)
        if len(invites) == 1:
            await _revoke(ctx, channel, invites[0].id)
            return
        await ctx.answer()
        rows = [[InlineKeyboardButton(f"🚫 {n}. …{i.link[-12:]}",
                                      callback_data=f"ch:r:{channel.id}:{i.id}")]
                for n, i in enumerate(invites, 1)]
        await send(ctx.client, uid, ctx.t("mych.revoke_which") + "\n\n" + "\n".join(
            f"{n}. {i.link}" for n, i in enumerate(invites, 1)), InlineKeyboardMarkup(rows))
    elif action == "r":
        await _revoke(ctx, channel, int(invite_id))
    elif action == "a":
        await ctx.answer()
        await send(ctx.client, uid, ctx.t("mych.archive_confirm", title=channel.title),
                   InlineKeyboardMarkup([[
                       InlineKeyboardButton(ctx.t("btn.archive_yes"),
                                            callback_data=f"ch:A:{channel.id}"),
                       InlineKeyboardButton(ctx.t("btn.archive_no"),
                                            callback_data=f"ch:k:{channel.id}")]]))
    elif action == "A":
        await ctx.answer()
        await channels.archive(channel)
        await _edit(ctx, ctx.t("mych.archived", title=channel.title), None)
    elif action == "k":
        await ctx.answer()
        await _edit(ctx, ctx.t("mych.kept"), None)
    else:
        await ctx.answer()


async def _revoke(ctx: Ctx, channel: ClientChannel, invite_id: int) -> None:
    assert ctx.callback is not None
    await ctx.svc.channels.revoke_link(channel, invite_id)
    await ctx.answer(ctx.t("mych.revoked"))
    fresh = await ctx.svc.channels.get(channel.id)
    await send(ctx.client, ctx.user_id, *await _card_view(ctx, fresh))


# -- the card's publications: replace with a new version, withdraw ----------------------------

PUBLICATIONS_PER_PAGE = 5
CARD_NAMES = 10  # clients named on the card; «👥 Клиенты» lists them all
REPLACE = "replace"


def publication_lines(ctx: Ctx, number: int, publication: Publication) -> list[str]:
    """The lines of one publication on the channel card: title, date, pages, tracking code,
    and what became of it. (More lines about a publication, views per page, go here.)"""
    lines = [ctx.t("card.line", n=number, title=publication.name,
                   date=texts.day(publication.created_at, ctx.lang),
                   pages=ranges(publication.pages), code=publication.tracking_code)]
    if publication.status == PublicationStatus.WITHDRAWN:
        lines.append(ctx.t("card.line_withdrawn"))
    elif publication.status == PublicationStatus.REPLACED:
        lines.append(ctx.t("card.line_replaced"))
    return lines


async def publications_view(ctx: Ctx, channel: ClientChannel,
                            page: int) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The card's list of publications, newest first, a page at a time, with the buttons of
    those whose posts are in the channel now."""
    per = PUBLICATIONS_PER_PAGE
    publications, total = await ctx.svc.publishing.of_channel(channel.id, page * per, per)
    if total == 0:
        return ctx.t("card.no_publications"), []
    pages = (total + per - 1) // per
    if not publications and page > 0:
        return await publications_view(ctx, channel, pages - 1)
    head = ctx.t("card.publications", total=total) if pages == 1 else \
        ctx.t("card.publications_page", total=total, page=page + 1, pages=pages)
    lines, rows = [head], []
    for index, publication in enumerate(publications):
        number = page * per + index + 1
        lines.extend(publication_lines(ctx, number, publication))
        lines.extend(await approvals.card_lines(ctx, publication))
        if publication.status == PublicationStatus.PUBLISHED:
            rows.append([InlineKeyboardButton(ctx.t("card.btn.replace", n=number),
                                              callback_data=f"card:R:{publication.id}")])
            rows.append([InlineKeyboardButton(ctx.t("card.btn.withdraw", n=number),
                                              callback_data=f"card:W:{publication.id}")])
            rows.extend(await approvals.card_buttons(ctx, number, publication, channel))
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(ctx.t("card.btn.prev"),
                                        callback_data=f"card:pg:{channel.id}:{page - 1}"))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton(ctx.t("card.btn.next"),
                                        callback_data=f"card:pg:{channel.id}:{page + 1}"))
    if nav:
        rows.append(nav)
    return "\n".join(lines), rows


def ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``"1–3, 5"``."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _member_name(member: Member) -> str:
    return (member.name or str(member.user_id)) + (f" (@{member.username})"
                                                   if member.username else "")


async def on_card(ctx: Ctx, data: str) -> None:
    """Buttons of the card: publications, clients, the archive. A button of something already
    gone answers "Это уже неактуально" and does nothing."""
    assert ctx.callback is not None
    if not await require_account(ctx):
        await ctx.answer()
        return
    action, *args = data.split(":")
    numbers = [int(a) for a in args if a.isdigit()]
    try:
        if action == "arch":
            await ctx.answer()
            await _archive_list(ctx)
            return
        if action == "rs" and numbers:
            await _restore(ctx, numbers[0])
            return
        if action in ("R", "W", "Wy", "no", "ao", "an") and numbers:
            await _publication_action(ctx, action, numbers[0])
            return
        channel = await ctx.svc.channels.get(numbers[0]) if numbers else None
        if channel is None or channel.contractor_id != ctx.user_id or channel.status not in (
                ChannelStatus.READY, ChannelStatus.WAITING_ADMIN, ChannelStatus.CREATING):
            await ctx.answer(ctx.t("card.stale"))
            return
        if action == "pg" and len(numbers) == 2:
            await _edit(ctx, *await _card_view(ctx, channel, numbers[1]))
            await ctx.answer()
        elif action == "m":
            await ctx.answer()
            await _members(ctx, channel)
        elif action in ("x", "X", "xn") and len(numbers) == 2:
            await _remove(ctx, action, channel, numbers[1])
        elif action in ("ja", "jd", "ca", "cd") and len(numbers) == 2:
            await _decide(ctx, action, channel, numbers[1])
        elif action == "j1":
            await ctx.answer()
            await _single_use(ctx, channel)
        elif action == "jm" and channel.status == ChannelStatus.READY:
            await _join_mode(ctx, channel, numbers[1] if len(numbers) == 2 else None)
            await ctx.answer()
        else:
            await ctx.answer(ctx.t("card.stale"))
    except SmetaBotError as exc:
        with contextlib.suppress(Exception):
            await ctx.answer()
        await send(ctx.client, ctx.user_id, "❌ " + exc.message(ctx.lang))


async def _publication_action(ctx: Ctx, action: str, publication_id: int) -> None:
    assert ctx.callback is not None
    publishing = ctx.svc.publishing
    publication = await publishing.live_publication(ctx.user_id, publication_id)
    channel = await ctx.svc.channels.get(publication.channel_id) if publication else None
    if publication is None or channel is None or not channel.publishable or (
            action != "R" and publication.replaced_by is not None):
        await ctx.answer(ctx.t("card.stale"))
        return
    if action in ("ao", "an"):  # this publication's «Согласовать» buttons: off or on
        on = action == "an"
        if not await approvals.switch_for(ctx.svc, publication, channel, on):
            await ctx.answer(ctx.t("approve.switch_failed"), show_alert=True)
            return
        await ctx.answer(ctx.t("approve.added" if on else "approve.removed",
                               title=publication.name), show_alert=True)
        await _edit(ctx, *await _card_view(ctx, channel))
    elif action == "W":
        await ctx.answer()
        await send(ctx.client, ctx.user_id, ctx.t(
            "card.withdraw_confirm", title=publication.name, pages=ranges(publication.pages),
            code=publication.tracking_code, channel=channel.title), InlineKeyboardMarkup([[
                InlineKeyboardButton(ctx.t("card.btn.withdraw_yes"),
                                     callback_data=f"card:Wy:{publication.id}"),
                InlineKeyboardButton(ctx.t("card.btn.no"),
                                     callback_data=f"card:no:{publication.id}")]]))
    elif action == "no":
        await _edit(ctx, ctx.t("card.kept"), None)
        await ctx.answer()
    elif action == "Wy":
        try:
            done = await publishing.withdraw(ctx.user_id, publication.id)
        except SmetaBotError as exc:  # Telegram refused: nothing changed, said in words
            await _edit(ctx, ctx.t("card.cannot_delete", channel=channel.title,
                                   reason=exc.message(ctx.lang)), None)
            await ctx.answer()
            return
        if done is None:
            await ctx.answer(ctx.t("card.stale"))
            return
        await _edit(ctx, ctx.t("card.withdrawn", title=publication.name,
                               channel=channel.title), None)
        await ctx.answer()
    elif action == "R":
        if publication.replaced_by is not None:  # a new version is on its way already
            await ctx.answer(ctx.t("card.stale"))
            return
        await ctx.answer()
        decision = await ctx.svc.billing.can_publish(ctx.user_id)
        if not decision.allowed:
            await send(ctx.client, ctx.user_id, "❌ " + LimitReached(decision).message(ctx.lang))
            return
        left = "" if decision.limit is None else "\n\n" + ctx.t(
            "publish.left", left=max(decision.limit - decision.used, 0), limit=decision.limit)
        await ctx.clear_state()
        await ctx.set_state(REPLACE, "file", publication_id=publication.id)
        await send(ctx.client, ctx.user_id, ctx.t(
            "card.replace_ask", title=publication.name, channel=channel.title,
            pages=ranges(publication.pages), code=publication.tracking_code, left=left),
            _keyboard(ctx, "btn.cancel"))


async def replace_step(ctx: Ctx) -> None:
    """The new version of a publication, as a file."""
    assert ctx.message is not None and ctx.state is not None
    publishing = ctx.svc.publishing
    old = await publishing.live_publication(ctx.user_id,
                                            int(ctx.state.data.get("publication_id", 0)))
    if old is None:
        await ctx.clear_state()
        await ctx.reply(ctx.t("card.stale"), reply_markup=main_menu(ctx))
        return
    message = ctx.message
    document = message.document
    if document is None:
        await ctx.reply(ctx.t("card.replace_need_file", title=old.name))
        return
    name = document.file_name or "document"
    try:
        publishing.check_file(name, document.file_size)
    except SmetaBotError as exc:
        await ctx.reply("❌ " + exc.message(ctx.lang, detail=False))
        return
    await ctx.clear_state()
    await send(ctx.client, ctx.user_id, ctx.t("card.replace_received", file=name,
                                              title=old.name), main_menu(ctx))
    svc, uid, lang = ctx.svc, ctx.user_id, ctx.lang

    async def download(path: Any) -> None:
        await ctx.client.download_media(message, file_name=str(path))

    async def tell(event: str, details: dict) -> None:
        await _replace_told(svc, uid, lang, event, details)

    try:
        await publishing.replace(old, name, document.file_size or 0, download, lang, tell)
    except SmetaBotError as exc:
        await ctx.reply("❌ " + exc.message(ctx.lang, detail=False))


async def _replace_told(svc: Services, uid: int, lang: str, event: str, details: dict) -> None:
    """What a replacement did, in words (publishing's notices say how the new version went)."""
    old: Publication = details["old"]
    new: Publication | None = details.get("new")
    channel = await svc.channels.get(old.channel_id)
    title = channel.title if channel else ""
    if event == "failed":
        text = texts.t("card.replace_failed", lang, error=_failure(lang, details["error"]),
                       title=old.name, old_code=old.tracking_code)
    elif event == "limit":
        text = "❌ " + LimitReached(details["decision"]).message(lang) + "\n\n" + texts.t(
            "card.replace_kept", lang, title=old.name, old_code=old.tracking_code)
    elif event in ("replaced", "marked", "left") and new is not None:
        key = {"replaced": "card.replaced", "marked": "card.replaced_marked",
               "left": "card.replaced_left"}[event]
        text = texts.t(key, lang, title=new.name, channel=title, code=new.tracking_code,
                       old_code=old.tracking_code)
    else:
        text = texts.t("card.replace_kept", lang, title=old.name, old_code=old.tracking_code)
    await send(svc.bot, uid, text)


def _failure(lang: str, exc: BaseException) -> str:
    """A failed new version in words (logged once, with a reference, when it is our fault)."""
    if isinstance(exc, SmetaBotError) and type(exc) is not ServiceError:
        return "❌ " + exc.message(lang, detail=False)
    ref = uuid.uuid4().hex[:8]
    log.error("a new version failed (reference %s)", ref, exc_info=exc)
    return texts.t("error", lang, ref=ref)


# -- 👥 clients of a channel ------------------------------------------------------------------

async def _members(ctx: Ctx, channel: ClientChannel) -> None:
    members = await ctx.svc.channels.records.members(channel.id)
    if not members:
        await send(ctx.client, ctx.user_id, ctx.t("card.no_members", channel=channel.title))
        return
    shown = members[:90]  # Telegram: at most 100 buttons under a message
    lines = [f"{n}. {_member_name(m)}" for n, m in enumerate(shown, 1)]
    rows = [[InlineKeyboardButton(ctx.t("card.btn.remove", n=n, name=_member_name(m))[:64],
                                  callback_data=f"card:x:{channel.id}:{m.user_id}")]
            for n, m in enumerate(shown, 1)]
    text = ctx.t("card.members", channel=channel.title, count=len(members),
                 lines="\n".join(lines))
    if len(text) > 4000:  # Telegram: 4096 characters a message
        text = text[:3990] + "…"
    await send(ctx.client, ctx.user_id, text, InlineKeyboardMarkup(rows))


async def _remove(ctx: Ctx, action: str, channel: ClientChannel, user_id: int) -> None:
    assert ctx.callback is not None
    found = await ctx.svc.channels.records.present_member(channel.id, user_id)
    if found is None:
        await ctx.answer(ctx.t("card.stale"))
        return
    member, _ = found
    name = _member_name(member)
    if action == "x":
        await ctx.answer()
        await send(ctx.client, ctx.user_id, ctx.t("card.remove_confirm", name=name,
                                                  channel=channel.title),
                   InlineKeyboardMarkup([[
                       InlineKeyboardButton(ctx.t("card.btn.remove_yes"),
                                            callback_data=f"card:X:{channel.id}:{user_id}"),
                       InlineKeyboardButton(ctx.t("card.btn.no"),
                                            callback_data=f"card:xn:{channel.id}:{user_id}")]]))
    elif action == "xn":
        await _edit(ctx, ctx.t("card.kept"), None)
        await ctx.answer()
    else:
        removed = await ctx.svc.channels.remove_member(channel, user_id)
        if removed is None:
            await ctx.answer(ctx.t("card.stale"))
            return
        _, link = removed
        await _edit(ctx, ctx.t("card.removed" if link else "card.removed_no_link", name=name,
                               channel=channel.title), None)
        await ctx.answer()


# -- 🗄 the archive ---------------------------------------------------------------------------

async def _archive_list(ctx: Ctx) -> None:
    archived = await ctx.svc.channels.archived(ctx.user_id)
    if not archived:
        await send(ctx.client, ctx.user_id, ctx.t("card.archive_empty"))
        return
    shown = archived[:90]
    rows = [[InlineKeyboardButton(ctx.t("card.btn.restore", title=c.title)[:64],
                                  callback_data=f"card:rs:{c.id}")] for c in shown]
    await send(ctx.client, ctx.user_id, ctx.t("card.archive", count=len(archived)),
               InlineKeyboardMarkup(rows))


async def _restore(ctx: Ctx, channel_id: int) -> None:
    assert ctx.callback is not None
    channel = await ctx.svc.channels.get(channel_id)
    if channel is None or channel.contractor_id != ctx.user_id or \
            channel.status != ChannelStatus.ARCHIVED:
        await ctx.answer(ctx.t("card.stale"))
        return
    try:
        restored = await ctx.svc.channels.restore(channel)
    except LimitReached as exc:
        await ctx.answer()
        await send(ctx.client, ctx.user_id, exc.message(ctx.lang))
        return
    await ctx.answer()
    await send(ctx.client, ctx.user_id, ctx.t("card.restored", title=restored.title,
                                              link=restored.link or ""),
               link_keyboard(ctx.lang, restored))


# -- who gets in: join requests, single-use links, the join mode -----------------------------

REQUESTS_ON_CARD = 10  # requests answerable on the card (more wait for the next look)


def _request_name(request: JoinRequest | Member) -> str:
    return (request.name or str(request.user_id)) + (
        f" (@{request.username})" if request.username else "")


async def _requests_view(ctx: Ctx, channel: ClientChannel) -> tuple[str, list]:
    """The card's waiting join requests: lines, and a row of buttons for each."""
    waiting = await ctx.svc.channels.records.pending_requests(channel.id)
    if not waiting:
        return "", []
    shown = waiting[:REQUESTS_ON_CARD]
    lines = "\n".join(f"{n}. {_request_name(r)}" for n, r in enumerate(shown, 1))
    rows = [[InlineKeyboardButton(ctx.t("join.card.btn_approve", n=n,
                                        name=r.name or str(r.user_id))[:64],
                                  callback_data=f"card:ca:{channel.id}:{r.user_id}"),
             InlineKeyboardButton(ctx.t("join.card.btn_decline", n=n),
                                  callback_data=f"card:cd:{channel.id}:{r.user_id}")]
            for n, r in enumerate(shown, 1)]
    return "\n\n" + ctx.t("join.card_pending", count=len(waiting), lines=lines), rows


def request_keyboard(lang: str, channel: ClientChannel, user_id: int) -> InlineKeyboardMarkup:
    """«✅ Пустить» / «❌ Отклонить» under a join request's message."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.t("join.btn.approve", lang),
                             callback_data=f"card:ja:{channel.id}:{user_id}"),
        InlineKeyboardButton(texts.t("join.btn.decline", lang),
                             callback_data=f"card:jd:{channel.id}:{user_id}")]])


async def on_join_request(svc: Services, request: ChatJoinRequest) -> None:
    """Someone asked to join through a request link: the contractor gets one message."""
    user = request.from_user
    if request.chat is None or user is None or user.is_bot:
        return
    link = request.invite_link.invite_link if request.invite_link else None
    found = await svc.channels.join_requested(request.chat.id, user, link)
    if found is None:
        return
    channel, asked, others = found
    lang = await svc.contractors.language_of(channel.contractor_id)
    others_text = (texts.t("join.others", lang, titles=", ".join(f"«{t}»" for t in others))
                   if others else texts.t("join.no_others", lang))
    sent = await send(svc.bot, channel.contractor_id,
                      texts.t("join.request", lang, name=_request_name(asked),
                              channel=channel.title, link=link or "—", others=others_text),
                      request_keyboard(lang, channel, user.id))
    await svc.channels.request_shown(channel, user.id, sent.id)


async def _answered_elsewhere(svc: Services, channel: ClientChannel, request: JoinRequest,
                              text: str) -> None:
    """The request's own message, answered from the card or in Telegram: it says how, and its
    buttons go (they would only say «Уже решено»)."""
    if request.message_id is None:
        return
    try:
        await svc.bot.edit_message_text(channel.contractor_id, request.message_id, text,
                                        reply_markup=None, parse_mode=PLAIN)
    except tg.MessageNotModified:
        pass
    except (tg.RPCError, TimeoutError) as exc:  # deleted by the contractor: nothing to say
        log.info("join request message %s not edited: %s", request.message_id,
                 getattr(exc, "ID", type(exc).__name__))


async def _decide(ctx: Ctx, action: str, channel: ClientChannel, user_id: int) -> None:
    """Пустить / Отклонить, from the request's message (``ja``/``jd``: the message becomes
    the answer) or from the card (``ca``/``cd``: the card is shown again)."""
    approve = action in ("ja", "ca")
    decided = await ctx.svc.channels.decide(channel, user_id, approve)
    if decided is None:
        if action in ("ja", "jd"):  # the message's buttons no longer act (maybe gone already)
            with contextlib.suppress(tg.MessageNotModified):
                await ctx.callback.message.edit_reply_markup(None)
        await ctx.answer(ctx.t("join.already"))
        return
    done = ctx.t("join.approved" if approve else "join.declined",
                 name=_request_name(decided), channel=channel.title)
    if action in ("ja", "jd"):
        await _edit(ctx, done, None)
        await ctx.answer()
    else:
        await _edit(ctx, *await _card_view(ctx, channel))
        await ctx.answer(done[:200])
        await _answered_elsewhere(ctx.svc, channel, decided, done)


async def _single_use(ctx: Ctx, channel: ClientChannel) -> None:
    link = await ctx.svc.channels.new_link(channel, "single_use")
    await send(ctx.client, ctx.user_id, ctx.t("join.single_use_link", title=channel.title,
                                              link=link),
               link_keyboard(ctx.lang, dataclasses.replace(channel, link=link)))


async def _join_mode(ctx: Ctx, channel: ClientChannel, choice: int | None) -> None:
    """The card's «🔐»: the three modes to choose from, then the switch."""
    if choice is None or not 1 <= choice <= len(JOIN_MODES):
        rows = [[InlineKeyboardButton(ctx.t(f"join.mode.btn.{mode}"),
                                      callback_data=f"card:jm:{channel.id}:{n}")]
                for n, mode in enumerate(JOIN_MODES, 1)]
        await send(ctx.client, ctx.user_id, ctx.t(
            "join.mode_ask", title=channel.title, mode=ctx.t(f"join.mode.{channel.join_mode}")),
            InlineKeyboardMarkup(rows))
        return
    mode = JOIN_MODES[choice - 1]
    link = await ctx.svc.channels.set_join_mode(channel, mode)
    await _edit(ctx, ctx.t("join.mode_set", title=channel.title,
                           mode=ctx.t(f"join.mode.{mode}"), link=link),
                link_keyboard(ctx.lang, dataclasses.replace(channel, link=link)))


# -- clients joining -------------------------------------------------------------------------


async def on_chat_member(svc: Services, update: ChatMemberUpdated) -> None:
    """A client joined (or left) a channel: record it; tell the contractor about a join."""
    old, new = update.old_chat_member, update.new_chat_member
    member = new or old
    if update.chat is None or member is None or member.user is None or member.user.is_bot:
        return
    joined = new is not None and new.status in (enums.ChatMemberStatus.MEMBER,
                                                enums.ChatMemberStatus.ADMINISTRATOR)
    left = new is None or new.status in (enums.ChatMemberStatus.LEFT,
                                         enums.ChatMemberStatus.BANNED)
    if not (joined or left):
        return
    link = update.invite_link.invite_link if update.invite_link else None
    channel = await svc.channels.member_changed(update.chat.id, member.user, joined, link)
    if channel is None:
        return
    lang = await svc.contractors.language_of(channel.contractor_id)
    user = member.user
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or str(user.id)
    if user.username:
        name += f" (@{user.username})"
    single_use = await svc.channels.single_use_spent(channel, link, user.id)
    await send(svc.bot, channel.contractor_id,
               texts.t("join.single_use_spent" if single_use else "mych.joined", lang,
                       name=name, channel=channel.title))
    request = await svc.channels.request_settled(channel, user.id)
    if request is not None:  # approved in Telegram itself, not with the bot's buttons
        await _answered_elsewhere(svc, channel, request, texts.t(
            "join.approved", lang, name=_request_name(request), channel=channel.title))


def register(router: Router) -> None:
    """Buttons, the wizard, callbacks, and the chat_member handler of this module."""
    svc = router.svc
    router.buttons["btn.new_channel"] = start
    router.buttons["btn.channels"] = show_list
    router.flows[FLOW] = step
    router.file_flows.add(FLOW)
    router.callbacks["ch"] = on_callback
    router.callbacks["card"] = on_card
    router.flows[REPLACE] = replace_step
    router.file_flows.add(REPLACE)

    async def member_update(client: Client, update: ChatMemberUpdated) -> None:
        try:
            await on_chat_member(svc, update)
        except Exception:  # one bad update must not stop the bot
            log.exception("chat member update in %s failed",
                          getattr(update.chat, "id", None))

    router.extra_handlers.append(ChatMemberUpdatedHandler(member_update))
    svc.channels.join_mode = svc.config["channels.join"]

    async def join_request(client: Client, request: ChatJoinRequest) -> None:
        try:
            await on_join_request(svc, request)
        except Exception:  # one bad update must not stop the bot
            log.exception("join request in %s failed", getattr(request.chat, "id", None))

    router.extra_handlers.append(ChatJoinRequestHandler(join_request))
