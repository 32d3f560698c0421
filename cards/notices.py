"""From a workflow notice (or the outbox row that holds one) to the card that tells the person.

A notice carries the audit id, the child's ID and a few facts (a role, a
grade, a deadline, an action number), never a name or anyone's answers, and
this module shows nothing else. The proactive sender calls `notice_card` with
the row's kind and payload; `card_of` takes the typed notice itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, assert_never

from adaptive_cards.card import ActionExecute
from adaptive_cards.types import Colors

from audits.roles import Role
from audits.workflow import AnyNotice, NoticeKind, notice_from_row
from audits.workflow import notices as n
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button, open_card
from cards.allocation import allocated
from cards.closing import closing, panel
from cards.concern import concern_alert
from cards.practitioner import checklist_requested, feedback_requested
from cards.reminders import escalation_card, nudge_card


def notice_card(
    kind: NoticeKind | str, payload: Mapping[str, Any], names: Mapping[str, str] = words.NO_NAMES
) -> dict[str, Any]:
    """The card for one outbox row. Unknown kinds raise ValueError; missing ids raise KeyError."""
    return card_of(notice_from_row(kind, payload), names)


def card_of(notice: AnyNotice, names: Mapping[str, str] = words.NO_NAMES) -> dict[str, Any]:
    """The card for one notice."""
    audit_id, child_id = notice.audit_id, notice.child_id
    match notice:
        case n.Allocated():
            return allocated(audit_id, child_id, notice.role, notice.due)
        case n.IroCommentsRequested():
            return allocated(audit_id, child_id, notice.role, notice.due)
        case n.IroCommentsAdded():
            return _info(
                words.IRO_COMMENTS_ADDED,
                notice,
                k.text(words.IRO_COMMENTS_ADDED_TEXT),
                action=_open(audit_id),
            )
        case n.ReadyForModeration():
            return _ready_for_moderation(notice)
        case n.ModerationComplete():
            return _moderation_complete(notice)
        case n.ReadyForPanel():
            return panel(audit_id, child_id, notice.grade, resubmitted=notice.resubmitted)
        case n.ReadyToClose():
            return closing(audit_id, child_id, notice.grade, panel=notice.panel, due=notice.due)
        case n.Returned():
            return _info(
                words.RETURNED,
                notice,
                *_due(words.ALLOCATED_DUE[Role.AUDITOR], notice.due),
                k.text(words.RETURNED_TEXT),
                action=_open(audit_id),
            )
        case n.Closed():
            return _info(words.CLOSED, notice, k.fact(words.FINAL_GRADE, words.grade(notice.grade)))
        case n.CaseOfConcernRaised():
            return concern_alert(
                audit_id,
                child_id,
                notice.role,
                notice.raised_by,
                notice.plan_due,
                plan=notice.plan,
            )
        case n.ReauditRequested():
            return _info(
                words.REAUDIT_REQUESTED,
                notice,
                *_due(words.REAUDIT_DUE, notice.due),
                k.text(words.todo("reaudit")),
                action=_open(audit_id, card=Card.REAUDIT),
            )
        case n.PlanConfirmed():
            return _info(
                words.PLAN_CONFIRMED,
                notice,
                k.text(words.PLAN_CONFIRMED_TEXT),
                action=_open(audit_id),
            )
        case n.ReauditRecorded():
            return _info(
                words.REAUDIT_RECORDED,
                notice,
                k.fact(words.REAUDIT_GRADE, words.grade(notice.grade)),
            )
        case n.CaseOfConcernClosed():
            return _info(words.COC_CLOSED, notice)
        case n.ActionAssigned():
            return _info(
                words.ACTION_ASSIGNED,
                notice,
                k.fact(words.ACTION, str(notice.action)),
                k.fact(words.ACTION_DUE, words.day(notice.due)),
                k.text(words.ACTION_TODO),
                action=_open(audit_id, words.OPEN_ACTION, card=Card.ACTION, action=notice.action),
            )
        case n.ActionToSignOff():
            return _info(
                words.ACTION_TO_SIGN_OFF,
                notice,
                k.fact(words.ACTION, str(notice.action)),
                action=_open(audit_id, words.OPEN_ACTION, card=Card.SIGN_OFF, action=notice.action),
            )
        case n.ActionSignedOff():
            return _info(words.ACTION_SIGNED_OFF, notice, k.fact(words.ACTION, str(notice.action)))
        case n.ActionReturned():
            return _info(
                words.ACTION_RETURNED,
                notice,
                k.fact(words.ACTION, str(notice.action)),
                k.text(words.ACTION_RETURNED_TEXT),
                action=_open(audit_id, words.OPEN_ACTION, card=Card.ACTION, action=notice.action),
            )
        case n.ReassignedTo():
            return _info(
                words.reassigned_to(notice.role),
                notice,
                *_due(words.DUE, notice.due),
                action=_open(audit_id),
            )
        case n.ReassignedAway():
            return _info(
                words.reassigned_away(notice.role), notice, k.text(words.REASSIGNED_AWAY_TEXT)
            )
        case n.DeadlineMoved():
            return _info(
                words.DEADLINE_MOVED,
                notice,
                k.fact(words.DEADLINE_FOR, words.step(notice.step)),
                *_due(words.NEW_DEADLINE, notice.due),
                action=_open(audit_id, **open_card(notice.step)),
            )
        case n.ChecklistRequested():
            return checklist_requested(audit_id, child_id, notice.title, notice.due)
        case n.ChecklistDone():
            return _info(words.CHECKLIST_DONE_TITLE, notice, k.text(notice.title))
        case n.FeedbackRequested():
            grade = notice.grade.value if notice.grade else None
            return feedback_requested(audit_id, child_id, notice.due, grade)
        case n.Nudged():
            return nudge_card(
                audit_id, child_id, notice.step, notice.due, notice.overdue, now=notice.at
            )
        case n.Escalated():
            return escalation_card(
                audit_id, child_id, notice.step, notice.owner, notice.due, notice.due, names
            )
        case _:
            assert_never(notice)


def _info(
    title: str,
    notice: n.Notice,
    *more: k.Element,
    action: ActionExecute | None = None,
    color: Colors | None = None,
) -> dict[str, Any]:
    body = [k.heading(title, color=color), *p.ids(notice.audit_id, notice.child_id), *more]
    return k.card(body, [action] if action else [])


def _open(audit_id: str, title: str = words.OPEN_AUDIT, **extra: Any) -> ActionExecute:
    return button(title, Verb.OPEN_AUDIT, audit_id, **extra)


def _due(label: str, due: datetime | None) -> list[k.Element]:
    return [k.fact(label, words.when(due))] if due else []


def _ready_for_moderation(notice: n.ReadyForModeration) -> dict[str, Any]:
    more: list[k.Element] = [*_due(words.MODERATION_DUE, notice.due)]
    more.append(k.fact(words.AUDITOR_OVERALL, words.grade(notice.grade)))
    if notice.inadequate_sections:
        more.append(k.text(words.FLAGGED_INADEQUATE, bold=True, color=Colors.ATTENTION))
        more += k.bullets(list(notice.inadequate_sections), color=Colors.ATTENTION)
    return _info(
        words.READY_FOR_MODERATION,
        notice,
        *more,
        action=button(words.MODERATE, Verb.OPEN_AUDIT, notice.audit_id, positive=True),
    )


def _moderation_complete(notice: n.ModerationComplete) -> dict[str, Any]:
    changes = [
        f"{r.section}: " + words.regraded(words.grade(r.old), words.grade(r.new))
        for r in notice.regraded
    ]
    more: list[k.Element] = [k.fact(words.MODERATED_GRADE, words.grade(notice.grade))]
    if changes:
        more.append(k.text(words.REGRADED, bold=True))
        more += k.bullets(changes)
    else:
        more.append(k.text(words.NOTHING_REGRADED))
    return _info(words.MODERATION_COMPLETE, notice, *more, action=_open(notice.audit_id))
