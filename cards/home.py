"""The cards a person sees outside any one audit: welcome, help, and their list of audits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adaptive_cards.card import Column, ColumnSet
from adaptive_cards.types import Colors, Spacing, VerticalAlignment

from audits.model import Audit
from audits.roles import Role
from cards import _kit as k
from cards import words
from cards.actions import Verb, button

MAX_ROWS = 25  # more would not fit in one card; `status <child's ID>` finds the rest


def welcome_card(name_hint: str | None = None) -> dict[str, Any]:
    """The first card after the app is installed. Uses at most a first name."""
    first = name_hint.split()[0] if name_hint and name_hint.strip() else None
    return k.card(
        [
            k.heading(words.WELCOME_TITLE),
            k.text(words.hello(first)),
            k.text(words.WELCOME_TEXT),
            k.text(words.PRIVACY, subtle=True),
            *_commands(),
        ],
        [
            button(words.MY_AUDITS, Verb.MY_AUDITS, None),
            button(words.HELP, Verb.HELP, None),
        ],
    )


def help_card(qa: bool = False) -> dict[str, Any]:
    """What the person can type: QA staff also see the report and the tracker."""
    return k.card(
        [k.heading(words.HELP_TITLE), *_commands(qa), k.text(words.HELP_BUTTONS, subtle=True)],
        [button(words.MY_AUDITS, Verb.MY_AUDITS, None)],
    )


def _commands(qa: bool = False) -> list[k.Element]:
    return [
        k.line(k.run(command, mono=True, bold=True), k.run(f" – {meaning}"))
        for command, meaning in (words.COMMANDS if qa else words.EVERYONE_COMMANDS)
    ]


@dataclass(frozen=True)
class MyAuditRow:
    """One line of "my audits": what the person is on this audit and what comes next."""

    audit_id: str
    child_id: str
    role_label: str
    status_label: str
    next_step_title: str | None
    next_due: datetime | None
    overdue: bool

    @classmethod
    def of(cls, audit: Audit, person: str, roles: Iterable[Role], now: datetime) -> MyAuditRow:
        """From an audit and the person's roles on it (`audits.workflow.roles_of`).

        "Next" is the person's own next deadline on the audit, or else the audit's.
        """
        own = [d for d in audit.deadlines.values() if d.open and d.owner == person]
        deadline = min(own, key=lambda d: d.due_at) if own else audit.next_deadline()
        return cls(
            audit_id=audit.id,
            child_id=audit.child_id,
            role_label=", ".join(words.role(r) for r in sorted(roles)),
            status_label=words.status(audit.status),
            next_step_title=words.step(deadline.step) if deadline else None,
            next_due=deadline.due_at if deadline else None,
            overdue=bool(deadline and deadline.due_at < now),
        )


def my_audits_card(rows: list[MyAuditRow], total: int | None = None) -> dict[str, Any]:
    """The person's audits, overdue first, each with an Open button. Child's IDs only.
    `total`: how many audits they have in all, when `rows` are only the most urgent."""
    if not rows:
        return k.card([k.heading(words.MY_AUDITS_TITLE), k.text(words.NO_AUDITS)])
    ordered = sorted(rows, key=_urgency)
    count = max(total or 0, len(ordered))
    shown = ordered[:MAX_ROWS]
    body: list[k.Element] = [k.heading(words.MY_AUDITS_TITLE)]
    body += [_row(row) for row in shown]
    if count > len(shown):
        body.append(k.text(words.more_audits(count - len(shown)), subtle=True))
    card = k.card(body)
    while not k.fits(card) and len(shown) > 1:
        shown = shown[:-1]
        body = [k.heading(words.MY_AUDITS_TITLE), *(_row(row) for row in shown)]
        body.append(k.text(words.more_audits(count - len(shown)), subtle=True))
        card = k.card(body)
    return card


def _urgency(row: MyAuditRow) -> tuple[bool, bool, float, str]:
    due = row.next_due.timestamp() if row.next_due else 0.0
    return (not row.overdue, row.next_due is None, due, row.audit_id)


def _row(row: MyAuditRow) -> ColumnSet:
    if row.next_step_title and row.next_due:
        due = words.overdue_since(row.next_due) if row.overdue else words.due_in(row.next_due, None)
        next_line = k.fact(
            words.NEXT,
            f"{row.next_step_title} – {due}",
            color=Colors.ATTENTION if row.overdue else None,
        )
    else:
        next_line = k.fact(words.NEXT, words.NOTHING_DUE)
    return ColumnSet(
        separator=True,
        spacing=Spacing.MEDIUM,
        columns=[
            Column(
                width="stretch",
                items=[
                    k.text(words.audit_line(row.audit_id, row.child_id), bold=True),
                    k.subtle(f"{words.YOUR_ROLE} {row.role_label} · {row.status_label}"),
                    next_line,
                ],
            ),
            Column(
                width="auto",
                vertical_content_alignment=VerticalAlignment.CENTER,
                items=[k.buttons(button(words.OPEN, Verb.OPEN_AUDIT, row.audit_id))],
            ),
        ],
    )


def status_card(
    audit: Audit, now: datetime, mine: bool, names: Mapping[str, str] = words.NO_NAMES
) -> dict[str, Any]:
    """Where an audit is up to, for `status <child's ID>`: its stage, each open step with
    who has it and when it is due. With `mine` (the person has a step), a button opens
    it. The child's ID only; no answers."""
    body: list[k.Element] = [
        k.heading(words.audit_line(audit.id, audit.child_id)),
        k.fact(words.STATUS_STAGE, words.status(audit.status)),
    ]
    waiting = sorted((d for d in audit.deadlines.values() if d.open), key=lambda d: d.due_at)
    if not waiting:
        body.append(k.fact(words.NEXT, words.NOTHING_DUE))
    for deadline in waiting:
        late = deadline.due_at < now
        when = (
            words.overdue_since(deadline.due_at, now)
            if late
            else words.due_in(deadline.due_at, now)
        )
        body.append(
            k.fact(
                _first_upper(words.step(deadline.step)),
                words.STATUS_WITH.format(who=words.person(deadline.owner, names), when=when),
                color=Colors.ATTENTION if late else None,
            )
        )
    actions = [button(words.STATUS_OPEN_MINE, Verb.OPEN_AUDIT, audit.id)] if mine else []
    return k.card(body, actions)


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]
