"""Telling people about an audit they are part of, and asking the IRO/CP chair for comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audits.model import Audit
from audits.policies import StepId
from audits.roles import Role
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button

ALLOCATED_ROLES = (Role.AUDITOR, Role.SOCIAL_WORKER, Role.MODERATOR, Role.IRO)


def allocation_card(audit: Audit, role: Role, due: datetime | None) -> dict[str, Any]:
    """What the person has been given, for which child's ID, by when, and what to do first."""
    return allocated(audit.id, audit.child_id, role, due)


def allocated(
    audit_id: str, child_id: str, role: Role | str, due: datetime | None
) -> dict[str, Any]:
    """`allocation_card` from a notice's data alone."""
    role = Role(role)
    if role not in ALLOCATED_ROLES:
        raise ValueError(f"no allocation card for the {role.label}")
    if role is Role.IRO:
        return _iro(
            audit_id, child_id, due, words.ALLOCATED_TITLE[role], words.ALLOCATED_FIRST[role]
        )
    body: list[k.Element] = [
        k.heading(words.ALLOCATED_TITLE[role]),
        *p.ids(audit_id, child_id),
        k.fact(words.ALLOCATED_DUE[role], words.when(due) if due else words.NO_DUE_DATE),
        k.text(words.ALLOCATED_FIRST[role]),
    ]
    actions = []
    if role is Role.AUDITOR:
        actions = [
            button(words.START_AUDIT, Verb.START_AUDIT, audit_id, positive=True),
            button(words.RECORD_FEEDBACK, Verb.OPEN_AUDIT, audit_id, card=Card.FAMILY_FEEDBACK),
        ]
    return k.card(body, actions)


def iro_comments_card(audit: Audit) -> dict[str, Any]:
    """The IRO/CP chair's comments: a box, the deadline, and Add comments."""
    deadline = audit.deadlines.get(StepId.IRO_COMMENTS.value)
    return _iro(
        audit.id,
        audit.child_id,
        deadline.due_at if deadline else None,
        words.IRO_TITLE,
        words.IRO_INTRO,
        earlier=len(audit.iro_comments),
    )


def _iro(
    audit_id: str,
    child_id: str,
    due: datetime | None,
    title: str,
    intro: str,
    earlier: int = 0,
) -> dict[str, Any]:
    body: list[k.Element] = [
        k.heading(title),
        *p.ids(audit_id, child_id),
        k.fact(words.COMMENTS_DUE, words.when(due) if due else words.NO_DUE_DATE),
        k.text(intro),
    ]
    if earlier:
        body.append(k.text(words.comments_added(earlier), subtle=True))
    body.append(
        k.text_input("comments", words.COMMENTS, required=True, error=words.COMMENTS_MISSING)
    )
    return k.card(body, [button(words.ADD_COMMENTS, Verb.IRO_COMMENTS, audit_id, positive=True)])
