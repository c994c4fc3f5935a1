"""Sending, editing and reading messages; callback answers; file upload and download."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import urlparse

from pyrogram import raw

from . import tl
from .files import check_thumb
from .rpc_auth import resolve_user
from .server import Call, Server, text_length
from .state import Account, Channel, Msg, StoredFile, peer_hash
from .wire import TelegramError, bad_request, handler

MAX_PART = 512 * 1024
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def resolve_peer(call: Call, peer) -> Account | Channel:
    """The user or channel an InputPeer names; PEER_ID_INVALID if the caller can't see it."""
    if isinstance(peer, (raw.types.InputPeerUser, raw.types.InputPeerSelf)):
        try:
            return resolve_user(call, peer)
        except TelegramError:
            raise bad_request("PEER_ID_INVALID") from None
    if isinstance(peer, raw.types.InputPeerChannel):
        return channel_of(call, peer)
    raise bad_request("PEER_ID_INVALID")


def channel_of(call: Call, input_channel) -> Channel:
    """The channel an InputChannel/InputPeerChannel names, with this account's own hash.

    Hashes belong to the account that received them; access_hash=0 is no hash
    (https://core.telegram.org/api/peers, https://core.telegram.org/method/channels.getChannels
    errors: CHANNEL_INVALID); a non-member gets CHANNEL_PRIVATE.
    """
    ch = call.emu.channels_by_id.get(getattr(input_channel, "channel_id", None))
    if ch is None or input_channel.access_hash != peer_hash(ch.access_hash, call.me.id):
        raise bad_request("CHANNEL_INVALID")
    if call.me.id not in ch.members:
        raise bad_request("CHANNEL_PRIVATE")
    return ch


def check_url(url: str, web_app: bool = False) -> None:
    """Telegram's check of button URLs: web apps need https (http only for local hosts)."""
    parsed = urlparse(url)
    allowed = {"https"} | ({"http"} if parsed.hostname in LOCAL_HOSTS or not web_app else set())
    if not web_app:
        allowed |= {"tg"}
    if parsed.scheme not in allowed or not (parsed.netloc or parsed.scheme == "tg"):
        raise bad_request("BUTTON_URL_INVALID")


def check_markup(emu: Server, markup: Any) -> None:
    for row in getattr(markup, "rows", []) or []:
        for button in row.buttons:
            if not button.text:
                raise bad_request("BUTTON_TEXT_INVALID")
            kind = button.type
            if isinstance(kind, raw.types.InlineButtonTypeCallback):
                if not 1 <= len(kind.data) <= emu.limits.callback_data:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif isinstance(kind, raw.types.InlineButtonTypeUrl):
                check_url(kind.url)
            elif isinstance(kind, (raw.types.InlineButtonTypeWebView,
                                   raw.types.ButtonTypeSimpleWebView)):
                check_url(kind.url, web_app=True)


def check_text(emu: Server, text: str, caption: bool) -> None:
    limit = emu.limits.caption_length if caption else emu.limits.message_length
    if text_length(text) > limit:
        raise bad_request("MEDIA_CAPTION_TOO_LONG" if caption else "MESSAGE_TOO_LONG")


def random_id_duplicate() -> TelegramError:
    """Telegram answers a reused random_id with a 500, which kurigram's session retries and
    then raises as TimeoutError (pyrogram/errors/exceptions/internal_server_error_500.py:
    RandomIdDuplicate500; pyrogram/session/session.py: Session.invoke)."""
    return TelegramError(500, "RANDOM_ID_DUPLICATE")


def use_random_id(me: Account, random_id: int) -> None:
    if random_id in me.random_ids:
        raise random_id_duplicate()
    me.random_ids.add(random_id)


