"""What people can ask the workflow to do. Data only: `workflow.apply` carries them out.

Card data and CLI arguments become these; every field is untrusted until the
workflow has checked it against the template, the policy and the actor's role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from audits.model import PanelOutcome
from audits.roles import Role


@dataclass(frozen=True)
class RecordFamilyFeedback:
    sought_from: tuple[str, ...] = ()
    summary: str | None = None
    not_sought_reason: str | None = None


@dataclass(frozen=True)
class AnswerSection:
    """Fields left as None are not changed; an empty string clears a text."""

    section: str
    grade: str | None = None
    evidence: str | None = None
    impact: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AddIroComments:
    text: str


@dataclass(frozen=True)
class AddAction:
    text: str
    owner: str
    due: date | str


@dataclass(frozen=True)
class RemoveAction:
    number: int


@dataclass(frozen=True)
class Submit:
    grade_reason: str | None = None


@dataclass(frozen=True)
class ModerateSection:
    section: str
    agree: bool
    grade: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CompleteModeration:
    grade: str
    evidence: str
    impact: str
    grade_reason: str | None = None


@dataclass(frozen=True)
class RecordPanel:
    outcome: PanelOutcome | str
    notes: str = ""


@dataclass(frozen=True)
class CloseAudit:
    pass


@dataclass(frozen=True)
class ConfirmPlan:
    plan: str
    owner: str


@dataclass(frozen=True)
class RecordReaudit:
    grade: str
    findings: str
    # Who re-audited, when another records it (Bristol: the QA SW logs the 2nd auditor's).
    auditor: str | None = None


@dataclass(frozen=True)
class CloseCaseOfConcern:
    note: str


@dataclass(frozen=True)
class CompleteAction:
    number: int
    evidence: str


@dataclass(frozen=True)
class SignOffAction:
    number: int


@dataclass(frozen=True)
class ReturnAction:
    number: int
    reason: str


@dataclass(frozen=True)
class Reassign:
    role: Role | str
    person: str
    reason: str


@dataclass(frozen=True)
class ExtendDeadline:
    step: str
    until: date | datetime | str
    reason: str


@dataclass(frozen=True)
class CompleteChecklist:
    """The practitioner's answers to the template's pre-audit checklist."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GivePractitionerFeedback:
    """The allocated social worker's feedback on the audit (Bristol: within 10 working days):
    an answer to each of the staff feedback questions (`STAFF_FEEDBACK`), or one text."""

    text: str = ""
    answers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewActions:
    """The service manager's review of the agreed actions, added as a case direction
    (Bristol: "reviewed by the Service Manager within 1 month")."""

    update: str


Command = (
    RecordFamilyFeedback
    | AnswerSection
    | AddIroComments
    | AddAction
    | RemoveAction
    | Submit
    | ModerateSection
    | CompleteModeration
    | RecordPanel
    | CloseAudit
    | ConfirmPlan
    | RecordReaudit
    | CloseCaseOfConcern
    | CompleteAction
    | SignOffAction
    | ReturnAction
    | Reassign
    | ExtendDeadline
    | CompleteChecklist
    | GivePractitionerFeedback
    | ReviewActions
)
