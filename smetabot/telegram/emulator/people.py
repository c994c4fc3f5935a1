"""People using Telegram: the user-side API of the emulator.

Each method acts as a person does in a Telegram app (send a message, press a button, scan
a QR code, tap an invite link) and answers with plain dicts, the shapes of the sandbox
JSON API in DESIGN.md. Errors are ``TelegramError`` with Telegram's code and message.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
import struct
from typing import Any

from pyrogram import raw, utils
from pyrogram.storage import Storage

from . import rpc_auth, rpc_channels, rpc_messages  # noqa: F401  (registers the handlers)
from .rpc_auth import accept_login_token
from .rpc_channels import join
from .server import Server
from .state import Account, Channel, Msg
from .webapp import sign_init_data, user_json, web_app_url
from .wire import TelegramError, bad_request


class Emulator(Server):
    """An in-process Telegram that real ``pyrogram.Client`` objects talk to, and its people."""

    # -- acting as a user ---------------------------------------------------------------

    def _person(self, user_id: int) -> Account:
        user = self.account(user_id)
        if user.is_bot:
            raise bad_request("USER_BOT_INVALID")
        return user

    async def user_send_text(self, user_id: int, text: str) -> int:
        """The user sends ``text`` to the bot; returns the message id in their chat."""
        user = self._person(user_id)
        if not text.strip():
            raise bad_request("MESSAGE_EMPTY")
        rpc_messages.check_text(self, text, caption=False)
        self.expire_codes_in(user, text)
        msg, _ = self.post_private(user, self.bot, text=text)
        return msg.id

    async def user_send_document(self, user_id: int, file_name: str, data: bytes,
                                 mime_type: str = "application/octet-stream",
                                 caption: str | None = None) -> int:
        """The user sends a file to the bot as a document; returns the message id."""
        return self._send_file(user_id, "document", data, file_name, mime_type, caption)

    async def user_send_photo(self, user_id: int, data: bytes, caption: str | None = None,
                              file_name: str = "photo.jpg") -> int:
        """The user sends a picture to the bot as a (recompressed) photo."""
        return self._send_file(user_id, "photo", data, file_name, "image/jpeg", caption)

    def _send_file(self, user_id: int, kind: str, data: bytes, name: str, mime_type: str,
                   caption: str | None) -> int:
        user = self._person(user_id)
        if not data:
            raise bad_request("FILE_PARTS_INVALID")
        rpc_messages.check_text(self, caption or "", caption=True)
        file = self.store_file(kind, data, name, mime_type, dc_id=user.dc_id)
        msg, _ = self.post_private(user, self.bot, media=file, text=caption or "")
        return msg.id

    def user_chat(self, user_id: int, after: int = 0) -> list[dict[str, Any]]:
        """The user's chat with the bot as they see it, oldest first.

        Beyond DESIGN.md's keys, each entry has ``date`` (unix seconds), ``grouped_id`` (the
        album it belongs to, or None), ``keyboard`` (what its markup does: "inline", "reply",
        "remove", "force_reply" or None), ``keyboard_options`` (a reply keyboard's resize,
        one_time, persistent, selective and placeholder), ``edit_date``, and the pixel
        ``width``/``height`` of pictures in ``media``.
        """
        user = self._person(user_id)
        bot_id = self.bot.id
        return [self._chat_entry(m) for i, m in sorted(user.box.messages.items())
                if i > after and m.peer == bot_id]

    def _chat_entry(self, msg: Msg) -> dict[str, Any]:
        media = None
        if msg.media is not None:
            media = {"kind": msg.media.kind, "file_id": str(msg.media.id),
                     "file_name": msg.media.name, "mime_type": msg.media.mime_type,
                     "size": msg.media.size, "protected": msg.noforwards,
                     # a picture's size in pixels (photos, image documents), else None
                     "width": msg.media.width or None, "height": msg.media.height or None,
                     # a document's thumbnail as apps show it, or None (grey file icon)
                     "thumb": {"width": msg.media.thumb_width, "height": msg.media.thumb_height,
                               "size": len(msg.media.thumb)} if msg.media.thumb else None}
        return {
            "id": msg.id,
            "from": "user" if msg.out else "bot",
            "date": msg.date,
            "text": None if msg.media or msg.action else msg.text,
            "caption": (msg.text or None) if msg.media else None,
            "media": media,
            "grouped_id": msg.grouped_id,
            "buttons": buttons(msg.reply_markup),
            "keyboard": keyboard_kind(msg.reply_markup),
            "keyboard_options": keyboard_options(msg.reply_markup),
            "edited": msg.edit_date is not None,
            "edit_date": msg.edit_date,
            "service": type(msg.action).__name__ if msg.action else None,
        }

    async def wait_for_bot_reply(self, user_id: int, after: int = 0,
                                 timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until the bot has sent the user something after message ``after``."""
        return await self.wait_until(
            lambda: [m for m in self.user_chat(user_id, after) if m["from"] == "bot"], timeout)

    async def user_press(self, user_id: int, message_id: int, text: str,
                         platform: str = "tdesktop") -> dict[str, Any]:
        """The user presses the button labelled ``text`` under a message from the bot."""
        user = self._person(user_id)
        msg = user.box.messages.get(message_id)
        if msg is None or msg.peer != self.bot.id or msg.out:
            raise bad_request("MESSAGE_ID_INVALID")
        button = next((b for row in getattr(msg.reply_markup, "rows", None) or []
                       for b in row.buttons if b.text == text), None)
        if button is None:
            raise bad_request("BUTTON_NOT_FOUND")
        kind = button.type
        if isinstance(kind, raw.types.InlineButtonTypeCallback):
            return await self._callback_query(user, self.bot, raw.types.PeerUser(user_id=user.id),
                                              msg.twin.id, kind.data)
        if isinstance(kind, raw.types.InlineButtonTypeUrl):
            return {"url": kind.url}
        if isinstance(kind, raw.types.InlineButtonTypeWebView):
            # keyboardButtonWebView (inline): requestWebView, user data sent
            # https://core.telegram.org/constructor/keyboardButtonWebView
            return {"web_app_url": self.web_app_url(user_id, kind.url, "inline", platform)}
        if isinstance(kind, raw.types.ButtonTypeSimpleWebView):
            # keyboardButtonSimpleWebView (reply keyboard): "without sending user information"
            # https://core.telegram.org/constructor/keyboardButtonSimpleWebView
            return {"web_app_url": self.web_app_url(user_id, kind.url, "keyboard", platform)}
        if isinstance(kind, raw.types.ButtonTypeDefault):
            return {"message_id": await self.user_send_text(user_id, text)}
        self.refuse(f"pressing a {type(kind).__name__} button")

    async def _callback_query(self, user: Account, bot: Account, peer: Any, msg_id: int,
                              data: bytes) -> dict[str, Any]:
        query_id = secrets.randbits(63)
        future = asyncio.get_running_loop().create_future()
        self.callback_waiters[query_id] = (bot.id, future)
        # Kept in the bot's queue like chat_member updates: a bot that was away gets it from
        # updates.getDifference while the user still waits (https://core.telegram.org/api/bots/buttons)
        chats = [peer.channel_id] if isinstance(peer, raw.types.PeerChannel) else []
        self.push_qts(bot, lambda qts: raw.types.UpdateBotCallbackQuery(
            query_id=query_id, user_id=user.id, peer=peer, msg_id=msg_id,
            chat_instance=chat_instance(user.id, getattr(peer, "channel_id", bot.id)),
            data=data), [user.id], chats)
        try:
            return await asyncio.wait_for(future, self.callback_timeout)
        except TimeoutError:
            raise bad_request("BOT_RESPONSE_TIMEOUT") from None
        finally:
            self.callback_waiters.pop(query_id, None)

    async def user_press_in_channel(self, user_id: int, channel_id: int, message_id: int,
                                    text: str) -> dict[str, Any]:
        """A member presses a button under a channel post; a callback button goes to the bot
        that posted it (https://core.telegram.org/api/bots/buttons#callback-queries)."""
        user, ch = self._person(user_id), self._channel(channel_id)
        if user.id not in ch.members:
            raise bad_request("CHANNEL_PRIVATE")
        msg = ch.messages.get(message_id)
        if msg is None:
            raise bad_request("MESSAGE_ID_INVALID")
        button = next((b for row in getattr(msg.reply_markup, "rows", None) or []
                       for b in row.buttons if b.text == text), None)
        if button is None:
            raise bad_request("BUTTON_NOT_FOUND")
        kind = button.type
        if isinstance(kind, raw.types.InlineButtonTypeCallback):
            poster = self.accounts.get(msg.from_id)
            if poster is None or not poster.is_bot:
                raise bad_request("BOT_RESPONSE_TIMEOUT")
            return await self._callback_query(user, poster, raw.types.PeerChannel(channel_id=ch.id),
                                              msg.id, kind.data)
        if isinstance(kind, raw.types.InlineButtonTypeUrl):
            return {"url": kind.url}
        self.refuse(f"pressing a {type(kind).__name__} button under a channel post")

    async def user_start(self, user_id: int, param: str | None = None) -> int:
        """The user opens ``t.me/<bot>?start=<param>`` (or taps Start): the app sends
        "/start <param>" (https://core.telegram.org/api/links#bot-links)."""
        if param is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", param):
            raise bad_request("START_PARAM_INVALID")
        return await self.user_send_text(user_id, f"/start {param}" if param else "/start")

    def web_app_url(self, user_id: int, url: str, launch: str = "menu",
                    platform: str = "tdesktop") -> str:
        """``url`` as Telegram opens it for this user from ``launch``: "inline" (an inline
        keyboard's web_app button), "menu" (the bot's menu button) or "keyboard" (a reply
        keyboard's web_app button, which gets no initData at all)."""
        user, bot = self._person(user_id), self.bot
        if launch == "keyboard":
            # "It is empty if the Mini App was launched from a keyboard button"
            # https://core.telegram.org/bots/webapps#webappinitdata
            return web_app_url(url, None, platform)
        if launch not in ("inline", "menu"):
            raise ValueError(f"unknown Mini App launch {launch!r}")
        # query_id, user, auth_date, hash for inline and menu-button launches
        # https://core.telegram.org/bots/webapps#webappinitdata
        fields = {
            "query_id": "AAH" + secrets.token_urlsafe(12),
            "user": user_json(user.id, user.first_name, user.last_name, user.username,
                              user.lang_code),
            "auth_date": str(self.now()),
        }
        return web_app_url(url, sign_init_data(bot.bot_token, fields), platform)

    def menu_button(self, user_id: int) -> dict[str, Any] | None:
        """The bot's menu button as this user's chat shows it (bots.setBotMenuButton):
        ``{"kind": "web_app", "text", "url"}``, ``{"kind": "commands"}`` or None (default)."""
        user = self._person(user_id)
        button = self.bot.menu_buttons.get(user.id, self.bot.menu_buttons.get(0))
        if isinstance(button, raw.types.BotMenuButton):
            return {"kind": "web_app", "text": button.text, "url": button.url}
        if isinstance(button, raw.types.BotMenuButtonCommands):
            return {"kind": "commands"}
        return None

    async def user_open_menu(self, user_id: int, platform: str = "tdesktop") -> dict[str, Any]:
        """The user taps the bot's menu button; a web_app one opens with signed initData
        (https://core.telegram.org/api/bots/menu)."""
        button = self.menu_button(user_id)
        if button is None or button["kind"] != "web_app":
            raise bad_request("BUTTON_NOT_FOUND")
        return {"web_app_url": self.web_app_url(user_id, button["url"], "menu", platform)}

    async def user_web_app_send_data(self, user_id: int, button_text: str, data: str) -> int:
        """The WebApp opened from a reply-keyboard button calls ``Telegram.WebApp.sendData``."""
        user = self._person(user_id)
        if not any(isinstance(b.type, raw.types.ButtonTypeSimpleWebView) and b.text == button_text
                   for m in user.box.messages.values() if m.peer == self.bot.id
                   for row in getattr(m.reply_markup, "rows", None) or [] for b in row.buttons):
            raise bad_request("BUTTON_NOT_FOUND")
        if len(data.encode()) > 4096:
            raise bad_request("DATA_TOO_LONG")
        msg, _ = self.post_private(
            user, self.bot, action=raw.types.MessageActionWebViewDataSent(text=button_text),
            recipient_action=raw.types.MessageActionWebViewDataSentMe(text=button_text,
                                                                      data=data))
        return msg.id

    async def user_scan_qr(self, user_id: int, url: str) -> dict[str, Any]:
        """The user scans a ``tg://login?token=...`` QR code with their phone and approves it."""
        user = self._person(user_id)
        token = url.split("token=", 1)[-1]
        try:
            raw_token = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            raise bad_request("AUTH_TOKEN_INVALID") from None
        accept_login_token(self, user, raw_token)
        return {"status": "accepted"}

    def user_terminate_sessions(self, user_id: int) -> int:
        """The user ends every session of their account (Settings → Devices → Terminate);
        returns how many. Clients still using one then get AUTH_KEY_UNREGISTERED."""
        user = self._person(user_id)
        ended = [key for key, auth in self.auth_keys.items() if auth.user_id == user.id]
        for key in ended:
            del self.auth_keys[key]
        self.notify()
        return len(ended)

    def user_login_codes(self, user_id: int) -> list[dict[str, Any]]:
        """The login codes Telegram sent this user, oldest first (``kind``: how it travelled)."""
        user = self._person(user_id)
        return [{"code": c.code, "date": c.date, "used": c.used, "kind": c.kind}
                for c in user.login_codes]

    def set_code_delivery(self, user_id: int, kind: str) -> None:
        """How auth.sendCode sends this user's codes: one of ``rpc_auth.CODE_DELIVERIES``
        (app, sms, call, flash_call, missed_call, email, setup_email, fragment, sms_word,
        sms_phrase, success)."""
        if kind not in rpc_auth.CODE_DELIVERIES:
            raise ValueError(f"unknown code delivery {kind!r}")
        self._person(user_id).code_delivery = kind
        self.notify()

    def set_login_error(self, user_id: int, error: str | None) -> None:
        """Make auth.sendCode for this user's phone answer ``error`` (one of
        ``rpc_auth.LOGIN_ERRORS``: PHONE_NUMBER_BANNED, PHONE_NUMBER_FLOOD, ...); None clears."""
        if error is not None and error not in rpc_auth.LOGIN_ERRORS:
            raise ValueError(f"unknown login error {error!r}")
        self._person(user_id).login_error = error
        self.notify()

    async def user_join(self, user_id: int, link: str) -> int:
        """The user taps an invite link and joins; returns the channel id (pyrogram's form)."""
        return utils.get_channel_id(join(self, self._person(user_id), link).id)

    async def user_view_channel(self, user_id: int, channel_id: int) -> list[dict[str, Any]]:
        """The user opens the channel and sees its posts (each counts one view)."""
        user, ch = self._person(user_id), self._channel(channel_id)
        if user.id not in ch.members:
            raise bad_request("CHANNEL_PRIVATE")
        for msg in ch.messages.values():
            if msg.action is None:
                msg.viewers.add(user.id)
        self.notify()
        return self.channel(channel_id)["posts"]

    def session_string(self, user_id: int) -> str:
        """A pyrogram session string already signed in as ``user_id`` (a shortcut for tests
        and sandbox fixtures that skip the login flow)."""
        account = self.account(user_id)
        key = self.new_auth_key(account.dc_id)
        self.auth_keys[key].user_id = account.id
        packed = struct.pack(Storage.SESSION_STRING_FORMAT, account.dc_id, self.API_ID, False, key,
                             account.id, account.is_bot)
        return base64.urlsafe_b64encode(packed).decode().rstrip("=")

    # -- what anyone can see from outside -----------------------------------------------

    def _channel(self, channel_id: int) -> Channel:
        raw_id = utils.get_raw_peer_id(channel_id) if channel_id < 0 else channel_id
        try:
            return self.channels_by_id[raw_id]
        except KeyError:
            raise bad_request("CHANNEL_INVALID") from None

    def channels(self) -> list[dict[str, Any]]:
        """Every channel, as ``channel()`` describes it."""
        return [self.channel(utils.get_channel_id(c)) for c in self.channels_by_id]

    def channel(self, channel_id: int) -> dict[str, Any]:
        """A channel: title, photo, noforwards, owner, admins, members, links, posts."""
        ch = self._channel(channel_id)
        return {
            "id": utils.get_channel_id(ch.id),
            "title": ch.title,
            "photo": str(ch.photo.id) if ch.photo else None,
            "noforwards": ch.noforwards,
            "owner_id": ch.owner_id,
            "admins": [{"user_id": uid, "is_bot": self.accounts[uid].is_bot,
                        "rights": sorted(admin.rights)} for uid, admin in ch.admins.items()],
            "members": list(ch.members),
            "invite_links": [{"link": i.link, "title": i.title, "admin_id": i.admin_id,
                              "revoked": i.revoked, "permanent": i.permanent,
                              "usage": i.usage, "usage_limit": i.usage_limit,
                              "expire_date": i.expire_date, "request_needed": i.request_needed}
                             for i in ch.invites.values()],
            "posts": [self._post(m, ch) for m in ch.messages.values() if m.action is None],
            "join_requests": [{"user_id": uid, "link": ch.invites[h].link, "date": date}
                              for uid, (h, date) in ch.join_requests.items()],
        }

    def _post(self, msg: Msg, channel: Channel) -> dict[str, Any]:
        entry = self._chat_entry(msg)
        # a protected channel protects every post, whoever sent it (the per-message flag is
        # the bots' own: https://core.telegram.org/method/messages.toggleNoForwards)
        protected = msg.noforwards or channel.noforwards
        return {"id": msg.id, "date": msg.date, "text": entry["text"],
                "caption": entry["caption"], "media": entry["media"], "protected": protected,
                "grouped_id": msg.grouped_id, "views": msg.views, "edited": entry["edited"],
                "buttons": entry["buttons"],
                "edit_date": msg.edit_date}

    def file_bytes(self, file_id: str | int, thumb: bool = False) -> bytes:
        """A file's bytes (or its thumbnail's) as a member would download them."""
        try:
            file = self.files[int(file_id)]
        except (KeyError, ValueError):
            raise bad_request("FILE_ID_INVALID") from None
        if thumb:
            if file.thumb is None:
                raise bad_request("FILE_ID_INVALID")
            return file.thumb
        return file.data

    def bot_commands(self, scope: str = "default", lang_code: str = "") -> list[dict[str, str]]:
        """The bot's command menu, as set with bots.setBotCommands."""
        return [{"command": c.command, "description": c.description}
                for c in self.bot.bot_commands.get((scope, lang_code), [])]


