"""🆕 Новый канал and 📢 Мои каналы: the channel wizard, the list and card, join announcements.

The bot hears about clients joining through ``chat_member`` updates (``UpdateChannelParticipant``
in MTProto). A Bot API bot must ask for them in ``allowed_updates``; an MTProto bot, which is
what pyrogram runs, has no such switch: Telegram sends them to a bot that is an admin of the
channel, which is why the bot is made admin of every client channel.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from pyrogram import Client, enums
from pyrogram.handlers import ChatMemberUpdatedHandler
from pyrogram.types import (
    ChatMemberUpdated,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from smetabot import texts
from smetabot.bot import analytics
from smetabot.bot.menu import connect_keyboard, main_menu, require_account
from smetabot.bot.router import Ctx, Router
from smetabot.channel_records import ClientChannel
from smetabot.errors import LimitReached, NotConnected, SessionRevoked, SetupDeferred, SmetaBotError
from smetabot.services import Services
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
    if total == 0:
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
    text = ctx.t("mych.list", total=total, page=page + 1, pages=pages)
    return text, InlineKeyboardMarkup(rows)


async def _card_view(ctx: Ctx, channel: ClientChannel) -> tuple[str, InlineKeyboardMarkup]:
    records = ctx.svc.channels.records
    members = await records.members(channel.id)
    names = ", ".join(m.name + (f" (@{m.username})" if m.username else "") for m in members)
    who = f"{len(members)} — {names}" if members else ctx.t("mych.no_members")
    admin = channel.status == "ready"
    link = channel.link or ctx.t("mych.no_link" if admin else "mych.link_later")
    text = ctx.t("mych.card", title=channel.title, created=texts.day(channel.created_at, ctx.lang),
                 status=ctx.t(f"mych.status.{channel.status}"), members=who,
                 publications=await records.publications(channel.id), link=link)
    extra, charts = await analytics.card_section(ctx.svc, channel, ctx.lang)
    text += extra
    shared = link_keyboard(ctx.lang, channel)
    rows = (list(shared.inline_keyboard) if shared else []) + charts
    if admin:
        row = [InlineKeyboardButton(ctx.t("btn.new_link"), callback_data=f"ch:n:{channel.id}")]
        if channel.link:
            row.append(InlineKeyboardButton(ctx.t("btn.revoke_link"),
                                            callback_data=f"ch:r:{channel.id}"))
        rows.append(row)
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
        await ctx.callback.answer()
        return
    if action == "p":
        await ctx.callback.answer()
        await _edit(ctx, *await _list_view(ctx, int(rest) if rest.isdigit() else 0))
        return
    channel_id, _, invite_id = rest.partition(":")
    channel = await ctx.svc.channels.get(int(channel_id)) if channel_id.isdigit() else None
    if channel is None or channel.contractor_id != ctx.user_id or channel.status in (
            "archived", "failed"):
        await ctx.callback.answer(ctx.t("mych.gone"), show_alert=True)
        return
    try:
        await _act(ctx, action, channel, invite_id)
    except SmetaBotError as exc:
        await ctx.callback.answer()
        await send(ctx.client, ctx.user_id, "❌ " + exc.message(ctx.lang))


async def _act(ctx: Ctx, action: str, channel: ClientChannel, invite_id: str) -> None:
    assert ctx.callback is not None
    channels, uid = ctx.svc.channels, ctx.user_id
    if action == "c":
        await ctx.callback.answer()
        await send(ctx.client, uid, *await _card_view(ctx, channel))
    elif action == "n":
        await ctx.callback.answer()
        link = await channels.new_link(channel)
        fresh = await channels.get(channel.id)
        await send(ctx.client, uid, ctx.t("mych.new_link", title=channel.title, link=link),
                   link_keyboard(ctx.lang, fresh))
    elif action == "r" and not invite_id:
        invites = await channels.records.invites(channel.id)
        if len(invites) == 1:
            await _revoke(ctx, channel, invites[0].id)
            return
        await ctx.callback.answer()
        rows = [[InlineKeyboardButton(f"🚫 {n}. …{i.link[-12:]}",
                                      callback_data=f"ch:r:{channel.id}:{i.id}")]
                for n, i in enumerate(invites, 1)]
        await send(ctx.client, uid, ctx.t("mych.revoke_which") + "\n\n" + "\n".join(
            f"{n}. {i.link}" for n, i in enumerate(invites, 1)), InlineKeyboardMarkup(rows))
    elif action == "r":
        await _revoke(ctx, channel, int(invite_id))
    elif action == "a":
        await ctx.callback.answer()
        await send(ctx.client, uid, ctx.t("mych.archive_confirm", title=channel.title),
                   InlineKeyboardMarkup([[
                       InlineKeyboardButton(ctx.t("btn.archive_yes"),
                                            callback_data=f"ch:A:{channel.id}"),
                       InlineKeyboardButton(ctx.t("btn.archive_no"),
                                            callback_data=f"ch:k:{channel.id}")]]))
    elif action == "A":
        await ctx.callback.answer()
        await channels.archive(channel)
        await _edit(ctx, ctx.t("mych.archived", title=channel.title), None)
    elif action == "k":
        await ctx.callback.answer()
        await _edit(ctx, ctx.t("mych.kept"), None)
    else:
        await ctx.callback.answer()


async def _revoke(ctx: Ctx, channel: ClientChannel, invite_id: int) -> None:
    assert ctx.callback is not None
    await ctx.svc.channels.revoke_link(channel, invite_id)
    await ctx.callback.answer(ctx.t("mych.revoked"))
    fresh = await ctx.svc.channels.get(channel.id)
    await send(ctx.client, ctx.user_id, *await _card_view(ctx, fresh))


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
    await send(svc.bot, channel.contractor_id,
               texts.t("mych.joined", lang, name=name, channel=channel.title))


def register(router: Router) -> None:
    """Buttons, the wizard, callbacks, and the chat_member handler of this module."""
    svc = router.svc
    router.buttons["btn.new_channel"] = start
    router.buttons["btn.channels"] = show_list
    router.flows[FLOW] = step
    router.file_flows.add(FLOW)
    router.callbacks["ch"] = on_callback

    async def member_update(client: Client, update: ChatMemberUpdated) -> None:
        try:
            await on_chat_member(svc, update)
        except Exception:  # one bad update must not stop the bot
            log.exception("chat member update in %s failed",
                          getattr(update.chat, "id", None))

    router.extra_handlers.append(ChatMemberUpdatedHandler(member_update))
