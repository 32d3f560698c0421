"""Where a person is in an audit: the card to show them, and the card after a save.

Pure: every answer is read from the stored audit, its template and policy, so a
card that came back with stale or forged data cannot lead anyone anywhere else.
"""

from __future__ import annotations

from application.views import AuditView
from audits.catalog import Catalog
from audits.grades import Grade
from audits.model import AUDITOR_EDITABLE, Audit, Status
from audits.roles import Role, StandingRoles
from audits.steps import StepId
from audits.templates import SectionKind, Template
from audits.workflow import roles_of
from cards.actions import Card


class Navigator:
    def __init__(self, catalog: Catalog, standing: StandingRoles | None = None) -> None:
        self.catalog = catalog
        self.standing = standing or StandingRoles()

    def view(
        self,
        card: Card,
        audit: Audit,
        *,
        section: str | None = None,
        action: int | None = None,
        field: str | None = None,
    ) -> AuditView:
        return AuditView(
            card,
            audit,
            self.catalog.template(audit.template),
            self.catalog.policy(audit.policy),
            section=section,
            action=action,
            field=field,
        )

    # ------------------------------------------------------------ where next

    def where(self, person: str, audit: Audit) -> AuditView:
        """The card for this person's own next step on this audit, or where it stands."""
        template = self.catalog.template(audit.template)
        roles = set(audit.participants.roles_of(person))
        if Role.AUDITOR in roles and audit.status in AUDITOR_EDITABLE:
            first = first_unanswered(audit, template)
            if first is None and audit.family_feedback is None:
                return self.view(Card.FAMILY_FEEDBACK, audit)
            return self.section_or_review(audit, first)
        if Role.MODERATOR in roles and audit.status is Status.SUBMITTED:
            return self.moderation_next(audit)
        if (
            audit.status is Status.MODERATED
            and self.catalog.policy(audit.policy).panel
            and roles_of(audit, person, self.standing) & {Role.PANEL, Role.QA_MANAGER}
        ):
            return self.view(Card.PANEL, audit)
        if Role.SOCIAL_WORKER in roles:
            if (
                template.checklist is not None
                and audit.checklist is None
                and audit.status in AUDITOR_EDITABLE
            ):
                return self.view(Card.CHECKLIST, audit)
            feedback = audit.deadlines.get("practitioner_feedback")
            if feedback is not None and feedback.open:
                return self.view(Card.FEEDBACK, audit)
        if Role.IRO in roles and audit.status is not Status.CLOSED:
            return self.view(Card.IRO_COMMENTS, audit)
        coc = audit.case_of_concern
        if (
            Role.SERVICE_MANAGER in roles
            and coc
            and coc.plan is None
            and coc.closed_at is None
            and StepId.COC_PLAN in self.catalog.policy(audit.policy).steps
        ):
            return self.view(Card.PLAN, audit)
        if self.reaudit_is_theirs(person, audit):
            return self.view(Card.REAUDIT, audit)
        review = audit.deadlines.get(StepId.ACTIONS_REVIEW)
        if review is not None and review.open and review.owner == person:
            return self.view(Card.ACTIONS_REVIEW, audit)
        for action in audit.actions:
            if action.owner == person and action.status.value == "open":
                return self.view(Card.ACTION, audit, action=action.number)
        closing = self.close_for(person, audit)
        if closing is not None:
            return closing
        return self.view(Card.STATUS, audit)

    def reaudit_is_theirs(self, person: str, audit: Audit) -> bool:
        """A moderated case of concern waiting for a re-audit (none yet, or the last still
        Inadequate) that is this person's: they own its deadline, or hold the step's
        role when the framework gives it no deadline (the YJS form)."""
        coc = audit.case_of_concern
        step = self.catalog.policy(audit.policy).step(StepId.REAUDIT)
        if step is None or coc is None or coc.closed_at is not None:
            return False
        if audit.moderated_grade is None:
            return False
        if coc.reaudits and coc.reaudits[-1].grade is not Grade.INADEQUATE:
            return False
        deadline = audit.deadlines.get(StepId.REAUDIT)
        if deadline is not None and deadline.open:
            return deadline.owner == person
        return step.actor in roles_of(audit, person, self.standing)

    def section_or_review(self, audit: Audit, section: str | None) -> AuditView:
        """The auditor's next card: that section, or (all answered) the review."""
        if section:
            return self.view(Card.SECTION, audit, section=section)
        return self.view(Card.REVIEW, audit)

    def after_section(self, audit: Audit, section_id: str) -> AuditView | None:
        """After "save and next": the section after it, or the review."""
        if audit.status not in AUDITOR_EDITABLE:
            return None
        return self.section_or_review(
            audit, section_after(self.catalog.template(audit.template), section_id)
        )

    def after_family_feedback(self, audit: Audit) -> AuditView | None:
        if audit.status not in AUDITOR_EDITABLE:
            return None
        return self.section_or_review(
            audit, first_unanswered(audit, self.catalog.template(audit.template))
        )

    def moderation_next(self, audit: Audit) -> AuditView:
        """The moderator's next section, or (all done) the overall judgement."""
        todo = to_moderate(audit, self.catalog.template(audit.template))
        if todo:
            return self.view(Card.MODERATION, audit, section=todo[0])
        return self.view(Card.MODERATION_SUMMARY, audit)

    def after_moderating(self, audit: Audit) -> AuditView | None:
        return self.moderation_next(audit) if audit.status is Status.SUBMITTED else None

    def close_for(self, person: str, audit: Audit) -> AuditView | None:
        """The close card, when closing the audit is this person's open step."""
        closure = audit.deadlines.get("closure")
        if closure is None or not closure.open or closure.owner != person:
            return None
        return self.view(Card.CLOSE, audit)


def first_unanswered(audit: Audit, template: Template) -> str | None:
    for section in template.sections:
        answer = audit.answers.get(section.id)
        if section.kind is SectionKind.GRADED and (answer is None or answer.grade is None):
            return section.id
        if section.kind is SectionKind.DETAILS and any(
            q.required
            and not q.prefill
            and not q.when
            and (answer is None or q.id not in answer.values)
            for q in section.questions
        ):
            return section.id
    return None


def section_after(template: Template, section_id: str) -> str | None:
    ids = [s.id for s in template.sections]
    if section_id not in ids:
        return None
    i = ids.index(section_id)
    return ids[i + 1] if i + 1 < len(ids) else None


def to_moderate(audit: Audit, template: Template) -> list[str]:
    done = audit.moderation.sections if audit.moderation else {}
    return [
        s.id
        for s in template.graded_sections
        if s.id != template.overall_section and s.id not in done
    ]
