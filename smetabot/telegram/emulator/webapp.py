"""How Telegram opens a WebApp: a URL with signed ``initData`` in its fragment.

Signing follows https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app:
secret = HMAC_SHA256(key="WebAppData", msg=bot_token); hash = hex HMAC_SHA256(secret,
data_check_string), where data_check_string is the sorted ``key=value`` pairs joined by "\\n".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import quote, urlencode


def sign_init_data(bot_token: str, fields: dict[str, str]) -> str:
    """The query string ``initData`` for ``fields``, with its ``hash`` appended."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def user_json(user_id: int, first_name: str, last_name: str | None, username: str | None,
              language_code: str | None) -> str:
    """The ``user`` field of initData as Telegram writes it (compact JSON)."""
    user: dict[str, object] = {"id": user_id, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    user["allows_write_to_pm"] = True
    return json.dumps(user, ensure_ascii=False, separators=(",", ":"))


def web_app_url(url: str, init_data: str | None, platform: str = "tdesktop") -> str:
    """``url`` as Telegram opens it: ``#tgWebAppData=...`` (left out when ``init_data`` is
    None, as for keyboard-button Mini Apps) plus version and platform."""
    base = url.split("#", 1)[0]
    fields = {"tgWebAppData": init_data} if init_data is not None else {}
    fields |= {"tgWebAppVersion": "8.0", "tgWebAppPlatform": platform}
    fragment = urlencode(fields, quote_via=quote)
    return f"{base}#{fragment}"


def chat_instance() -> str:
    """An opaque chat_instance like Telegram's (a signed 64-bit number as text)."""
    return str(secrets.randbits(63) - (1 << 62))
