"""Plays Microsoft Teams for tests: posts people's activities to the bot's endpoint and
presses the buttons of the cards it sends, as the Teams client does.

`press` does what the client does with an `Action.Execute` (or its `Action.Submit`
fallback): it refuses while a required input is empty, then sends the button's data
merged with the values of the inputs it gathers (none when the button says
`associatedInputs: none`; the parent card's and its own when the button sits in an
`Action.ShowCard`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp

from auditbot.serve import BotServer
from cards.actions import Verb
from tests.support.fake_connector import FakeConnector, Sent

TENANT = "tenant-1"


def object_id(upn: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, upn))


def conversation(who: str) -> str:
    return f"a:{who}"


def activity(
    who: str, activity_id: str, service_url: str, tenant: str = TENANT, **fields: Any
) -> dict[str, Any]:
    """An activity from someone in their personal chat with the bot, as Teams sends it."""
    return {
        "id": activity_id,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:{who}", "name": "Someone", "aadObjectId": object_id(who)},
        "conversation": {
            "id": conversation(who),
            "conversationType": "personal",
            "tenantId": tenant,
        },
        "recipient": {"id": "28:bot", "name": "auditbot"},
        "channelData": {"tenant": {"id": tenant}},
        "locale": "en-GB",
        "timestamp": "2026-11-02T09:00:00.000Z",
        **fields,
    }


class Teams:
    """Plays Teams: posts activities from people to the bot."""

    def __init__(self, server: BotServer, connector: FakeConnector) -> None:
        self.url = f"http://127.0.0.1:{server.port}/api/messages"
        self.connector = connector
        self.n = 0

    def activity(self, who: str, tenant: str = TENANT, **fields: Any) -> dict[str, Any]:
        self.n += 1
        return activity(who, f"act-{self.n}", self.connector.url, tenant, **fields)

    async def post(self, body: Any, raw: bytes | None = None) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http:
            kwargs = (
                {"data": raw, "headers": {"Content-Type": "application/json"}}
                if raw
                else {"json": body}
            )
            async with http.post(self.url, **kwargs) as response:
                text = await response.text()
                return response.status, (await response.json() if text.startswith("{") else text)

    async def install(self, who: str) -> None:
        """What Teams sends when someone adds the app: a conversationUpdate with the bot
        and the person in membersAdded, and an installationUpdate (add)."""
        members = [{"id": f"29:{who}"}, {"id": "28:bot"}]
        added = self.activity(who, type="conversationUpdate", membersAdded=members)
        for activity in (added, self.activity(who, type="installationUpdate", action="add")):
            status, _ = await self.post(activity)
            assert status in (200, 201)

    async def say(self, who: str, text: str) -> None:
        status, _ = await self.post(self.activity(who, type="message", text=text))
        assert status in (200, 201)

    async def execute(self, who: str, data: dict[str, Any], card_id: str = "card-1") -> Any:
        """Action.Execute (Universal Actions): the answer comes back in the HTTP response."""
        status, body = await self.post(
            self.activity(
                who,
                type="invoke",
                name="adaptiveCard/action",
                replyToId=card_id,
                value={
                    "action": {"type": "Action.Execute", "verb": data["verb"], "data": data},
                    "trigger": "manual",
                },
            )
        )
        assert status == 200, body
        return body

    async def submit(self, who: str, data: dict[str, Any], card_id: str) -> None:
        """Action.Submit: a message with the data as value; the bot updates the card."""
        status, _ = await self.post(
            self.activity(who, type="message", value=data, replyToId=card_id)
        )
        assert status in (200, 201)

    def last_card(self, who: str, pressable: str | None = None) -> tuple[dict[str, Any], str]:
        """The newest card in someone's chat (with that button, when named), and its id."""
        for sent in reversed(self.connector.sent):
            card = sent.card
            if sent.conversation != conversation(who) or card is None:
                continue
            if pressable is None or has_button(card, pressable):
                return card, sent.activity_id or ""
        raise AssertionError(f"no card for {who}" + (f" with '{pressable}'" if pressable else ""))

    def answers(self, who: str) -> list[Sent]:
        """What the bot sent into someone's chat in answer to the newest activity posted
        here, in order: not what else (an allocation card, a nudge) arrived meanwhile."""
        answering = f"act-{self.n}"
        return [
            sent
            for sent in self.connector.sent
            if sent.conversation == conversation(who) and sent.reply_to == answering
        ]

    def answer_card(self, who: str) -> tuple[dict[str, Any], str]:
        """The last card among those answers, and its id: what a press opened."""
        found = [(s.card, s.activity_id or "") for s in self.answers(who) if s.card]
        if not found:
            raise AssertionError(f"no card for {who} in answer to act-{self.n}")
        return found[-1]

    async def press(
        self,
        who: str,
        title: str,
        typed: dict[str, str] | None = None,
        card: tuple[dict[str, Any], str] | None = None,
    ) -> Any:
        """Presses a button on the newest card that has it, as the client would."""
        content, card_id = card or self.last_card(who, title)
        verb, data = press(content, title, typed)
        return await self.execute(who, {**data, "verb": verb.value}, card_id=card_id)


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def has_card_mentioning(connector: FakeConnector, who: str, text: str) -> bool:
    return any(text in str(card) for card in connector.cards_to(conversation(who)))


class Blocked(Exception):
    """The client would not send: a required input is empty."""


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "card":  # a ShowCard's inputs are not the parent's
                yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def _find(card: dict[str, Any], title: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    actions = [a for n in walk(card) if n.get("type") == "ActionSet" for a in n["actions"]]
    for action in [*card.get("actions", []), *actions]:
        if action.get("title") == title and action["type"] == "Action.Execute":
            return action, [card]
        if action["type"] == "Action.ShowCard":
            inner = action["card"]
            for sub in inner.get("actions", []):
                if sub.get("title") == title:
                    return sub, [card, inner]
    raise AssertionError(f"no button '{title}'")


def has_button(card: dict[str, Any], title: str) -> bool:
    try:
        _find(card, title)
    except AssertionError:
        return False
    return True


def press(
    card: dict[str, Any], title: str, typed: dict[str, str] | None = None
) -> tuple[Verb, dict[str, Any]]:
    typed = typed or {}
    action, scope = _find(card, title)
    inputs: dict[str, Any] = {}
    if action.get("associatedInputs") != "none":
        for part in scope:
            for node in walk(part.get("body", [])):
                if str(node.get("type", "")).startswith("Input."):
                    value = typed.get(node["id"], node.get("value", ""))
                    if node.get("isRequired") and value in ("", None):
                        raise Blocked(node["id"])
                    inputs[node["id"]] = value
    unknown = set(typed) - set(inputs)
    assert not unknown, f"typed into inputs this button does not send: {unknown}"
    assert action["fallback"]["data"] == action["data"]
    return Verb(action["verb"]), {**inputs, **action["data"]}
