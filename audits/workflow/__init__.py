"""The audit workflow: pure functions from (audit, command, context) to an outcome.

Nothing here reads a clock, a file or a database. The application layer
loads the audit, calls `apply`, and commits the new state, the changes (the
audit trail), the notices (the outbox) and the deadlines (the timers) in one
transaction.

One module per stage: `allocation`, `answering` (the auditor, the family's
feedback, the checklist, the IRO/CP chair, submitting), `moderation`,
`closing` (the QA panel, closing, the practitioner's feedback), `concern`
(a case of concern), `actions` (agreed actions) and `administration`
(reassigning, extending deadlines). `registry` says which carries out each
command; `notices` holds what people are told, one dataclass per kind.
"""

from audits.workflow._recorder import SYSTEM, Change, Context, Outcome, roles_of
from audits.workflow.allocation import Allocation, allocate, check_allocation
from audits.workflow.answering import (
    FEEDBACK_SOURCES,
    Gap,
    Missing,
    missing_for_submission,
    missing_in_section,
    missing_items,
    unmet_limiting_judgements,
)
from audits.workflow.notices import AnyNotice, Notice, NoticeKind, notice_from_row, payload_of
from audits.workflow.registry import HANDLERS, apply

__all__ = [
    "FEEDBACK_SOURCES",
    "HANDLERS",
    "SYSTEM",
    "Allocation",
    "AnyNotice",
    "Change",
    "Context",
    "Gap",
    "Missing",
    "Notice",
    "NoticeKind",
    "Outcome",
    "allocate",
    "apply",
    "check_allocation",
    "missing_for_submission",
    "missing_in_section",
    "missing_items",
    "notice_from_row",
    "payload_of",
    "roles_of",
    "unmet_limiting_judgements",
]
