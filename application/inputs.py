"""Reading a card's data, which is untrusted: any key may be missing, of any type, any size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audits.errors import InvalidInput

MAX_FIELD = 10_000  # characters of one typed answer (evidence, impact, comments)


def text(data: Mapping[str, Any], key: str) -> str | None:
    """A text input: None when empty; refused when not text or longer than MAX_FIELD."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float):
        raise InvalidInput(f"'{key}' must be text")
    found = str(value)
    if len(found) > MAX_FIELD:
        raise InvalidInput(f"That is too long: at most {MAX_FIELD:,} characters, please shorten it")
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
