"""The contractor's Telegram account: connected (from the WebApp) and disconnected."""

from __future__ import annotations

import contextlib
import logging

from pyrogram.types import Message

from smetabot import texts
from smetabot.bot.menu import connect_keyboard, main_menu, reset_menu_button
from smetabot.bot.router import Ctx, Router
from smetabot.errors import AccountError
from smetabot.services import Services

log = logging.getLogger(__name__)


async def announce_connected(svc: Services, user_id: int, account_name: str) -> None:
    """Called in-process when a login succeeds: replace the connect button with the menu."""
    await svc.contractors.set_session_state(user_id, "connected")
    contractor = await svc.contractors.get(user_id)
    lang = contractor.language if contractor else texts.RU
    svc.announced_logins.add(user_id)
    ctx = Ctx(svc, svc.bot, user_id, lang, contractor)
    await reset_menu_button(svc.bot, user_id)
    await ctx.reply(texts.t("account.connected", lang, name=account_name) + "\n\n" +
                    texts.t("menu", lang), reply_markup=main_menu(ctx))


def _is_web_app_data(message: Message) -> bool:
    return message.web_app_data is not None


async def on_web_app_data(ctx: Ctx) -> None:
    """The WebApp's ``sendData("session_ready")``: the in-process notice usually came first."""
    assert ctx.message is not None and ctx.message.web_app_data is not None
    if ctx.message.web_app_data.data != "session_ready":
        return
    if ctx.user_id in ctx.svc.announced_logins:
        ctx.svc.announced_logins.discard(ctx.user_id)
        return  # already told: no second message
    if ctx.connected:
        await ctx.reply(ctx.t("menu"), reply_markup=main_menu(ctx))
    else:
        await ctx.reply(ctx.t("need_account"), reply_markup=connect_keyboard(ctx))


async def disconnect(ctx: Ctx) -> None:
    """Log the session out at Telegram, delete the file, show the connect button."""
    svc = ctx.svc
    with contextlib.suppress(AccountError):
        async with svc.user_clients.use(ctx.user_id) as client:
            try:
                await client.log_out()
            except Exception:  # the file goes regardless: the contractor asked for it
                log.warning("log out at Telegram failed for %s", ctx.user_id, exc_info=True)
    await svc.user_clients.forget(ctx.user_id)
    svc.vault.delete(ctx.user_id)
    await svc.contractors.set_session_state(ctx.user_id, "none")
    await ctx.reply(ctx.t("account.disconnected"), reply_markup=connect_keyboard(ctx))


async def on_callback(ctx: Ctx, action: str) -> None:
    """The disconnect button and its confirmation."""
    assert ctx.callback is not None
    await ctx.answer()
    if action == "ask":
        from pyrogram.types import InlineKeyboardButton, InlineKeyboardMarkup

        await ctx.reply(ctx.t("account.disconnect_confirm"), reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(ctx.t("btn.disconnect_yes"), callback_data="acc:yes"),
            InlineKeyboardButton(ctx.t("btn.disconnect_no"), callback_data="acc:no")]]))
    elif action == "yes":
        await disconnect(ctx)
    else:
        await ctx.reply(ctx.t("account.kept"), reply_markup=main_menu(ctx))


def register(router: Router) -> None:
    """The WebApp data handler and the disconnect callbacks."""
    router.fallbacks.append((_is_web_app_data, on_web_app_data))
    router.callbacks["acc"] = on_callback
