"""A case of concern: the urgent alert when an audit is judged Inadequate, and the plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adaptive_cards.types import Colors, ContainerStyle

from audits.model import Audit
from audits.policies import Policy, StepId
from audits.roles import Role
from audits.templates import Template
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button

# Who may record the plan (the workflow checks it again).
PLAN_ROLES = (Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE)


def case_of_concern_alert_card(audit: Audit, role: Role, *, plan: bool = True) -> dict[str, Any]:
    """For the service manager, QA and the head of service: child's ID, who raised it, plan due."""
    coc = audit.case_of_concern
    if coc is None:
        raise ValueError(f"audit {audit.id} is not a case of concern")
    deadline = audit.deadlines.get(StepId.COC_PLAN.value)
    return concern_alert(
        audit.id,
        audit.child_id,
        role,
        coc.raised_by,
        deadline.due_at if deadline else None,
        plan=plan,
    )


def concern_alert(
    audit_id: str,
    child_id: str,
    role: Role | str,
    raised_by: Role | str | None,
    plan_due: datetime | None,
    *,
    plan: bool = True,
) -> dict[str, Any]:
    """`case_of_concern_alert_card` from a notice's data alone. `plan`: False when the
    process asks for no case of concern plan (no plan due, no plan button)."""
    facts = [*p.ids(audit_id, child_id)]
    if raised_by:
        facts.append(k.fact(words.RAISED_BY, words.raised_by(raised_by)))
    if plan:
        facts.append(
            k.fact(
                words.PLAN_DUE,
                words.when(plan_due) if plan_due else words.NO_DUE_DATE,
                color=Colors.ATTENTION,
            )
        )
    body: list[k.Element] = [
        k.box(
            [k.heading(words.COC_TITLE, color=Colors.ATTENTION), *facts],
            style=ContainerStyle.ATTENTION,
        ),
        k.text(words.COC_TEXT if plan else words.COC_TEXT_NO_PLAN),
    ]
    if plan and Role(role) in PLAN_ROLES:
        action = button(words.RECORD_PLAN, Verb.OPEN_AUDIT, audit_id, positive=True, card=Card.PLAN)
    else:
        action = button(words.OPEN_AUDIT, Verb.OPEN_AUDIT, audit_id)
    return k.card(body, [action])


def plan_card(audit: Audit) -> dict[str, Any]:
    """The service manager's plan and who carries it out, recorded as a management decision."""
    coc = audit.case_of_concern
    deadline = audit.deadlines.get(StepId.COC_PLAN.value)
    body: list[k.Element] = [
        k.heading(words.PLAN_TITLE, color=Colors.ATTENTION),
        p.about(audit.id, audit.child_id),
        k.fact(
            words.PLAN_DUE,
            words.when(deadline.due_at) if deadline else words.NO_DUE_DATE,
            color=Colors.ATTENTION,
        ),
        k.text_input(
            "plan",
            words.PLAN,
            value=coc.plan if coc else None,
            required=True,
            error=words.PLAN_MISSING,
        ),
        k.email_input(
            "owner",
            words.PLAN_OWNER,
            value=coc.plan_owner if coc else None,
            required=True,
            error=words.PLAN_OWNER_MISSING,
        ),
        k.text(words.MANAGEMENT_DECISION, subtle=True),
    ]
    return k.card(body, [button(words.CONFIRM_PLAN, Verb.CONFIRM_PLAN, audit.id, positive=True)])


def reaudit_card(audit: Audit, template: Template, policy: Policy) -> dict[str, Any]:
    """The re-audit of a case of concern on the tool's re-audit form (Swindon's Short
    Audit Form; Bristol's "Re-audit, if Inadequate (not with worker)"): the grade, the
    findings and, where the framework says a second auditor re-audits, who did."""
    form = template.reaudit
    coc = audit.case_of_concern
    deadline = audit.deadlines.get(StepId.REAUDIT.value)
    body: list[k.Element] = [
        k.heading(form.title if form else words.REAUDIT_TITLE, color=Colors.ATTENTION),
        p.about(audit.id, audit.child_id),
        k.fact(words.MODERATED_GRADE, words.grade(audit.moderated_grade)),
    ]
    if deadline is not None and deadline.open:
        body.append(k.fact(words.REAUDIT_DUE, words.when(deadline.due_at)))
    if coc and coc.reaudits:
        body.append(
            k.fact(words.REAUDITS_SO_FAR, ", ".join(words.grade(r.grade) for r in coc.reaudits))
        )
    if form and form.guidance:
        body.append(k.text(form.guidance.strip(), subtle=True))
    body += [
        p.grade_input("grade", words.REAUDIT_GRADE, None, required=True),
        k.text_input(
            "findings",
            form.findings_label if form else words.REAUDIT_FINDINGS,
            required=True,
            error=words.REAUDIT_FINDINGS_MISSING,
        ),
    ]
    if policy.reaudit_by_second_auditor:
        body += [
            k.text(words.REAUDIT_SECOND_AUDITOR, subtle=True),
            k.email_input(
                "auditor",
                words.REAUDIT_AUDITOR,
                required=True,
                error=words.REAUDIT_AUDITOR_MISSING,
            ),
        ]
    actions = [button(words.RECORD_REAUDIT, Verb.RECORD_REAUDIT, audit.id, positive=True)]
    if policy.reaudit_adds_actions:
        # Bristol's re-audit form: "Actions required | Responsibility | By when".
        actions.append(
            button(words.REAUDIT_ADD_ACTIONS, Verb.OPEN_AUDIT, audit.id, card=Card.AGREED_ACTIONS)
        )
    return k.card(body, actions)
