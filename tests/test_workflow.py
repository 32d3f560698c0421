"""The workflow's own structure: one handler per command, typed deadline keys."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime
from typing import Any, get_args, get_type_hints

import pytest

from audits import commands as c
from audits.model import Deadline
from audits.roles import Role
from audits.steps import (
    ActionStep,
    StepId,
    action_number,
    action_step,
    deadline_key,
    is_action_step,
    policy_step,
)
from audits.workflow import HANDLERS
from audits.workflow.registry import Handler, Registry

COMMANDS: tuple[type[Any], ...] = get_args(c.Command)


def test_every_command_has_exactly_one_handler() -> None:
    handled = [h.command for h in HANDLERS]
    assert HANDLERS.missing() == []
    assert sorted(t.__name__ for t in handled) == sorted(t.__name__ for t in COMMANDS)
    assert len(handled) == len(set(handled)) == len(HANDLERS)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda t: t.__name__)
def test_each_handler_takes_its_own_command(command: type[Any]) -> None:
    handler = HANDLERS.handler(command)
    assert handler is not None, f"no handler for {command.__name__}"
    hints = get_type_hints(handler.run)
    assert list(hints.values())[1] is command


def test_a_registry_refuses_two_handlers_for_one_command_and_finds_the_missing() -> None:
    first = next(iter(HANDLERS))
    with pytest.raises(ValueError, match="two handlers"):
        Registry(first, Handler(first.command, first.run))
    assert Registry(first).handler(first.command) is first
    assert set(Registry(first).missing()) == set(COMMANDS) - {first.command}


def test_action_steps_are_the_text_stored() -> None:
    key = action_step(3)
    assert key == "action-3" and isinstance(key, str) and key.number == 3
    assert action_number("action-3") == 3 and is_action_step(key)
    for text in ("action", "action-", "action-0", "action-03", "action-x", "audit_completion"):
        assert action_number(text) is None, text
    assert deadline_key("action-12") == ActionStep(12)
    assert deadline_key("moderation") is StepId.MODERATION
    assert policy_step("action-12") is StepId.ACTION
    assert policy_step("closure") is StepId.CLOSURE
    with pytest.raises(ValueError):
        deadline_key("nope")
    with pytest.raises(ValueError):
        ActionStep(0)
    assert copy.deepcopy(key) == key and pickle.loads(pickle.dumps(key)) == key
    assert type(pickle.loads(pickle.dumps(key))) is ActionStep


def test_a_deadline_reads_its_key_back_typed() -> None:
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    for stored, typed in (("action-2", ActionStep(2)), ("iro_comments", StepId.IRO_COMMENTS)):
        d = Deadline(step=stored, owner="a@x", role=Role.AUDITOR, started_at=now, due_at=now)
        assert d.step == typed and type(d.step) is type(typed)
        assert d.model_dump(mode="json")["step"] == stored
        assert Deadline.model_validate(d.model_dump()).step == typed
    with pytest.raises(ValueError):
        Deadline(step="action-x", owner="a@x", role=Role.AUDITOR, started_at=now, due_at=now)
