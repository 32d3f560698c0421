"""Whether a notice still says something true: a card held back (the person had not
opened the chat yet, or Teams refused it for a while) is checked against the audit as
it is now before it goes, so nobody is asked to do what is done already.

Pure: the notice and the audit as stored in, yes or no out. Notices that only tell
(an audit closed, comments added, a grade agreed) stay true and always go; those that
ask for something go only while it is still waiting.
"""

from __future__ import annotations

from audits.grades import Grade
from audits.model import Audit, Status
from audits.steps import StepId
from audits.workflow.notices import (
    Allocated,
    ChecklistRequested,
    DeadlineMoved,
    Escalated,
    FeedbackRequested,
    IroCommentsRequested,
    Notice,
    Nudged,
    ReadyForModeration,
    ReadyForPanel,
    ReadyToClose,
    ReauditRequested,
    Returned,
)


def still_applies(notice: Notice, audit: Audit) -> bool:
    """False when what the notice asks for is no longer waiting on this audit."""
    match notice:
        case Allocated():
            return audit.status is not Status.CLOSED
        case IroCommentsRequested():
            return _open(audit, StepId.IRO_COMMENTS)
        case ChecklistRequested():
            return audit.checklist is None and audit.status is not Status.CLOSED
        case ReadyForModeration():
            return audit.status is Status.SUBMITTED
        case ReadyForPanel():
            return audit.status is Status.MODERATED
        case ReadyToClose():
            return audit.status is Status.PANEL_AGREED or _open(audit, StepId.CLOSURE)
        case Returned():
            return audit.status is Status.RETURNED
        case ReauditRequested():
            coc = audit.case_of_concern
            waiting = coc is not None and coc.closed_at is None
            return waiting and not (
                coc and coc.reaudits and coc.reaudits[-1].grade is not Grade.INADEQUATE
            )
        case FeedbackRequested():
            return _open(audit, StepId.PRACTITIONER_FEEDBACK)
        case Nudged() | Escalated() | DeadlineMoved():
            return _open(audit, notice.step)
    return True


def _open(audit: Audit, step: str) -> bool:
    deadline = audit.deadlines.get(step)
    return deadline is not None and deadline.open
