"""What the contractor sees of analytics: the pages a client opened on the channel card, a bar
chart of a publication's pages, ``/trace CODE``, the "client opened" notice and its switch.

Where a channel has one member besides the contractor, views beyond the contractor's own are
that client's: the card names them. With more members it says how many views, never who.
"""

from __future__ import annotations

import importlib.resources
import io
import logging
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from pyrogram import enums
from pyrogram.types import InlineKeyboardButton

from smetabot import texts
from smetabot.analytics import ContractorStats, PublicationViews, Trace
from smetabot.bot.menu import require_account
from smetabot.bot.router import Ctx, Router
from smetabot.channel_records import ClientChannel
from smetabot.services import Services

log = logging.getLogger(__name__)

PLAIN = enums.ParseMode.DISABLED
CARD_PUBLICATIONS = 5


def ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] → "1–3, 5"."""
    parts: list[str] = []
    numbers = sorted(numbers)
    start = prev = None
    for n in numbers + [None]:
        if start is None:
            start = prev = n
        elif n is not None and n == prev + 1:
            prev = n
        else:
            parts.append(str(start) if start == prev else f"{start}–{prev}")
            start = prev = n
    return ", ".join(parts)


def _short(name: str, limit: int = 60) -> str:
    """A file name that keeps the card within Telegram's 4096 characters."""
    return name if len(name) <= limit else name[:limit - 1] + "…"


def _when(stamp: str | None, lang: str) -> str:
    if not stamp:
        return ""
    return f"{texts.day(stamp, lang)} {stamp[11:16]}"


def publication_lines(pub: PublicationViews, lang: str, clients: int) -> list[str]:
    """A publication on the channel card: which pages were opened, by whom or how often."""
    lines = [texts.t("analytics.card.publication", lang, file=_short(pub.file_name),
                     code=pub.tracking_code, date=texts.day(pub.created_at, lang),
                     pages=len(pub.pages))]
    if all(p.views is None for p in pub.pages):
        lines.append(texts.t("analytics.card.not_read", lang))
        return lines
    total = len(pub.pages)
    if clients > 1:
        counts = ", ".join(f"{p.page}: {p.others}" for p in pub.pages)
        lines.append(texts.t("analytics.card.counts", lang, counts=counts))
        return lines
    opened = [p.page for p in pub.pages if p.others > 0]
    rest = [p.page for p in pub.pages if p.others == 0]
    if not opened:
        lines.append(texts.t("analytics.card.none_opened", lang, total=total))
        return lines
    lines.append(texts.t("analytics.card.opened", lang, pages=ranges(opened), total=total,
                         when=_when(pub.first_seen_at, lang)))
    if rest:
        lines.append(texts.t("analytics.card.not_opened", lang, pages=ranges(rest)))
    return lines


async def card_section(svc: Services, channel: ClientChannel,
                       lang: str) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The channel card's analytics: publications with their pages' views, joins and leaves;
    and a chart button per publication."""
    analytics = svc.analytics
    members = await svc.channels.records.members(channel.id)
    publications = await analytics.channel_publications(channel.id, CARD_PUBLICATIONS)
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    if publications:
        lines.append(texts.t("analytics.card.title", lang))
        for pub in publications:
            lines.extend(publication_lines(pub, lang, len(members)))
            rows.append([InlineKeyboardButton(
                texts.t("analytics.btn.chart", lang, file=pub.file_name)[:64],
                callback_data=f"an:png:{pub.id}")])
    history = await analytics.member_history(channel.id)
    if history:
        lines.append(texts.t("analytics.card.history", lang))
        for event in history[-10:]:
            lines.append(texts.t(f"analytics.card.{event['kind']}", lang,
                                 name=event["name"] or str(event["user_id"]),
                                 when=_when(event["at"], lang)))
    return ("\n\n" + "\n".join(lines)) if lines else "", rows


def _font(size: int) -> ImageFont.FreeTypeFont:
    data = importlib.resources.files("smetabot").joinpath(
        "assets/fonts/DejaVuSans-Bold.ttf").read_bytes()
    return ImageFont.truetype(io.BytesIO(data), size)


def chart_png(pub: PublicationViews, lang: str, counts: bool) -> bytes:
    """A bar per page: seen / not seen (one client), or the views of each page (several)."""
    n = max(1, len(pub.pages))
    bar, gap, left, top, height = 36, 12, 60, 70, 260
    width = left + n * (bar + gap) + 40
    image = Image.new("RGB", (max(width, 480), top + height + 70), "white")
    draw = ImageDraw.Draw(image)
    title = texts.t("analytics.chart.title", lang, file=pub.file_name)
    draw.text((16, 16), title[:70], fill="black", font=_font(18))
    values = [p.others if counts else int(p.others > 0) for p in pub.pages]
    peak = max(values + [1])
    base = top + height
    draw.line((left - 8, base, left + n * (bar + gap), base), fill="#444444", width=2)
    for i, (page, value) in enumerate(zip(pub.pages, values)):
        x = left + i * (bar + gap)
        h = int(height * value / peak) if value else 6
        draw.rectangle((x, base - h, x + bar, base), fill="#2e7d32" if value else "#c62828")
        draw.text((x + bar / 2, base + 8), str(page.page), fill="black", font=_font(14),
                  anchor="ma")
        if counts:
            draw.text((x + bar / 2, base - h - 4), str(value), fill="black", font=_font(12),
                      anchor="md")
    legend = texts.t("analytics.chart.counts" if counts else "analytics.chart.legend", lang)
    draw.text((16, base + 36), legend, fill="#333333", font=_font(14))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def on_callback(ctx: Ctx, data: str) -> None:
    """``an:png:<publication>`` (the chart), ``an:notify:on|off`` (the notice switch)."""
    assert ctx.callback is not None
    action, _, rest = data.partition(":")
    if action == "notify":
        on = rest == "on"
        await ctx.svc.analytics.set_notify(ctx.user_id, on)
        await ctx.callback.answer(ctx.t("analytics.notify.on" if on else "analytics.notify.off"))
        return
    if action == "png" and rest.isdigit():
        pub = await ctx.svc.analytics.publication_views(int(rest))
        channel = await ctx.svc.channels.get(pub.channel_id) if pub else None
        if pub is None or channel is None or channel.contractor_id != ctx.user_id:
            await ctx.callback.answer(ctx.t("analytics.gone"), show_alert=True)
            return
        await ctx.callback.answer()
        members = await ctx.svc.channels.records.members(channel.id)
        picture = io.BytesIO(chart_png(pub, ctx.lang, counts=len(members) > 1))
        picture.name = f"pages-{pub.tracking_code}.png"
        await ctx.client.send_photo(ctx.user_id, picture, caption=ctx.t(
            "analytics.chart.caption", file=pub.file_name, channel=channel.title))
        return
    await ctx.callback.answer()


async def admin_summary(svc: Services, lang: str) -> str:
    """/admin: the installation's figures (what `smetabot stats` totals)."""
    rows = await svc.analytics.stats()
    total = {c: sum(getattr(r, c) for r in rows) for c in ContractorStats.COLUMNS[2:]}
    return "\n\n" + texts.t("analytics.admin", lang, contractors=len(rows), **total)


