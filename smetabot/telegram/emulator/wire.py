"""The wire between pyrogram and the emulator: TL round trips and RPC errors.

Everything that crosses the wire is serialized with ``write()`` and read back with
``TLObject.read`` so pyrogram sees objects exactly as if they came off a socket, and the
emulator never depends on the identity of objects pyrogram built.
"""

from __future__ import annotations

import logging
import re
from io import BytesIO
from typing import Any, NoReturn

from pyrogram import errors, raw
from pyrogram.errors import RPCError
from pyrogram.errors.exceptions.all import exceptions
from pyrogram.raw.all import objects
from pyrogram.raw.core import TLObject
from pyrogram.raw.core.primitives import BoolFalse, BoolTrue, Vector

log = logging.getLogger(__name__)

# Wrappers a client may put around a query; the emulator answers the query inside.
WRAPPERS = (
    raw.functions.InvokeWithLayer,
    raw.functions.InitConnection,
    raw.functions.InvokeWithoutUpdates,
    raw.functions.InvokeWithTakeout,
    raw.functions.InvokeAfterMsg,
)


class TelegramError(Exception):
    """An RPC error as Telegram sends it: a code and an upper-case message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"[{code} {message}]")
        self.code = code
        self.message = message


def bad_request(message: str) -> TelegramError:
    """A 400 error, the kind most of Telegram's refusals are."""
    return TelegramError(400, message)


def roundtrip(obj: TLObject) -> TLObject:
    """Serialize a TL object and read it back, as it would come off the wire."""
    return TLObject.read(BytesIO(obj.write()))


def read_query(query: TLObject) -> TLObject:
    """A client's request as the server reads it off the wire.

    Telegram knows each vector's item type; pyrogram's reader guesses it from the bytes left
    (``Vector.read_bare``: 8 bytes an item reads as a long), which turns a lone
    ``inputMessageID`` at the end of ``channels.getMessages`` into a number. The server side
    reads boxed items by their constructor id instead.
    """
    guess = Vector.read_bare

    def typed(b: BytesIO, size: int) -> Any:
        constructor = int.from_bytes(b.read(4), "little")
        b.seek(-4, 1)
        if constructor in objects and constructor not in (BoolTrue.ID, BoolFalse.ID):
            return TLObject.read(b)
        return guess(b, size)

    Vector.read_bare = staticmethod(typed)
    try:
        return roundtrip(query)
    finally:
        Vector.read_bare = staticmethod(guess)


def unwrap(query: TLObject) -> TLObject:
    """The query inside invokeWithLayer/initConnection/invokeWithoutUpdates wrappers."""
    while isinstance(query, WRAPPERS):
        query = query.query
    return query


def method_name(query: TLObject) -> str:
    """Telegram's name of a function, e.g. ``messages.SendMessage``."""
    return ".".join(query.QUALNAME.split(".")[1:])


def raise_as_pyrogram(error: TelegramError, query_type: type[TLObject]) -> NoReturn:
    """Raise ``error`` exactly as pyrogram raises an ``rpc_error`` that came off the wire."""
    rpc_error = roundtrip(
        raw.types.RpcError(error_code=error.code, error_message=error.message)
    )
    error_id = re.sub(r"_(\d+)", "_X", rpc_error.error_message)
    known = exceptions.get(abs(rpc_error.error_code), {})
    if error_id in known:
        RPCError.raise_it(rpc_error, query_type)
    # pyrogram appends errors it does not know to ./unknown_errors.txt; raise the same
    # category class it would pick, without that side effect.
    category = getattr(errors, known.get("_", "UnknownError"), errors.RPCError)
    raise category(
        value=f"[{rpc_error.error_code} {rpc_error.error_message}]",
        rpc_name=method_name(query_type),
    )


#: Telegram function name -> handler(call, query); filled by the rpc_* modules
HANDLERS: dict[str, Any] = {}
#: functions a session may call before it is signed in
NO_AUTH: set[str] = set()


def handler(name: str, *, auth: bool = True):
    """Register the emulator's answer to the Telegram function ``name``."""

    def register(func):
        HANDLERS[name] = func
        if not auth:
            NO_AUTH.add(name)
        return func

    return register
