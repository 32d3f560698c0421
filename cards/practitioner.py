"""The practitioner's own cards: the pre-audit checklist and their feedback on the audit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from audits.grades import Grade
from audits.model import AUDITOR_EDITABLE, Audit
from audits.policies import StepId
from audits.templates import Template
from audits.workflow.closing import STAFF_FEEDBACK
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button


def checklist_card(audit: Audit, template: Template) -> dict[str, Any]:
    """The template's pre-audit checklist, pre-filled with what was saved; read-only once
    the audit has been submitted."""
    checklist = template.checklist
    if checklist is None:
        raise ValueError(f"'{template.name}' has no checklist")
    saved = audit.checklist.values if audit.checklist else {}
    body: list[k.Element] = [k.heading(checklist.title), p.about(audit.id, audit.child_id)]
    if audit.status not in AUDITOR_EDITABLE:
        for q in checklist.questions:
            body.append(k.fact(q.text.strip(), p.display(q, saved.get(q.id))))
        return k.card(body, [])
    body.append(k.text(checklist.guidance or words.CHECKLIST_INTRO))
    for q in checklist.questions:
        body += p.question_input(q, saved.get(q.id))
    return k.card(body, [button(words.CHECKLIST_SAVE, Verb.CHECKLIST, audit.id, positive=True)])


def checklist_requested(
    audit_id: str, child_id: str, title: str, due: datetime | None
) -> dict[str, Any]:
    body: list[k.Element] = [k.heading(title), *p.ids(audit_id, child_id)]
    if due is not None:
        body.append(k.fact(words.AUDIT_SESSION_BY, words.when(due)))
    body.append(k.text(words.CHECKLIST_INTRO))
    return k.card(
        body,
        [button(words.OPEN_CHECKLIST, Verb.OPEN_AUDIT, audit_id, card=Card.CHECKLIST)],
    )


def checklist_state(audit: Audit, template: Template) -> str | None:
    """For the auditor: whether the practitioner has done the checklist (None: no checklist)."""
    if template.checklist is None:
        return None
    state = words.CHECKLIST_DONE if audit.checklist else words.CHECKLIST_NOT_YET
    return f"{words.CHECKLIST_STATE}: {state}"


def feedback_card(audit: Audit) -> dict[str, Any]:
    """The social worker's own feedback on the moderated audit, asked for after closure:
    Bristol's staff feedback questions, a box and Send."""
    deadline = audit.deadlines.get(StepId.PRACTITIONER_FEEDBACK.value)
    return feedback_requested(
        audit.id,
        audit.child_id,
        deadline.due_at if deadline else None,
        audit.final_grade.value if audit.final_grade else None,
        given=audit.practitioner_feedback.values if audit.practitioner_feedback else None,
    )


def feedback_requested(
    audit_id: str,
    child_id: str,
    due: datetime | None,
    grade: str | None,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Bristol's six staff feedback questions, each with its own box; the improvement
    plan is asked for when the audit was graded Requires Improvement or Inadequate."""
    body: list[k.Element] = [
        k.heading(words.PRACTITIONER_FEEDBACK_TITLE),
        *p.ids(audit_id, child_id),
        k.fact(words.FINAL_GRADE, words.grade(grade)),
    ]
    if due is not None:
        body.append(k.fact(words.PRACTITIONER_FEEDBACK_DUE, words.when(due)))
    body.append(k.text(words.PRACTITIONER_FEEDBACK_INTRO))
    needs_plan = grade in (Grade.REQUIRES_IMPROVEMENT.value, Grade.INADEQUATE.value)
    for key, question in zip(STAFF_FEEDBACK, words.PRACTITIONER_FEEDBACK_QUESTIONS, strict=True):
        plan = key == "improvement_plan" and needs_plan
        body.append(
            k.text_input(
                key,
                question,
                value=str((given or {}).get(key) or "") or None,
                required=plan,
                error=words.PRACTITIONER_FEEDBACK_PLAN_MISSING if plan else None,
            )
        )
    return k.card(
        body,
        [button(words.SEND_FEEDBACK, Verb.PRACTITIONER_FEEDBACK, audit_id, positive=True)],
    )