def notify_button(ctx: Ctx, on: bool) -> InlineKeyboardButton:
    """The cabinet's switch of the "client opened" notice."""
    return InlineKeyboardButton(ctx.t("analytics.btn.notify_on" if on else
                                      "analytics.btn.notify_off"),
                                callback_data=f"an:notify:{'off' if on else 'on'}")


def trace_text(trace: Trace, lang: str) -> str:
    """The answer to a trace, in the user's language (CLI: English)."""
    members = "\n".join(
        texts.t("analytics.trace.member", lang, name=name, joined=_when(joined, lang),
                left=texts.t("analytics.trace.left", lang, when=_when(left, lang)) if left
                else "")
        for name, joined, left in trace.members) or texts.t("analytics.trace.nobody", lang)
    opened = ""
    if trace.views is not None and any(p.views is not None for p in trace.views.pages):
        seen = trace.views.opened
        opened = texts.t("analytics.trace.opened", lang,
                         pages=ranges(seen) if seen else "—")
    return texts.t("analytics.trace.found", lang, code=trace.code, file=trace.file_name,
                   pages=ranges(trace.pages), channel=trace.channel_title,
                   when=_when(trace.published_at, lang), members=members) + opened


async def trace_command(ctx: Ctx) -> None:
    """/trace CODE: which of the contractor's publications a page with this code is from."""
    if not await require_account(ctx):
        return
    assert ctx.message is not None
    parts = (ctx.message.text or "").split(maxsplit=1)
    if len(parts) < 2 or not parts[1].strip():
        await ctx.reply(ctx.t("analytics.trace.usage"))
        return
    code = parts[1].strip()
    trace = await ctx.svc.analytics.trace(code, contractor_id=ctx.user_id)
    if trace is None:  # another contractor's code reads exactly like an unknown one
        await ctx.client.send_message(ctx.user_id, ctx.t("analytics.trace.unknown",
                                                         code=code[:20]), parse_mode=PLAIN)
        return
    await ctx.client.send_message(ctx.user_id, trace_text(trace, ctx.lang), parse_mode=PLAIN)


class ViewNotices:
    """The views poller's notices, told to the contractor."""

    def __init__(self, services: Callable[[], Services]) -> None:
        self._services = services

    async def __call__(self, kind: str, contractor_id: int, **details: Any) -> None:
        svc = self._services()
        lang = await svc.contractors.language_of(contractor_id)
        if kind == "session_lost":
            text = texts.t("analytics.notice.session_lost", lang)
        else:
            pub = await svc.analytics.publication_views(details["publication_id"])
            if pub is None:
                return
            channel = await svc.channels.get(pub.channel_id)
            text = texts.t("analytics.notice.opened", lang, file=pub.file_name,
                           channel=channel.title if channel else "",
                           pages=ranges(details["pages"]), total=len(pub.pages))
        await svc.bot.send_message(contractor_id, text, parse_mode=PLAIN)


def register(router: Router) -> None:
    """/trace and the analytics buttons."""
    router.commands["trace"] = trace_command
    router.callbacks["an"] = on_callback