def send(call: Call, peer: Any, content: dict[str, Any], random_id: int | None
         ) -> tuple[Msg, Any, list[int], list[int]]:
    """Send one message from the caller; returns (msg, update, users, chats) for the answer."""
    emu, me = call.emu, call.me
    target = resolve_peer(call, peer)
    if content.get("reply_markup") is not None:
        if not me.is_bot:
            content["reply_markup"] = None  # Telegram drops keyboards sent by users
        else:
            check_markup(emu, content["reply_markup"])
    # A random_id is spent only by a message that is actually sent: a refused request can be
    # retried with the same one (which is what makes retries safe for the sender).
    if isinstance(target, Channel):
        rights = target.rights_of(me.id)
        if not rights:
            raise bad_request("CHAT_WRITE_FORBIDDEN")
        if "post_messages" not in rights:
            raise bad_request("CHAT_ADMIN_REQUIRED")
        if random_id is not None:
            use_random_id(me, random_id)
        msg, update = emu.post_channel(target, me, exclude=call.session, **content)
        return msg, update, [me.id], [target.id]
    if target.is_bot and me.is_bot:
        raise bad_request("USER_IS_BOT")
    if me.is_bot and not any(m.peer == target.id for m in me.box.messages.values()):
        raise bad_request("PEER_ID_INVALID")  # a bot cannot start a conversation
    if random_id is not None:
        use_random_id(me, random_id)
    if not me.is_bot and content.get("text"):
        emu.expire_codes_in(me, content["text"])
    msg, update = emu.post_private(me, target, exclude=call.session, **content)
    return msg, update, [me.id, target.id], []


def answer(call: Call, sent: list[tuple[int | None, Msg, Any]], users: list[int],
           chats: list[int]) -> raw.types.Updates:
    updates = [raw.types.UpdateMessageID(id=msg.id, random_id=rid)
               for rid, msg, _ in sent if rid is not None]
    updates += [update for _, _, update in sent]
    return call.emu.updates(call.me.id, updates, users, chats)


@handler("messages.SendMessage")
def send_message(call: Call, q):
    if not q.message.strip():
        raise bad_request("MESSAGE_EMPTY")
    check_text(call.emu, q.message, caption=False)
    content = {"text": q.message, "entities": list(q.entities or []),
               "reply_markup": q.reply_markup, "noforwards": own_noforwards(call, q.noforwards)}
    msg, update, users, chats = send(call, q.peer, content, q.random_id)
    return answer(call, [(q.random_id, msg, update)], users, chats)


def assemble(call: Call, input_file) -> bytes:
    """The bytes of an uploaded InputFile/InputFileBig from its saved parts."""
    parts = call.emu.uploads.get((call.key.key, input_file.id), {})
    if input_file.parts <= 0 or any(i not in parts for i in range(input_file.parts)):
        raise bad_request("FILE_PARTS_INVALID")
    data = b"".join(parts[i] for i in range(input_file.parts))
    md5 = getattr(input_file, "md5_checksum", "")
    if md5 and hashlib.md5(data).hexdigest() != md5:
        raise bad_request("MD5_CHECKSUM_INVALID")
    return data


def stored_media(call: Call, media) -> StoredFile:
    """The file an InputMedia names or uploads."""
    emu = call.emu
    if isinstance(media, raw.types.InputMediaUploadedDocument):
        name = next((a.file_name for a in media.attributes
                     if isinstance(a, raw.types.DocumentAttributeFilename)), media.file.name)
        file = emu.store_file("document", assemble(call, media.file), name, media.mime_type,
                              dc_id=call.me.dc_id)
        if media.thumb is not None:
            thumb = assemble(call, media.thumb)
            size = check_thumb(thumb)
            if size is None:
                # The MTProto pages name no error for a thumb that breaks the rules: the
                # document goes out without it (https://core.telegram.org/bots/api#senddocument)
                emu.dropped_thumbs.append(file.id)
            else:
                file.set_thumb(thumb, *size)
        return file
    if isinstance(media, raw.types.InputMediaUploadedPhoto):
        return emu.store_file("photo", assemble(call, media.file), media.file.name, "image/jpeg",
                              dc_id=call.me.dc_id)
    if isinstance(media, (raw.types.InputMediaDocument, raw.types.InputMediaPhoto)):
        kind = "document" if isinstance(media, raw.types.InputMediaDocument) else "photo"
        file = emu.files.get(media.id.id)
        if file is None or file.kind != kind or file.access_hash != media.id.access_hash:
            raise bad_request("MEDIA_EMPTY")
        return file
    emu.refuse(f"input media {type(media).__name__}")


