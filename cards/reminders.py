"""Nudges before (and on) a deadline, escalations after it. `scheduling/` decides when."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adaptive_cards.types import Colors, ContainerStyle

from audits.steps import is_action_step
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Verb, button, open_card


def nudge_card(
    audit_id: str,
    child_id: str,
    step: str,
    due_at: datetime,
    overdue: bool,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A reminder to the owner of a deadline step ("audit_completion", "action-3", ...).

    With `now`, says how long is left ("Due in 2 days, by ...") or how long ago it fell due.
    """
    color = Colors.ATTENTION if overdue else None
    due = words.overdue_since(due_at, now) if overdue else words.due_in(due_at, now)
    body: list[k.Element] = [
        k.heading(words.nudge_title(step, overdue), color=color),
        *p.ids(audit_id, child_id),
        k.text(due, bold=True, color=color),
    ]
    todo = words.todo(step)
    if todo:
        body.append(k.text(todo))
    title = words.OPEN_ACTION if is_action_step(step) else words.OPEN_AUDIT
    return k.card(body, [button(title, Verb.OPEN_AUDIT, audit_id, **open_card(step))])


def escalation_card(
    audit_id: str,
    child_id: str,
    step: str,
    owner: str,
    due_at: datetime,
    since: datetime,
    names: Mapping[str, str] = words.NO_NAMES,
) -> dict[str, Any]:
    """For whoever a late step escalates to: what is late, since when, and who owns it.

    `since` is when the step counts as late (usually `due_at`); the due time is
    shown as well when the two differ.
    """
    facts = [
        *p.ids(audit_id, child_id),
        k.fact(words.LATE, words.step(step)),
        k.fact(words.OWNER, words.person(owner, names)),
    ]
    if since != due_at:
        facts.append(k.fact(words.WAS_DUE, words.when(due_at)))
    return k.card(
        [
            k.box(
                [
                    k.heading(words.ESCALATION_TITLE, color=Colors.ATTENTION),
                    k.text(words.overdue_since(since), bold=True, color=Colors.ATTENTION),
                ],
                style=ContainerStyle.ATTENTION,
            ),
            *facts,
        ],
        [button(words.OPEN_AUDIT, Verb.OPEN_AUDIT, audit_id)],
    )
