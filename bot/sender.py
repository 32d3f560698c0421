"""Proactive cards: outbox rows of the `teams` channel, sent into each person's chat.

Paced per conversation (Teams allows 7 messages a second in one thread) and
per app (50 a second per tenant); a 429 from the connector waits for its
Retry-After through the outbox, holding no worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from aiolimiter import AsyncLimiter
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference
from botframework.connector.models import ErrorResponseException

from application.currency import still_applies
from audits.errors import NotFound
from audits.workdays import as_utc
from audits.workflow import NoticeKind, notice_from_row
from audits.workflow.notices import Notice
from cards import Built
from cards.actions import Verb
from cards.notices import card_of
from scheduling.dispatcher import Dropped, GiveUp, RetryLater
from store import audit_rows, contacts, typed_answers
from store.db import Database
from store.outbox_queue import OutboxRow

log = logging.getLogger(__name__)
NO_CONVERSATION_WAIT = 6 * 3600.0
# A send the connector has not answered by then is retried (it may arrive twice).
SEND_TIMEOUT = 30.0
# A card older than this when it is sent has waited, and is checked before it goes.
HELD_AFTER = 60.0
# Notices whose card asks a question that may be answered by typing, and its verb.
TYPED_ANSWERS = {
    NoticeKind.IRO_COMMENTS_REQUESTED: Verb.IRO_COMMENTS.value
}  # re-checked sooner: a new conversation releases the row


def _held(row: OutboxRow) -> bool:
    """Whether a card has waited: tried before (no chat yet, a retry), or queued behind
    another card to the same person for a while. Such a card is checked against the
    audit before it goes; a fresh one is sent as it is."""
    waited = datetime.now(UTC) - as_utc(row.created_at)
    return row.attempts > 1 or waited.total_seconds() > HELD_AFTER


def _paced(per_second: float) -> AsyncLimiter:
    """At most `per_second` in any one-second window, as Teams counts them.

    A leaky bucket of capacity b draining at r a second lets through b + r in a
    second (a full bucket, then the drip), so b + r stays at the limit: a small
    burst, and the rest evenly spaced. A bucket as big as the limit would let
    twice the limit through at the start and be answered with 429s."""
    burst = max(1.0, per_second * 0.04)
    rate = max(per_second - burst, 1.0)
    return AsyncLimiter(burst, burst / rate)


class TeamsSender:
    def __init__(
        self,
        adapter: CloudAdapter,
        db: Database,
        app_id: str | None,
        per_conversation: float = 7,
        per_app: float = 50,
        timeout: float = SEND_TIMEOUT,
    ) -> None:
        self.adapter, self.db, self.app_id = adapter, db, app_id or ""
        self.timeout = timeout
        self._app = _paced(per_app)
        self._threads: dict[str, AsyncLimiter] = defaultdict(lambda: _paced(per_conversation))

    async def __call__(self, row: OutboxRow) -> None:
        async with self.db.reading() as conn:
            reference = await contacts.conversation_of(conn, row.recipient)
            # The people a notice names (the owner of a late step) are shown by name.
            names = await contacts.names_of(conn, _addresses(row.payload))
        if reference is None:
            raise RetryLater("no Teams conversation with this person yet", NO_CONVERSATION_WAIT)
        try:
            notice = notice_from_row(row.kind, row.payload)
            card = card_of(notice, names)
        except (KeyError, ValueError) as exc:
            raise GiveUp(f"no card for '{row.kind}': {exc}") from exc
        if _held(row) and not await self._still_applies(notice):
            raise Dropped("held, and no longer applies to the audit as it is now")
        ref = ConversationReference().deserialize(reference)
        async with self._threads[ref.conversation.id], self._app:
            await self.send_card(ref, card)
        if notice.kind in TYPED_ANSWERS:
            # The card asks for comments: a plain reply in the chat will do too.
            async with self.db.transaction() as conn:
                await typed_answers.await_text(
                    conn,
                    row.recipient,
                    notice.audit_id,
                    TYPED_ANSWERS[notice.kind],
                    datetime.now(UTC),
                )

    async def _still_applies(self, notice: Notice) -> bool:
        """A card that waited (for the person's chat, or a retry) is checked against the
        audit as it is now: one asking for what is done already is not sent."""
        try:
            async with self.db.reading() as conn:
                audit = await audit_rows.load_audit(conn, notice.audit_id)
        except NotFound:
            return False
        return still_applies(notice, audit)

    async def send_card(self, ref: ConversationReference, card: dict[str, Any]) -> None:
        """Sends one card; returns only when the Bot Connector took it.

        Every failure is raised to the outbox, never left to the adapter's turn-error
        handler, which would swallow it and let the row count as sent: the connector
        refusing the connection or not answering, the outbound token not fetched,
        Teams' own refusals."""
        failed: list[Exception] = []

        async def send(turn: TurnContext) -> None:
            try:
                attachment = CardFactory.adaptive_card(Built(card))
                await turn.send_activity(MessageFactory.attachment(attachment))
            except Exception as exc:  # every failure goes back to the outbox
                failed.append(exc)

        try:
            async with asyncio.timeout(self.timeout):
                await self.adapter.continue_conversation(ref, send, self.app_id)
        except TimeoutError as late:
            raise RetryLater(f"Teams did not answer within {self.timeout:g} s") from late
        if not failed:
            return
        error = failed[0]
        if isinstance(error, ErrorResponseException):
            status = getattr(error.response, "status_code", None)
            if status == 429:
                after = error.response.headers.get("Retry-After") if error.response else None
                raise RetryLater("Teams asked us to slow down", float(after or 1)) from error
            if status in (400, 403, 404):
                raise GiveUp(f"Teams refused the message ({status})") from error
        raise error


def _addresses(payload: Any) -> list[str]:
    """The e-mail addresses among a notice's values."""
    if isinstance(payload, dict):
        return [a for v in payload.values() for a in _addresses(v)]
    if isinstance(payload, list):
        return [a for v in payload for a in _addresses(v)]
    return [payload] if isinstance(payload, str) and "@" in payload else []
