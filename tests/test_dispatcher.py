"""The outbox dispatcher: what is retried, for how long, and what is given up."""

from __future__ import annotations

from datetime import timedelta

from audits.workflow import SYSTEM
from scheduling.dispatcher import Dispatcher, GiveUp, RetryLater, RetryPolicy
from store import outbox_queue
from store.outbox_queue import OutboxStatus
from tests.support.allocations import allocation, rows


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
