"""What a person must be told: one frozen dataclass per kind of notice.

A notice carries the audit's id, the child's ID and a few facts (a role, a
grade, a deadline, an action number), never a name or anyone's answers.

In the outbox a notice is a row: its `kind` (a `NoticeKind` value), its
recipient, whether it is urgent, and a JSON payload of the audit id, the
child's ID and the kind's fields (`payload_of`). `notice_from_row` reads one
back. The payload has the same keys as before notices were typed, so rows
already queued still load; keys a kind no longer has are ignored, and a field
a kind has gained takes its default.
"""

from __future__ import annotations

import operator
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from functools import reduce
from typing import Any, ClassVar, TypeAlias, get_args, get_type_hints

from audits.grades import Grade
from audits.roles import Role
from audits.steps import DeadlineKey, deadline_key
from audits.workdays import as_utc


class NoticeKind(StrEnum):
    ALLOCATED = "allocated"
    IRO_COMMENTS_REQUESTED = "iro_comments_requested"
    IRO_COMMENTS_ADDED = "iro_comments_added"
    READY_FOR_MODERATION = "ready_for_moderation"
    MODERATION_COMPLETE = "moderation_complete"
    READY_FOR_PANEL = "ready_for_panel"
    READY_TO_CLOSE = "ready_to_close"
    RETURNED = "returned"
    CLOSED = "closed"
    CASE_OF_CONCERN = "case_of_concern"
    PLAN_CONFIRMED = "plan_confirmed"
    REAUDIT_REQUESTED = "reaudit_requested"
    REAUDIT_RECORDED = "reaudit_recorded"
    CASE_OF_CONCERN_CLOSED = "case_of_concern_closed"
    ACTION_ASSIGNED = "action_assigned"
    ACTION_TO_SIGN_OFF = "action_to_sign_off"
    ACTION_SIGNED_OFF = "action_signed_off"
    ACTION_RETURNED = "action_returned"
    REASSIGNED_TO = "reassigned_to"
    REASSIGNED_AWAY = "reassigned_away"
    DEADLINE_MOVED = "deadline_moved"
    CHECKLIST_DONE = "checklist_done"
    CHECKLIST_REQUESTED = "checklist_requested"
    FEEDBACK_REQUESTED = "feedback_requested"
    NUDGE = "nudge"  # sent by the scheduler: a deadline is near, or has passed
    ESCALATION = "escalation"  # sent by the scheduler: someone else's deadline has passed


# Who is told, and how: not part of the payload (the outbox row has its own columns).
_ENVELOPE = ("to", "urgent", "email", "teams")


@dataclass(frozen=True, kw_only=True)
class Notice:
    """Something a person must be told. Each kind is a subclass; `kind` names it."""

    kind: ClassVar[NoticeKind]
    to: str
    audit_id: str
    child_id: str
    urgent: bool = False
    # How it goes (the outbox row's channel, not its payload): not part of what a
    # notice says, so two notices saying the same are equal however they go.
    email: bool = field(default=False, compare=False)  # sent by e-mail too
    # False: by e-mail only (a shared mailbox such as the QA inbox).
    teams: bool = field(default=True, compare=False)


@dataclass(frozen=True, kw_only=True)
class Allocated(Notice):
    """To the auditor, the social worker and the moderator: an audit is theirs."""

    kind = NoticeKind.ALLOCATED
    role: Role
    due: datetime | None


@dataclass(frozen=True, kw_only=True)
class IroCommentsRequested(Notice):
    kind = NoticeKind.IRO_COMMENTS_REQUESTED
    due: datetime
    role: Role = Role.IRO


@dataclass(frozen=True, kw_only=True)
class IroCommentsAdded(Notice):
    kind = NoticeKind.IRO_COMMENTS_ADDED


@dataclass(frozen=True, kw_only=True)
class ChecklistRequested(Notice):
    kind = NoticeKind.CHECKLIST_REQUESTED
    title: str
    due: datetime | None


@dataclass(frozen=True, kw_only=True)
class ChecklistDone(Notice):
    kind = NoticeKind.CHECKLIST_DONE
    title: str


@dataclass(frozen=True, kw_only=True)
class ReadyForModeration(Notice):
    kind = NoticeKind.READY_FOR_MODERATION
    due: datetime | None
    inadequate_sections: tuple[str, ...]  # the labels of sections the auditor graded Inadequate
    grade: Grade


