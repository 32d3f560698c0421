"""The one table of which stage carries out each command, and `apply`, which runs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args

from audits import commands as c
from audits.errors import InvalidInput
from audits.model import Audit
from audits.workflow import actions, administration, answering, closing, concern, moderation
from audits.workflow._recorder import Context, Outcome, Recorder

C = TypeVar("C")


@dataclass(frozen=True)
class Handler(Generic[C]):
    """Carries out commands of type `command`: mypy checks that `run` takes that type."""

    command: type[C]
    run: Callable[[Recorder, C], Outcome]


class Registry:
    """Command types and their handlers, one each: a second handler for a type is refused."""

    def __init__(self, *handlers: Handler[Any]) -> None:
        self._by_type: dict[type[Any], Handler[Any]] = {}
        for h in handlers:
            if h.command in self._by_type:
                raise ValueError(f"two handlers for {h.command.__name__}")
            self._by_type[h.command] = h

    def handler(self, command_type: type[C]) -> Handler[C] | None:
        found: Handler[C] | None = self._by_type.get(command_type)
        return found

    def __iter__(self) -> Iterator[Handler[Any]]:
        return iter(self._by_type.values())

    def __len__(self) -> int:
        return len(self._by_type)

    def missing(self) -> list[type[Any]]:
        """The command types (of `commands.Command`) that have no handler."""
        return [t for t in get_args(c.Command) if t not in self._by_type]


HANDLERS = Registry(
    # answering
    Handler(c.CompleteChecklist, answering.complete_checklist),
    Handler(c.AnswerSection, answering.answer_section),
    Handler(c.RecordFamilyFeedback, answering.record_family_feedback),
    Handler(c.AddIroComments, answering.add_iro_comments),
    Handler(c.Submit, answering.submit),
    # moderation
    Handler(c.ModerateSection, moderation.moderate_section),
    Handler(c.CompleteModeration, moderation.complete_moderation),
    # the panel and closing
    Handler(c.RecordPanel, closing.record_panel),
    Handler(c.CloseAudit, closing.close),
    Handler(c.GivePractitionerFeedback, closing.practitioner_feedback),
    # case of concern
    Handler(c.ConfirmPlan, concern.confirm_plan),
    Handler(c.RecordReaudit, concern.record_reaudit),
    Handler(c.CloseCaseOfConcern, concern.close_case_of_concern),
    # agreed actions
    Handler(c.AddAction, actions.add_action),
    Handler(c.RemoveAction, actions.remove_action),
    Handler(c.CompleteAction, actions.complete_action),
    Handler(c.SignOffAction, actions.sign_off_action),
    Handler(c.ReturnAction, actions.return_action),
    Handler(c.ReviewActions, actions.review_actions),
    # administration
    Handler(c.Reassign, administration.reassign),
    Handler(c.ExtendDeadline, administration.extend),
)


def apply(audit: Audit, command: c.Command, ctx: Context) -> Outcome:
    if audit.template != ctx.template.id or audit.policy != ctx.policy.id:
        raise AssertionError("context built for another template or policy")
    handler = HANDLERS.handler(type(command))
    if handler is None:
        raise InvalidInput(f"Unknown command {type(command).__name__}")
    return handler.run(Recorder(audit, ctx), command)
