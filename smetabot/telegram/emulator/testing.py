"""Test support: prove that nothing talks to the network while the emulator is in use."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


class NetworkForbidden(OSError):
    """Raised by every attempt to open a network connection inside ``forbid_network``."""


@contextmanager
def forbid_network() -> Iterator[list[str]]:
    """Make connecting and name lookup fail; yields the list of attempts made.

    Creating sockets stays allowed, because asyncio's event loop needs a local
    socketpair to wake itself up.
    """
    attempts: list[str] = []

    def refuse(what: str):
        def blocked(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise NetworkForbidden(f"network access attempted: {what}")

        return blocked

    patched = {
        (socket, "create_connection"): refuse("create_connection"),
        (socket, "getaddrinfo"): refuse("getaddrinfo"),
        (socket.socket, "connect"): refuse("socket.connect"),
        (socket.socket, "connect_ex"): refuse("socket.connect_ex"),
    }
    saved = {target: getattr(*target) for target in patched}
    for (owner, name), replacement in patched.items():
        setattr(owner, name, replacement)
    try:
        yield attempts
    finally:
        for (owner, name), original in saved.items():
            setattr(owner, name, original)
