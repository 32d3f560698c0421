"""Whether a held notice still says something true (application.currency)."""

from __future__ import annotations

from application.currency import still_applies
from audits import commands as c
from audits.grades import Grade
from audits.roles import Role
from audits.steps import StepId
from audits.workflow import notices as n
from tests.support.factories import make_audit
from tests.support.people import QA_MANAGER


def _about(audit, cls, **fields):
    return cls(to="someone@council.example", audit_id=audit.id, child_id=audit.child_id, **fields)


def _nudge(audit, step, due):
    return _about(audit, n.Nudged, step=step, due=due, at=due, overdue=False)


async def test_requests_go_only_while_what_they_ask_for_waits(service):
    audit = await make_audit(service, "allocated")
    due = audit.deadlines[StepId.AUDIT].due_at
    assert still_applies(_about(audit, n.Allocated, role=Role.AUDITOR, due=due), audit)
    assert still_applies(_about(audit, n.IroCommentsRequested, due=due), audit)
    assert still_applies(_nudge(audit, StepId.AUDIT, due), audit)
    assert not still_applies(_about(audit, n.ReadyForPanel), audit)
    ready = _about(audit, n.ReadyForModeration, due=due, inadequate_sections=(), grade=Grade.GOOD)
    assert not still_applies(ready, audit)


async def test_a_closed_audit_asks_nothing_more_but_its_news_still_goes(service):
    audit = await make_audit(service, "closed", iro_comments="On track.")
    due = audit.deadlines[StepId.AUDIT].due_at
    assert not still_applies(_about(audit, n.Allocated, role=Role.AUDITOR, due=due), audit)
    assert not still_applies(_about(audit, n.IroCommentsRequested, due=due), audit)
    assert not still_applies(_nudge(audit, StepId.MODERATION, due), audit)
    closing = _about(audit, n.ReadyToClose, grade=Grade.GOOD, due=due, panel=True)
    assert not still_applies(closing, audit)
    news = _about(audit, n.Closed, role=Role.AUDITOR, grade=Grade.GOOD)
    assert still_applies(news, audit)  # it is still true


async def test_a_re_audit_request_goes_only_while_the_case_waits_for_one(service):
    action = "Hold a strategy discussion this week with the family"
    audit = await make_audit(service, "moderated", grade=Grade.INADEQUATE, action=action)
    asked = _about(audit, n.ReauditRequested, due=audit.deadlines[StepId.REAUDIT].due_at)
    assert still_applies(asked, audit)
    still = c.RecordReaudit("inadequate", "No change yet")
    audit = (await service.execute(QA_MANAGER, audit.id, still)).audit
    assert still_applies(asked, audit)  # still Inadequate: another re-audit is owed
    better = c.RecordReaudit("requires_improvement", "Plan followed")
    audit = (await service.execute(QA_MANAGER, audit.id, better)).audit
    assert not still_applies(asked, audit)
