"""Checking Telegram WebApp ``initData``: who is calling, proven by the bot token.

Per Telegram's WebApp documentation: ``secret = HMAC_SHA256(key="WebAppData", msg=bot_token)``
and ``hash = hex(HMAC_SHA256(secret, data_check_string))``, where the data-check string is every
received field but ``hash``, as ``key=value`` sorted by key and joined by newlines. Imports nothing
of the application.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

#: how far the host's clock may be behind Telegram's (auth_date is Telegram's time) before a
#: fresh initData looks dated in the future; the age limit itself stays as configured
MAX_CLOCK_SKEW = 300


class InitDataError(Exception):
    """The initData is missing, forged, tampered with or too old."""


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user a valid initData names."""

    id: int
    first_name: str
    username: str | None
    language_code: str | None
    auth_date: int


def check_init_data(init_data: str | None, bot_token: str, max_age: int,
                    now: float | None = None) -> WebAppUser:
    """Validate ``init_data`` and return its user; raises InitDataError saying why not."""
    if not init_data:
        raise InitDataError("missing initData")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("initData is not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("initData repeats a field")
    received = fields.pop("hash", "")
    if not received:
        raise InitDataError("initData has no hash")
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, received.lower()):
        raise InitDataError("initData signature does not match")
    try:
        auth_date = int(fields["auth_date"])
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataError("initData lacks auth_date or user") from None
    now = time.time() if now is None else now
    if auth_date > now + MAX_CLOCK_SKEW:
        raise InitDataError("initData is dated in the future")
    if now - auth_date > max_age:
        raise InitDataError("initData is too old")
    return WebAppUser(id=user_id, first_name=str(user.get("first_name", "")),
                      username=user.get("username"), language_code=user.get("language_code"),
                      auth_date=auth_date)
