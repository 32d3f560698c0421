"""From an outbox row (a workflow notice: its kind and data) to the card that tells the person.

A notice carries the audit id, the child's ID and a few facts (a role, a
grade, a deadline, an action number), never a name or anyone's answers, and
this module shows nothing else. The proactive sender calls `notice_card`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from adaptive_cards.card import ActionExecute
from adaptive_cards.types import Colors

from audits.roles import Role
from audits.workflow import NoticeKind
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Card, Verb, button, open_card
from cards.allocation import allocated
from cards.closing import closing, panel
from cards.concern import concern_alert
from cards.practitioner import checklist_requested, feedback_requested
from cards.reminders import escalation_card, nudge_card

Data = Mapping[str, Any]


def notice_card(kind: NoticeKind | str, data: Data) -> dict[str, Any]:
    """The card for one notice. Unknown kinds raise ValueError; missing ids raise KeyError."""
    build = _BUILDERS[NoticeKind(kind)]
    return build(str(data["audit_id"]), str(data["child_id"]), data)


def _info(
    title: str,
    audit_id: str,
    child_id: str,
    *more: k.Element,
    action: ActionExecute | None = None,
    color: Colors | None = None,
) -> dict[str, Any]:
    body = [k.heading(title, color=color), *p.ids(audit_id, child_id), *more]
    return k.card(body, [action] if action else [])


def _open(audit_id: str, title: str = words.OPEN_AUDIT, **extra: Any) -> ActionExecute:
    return button(title, Verb.OPEN_AUDIT, audit_id, **extra)


def _due(label: str, data: Data, key: str = "due") -> list[k.Element]:
    due = p.parse_instant(data.get(key))
    return [k.fact(label, words.when(due))] if due else []


def _action_number(data: Data) -> int:
    return int(data["action"])


def _allocated(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return allocated(audit_id, child_id, data["role"], p.parse_instant(data.get("due")))


def _iro_added(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.IRO_COMMENTS_ADDED,
        audit_id,
        child_id,
        k.text(words.IRO_COMMENTS_ADDED_TEXT),
        action=_open(audit_id),
    )


def _ready_for_moderation(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    flagged = [str(s) for s in data.get("inadequate_sections") or []]
    more: list[k.Element] = [*_due(words.MODERATION_DUE, data)]
    if data.get("grade"):
        more.append(k.fact(words.AUDITOR_OVERALL, words.grade(data["grade"])))
    if flagged:
        more.append(k.text(words.FLAGGED_INADEQUATE, bold=True, color=Colors.ATTENTION))
        more += k.bullets(flagged, color=Colors.ATTENTION)
    return _info(
        words.READY_FOR_MODERATION,
        audit_id,
        child_id,
        *more,
        action=button(words.MODERATE, Verb.OPEN_AUDIT, audit_id, positive=True),
    )


def _moderation_complete(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    changes = [
        f"{change['section']}: "
        + words.regraded(words.grade(change.get("from")), words.grade(change.get("to")))
        for change in data.get("regraded") or []
    ]
    more: list[k.Element] = [k.fact(words.MODERATED_GRADE, words.grade(data.get("grade")))]
    if changes:
        more.append(k.text(words.REGRADED, bold=True))
        more += k.bullets(changes)
    else:
        more.append(k.text(words.NOTHING_REGRADED))
    return _info(words.MODERATION_COMPLETE, audit_id, child_id, *more, action=_open(audit_id))


def _ready_for_panel(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return panel(audit_id, child_id, data.get("grade"), resubmitted=bool(data.get("resubmitted")))


def _ready_to_close(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return closing(
        audit_id,
        child_id,
        data.get("grade"),
        panel=bool(data.get("panel")),
        due=p.parse_instant(data.get("due")),
    )


def _returned(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.RETURNED,
        audit_id,
        child_id,
        *_due(words.ALLOCATED_DUE[Role.AUDITOR], data),
        k.text(words.RETURNED_TEXT),
        action=_open(audit_id),
    )


def _closed(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.CLOSED,
        audit_id,
        child_id,
        k.fact(words.FINAL_GRADE, words.grade(data.get("grade"))),
    )


def _case_of_concern(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return concern_alert(
        audit_id,
        child_id,
        data["role"],
        data.get("raised_by"),
        p.parse_instant(data.get("plan_due")),
    )


def _plan_confirmed(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.PLAN_CONFIRMED,
        audit_id,
        child_id,
        k.text(words.PLAN_CONFIRMED_TEXT),
        action=_open(audit_id),
    )


def _reaudit_recorded(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.REAUDIT_RECORDED,
        audit_id,
        child_id,
        k.fact(words.REAUDIT_GRADE, words.grade(data.get("grade"))),
    )


def _coc_closed(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(words.COC_CLOSED, audit_id, child_id)


def _action_assigned(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    number = _action_number(data)
    more: list[k.Element] = [k.fact(words.ACTION, str(number))]
    if data.get("due"):
        more.append(k.fact(words.ACTION_DUE, words.day(date.fromisoformat(str(data["due"])))))
    more.append(k.text(words.ACTION_TODO))
    return _info(
        words.ACTION_ASSIGNED,
        audit_id,
        child_id,
        *more,
        action=_open(audit_id, words.OPEN_ACTION, card=Card.ACTION, action=number),
    )


def _action_to_sign_off(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    number = _action_number(data)
    return _info(
        words.ACTION_TO_SIGN_OFF,
        audit_id,
        child_id,
        k.fact(words.ACTION, str(number)),
        action=_open(audit_id, words.OPEN_ACTION, card=Card.SIGN_OFF, action=number),
    )


def _action_signed_off(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.ACTION_SIGNED_OFF,
        audit_id,
        child_id,
        k.fact(words.ACTION, str(_action_number(data))),
    )


def _action_returned(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    number = _action_number(data)
    return _info(
        words.ACTION_RETURNED,
        audit_id,
        child_id,
        k.fact(words.ACTION, str(number)),
        k.text(words.ACTION_RETURNED_TEXT),
        action=_open(audit_id, words.OPEN_ACTION, card=Card.ACTION, action=number),
    )


def _reassigned_to(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.reassigned_to(data["role"]),
        audit_id,
        child_id,
        *_due(words.DUE, data),
        action=_open(audit_id),
    )


def _reassigned_away(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(
        words.reassigned_away(data["role"]),
        audit_id,
        child_id,
        k.text(words.REASSIGNED_AWAY_TEXT),
    )


def _deadline_moved(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    step = str(data["step"])
    return _info(
        words.DEADLINE_MOVED,
        audit_id,
        child_id,
        k.fact(words.DEADLINE_FOR, words.step(step)),
        *_due(words.NEW_DEADLINE, data),
        action=_open(audit_id, **open_card(step)),
    )


def _checklist_requested(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return checklist_requested(
        audit_id, child_id, str(data.get("title") or ""), p.parse_instant(data.get("due"))
    )


def _checklist_done(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return _info(words.CHECKLIST_DONE_TITLE, audit_id, child_id, k.text(str(data.get("title"))))


def _feedback_requested(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    return feedback_requested(
        audit_id, child_id, p.parse_instant(data.get("due")), data.get("grade")
    )


def _nudge(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    due = p.parse_instant(data["due"])
    assert due is not None
    return nudge_card(
        audit_id,
        child_id,
        str(data["step"]),
        due,
        bool(data.get("overdue")),
        now=p.parse_instant(data.get("at")),
    )


def _escalation(audit_id: str, child_id: str, data: Data) -> dict[str, Any]:
    due = p.parse_instant(data["due"])
    assert due is not None
    return escalation_card(audit_id, child_id, str(data["step"]), str(data["owner"]), due, due)


_BUILDERS: dict[NoticeKind, Callable[[str, str, Data], dict[str, Any]]] = {
    NoticeKind.ALLOCATED: _allocated,
    NoticeKind.IRO_COMMENTS_REQUESTED: _allocated,
    NoticeKind.IRO_COMMENTS_ADDED: _iro_added,
    NoticeKind.READY_FOR_MODERATION: _ready_for_moderation,
    NoticeKind.MODERATION_COMPLETE: _moderation_complete,
    NoticeKind.READY_FOR_PANEL: _ready_for_panel,
    NoticeKind.READY_TO_CLOSE: _ready_to_close,
    NoticeKind.RETURNED: _returned,
    NoticeKind.CLOSED: _closed,
    NoticeKind.CASE_OF_CONCERN: _case_of_concern,
    NoticeKind.PLAN_CONFIRMED: _plan_confirmed,
    NoticeKind.REAUDIT_RECORDED: _reaudit_recorded,
    NoticeKind.CASE_OF_CONCERN_CLOSED: _coc_closed,
    NoticeKind.ACTION_ASSIGNED: _action_assigned,
    NoticeKind.ACTION_TO_SIGN_OFF: _action_to_sign_off,
    NoticeKind.ACTION_SIGNED_OFF: _action_signed_off,
    NoticeKind.ACTION_RETURNED: _action_returned,
    NoticeKind.REASSIGNED_TO: _reassigned_to,
    NoticeKind.REASSIGNED_AWAY: _reassigned_away,
    NoticeKind.DEADLINE_MOVED: _deadline_moved,
    NoticeKind.CHECKLIST_REQUESTED: _checklist_requested,
    NoticeKind.CHECKLIST_DONE: _checklist_done,
    NoticeKind.FEEDBACK_REQUESTED: _feedback_requested,
    NoticeKind.NUDGE: _nudge,
    NoticeKind.ESCALATION: _escalation,
}
