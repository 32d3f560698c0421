"""Pressing the buttons: what Teams sends back goes through the router into the workflow.

`press` does what the Teams client does with an `Action.Execute` (or its
`Action.Submit` fallback): it refuses while a required input is empty, then
sends the button's data merged with the values of the inputs it gathers
(none when the button says `associatedInputs: none`; the parent card's and
its own when the button sits in an `Action.ShowCard`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from application.routes import ACTIONS
from audits import commands as c
from audits.catalog import Catalog, load_catalog
from audits.model import ActionStatus, Audit, PanelOutcome, Status
from audits.roles import StandingRoles
from audits.workdays import WorkingCalendar
from audits.workflow import Context, Outcome, apply
from cards import (
    action_completion_card,
    agreed_actions_card,
    close_card,
    family_feedback_card,
    iro_comments_card,
    moderation_card,
    moderation_summary_card,
    panel_card,
    plan_card,
    review_card,
    section_card,
    sign_off_card,
    words,
)
from tests.support.council import with_own_questions
from tests.support.people import QA_MANAGER
from tests.support.teams import Blocked, press
from tests.test_cards import EVIDENCE, START, Scenes, _scenes


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """A council that turns on the Swindon tool's own questions (its seven limiting
    judgements, off as shipped): these cards show them."""
    return with_own_questions(load_catalog())


@pytest.fixture(scope="module")
def scenes(catalog: Catalog, calendar: WorkingCalendar, standing: StandingRoles) -> Scenes:
    return _scenes(catalog, calendar, standing)


@pytest.fixture
def run(scenes: Scenes, calendar: WorkingCalendar, standing: StandingRoles) -> Any:
    def run(audit: Audit, actor: str, command: c.Command | None) -> Outcome:
        assert command is not None
        now = START + timedelta(days=1)
        ctx = Context(actor, now, scenes.template, scenes.policy, calendar, standing)
        return apply(audit, command, ctx)

    return run


def routed(
    card: dict[str, Any], title: str, typed: dict[str, str] | None = None
) -> c.Command | None:
    verb, data = press(card, title, typed)
    return ACTIONS.command_for(verb, data)


# ------------------------------------------------------------------- the form


@pytest.mark.parametrize(
    "section_id",
    [
        "about",
        "practitioner",
        "case-summary",
        "checks",
        "risk",
        "involvement",
        "decision-making",
        "plans",
        "final-judgement",
        "sharing",
    ],
)
def test_saving_a_section_card_unchanged_changes_nothing(
    section_id: str, scenes: Scenes, run: Any
) -> None:
    """Every pre-filled value is exactly what is stored, and all of it is sent back."""
    section = scenes.template.section(section_id)
    stored = scenes.filled.answers[section_id]
    card = section_card(scenes.filled, scenes.template, section_id)
    for title in (words.SAVE_AND_NEXT, words.SAVE_AND_PAUSE):
        command = routed(card, title)
        assert isinstance(command, c.AnswerSection) and command.section == section_id
        sent = {key: section.question(key).parse(v) for key, v in command.values.items()}
        own = {q.id for q in section.questions if not q.prefill}
        assert sent == {key: v for key, v in stored.values.items() if key in own}
        assert command.grade == (stored.grade.value if stored.grade else None)
        assert (command.evidence, command.impact) == (stored.evidence, stored.impact)
        outcome = run(scenes.filled, scenes.filled.participants.auditor, command)
        assert outcome.changes == []


def test_answers_typed_into_a_section_card_are_saved(scenes: Scenes, run: Any) -> None:
    card = section_card(scenes.allocated, scenes.template, "involvement")
    command = routed(
        card,
        words.SAVE_AND_NEXT,
        {
            "grade": "requires_improvement",
            "evidence": EVIDENCE,
            "impact": "Seen, not seen alone",
            "q.child_seen": "yes",
            "q.child_seen_alone": "na",
        },
    )
    audit = run(scenes.allocated, scenes.allocated.participants.auditor, command).audit
    answer = audit.answers["involvement"]
    assert (answer.grade.value, answer.evidence, answer.values) == (
        "requires_improvement",
        EVIDENCE,
        {"child_seen": "yes", "child_seen_alone": "na"},
    )


def test_family_feedback_card(scenes: Scenes, run: Any) -> None:
    card = family_feedback_card(scenes.allocated, scenes.policy)
    command = routed(
        card, words.SAVE_FEEDBACK, {"sought_from": "young_person,carer", "summary": "Happy"}
    )
    audit = run(scenes.allocated, scenes.allocated.participants.auditor, command).audit
    assert audit.family_feedback is not None
    assert audit.family_feedback.sought_from == ["young_person", "carer"]


def test_submit_needs_the_reason_the_grade_rules_ask_for(scenes: Scenes, run: Any) -> None:
    card = review_card(scenes.reason_needed, scenes.template, scenes.policy)
    with pytest.raises(Blocked, match="grade_reason"):
        press(card, words.SUBMIT)
    command = routed(card, words.SUBMIT, {"grade_reason": "Too young to be seen alone"})
    audit = run(scenes.reason_needed, scenes.reason_needed.participants.auditor, command).audit
    assert audit.status is Status.SUBMITTED and audit.grade_reason == "Too young to be seen alone"
    # Going back needs nothing typed.
    assert routed(card, words.BACK_TO_AUDIT) is None


def test_adding_an_agreed_action(scenes: Scenes, run: Any) -> None:
    card = agreed_actions_card(scenes.with_action, scenes.template)
    with pytest.raises(Blocked):
        press(card, words.ADD_ACTION)
    command = routed(
        card,
        words.ADD_ACTION,
        {
            "text": "Update the plan with the family at the next review",
            "owner": "sw2@council.example",
            "due": "2026-12-18",
        },
    )
    audit = run(scenes.with_action, scenes.with_action.participants.auditor, command).audit
    assert [a.number for a in audit.actions] == [1, 2]


def test_iro_comments_card(scenes: Scenes, run: Any) -> None:
    card = iro_comments_card(scenes.allocated)
    with pytest.raises(Blocked, match="comments"):
        press(card, words.ADD_COMMENTS)
    command = routed(card, words.ADD_COMMENTS, {"comments": "Plan is on track"})
    audit = run(scenes.allocated, "iro1@council.example", command).audit
    assert [x.text for x in audit.iro_comments] == ["Plan is on track"]


# ----------------------------------------------------------------- moderation


def test_saving_a_moderation_card_unchanged_keeps_the_decision(scenes: Scenes, run: Any) -> None:
    card = moderation_card(scenes.moderating, scenes.template, "risk")
    command = routed(card, words.SAVE_AND_NEXT)
    assert isinstance(command, c.ModerateSection) and command.agree is False
    audit = run(scenes.moderating, scenes.moderating.participants.moderator, command).audit
    assert audit.moderation is not None and scenes.moderating.moderation is not None
    before = scenes.moderating.moderation.sections["risk"]
    after = audit.moderation.sections["risk"]
    assert (after.agreed, after.grade, after.reason) == (before.agreed, before.grade, before.reason)


def test_agreeing_with_a_section(scenes: Scenes, run: Any) -> None:
    card = moderation_card(scenes.moderating, scenes.template, "plans")
    with pytest.raises(Blocked, match="decision"):
        press(card, words.SAVE_AND_NEXT)
    command = routed(card, words.SAVE_AND_NEXT, {"decision": "agree"})
    audit = run(scenes.moderating, scenes.moderating.participants.moderator, command).audit
    assert audit.moderation is not None and audit.moderation.sections["plans"].agreed


def test_completing_the_moderation(scenes: Scenes, run: Any) -> None:
    moderator = scenes.moderating.participants.moderator
    audit = scenes.moderating
    for s in scenes.template.graded_sections[2:-1]:
        audit = run(audit, moderator, c.ModerateSection(s.id, agree=True)).audit
    card = moderation_summary_card(audit, scenes.template)
    with pytest.raises(Blocked):
        press(card, words.COMPLETE_MODERATION)
    typed = {"grade": "good", "evidence": "Read the file", "impact": "Child safer"}
    done = run(audit, moderator, routed(card, words.COMPLETE_MODERATION, typed)).audit
    assert done.status is Status.MODERATED


# ------------------------------------------------- panel, close, concern, actions


def test_panel_returns_the_audit_with_notes(scenes: Scenes, run: Any) -> None:
    moderated = scenes.panel_agreed.model_copy(update={"status": Status.MODERATED})
    card = panel_card(moderated)
    with pytest.raises(Blocked, match="outcome"):
        press(card, words.RECORD_PANEL)
    typed = {"outcome": "returned", "notes": "More on permanence"}
    audit = run(moderated, QA_MANAGER, routed(card, words.RECORD_PANEL, typed)).audit
    assert audit.status is Status.RETURNED and audit.panel[-1].outcome is PanelOutcome.RETURNED


def test_closing(scenes: Scenes, run: Any) -> None:
    command = routed(close_card(scenes.panel_agreed), words.CLOSE_AUDIT)
    assert run(scenes.panel_agreed, QA_MANAGER, command).audit.status is Status.CLOSED


def test_confirming_the_plan(scenes: Scenes, run: Any) -> None:
    card = plan_card(scenes.concern)
    with pytest.raises(Blocked):
        press(card, words.CONFIRM_PLAN)
    typed = {"plan": "Strategy meeting on Friday", "owner": "tm2@council.example"}
    audit = run(scenes.concern, "sm2@council.example", routed(card, words.CONFIRM_PLAN, typed))
    assert audit.audit.case_of_concern is not None
    assert audit.audit.case_of_concern.plan == "Strategy meeting on Friday"


def test_completing_an_action(scenes: Scenes, run: Any) -> None:
    card = action_completion_card(scenes.concern, 1)
    with pytest.raises(Blocked, match="evidence"):
        press(card, words.MARK_COMPLETE)
    command = routed(card, words.MARK_COMPLETE, {"evidence": "Minutes on file"})
    audit = run(scenes.concern, "tm2@council.example", command).audit
    action = audit.action(1)
    assert action is not None and action.status is ActionStatus.COMPLETED


def test_signing_off_needs_no_reason_but_returning_does(scenes: Scenes, run: Any) -> None:
    card = sign_off_card(scenes.action_done, 1)
    signed = run(scenes.action_done, "sm2@council.example", routed(card, words.SIGN_OFF)).audit
    action = signed.action(1)
    assert action is not None and action.status is ActionStatus.SIGNED_OFF
    with pytest.raises(Blocked, match="reason"):
        press(card, words.RETURN_ACTION_CONFIRM)
    command = routed(card, words.RETURN_ACTION_CONFIRM, {"reason": "No minutes"})
    returned = run(scenes.action_done, "sm2@council.example", command).audit
    action = returned.action(1)
    assert action is not None and action.status is ActionStatus.OPEN
