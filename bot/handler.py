"""The bot's turn handling: who is speaking, what they asked, and the cards they get back.

Thin on purpose: an activity becomes a call of the application's route table
(`application.routes`), and its `Reply` becomes messages and cards. No decision
about audits is made here, and no database is opened here.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from msrest.serialization import Model
from opentelemetry.trace import Span, SpanKind

from application.routes import ACTIONS, answer_text
from application.services import Press, Services
from application.views import Reply, View, WelcomeView, people_in
from audits import telemetry
from bot.render import render
from cards import words

log = logging.getLogger(__name__)
CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"


class AuditBot(ActivityHandler):
    def __init__(self, app: Services, allowed_tenants: frozenset[str], adapter: Any) -> None:
        self.app = app
        self.allowed_tenants = allowed_tenants
        self.adapter = adapter  # botbuilder's CloudAdapter: turns come in and cards go out

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        with telemetry.span(
            telemetry.TURN,
            kind=SpanKind.SERVER,
            attributes={
                "auditbot.activity.type": str(activity.type or ""),
                "auditbot.activity.name": str(activity.name or "")[:64],
            },
        ) as span:
            await self._turn(turn_context, span)

    async def _turn(self, turn_context: TurnContext, span: Span) -> None:
        activity = turn_context.activity
        tenant = _tenant(activity)
        if self.allowed_tenants and tenant not in self.allowed_tenants:
            span.set_attribute(telemetry.OUTCOME, "tenant refused")
            log.warning("refused an activity from a tenant that is not allowed")
            if activity.type == ActivityTypes.invoke:
                await _invoke_answer(
                    turn_context,
                    403,
                    {"code": "Forbidden", "message": words.NOT_FOR_YOUR_ORG},
                )
            return
        object_id = _object_id(activity)
        if object_id:
            await self.app.people.remember(
                object_id,
                _reference_key(activity),
                lambda: TurnContext.get_conversation_reference(activity).serialize(),
            )
        await super().on_turn(turn_context)
        span.set_attribute(telemetry.OUTCOME, "answered")

    async def _person(self, turn_context: TurnContext) -> str | None:
        object_id = _object_id(turn_context.activity)
        return await self.app.people.who(object_id) if object_id else None

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._send(turn_context, WelcomeView())

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Nothing: installing the app, Teams sends this and an `installationUpdate`; the
        welcome answers the installation, so it comes once, not twice."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        person = await self._person(turn_context)
        if person is None:
            await turn_context.send_activity(words.WHO_ARE_YOU)
            return
        key = _card_key(activity)
        if isinstance(activity.value, dict) and activity.value.get("verb"):
            # An Action.Submit: the card pressed is updated in place.
            reply = await ACTIONS.dispatch(self.app, Press(person, activity.value, key))
            if reply.replace is not None and activity.reply_to_id:
                update = await self._card_message(reply.replace)
                update.id = activity.reply_to_id
                await turn_context.update_activity(update)
            if reply.text:
                await turn_context.send_activity(reply.text)
            if reply.follow_up is not None:
                await self._send(turn_context, reply.follow_up)
            return
        reply = await answer_text(self.app, person, activity.text or "", key)
        if reply.text:
            await turn_context.send_activity(reply.text)
        for view in (reply.replace, reply.follow_up):
            if view is not None:
                await self._send(turn_context, view)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name == "healthCheck":  # botbuilder's own answer
            return await super().on_invoke_activity(turn_context)
        if activity.name != "adaptiveCard/action":
            return _other_invoke(activity.name or "")
        person = await self._person(turn_context)
        if person is None:
            return _message(words.WHO_ARE_YOU)
        press = Press(person, _execute_data(activity.value), _card_key(activity))
        reply: Reply = await ACTIONS.dispatch(self.app, press)
        if reply.follow_up is not None:
            await self._send(turn_context, reply.follow_up)
        if reply.replace is not None:
            return _invoke(CARD, await self._render(reply.replace))
        # Nothing replaces the card when it only opened another one below it.
        return _message(reply.text or (words.OPENED if reply.follow_up else words.SAVED))

    async def _render(self, view: View) -> dict[str, Any]:
        """The view's card, with the people on it shown by name."""
        return render(view, await self.app.people.names(people_in(view)))

    async def _card_message(self, view: View) -> Activity:
        return MessageFactory.attachment(CardFactory.adaptive_card(await self._render(view)))

    async def _send(self, turn_context: TurnContext, view: View) -> None:
        await turn_context.send_activity(await self._card_message(view))