@dataclass(frozen=True)
class Regrade:
    """A grade the moderator changed: stored as {"section", "from", "to"}."""

    section: str
    old: Grade | None
    new: Grade

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "from": self.old.value if self.old else None,
            "to": self.new.value,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Regrade:
        old = data.get("from")
        return cls(str(data["section"]), Grade(old) if old else None, Grade(data["to"]))


@dataclass(frozen=True, kw_only=True)
class ModerationComplete(Notice):
    kind = NoticeKind.MODERATION_COMPLETE
    grade: Grade
    regraded: tuple[Regrade, ...]


@dataclass(frozen=True, kw_only=True)
class ReadyForPanel(Notice):
    """To the QA managers. A resubmission (the panel asked for more) carries no grade."""

    kind = NoticeKind.READY_FOR_PANEL
    grade: Grade | None = None
    resubmitted: bool = False


@dataclass(frozen=True, kw_only=True)
class ReadyToClose(Notice):
    kind = NoticeKind.READY_TO_CLOSE
    grade: Grade | None
    due: datetime | None
    panel: bool


@dataclass(frozen=True, kw_only=True)
class Returned(Notice):
    """To the auditor: the panel returned the audit."""

    kind = NoticeKind.RETURNED
    due: datetime


@dataclass(frozen=True, kw_only=True)
class Closed(Notice):
    kind = NoticeKind.CLOSED
    role: Role
    grade: Grade | None


@dataclass(frozen=True, kw_only=True)
class FeedbackRequested(Notice):
    """To the social worker: their feedback on the closed audit."""

    kind = NoticeKind.FEEDBACK_REQUESTED
    due: datetime
    grade: Grade | None


@dataclass(frozen=True, kw_only=True)
class CaseOfConcernRaised(Notice):
    """At once, in Teams and by e-mail: an audit was judged Inadequate."""

    kind = NoticeKind.CASE_OF_CONCERN
    urgent: bool = True
    email: bool = field(default=True, compare=False)
    role: Role
    raised_by: Role
    plan_due: datetime | None
    # False: the process has no case of concern plan (the alert asks for none).
    plan: bool = True


@dataclass(frozen=True, kw_only=True)
class PlanConfirmed(Notice):
    kind = NoticeKind.PLAN_CONFIRMED


@dataclass(frozen=True, kw_only=True)
class ReauditRequested(Notice):
    """To the owner of the re-audit, when the moderated case of concern is theirs to
    re-audit (with no deadline where the framework gives none)."""

    kind = NoticeKind.REAUDIT_REQUESTED
    due: datetime | None


@dataclass(frozen=True, kw_only=True)
class ReauditRecorded(Notice):
    kind = NoticeKind.REAUDIT_RECORDED
    grade: Grade


@dataclass(frozen=True, kw_only=True)
class CaseOfConcernClosed(Notice):
    kind = NoticeKind.CASE_OF_CONCERN_CLOSED


@dataclass(frozen=True, kw_only=True)
class ActionAssigned(Notice):
    kind = NoticeKind.ACTION_ASSIGNED
    action: int
    due: date


@dataclass(frozen=True, kw_only=True)
class ActionToSignOff(Notice):
    kind = NoticeKind.ACTION_TO_SIGN_OFF
    action: int


@dataclass(frozen=True, kw_only=True)
class ActionSignedOff(Notice):
    kind = NoticeKind.ACTION_SIGNED_OFF
    action: int


@dataclass(frozen=True, kw_only=True)
class ActionReturned(Notice):
    kind = NoticeKind.ACTION_RETURNED
    action: int


@dataclass(frozen=True, kw_only=True)
class ReassignedTo(Notice):
    kind = NoticeKind.REASSIGNED_TO
    role: Role
    due: datetime | None  # the next deadline, when it is the new person's


@dataclass(frozen=True, kw_only=True)
class ReassignedAway(Notice):
    kind = NoticeKind.REASSIGNED_AWAY
    role: Role


@dataclass(frozen=True, kw_only=True)
class DeadlineMoved(Notice):
    kind = NoticeKind.DEADLINE_MOVED
    step: DeadlineKey
    due: datetime


@dataclass(frozen=True, kw_only=True)
class Nudged(Notice):
    """From the scheduler, to a step's owner: its deadline is near, or has passed."""

    kind = NoticeKind.NUDGE
    step: DeadlineKey
    due: datetime
    at: datetime  # when the scheduler sent it
    overdue: bool