def media_content(call: Call, media, caption: str, entities, noforwards) -> dict[str, Any]:
    check_text(call.emu, caption or "", caption=True)
    return {"media": stored_media(call, media), "text": caption or "",
            "entities": list(entities or []), "noforwards": own_noforwards(call, noforwards)}


def own_noforwards(call: Call, noforwards) -> bool:
    """The per-message noforwards flag is "only for bots": a user's is ignored
    (https://core.telegram.org/method/messages.sendMessage, flag noforwards)."""
    return bool(noforwards) and call.me.is_bot


@handler("messages.SendMedia")
def send_media(call: Call, q):
    content = media_content(call, q.media, q.message, q.entities, q.noforwards)
    content["reply_markup"] = q.reply_markup
    msg, update, users, chats = send(call, q.peer, content, q.random_id)
    return answer(call, [(q.random_id, msg, update)], users, chats)


@handler("messages.UploadMedia")
def upload_media(call: Call, q):
    resolve_peer(call, q.peer)
    return tl.media(stored_media(call, q.media))


@handler("messages.SendMultiMedia")
def send_multi_media(call: Call, q):
    emu = call.emu
    if not 1 <= len(q.multi_media) <= emu.limits.album_size:
        raise bad_request("MULTI_MEDIA_TOO_LONG")
    items = [media_content(call, m.media, m.message, m.entities, q.noforwards)
             for m in q.multi_media]
    grouped_id = secrets.randbits(62) if len(items) > 1 else None
    # An album is sent whole or not at all: a duplicate anywhere refuses all of it.
    ids = [m.random_id for m in q.multi_media]
    if len(set(ids)) != len(ids) or any(rid in call.me.random_ids for rid in ids):
        raise random_id_duplicate()
    sent, users, chats = [], [], []
    for single, content in zip(q.multi_media, items):
        msg, update, users, chats = send(call, q.peer, {**content, "grouped_id": grouped_id},
                                         single.random_id)
        sent.append((single.random_id, msg, update))
    return answer(call, sent, users, chats)


def find_message(call: Call, peer, msg_id: int) -> tuple[Account | Channel, Msg]:
    target = resolve_peer(call, peer)
    if isinstance(target, Channel):
        msg = target.messages.get(msg_id)
    else:
        msg = call.me.box.messages.get(msg_id)
        msg = msg if msg is not None and msg.peer == target.id else None
    if msg is None:
        raise bad_request("MESSAGE_ID_INVALID")
    return target, msg


@handler("messages.EditMessage")
def edit_message(call: Call, q):
    emu, me = call.emu, call.me
    target, msg = find_message(call, q.peer, q.id)
    if isinstance(target, Channel):
        rights = target.rights_of(me.id)
        if "edit_messages" not in rights and not (msg.from_id == me.id and rights):
            raise bad_request("CHAT_ADMIN_REQUIRED")
    elif not msg.out:
        raise bad_request("MESSAGE_AUTHOR_REQUIRED")
    if q.media is not None:
        emu.refuse("messages.EditMessage with media")
    changes: dict[str, Any] = {"reply_markup": q.reply_markup}
    if q.reply_markup is not None:
        check_markup(emu, q.reply_markup)
    if q.message is not None:
        if not q.message.strip() and msg.media is None:
            raise bad_request("MESSAGE_EMPTY")
        check_text(emu, q.message, caption=msg.media is not None)
        changes.update(text=q.message, entities=list(q.entities or []))
    if all(_same(getattr(msg, k), v) for k, v in changes.items()):
        raise bad_request("MESSAGE_NOT_MODIFIED")
    update = emu.edit(me, msg, exclude=call.session, **changes)
    chats = [target.id] if isinstance(target, Channel) else []
    return emu.updates(me.id, [update], [me.id] + ([] if chats else [target.id]), chats)


