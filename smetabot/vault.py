"""The session vault: contractors' Telegram session strings, encrypted at rest.

Whoever holds a session string holds the account, so it never touches the disk, the database
or a log in the clear: each is sealed with AES-256-GCM under a key derived from the config's
secret key into ``<contractor>.session.enc`` (written atomically, mode 0600), bound to its
contractor id so one contractor's file cannot be swapped in for another's. A small key-check file
tells a wrong secret key at start instead of failing on the first contractor.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smetabot.errors import ConfigError, StartupError

_MAGIC = b"SMV1"
_KEYCHECK = ".keycheck"


class VaultError(Exception):
    """A session file could not be opened (wrong key or damaged file)."""


def _derive(secret_key: str) -> bytes:
    try:
        raw = base64.b64decode(secret_key, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(problem="security.secret_key is not valid base64 "
                                  "(generate one with `smetabot init`)") from None
    if len(raw) < 32:
        raise ConfigError(problem="security.secret_key must be at least 32 bytes of base64")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"smetabot session vault v1").derive(raw)


class Vault:
    """Encrypted session strings in one directory."""

    def __init__(self, directory: Path, secret_key: str) -> None:
        self.directory = directory
        self._aead = AESGCM(_derive(secret_key))

    def open(self) -> None:
        """Create the directory; check the key against the one that sealed existing files."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        check = self.directory / _KEYCHECK
        if check.exists():
            try:
                self._unseal(check.read_bytes(), b"keycheck")
            except VaultError:
                raise StartupError(problem=(
                    "the secret key (security.secret_key) is not the one that encrypted the "
                    f"sessions in {self.directory}; restore the old key, or remove that folder "
                    "and have contractors connect again")) from None
        else:
            _write_private(check, self._seal(secrets.token_bytes(16), b"keycheck"))

    def path(self, contractor_id: int) -> Path:
        """Where contractor ``contractor_id``'s session lives."""
        return self.directory / f"{int(contractor_id)}.session.enc"

    def save(self, contractor_id: int, session_string: str) -> None:
        """Seal and store a session string."""
        data = self._seal(session_string.encode(), _aad(contractor_id))
        _write_private(self.path(contractor_id), data)

    def load(self, contractor_id: int) -> str | None:
        """The session string of ``contractor_id``, or None when there is none."""
        try:
            data = self.path(contractor_id).read_bytes()
        except FileNotFoundError:
            return None
        return self._unseal(data, _aad(contractor_id)).decode()

    def exists(self, contractor_id: int) -> bool:
        """Whether ``contractor_id`` has a stored session."""
        return self.path(contractor_id).exists()

    def delete(self, contractor_id: int) -> bool:
        """Remove the session file; True when there was one."""
        try:
            self.path(contractor_id).unlink()
            return True
        except FileNotFoundError:
            return False

    # The bot's own session: its auth key (a secret) and the peers it has met (the access
    # hashes Telegram gave this bot, which no other account can use). Kept so a restart neither
    # logs the bot in again (Telegram answers restart loops with long flood waits) nor forgets
    # the channels it posts in.

    @property
    def bot_path(self) -> Path:
        return self.directory / "bot.state.enc"

    def save_bot(self, state: str) -> None:
        """Seal and store the bot's session state."""
        _write_private(self.bot_path, self._seal(state.encode(), b"bot"))

    def load_bot(self) -> str | None:
        """The bot's session state, or None (first start, or sealed with another key)."""
        try:
            return self._unseal(self.bot_path.read_bytes(), b"bot").decode()
        except (FileNotFoundError, VaultError):
            return None

    def _seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return _MAGIC + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def _unseal(self, data: bytes, aad: bytes) -> bytes:
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 12 + 16:
            raise VaultError("not a session file")
        nonce = data[len(_MAGIC):len(_MAGIC) + 12]
        try:
            return self._aead.decrypt(nonce, data[len(_MAGIC) + 12:], aad)
        except InvalidTag:
            raise VaultError("wrong key or damaged session file") from None


def _aad(contractor_id: int) -> bytes:
    return f"smetabot-session:{int(contractor_id)}".encode()


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
