"""Checks a card against the official Adaptive Card 1.5 JSON schema (vendored in `schema/`)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # jsonschema is imported on first use: the bot itself never validates
    from jsonschema.exceptions import ValidationError

CARD_VERSION: Final = "1.5"
SCHEMA_FILE = "adaptive-card-1.5.json"


class CardInvalid(ValueError):
    """A card the schema refuses; `path` says where, e.g. `body[3].items[0].maxLength`."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@cache
def _validator() -> Any:
    from jsonschema import Draft6Validator

    text = files("cards").joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema)


def validate(card: Mapping[str, Any]) -> None:
    """Raises CardInvalid when `card` is not a valid Adaptive Card of version 1.5."""
    if card.get("type") != "AdaptiveCard":
        raise CardInvalid("type", f"expected 'AdaptiveCard', got {card.get('type')!r}")
    if card.get("version") != CARD_VERSION:
        raise CardInvalid("version", f"expected '{CARD_VERSION}', got {card.get('version')!r}")
    errors = list(_validator().iter_errors(card))
    if errors:
        error = _deepest(errors)
        raise CardInvalid(_path(error.absolute_path), error.message)


def _deepest(errors: Iterable[ValidationError]) -> ValidationError:
    """The error nearest to the real problem.

    Every element is an `anyOf` over all element (or action) types, so the
    schema's own error is "not valid under any of the given schemas". Its
    alternatives whose `type` did not match are not what the card meant;
    among the others, the deepest error explains it.
    """
    candidates = [_explain(error) for error in errors]
    return max(candidates, key=lambda e: len(e.absolute_path))


def _explain(error: ValidationError) -> ValidationError:
    if not error.context:
        return error
    alternatives: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context:
        alternatives[sub.relative_schema_path[0]].append(sub)
    meant = [subs for subs in alternatives.values() if not any(map(_wrong_type, subs))]
    if not meant and isinstance(error.instance, dict) and "type" in error.instance:
        from jsonschema.exceptions import ValidationError

        return ValidationError(
            f"{error.instance['type']!r} is not a type allowed here", path=error.absolute_path
        )
    pool = [sub for subs in (meant or alternatives.values()) for sub in subs]
    return _deepest(pool)


def _wrong_type(error: ValidationError) -> bool:
    return list(error.relative_path) == ["type"] and error.validator == "enum"


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(card)"
