"""The client's answer under a publication: «✅ Согласовать» and «💬 Задать вопрос».

After a publication's albums (an album cannot carry buttons) the bot posts one short message
with two buttons. "Согласовать" asks to confirm naming the document, its version and tracking
code (the same message gains a "Да, согласовать «…» (код #…)" button); the confirmation is
recorded once (``smetabot/approvals.py``), the contractor is told at once and the message shows
"Согласовано <date>". "Задать вопрос" is a deep link ``t.me/<bot>?start=q_<code>``: the client
types the question in the bot's chat, the bot relays it to the contractor naming the
publication, and the contractor's answer (a Reply to that message, or its button) goes back.
"""

from __future__ import annotations

import logging

from pyrogram import enums
from pyrogram import errors as tg
from pyrogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from smetabot import texts
from smetabot.approvals import Approval, Approvals, Question, moment
from smetabot.bot.router import Ctx, Router
from smetabot.channel_records import ClientChannel
from smetabot.publication_records import Publication
from smetabot.services import Services
from smetabot.statuses import PublicationStatus

log = logging.getLogger(__name__)

ASK_FLOW = "question"
ANSWER_FLOW = "answer"
QUESTION_LIMIT = 3000  # characters of a relayed question or answer (Telegram takes 4096)


def store(svc: Services) -> Approvals:
    """The approvals records (stateless: made on demand)."""
    return Approvals(svc.db, svc.analytics)


def ask_url(svc: Services, publication: Publication) -> str:
    return f"https://t.me/{svc.bot.me.username}?start=q_{publication.tracking_code}"


def _keyboard(svc: Services, publication: Publication, lang: str,
              confirm: bool = False, approved: bool = False) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if confirm:
        rows.append([InlineKeyboardButton(
            texts.t("approve.btn.confirm", lang, title=publication.name[:30],
                    code=publication.tracking_code)[:64],
            callback_data=f"apr:y:{publication.id}")])
        rows.append([InlineKeyboardButton(texts.t("approve.btn.back", lang),
                                          callback_data=f"apr:n:{publication.id}")])
    elif not approved:
        rows.append([InlineKeyboardButton(texts.t("approve.btn.approve", lang),
                                          callback_data=f"apr:a:{publication.id}")])
    rows.append([InlineKeyboardButton(texts.t("approve.btn.ask", lang),
                                      url=ask_url(svc, publication))])
    return InlineKeyboardMarkup(rows)


async def _edit(svc: Services, channel: ClientChannel, message_id: int, text: str,
                markup: InlineKeyboardMarkup | None) -> None:
    try:
        await svc.bot.edit_message_text(channel.telegram_id, message_id, text,
                                        reply_markup=markup,
                                        parse_mode=enums.ParseMode.DISABLED)
    except tg.MessageNotModified:
        pass
    except tg.RPCError as exc:  # deleted by the contractor, rights taken: the record stands
        log.info("approval message %s not edited: %s", message_id, exc.ID)


async def post_buttons(svc: Services, publication: Publication, channel: ClientChannel,
                       asked: bool = False) -> None:
    """The buttons message under a just-published publication (once; not when the contractor
    switched them off, unless ``asked`` for this one); a publication it replaces loses its
    buttons and says so."""
    records = store(svc)
    lang = publication.lang
    old_id = await records.replaced_by(publication.id)
    if old_id is not None:
        old = await svc.publishing.records.publication(old_id)
        old_post = await records.post_of(old_id)
        if old is not None and old_post is not None:
            await _edit(svc, channel, old_post, texts.t(
                "approve.replaced_post", lang, title=old.name,
                version=await records.version(old_id), code=old.tracking_code), None)
    if not channel.bot_is_admin or await records.post_of(publication.id) is not None or \
            not (asked or await records.enabled(publication.contractor_id)):
        return  # (only a bot's post can carry the buttons)
    text = texts.t("approve.post", lang, title=publication.name,
                   version=await records.version(publication.id), code=publication.tracking_code)
    try:
        sent = await svc.bot.send_message(channel.telegram_id, text,
                                          reply_markup=_keyboard(svc, publication, lang),
                                          parse_mode=enums.ParseMode.DISABLED)
    except tg.RPCError as exc:  # the pages are out; the buttons are a convenience
        log.info("approval buttons for publication %s not posted: %s", publication.id, exc.ID)
        return
    await records.posted(publication.id, sent.id)


