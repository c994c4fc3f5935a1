"""Phone numbers as people type them in Russia, in the one form Telegram takes: ``+79251234567``.

    "8 925 123-45-67", "+7 (925) 123 45 67", "89251234567", "9251234567"  →  "+79251234567"
    "+49 30 1234567", "00 49 30 1234567", "8-10-49-30-1234567"           →  "+49301234567"

A number that cannot be one (letters, too short or long, an unknown national form) raises
:class:`~smetabot.errors.BadPhoneNumber`, whose message tells the user how to type it.
Imports nothing of the app.
"""

from __future__ import annotations

import re

from smetabot.errors import BadPhoneNumber

# What people put between digits: spaces (also non-breaking), dashes of every width, dots,
# brackets, slashes.
_SEPARATORS = re.compile(r"[\s\u00a0\u2009\u202f()\[\].\-/\u2010-\u2015\u2212]")
# E.164: at most 15 digits after the "+"; no country code with a subscriber number makes a
# diallable number under 8 digits.
_MIN_DIGITS, _MAX_DIGITS = 8, 15
# Russian (and Kazakh) national numbers: 10 digits after the 7/8; they start with an area code
# (3xx, 4xx, 8xx) or a mobile code (9xx).
_NATIONAL_FIRST = "3489"


def normalize(typed: str) -> str:
    """The number as ``+<country><number>``; raises BadPhoneNumber for what cannot be one."""
    text = (typed or "").strip().replace("\uff0b", "+")
    compact = _SEPARATORS.sub("", text)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isascii() or not digits.isdigit():
        raise BadPhoneNumber(phone=_shown(typed))
    if plus:
        # "+8 925 …" is a Russian number typed with the trunk 8 instead of the country's 7 (no
        # country code starts with 89).
        if len(digits) == 11 and digits.startswith("89"):
            digits = "7" + digits[1:]
        if digits.startswith("7") and len(digits) != 11:
            raise BadPhoneNumber(phone=_shown(typed))
        return _international(digits, typed)
    if digits.startswith("810"):  # Russia's old international prefix: 8, tone, 10
        return _international(digits[3:], typed)
    if digits.startswith("00"):  # the international prefix of most of the world
        return _international(digits[2:], typed)
    if len(digits) == 11 and digits[0] in "78" and digits[1] in _NATIONAL_FIRST:
        return "+7" + digits[1:]
    # Ten digits are a number without its 8; "89…" is rather an 8-9xx number missing a digit
    # (there is no 89x area code).
    if len(digits) == 10 and digits[0] in _NATIONAL_FIRST and not digits.startswith("89"):
        return "+7" + digits
    raise BadPhoneNumber(phone=_shown(typed))


def _international(digits: str, typed: str) -> str:
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS or digits.startswith("0"):
        raise BadPhoneNumber(phone=_shown(typed))
    if digits.startswith("7") and len(digits) != 11:
        raise BadPhoneNumber(phone=_shown(typed))
    return "+" + digits


def _shown(typed: str) -> str:
    # Echoed back to the user: keep it short and on one line.
    text = " ".join((typed or "").split())
    return text if len(text) <= 32 else text[:31] + "…"
