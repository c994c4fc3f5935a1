"""The error table covers every Telegram method the product calls.

The product reaches Telegram two ways: raw calls (``client.invoke(raw.functions.x.Y(...))``) and
kurigram's high-level methods (``client.send_message(...)``, ``callback.answer()``), each of which
invokes one or more raw functions. This test finds both in the package (outside the emulator),
maps the high-level ones to the raw functions kurigram's source invokes, and fails when one is
missing from ``tests/data/telegram_errors.tsv``, or when a high-level call is not mapped yet.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import inspect
import re
import sys
from pathlib import Path

import pyrogram
import pytest
from pyrogram import types

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "smetabot"
TABLE = Path(__file__).resolve().parent / "data" / "telegram_errors.tsv"

#: kurigram's high-level methods the product calls -> the raw functions they invoke on the paths
#: we take (``resolve_peer`` of a user or channel id or a username; files under and over 10 MB).
KURIGRAM: dict[str, tuple[str, ...]] = {
    "edit_message_reply_markup": ("messages.EditMessage",),
    "set_chat_menu_button": ("bots.SetBotMenuButton",),
    "recover_gaps": ("updates.GetDifference",),
    "get_users": ("users.GetUsers",),
    "ban_chat_member": ("channels.EditBanned",),
    "unban_chat_member": ("channels.EditBanned",),
    "delete_messages": ("channels.DeleteMessages", "messages.DeleteMessages"),
    "edit_message_caption": ("messages.EditMessage",),
    "get_chat_members": ("channels.GetParticipants",),
    "send_message": ("messages.SendMessage",),
    "edit_message_text": ("messages.EditMessage",),
    "send_photo": ("messages.SendMedia", "upload.SaveFilePart", "upload.SaveBigFilePart"),
    "send_document": ("messages.SendMedia", "upload.SaveFilePart", "upload.SaveBigFilePart"),
    "send_media_group": ("messages.UploadMedia", "messages.SendMultiMedia",
                         "upload.SaveFilePart", "upload.SaveBigFilePart"),
    "download_media": ("upload.GetFile",),
    "save_file": ("upload.SaveFilePart", "upload.SaveBigFilePart"),
    "resolve_peer": ("users.GetUsers", "channels.GetChannels", "contacts.ResolveUsername"),
    "create_channel": ("channels.CreateChannel",),
    "set_chat_protected_content": ("messages.ToggleNoForwards",),
    "set_chat_photo": ("channels.EditPhoto", "upload.SaveFilePart", "upload.SaveBigFilePart"),
    "promote_chat_member": ("channels.GetParticipant", "channels.EditAdmin",
                            "contacts.ResolveUsername"),
    "create_chat_invite_link": ("messages.ExportChatInvite",),
    "revoke_chat_invite_link": ("messages.EditExportedChatInvite",),
    "approve_chat_join_request": ("messages.HideChatJoinRequest",),
    "decline_chat_join_request": ("messages.HideChatJoinRequest",),
    "answer_callback_query": ("messages.SetBotCallbackAnswer",),
    "set_bot_commands": ("bots.SetBotCommands",),
    "get_bot_commands": ("bots.GetBotCommands",),  # selftest
    "delete_channel": ("channels.DeleteChannel",),  # selftest: its test channel
    "log_out": ("auth.LogOut",),
    "send_code": ("auth.SendCode",),
    "sign_in": ("auth.SignIn",),
    "get_password_hint": ("account.GetPassword",),
    "check_password": ("account.GetPassword", "auth.CheckPassword"),
    "get_me": ("users.GetFullUser",),
    # a bot client's start: log in with the token, read the update state, fetch itself
    "start": ("auth.ImportBotAuthorization", "updates.GetState", "users.GetFullUser"),
    # no Telegram method of their own (transport, local storage, handlers)
    "stop": (), "connect": (), "disconnect": (), "invoke": (), "add_handler": (),
    "export_session_string": (), "get_dc_option": (), "get_session": (), "fetch_peers": (),
}
#: bound methods of kurigram's objects -> the client method they call
BOUND = {"answer": "answer_callback_query", "edit_text": "edit_message_text",
         "edit_reply_markup": "edit_message_reply_markup",
         "reply": "send_message", "reply_text": "send_message", "download": "download_media"}

CLIENT_RECEIVER = re.compile(r"(^|\.)(client|bot|_client|admin)$")
OBJECT_RECEIVER = re.compile(r"(^|\.)(callback|message|msg|query)(\.message)?$")
RAW_CALL = re.compile(r"raw\.functions\.([a-z]+)\.([A-Z]\w*)")


def table_methods() -> set[str]:
    with TABLE.open(encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    return {row["method"].lower() for row in csv.DictReader(lines, delimiter="\t")}


def product_sources() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py"))
            if "emulator" not in path.relative_to(PACKAGE).parts]


def client_methods() -> set[str]:
    # kurigram wraps its methods for sync use, so they are plain callables, not coroutines
    return {name for name, member in inspect.getmembers(pyrogram.Client)
            if not name.startswith("_") and callable(member) and not inspect.isclass(member)}


def object_methods() -> set[str]:
    names: set[str] = set()
    for cls in (types.Message, types.CallbackQuery):
        names |= {name for name, member in inspect.getmembers(cls)
                  if not name.startswith("_") and callable(member) and not inspect.isclass(member)
                  and name not in ("default", "read", "write", "bind")}
    return names


def product_calls() -> tuple[set[str], set[str]]:
    """(raw functions called directly, kurigram client methods called) in the product."""
    raw_calls: set[str] = set()
    high: set[str] = set()
    clients, objects = client_methods(), object_methods()
    for path in product_sources():
        text = path.read_text(encoding="utf-8")
        raw_calls |= {f"{ns}.{name}" for ns, name in RAW_CALL.findall(text)}
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name, receiver = node.func.attr, ast.unparse(node.func.value)
            if name in clients and CLIENT_RECEIVER.search(receiver):
                high.add(name)
            elif name in objects and OBJECT_RECEIVER.search(receiver):
                high.add(BOUND.get(name, f"<bound {name}>"))
    return raw_calls, high


def kurigram_source(name: str, depth: int = 3) -> str:
    """The source of ``Client.<name>`` and of the client methods it calls, ``depth`` deep."""
    seen: set[str] = set()
    todo, text = [name], ""
    for _ in range(depth + 1):
        nxt = []
        for item in todo:
            if item in seen or not hasattr(pyrogram.Client, item):
                continue
            seen.add(item)
            method = getattr(pyrogram.Client, item)
            source = inspect.getsource(method)
            # the module too: some methods call module-level helpers (get_chat_members)
            text += source + inspect.getsource(sys.modules[method.__module__])
            nxt += re.findall(r"self\.(\w+)\(", source)
        todo = nxt
    return text


def test_the_product_calls_what_this_test_finds() -> None:
    raw_calls, high = product_calls()
    # a few calls we know are there, so a broken scan cannot pass quietly
    assert {"messages.SendMultiMedia", "auth.ExportLoginToken"} <= raw_calls
    assert {"send_message", "create_channel", "answer_callback_query", "edit_message_text",
            "promote_chat_member", "download_media"} <= high


def test_every_high_level_call_is_mapped_to_raw_functions() -> None:
    _, high = product_calls()
    assert sorted(high - set(KURIGRAM)) == [], (
        "map these kurigram calls to the raw functions they invoke (read their source in "
        "pyrogram/methods/) and add those functions' errors to tests/data/telegram_errors.tsv")


@pytest.mark.parametrize("name", sorted(name for name, raws in KURIGRAM.items() if raws))
def test_the_mapping_is_what_kurigram_invokes(name: str) -> None:
    source = kurigram_source(name)
    for function in KURIGRAM[name]:
        assert f"functions.{function}(" in source.replace("raw.functions.", "functions."), \
            f"kurigram's {name} does not invoke {function}"


def test_every_called_telegram_method_is_in_the_error_table() -> None:
    raw_calls, high = product_calls()
    called = raw_calls | {f for name in high for f in KURIGRAM.get(name, ())}
    missing = sorted(f for f in called if f.lower() not in table_methods())
    assert missing == [], (
        "add these methods' documented errors (core.telegram.org/method/<name>) to "
        "tests/data/telegram_errors.tsv")


def test_the_table_has_rows_from_every_method_page_it_names() -> None:
    with TABLE.open(encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    assert {"method", "code", "error", "description", "reachable", "why_unreachable", "answer",
            "page", "read_on"} == set(rows[0])
    pairs = [(row["method"], row["error"]) for row in rows]
    assert len(pairs) == len(set(pairs)), "a (method, error) pair is listed twice"
    for row in rows:
        assert row["code"].isdigit() and row["description"] and row["read_on"]
        assert row["page"] in (f"https://core.telegram.org/method/{row['method']}",
                               "https://core.telegram.org/api/errors")
    for method in {row["method"] for row in rows}:  # every method has its generic rows
        assert (method, "FLOOD_WAIT_%d") in pairs and (method, "5XX") in pairs


def test_the_planned_methods_are_exactly_those_not_called_yet() -> None:
    spec = importlib.util.spec_from_file_location("error_coverage",
                                                  ROOT / "scripts" / "error_coverage.py")
    coverage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(coverage)
    raw_calls, high = product_calls()
    called = {f.lower() for f in raw_calls | {f for n in high for f in KURIGRAM.get(n, ())}}
    assert table_methods() - called == {m.lower() for m in coverage.PLANNED}, (
        "a planned method is now called (drop it from PLANNED in scripts/error_coverage.py), "
        "or the table has a method nothing calls")
