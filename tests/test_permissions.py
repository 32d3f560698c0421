"""Every command checks the actor's role on that audit; a refusal changes nothing."""

from __future__ import annotations

import pytest

from audits import commands as c
from audits.errors import AuditError, Incomplete, InvalidInput, NotAllowed, NotFound, WrongState
from audits.grades import Grade
from store import audit_rows, outbox_queue, trail
from tests.support.allocations import allocation, rows
from tests.support.factories import advance
from tests.support.people import HEAD_OF_SERVICE, QA_MANAGER, QA_OFFICER, STRANGER, people

ONE = people(1)  # the people of the audit under test
AUDITOR, SW, IRO, MOD, TM, SM = (
    ONE.auditor,
    ONE.social_worker,
    ONE.iro,
    ONE.moderator,
    ONE.team_manager,
    ONE.service_manager,
)
TWO = people(2)  # the people of another audit
OTHER_AUDITOR = TWO.auditor


async def _at(service, stage: str) -> str:
    """An audit brought to `stage` through the real use cases, beside another audit (of
    OTHER_AUDITOR); returns its id. "concern": submitted Inadequate; "panel": agreed by
    the panel, its action completed."""
    [first, _other] = await service.allocate(
        QA_MANAGER, rows(allocation("1000001"), allocation("1000002", n=2))
    )
    audit = await advance(
        service,
        first.audit,
        {"concern": "submitted", "panel": "panel_agreed"}.get(stage, stage),
        grade=Grade.INADEQUATE if stage == "concern" else Grade.GOOD,
        action="Update the chronology with recent visits and meetings",
    )
    if stage == "panel":
        await service.execute(SW, audit.id, c.CompleteAction(1, "Chronology updated"))
    return audit.id


CASES = [
    (
        "allocated",
        c.AnswerSection("checks", values={"ehcp": "no"}),
        AUDITOR,
        [SW, MOD, QA_MANAGER, STRANGER, OTHER_AUDITOR],
    ),
    (
        "allocated",
        c.RecordFamilyFeedback(("parent",), "Happy with support"),
        AUDITOR,
        [SW, IRO, STRANGER],
    ),
    (
        "allocated",
        c.AddIroComments("My view"),
        IRO,
        [AUDITOR, SW, STRANGER, TWO.iro],
    ),
    (
        "allocated",
        c.Reassign("auditor", "new.auditor@council.example", "leave"),
        QA_OFFICER,
        [AUDITOR, SM, STRANGER],
    ),
    (
        "allocated",
        c.ExtendDeadline("audit_completion", "2026-12-18", "sickness"),
        QA_MANAGER,
        [AUDITOR, TM, STRANGER],
    ),
    (
        "submitted",
        c.ModerateSection("risk", agree=True),
        MOD,
        [AUDITOR, QA_MANAGER, STRANGER, TWO.moderator],
    ),
    ("moderated", c.RecordPanel("agreed", ""), QA_MANAGER, [MOD, AUDITOR, SM, STRANGER]),
    ("panel", c.CloseAudit(), QA_OFFICER, [MOD, AUDITOR, STRANGER]),
    ("panel", c.SignOffAction(1), TM, [SW, AUDITOR, MOD, STRANGER]),
    ("submitted", c.CompleteAction(1, "Done on Monday"), SW, [MOD, IRO, STRANGER]),
    (
        "concern",
        c.ConfirmPlan("Strategy meeting on Friday", TM),
        SM,
        [TM, AUDITOR, MOD, STRANGER, "hana.other@council.example"],
    ),
    ("concern", c.ConfirmPlan("Strategy meeting on Friday", TM), HEAD_OF_SERVICE, [QA_OFFICER]),
]


@pytest.mark.parametrize(
    ("stage", "command", "allowed", "refused"),
    CASES,
    ids=[f"{type(x[1]).__name__}-{x[0]}" for x in CASES],
)
async def test_only_the_role_holder_may_act(service, stage, command, allowed, refused):
    audit_id = await _at(service, stage)
    before = await _snapshot(service, audit_id)
    for who in refused:
        with pytest.raises(NotAllowed):
            await service.execute(who, audit_id, command)
        assert await _snapshot(service, audit_id) == before, who
    await service.execute(allowed, audit_id, command)
    assert await _snapshot(service, audit_id) != before