def _who(name: str, username: str | None) -> str:
    return (name or "").strip() + (f" (@{username})" if username else "")


async def on_callback(ctx: Ctx, rest: str) -> None:
    """``apr:a|y|n:<publication>`` under a channel post; ``apr:r:<question>`` (answer a
    question) and ``apr:sw`` (the cabinet switch) in the bot's chat."""
    action, _, argument = rest.partition(":")
    if action == "r":
        await _answer_button(ctx, int(argument or 0))
        return
    if action == "sw":
        await switch(ctx)
        return
    svc, records = ctx.svc, store(ctx.svc)
    publication = await svc.publishing.records.publication(int(argument or 0))
    answer = ctx.answer

    async def alert(text: str, show_alert: bool = True) -> None:
        await answer(text[:200], show_alert=show_alert)  # Telegram takes 200 characters

    message = ctx.callback.message if ctx.callback else None
    channel = await svc.channels.records.get(publication.channel_id) if publication else None
    if publication is None or channel is None or message is None or \
            message.chat is None or message.chat.id != channel.telegram_id:
        await ctx.answer()
        return
    lang = publication.lang
    version = await records.version(publication.id)
    if publication.status != PublicationStatus.PUBLISHED or publication.replaced_by:
        if publication.status == PublicationStatus.REPLACED or publication.replaced_by:
            await _edit(svc, channel, message.id, texts.t(
                "approve.replaced_post", lang, title=publication.name, version=version,
                code=publication.tracking_code), None)
        elif publication.status == PublicationStatus.WITHDRAWN:
            await _edit(svc, channel, message.id, texts.t(
                "approve.withdrawn_post", lang, title=publication.name, version=version,
                code=publication.tracking_code), None)
        await alert(ctx.t("approve.gone"))
        return
    approval = await records.approval(publication.id)
    if approval is not None:
        await _show_approved(svc, channel, message.id, publication, version, approval)
        await alert(ctx.t("approve.already", when=moment(approval.approved_at)))
        return
    member = await svc.channels.records.present_member(channel.id, ctx.user_id)
    if member is None:
        await alert(ctx.t("approve.not_member"))
        return
    if action == "a":
        await _edit(svc, channel, message.id, message.text or "",
                    _keyboard(svc, publication, lang, confirm=True))
        await alert(ctx.t("approve.confirm_hint", title=publication.name, version=version,
                          code=publication.tracking_code, pages=len(publication.pages)), False)
        return
    if action == "n":
        await _edit(svc, channel, message.id, message.text or "",
                    _keyboard(svc, publication, lang))
        await ctx.answer()
        return
    if action != "y":
        await ctx.answer()
        return
    person = member[0]
    user = ctx.callback.from_user if ctx.callback else None
    name = " ".join(filter(None, [getattr(user, "first_name", None),
                                  getattr(user, "last_name", None)])) or person.name
    username = getattr(user, "username", None) or person.username
    approval, new = await records.approve(publication, ctx.user_id, name, username)
    await _show_approved(svc, channel, message.id, publication, version, approval)
    if not new:
        await alert(ctx.t("approve.already", when=moment(approval.approved_at)))
        return
    await alert(ctx.t("approve.done_alert", title=publication.name,
                      code=publication.tracking_code))
    told = texts.t("approve.told", publication.lang, who=approval.who, title=publication.name,
                   version=version, code=publication.tracking_code,
                   when=moment(approval.approved_at))
    try:
        await svc.bot.send_message(publication.contractor_id, told,
                                   parse_mode=enums.ParseMode.DISABLED)
    except tg.RPCError as exc:  # blocked the bot: the approval is on the card and in trace
        log.info("contractor %s not told of an approval: %s", publication.contractor_id, exc.ID)


async def _show_approved(svc: Services, channel: ClientChannel, message_id: int,
                         publication: Publication, version: int, approval: Approval) -> None:
    lang = publication.lang
    await _edit(svc, channel, message_id, texts.t(
        "approve.approved_post", lang, title=publication.name, version=version,
        code=publication.tracking_code, date=texts.day(approval.approved_at, lang)),
        _keyboard(svc, publication, lang, approved=True))