@dataclass(frozen=True, kw_only=True)
class Escalated(Notice):
    """From the scheduler, to someone else: `owner`'s deadline has passed."""

    kind = NoticeKind.ESCALATION
    step: DeadlineKey
    due: datetime
    at: datetime
    owner: str
    role: Role  # the role it escalates to


AnyNotice: TypeAlias = (
    Allocated
    | IroCommentsRequested
    | IroCommentsAdded
    | ChecklistRequested
    | ChecklistDone
    | ReadyForModeration
    | ModerationComplete
    | ReadyForPanel
    | ReadyToClose
    | Returned
    | Closed
    | FeedbackRequested
    | CaseOfConcernRaised
    | PlanConfirmed
    | ReauditRequested
    | ReauditRecorded
    | CaseOfConcernClosed
    | ActionAssigned
    | ActionToSignOff
    | ActionSignedOff
    | ActionReturned
    | ReassignedTo
    | ReassignedAway
    | DeadlineMoved
    | Nudged
    | Escalated
)

NOTICE_TYPES: dict[NoticeKind, type[AnyNotice]] = {cls.kind: cls for cls in get_args(AnyNotice)}


# ------------------------------------------------------------------ the outbox


def payload_of(notice: Notice) -> dict[str, Any]:
    """The outbox row's JSON payload: the audit id, the child's ID and the kind's fields."""
    return {
        f.name: _to_json(getattr(notice, f.name)) for f in fields(notice) if f.name not in _ENVELOPE
    }


def notice_from_row(
    kind: NoticeKind | str, payload: Mapping[str, Any], to: str = "", urgent: bool | None = None
) -> AnyNotice:
    """The notice an outbox row holds. ValueError for an unknown kind or a bad value,
    KeyError for a missing one (a field that may be None is None when missing).
    `urgent` None: the kind's default."""
    cls = NOTICE_TYPES[NoticeKind(kind)]
    values: dict[str, Any] = {"to": to}
    if urgent is not None:
        values["urgent"] = urgent
    for name, (decode, required) in _READERS[cls].items():
        if name in payload:
            values[name] = decode(payload[name])
        elif required:
            raise KeyError(name)
    return cls(**values)


def _to_json(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Regrade):
        return value.to_json()
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, str):
        return str(value)  # an ActionStep as the text it stands for
    return value


Decoder = Callable[[Any], Any]


def _optional(decode: Decoder) -> Decoder:
    return lambda value: None if value is None or value == "" else decode(value)


def _as_bool(value: Any) -> bool:
    return bool(value)


def _as_tuple_of_str(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _as_regrades(value: Any) -> tuple[Regrade, ...]:
    return tuple(Regrade.from_json(v) for v in value or ())


def _as_date(value: Any) -> date:
    return date.fromisoformat(str(value))


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _as_key(value: Any) -> DeadlineKey:
    return deadline_key(str(value))


_DECODERS: dict[Any, Decoder] = {
    str: str,
    int: int,
    bool: _as_bool,
    datetime: _as_datetime,
    date: _as_date,
    Role: Role,
    Grade: Grade,
    DeadlineKey: _as_key,
    tuple[str, ...]: _as_tuple_of_str,
    tuple[Regrade, ...]: _as_regrades,
}


def _readers(cls: type[Notice]) -> dict[str, tuple[Decoder, bool]]:
    """Each payload field of `cls`: how to read it from JSON (from its annotation), and
    whether a payload without it is refused (no default, and None not allowed)."""
    hints = get_type_hints(cls)
    out: dict[str, tuple[Decoder, bool]] = {}
    for f in fields(cls):
        if f.name in _ENVELOPE:
            continue
        hint = hints[f.name]
        has_default = f.default is not MISSING or f.default_factory is not MISSING
        args = get_args(hint)
        if hint not in _DECODERS and isinstance(hint, types.UnionType) and type(None) in args:
            inner = reduce(operator.or_, [a for a in args if a is not type(None)])
            out[f.name] = (_optional(_decoder(cls, f.name, inner)), False)
        else:
            out[f.name] = (_decoder(cls, f.name, hint), not has_default)
    return out


def _decoder(cls: type[Notice], name: str, hint: Any) -> Decoder:
    try:
        return _DECODERS[hint]
    except KeyError:
        raise TypeError(f"{cls.__name__}.{name}: no JSON reading for {hint}") from None


# Worked out once, at import: a field no JSON reading is known for fails at once.
_READERS: dict[type[Notice], dict[str, tuple[Decoder, bool]]] = {
    cls: _readers(cls) for cls in NOTICE_TYPES.values()
}