def _object_id(activity: Activity) -> str | None:
    return getattr(activity.from_property, "aad_object_id", None) or None


def _execute_data(value: Any) -> dict[str, Any]:
    """The data of an Action.Execute (untrusted: any shape may arrive)."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        return {}
    data = action.get("data")
    found: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    found.setdefault("verb", action.get("verb"))
    return found


def _tenant(activity: Activity) -> str | None:
    """`channelData.tenant.id`, where Teams names the tenant on every activity. Not the
    conversation's `tenantId`: botbuilder reads that field as `tenantID` and so never
    sees it, and an activity that names its tenant only there is not as Teams sends it."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") if isinstance(channel_data.get("tenant"), dict) else {}
    found = tenant.get("id") if tenant else None
    return str(found) if found else None


def _card_key(activity: Activity) -> str | None:
    """One key per card: a second press of the same card, or a redelivery, is applied once."""
    if activity.reply_to_id:
        return f"card:{activity.conversation.id if activity.conversation else ''}:{activity.reply_to_id}"
    return f"activity:{activity.id}" if activity.id else None


def _reference_key(activity: Activity) -> tuple[Any, ...]:
    """What the conversation reference stored for the sender holds, but the activity id."""
    user, bot, chat = activity.from_property, activity.recipient, activity.conversation
    return (
        activity.channel_id,
        activity.service_url,
        activity.locale,
        *((a.id, a.name, a.aad_object_id, a.role) if a else (None,) * 4 for a in (user, bot)),
        *((chat.id, chat.tenant_id, chat.conversation_type, chat.is_group) if chat else ()),
    )


class _InvokeBody(Model):
    """The answer to `adaptiveCard/action`: a card, a message or an error.

    botbuilder serialises invoke bodies through msrest, and the schema's own
    AdaptiveCardInvokeResponse types `value` as a dict, which refuses a message.
    """

    _attribute_map = {  # noqa: RUF012 - msrest's convention
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, status_code: int, type: str, value: Any) -> None:
        super().__init__()
        self.status_code, self.type, self.value = status_code, type, value


def _invoke(kind: str, value: Any, status: int = 200) -> InvokeResponse:
    return InvokeResponse(status=200, body=_InvokeBody(status, kind, value))


class _Shown(Model):
    """The answer to a dialog (`task/*`) or a message extension (`composeExtension/*`)
    invoke: one message shown in it. msrest serialises invoke bodies, so a Model."""

    _attribute_map = {  # noqa: RUF012 - msrest's convention
        "task": {"key": "task", "type": "object"},
        "compose_extension": {"key": "composeExtension", "type": "object"},
    }

    def __init__(self, task: Any = None, compose_extension: Any = None) -> None:
        super().__init__()
        self.task, self.compose_extension = task, compose_extension


def _other_invoke(name: str) -> InvokeResponse:
    """Any other invoke Teams may send (a dialog, a message extension, sign-in,
    configuration): auditbot offers none, so it answers politely in the shape that
    invoke expects, never with botbuilder's 501."""
    log.info("answered an invoke auditbot does not offer: %s", name[:60])
    if name.startswith("task/"):
        task = {"type": "message", "value": words.NOT_OFFERED}
        return InvokeResponse(status=200, body=_Shown(task=task))
    if name.startswith("composeExtension/"):
        result = {"type": "message", "text": words.NOT_OFFERED}
        return InvokeResponse(status=200, body=_Shown(compose_extension=result))
    return InvokeResponse(status=200)  # sign-in, config, tab and the rest: acknowledged


def _message(text: str) -> InvokeResponse:
    return _invoke(MESSAGE, text)


async def _invoke_answer(turn_context: TurnContext, status: int, error: dict[str, str]) -> None:
    await turn_context.send_activity(
        Activity(
            type=ActivityTypes.invoke_response,
            value=_invoke("application/vnd.microsoft.error", error, status),
        )
    )