async def _snapshot(service, audit_id: str):
    async with service.db.reading() as conn:
        return (
            await audit_rows.version_of(conn, audit_id),
            len(await trail.audit_history(conn, audit_id)),
            len(await outbox_queue.outbox_rows(conn, audit_id)),
        )


BAD_INPUT = [
    ("allocated", c.AnswerSection("risk", grade="Excellent"), InvalidInput, "not a grade"),
    (
        "allocated",
        c.AnswerSection("risk", values={"colour": "blue"}),
        InvalidInput,
        "has no question 'colour'",
    ),
    (
        "allocated",
        c.AnswerSection("section-99", grade="good"),
        InvalidInput,
        "has no section 'section-99'",
    ),
    ("allocated", c.AnswerSection("checks", grade="good"), InvalidInput, "takes no grade"),
    (
        "allocated",
        c.AnswerSection("checks", values={"ehcp": "maybe"}),
        InvalidInput,
        "answer YES / NO",
    ),
    (
        "allocated",
        c.AnswerSection("about", values={"child_id": "999"}),
        InvalidInput,
        "comes from the allocation",
    ),
    (
        "allocated",
        c.AnswerSection("about", values={"audit_date": "31/02/2026"}),
        InvalidInput,
        "Audit date",
    ),
    ("allocated", c.AnswerSection("risk", evidence="x" * 20_001), InvalidInput, "too long"),
    ("allocated", c.RecordFamilyFeedback(()), InvalidInput, "either a summary"),
    ("allocated", c.RecordFamilyFeedback(("uncle",), "Fine"), InvalidInput, "unknown uncle"),
    ("allocated", c.AddAction("Do it", SW, "2026-11-30"), InvalidInput, "SMART"),
    (
        "allocated",
        c.AddAction("Update the plan with the family", "Sam", "2026-11-30"),
        InvalidInput,
        "not an e-mail",
    ),
    (
        "allocated",
        c.AddAction("Update the plan with the family", SW, "2026-10-01"),
        InvalidInput,
        "in the past",
    ),
    ("allocated", c.Submit(), Incomplete, "Family feedback"),
    ("allocated", c.ModerateSection("risk", agree=True), WrongState, "not waiting for moderation"),
    ("allocated", c.CompleteAction(7, "done"), NotFound, "no action 7"),
    ("allocated", c.ExtendDeadline("moderation", "2026-12-01", "x"), NotFound, "no open deadline"),
    ("allocated", c.ExtendDeadline("audit_completion", "2026-10-01", "x"), InvalidInput, "future"),
    ("allocated", c.Reassign("cook", "a@council.example", "x"), InvalidInput, "not a role"),
    ("allocated", c.ConfirmPlan("A plan", TM), WrongState, "not a case of concern"),
    ("submitted", c.AnswerSection("risk", grade="good"), WrongState, "can no longer be changed"),
    (
        "submitted",
        c.ModerateSection("final-judgement", agree=True),
        InvalidInput,
        "overall judgement",
    ),
    ("submitted", c.CloseAudit(), WrongState, "only an audit the panel has agreed"),
    ("moderated", c.RecordPanel("maybe", ""), InvalidInput, "'agreed' or 'returned'"),
]


@pytest.mark.parametrize(
    ("stage", "command", "error", "words"),
    BAD_INPUT,
    ids=[f"{type(x[1]).__name__}-{x[3][:20]}" for x in BAD_INPUT],
)
async def test_bad_input_gets_a_clear_message_and_changes_nothing(
    service, stage, command, error, words
):
    audit_id = await _at(service, stage)
    before = await _snapshot(service, audit_id)
    actor = {
        c.ModerateSection: MOD,
        c.CompleteAction: SW,
        c.ExtendDeadline: QA_MANAGER,
        c.Reassign: QA_MANAGER,
        c.ConfirmPlan: SM,
        c.CloseAudit: QA_MANAGER,
        c.RecordPanel: QA_MANAGER,
    }.get(type(command), AUDITOR)
    with pytest.raises(error, match=words):
        await service.execute(actor, audit_id, command)
    assert await _snapshot(service, audit_id) == before


async def test_unknown_audit(service):
    with pytest.raises(NotFound, match="no audit 202611-999"):
        await service.execute(AUDITOR, "202611-999", c.Submit())
    with pytest.raises(AuditError):
        await service.get("nope")
