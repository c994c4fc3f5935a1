"""Channels: creation, no-forwards, admins, photo, invite links, joining, view counters."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from pyrogram import raw

from . import tl
from .rpc_auth import resolve_user
from .rpc_messages import assemble, channel_of, resolve_peer, stored_media
from .server import Call, Server
from .state import Account, Admin, Channel, Invite, Member, new_access_hash, peer_hash
from .wire import TelegramError, bad_request, handler

INVITE_LINK = re.compile(r"(?:t\.me/(?:\+|joinchat/)|tg://join\?invite=)([\w-]+)")


# -- state changes shared with the people-side API -------------------------------------


def create_channel(emu: Server, owner: Account, title: str, about: str = "") -> Channel:
    """A new broadcast channel owned by ``owner``."""
    if not title.strip():
        raise bad_request("CHAT_TITLE_EMPTY")
    if len(owner.channels) >= emu.limits.channels_per_user:
        raise bad_request("CHANNELS_TOO_MUCH")
    ch = Channel(id=emu._next_channel_id, access_hash=new_access_hash(), title=title[:128],
                 about=about, date=emu.now(), owner_id=owner.id)
    emu._next_channel_id += 1
    emu.channels_by_id[ch.id] = ch
    ch.members[owner.id] = Member(date=ch.date)
    owner.channels.add(ch.id)
    emu.notify()
    return ch


def change_participant(emu: Server, ch: Channel, user_id: int, actor_id: int,
                       mutate: Callable[[], None], invite: Invite | None = None) -> None:
    """Apply a membership change and tell the bots concerned (UpdateChannelParticipant)."""

    def bots() -> set[int]:
        ids = {a for a in ch.admins if emu.accounts[a].is_bot}
        return ids | ({user_id} if emu.accounts[user_id].is_bot else set())

    def state(viewer: int):
        return tl.participant(ch, user_id, viewer) if user_id in ch.members else None

    before = bots()
    prev = {bot: state(bot) for bot in before}
    mutate()
    for bot_id in before | bots():
        users = [user_id, actor_id] + ([invite.admin_id] if invite else [])
        users += [a.promoted_by for a in ch.admins.values() if a.promoted_by in emu.accounts]
        emu.push_qts(emu.accounts[bot_id], lambda qts, bot_id=bot_id: (
            raw.types.UpdateChannelParticipant(
                channel_id=ch.id, date=emu.now(), actor_id=actor_id, user_id=user_id,
                qts=qts, prev_participant=prev.get(bot_id), new_participant=state(bot_id),
                invite=tl.invite(invite) if invite else None)), users, [ch.id])
    emu.notify()


def invite_expired() -> TelegramError:
    """A revoked, expired or used-up link: 406 INVITE_HASH_EXPIRED
    (https://core.telegram.org/method/messages.importChatInvite, possible errors)."""
    return TelegramError(406, "INVITE_HASH_EXPIRED")


def invite_hash(link: str) -> str:
    match = INVITE_LINK.search(link)
    if match is None:
        raise bad_request("INVITE_HASH_INVALID")
    return match.group(1)


def find_invite(emu: Server, hash_: str) -> tuple[Channel, Invite]:
    for ch in emu.channels_by_id.values():
        if hash_ in ch.invites:
            return ch, ch.invites[hash_]
    raise bad_request("INVITE_HASH_INVALID")


def join(emu: Server, user: Account, link_or_hash: str) -> Channel:
    """``user`` joins a channel through an invite link, as tapping the link does."""
    ch, inv = find_invite(emu, invite_hash(link_or_hash) if "/" in link_or_hash
                          else link_or_hash)
    if inv.revoked or (inv.expire_date and emu.now() > inv.expire_date) or (
            inv.usage_limit and inv.usage >= inv.usage_limit):
        raise invite_expired()
    if user.id in ch.members:
        raise bad_request("USER_ALREADY_PARTICIPANT")
    if len(user.channels) >= emu.limits.channels_per_user:
        raise bad_request("CHANNELS_TOO_MUCH")
    if inv.request_needed:
        # The request waits for an admin; the admins' bots are told
        # (https://core.telegram.org/method/messages.importChatInvite: INVITE_REQUEST_SENT;
        # https://core.telegram.org/constructor/updateBotChatInviteRequester)
        if user.id not in ch.join_requests:
            ch.join_requests[user.id] = (inv.hash, emu.now())
            for bot_id in [a for a in ch.admins if emu.accounts[a].is_bot
                           and "invite_users" in ch.rights_of(a)]:
                emu.push_qts(emu.accounts[bot_id], lambda qts: (
                    raw.types.UpdateBotChatInviteRequester(
                        peer=raw.types.PeerChannel(channel_id=ch.id), date=emu.now(),
                        user_id=user.id, about="", invite=tl.invite(inv), qts=qts)),
                    [user.id, inv.admin_id], [ch.id])
            emu.notify()
        raise bad_request("INVITE_REQUEST_SENT")
    admit(emu, ch, user, inv)
    return ch


def admit(emu: Server, ch: Channel, user: Account, inv: Invite,
          actor_id: int | None = None) -> None:
    """``user`` becomes a member through ``inv`` (at once, or approved by ``actor_id``)."""

    def mutate() -> None:
        ch.members[user.id] = Member(date=emu.now(), inviter_id=inv.admin_id,
                                     invite_link=inv.link)
        user.channels.add(ch.id)
        inv.usage += 1

    change_participant(emu, ch, user.id, actor_id or user.id, mutate, invite=inv)


def new_invite(emu: Server, ch: Channel, admin_id: int, **fields) -> Invite:
    hash_ = secrets.token_urlsafe(12)
    inv = Invite(link=f"https://t.me/+{hash_}", hash=hash_, admin_id=admin_id,
                 date=emu.now(), **fields)
    ch.invites[hash_] = inv
    emu.notify()
    return inv


# -- functions ----------------------------------------------------------------------------


def resolve_channel(call: Call, input_channel) -> Channel:
    # pyrogram passes an InputPeerChannel where an InputChannel is due; Telegram takes it.
    if not isinstance(input_channel, (raw.types.InputChannel, raw.types.InputPeerChannel)):
        raise bad_request("CHANNEL_INVALID")
    return channel_of(call, input_channel)


def require_right(ch: Channel, user_id: int, right: str) -> None:
    if right not in ch.rights_of(user_id):
        raise bad_request("CHAT_ADMIN_REQUIRED")


def channel_updates(call: Call, ch: Channel, *extra) -> raw.types.Updates:
    return call.emu.updates(call.me.id, [raw.types.UpdateChannel(channel_id=ch.id), *extra],
                            [call.me.id], [ch.id])


@handler("channels.CreateChannel")
def create_channel_rpc(call: Call, q):
    if not q.broadcast or q.megagroup:
        call.emu.refuse("channels.CreateChannel of a supergroup")
    if call.me.is_bot:
        raise bad_request("BOT_METHOD_INVALID")
    ch = create_channel(call.emu, call.me, q.title, q.about)
    created = raw.types.MessageActionChannelCreate(title=ch.title)
    _, update = call.emu.post_channel(ch, call.me, exclude=call.session, action=created)
    return channel_updates(call, ch, update)


@handler("messages.ToggleNoForwards")
def toggle_no_forwards(call: Call, q):
    ch = resolve_peer(call, q.peer)
    if not isinstance(ch, Channel):
        raise bad_request("PEER_ID_INVALID")
    require_right(ch, call.me.id, "change_info")
    if ch.noforwards == bool(q.enabled):
        raise bad_request("CHAT_NOT_MODIFIED")
    ch.noforwards = bool(q.enabled)
    for member_id in ch.members:
        call.emu.push(member_id, [raw.types.UpdateChannel(channel_id=ch.id)], chats=[ch.id],
                      exclude=call.session)
    call.emu.notify()
    return channel_updates(call, ch)


@handler("channels.EditAdmin")
def edit_admin(call: Call, q):
    emu, me = call.emu, call.me
    ch = resolve_channel(call, q.channel)
    mine = ch.rights_of(me.id)
    require_right(ch, me.id, "add_admins")
    target = resolve_user(call, q.user_id)
    wanted = tl.rights_names(q.admin_rights)
    if target.id == ch.owner_id or not wanted <= mine:
        raise bad_request("RIGHT_FORBIDDEN")
    if target.id not in ch.members and not (target.is_bot and wanted):
        raise bad_request("USER_NOT_PARTICIPANT")
    if target.id not in ch.members and len(target.channels) >= emu.limits.channels_per_user:
        raise bad_request("USER_CHANNELS_TOO_MUCH")

    def mutate() -> None:
        if target.id not in ch.members:
            ch.members[target.id] = Member(date=emu.now(), inviter_id=me.id)
            target.channels.add(ch.id)
        if wanted:
            ch.admins[target.id] = Admin(rights=wanted, promoted_by=me.id, date=emu.now(),
                                         rank=q.rank or "")
        else:
            ch.admins.pop(target.id, None)

    change_participant(emu, ch, target.id, me.id, mutate)
    return channel_updates(call, ch)


@handler("channels.EditBanned")
def edit_banned(call: Call, q):
    """Ban (view_messages taken away: out of the channel) or lift a ban (no rights taken).

    A ban followed by an unban is how a client is removed and may be invited again; the
    emulator keeps no ban list, so the end state of that pair is what it models.
    """
    emu, me = call.emu, call.me
    ch = resolve_channel(call, q.channel)
    require_right(ch, me.id, "ban_users")
    target = resolve_peer(call, q.participant)
    if not isinstance(target, Account) or target.id == ch.owner_id:
        raise bad_request("USER_ID_INVALID")
    if target.id in ch.admins and target.id != me.id and me.id != ch.owner_id:
        raise bad_request("USER_ADMIN_INVALID")
    if q.banned_rights.view_messages and target.id in ch.members:
        def mutate() -> None:
            ch.members.pop(target.id, None)
            ch.admins.pop(target.id, None)
            target.channels.discard(ch.id)

        change_participant(emu, ch, target.id, me.id, mutate)
    return channel_updates(call, ch)


@handler("channels.GetParticipant")
def get_participant(call: Call, q):
    ch = resolve_channel(call, q.channel)
    user = resolve_peer(call, q.participant)
    if not isinstance(user, Account) or user.id not in ch.members:
        raise bad_request("USER_NOT_PARTICIPANT")
    return raw.types.channels.ChannelParticipant(
        participant=tl.participant(ch, user.id, call.me.id),
        chats=[tl.channel(call.me.id, ch)], users=[tl.user(call.me.id, user)])


@handler("channels.GetParticipants")
def get_participants(call: Call, q):
    ch = resolve_channel(call, q.channel)
    if not ch.rights_of(call.me.id):
        raise bad_request("CHAT_ADMIN_REQUIRED")
    ids = list(ch.members)
    if isinstance(q.filter, raw.types.ChannelParticipantsAdmins):
        ids = [i for i in ids if ch.rights_of(i)]
    elif not isinstance(q.filter, raw.types.ChannelParticipantsRecent):
        call.emu.refuse(f"channels.GetParticipants filter {type(q.filter).__name__}")
    page = ids[q.offset:q.offset + q.limit]
    return raw.types.channels.ChannelParticipants(
        count=len(ids), participants=[tl.participant(ch, i, call.me.id) for i in page],
        chats=[tl.channel(call.me.id, ch)],
        users=[tl.user(call.me.id, call.emu.accounts[i]) for i in page])


@handler("channels.GetChannels")
def get_channels(call: Call, q):
    chats = []
    for input_channel in q.id:
        # access_hash=0 (kurigram's resolve_peer for an unknown id) is refused like any
        # hash this account was not given (https://core.telegram.org/method/channels.getChannels)
        ch = call.emu.channels_by_id.get(input_channel.channel_id)
        if ch is None or input_channel.access_hash != peer_hash(ch.access_hash, call.me.id):
            raise bad_request("CHANNEL_INVALID")
        chats.append(tl.channel(call.me.id, ch))
    return raw.types.messages.Chats(chats=chats)


@handler("channels.GetFullChannel")
def get_full_channel(call: Call, q):
    me = call.me
    ch = resolve_channel(call, q.channel)
    permanent = next((i for i in ch.invites.values()
                      if i.permanent and not i.revoked and i.admin_id == me.id), None)
    full = raw.types.ChannelFull(
        id=ch.id, about=ch.about, read_inbox_max_id=0, read_outbox_max_id=0, unread_count=0,
        chat_photo=tl.photo(ch.photo) if ch.photo else raw.types.PhotoEmpty(id=0),
        notify_settings=raw.types.PeerNotifySettings(), bot_info=[], pts=ch.pts,
        can_view_participants=bool(ch.rights_of(me.id)) or None,
        participants_count=len(ch.members), admins_count=len(ch.admins) + 1,
        exported_invite=tl.invite(permanent) if permanent else None)
    return raw.types.messages.ChatFull(full_chat=full, chats=[tl.channel(me.id, ch)],
                                       users=[tl.user(me.id, me)])


@handler("channels.EditPhoto")
def edit_photo(call: Call, q):
    emu = call.emu
    ch = resolve_channel(call, q.channel)
    require_right(ch, call.me.id, "change_info")
    if isinstance(q.photo, raw.types.InputChatUploadedPhoto) and q.photo.file is not None:
        if q.photo.video is not None:
            emu.refuse("channels.EditPhoto with a video")
        ch.photo = emu.store_file("photo", assemble(call, q.photo.file), "photo.jpg",
                                  "image/jpeg", dc_id=call.me.dc_id)
    elif isinstance(q.photo, raw.types.InputChatPhoto):
        ch.photo = stored_media(call, raw.types.InputMediaPhoto(id=q.photo.id))
    elif isinstance(q.photo, raw.types.InputChatPhotoEmpty):
        ch.photo = None
    else:
        emu.refuse(f"channels.EditPhoto with {type(q.photo).__name__}")
    action = (raw.types.MessageActionChatEditPhoto(photo=tl.photo(ch.photo)) if ch.photo
              else raw.types.MessageActionChatDeletePhoto())
    _, update = emu.post_channel(ch, call.me, exclude=call.session, action=action)
    return channel_updates(call, ch, update)


@handler("messages.ExportChatInvite")
def export_chat_invite(call: Call, q):
    emu, me = call.emu, call.me
    ch = resolve_peer(call, q.peer)
    if not isinstance(ch, Channel):
        raise bad_request("PEER_ID_INVALID")
    require_right(ch, me.id, "invite_users")
    if q.usage_limit is not None and not 1 <= q.usage_limit <= 99999:
        raise bad_request("USAGE_LIMIT_INVALID")
    if q.title and len(q.title) > 32:
        raise bad_request("INVITE_TITLE_INVALID")
    if q.legacy_revoke_permanent:
        for inv in ch.invites.values():
            if inv.permanent and inv.admin_id == me.id:
                inv.revoked = True
    inv = new_invite(emu, ch, me.id, title=q.title, expire_date=q.expire_date,
                     usage_limit=q.usage_limit, request_needed=bool(q.request_needed),
                     permanent=bool(q.legacy_revoke_permanent))
    return tl.invite(inv)


@handler("messages.EditExportedChatInvite")
def edit_exported_chat_invite(call: Call, q):
    emu, me = call.emu, call.me
    ch = resolve_peer(call, q.peer)
    if not isinstance(ch, Channel):
        raise bad_request("PEER_ID_INVALID")
    inv = ch.invites.get(invite_hash(q.link))
    if inv is None:
        raise bad_request("INVITE_HASH_INVALID")
    if inv.admin_id != me.id and me.id != ch.owner_id:
        raise bad_request("CHAT_ADMIN_REQUIRED")
    users = [tl.user(me.id, emu.accounts[inv.admin_id])]
    if q.revoked:
        inv.revoked = True
        emu.notify()
        if inv.permanent:
            replacement = new_invite(emu, ch, inv.admin_id, permanent=True)
            return raw.types.messages.ExportedChatInviteReplaced(
                invite=tl.invite(inv), new_invite=tl.invite(replacement), users=users)
        return raw.types.messages.ExportedChatInvite(invite=tl.invite(inv), users=users)
    for name in ("expire_date", "usage_limit", "title"):
        if getattr(q, name) is not None:
            setattr(inv, name, getattr(q, name) or None)
    if q.request_needed is not None:
        inv.request_needed = bool(q.request_needed)
    emu.notify()
    return raw.types.messages.ExportedChatInvite(invite=tl.invite(inv), users=users)


@handler("messages.CheckChatInvite")
def check_chat_invite(call: Call, q):
    ch, inv = find_invite(call.emu, q.hash)
    if call.me.id in ch.members:
        return raw.types.ChatInviteAlready(chat=tl.channel(call.me.id, ch))
    if inv.revoked or (inv.expire_date and call.emu.now() > inv.expire_date):
        raise invite_expired()
    return raw.types.ChatInvite(
        title=ch.title, photo=tl.photo(ch.photo) if ch.photo else raw.types.PhotoEmpty(id=0),
        participants_count=len(ch.members), color=0, channel=True, broadcast=True,
        request_needed=inv.request_needed or None, about=ch.about or None)


@handler("messages.ImportChatInvite")
def import_chat_invite(call: Call, q):
    if call.me.is_bot:
        raise bad_request("BOT_METHOD_INVALID")
    ch = join(call.emu, call.me, q.hash)
    return raw.types.messages.ChatInviteJoinResultOk(updates=channel_updates(call, ch))


@handler("messages.HideChatJoinRequest")
def hide_chat_join_request(call: Call, q):
    """Approve or decline a join request (https://core.telegram.org/method/messages.hideChatJoinRequest):
    HIDE_REQUESTER_MISSING when there is none (already answered, or never asked)."""
    emu, me = call.emu, call.me
    ch = resolve_peer(call, q.peer)
    if not isinstance(ch, Channel):
        raise bad_request("PEER_ID_INVALID")
    require_right(ch, me.id, "invite_users")
    user = resolve_user(call, q.user_id)
    request = ch.join_requests.pop(user.id, None)
    if request is None:
        raise bad_request("HIDE_REQUESTER_MISSING")
    if q.approved:
        if user.id in ch.members:
            raise bad_request("USER_ALREADY_PARTICIPANT")
        inv = ch.invites.get(request[0])
        admit(emu, ch, user, inv, actor_id=me.id)
    emu.notify()
    return channel_updates(call, ch)


@handler("messages.GetMessagesViews")
def get_messages_views(call: Call, q):
    # "Only users can use this method"; CHANNEL_PRIVATE is a 406 here
    # (https://core.telegram.org/method/messages.getMessagesViews, /api/errors: BOT_METHOD_INVALID)
    if call.me.is_bot:
        raise bad_request("BOT_METHOD_INVALID")
    try:
        ch = resolve_peer(call, q.peer)
    except TelegramError as error:
        if error.message == "CHANNEL_PRIVATE":
            raise TelegramError(406, "CHANNEL_PRIVATE") from None
        raise
    if not isinstance(ch, Channel):
        raise bad_request("PEER_ID_INVALID")
    views = []
    for msg_id in q.id:
        msg = ch.messages.get(msg_id)
        if msg is None:
            views.append(raw.types.MessageViews())
            continue
        if q.increment:
            msg.viewers.add(call.me.id)
        views.append(raw.types.MessageViews(views=msg.views, forwards=0))
    return raw.types.messages.MessageViews(views=views, chats=[tl.channel(call.me.id, ch)],
                                           users=[])


@handler("channels.DeleteChannel")
def delete_channel(call: Call, q):
    """The owner deletes the channel: it is gone for every member."""
    emu = call.emu
    ch = resolve_channel(call, q.channel)
    if call.me.id != ch.owner_id:
        raise bad_request("CHAT_ADMIN_REQUIRED")
    for member_id in ch.members:
        emu.accounts[member_id].channels.discard(ch.id)
    del emu.channels_by_id[ch.id]
    emu.notify()
    return emu.updates(call.me.id, [raw.types.UpdateChannel(channel_id=ch.id)], [call.me.id])