def _same(a: Any, b: Any) -> bool:
    def norm(x: Any) -> Any:
        if isinstance(x, list):
            return [norm(i) for i in x]
        return x.write() if hasattr(x, "write") else x

    return norm(a) == norm(b)


def message_ids(items: list[Any]) -> list[int]:
    """The ids of a Vector<InputMessage>. Read back by pyrogram, whose vector reader guesses an
    item's type from its size, an 8-byte InputMessageID comes out as a long (id << 32 | ID)."""
    ids = []
    for item in items:
        if isinstance(item, int):
            ids.append(item >> 32 if item & 0xFFFFFFFF == raw.types.InputMessageID.ID else 0)
        else:
            ids.append(getattr(item, "id", 0))
    return ids


@handler("messages.GetMessages")
def get_messages(call: Call, q):
    me = call.me
    ids = message_ids(q.id)
    found = [me.box.messages.get(i) for i in ids]
    messages = [tl.message(m) if m else raw.types.MessageEmpty(id=i)
                for i, m in zip(ids, found)]
    peers = {me.id} | {m.peer for m in found if m}
    return raw.types.messages.Messages(
        messages=messages, topics=[], chats=[],
        users=[tl.user(me.id, call.emu.accounts[p]) for p in peers])


@handler("channels.GetMessages")
def get_channel_messages(call: Call, q):
    ch = resolve_peer(call, raw.types.InputPeerChannel(
        channel_id=q.channel.channel_id, access_hash=q.channel.access_hash))
    ids = message_ids(q.id)
    messages = [tl.message(ch.messages[i], call.me.id) if i in ch.messages
                else raw.types.MessageEmpty(id=i) for i in ids]
    return raw.types.messages.ChannelMessages(
        pts=ch.pts, count=len(messages), messages=messages, topics=[],
        chats=[tl.channel(call.me.id, ch)], users=[tl.user(call.me.id, call.me)])


@handler("messages.SetBotCallbackAnswer")
def set_bot_callback_answer(call: Call, q):
    waiter = call.emu.callback_waiters.get(q.query_id)
    if waiter is None or waiter[0] != call.me.id:
        raise bad_request("QUERY_ID_INVALID")
    if q.message and len(q.message) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    del call.emu.callback_waiters[q.query_id]
    if not waiter[1].done():
        waiter[1].set_result({"text": q.message, "alert": bool(q.alert), "url": q.url})
    return True


# -- files ------------------------------------------------------------------------------


async def _save_part(call: Call, file_id: int, part: int, data: bytes) -> bool:
    # Parts may arrive in any order and in parallel (https://core.telegram.org/api/files)
    if len(data) > MAX_PART:
        raise bad_request("FILE_PART_TOO_BIG")
    if not 0 <= part < 8000:
        raise bad_request("FILE_PART_INVALID")
    await call.emu.uplink(len(data))
    call.emu.uploads.setdefault((call.key.key, file_id), {})[part] = data
    return True


@handler("upload.SaveFilePart")
async def save_file_part(call: Call, q):
    return await _save_part(call, q.file_id, q.file_part, q.bytes)


@handler("upload.SaveBigFilePart")
async def save_big_file_part(call: Call, q):
    if not 0 <= q.file_part < q.file_total_parts:
        raise bad_request("FILE_PART_INVALID")
    return await _save_part(call, q.file_id, q.file_part, q.bytes)


