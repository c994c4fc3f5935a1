"""/start, /menu, /help, /cancel, and what the bot says to a message it does not understand."""

from __future__ import annotations

import logging

from pyrogram import Client, enums
from pyrogram.errors import RPCError
from pyrogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)

from smetabot.bot import approvals
from smetabot.bot.router import Ctx, Router
from smetabot.publishing import post_link
from smetabot.statuses import ChannelStatus

log = logging.getLogger(__name__)


def main_menu(ctx: Ctx) -> ReplyKeyboardMarkup:
    """The four menu buttons of a connected contractor."""
    return ReplyKeyboardMarkup([
        [KeyboardButton(ctx.t("btn.new_channel")), KeyboardButton(ctx.t("btn.render"))],
        [KeyboardButton(ctx.t("btn.channels")), KeyboardButton(ctx.t("btn.cabinet"))],
    ], resize_keyboard=True)


def login_url(ctx: Ctx) -> str:
    """Where the WebApp login lives."""
    return f"{ctx.svc.public_url()}/webapp/login?lang={ctx.lang}"


def connect_keyboard(ctx: Ctx) -> InlineKeyboardMarkup:
    """The one button that opens the WebApp login: an *inline* web_app button, as a Mini App
    opened from a reply-keyboard button gets empty initData (core.telegram.org/bots/webapps,
    WebAppInitData), and the login API acts only on signed initData."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        ctx.t("btn.connect"), web_app=WebAppInfo(url=login_url(ctx)))]])


async def offer_login_menu_button(ctx: Ctx) -> None:
    """The chat's menu button (left of the message field) opens the login too, for a
    contractor not yet connected; Telegram signs initData for it as for inline buttons."""
    try:
        await ctx.client.set_chat_menu_button(ctx.user_id, MenuButtonWebApp(
            ctx.t("btn.connect_short"), WebAppInfo(url=login_url(ctx))))
    except (RPCError, TimeoutError) as exc:  # a convenience: the inline button does the same
        log.info("menu button for %s not set: %r", ctx.user_id, exc)


async def client_answer(ctx: Ctx) -> bool:
    """A client of a channel who is no contractor (never connected an account, owns no
    channel) hears which channels they can read and how to reach the contractor; True when
    that was the answer."""
    if ctx.connected or not await ctx.svc.contractors.is_client_only(ctx.user_id):
        return False
    reading = await ctx.svc.channels.records.reading(ctx.user_id)
    if not reading:
        return False
    lines, rows = [], []
    for channel, name, username in reading[:20]:
        who = name + (f" (@{username})" if username else "")
        key = "client.line_archived" if channel.status == ChannelStatus.ARCHIVED else \
            "client.line"
        lines.append(ctx.t(key, channel=channel.title, contractor=who))
        row = [InlineKeyboardButton(ctx.t("client.btn.open", channel=channel.title)[:64],
                                    url=post_link(channel.telegram_id, None))]
        contact = f"https://t.me/{username}" if username else \
            f"tg://user?id={channel.contractor_id}"
        row.append(InlineKeyboardButton(ctx.t("client.btn.write", contractor=name or who)[:64],
                                        url=contact))
        rows.append(row)
    await ctx.client.send_message(ctx.user_id, ctx.t("client.start", lines="\n".join(lines)),
                                  reply_markup=ReplyKeyboardRemove(),
                                  parse_mode=enums.ParseMode.DISABLED)
    await ctx.client.send_message(ctx.user_id, ctx.t("client.buttons"),
                                  reply_markup=InlineKeyboardMarkup(rows))
    return True


async def connect(ctx: Ctx) -> None:
    """/connect: anyone (a client too) may become a contractor."""
    await ctx.clear_state()
    if ctx.connected:
        await ctx.reply(ctx.t("menu"), reply_markup=main_menu(ctx))
    else:
        await ctx.reply(ctx.t("start.connect"), reply_markup=connect_keyboard(ctx))


async def start(ctx: Ctx) -> None:
    """First contact, or back to the beginning; ``/start q_<code>`` (the deep link of
    «💬 Задать вопрос» under a publication) asks about that publication."""
    await ctx.clear_state()
    param = ((ctx.message.text or "").split(maxsplit=1)[1:] or [""])[0] if ctx.message else ""
    if param.startswith("q_"):
        await approvals.start_question(ctx, param[2:])
        return
    if await client_answer(ctx):
        return
    if ctx.connected:
        await ctx.reply(ctx.t("menu"), reply_markup=main_menu(ctx))
    else:
        await offer_login_menu_button(ctx)
        await ctx.reply(ctx.t("start.connect"), reply_markup=connect_keyboard(ctx))


async def menu(ctx: Ctx) -> None:
    """The main menu (or the connect button for a contractor without an account)."""
    await ctx.clear_state()
    if await client_answer(ctx):
        return
    if ctx.connected:
        await ctx.reply(ctx.t("menu"), reply_markup=main_menu(ctx))
    else:
        await ctx.reply(ctx.t("need_account"), reply_markup=connect_keyboard(ctx))


async def help_(ctx: Ctx) -> None:
    """What the bot does and its commands."""
    if await client_answer(ctx):
        return
    await ctx.reply(ctx.t("help"),
                    reply_markup=main_menu(ctx) if ctx.connected else connect_keyboard(ctx))


async def cancel(ctx: Ctx) -> None:
    """Leave the current wizard."""
    had = await ctx.clear_state()
    await ctx.reply(ctx.t("cancelled" if had else "nothing_to_cancel"),
                    reply_markup=main_menu(ctx) if ctx.connected else connect_keyboard(ctx))


async def unknown(ctx: Ctx) -> None:
    """A message that is no command, button or wizard answer."""
    if await client_answer(ctx):
        return
    await ctx.reply(ctx.t("unknown"),
                    reply_markup=main_menu(ctx) if ctx.connected else connect_keyboard(ctx))


async def require_account(ctx: Ctx) -> bool:
    """True when connected; otherwise tell the contractor to connect first."""
    if ctx.connected:
        return True
    if await client_answer(ctx):
        return False
    await ctx.reply(ctx.t("need_account"), reply_markup=connect_keyboard(ctx))
    return False


def register(router: Router) -> None:
    """Commands of this module."""
    router.commands.update({"start": start, "menu": menu, "help": help_, "cancel": cancel,
                            "unknown": unknown, "connect": connect})
    router.buttons["btn.cancel"] = cancel


async def reset_menu_button(client: Client, user_id: int) -> None:
    """Once connected, the menu button lists the commands again."""
    try:
        await client.set_chat_menu_button(user_id, MenuButtonCommands())
    except (RPCError, TimeoutError) as exc:
        log.info("menu button for %s not reset: %r", user_id, exc)