def chat_instance(user_id: int, bot_id: int) -> int:
    """A stable opaque id of a user's chat with a bot, like Telegram's chat_instance (the same
    across restarts: Python's own hash() of a str is salted per process)."""
    digest = hashlib.sha256(f"chat_instance:{user_id}:{bot_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def keyboard_kind(markup: Any) -> str | None:
    """What a message's reply_markup does to the chat, as a Telegram app draws it:
    ``"inline"`` (buttons under this message), ``"reply"`` (a keyboard replacing the phone's
    one until another message replaces or removes it), ``"remove"`` (takes the reply keyboard
    away), ``"force_reply"`` (opens a reply to this message), or None."""
    if isinstance(markup, raw.types.ReplyInlineMarkup):
        return "inline"
    if isinstance(markup, raw.types.ReplyKeyboardMarkup):
        return "reply"
    if isinstance(markup, raw.types.ReplyKeyboardHide):
        return "remove"
    if isinstance(markup, raw.types.ReplyKeyboardForceReply):
        return "force_reply"
    return None


def keyboard_options(markup: Any) -> dict[str, Any] | None:
    """The flags of a reply keyboard (or a force-reply): resize, one_time, persistent,
    selective and the input field's placeholder; None for other markups."""
    if isinstance(markup, raw.types.ReplyKeyboardMarkup):
        return {"resize": bool(markup.resize), "one_time": bool(markup.single_use),
                "persistent": bool(markup.persistent), "selective": bool(markup.selective),
                "placeholder": markup.placeholder}
    if isinstance(markup, raw.types.ReplyKeyboardForceReply):
        return {"one_time": bool(markup.single_use), "selective": bool(markup.selective),
                "placeholder": markup.placeholder}
    return None


def buttons(markup: Any) -> list[list[dict[str, Any]]]:
    """Keyboard rows as the sandbox API shows them."""
    rows = []
    for row in getattr(markup, "rows", None) or []:
        out = []
        for button in row.buttons:
            kind = button.type
            entry: dict[str, Any] = {"text": button.text}
            if isinstance(kind, raw.types.InlineButtonTypeCallback):
                entry["kind"] = "callback"
            elif isinstance(kind, raw.types.InlineButtonTypeUrl):
                entry.update(kind="url", url=kind.url)
            elif isinstance(kind, (raw.types.InlineButtonTypeWebView,
                                   raw.types.ButtonTypeSimpleWebView)):
                entry.update(kind="web_app", url=kind.url)
            elif isinstance(kind, raw.types.ButtonTypeDefault):
                entry["kind"] = "reply"
            else:
                entry["kind"] = type(kind).__name__
            out.append(entry)
        rows.append(out)
    return rows


__all__ = ["Emulator", "TelegramError"]
