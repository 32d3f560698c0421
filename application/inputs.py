"""Reading a card's data, which is untrusted: any key may be missing, of any type, any size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audits.errors import InvalidInput
from cards import EMAIL_LENGTH, LONG_TEXT, SHORT_TEXT

# The limits the cards state on their inputs (maxLength), enforced here with the same
# numbers: a client may ignore maxLength, and a text accepted beyond what its card shows
# could make the card too big to open again.
MAX_FIELD = LONG_TEXT  # evidence, impact, comments, and a section's own questions
SHORT = SHORT_TEXT  # summaries, reasons, notes, an action's text
EMAIL = EMAIL_LENGTH


def text(data: Mapping[str, Any], key: str, limit: int = MAX_FIELD) -> str | None:
    """A text input: None when empty; refused when not text or longer than `limit`."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float):
        raise InvalidInput(f"'{key}' must be text")
    found = str(value)
    if len(found) > limit:
        raise InvalidInput(f"That is too long: at most {limit:,} characters, please shorten it")
    return found


def number(data: Mapping[str, Any], key: str) -> int:
    try:
        return int(str(data.get(key, "")).strip())
    except ValueError:
        raise InvalidInput(f"'{key}' must be a number") from None


def prefixed(data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The answers to a section's own questions (`q.<id>` inputs), empty ones left out."""
    values = {
        key.removeprefix(prefix): value
        for key, value in data.items()
        if key.startswith(prefix) and value not in ("", None)
    }
    for key, value in values.items():
        if isinstance(value, str) and len(value) > MAX_FIELD:
            raise InvalidInput(f"'{key}' is too long: at most {MAX_FIELD:,} characters")
    return values
