"""Every Telegram function the product can call is one the emulator answers.

The product's calls are found by reading its source (outside the emulator): raw functions it
invokes by name (``raw.functions.X.Y``), kurigram Client methods it calls, and the bound
methods of kurigram's types it uses (``message.reply``...). Each kurigram method is mapped to
the raw functions it invokes on the paths the product takes; the map is checked against
kurigram's own source, so it cannot name a function the method never calls.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import pyrogram
from pyrogram import types

from smetabot.telegram.emulator import people  # noqa: F401  (registers the handlers)
from smetabot.telegram.emulator.wire import HANDLERS

PACKAGE = Path(__file__).resolve().parents[1] / "smetabot"

#: kurigram Client method -> the raw functions it invokes (pyrogram/methods/**)
CLIENT_METHODS: dict[str, set[str]] = {
    "add_handler": set(), "connect": set(), "disconnect": set(), "stop": set(),
    "export_session_string": set(), "invoke": set(), "run": set(),
    "start": {"updates.GetState"},  # + get_me and, for bots, sign_in_bot (below)
    "get_me": {"users.GetFullUser"},
    "sign_in_bot": {"auth.ImportBotAuthorization"},
    "recover_gaps": {"updates.GetDifference", "updates.GetChannelDifference"},
    "check_password": {"account.GetPassword", "auth.CheckPassword"},
    "get_password_hint": {"account.GetPassword"},
    "send_code": {"auth.SendCode"},
    "sign_in": {"auth.SignIn"},
    "log_out": {"auth.LogOut"},
    "get_dc_option": {"help.GetConfig"},
    "get_session": {"auth.ExportAuthorization", "auth.ImportAuthorization"},
    "resolve_peer": {"users.GetUsers", "channels.GetChannels", "contacts.ResolveUsername"},
    "create_channel": {"channels.CreateChannel"},
    "create_chat_invite_link": {"messages.ExportChatInvite"},
    "revoke_chat_invite_link": {"messages.EditExportedChatInvite"},
    "promote_chat_member": {"channels.EditAdmin", "channels.GetParticipant"},
    "delete_channel": {"channels.DeleteChannel"},
    "get_bot_commands": {"bots.GetBotCommands"},
    "fetch_peers": set(),
    "set_chat_photo": {"channels.EditPhoto"},
    "set_chat_protected_content": {"messages.ToggleNoForwards"},
    "set_chat_menu_button": {"bots.SetBotMenuButton"},
    "get_chat_menu_button": {"bots.GetBotMenuButton", "users.GetFullUser"},
    "approve_chat_join_request": {"messages.HideChatJoinRequest"},
    "decline_chat_join_request": {"messages.HideChatJoinRequest"},
    "view_messages": {"messages.GetMessagesViews"},
    "set_bot_commands": {"bots.SetBotCommands"},
    "send_message": {"messages.SendMessage"},
    "send_photo": {"messages.SendMedia"},
    "send_document": {"messages.SendMedia"},
    "send_media_group": {"messages.UploadMedia", "messages.SendMultiMedia"},
    "edit_message_text": {"messages.EditMessage"},
    "edit_message_reply_markup": {"messages.EditMessage"},
    "delete_messages": {"messages.DeleteMessages", "channels.DeleteMessages"},
    "answer_callback_query": {"messages.SetBotCallbackAnswer"},
    "get_messages": {"messages.GetMessages", "channels.GetMessages"},
    "get_chat_member": {"channels.GetParticipant"},
    "get_chat_members": {"channels.GetParticipants"},
    "ban_chat_member": {"channels.EditBanned"},  # a channel, no revoke_messages/_reactions
    "unban_chat_member": {"channels.EditBanned"},
    "get_users": {"users.GetUsers"},
    "edit_message_caption": set(),
    "download_media": set(),
    "get_file": {"upload.GetFile"},
    "save_file": {"upload.SaveFilePart", "upload.SaveBigFilePart"},
}
#: methods that call others the product relies on
CALLS = {"start": {"get_me", "sign_in_bot", "recover_gaps"},
         "download_media": {"get_file"}, "edit_message_caption": {"edit_message_text"}, "get_file": {"get_session"}, "send_photo": {"save_file"},
         "send_document": {"save_file"}, "send_media_group": {"save_file"},
         "set_chat_photo": {"save_file"}}
#: bound methods of kurigram's types -> the Client method they call
BOUND = {"reply": "send_message", "reply_text": "send_message", "answer": "answer_callback_query",
         "edit_text": "edit_message_text", "edit_reply_markup": "edit_message_reply_markup",
         "reply_document": "send_document", "reply_photo": "send_photo"}
#: names the product calls on something else than a kurigram Client
NOT_KURIGRAM = {"create_bot"}  # Emulator.create_bot, in app.py's sandbox set-up


def product_sources() -> dict[Path, str]:
    return {path: path.read_text() for path in PACKAGE.rglob("*.py")
            if "emulator" not in path.relative_to(PACKAGE).parts}


def product_calls() -> tuple[set[str], set[str], set[str]]:
    """(raw functions named, Client methods called, bound type methods called)."""
    client_methods = {n for n in dir(pyrogram.Client) if not n.startswith("_")}
    raw_names, methods, bound = set(), set(), set()
    for text in product_sources().values():
        raw_names |= set(re.findall(r"raw\.functions\.(\w+\.\w+|\w+)\b", text))
        for name in re.findall(r"\.(\w+)\(", text):
            if name in client_methods and name not in NOT_KURIGRAM:
                methods.add(name)
            if name in BOUND:
                bound.add(name)
    return raw_names, methods, bound


def expand(methods: set[str]) -> set[str]:
    todo, seen = list(methods), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(CALLS.get(name, ()))
    return seen


def test_the_map_matches_kurigrams_source():
    for method, functions in CLIENT_METHODS.items():
        # the method's module: kurigram keeps one method a file, some with helpers beside it
        # (get_chat_members' get_chunk)
        source = inspect.getsource(inspect.getmodule(getattr(pyrogram.Client, method)))
        for function in functions:
            assert f"raw.functions.{function}" in source, (method, function)
    for bound, method in BOUND.items():
        owner = types.CallbackQuery if bound == "answer" else types.Message
        assert f".{method}(" in inspect.getsource(getattr(owner, bound)), bound


def test_every_function_the_product_calls_is_emulated():
    raw_names, methods, bound = product_calls()
    assert raw_names and methods, "the scan found nothing: has the package moved?"
    unmapped = sorted(m for m in methods if m not in CLIENT_METHODS)
    assert unmapped == [], f"map these kurigram methods to raw functions: {unmapped}"
    needed = set(raw_names)
    for method in expand(methods | {BOUND[b] for b in bound}):
        needed |= CLIENT_METHODS[method]
    missing = sorted(n for n in needed if n not in HANDLERS)
    assert missing == [], f"the emulator does not implement {missing}"


def test_the_scan_would_notice_a_new_call(monkeypatch):
    sources = product_sources()
    extra = {PACKAGE / "x.py": "await client.invoke(raw.functions.stats.GetBroadcastStats(...))"}
    monkeypatch.setattr(sys.modules[__name__], "product_sources", lambda: {**sources, **extra})
    raw_names, _, _ = product_calls()
    assert "stats.GetBroadcastStats" in raw_names
    assert "stats.GetBroadcastStats" not in HANDLERS
