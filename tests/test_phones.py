"""Phone numbers as people type them, in the form Telegram takes."""

from __future__ import annotations

import pytest

from smetabot.errors import BadPhoneNumber
from smetabot.phones import normalize


@pytest.mark.parametrize("typed,number", [
    # Russia, as people write it
    ("8 925 123-45-67", "+79251234567"),
    ("+7 (925) 123 45 67", "+79251234567"),
    ("89251234567", "+79251234567"),
    ("9251234567", "+79251234567"),
    ("+79251234567", "+79251234567"),
    ("79251234567", "+79251234567"),
    ("8(925)123-45-67", "+79251234567"),
    ("+7 925 123–45–67", "+79251234567"),  # en dashes
    ("+7\u00a0925\u00a0123\u00a045\u00a067", "+79251234567"),  # non-breaking spaces
    ("  8.925.123.45.67 ", "+79251234567"),
    ("＋7 925 1234567", "+79251234567"),  # a full-width plus from a phone keyboard
    ("+8 925 123-45-67", "+79251234567"),  # the trunk 8 typed after a plus
    ("8 (495) 123-45-67", "+74951234567"),  # a Moscow landline
    ("4951234567", "+74951234567"),
    # Kazakhstan shares +7
    ("+7 701 123 45 67", "+77011234567"),
    # other countries keep their code
    ("+49 30 1234567", "+49301234567"),
    ("+380 44 123 4567", "+380441234567"),
    ("+1 (415) 555-2671", "+14155552671"),
    ("00 49 30 1234567", "+49301234567"),
    ("8-10-49-30-1234567", "+49301234567"),  # Russia's international prefix
])
def test_numbers_as_typed(typed, number):
    assert normalize(typed) == number


@pytest.mark.parametrize("typed", [
    "", "   ", "abc", "8 925 123-45-6", "8 925 123-45-678", "+7 925 123 45 6",
    "+7 925 123 45 678", "925 123 45 67 доб. 12", "1234567", "+12345", "5251234567",
    "+0 925 1234567", "+1234567890123456", "8 925 I23-45-67", "+7 925 123 45 67 +",
    "٩٢٥١٢٣٤٥٦٧٨",  # Arabic-Indic digits are digits to Python, not to Telegram
])
def test_what_cannot_be_a_number_is_the_users_error(typed):
    with pytest.raises(BadPhoneNumber) as caught:
        normalize(typed)
    ru, en = caught.value.message("ru"), caught.value.message("en")
    assert "+7 925 123-45-67" in ru and ru.startswith("«")
    assert "does not look like a phone number" in en
    assert caught.value.exit_code == 64


def test_a_long_typo_is_shortened_in_the_answer():
    with pytest.raises(BadPhoneNumber) as caught:
        normalize("позвоните мне завтра после обеда пожалуйста")
    assert "…" in caught.value.message("ru") and len(caught.value.message("ru")) < 100
