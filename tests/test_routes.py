"""The route table: every card verb and every typed command is routed exactly once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from application.routes import ACTIONS, COMMANDS, ActionTable, CommandTable
from application.services import Press
from application.views import HelpView, ReceiptView
from cards import words
from cards.actions import Verb


def test_every_verb_has_exactly_one_route() -> None:
    assert set(ACTIONS.routes) == set(Verb)
    # A save's verb has a reader of its data into a command; a verb that only shows
    # something has none. Both are routes.
    assert set(ACTIONS.readers) <= set(ACTIONS.routes)


def test_a_verb_cannot_be_routed_twice() -> None:
    table = ActionTable()

    @table.shows(Verb.HELP)
    async def first(app: Any, press: Press) -> Any: ...

    with pytest.raises(ValueError, match="two routes"):

        @table.shows(Verb.HELP)
        async def second(app: Any, press: Press) -> Any: ...

    commands = CommandTable()

    @commands.route("help")
    async def help_(app: Any, person: str, rest: str) -> Any: ...

    with pytest.raises(ValueError, match="two routes"):
        commands.route("help")(help_)


def test_every_command_the_help_card_lists_has_a_route() -> None:
    for said, _ in words.COMMANDS:
        phrase = said.split("<")[0].strip()
        found = COMMANDS.find(f"{phrase} 1000001" if "<" in said else phrase)
        assert found is not None, said


@pytest.mark.parametrize("data", [{"verb": "open_everything"}, {"verb": 7}, {}])
async def test_an_unknown_verb_gets_help_never_an_audit(data: dict[str, Any]) -> None:
    # No route is looked up, so no services are needed: an unknown verb never reaches one.
    reply = await ACTIONS.dispatch(None, Press("someone@council.example", data, None))  # type: ignore[arg-type]
    assert isinstance(reply.follow_up, HelpView) and reply.text == words.UNKNOWN
    assert reply.replace is None


def test_no_card_over_the_teams_limit_is_ever_drawn() -> None:
    """A view whose card would be too big for a Teams message is drawn as a short card
    saying so, rather than the reply failing (413) and the card never opening."""
    from bot.render import render
    from cards import MAX_CARD_BYTES, size_of

    lines = tuple((f"Line {i}", "y" * 90) for i in range(1000))
    card = render(ReceiptView("Saved", lines))
    assert size_of(card) <= MAX_CARD_BYTES
    assert words.CARD_TOO_BIG in json.dumps(card)
    small = render(ReceiptView("Saved", lines[:2]))
    assert words.CARD_TOO_BIG not in json.dumps(small)
