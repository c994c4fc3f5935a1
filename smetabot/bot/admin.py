"""Plans from the bot, for the operators named in ``admins.telegram_ids``.

/admin (help and the plans), /contractors (who is on which plan, using what), /plan <who> <plan>
[YYYY-MM-DD]. To anyone else these commands do not exist.
"""

from __future__ import annotations

import logging
from datetime import date

from smetabot import texts
from smetabot.billing import Subscription
from smetabot.bot import analytics
from smetabot.bot.cabinet import plan_words
from smetabot.bot.channels import send
from smetabot.bot.menu import unknown
from smetabot.bot.router import Ctx, Router
from smetabot.contractors import Contractor
from smetabot.errors import BillingError
from smetabot.services import Services

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4000  # under Telegram's 4096, for the list of contractors


def is_admin(ctx: Ctx) -> bool:
    """Whether the user is one of the operators in the config."""
    return ctx.user_id in ctx.svc.config["admins.telegram_ids"]


async def find_contractor(svc: Services, who: str) -> Contractor | None:
    """A contractor by Telegram id or @username."""
    who = who.strip()
    if who.isdigit():
        return await svc.contractors.get(int(who))
    name = who.lstrip("@").lower()
    return next((c for c in await svc.contractors.all()
                 if c.username and c.username.lower() == name), None)


def _limit(ctx: Ctx, value: int | None) -> str:
    return ctx.t("admin.no_limit") if value is None else str(value)


async def help_(ctx: Ctx) -> None:
    """/admin: the commands and the plans."""
    if not is_admin(ctx):
        await unknown(ctx)
        return
    lines = [ctx.t("admin.plan_line", code=p.code, title=p.name(ctx.lang),
                   channels=_limit(ctx, p.max_channels),
                   publications=_limit(ctx, p.max_publications))
             for p in await ctx.svc.billing.plans()]
    await send(ctx.client, ctx.user_id, ctx.t("admin.help", plans="\n".join(lines))
               + await analytics.admin_summary(ctx.svc, ctx.lang))


async def contractors(ctx: Ctx) -> None:
    """/contractors: everyone who has used the bot, their plan and usage."""
    if not is_admin(ctx):
        await unknown(ctx)
        return
    billing = ctx.svc.billing
    lines = []
    for c in await ctx.svc.contractors.all():
        usage = await billing.usage(c.id)
        name = c.first_name + (f" @{c.username}" if c.username else "")
        lines.append(ctx.t("admin.contractor_line", id=c.id, name=name,
                           plan=plan_words(ctx.lang, await billing.subscription(c.id)),
                           channels=usage.channels, publications=usage.publications))
    if not lines:
        await ctx.reply(ctx.t("admin.no_contractors"))
        return
    chunk = ""
    for line in lines:
        if len(chunk) + len(line) + 1 > MESSAGE_LIMIT:
            await send(ctx.client, ctx.user_id, chunk)
            chunk = ""
        chunk += line + "\n"
    await send(ctx.client, ctx.user_id, chunk)


async def plan(ctx: Ctx) -> None:
    """/plan <id or @username> <plan> [YYYY-MM-DD]: put a contractor on a plan."""
    if not is_admin(ctx):
        await unknown(ctx)
        return
    assert ctx.message is not None
    args = (ctx.message.text or "").split()[1:]
    if len(args) not in (2, 3):
        await ctx.reply(ctx.t("admin.plan_usage"))
        return
    contractor = await find_contractor(ctx.svc, args[0])
    if contractor is None:
        await send(ctx.client, ctx.user_id, ctx.t("admin.not_found", who=args[0]))
        return
    until = None
    if len(args) == 3:
        try:
            until = date.fromisoformat(args[2])
        except ValueError:
            await send(ctx.client, ctx.user_id, ctx.t("admin.bad_date", date=args[2]))
            return
    try:
        subscription = await ctx.svc.billing.set_plan(contractor.id, args[1], until)
    except BillingError as exc:
        problem = exc.message(ctx.lang)
        await send(ctx.client, ctx.user_id, ctx.t("admin.plan_error", problem=problem))
        return
    await send(ctx.client, ctx.user_id, ctx.t("admin.plan_set", name=contractor.first_name,
                                              plan=plan_words(ctx.lang, subscription)))
    await tell_contractor(ctx.svc, contractor, subscription)


async def tell_contractor(svc: Services, contractor: Contractor, subscription: Subscription) -> None:
    """Let the contractor know their plan changed (never fails the caller)."""
    if not svc.bot.is_connected:
        return
    try:
        await send(svc.bot, contractor.id, texts.t(
            "plan.changed", contractor.language,
            plan=plan_words(contractor.language, subscription)))
    except Exception:  # they may have blocked the bot
        log.info("could not tell contractor %s about their plan", contractor.id, exc_info=True)


def register(router: Router) -> None:
    """The operators' commands."""
    router.commands.update({"admin": help_, "contractors": contractors, "plan": plan})
