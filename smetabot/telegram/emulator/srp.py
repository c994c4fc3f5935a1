"""The server side of Telegram's SRP 2FA check (https://core.telegram.org/api/srp).

The emulator keeps only the verifier ``v = g^x mod p`` of a password and checks the
client's proof ``M1`` mathematically, so a wrong password fails as it does on Telegram.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from pyrogram.crypto.prime import CURRENT_DH_PRIME

P = CURRENT_DH_PRIME  # Telegram's 2048-bit safe prime
G = 3
P_BYTES = P.to_bytes(256, "big")


def _h(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def _sh(data: bytes, salt: bytes) -> bytes:
    return _h(salt, data, salt)


def _itob(value: int) -> bytes:
    return value.to_bytes(256, "big")


def _btoi(value: bytes) -> int:
    return int.from_bytes(value, "big")


def password_x(password: str, salt1: bytes, salt2: bytes) -> int:
    """x = PH2(password, salt1, salt2) of the SHA256SHA256PBKDF2HMACSHA512iter100000 algo."""
    ph1 = _sh(_sh(password.encode(), salt1), salt2)
    ph2 = _sh(hashlib.pbkdf2_hmac("sha512", ph1, salt1, 100000), salt2)
    return _btoi(ph2)


def make_verifier(password: str) -> tuple[bytes, bytes, int]:
    """New salts and the verifier for ``password``: (salt1, salt2, v)."""
    salt1, salt2 = os.urandom(40), os.urandom(16)
    return salt1, salt2, pow(G, password_x(password, salt1, salt2), P)


def _k() -> int:
    return _btoi(_h(P_BYTES, _itob(G)))


def challenge(verifier: int) -> tuple[int, bytes]:
    """A fresh server secret b and the public B = k*v + g^b mod p."""
    while True:
        b = _btoi(os.urandom(256))
        B = (_k() * verifier + pow(G, b, P)) % P
        if 1 < B < P - 1:
            return b, _itob(B)


def verify(
    verifier: int, b: int, B: bytes, A: bytes, M1: bytes, salt1: bytes, salt2: bytes
) -> bool:
    """Whether the client's (A, M1) proves it knows the password behind ``verifier``."""
    a_int = _btoi(A)
    if not 1 < a_int < P - 1:
        return False
    A = _itob(a_int)
    u = _btoi(_h(A, B))
    if u == 0:
        return False
    S = pow(a_int * pow(verifier, u, P) % P, b, P)
    K = _h(_itob(S))
    g_hash = _h(_itob(G))
    p_hash = _h(P_BYTES)
    expected = _h(
        bytes(x ^ y for x, y in zip(p_hash, g_hash)), _h(salt1), _h(salt2), A, B, K
    )
    return hmac.compare_digest(expected, M1)
