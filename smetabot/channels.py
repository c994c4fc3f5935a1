"""Client channels: made through the contractor's own account, finished even across restarts.

Making a channel is several calls on the contractor's user client (create it, turn on
no-forwards, set the photo, make the bot an admin) and one on the bot (the invite link). Its row
is written before the first call (``creating``) and gets the Telegram id as soon as there is
one, so a failure or a crash half-way never leaves a channel nobody knows about: the background
loop finishes the setup (at boot, and on the schedule in ``next_retry_at``), or the contractor
is told plainly. A fresh session that Telegram does not yet let appoint admins
(FRESH_CHANGE_ADMINS_FORBIDDEN) leaves the channel ``waiting_admin`` until a retry succeeds.
The row and the month's usage counter change in one transaction, when the channel first counts.

    creating ──► ready ──► archived        creating ──► waiting_admin ──► ready
        └──► failed (setup given up, or interrupted before Telegram answered)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from pyrogram import Client, enums
from pyrogram import errors as tg
from pyrogram.types import ChatPrivileges

from smetabot import refusals
from smetabot.analytics import Analytics
from smetabot.billing import Billing, iso, utcnow
from smetabot.channel_records import ClientChannel, Invite, JoinRequest, Member, Records
from smetabot.errors import (
    AccountError,
    Busy,
    FloodWaitError,
    LimitReached,
    SetupDeferred,
    SmetaBotError,
    TelegramRefused,
)
from smetabot.statuses import ChannelStatus
from smetabot.userclients import UserClients

log = logging.getLogger(__name__)

#: what the bot may do in a client channel: post, edit and delete messages, invite users
BOT_RIGHTS = ChatPrivileges(can_manage_chat=False, can_post_messages=True,
                            can_edit_messages=True, can_delete_messages=True,
                            can_invite_users=True)
#: failed attempts (other than waiting for admin rights) before the setup is given up
MAX_ATTEMPTS = 10
#: refusals of the avatar itself (refusals.py's kinds): the channel goes on without it
AVATAR_REFUSED = ("specific:avatar_refused", "group:file_refused")
INVITE_NAME_LIMIT = 32  # Telegram's limit on an invite link's name
#: how clients get in: join requests the contractor answers, single-use links, open links
JOIN_MODES = ("approve", "single_use", "open")


def telegram_error(exc: tg.RPCError | TimeoutError, method: str | None = None,
                   resumes: bool = False) -> SmetaBotError:
    """A Telegram refusal (or a 500 kurigram gave up on: TimeoutError) in words for the
    contractor (``refusals.py`` has the words); ``resumes``: the work carries on by itself
    after a flood wait."""
    if isinstance(exc, (tg.FloodWait, tg.FloodPremiumWait)):
        return FloodWaitError(int(exc.value or 1), exc, resumes=resumes)
    return TelegramRefused(exc, method)


async def _ignore(event: str, channel: ClientChannel) -> None:
    log.info("channel %s: %s (nobody listening)", channel.id, event)


class Channels:
    """Creating, finishing, listing and archiving the contractors' client channels."""

    def __init__(self, records: Records, billing: Billing, user_clients: UserClients,
                 bot: Client, retry_seconds: float, avatars: Path,
                 notify: Callable[[str, ClientChannel], Awaitable[None]] = _ignore,
                 analytics: Analytics | None = None,
                 bot_met_channel: Callable[[], Awaitable[None]] | None = None) -> None:
        self.analytics = analytics or Analytics(None)
        #: keeps what the bot now knows of a new channel (its access hash, which only the bot
        #: may use) before anything is posted there, so a crash right after cannot lose it
        self.bot_met_channel = bot_met_channel
        self.records = records
        self.billing = billing
        self.user_clients = user_clients
        self.bot = bot
        self.retry_seconds = retry_seconds
        self.avatars = avatars
        #: tells the contractor how a setup finished in the background (the bot's notice)
        self.notify = notify
        self._busy: set[int] = set()  # rows being set up by this process right now
        self._creating: set[int] = set()  # contractors with a creation under way
        self._wake = asyncio.Event()
        self._booted_at = iso(utcnow())
        #: how a new channel's first link lets clients in (``[channels] join``)
        self.join_mode = "approve"

    def _avatar(self, row_id: int) -> Path:
        return self.avatars / f"{row_id}.jpg"

    # -- creating -----------------------------------------------------------------------

    async def create(self, contractor_id: int, title: str,
                     photo: bytes | None = None) -> ClientChannel:
        """Make a protected channel with the bot as admin; ready, or waiting for admin rights.

        Raises LimitReached, Busy, NotConnected, SessionRevoked, TelegramRefused (nothing was
        made), or SetupDeferred (the channel exists; its setup continues in the background).
        """
        if contractor_id in self._creating:
            raise Busy()
        self._creating.add(contractor_id)
        try:
            decision = await self.billing.can_create_channel(contractor_id)
            if not decision.allowed:
                raise LimitReached(decision)
            row_id = await self.records.insert(contractor_id, title, self.join_mode)
            self._busy.add(row_id)
            try:
                return await self._create(row_id, contractor_id, title, photo)
            finally:
                self._busy.discard(row_id)
        finally:
            self._creating.discard(contractor_id)

    async def _create(self, row_id: int, contractor_id: int, title: str,
                      photo: bytes | None) -> ClientChannel:
        if photo:
            jpeg = _avatar_jpeg(photo)
            if jpeg is None:  # not a picture Telegram could take (SVG, HEIC, broken)
                await self._tell("photo_refused", (await self.records.get(row_id)))
            else:
                path = self._avatar(row_id)
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(jpeg)
        try:
            async with self.user_clients.use(contractor_id) as client:
                chat = await client.create_channel(title)
                peer = await client.resolve_peer(chat.id)
        except asyncio.CancelledError:
            raise  # shutting down: the next boot reports the row
        except (tg.RPCError, AccountError, TimeoutError) as exc:
            # Telegram refused (or kept failing: a 500 kurigram gave up on), so nothing
            # exists there: forget the row.
            self._avatar(row_id).unlink(missing_ok=True)
            await self.records.delete(row_id)
            if isinstance(exc, (tg.RPCError, TimeoutError)):
                raise telegram_error(exc) from exc
            raise
        except Exception:
            await self.records.update(row_id, status=ChannelStatus.FAILED, last_error="create failed")
            raise
        await self.records.update(row_id, telegram_channel_id=chat.id,
                                  access_hash=getattr(peer, "access_hash", None))
        return await self._setup(row_id)

    async def _setup(self, row_id: int) -> ClientChannel:
        """The steps after the channel exists, each skipped when already done."""
        channel = await self.records.get(row_id)
        assert channel is not None and channel.telegram_id is not None
        chat_id = channel.telegram_id
        try:
            async with self.user_clients.use(channel.contractor_id) as client:
                if channel.access_hash is not None:  # user clients keep peers in memory only
                    await client.storage.update_peers(
                        [(chat_id, channel.access_hash, "channel", None)])
                if not channel.protected:
                    with contextlib.suppress(tg.ChatNotModified):
                        await client.set_chat_protected_content(chat_id, True)
                    await self.records.update(row_id, protected=1)
                # The bot first: a picture Telegram refuses must not stand in its way.
                waiting_for_admin = False
                if not channel.bot_is_admin:
                    try:
                        await client.promote_chat_member(chat_id, self.bot.me.username,
                                                         BOT_RIGHTS)
                        await self.records.update(row_id, bot_is_admin=1)
                    except tg.FreshChangeAdminsForbidden:
                        waiting_for_admin = True
                avatar = self._avatar(row_id)
                if avatar.exists():
                    try:
                        await client.set_chat_photo(chat_id, photo=str(avatar))
                    except tg.BadRequest as exc:  # the photo is optional: the channel is not
                        kind = refusals.kind_of(exc)
                        if kind in AVATAR_REFUSED:
                            log.info("channel %s: photo refused (%s)", row_id, exc.ID)
                            await self._tell("photo_refused", channel)
                        elif not refusals.is_harmless(kind):  # the photo was set already
                            raise  # not about the picture (the channel is gone, say)
                    avatar.unlink()
                if waiting_for_admin:
                    # Meanwhile the contractor's own account (the owner) makes the link and
                    # posts the pages, so a new contractor is not stuck for a day.
                    made = None if channel.link else await self._new_invite(channel,
                                                                            client=client)
                    return await self._wait_for_admin(channel, made)
            kind: dict[str, Any] = {}
            if channel.link:
                link = channel.link
            else:
                link, kind = await self._new_invite(channel)
            if self.bot_met_channel is not None:
                await self.bot_met_channel()
            ready = await self.records.counted(channel, ChannelStatus.READY, link=link,
                                               link_name=self._link_name(channel), **kind)
            if not channel.link:
                await self.analytics.record("link_created", channel.contractor_id,
                                            channel_id=channel.id)
            return ready
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the channel stays known; the loop tries again later
            raise await self._deferred(channel, exc) from exc

    async def _wait_for_admin(self, channel: ClientChannel,
                              made: tuple[str, dict[str, Any]] | None) -> ClientChannel:
        """``waiting_admin`` until the next try; ``made``: the link the contractor's account
        just made (the first time), recorded with the channel."""
        when = _later(self.retry_seconds)
        link, kind = made if made else (None, {})
        if channel.status == ChannelStatus.CREATING:
            waiting = await self.records.counted(channel, ChannelStatus.WAITING_ADMIN,
                                                 next_retry_at=when, link=link,
                                                 link_name=self._link_name(channel), **kind)
        else:
            if link:
                await self.records.add_invite(channel.id, link, self._link_name(channel),
                                              **kind)
            await self.records.update(channel.id, next_retry_at=when)
            waiting = await self.records.get(channel.id)
        if link:
            await self.analytics.record("link_created", channel.contractor_id,
                                        channel_id=channel.id)
        self._wake.set()
        return waiting

    async def _deferred(self, channel: ClientChannel, exc: Exception) -> SetupDeferred:
        ref = uuid.uuid4().hex[:8]
        if isinstance(exc, tg.RPCError):
            cause: SmetaBotError | None = telegram_error(exc, resumes=True)
        elif isinstance(exc, TimeoutError):  # a 500 kurigram gave up on: Telegram's trouble
            cause = telegram_error(exc)
        else:
            cause = exc if isinstance(exc, SmetaBotError) else None
        if cause is None:
            log.error("setup of channel %s failed (reference %s)", channel.id, ref, exc_info=exc)
        else:
            log.info("setup of channel %s deferred: %s", channel.id, exc)
        delay = cause.seconds if isinstance(cause, FloodWaitError) else self.retry_seconds
        attempts = channel.attempts + 1
        # a channel the contractor deleted or left will not come back: no more attempts
        gone = isinstance(exc, tg.RPCError) and refusals.kind_of(exc) == "group:gone"
        if attempts >= MAX_ATTEMPTS or gone:
            await self.records.update(channel.id, status=ChannelStatus.FAILED, next_retry_at=None,
                                      attempts=attempts, last_error=repr(exc)[:500])
        else:
            when = _later(delay)
            await self.records.update(channel.id, next_retry_at=when, attempts=attempts,
                                      last_error=repr(exc)[:500])
        self._wake.set()
        return SetupDeferred(await self.records.get(channel.id), cause, ref)

    # -- the background loop ------------------------------------------------------------

    async def run(self) -> None:
        """Report or finish what a previous run left half-done, then retry on schedule."""
        await self._recover()
        while True:
            self._wake.clear()
            try:
                pause = await self._retry_due()
            except Exception:  # the loop must keep running
                log.exception("channel setup round failed")
                pause = 60.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    async def _recover(self) -> None:
        for channel in await self.records.unfinished(before=self._booted_at):
            if channel.id in self._busy:
                continue
            if channel.status == ChannelStatus.CREATING and channel.telegram_id is None:
                # Interrupted while Telegram was asked to create it: we cannot know whether it
                # did, so the contractor is asked to look.
                await self.records.update(channel.id, status=ChannelStatus.FAILED,
                                          last_error="interrupted")
                await self._tell("interrupted", channel)
            else:
                # Due now: a restart is a fair moment to try again (maybe after a long pause).
                await self.records.update(channel.id, next_retry_at=iso(utcnow()))

    async def _retry_due(self) -> float:
        """Retry every setup that is due; the seconds until the next one (at most a minute)."""
        now = iso(utcnow())
        for channel in await self.records.scheduled():
            if channel.next_retry_at <= now and channel.id not in self._busy:
                await self._resume(channel)
        upcoming = [c.next_retry_at for c in await self.records.scheduled()]
        if not upcoming:
            return 60.0
        soonest = min(upcoming)
        seconds = (_parse(soonest) - utcnow()).total_seconds()
        return min(max(seconds, 0.05), 60.0)

    async def _resume(self, channel: ClientChannel) -> None:
        self._busy.add(channel.id)
        try:
            done = await self._setup(channel.id)
        except SetupDeferred as deferred:
            if deferred.channel.status == ChannelStatus.FAILED:
                await self._tell("failed", deferred.channel)
            return
        finally:
            self._busy.discard(channel.id)
        if done.status == ChannelStatus.READY:
            # a channel already in use from the contractor's account: its bot took over
            await self._tell("promoted" if channel.link else "ready", done)
        elif channel.status == ChannelStatus.CREATING:
            await self._tell("waiting_admin", done)

    async def _tell(self, event: str, channel: ClientChannel) -> None:
        try:
            await self.notify(event, channel)
        except Exception:
            log.exception("could not tell contractor %s about channel %s", channel.contractor_id,
                          channel.id)

    # -- links and archive (through the bot) -----------------------------------------

    def _link_name(self, channel: ClientChannel) -> str:
        name = channel.title
        while len(name.encode("utf-16-le")) // 2 > INVITE_NAME_LIMIT:  # as Telegram counts
            name = name[:-1]
        return name

    async def _new_invite(self, channel: ClientChannel, mode: str | None = None,
                          client: Client | None = None) -> tuple[str, dict[str, Any]]:
        """A new link in the channel's join mode (or ``mode``), made by ``client`` (the bot if
        not given): the link, and what kind it is (``member_limit``, ``request_needed``) as
        the records keep it."""
        mode = mode or channel.join_mode
        kind: dict[str, Any] = {"member_limit": 1 if mode == "single_use" else None,
                                "request_needed": mode == "approve"}
        invite = await (client or self.bot).create_chat_invite_link(
            channel.telegram_id, name=self._link_name(channel),
            member_limit=kind["member_limit"],
            creates_join_request=True if kind["request_needed"] else None)
        return invite.invite_link, kind

    async def new_link(self, channel: ClientChannel, mode: str | None = None) -> str:
        """One more invite link for the channel, named after it, in its join mode (or
        ``mode``: "single_use" for a link one person can use)."""
        try:
            async with self.user_clients.admin_of(channel, self.bot) as admin:
                link, kind = await self._new_invite(channel, mode, admin)
        except (tg.RPCError, TimeoutError) as exc:
            raise telegram_error(exc) from exc
        await self.records.add_invite(channel.id, link, self._link_name(channel), **kind)
        await self.analytics.record("link_created", channel.contractor_id, channel_id=channel.id)
        return link

    async def set_join_mode(self, channel: ClientChannel, mode: str) -> str:
        """Switch how clients get into the channel: its reusable links (open or asking) are
        revoked and one new link in ``mode`` is made, which is returned. Single-use links
        already given out stay valid: each is for one person the contractor chose."""
        assert mode in JOIN_MODES, mode
        link = await self.new_link(channel, mode)
        for invite in await self.records.invites(channel.id):
            if invite.link != link and invite.member_limit != 1:
                await self.revoke_link(channel, invite.id)
        await self.records.set_join_mode(channel.id, mode)
        return link

    # -- join requests and single-use links ---------------------------------------------

    async def join_requested(self, telegram_id: int, user: Any,
                             link: str | None) -> tuple[ClientChannel, JoinRequest,
                                                        list[str]] | None:
        """Someone asked to join through a request link: recorded (so it survives a restart).
        The channel, the request, and the contractor's other channels the person is already
        a client of, when it is news; None otherwise."""
        channel = await self.records.by_telegram_id(telegram_id)
        if channel is None or user.id == channel.contractor_id:
            return None
        name = " ".join(p for p in (user.first_name, user.last_name) if p)
        if not await self.records.join_requested(channel.id, user.id, name, user.username, link):
            return None
        request = await self.records.join_request(channel.id, user.id)
        assert request is not None
        others = await self.records.other_channels_of(channel.contractor_id, user.id,
                                                      channel.id)
        return channel, request, others

    async def decide(self, channel: ClientChannel, user_id: int,
                     approve: bool) -> JoinRequest | None:
        """Let a person in (``approve``) or not. The request, or None when it was already
        decided (another tap, the card and the message, or someone in Telegram itself):
        whatever happens, Telegram is asked once."""
        request = await self.records.join_request(channel.id, user_id)
        status = "approved" if approve else "declined"
        if request is None or not await self.records.decide_request(channel.id, user_id, status):
            return None
        try:
            if approve:
                await self.bot.approve_chat_join_request(channel.telegram_id, user_id)
            else:
                await self.bot.decline_chat_join_request(channel.telegram_id, user_id)
        except (tg.HideRequesterMissing, tg.UserAlreadyParticipant):
            # Answered elsewhere (an admin in Telegram), or withdrawn: nothing left to decide.
            await self.records.decide_request(channel.id, user_id, "gone", was=status)
            return None
        except (tg.RPCError, TimeoutError) as exc:  # not decided: the buttons still work
            await self.records.decide_request(channel.id, user_id, "pending", was=status)
            raise telegram_error(exc) from exc
        return request

    async def request_shown(self, channel: ClientChannel, user_id: int,
                            message_id: int) -> None:
        """The contractor was sent ``message_id`` about a request of ``user_id``."""
        await self.records.request_shown(channel.id, user_id, message_id)

    async def request_settled(self, channel: ClientChannel, user_id: int) -> JoinRequest | None:
        """A client joined: a request of theirs approved elsewhere (an admin in the Telegram
        app) waits no more. The request, when one was waiting."""
        request = await self.records.join_request(channel.id, user_id)
        if request is None or not await self.records.decide_request(channel.id, user_id,
                                                                     "approved"):
            return None
        return request

    async def single_use_spent(self, channel: ClientChannel, link: str | None,
                               user_id: int) -> Invite | None:
        """A client joined: the single-use link they used, now spent (None: not one)."""
        if not link:
            return None
        return await self.records.spend_single_use(channel.id, link, user_id)

    async def revoke_link(self, channel: ClientChannel, invite_id: int) -> None:
        """Revoke one of the channel's links: nobody joins through it any more."""
        invite = next((i for i in await self.records.invites(channel.id) if i.id == invite_id),
                      None)
        if invite is None:
            return
        try:
            async with self.user_clients.admin_of(channel, self.bot) as admin:
                await admin.revoke_chat_invite_link(channel.telegram_id, invite.link)
        except tg.InviteHashExpired:
            pass  # already revoked in Telegram
        except (tg.RPCError, TimeoutError) as exc:
            raise telegram_error(exc) from exc
        await self.records.revoke_invites(channel.id, [invite.id])
        await self.analytics.record("link_revoked", channel.contractor_id, channel_id=channel.id)

    async def archive(self, channel: ClientChannel) -> None:
        """Archive a channel: its links stop working, it frees its place in the plan.

        The Telegram channel stays, so the client can still read what was published.
        """
        invites = await self.records.invites(channel.id)
        try:
            async with self.user_clients.admin_of(channel, self.bot) as admin:
                for invite in invites:
                    try:
                        await admin.revoke_chat_invite_link(channel.telegram_id, invite.link)
                    except (tg.RPCError, TimeoutError) as exc:  # rights lost? archive anyway
                        log.info("could not revoke %s while archiving: %s", invite.link, exc)
        except SmetaBotError as exc:  # the contractor's account is gone: archive anyway
            log.info("could not revoke the links of channel %s: %s", channel.id, exc)
        await self.records.archive(channel.id, [i.id for i in invites])
        await self.analytics.record("channel_archived", channel.contractor_id,
                                    channel_id=channel.id)

    # -- reading ------------------------------------------------------------------------

    async def get(self, row_id: int) -> ClientChannel | None:
        """A channel by its row id."""
        return await self.records.get(row_id)

    async def member_changed(self, telegram_id: int, user: Any, joined: bool,
                             link: str | None) -> ClientChannel | None:
        """Record a client joining or leaving; the channel when it is one of ours and it is
        news (a join not seen before)."""
        channel = await self.records.by_telegram_id(telegram_id)
        if channel is None or user.id == channel.contractor_id:
            return None
        name = " ".join(p for p in (user.first_name, user.last_name) if p)
        changed = await self.records.member(channel.id, user.id, name, user.username, link,
                                            joined)
        if changed:
            await self.analytics.record("client_joined" if joined else "client_left",
                                        channel.contractor_id, channel_id=channel.id,
                                        user_id=user.id, name=name + (
                                            f" (@{user.username})" if user.username else ""))
        return channel if changed and joined else None


    # -- the card: removing a client, restoring an archived channel -------------------------

    async def remove_member(self, channel: ClientChannel,
                            user_id: int) -> tuple[Member, str | None] | None:
        """Remove a client: ban then unban (so they may be invited again), and revoke the
        invite link they came by. The member and the revoked link (None: no working link to
        revoke); None when they are not in the channel any more."""
        found = await self.records.present_member(channel.id, user_id)
        if found is None:
            return None
        member, link = found
        try:
            await _ban_unban(self.bot, channel.telegram_id, user_id)
        except (tg.ChatAdminRequired, tg.RightForbidden):
            # The bot is admin with invite rights, not ban rights: the owner removes them.
            await self._owner_bans(channel, user_id)
        except (tg.RPCError, TimeoutError) as exc:
            raise telegram_error(exc) from exc
        await self.records.member(channel.id, user_id, member.name, member.username, None,
                                  joined=False)
        invite = await self.records.invite_by_link(channel.id, link) if link else None
        if invite is None:
            return member, None
        await self.revoke_link(channel, invite.id)
        return member, invite.link

    async def _owner_bans(self, channel: ClientChannel, user_id: int) -> None:
        try:
            async with self.user_clients.use(channel.contractor_id) as client:
                if channel.access_hash is not None:  # user clients keep peers in memory only
                    await client.storage.update_peers(
                        [(channel.telegram_id, channel.access_hash, "channel", None)])
                try:
                    await _ban_unban(client, channel.telegram_id, user_id)
                except (tg.PeerIdInvalid, tg.UserIdInvalid, KeyError):
                    # The owner's client has not met this client yet: the member list
                    # introduces them (pyrogram keeps the peers of every answer).
                    async for _ in client.get_chat_members(
                            channel.telegram_id, filter=enums.ChatMembersFilter.RECENT):
                        pass
                    await _ban_unban(client, channel.telegram_id, user_id)
        except (tg.RPCError, TimeoutError) as exc:
            raise telegram_error(exc) from exc

    async def archived(self, contractor_id: int) -> list[ClientChannel]:
        """The contractor's archived channels, newest first."""
        return await self.records.archived(contractor_id)

    async def restore(self, channel: ClientChannel) -> ClientChannel:
        """An archived channel back in the list with a fresh invite link; it counts against
        the plan again. Raises LimitReached when the plan has no room, TelegramRefused when
        the bot cannot make a link there (the channel stays archived)."""
        decision = await self.billing.can_create_channel(channel.contractor_id)
        if not decision.allowed:
            raise LimitReached(decision)
        try:
            link, kind = await self._new_invite(channel)
        except (tg.RPCError, TimeoutError) as exc:
            raise telegram_error(exc) from exc
        if await self.records.restore(channel.id):
            await self.records.add_invite(channel.id, link, self._link_name(channel), **kind)
        fresh = await self.records.get(channel.id)
        assert fresh is not None
        return fresh


async def _ban_unban(client: Client, chat_id: int, user_id: int) -> None:
    """Out of the channel, and free to come back through a new link."""
    await client.ban_chat_member(chat_id, user_id)
    await client.unban_chat_member(chat_id, user_id)


AVATAR_SIDE = 1280  # Telegram shows channel photos small; a big one only costs upload time


def _avatar_jpeg(data: bytes) -> bytes | None:
    """The picture as a JPEG Telegram takes for a channel photo, or None when it is not a
    picture Pillow can read (an SVG, a HEIC, a broken file)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            if min(image.size) < 160:  # Telegram refuses tiny photos (PHOTO_CROP_SIZE_SMALL)
                return None
            image.thumbnail((AVATAR_SIDE, AVATAR_SIDE))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=90)
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _later(seconds: float) -> str:
    return iso(utcnow() + timedelta(seconds=seconds))


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)  # Python 3.11 reads the trailing Z
