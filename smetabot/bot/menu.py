"""/start, /menu, /help, /cancel, and what the bot says to a message it does not understand."""

from __future__ import annotations

from pyrogram.types import KeyboardButton, ReplyKeyboardMarkup, WebAppInfo

from smetabot.bot.router import Ctx, Router


def main_menu(ctx: Ctx) -> ReplyKeyboardMarkup:
    """The four menu buttons of a connected contractor."""
    return ReplyKeyboardMarkup([
        [KeyboardButton(ctx.t("btn.new_channel")), KeyboardButton(ctx.t("btn.render"))],
        [KeyboardButton(ctx.t("btn.channels")), KeyboardButton(ctx.t("btn.cabinet"))],
    ], resize_keyboard=True)


def connect_keyboard(ctx: Ctx) -> ReplyKeyboardMarkup:
    """The one button that opens the WebApp login."""
    url = f"{ctx.svc.public_url()}/webapp/login?lang={ctx.lang}"
    return ReplyKeyboardMarkup([[KeyboardButton(ctx.t("btn.connect"), web_app=WebAppInfo(url=url))]],
                               resize_keyboard=True)


async def start(ctx: Ctx) -> None:
    """First contact, or back to the beginning."""
    await ctx.clear_state()
    if ctx.connected:
        await ctx.reply(ctx.t("menu"), reply_markup=main_menu(ctx))
    else:
        await ctx.reply(ctx.t("start.connect"), reply_markup=connect_keyboard(ctx))


async def menu(ctx: Ctx) -> None:
    """The main menu (or the connect button for a contractor without an account)."""
    await ctx.clear_state()
    if ctx.connected:
        await ctx.reply(ctx.t("menu"), reply_markup=main_menu(ctx))
    else:
        await ctx.reply(ctx.t("need_account"), reply_markup=connect_keyboard(ctx))


async def help_(ctx: Ctx) -> None:
    """What the bot does and its commands."""
    await ctx.reply(ctx.t("help"),
                    reply_markup=main_menu(ctx) if ctx.connected else connect_keyboard(ctx))


async def cancel(ctx: Ctx) -> None:
    """Leave the current wizard."""
    had = await ctx.clear_state()
    await ctx.reply(ctx.t("cancelled" if had else "nothing_to_cancel"),
                    reply_markup=main_menu(ctx) if ctx.connected else connect_keyboard(ctx))


async def unknown(ctx: Ctx) -> None:
    """A message that is no command, button or wizard answer."""
    await ctx.reply(ctx.t("unknown"),
                    reply_markup=main_menu(ctx) if ctx.connected else connect_keyboard(ctx))


async def require_account(ctx: Ctx) -> bool:
    """True when connected; otherwise tell the contractor to connect first."""
    if ctx.connected:
        return True
    await ctx.reply(ctx.t("need_account"), reply_markup=connect_keyboard(ctx))
    return False


def register(router: Router) -> None:
    """Commands of this module."""
    router.commands.update({"start": start, "menu": menu, "help": help_, "cancel": cancel,
                            "unknown": unknown})
    router.buttons["btn.cancel"] = cancel
