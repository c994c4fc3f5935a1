"""Building raw TL objects from the emulator's state, as one viewer sees it."""

from __future__ import annotations

from pyrogram import raw

from .state import ADMIN_RIGHTS, Account, Channel, Msg, StoredFile, peer_hash


def user(viewer_id: int, account: Account) -> raw.types.User:
    """``account`` as ``viewer_id`` sees it (phone only for oneself)."""
    is_self = viewer_id == account.id
    return raw.types.User(
        id=account.id,
        is_self=is_self or None,
        bot=account.is_bot or None,
        # `bot_info_version` shares its flag bit with `bot`: set both or neither.
        bot_info_version=1 if account.is_bot else None,
        bot_nochats=None,
        access_hash=peer_hash(account.access_hash, viewer_id),
        first_name=account.first_name,
        last_name=account.last_name,
        username=account.username,
        phone=account.phone if is_self else None,
        lang_code=account.lang_code if not account.is_bot else None,
        status=None if account.is_bot else raw.types.UserStatusRecently(),
    )


def admin_rights(rights: set[str]) -> raw.types.ChatAdminRights:
    return raw.types.ChatAdminRights(**{name: True for name in rights if name in ADMIN_RIGHTS})


def rights_names(rights: raw.types.ChatAdminRights) -> set[str]:
    return {name for name in ADMIN_RIGHTS if getattr(rights, name, None)}


def chat_photo(channel: Channel) -> raw.base.ChatPhoto:
    if channel.photo is None:
        return raw.types.ChatPhotoEmpty()
    return raw.types.ChatPhoto(photo_id=channel.photo.id, dc_id=channel.photo.dc_id)


def channel(viewer_id: int, ch: Channel) -> raw.types.Channel:
    """``ch`` as ``viewer_id`` sees it: creator flag, own admin rights, left or not."""
    rights = ch.rights_of(viewer_id)
    return raw.types.Channel(
        id=ch.id,
        title=ch.title,
        photo=chat_photo(ch),
        date=ch.date,
        creator=viewer_id == ch.owner_id or None,
        left=viewer_id not in ch.members or None,
        broadcast=True,
        noforwards=ch.noforwards or None,
        access_hash=peer_hash(ch.access_hash, viewer_id),
        admin_rights=admin_rights(rights) if rights else None,
        participants_count=len(ch.members),
    )


def photo(file: StoredFile) -> raw.types.Photo:
    return raw.types.Photo(
        id=file.id,
        access_hash=file.access_hash,
        file_reference=file.file_reference,
        date=file.date,
        sizes=[
            raw.types.PhotoSize(
                type=file.photo_size_type, w=file.width, h=file.height, size=file.size
            )
        ],
        dc_id=file.dc_id,
    )


def document(file: StoredFile) -> raw.types.Document:
    attributes: list[raw.base.DocumentAttribute] = [
        raw.types.DocumentAttributeFilename(file_name=file.name)
    ]
    if file.width and file.height:
        attributes.insert(0, raw.types.DocumentAttributeImageSize(w=file.width, h=file.height))
    return raw.types.Document(
        id=file.id,
        access_hash=file.access_hash,
        file_reference=file.file_reference,
        date=file.date,
        mime_type=file.mime_type,
        size=file.size,
        dc_id=file.dc_id,
        attributes=attributes,
        thumbs=[raw.types.PhotoSize(type="m", w=file.thumb_width, h=file.thumb_height,
                                    size=len(file.thumb))] if file.thumb else None,
    )


def media(file: StoredFile) -> raw.base.MessageMedia:
    if file.kind == "photo":
        return raw.types.MessageMediaPhoto(photo=photo(file))
    return raw.types.MessageMediaDocument(document=document(file))


def peer_of(msg: Msg) -> raw.base.Peer:
    if msg.in_channel:
        return raw.types.PeerChannel(channel_id=msg.peer)
    return raw.types.PeerUser(user_id=msg.peer)


def message(msg: Msg, viewer_id: int | None = None) -> raw.base.Message:
    """A message as its holder sees it (``viewer_id``: which member, for channel posts)."""
    out = msg.out if not msg.in_channel else msg.from_id == viewer_id
    from_id = None
    if msg.from_id is not None and not msg.post:
        from_id = raw.types.PeerUser(user_id=msg.from_id)
    if msg.action is not None:
        return raw.types.MessageService(
            id=msg.id,
            peer_id=peer_of(msg),
            date=msg.date,
            action=msg.action,
            out=out or None,
            post=msg.post or None,
            from_id=from_id,
        )
    return raw.types.Message(
        id=msg.id,
        peer_id=peer_of(msg),
        date=msg.date,
        message=msg.text,
        out=out or None,
        post=msg.post or None,
        noforwards=msg.noforwards or None,
        from_id=from_id,
        media=media(msg.media) if msg.media else None,
        reply_markup=msg.reply_markup,
        entities=msg.entities or None,
        views=msg.views if msg.post else None,
        forwards=0 if msg.post else None,
        edit_date=msg.edit_date,
        grouped_id=msg.grouped_id,
    )


def participant(ch: Channel, user_id: int, viewer_id: int) -> raw.base.ChannelParticipant:
    """``user_id``'s membership of ``ch``, as ``viewer_id`` sees it."""
    if user_id == ch.owner_id:
        return raw.types.ChannelParticipantCreator(
            user_id=user_id, admin_rights=admin_rights(set(ADMIN_RIGHTS))
        )
    member = ch.members[user_id]
    admin = ch.admins.get(user_id)
    if admin is not None:
        return raw.types.ChannelParticipantAdmin(
            user_id=user_id,
            promoted_by=admin.promoted_by,
            date=admin.date,
            admin_rights=admin_rights(admin.rights),
            is_self=user_id == viewer_id or None,
            can_edit=ch.owner_id == viewer_id or admin.promoted_by == viewer_id or None,
            inviter_id=admin.promoted_by if user_id == viewer_id else None,
            rank=admin.rank or None,
        )
    if user_id == viewer_id:
        return raw.types.ChannelParticipantSelf(
            user_id=user_id, inviter_id=member.inviter_id or ch.owner_id, date=member.date
        )
    return raw.types.ChannelParticipant(user_id=user_id, date=member.date)


def invite(inv) -> raw.types.ChatInviteExported:
    return raw.types.ChatInviteExported(
        link=inv.link,
        admin_id=inv.admin_id,
        date=inv.date,
        revoked=inv.revoked or None,
        permanent=inv.permanent or None,
        request_needed=inv.request_needed or None,
        expire_date=inv.expire_date,
        usage_limit=inv.usage_limit,
        usage=inv.usage or None,
        title=inv.title,
    )
