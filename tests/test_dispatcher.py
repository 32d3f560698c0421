"""The outbox dispatcher: what is retried, for how long, and what is given up."""

from __future__ import annotations

from datetime import timedelta

from application.people import keep_conversation
from audits.workflow import SYSTEM
from scheduling.dispatcher import Dispatcher, GiveUp, RetryLater, RetryPolicy
from store import outbox_queue
from store.outbox_queue import OutboxStatus
from tests.support.allocations import allocation, rows
from tests.support.teams import object_id


async def _run(service, clock, sender, rounds: int) -> dict[str, object]:
    dispatcher = Dispatcher(
        service.db,
        clock,
        {"teams": sender},
        worker="t",
        policy=RetryPolicy(max_attempts=3, max_throttled_attempts=8),
    )
    for _ in range(rounds):
        await dispatcher.run_once()
        clock.advance(timedelta(hours=1))
    async with service.db.reading() as conn:
        found = await outbox_queue.outbox_rows(conn)
    return {"status": {r.status for r in found}, "attempts": max(r.attempts for r in found)}


async def test_failures_are_given_up_after_a_few_attempts(service, clock):
    await service.allocate(SYSTEM, rows(allocation()))

    async def broken(row):
        raise RuntimeError("connection reset")

    assert await _run(service, clock, broken, 6) == {"status": {OutboxStatus.DEAD}, "attempts": 3}


async def test_being_told_to_wait_has_a_larger_budget(service, clock):
    await service.allocate(SYSTEM, rows(allocation()))

    async def throttled(row):
        raise RetryLater("429", after=1.0)

    assert await _run(service, clock, throttled, 6) == {
        "status": {OutboxStatus.PENDING},
        "attempts": 6,
    }
    assert await _run(service, clock, throttled, 6) == {
        "status": {OutboxStatus.DEAD},
        "attempts": 8,
    }


async def test_a_rejected_request_is_dead_at_once(service, clock):
    await service.allocate(SYSTEM, rows(allocation()))

    async def rejected(row):
        raise GiveUp("400 invalid request")

    assert await _run(service, clock, rejected, 2) == {"status": {OutboxStatus.DEAD}, "attempts": 1}


async def test_opening_the_chat_while_a_card_waits_for_it_sends_the_card_at_once(service, clock):
    """The install race: the runner finds no conversation for someone just as they open
    the chat. Their conversation is stored (which releases their waiting cards) while the
    sender is still out; the "no conversation yet, try in 6 hours" must not overwrite
    that release, or their first card, and every card behind it, waits for hours."""
    await service.allocate(SYSTEM, rows(allocation()))
    async with service.db.reading() as conn:
        [first, *_] = [r for r in await outbox_queue.outbox_rows(conn) if r.channel == "teams"]
    person, sent = first.recipient, []

    async def sender(row):  # the Bot Connector's side of it
        if row.recipient == person and not sent:
            async with service.db.transaction() as conn:  # meanwhile: they open the chat
                await keep_conversation(conn, object_id(person), person, {"chat": 1}, clock.now())
            sent.append(None)
            raise RetryLater("no Teams conversation with this person yet", 6 * 3600.0)
        sent.append(row.key)

    dispatcher = Dispatcher(service.db, clock, {"teams": sender}, worker="t")
    await dispatcher.run_once()
    async with service.db.reading() as conn:
        again = next(r for r in await outbox_queue.outbox_rows(conn) if r.id == first.id)
    assert again.status is OutboxStatus.PENDING and again.available_at <= clock.now()
    await dispatcher.drain()  # no time passes: it goes now
    assert first.key in sent
