"""👤 Личный кабинет: the connected account, the plan and its usage, the default watermark."""

from __future__ import annotations

from pyrogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from smetabot import texts
from smetabot.billing import Subscription
from smetabot.bot import analytics, approvals
from smetabot.bot.menu import main_menu, require_account
from smetabot.bot.router import Ctx, Router
from smetabot.contractors import WATERMARK_LIMIT

FLOW = "watermark"


def plan_words(lang: str, subscription: Subscription) -> str:
    """ "Pro до 31.12.2026" / "Бесплатный, бессрочно"."""
    title = subscription.plan.name(lang)
    if subscription.ends_at:
        return texts.t("cabinet.plan_until", lang, plan=title,
                       until=texts.day(subscription.ends_at, lang))
    return texts.t("cabinet.plan_forever", lang, plan=title)


def used_of(lang: str, used: int, limit: int | None) -> str:
    """ "2 из 3", or "2 (без ограничений)"."""
    if limit is None:
        return texts.t("cabinet.unlimited", lang, used=used)
    return texts.t("cabinet.of", lang, used=used, limit=limit)


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
        [analytics.notify_button(ctx, await ctx.svc.analytics.notify_enabled(ctx.user_id))],
        [await approvals.switch_button(ctx)],
    ])
    subscription = await ctx.svc.billing.subscription(ctx.user_id)
    usage, plan = await ctx.svc.billing.usage(ctx.user_id), subscription.plan
    await ctx.reply(ctx.t("cabinet", account=account, watermark=watermark,
                          plan=plan_words(ctx.lang, subscription),
                          channels=used_of(ctx.lang, usage.channels, plan.max_channels),
                          publications=used_of(ctx.lang, usage.publications,
                                               plan.max_publications)),
                    reply_markup=keyboard)


async def on_callback(ctx: Ctx, action: str) -> None:
    """Buttons of the cabinet card."""
    assert ctx.callback is not None
    await ctx.answer()
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
    await ctx.svc.contractors.set_watermark(ctx.user_id, text)
    await ctx.clear_state()
    await ctx.reply(ctx.t("watermark.saved", watermark=text), reply_markup=main_menu(ctx))


def register(router: Router) -> None:
    """Buttons, callbacks and the wizard of this module."""
    router.buttons["btn.cabinet"] = show
    router.callbacks["cab"] = on_callback
    router.flows[FLOW] = step