async def card_lines(ctx: Ctx, publication: Publication) -> list[str]:
    """The channel card's line about the publication's approval ("согласовано кем и когда" or
    "ждёт согласования"); nothing when it had no buttons."""
    records = store(ctx.svc)
    approval = await records.approval(publication.id)
    if approval is not None:
        return [ctx.t("approve.card_approved", who=approval.who,
                      when=moment(approval.approved_at))]
    if publication.status == PublicationStatus.PUBLISHED and \
            await records.post_of(publication.id) is not None:
        return [ctx.t("approve.card_waiting")]
    return []


async def card_buttons(ctx: Ctx, number: int, publication: Publication,
                       channel: ClientChannel) -> list[list[InlineKeyboardButton]]:
    """The card's switch of one live publication's buttons: take them away (nobody approved
    yet) or put them under it (the bot can post)."""
    records = store(ctx.svc)
    if publication.status != PublicationStatus.PUBLISHED or \
            await records.approval(publication.id) is not None:
        return []
    if await records.post_of(publication.id) is not None:
        return [[InlineKeyboardButton(ctx.t("approve.btn.remove", n=number),
                                      callback_data=f"card:ao:{publication.id}")]]
    if channel.bot_is_admin:
        return [[InlineKeyboardButton(ctx.t("approve.btn.add", n=number),
                                      callback_data=f"card:an:{publication.id}")]]
    return []


async def switch_for(svc: Services, publication: Publication, channel: ClientChannel,
                     on: bool) -> bool:
    """Put the buttons under this publication, or take them away; whether anything changed
    (Telegram may refuse: then nothing did, and the record says what is in the channel)."""
    records = store(svc)
    if on:
        await post_buttons(svc, publication, channel, asked=True)
        return await records.post_of(publication.id) is not None
    message_id = await records.post_of(publication.id)
    if message_id is None or await records.approval(publication.id) is not None:
        return False
    try:
        await svc.bot.delete_messages(channel.telegram_id, message_id)
    except tg.RPCError as exc:
        log.info("approval message %s not deleted: %s", message_id, exc.ID)
        return False
    return await records.unpost(publication.id) is not None


# -- questions ---------------------------------------------------------------------------------

async def start_question(ctx: Ctx, code: str) -> None:
    """``/start q_<code>``: the client opened "Задать вопрос" under a publication."""
    svc = ctx.svc
    publication_id = await store(svc).publication_by_code(code)
    publication = await svc.publishing.records.publication(publication_id) \
        if publication_id else None
    if publication is None or publication.status != PublicationStatus.PUBLISHED:
        await ctx.reply(ctx.t("approve.ask_unknown"))
        return
    if await svc.channels.records.present_member(publication.channel_id, ctx.user_id) is None:
        await ctx.reply(ctx.t("approve.ask_not_member"))
        return
    await ctx.set_state(ASK_FLOW, "text", publication_id=publication.id)
    await ctx.client.send_message(ctx.user_id, ctx.t("approve.ask_prompt", title=publication.name,
                                                     code=publication.tracking_code),
                                  parse_mode=enums.ParseMode.DISABLED)


async def ask_step(ctx: Ctx) -> None:
    """The client's question: relayed to the contractor, naming the publication."""
    assert ctx.message is not None and ctx.state is not None
    svc, records = ctx.svc, store(ctx.svc)
    text = (ctx.message.text or "").strip()
    publication = await svc.publishing.records.publication(
        int(ctx.state.data.get("publication_id") or 0))
    if publication is None:
        await ctx.clear_state()
        await ctx.reply(ctx.t("approve.ask_unknown"))
        return
    if not text:
        await ctx.client.send_message(ctx.user_id, ctx.t(
            "approve.ask_prompt", title=publication.name, code=publication.tracking_code),
            parse_mode=enums.ParseMode.DISABLED)
        return
    if not await records.may_ask(ctx.user_id):
        await ctx.reply(ctx.t("approve.ask_limit"))
        return
    user = ctx.message.from_user
    who = _who(" ".join(filter(None, [user.first_name, user.last_name])), user.username)
    question_id = await records.ask(publication, ctx.user_id, text[:QUESTION_LIMIT])
    relay = texts.t("approve.relay", publication.lang, who=who, title=publication.name,
                    version=await records.version(publication.id),
                    code=publication.tracking_code, text=text[:QUESTION_LIMIT])
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(
        texts.t("approve.btn.answer", publication.lang), callback_data=f"apr:r:{question_id}")]])
    try:
        sent = await svc.bot.send_message(publication.contractor_id, relay,
                                          reply_markup=keyboard,
                                          parse_mode=enums.ParseMode.DISABLED)
    except (tg.UserIsBlocked, tg.InputUserDeactivated, tg.PeerIdInvalid) as exc:
        log.info("question %s not relayed to %s: %s", question_id, publication.contractor_id,
                 exc.ID)
        await ctx.clear_state()
        await ctx.reply(ctx.t("approve.ask_failed"))
        return
    await records.relayed(question_id, sent.id)
    await ctx.clear_state()
    await ctx.reply(ctx.t("approve.ask_sent"))


