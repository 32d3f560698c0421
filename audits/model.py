"""The state of one audit: what was answered, by whom, when, and what is due."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audits.grades import Grade
from audits.roles import Role
from audits.steps import DeadlineKey


class Status(StrEnum):
    ALLOCATED = "allocated"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"  # waiting for moderation
    MODERATED = "moderated"  # waiting for the QA panel
    RETURNED = "returned"  # the panel asked the auditor for more
    PANEL_AGREED = "panel_agreed"  # waiting for QA to close it
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.ALLOCATED: "Allocated",
    Status.IN_PROGRESS: "In progress",
    Status.SUBMITTED: "Waiting for moderation",
    Status.MODERATED: "Waiting for QA panel",
    Status.RETURNED: "Returned to auditor",
    Status.PANEL_AGREED: "Panel agreed, to close",
    Status.CLOSED: "Closed",
}

# The auditor may change answers only while the audit is with them.
AUDITOR_EDITABLE = (Status.ALLOCATED, Status.IN_PROGRESS, Status.RETURNED)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Participants(_Model):
    social_worker: str
    auditor: str
    iro: str
    moderator: str
    team_manager: str
    service_manager: str

    def of(self, role: Role) -> str | None:
        # Not getattr: for a role that is no field (QA), pydantic's __getattr__
        # builds an AttributeError, and roles are looked up on every turn.
        value = self.__dict__.get(role.value)
        return value if isinstance(value, str) else None

    def roles_of(self, who: str) -> list[Role]:
        return [r for r in Role if self.of(r) == who]


class SectionAnswer(_Model):
    grade: Grade | None = None
    evidence: str | None = None
    impact: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    updated_by: str | None = None
    updated_at: datetime | None = None


class FamilyFeedback(_Model):
    sought_from: list[str] = Field(default_factory=list)
    summary: str | None = None
    not_sought_reason: str | None = None
    recorded_by: str
    recorded_at: datetime


class IroComment(_Model):
    text: str
    by: str
    at: datetime
    late: bool


class SectionModeration(_Model):
    agreed: bool
    auditor_grade: Grade | None
    grade: Grade
    reason: str | None = None
    by: str
    at: datetime


class Moderation(_Model):
    sections: dict[str, SectionModeration] = Field(default_factory=dict)
    overall: Grade | None = None
    auditor_overall: Grade | None = None  # the auditor's overall grade the moderator saw
    evidence: str | None = None
    impact: str | None = None
    grade_reason: str | None = None
    completed_by: str | None = None
    completed_at: datetime | None = None


class PanelOutcome(StrEnum):
    AGREED = "agreed"
    RETURNED = "returned"


class PanelRecord(_Model):
    outcome: PanelOutcome
    notes: str
    by: str
    at: datetime


class ActionStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"  # owner says done, waiting for the manager
    SIGNED_OFF = "signed_off"


class ActionStage(StrEnum):
    AUDIT = "audit"  # section 13, agreed with the social worker
    MODERATION = "moderation"  # section 15, added by the moderator
    CASE_OF_CONCERN = "case_of_concern"


class AgreedAction(_Model):
    number: int
    stage: ActionStage
    text: str
    owner: str
    due: date
    status: ActionStatus = ActionStatus.OPEN
    created_by: str
    created_at: datetime
    evidence: str | None = None
    completed_by: str | None = None
    completed_at: datetime | None = None
    signed_off_by: str | None = None
    signed_off_at: datetime | None = None


class Extension(_Model):
    old_due: datetime
    new_due: datetime
    reason: str
    by: str
    at: datetime


class Deadline(_Model):
    step: DeadlineKey  # a fixed step, or an agreed action's ("action-3")
    owner: str
    role: Role
    started_at: datetime
    due_at: datetime
    done_at: datetime | None = None
    # Finished without the owner acting: the step was no longer needed.
    stopped: bool = False
    urgent: bool = False
    extensions: list[Extension] = Field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.done_at is None


class ReAudit(_Model):
    grade: Grade
    findings: str
    by: str
    at: datetime
    # Bristol's "2nd Auditor", when the person who records it is not the re-auditor.
    auditor: str | None = None


class CaseOfConcern(_Model):
    opened_at: datetime
    raised_by: Role  # auditor or moderator
    plan: str | None = None
    plan_owner: str | None = None
    plan_by: str | None = None
    plan_at: datetime | None = None
    reaudits: list[ReAudit] = Field(default_factory=list)
    closed_by: str | None = None
    closed_at: datetime | None = None
    closing_note: str | None = None


class Written(_Model):
    """Something one person wrote or answered once: the practitioner's feedback on the
    audit, or the pre-audit checklist."""

    text: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    by: str
    at: datetime


class Audit(_Model):
    id: str
    child_id: str
    cycle: str  # YYYY-MM, the month of the sample
    strand: str
    team: str
    template: str
    policy: str
    overall_section: str  # the template's section that holds the overall grade
    status: Status = Status.ALLOCATED
    participants: Participants
    allocated_by: str
    allocated_at: datetime
    answers: dict[str, SectionAnswer] = Field(default_factory=dict)
    family_feedback: FamilyFeedback | None = None
    iro_comments: list[IroComment] = Field(default_factory=list)
    grade_reason: str | None = None
    submitted_at: datetime | None = None
    submissions: int = 0
    moderation: Moderation | None = None
    panel: list[PanelRecord] = Field(default_factory=list)
    closed_at: datetime | None = None
    actions: list[AgreedAction] = Field(default_factory=list)
    case_of_concern: CaseOfConcern | None = None
    deadlines: dict[str, Deadline] = Field(default_factory=dict)
    checklist: Written | None = None  # the template's pre-audit checklist, answered
    practitioner_feedback: Written | None = None
    # The service manager's reviews of the agreed actions (Bristol), each a case direction.
    actions_reviews: list[Written] = Field(default_factory=list)

    @property
    def auditor_grade(self) -> Grade | None:
        """The auditor's overall grade (set on the overall section); None until answered."""
        overall = self._overall_answer()
        return overall.grade if overall else None

    @property
    def moderated_grade(self) -> Grade | None:
        return self.moderation.overall if self.moderation and self.moderation.completed_at else None

    @property
    def final_grade(self) -> Grade | None:
        return self.moderated_grade or self.auditor_grade

    def _overall_answer(self) -> SectionAnswer | None:
        return self.answers.get(self.overall_section)

    def action(self, number: int) -> AgreedAction | None:
        return next((a for a in self.actions if a.number == number), None)

    def people(self) -> set[str]:
        """Every address the audit names: its participants, the owners of its deadlines
        and of its actions, and who completed them."""
        found = {a for a in self.participants.model_dump().values() if isinstance(a, str)}
        found |= {d.owner for d in self.deadlines.values()}
        found |= {a.owner for a in self.actions} | {a.completed_by or "" for a in self.actions}
        found |= {c.by for c in self.iro_comments}
        if self.moderation is not None:
            found.add(self.moderation.completed_by or "")
        if self.case_of_concern is not None:
            coc = self.case_of_concern
            found |= {coc.plan_owner or "", coc.plan_by or ""}
        return found - {""}

    def next_deadline(self) -> Deadline | None:
        pending = [d for d in self.deadlines.values() if d.open]
        return min(pending, key=lambda d: d.due_at, default=None)

    def overdue(self, now: datetime) -> list[Deadline]:
        return [d for d in self.deadlines.values() if d.open and d.due_at < now]
