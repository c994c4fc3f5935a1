"""👤 Личный кабинет: the connected account, the default watermark."""

from __future__ import annotations

from pyrogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from smetabot.bot.menu import main_menu, require_account
from smetabot.bot.router import Ctx, Router
from smetabot.contractors import WATERMARK_LIMIT

FLOW = "watermark"


async def show(ctx: Ctx) -> None:
    """The cabinet card."""
    if not await require_account(ctx):
        return
    contractor = ctx.contractor
    account = contractor.first_name + (f" (@{contractor.username})" if contractor.username else "")
    watermark = contractor.default_watermark or ctx.t("cabinet.no_watermark")
    keyboard = InlineKeyboardMarkup([
        [InlineKeyboardButton(ctx.t("btn.edit_watermark"), callback_data="cab:watermark")],
        [InlineKeyboardButton(ctx.t("btn.disconnect"), callback_data="acc:ask")],
    ])
    await ctx.reply(ctx.t("cabinet", account=account, watermark=watermark), reply_markup=keyboard)


async def on_callback(ctx: Ctx, action: str) -> None:
    """Buttons of the cabinet card."""
    assert ctx.callback is not None
    await ctx.callback.answer()
    if action == "watermark" and await require_account(ctx):
        await ctx.set_state(FLOW, "text")
        await ctx.reply(ctx.t("watermark.ask", limit=WATERMARK_LIMIT))


async def step(ctx: Ctx) -> None:
    """The watermark wizard: one step, the text."""
    assert ctx.message is not None
    text = " ".join((ctx.message.text or "").split())
    if not text:
        await ctx.reply(ctx.t("watermark.need_text"))
        return
    if len(text) > WATERMARK_LIMIT:
        await ctx.reply(ctx.t("watermark.too_long", length=len(text), limit=WATERMARK_LIMIT))
        return
    await ctx.app.contractors.set_watermark(ctx.user_id, text)
    await ctx.clear_state()
    await ctx.reply(ctx.t("watermark.saved", watermark=text), reply_markup=main_menu(ctx))


def register(router: Router) -> None:
    """Buttons, callbacks and the wizard of this module."""
    router.buttons["btn.cabinet"] = show
    router.callbacks["cab"] = on_callback
    router.flows[FLOW] = step