async def _answer_button(ctx: Ctx, question_id: int) -> None:
    question = await store(ctx.svc).question(question_id)
    await ctx.answer()
    if question is None or question.contractor_id != ctx.user_id:
        return
    client = await ctx.svc.contractors.get(question.client_id)
    who = _who(client.first_name, client.username) if client else str(question.client_id)
    await ctx.set_state(ANSWER_FLOW, "text", question_id=question.id)
    await ctx.client.send_message(ctx.user_id, ctx.t("approve.answer_prompt", who=who),
                                  parse_mode=enums.ParseMode.DISABLED)


async def answer_step(ctx: Ctx) -> None:
    """The contractor's answer typed after "↩️ Ответить клиенту"."""
    assert ctx.message is not None and ctx.state is not None
    question = await store(ctx.svc).question(int(ctx.state.data.get("question_id") or 0))
    await ctx.clear_state()
    if question is not None and question.contractor_id == ctx.user_id:
        await deliver(ctx, question, ctx.message)


def _is_reply(message: Message) -> bool:
    return bool(getattr(message, "reply_to_message_id", None)) and bool(message.text)


async def on_reply(ctx: Ctx) -> None:
    """A message replying to another: the answer to a relayed question, or — not one of
    those — handled as the router would have."""
    assert ctx.message is not None and ctx.router is not None
    question = await store(ctx.svc).question_relayed_as(ctx.user_id,
                                                        ctx.message.reply_to_message_id)
    if question is not None:
        if ctx.state is not None and ctx.state.flow == ANSWER_FLOW:
            await ctx.clear_state()
        await deliver(ctx, question, ctx.message)
    elif ctx.state is not None and ctx.state.flow in ctx.router.flows:
        await ctx.router.flows[ctx.state.flow](ctx)
    else:
        await ctx.router.commands["unknown"](ctx)


async def deliver(ctx: Ctx, question: Question, message: Message) -> None:
    """The contractor's answer to the client who asked, naming the publication."""
    text = (message.text or "").strip()
    if not text:
        return
    publication = await ctx.svc.publishing.records.publication(question.publication_id)
    assert publication is not None
    lang = await ctx.svc.contractors.language_of(question.client_id)
    try:
        await ctx.client.send_message(question.client_id, texts.t(
            "approve.answer", lang, title=publication.name, code=publication.tracking_code,
            text=text[:QUESTION_LIMIT]), parse_mode=enums.ParseMode.DISABLED)
    except (tg.UserIsBlocked, tg.InputUserDeactivated, tg.PeerIdInvalid):
        await ctx.reply(ctx.t("approve.answer_failed"))
        return
    await store(ctx.svc).answered(question)
    await ctx.reply(ctx.t("approve.answer_sent"))


# -- the cabinet switch ------------------------------------------------------------------------

async def switch_button(ctx: Ctx) -> InlineKeyboardButton:
    """The cabinet's button that turns the buttons under new publications on or off."""
    on = await store(ctx.svc).enabled(ctx.user_id)
    return InlineKeyboardButton(ctx.t("approve.btn.switch_off" if on else
                                      "approve.btn.switch_on"), callback_data="apr:sw")


async def switch(ctx: Ctx) -> None:
    records = store(ctx.svc)
    on = not await records.enabled(ctx.user_id)
    await records.set_enabled(ctx.user_id, on)
    await ctx.answer(ctx.t("approve.switched_on" if on else "approve.switched_off"),
                     show_alert=True)


def register(router: Router) -> None:
    """Callbacks, wizards and the reply fallback of this module."""
    router.callbacks["apr"] = on_callback
    router.flows[ASK_FLOW] = ask_step
    router.flows[ANSWER_FLOW] = answer_step
    router.fallbacks.insert(0, (_is_reply, on_reply))
