"""The QA tracker in chat: audits ten to a page, with filters, paging and a details button.

`tracker_card` is a pure builder from rows the application's queries read, for the
bot's `tracker [filters]` command and for the TRACKER_PAGE button, whose `data`
carries the page and the filters back:

    {"verb": "tracker_page", "page": 2, "team": "…", "status": "submitted",
     "overdue": true, "concern": true}

`TrackerFilters.parse` reads what a person types after `tracker`
(`team="Leaving Care Team" status=submitted overdue concern`);
`TrackerFilters.from_data` reads a button's data, which is untrusted.
Rows show the child's ID, never a name.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adaptive_cards.card import Column, ColumnSet
from adaptive_cards.types import Colors, Spacing, VerticalAlignment

from audits.errors import InvalidInput
from audits.model import Audit, Status
from audits.roles import AUDIT_ROLES
from cards import _kit as k
from cards import _parts as p
from cards import words
from cards.actions import Verb, button

PAGE_SIZE = 10
MAX_TEAM = 200
_CONCERN_WORDS = ("concern", "coc", "case-of-concern", "cases-of-concern")


def _status(value: str) -> Status:
    wanted = value.strip().lower().replace("-", " ").replace("_", " ")
    for status in Status:
        if wanted in (status.value.replace("_", " "), status.label.lower()):
            return status
    known = ", ".join(s.value for s in Status)
    raise InvalidInput(f"'{value}' is not a status (use one of {known})")


@dataclass(frozen=True)
class TrackerFilters:
    team: str | None = None
    status: Status | None = None
    overdue: bool = False
    case_of_concern: bool = False

    @classmethod
    def parse(cls, text: str) -> TrackerFilters:
        """From what follows `tracker`: team=NAME (quoted if it has spaces), status=STATUS,
        `overdue`, `concern`. Raises InvalidInput naming what it did not understand."""
        try:
            words_ = shlex.split(text)
        except ValueError:
            raise InvalidInput('A quote is not closed: write team="Team name"') from None
        team: str | None = None
        status: Status | None = None
        overdue = concern = False
        for word in words_:
            key, _, value = word.partition("=")
            key = key.lower()
            if key == "team" and value.strip():
                team = value.strip()[:MAX_TEAM]
            elif key == "status" and value.strip():
                status = _status(value)
            elif word.lower() == "overdue":
                overdue = True
            elif word.lower() in _CONCERN_WORDS:
                concern = True
            else:
                raise InvalidInput(
                    f"'{word}' is not a tracker filter: use team=NAME, status=STATUS, "
                    "overdue or concern"
                )
        return cls(team, status, overdue, concern)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> tuple[TrackerFilters, int]:
        """The filters and page a TRACKER_PAGE button carried (untrusted: checked here)."""
        team = data.get("team")
        status = data.get("status")
        page = data.get("page", 1)
        try:
            number = int(page) if not isinstance(page, bool) else 1
        except (TypeError, ValueError):
            number = 1
        return (
            cls(
                team=str(team)[:MAX_TEAM] if isinstance(team, str) and team.strip() else None,
                status=_status(status) if isinstance(status, str) and status else None,
                overdue=data.get("overdue") is True,
                case_of_concern=data.get("concern") is True,
            ),
            max(1, number),
        )

    def data(self, page: int) -> dict[str, Any]:
        """What a paging button carries (None values are left out)."""
        return {
            "page": page,
            "team": self.team,
            "status": self.status.value if self.status else None,
            "overdue": True if self.overdue else None,
            "concern": True if self.case_of_concern else None,
        }

    def matches(self, row: TrackerRow) -> bool:
        return (
            (self.team is None or row.team.lower() == self.team.lower())
            and (self.status is None or row.status is self.status)
            and (not self.overdue or row.overdue)
            and (not self.case_of_concern or row.case_of_concern)
        )


@dataclass(frozen=True)
class TrackerRow:
    audit_id: str
    child_id: str
    team: str
    status: Status
    owner: str | None  # who the next deadline waits for
    next_step: str | None
    next_due: datetime | None
    overdue: bool
    case_of_concern: bool


def tracker_card(
    rows: Sequence[TrackerRow],
    filters: TrackerFilters | None = None,
    page: int = 1,
    names: Mapping[str, str] = words.NO_NAMES,
    total: int | None = None,
) -> dict[str, Any]:
    """One page (10 rows) of the audits that match `filters`, overdue ones first.

    `total` given: `rows` are already that page, in order, of `total` matching audits
    (the store filters and pages); else `rows` are every audit, filtered and paged here."""
    filters = filters or TrackerFilters()
    if total is None:
        chosen = sorted((r for r in rows if filters.matches(r)), key=_order)
        total = len(chosen)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(max(1, page), pages)
        shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    else:
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(max(1, page), pages)
        shown = list(rows)[:PAGE_SIZE]
    body: list[k.Element] = [
        k.heading(words.TRACKER_TITLE),
        k.subtle(
            words.tracker_filters(
                filters.team, filters.status, filters.overdue, filters.case_of_concern
            )
        ),
        k.subtle(words.tracker_page(page, pages, total)),
    ]
    if not shown:
        body.append(k.text(words.TRACKER_EMPTY))
    body += [_row(r, names) for r in shown]
    paging = []
    if page > 1:
        paging.append(
            button(words.TRACKER_PREVIOUS, Verb.TRACKER_PAGE, None, **filters.data(page - 1))
        )
    if page < pages:
        paging.append(button(words.TRACKER_NEXT, Verb.TRACKER_PAGE, None, **filters.data(page + 1)))
    return k.card(body, paging)


def _order(row: TrackerRow) -> tuple[bool, bool, float, str]:
    due = row.next_due.timestamp() if row.next_due else 0.0
    return (not row.overdue, row.next_due is None, due, row.audit_id)


def _row(row: TrackerRow, names: Mapping[str, str]) -> ColumnSet:
    flags = [words.status(row.status), row.team]
    if row.case_of_concern:
        flags.append(words.CASE_OF_CONCERN_FLAG)
    if row.next_step and row.next_due:
        due = words.overdue_since(row.next_due) if row.overdue else words.due_in(row.next_due, None)
        owner = f" – {words.OWNER_LABEL} {words.person(row.owner, names)}" if row.owner else ""
        next_line = k.fact(
            words.NEXT,
            f"{words.step(row.next_step)}{owner} – {due}",
            color=Colors.ATTENTION if row.overdue else None,
        )
    else:
        next_line = k.fact(words.NEXT, words.NOTHING_DUE)
    title = [k.run(words.audit_line(row.audit_id, row.child_id), bold=True)]
    if row.overdue:
        title.append(k.run(f"  {words.OVERDUE}", bold=True, color=Colors.ATTENTION))
    return ColumnSet(
        separator=True,
        spacing=Spacing.MEDIUM,
        columns=[
            Column(
                width="stretch",
                items=[k.line(*title), k.subtle(" · ".join(flags)), next_line],
            ),
            Column(
                width="auto",
                vertical_content_alignment=VerticalAlignment.CENTER,
                items=[k.buttons(button(words.DETAILS, Verb.AUDIT_DETAILS, row.audit_id))],
            ),
        ],
    )


def audit_details_card(
    audit: Audit, now: datetime, names: Mapping[str, str] = words.NO_NAMES
) -> dict[str, Any]:
    """What QA staff see behind a tracker row: state, grades, people and every deadline.
    The child's ID only; no answers."""
    body: list[k.Element] = [
        k.heading(words.DETAILS_TITLE),
        p.about(audit.id, audit.child_id),
        k.fact(words.STATUS, words.status(audit.status)),
        k.fact(words.TEAM, audit.team),
        k.fact(words.AUDITOR_OVERALL, words.grade(audit.auditor_grade)),
        k.fact(words.FINAL_GRADE, words.grade(audit.final_grade)),
    ]
    if audit.case_of_concern is not None and audit.case_of_concern.closed_at is None:
        body.append(k.text(words.CASE_OF_CONCERN_FLAG, bold=True, color=Colors.ATTENTION))
    body.append(k.subheading(words.PEOPLE_ON_AUDIT))
    for role in AUDIT_ROLES:
        who = audit.participants.of(role)
        if who:
            body.append(k.fact(role.label.capitalize(), words.person(who, names)))
    body.append(k.subheading(words.DEADLINES_TITLE))
    for deadline in sorted(audit.deadlines.values(), key=lambda d: d.due_at):
        if deadline.open:
            late = deadline.due_at < now
            state = (
                words.overdue_since(deadline.due_at, now)
                if late
                else words.due_in(deadline.due_at, now)
            )
            color = Colors.ATTENTION if late else None
        else:
            assert deadline.done_at is not None
            state, color = words.DONE_ON.format(when=words.when(deadline.done_at)), None
        who = words.person(deadline.owner, names)
        body.append(k.fact(f"{words.step(deadline.step)} ({who})", state, color=color))
    return k.card(body, [])