@handler("upload.GetFile")
def get_file(call: Call, q):
    emu = call.emu
    location = q.location
    data = None
    if isinstance(location, raw.types.InputPeerPhotoFileLocation):
        target = resolve_peer(call, location.peer)
        file = getattr(target, "photo", None)
        if file is None or file.id != location.photo_id:
            raise bad_request("LOCATION_INVALID")
    elif isinstance(location, (raw.types.InputDocumentFileLocation,
                               raw.types.InputPhotoFileLocation)):
        file = emu.files.get(location.id)
        if file is None or file.access_hash != location.access_hash:
            raise bad_request("LOCATION_INVALID")
        thumb_size = getattr(location, "thumb_size", "")
        if thumb_size and isinstance(location, raw.types.InputDocumentFileLocation):
            if thumb_size != "m" or file.thumb is None:
                raise bad_request("LOCATION_INVALID")
            data = file.thumb
    else:
        emu.refuse(f"upload.GetFile of {type(location).__name__}")
    if file.dc_id != call.session.dc_id:
        # a file is served by its own DC (https://core.telegram.org/api/files#downloading-files)
        raise TelegramError(303, f"FILE_MIGRATE_{file.dc_id}")
    if q.limit <= 0 or q.limit > 1024 * 1024 or (not q.precise and (
            q.limit % 4096 or (1024 * 1024) % q.limit or q.offset % 4096)):
        raise bad_request("LIMIT_INVALID")
    if data is None:
        data = file.data
    return raw.types.upload.File(type=raw.types.storage.FileUnknown(), mtime=file.date,
                                 bytes=data[q.offset:q.offset + q.limit])


@handler("messages.DeleteMessages")
def delete_messages(call: Call, q):
    """Delete private messages; bots always delete them for both sides."""
    emu, me = call.emu, call.me
    gone: dict[int, list[int]] = {}
    for msg_id in q.id:
        msg = me.box.messages.pop(msg_id, None)
        if msg is None:
            continue
        gone.setdefault(me.id, []).append(msg_id)
        twin = msg.twin
        if twin is not None and (q.revoke or me.is_bot):
            emu.accounts[msg.peer].box.messages.pop(twin.id, None)
            gone.setdefault(msg.peer, []).append(twin.id)
    result = None
    for owner_id, ids in gone.items():
        owner = emu.accounts[owner_id]
        update = emu.log_update(owner, lambda pts, ids=ids: raw.types.UpdateDeleteMessages(
            messages=ids, pts=pts, pts_count=1))
        emu.push(owner_id, [update], exclude=call.session)
        if owner_id == me.id:
            result = update
    emu.notify()
    return raw.types.messages.AffectedMessages(
        pts=result.pts if result else me.box.pts, pts_count=1 if result else 0)


@handler("channels.DeleteMessages")
def delete_channel_messages(call: Call, q):
    emu, me = call.emu, call.me
    ch = resolve_peer(call, raw.types.InputPeerChannel(
        channel_id=q.channel.channel_id, access_hash=q.channel.access_hash))
    rights = ch.rights_of(me.id)
    msgs = [ch.messages[i] for i in q.id if i in ch.messages]
    if any("delete_messages" not in rights and not (m.from_id == me.id and rights)
           for m in msgs):
        raise bad_request("MESSAGE_DELETE_FORBIDDEN")
    for msg in msgs:
        del ch.messages[msg.id]
    if msgs:
        ch.pts += 1
        update = raw.types.UpdateDeleteChannelMessages(
            channel_id=ch.id, messages=[m.id for m in msgs], pts=ch.pts, pts_count=1)
        emu.log_channel(ch, update)
        for member_id in list(ch.members):
            emu.push(member_id, [update], chats=[ch.id], exclude=call.session)
    emu.notify()
    return raw.types.messages.AffectedMessages(pts=ch.pts, pts_count=1 if msgs else 0)
