"""The steps of a case file audit, and the keys of their deadlines.

A fixed step (`StepId`) has at most one deadline on an audit, kept under the
step's own name. Every agreed action has a deadline of its own under
`ActionStep(n)`, "action-n" as stored, and shares the policy of the `action`
step. `DeadlineKey` is either; `deadline_key` reads one back from text.

Both are `str`s, so they compare equal to the text stored in a database row
or typed on the command line, and key `Audit.deadlines` as that text does.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeAlias

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_ACTION_PREFIX = "action-"


class StepId(StrEnum):
    IRO_COMMENTS = "iro_comments"
    AUDIT = "audit_completion"
    MODERATION = "moderation"
    CLOSURE = "closure"
    COC_PLAN = "coc_plan"
    REAUDIT = "reaudit"
    ACTION = "action"
    PRACTITIONER_FEEDBACK = "practitioner_feedback"
    # Bristol: "Actions ... must be reviewed by the Service Manager within 1 month and
    # update added as a case direction."
    ACTIONS_REVIEW = "actions_review"


class ActionStep(str):
    """The deadline of agreed action `number`: the text "action-<number>"."""

    __slots__ = ()

    def __new__(cls, number: int) -> ActionStep:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ValueError(f"an action's number is a whole number from 1, not {number!r}")
        return super().__new__(cls, f"{_ACTION_PREFIX}{number}")

    def __getnewargs__(self) -> tuple[int]:  # type: ignore[override]
        # copy and pickle rebuild it from its number, not its text.
        return (self.number,)

    @property
    def number(self) -> int:
        return int(self.removeprefix(_ACTION_PREFIX))

    def __repr__(self) -> str:
        return f"ActionStep({self.number})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            _action_step_of,
            core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


DeadlineKey: TypeAlias = StepId | ActionStep


def action_step(number: int) -> ActionStep:
    """The deadline key of agreed action `number` ("action-3")."""
    return ActionStep(number)


def action_number(key: str) -> int | None:
    """The number of the agreed action whose deadline `key` is; None for any other key."""
    if not key.startswith(_ACTION_PREFIX):
        return None
    digits = key.removeprefix(_ACTION_PREFIX)
    # Only the text `ActionStep` writes: "action-3", never "action-03" or "action-0".
    if not (digits.isascii() and digits.isdigit()) or str(int(digits)) != digits or digits == "0":
        return None
    return int(digits)


def is_action_step(key: str) -> bool:
    return action_number(key) is not None


def deadline_key(text: str) -> DeadlineKey:
    """A deadline key from its text; ValueError if it names no step."""
    number = action_number(text)
    if number is not None:
        return ActionStep(number)
    return StepId(text)


def policy_step(key: str) -> StepId:
    """The policy step a deadline follows: agreed actions share `action`.
    ValueError if `key` names no step."""
    return StepId.ACTION if is_action_step(key) else StepId(key)


def _action_step_of(text: str) -> ActionStep:
    number = action_number(text)
    if number is None:
        raise ValueError(f"'{text}' is not an agreed action's deadline (action-<number>)")
    return ActionStep(number)
