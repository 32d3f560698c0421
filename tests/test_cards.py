"""Cards built from real audits taken through the real workflow.

Every card is checked against the official Adaptive Card 1.5 schema, the
Teams size limit, its golden JSON (UPDATE_GOLDEN=1 rewrites them), the verb
and audit id on every button, and what it may show: the auditor's answers
appear on the audit's own form cards and receipts, never in a notice.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa

from application.routes import ACTIONS
from audits import commands as c
from audits.catalog import Catalog, load_catalog
from audits.errors import InvalidInput
from audits.grades import Grade, GradeRule
from audits.model import Audit, Status
from audits.policies import Policy, RuleAction
from audits.reminders import ReminderKind, plan
from audits.roles import Role, StandingRoles
from audits.steps import action_step
from audits.templates import Template
from audits.workdays import WorkingCalendar
from audits.workflow import (
    FEEDBACK_SOURCES,
    SYSTEM,
    Context,
    Notice,
    NoticeKind,
    allocate,
    apply,
    payload_of,
    roles_of,
)
from audits.workflow import notices as typed
from audits.workflow.notices import NOTICE_TYPES, notice_from_row
from cards import (
    MAX_CARD_BYTES,
    MyAuditRow,
    Verb,
    action_completion_card,
    action_data,
    actions_review_card,
    agreed_actions_card,
    allocation_card,
    case_of_concern_alert_card,
    close_card,
    escalation_card,
    family_feedback_card,
    help_card,
    iro_comments_card,
    moderation_card,
    moderation_summary_card,
    my_audits_card,
    notice_card,
    nudge_card,
    panel_card,
    plan_card,
    reaudit_card,
    receipt_card,
    review_card,
    section_card,
    section_receipt_lines,
    sign_off_card,
    size_of,
    status_card,
    type_answer_card,
    validate,
    welcome_card,
    words,
)
from cards.actions import PERSONAL_VERBS
from cards.notices import card_of
from scheduling.runner import reminder_notices
from store import outbox_queue
from store.db import Database
from store.schema import outbox
from tests.support.allocations import allocation
from tests.support.council import with_own_questions
from tests.support.factories import sample_value
from tests.support.people import QA_MANAGER, QA_OFFICER

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday, as in conftest


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """A council that turns on the Swindon tool's own questions (its seven limiting
    judgements, off as shipped): these cards show them."""
    return with_own_questions(load_catalog())


GOLDEN = Path(__file__).parent / "golden" / "cards"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

# A child's name typed into answers: it must never reach a notice.
NAME = "Jo Bloggs"
# What people type that a renderer could take for formatting or code.
MARKUP = (
    "**bold** <b>html</b> ${template} {{DATE(2026-11-02T09:00:00Z, SHORT)}} "
    "[link](https://example.org) # heading _it_"
)
EVIDENCE = f"{NAME} was seen at home on 12 October. {MARKUP}"
IMPACT = f"{NAME} is safer and her plan is moving on."


# ------------------------------------------------------------------ journeys


class Journey:
    """One audit taken through the pure workflow, collecting every notice it sends."""

    def __init__(
        self,
        catalog: Catalog,
        calendar: WorkingCalendar,
        standing: StandingRoles,
        audit_id: str,
        child: str,
        n: int,
        template: str = "swindon-practice-evaluation",
        policy: str = "swindon",
    ) -> None:
        self.template: Template = catalog.template(template)
        # A council's own variant of the policy that asks for every box a card can
        # show: a reason for a Good with a limiting judgement not met, and a reason
        # the family's feedback could not be sought (Swindon's own refuses both).
        self.policy: Policy = catalog.policy(policy).model_copy(
            update={
                "family_feedback_reason_accepted": True,
                "grade_rules": {
                    GradeRule.OUTSTANDING_NEEDS_ALL_OUTSTANDING: RuleAction.REFUSE,
                    GradeRule.GOOD_NEEDS_LIMITING_JUDGEMENTS: RuleAction.REASON,
                },
            }
        )
        self.calendar, self.standing, self.now = calendar, standing, START
        self.notices: list[Notice] = []
        chosen = allocation(child, n=n, template=template, policy=policy)
        outcome = allocate(audit_id, chosen, self._ctx(SYSTEM))
        self.audit: Audit = outcome.audit
        self.notices += outcome.notices

    def _ctx(self, actor: str) -> Context:
        return Context(actor, self.now, self.template, self.policy, self.calendar, self.standing)

    def do(self, actor: str, command: c.Command) -> Audit:
        outcome = apply(self.audit, command, self._ctx(actor))
        self.audit = outcome.audit
        self.notices += outcome.notices
        return self.audit

    def later(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def fill(
        self,
        grades: dict[str, Grade] | None = None,
        overall: Grade = Grade.GOOD,
        overrides: dict[str, dict[str, Any]] | None = None,
    ) -> Audit:
        """Every section answered as the auditor, with the child's name in the free text."""
        grades, overrides = grades or {}, overrides or {}
        today = self.calendar.local_date(self.now)
        auditor = self.audit.participants.auditor
        for section in self.template.sections:
            values = {
                q.id: overrides.get(section.id, {}).get(q.id, sample_value(q, today))
                for q in section.questions
                if not q.prefill
            }
            values = {
                key: value
                for key, value in values.items()
                if all(values.get(d) == w for d, w in (section.question(key).when or {}).items())
            }
            graded = section.kind.value == "graded"
            grade = (
                overall
                if section.id == self.template.overall_section
                else grades.get(section.id, Grade.GOOD)
            )
            self.do(
                auditor,
                c.AnswerSection(
                    section.id,
                    grade=grade.value if graded else None,
                    evidence=EVIDENCE if graded else None,
                    impact=IMPACT if graded else None,
                    values=values,
                ),
            )
        return self.do(
            auditor,
            c.RecordFamilyFeedback(
                sought_from=("parent", "carer"),
                summary=f"{NAME}'s mother said the social worker listens. {MARKUP}",
            ),
        )

    def moderate(self, overall: Grade, regrade: dict[str, Grade] | None = None) -> Audit:
        regrade = regrade or {}
        moderator = self.audit.participants.moderator
        for s in self.template.graded_sections:
            if s.id == self.template.overall_section:
                continue
            if s.id in regrade:
                self.do(
                    moderator,
                    c.ModerateSection(
                        s.id,
                        agree=False,
                        grade=regrade[s.id].value,
                        reason=f"The records on {NAME} do not show it",
                    ),
                )
            else:
                self.do(moderator, c.ModerateSection(s.id, agree=True))
        return self.do(
            moderator,
            c.CompleteModeration(
                grade=overall.value,
                evidence=f"Read the file on {NAME}",
                impact="Discussed with the auditor",
            ),
        )


@dataclass
class Scenes:
    template: Template
    policy: Policy
    allocated: Audit
    filled: Audit
    moderating: Audit
    submitted: Audit
    panel_agreed: Audit
    with_action: Audit
    concern: Audit
    action_done: Audit
    reason_needed: Audit
    outstanding: Audit
    notices: list[Notice] = field(default_factory=list)


def _scenes(catalog: Catalog, calendar: WorkingCalendar, standing: StandingRoles) -> Scenes:
    # A Good audit the whole way: comments, answers, moderation with one
    # regrade, returned by the panel, agreed, deadline moved, closed.
    a = Journey(catalog, calendar, standing, "202611-001", "1000001", n=1)
    allocated = a.audit
    a.later(hours=20)
    a.do("iro1@council.example", c.AddIroComments(f"{NAME} says the plan is on track. {MARKUP}"))
    filled = a.fill(overrides={"case-summary": {"summary": f"{NAME} lives with her mother."}})
    submitted = a.do(a.audit.participants.auditor, c.Submit())
    moderator = a.audit.participants.moderator
    a.do(
        moderator,
        c.ModerateSection(
            "risk", agree=False, grade="requires_improvement", reason=f"No visit to {NAME} {MARKUP}"
        ),
    )
    moderating = a.do(moderator, c.ModerateSection("involvement", agree=True))
    a.audit = submitted  # moderate it all again from the start, for a complete record
    a.moderate(Grade.GOOD, regrade={"risk": Grade.REQUIRES_IMPROVEMENT})
    a.do(QA_MANAGER, c.RecordPanel("returned", f"More evidence about {NAME}'s permanence"))
    a.do(a.audit.participants.auditor, c.AnswerSection("permanency", evidence=EVIDENCE + " More."))
    a.do(a.audit.participants.auditor, c.Submit())
    panel_agreed = a.do(QA_MANAGER, c.RecordPanel("agreed", ""))
    a.do(QA_OFFICER, c.ExtendDeadline("closure", "2026-11-20", "QA manager on leave"))
    a.do(QA_MANAGER, c.CloseAudit())

    # Inadequate: reassigned social worker, an action, a case of concern with
    # its plan, the action returned and signed off, the re-audit, closed.
    b = Journey(catalog, calendar, standing, "202611-002", "1000002", n=2)
    b.do(QA_OFFICER, c.Reassign(Role.SOCIAL_WORKER, "sw9@council.example", "Long-term sick"))
    b.fill(
        grades={"risk": Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
        overrides={"risk": {"risks_addressed": "no"}},
    )
    auditor = b.audit.participants.auditor
    with_action = b.do(
        auditor,
        c.AddAction(
            f"Hold a strategy discussion about {NAME} this week",
            "tm2@council.example",
            "2026-11-09",
        ),
    )
    concern = b.do(auditor, c.Submit())
    b.later(hours=5)
    b.do("sm2@council.example", c.ConfirmPlan(f"Weekly visits to {NAME}", "tm2@council.example"))
    action_done = b.do("tm2@council.example", c.CompleteAction(1, f"Met {NAME}'s family {MARKUP}"))
    b.do("sm2@council.example", c.ReturnAction(1, f"Minutes about {NAME} are missing"))
    b.do("tm2@council.example", c.CompleteAction(1, "Minutes attached"))
    b.do("sm2@council.example", c.SignOffAction(1))
    b.moderate(Grade.INADEQUATE)
    b.later(weeks=6)
    b.do(QA_MANAGER, c.RecordReaudit("requires improvement", f"{NAME} is seen weekly"))
    b.do(QA_OFFICER, c.CloseCaseOfConcern(f"Actions for {NAME} embedded"))

    # Good overall with a limiting judgement not met: accepted only with a reason.
    r = Journey(catalog, calendar, standing, "202611-003", "1000003", n=3)
    reason_needed = r.fill(overrides={"involvement": {"child_seen_alone": "no"}})

    # Outstanding overall over sections that are not: refused by the policy.
    o = Journey(catalog, calendar, standing, "202611-004", "1000004", n=4)
    outstanding = o.fill(overall=Grade.OUTSTANDING)

    # Shropshire's tool under Bristol's process: the practitioner's checklist before
    # the audit; no panel; the social worker's feedback after QA shares it.
    s = Journey(
        catalog,
        calendar,
        standing,
        "202611-005",
        "1000005",
        n=5,
        template="child-journey-audit",
        policy="bristol",
    )
    checklist = s.template.checklist
    assert checklist is not None
    s.do(
        s.audit.participants.social_worker,
        c.CompleteChecklist(
            {q.id: sample_value(q, START.date()) for q in checklist.questions if not q.when}
        ),
    )
    s.fill()
    s.do(s.audit.participants.auditor, c.Submit())
    s.moderate(Grade.GOOD)
    s.do(QA_OFFICER, c.CloseAudit())
    s.do(s.audit.participants.social_worker, c.GivePractitionerFeedback(f"{NAME}: fair audit"))

    # What the scheduler sends: a nudge, an overdue notice and an escalation.
    late = [
        reminder
        for reminder in plan(allocated, a.policy, calendar)
        if reminder.step == "iro_comments" and reminder.kind is not ReminderKind.NUDGE
    ]
    reminded = [
        notice
        for reminder in plan(allocated, a.policy, calendar)[:1] + late
        for notice in reminder_notices(allocated, reminder, reminder.at, standing)
    ]

    return Scenes(
        template=a.template,
        policy=a.policy,
        allocated=allocated,
        filled=filled,
        moderating=moderating,
        submitted=submitted,
        panel_agreed=panel_agreed,
        with_action=with_action,
        concern=concern,
        action_done=action_done,
        reason_needed=reason_needed,
        outstanding=outstanding,
        notices=a.notices + b.notices + r.notices + o.notices + s.notices + reminded,
    )


@pytest.fixture(scope="session")
def scenes(catalog: Catalog, calendar: WorkingCalendar, standing: StandingRoles) -> Scenes:
    return _scenes(catalog, calendar, standing)


def _first(scenes: Scenes, kind: NoticeKind) -> Notice:
    return next(n for n in scenes.notices if n.kind is kind)


def _rows(s: Scenes) -> list[MyAuditRow]:
    """An auditor's list a week after allocation: one audit overdue, one not."""
    now = START + timedelta(days=7)
    return [
        MyAuditRow.of(
            audit,
            audit.participants.auditor,
            roles_of(audit, audit.participants.auditor, StandingRoles()),
            now,
        )
        for audit in (s.reason_needed, s.allocated, s.concern)
    ] + [MyAuditRow("202611-009", "1000009", "moderator", "Allocated", None, None, False)]


# --------------------------------------------------------------- the cards

Builder = Callable[[Scenes], dict[str, Any]]
A1, A2, A3 = "202611-001", "202611-002", "202611-003"
DUE = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)

# name -> (builder, the audit its buttons must name; None for personal cards)
CARDS: dict[str, tuple[Builder, str | None]] = {
    "welcome": (lambda s: welcome_card(None), None),
    "welcome-named": (lambda s: welcome_card("Ava Auditor"), None),
    "help": (lambda s: help_card(), None),
    "help-qa": (lambda s: help_card(qa=True), None),
    "status": (lambda s: status_card(s.allocated, START, mine=True), A1),
    "my-audits": (lambda s: my_audits_card(_rows(s)), None),
    "my-audits-empty": (lambda s: my_audits_card([]), None),
    "allocation-auditor": (lambda s: allocation_card(s.allocated, Role.AUDITOR, DUE), A1),
    "allocation-social-worker": (
        lambda s: allocation_card(s.allocated, Role.SOCIAL_WORKER, DUE),
        A1,
    ),
    "allocation-moderator": (lambda s: allocation_card(s.allocated, Role.MODERATOR, None), A1),
    "allocation-iro": (
        lambda s: allocation_card(
            s.allocated, Role.IRO, s.allocated.deadlines["iro_comments"].due_at
        ),
        A1,
    ),
    "family-feedback-empty": (lambda s: family_feedback_card(s.allocated), A1),
    "family-feedback": (lambda s: family_feedback_card(s.filled, s.policy), A1),
    "family-feedback-submitted": (lambda s: family_feedback_card(s.submitted), A1),
    "section-about": (lambda s: section_card(s.filled, s.template, "about"), A1),
    "section-empty": (lambda s: section_card(s.allocated, s.template, "involvement"), A1),
    "section-involvement": (lambda s: section_card(s.filled, s.template, "involvement"), A1),
    "section-decision-making": (
        lambda s: section_card(s.filled, s.template, "decision-making"),
        A1,
    ),
    "section-submitted": (lambda s: section_card(s.submitted, s.template, "risk"), A1),
    "type-evidence": (
        lambda s: type_answer_card(s.allocated, s.template, "risk", "evidence", 10_000),
        A1,
    ),
    "review-missing": (lambda s: review_card(s.allocated, s.template, s.policy), A1),
    "review-ready": (lambda s: review_card(s.filled, s.template, s.policy), A1),
    "review-reason": (lambda s: review_card(s.reason_needed, s.template, s.policy), A3),
    "review-refused": (lambda s: review_card(s.outstanding, s.template, s.policy), "202611-004"),
    "iro-comments": (lambda s: iro_comments_card(s.filled), A1),
    "moderation-risk": (lambda s: moderation_card(s.moderating, s.template, "risk"), A1),
    "moderation-plans": (lambda s: moderation_card(s.moderating, s.template, "plans"), A1),
    "moderation-summary": (lambda s: moderation_summary_card(s.moderating, s.template), A1),
    "moderation-summary-inadequate": (
        lambda s: moderation_summary_card(s.concern, s.template),
        A2,
    ),
    "case-of-concern-service-manager": (
        lambda s: case_of_concern_alert_card(s.concern, Role.SERVICE_MANAGER),
        A2,
    ),
    "case-of-concern-qa-manager": (
        lambda s: case_of_concern_alert_card(s.concern, Role.QA_MANAGER),
        A2,
    ),
    "plan": (lambda s: plan_card(s.concern), A2),
    "reaudit": (lambda s: reaudit_card(s.concern, s.template, s.policy), A2),
    "reaudit-second-auditor": (
        lambda s: reaudit_card(
            s.concern, s.template, s.policy.model_copy(update={"reaudit_by_second_auditor": True})
        ),
        A2,
    ),
    "actions-review": (lambda s: actions_review_card(s.with_action), A2),
    "agreed-actions-reaudit": (
        lambda s: agreed_actions_card(s.concern, s.template, reaudit=True),
        A2,
    ),
    "panel": (
        lambda s: panel_card(s.panel_agreed.model_copy(update={"status": Status.MODERATED})),
        A1,
    ),
    "close": (lambda s: close_card(s.panel_agreed), A1),
    "agreed-actions": (lambda s: agreed_actions_card(s.with_action, s.template), A2),
    "agreed-actions-moderator": (
        lambda s: agreed_actions_card(s.concern, s.template, moderation=True),
        A2,
    ),
    "action-completion": (lambda s: action_completion_card(s.concern, 1), A2),
    "sign-off": (lambda s: sign_off_card(s.action_done, 1), A2),
    "nudge": (
        lambda s: nudge_card(A1, "1000001", "audit_completion", DUE, False, now=START),
        A1,
    ),
    "nudge-overdue": (
        lambda s: nudge_card(
            A1, "1000001", "iro_comments", START, True, now=START + timedelta(hours=30)
        ),
        A1,
    ),
    "nudge-action": (lambda s: nudge_card(A2, "1000002", "action-1", DUE, False), A2),
    "escalation": (
        lambda s: escalation_card(
            A1, "1000001", "moderation", "moderator1@council.example", DUE, DUE
        ),
        A1,
    ),
    "escalation-later": (
        lambda s: escalation_card(
            A1, "1000001", "iro_comments", "iro1@council.example", START, START + timedelta(days=1)
        ),
        A1,
    ),
    "receipt": (
        lambda s: receipt_card("Family feedback saved", [("Sought from", "Parent, Carer")]),
        None,
    ),
}
for _kind in NoticeKind:
    CARDS[f"notice-{_kind.value}"] = (
        lambda s, kind=_kind: notice_card(kind, payload_of(_first(s, kind))),
        None,  # filled in by the test from the notice itself
    )

# Cards that reach people who do not work on the audit's answers.
NOTICES = [
    name
    for name in CARDS
    if name.startswith(("notice-", "allocation-", "nudge", "escalation", "case-of-concern"))
] + ["my-audits"]
# Cards of the audit form itself, where the auditor's answers belong.
FORM_CARDS = ["section-involvement", "section-submitted", "moderation-risk"]


def _build(name: str, scenes: Scenes) -> tuple[dict[str, Any], str | None]:
    builder, audit_id = CARDS[name]
    if name.startswith("notice-"):
        audit_id = _first(scenes, NoticeKind(name.removeprefix("notice-"))).audit_id
    return builder(scenes), audit_id


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _of_type(card: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [n for n in _walk(card) if str(n.get("type", "")).startswith(prefix)]


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in _of_type(card, "Input.")}


def _texts(card: dict[str, Any]) -> list[str]:
    return [n["text"] for n in _of_type(card, "TextRun")]


def _buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        n for n in _of_type(card, "Action.") if n["type"] in ("Action.Execute", "Action.Submit")
    ]


# ------------------------------------------------------- every card, checked


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_is_valid_adaptive_card_1_5(name: str, scenes: Scenes) -> None:
    card, _ = _build(name, scenes)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    validate(card)


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_fits_in_a_teams_message(name: str, scenes: Scenes) -> None:
    card, _ = _build(name, scenes)
    assert size_of(card) < MAX_CARD_BYTES


def _limited_inputs(card: dict[str, Any]) -> list[tuple[str, int]]:
    return [
        (node["id"], node["maxLength"])
        for node in _of_type(card, "Input.Text")
        if node.get("maxLength") and node.get("style") != "email"
    ]


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_input_is_held_to_the_limit_its_card_states(name: str, scenes: Scenes) -> None:
    """Whatever a client sends, a text one character over the card's maxLength is refused
    with that limit, and one at it is taken (e-mail inputs: the workflow checks them as
    addresses)."""
    card, _ = _build(name, scenes)
    checked = 0
    for button in _buttons(card):
        data = dict(button.get("data") or {})
        verb = Verb(button.get("verb") or data.get("verb"))
        if verb not in ACTIONS.readers:
            continue
        for input_id, limit in _limited_inputs(card):
            try:
                at_limit = ACTIONS.command_for(verb, {**data, input_id: "x" * limit})
                without = ACTIONS.command_for(verb, {**data, input_id: ""})
            except InvalidInput as exc:  # refused for another reason (e.g. no number)
                assert "too long" not in str(exc), (name, input_id, exc)
                continue
            if at_limit == without:
                continue  # this button does not send that input
            with pytest.raises(InvalidInput, match=f"at most {limit:,} characters"):
                ACTIONS.command_for(verb, {**data, input_id: "x" * (limit + 1)})
            checked += 1
    inputs = _limited_inputs(card)
    if inputs and any(Verb(b.get("verb") or "help") in ACTIONS.readers for b in _buttons(card)):
        assert checked, f"{name}: no input of {inputs} was checked"


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_button_carries_a_verb_and_the_audit_id(name: str, scenes: Scenes) -> None:
    card, audit_id = _build(name, scenes)
    for action in _of_type(card, "Action.Execute"):
        verb = Verb(action["verb"])
        assert action["data"]["verb"] == verb.value
        fallback = action["fallback"]
        assert fallback["type"] == "Action.Submit" and fallback["data"] == action["data"]
        if verb in PERSONAL_VERBS:
            assert "audit_id" not in action["data"]
        elif name.startswith("my-audits"):
            assert action["data"]["audit_id"].startswith("2026")
        else:
            assert action["data"]["audit_id"] == audit_id
    # No bare Submit button: every Submit is the fallback of an Execute.
    submits = _of_type(card, "Action.Submit")
    assert len(submits) == len(_of_type(card, "Action.Execute"))


@pytest.mark.parametrize("name", sorted(CARDS))
def test_inputs_never_overwrite_button_data(name: str, scenes: Scenes) -> None:
    card, _ = _build(name, scenes)
    data_keys = {key for b in _buttons(card) for key in b.get("data", {})}
    assert not data_keys & set(_inputs(card))


@pytest.mark.parametrize("name", sorted(CARDS))
def test_text_inputs_are_bounded_and_required_ones_explain_themselves(
    name: str, scenes: Scenes
) -> None:
    card, _ = _build(name, scenes)
    limits = {"evidence": 10_000, "impact": 10_000, "comments": 10_000, "summary": 4_000}
    for input_id, node in _inputs(card).items():
        if node["type"] == "Input.Text":
            assert node["maxLength"] <= 10_000, input_id
            if input_id in limits:
                assert node["maxLength"] == limits[input_id], input_id
        if node.get("isRequired"):
            assert node.get("errorMessage"), input_id


@pytest.mark.parametrize("name", sorted(CARDS))
def test_text_is_never_markdown(name: str, scenes: Scenes) -> None:
    """All text is TextRun (plain in every client); nothing in it is evaluated."""
    card, _ = _build(name, scenes)
    assert not _of_type(card, "TextBlock")
    assert not _of_type(card, "FactSet")
    for text in _texts(card):
        assert "{{" not in text and "${" not in text


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_matches_its_golden_file(name: str, scenes: Scenes) -> None:
    card, _ = _build(name, scenes)
    path = GOLDEN / f"{name}.json"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == card, (
        f"{name} differs from {path}; if the change is intended, run with UPDATE_GOLDEN=1"
    )


# ------------------------------------------------------------- who sees what


@pytest.mark.parametrize("name", NOTICES)
def test_notices_never_show_what_people_typed(name: str, scenes: Scenes) -> None:
    card, _ = _build(name, scenes)
    dumped = json.dumps(card, ensure_ascii=False)
    assert NAME not in dumped
    assert "**bold**" not in dumped
    assert any(child in dumped for child in ("1000001", "1000002", "1000003", "1000005"))


def test_every_notice_the_workflow_sends_has_a_card_without_answers(scenes: Scenes) -> None:
    assert {n.kind for n in scenes.notices} == set(NoticeKind)
    for notice in scenes.notices:
        card = notice_card(notice.kind.value, payload_of(notice))
        validate(card)
        assert size_of(card) < MAX_CARD_BYTES
        dumped = json.dumps(card, ensure_ascii=False)
        assert NAME not in dumped and notice.child_id in dumped


@pytest.mark.parametrize("name", FORM_CARDS)
def test_form_cards_show_the_answers(name: str, scenes: Scenes) -> None:
    card, _ = _build(name, scenes)
    assert NAME in json.dumps(card, ensure_ascii=False)


def test_typed_markup_is_shown_as_typed(scenes: Scenes) -> None:
    read_only = section_card(scenes.submitted, scenes.template, "risk")
    [shown] = [t for t in _texts(read_only) if "**bold**" in t]
    # Markdown and HTML arrive as plain characters; template and date syntax
    # carry an invisible word joiner so no client or templating evaluates them.
    assert "**bold** <b>html</b>" in shown and "[link](https://example.org) # heading _it_" in shown
    assert shown.replace("\u2060", "") == EVIDENCE
    # In the form, the box holds exactly what is stored, to be edited.
    form = _inputs(section_card(scenes.filled, scenes.template, "risk"))
    assert form["evidence"]["value"] == EVIDENCE


def test_notice_card_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError):
        notice_card("birthday", {"audit_id": A1, "child_id": "1000001"})
    with pytest.raises(KeyError):
        notice_card(NoticeKind.CLOSED, {"child_id": "1000001"})


def test_every_notice_kind_is_one_frozen_dataclass() -> None:
    assert set(NOTICE_TYPES) == set(NoticeKind)
    for kind, cls in NOTICE_TYPES.items():
        assert cls.kind is kind and dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen, cls.__name__  # type: ignore[attr-defined]
    assert len(set(NOTICE_TYPES.values())) == len(NoticeKind)


def test_every_notice_round_trips_through_the_outbox_json(scenes: Scenes) -> None:
    seen = set()
    for notice in scenes.notices:
        with pytest.raises(dataclasses.FrozenInstanceError):
            notice.to = "someone@else"  # type: ignore[misc]
        stored = json.loads(json.dumps(payload_of(notice)))
        assert stored["audit_id"] == notice.audit_id and stored["child_id"] == notice.child_id
        assert not {"to", "urgent", "email", "kind"} & set(stored)
        back = notice_from_row(notice.kind.value, stored, to=notice.to, urgent=notice.urgent)
        assert back == notice and type(back) is type(notice)
        assert notice_card(notice.kind, stored) == card_of(notice)
        seen.add(notice.kind)
    assert seen == set(NoticeKind)


async def test_notices_round_trip_through_the_outbox_table(scenes: Scenes, db: Database) -> None:
    # One of each kind, as enqueue writes them and the senders read them back.
    notices = list({n.kind: n for n in scenes.notices}.values())
    async with db.transaction() as conn:
        await outbox_queue.enqueue(conn, "A-roundtrip", 1, notices, START)
    async with db.reading() as conn:
        rows = (await conn.execute(sa.select(outbox))).mappings().all()
    by_key = {row["key"]: row for row in rows}
    for i, notice in enumerate(notices):
        # A notice to a shared mailbox (the QA inbox) is an e-mail only.
        channel = "teams" if notice.teams else "email"
        assert (f"A-roundtrip:v1:{i}:teams" in by_key) is notice.teams
        row = by_key[f"A-roundtrip:v1:{i}:{channel}"]
        assert (row["kind"], row["recipient"], row["urgent"]) == (
            notice.kind.value,
            notice.to,
            notice.urgent,
        )
        assert (
            notice_from_row(row["kind"], row["payload"], row["recipient"], row["urgent"]) == notice
        )


def test_outbox_rows_written_before_notices_were_typed_still_load() -> None:
    ids = {"audit_id": A1, "child_id": "1000001"}
    # READY_FOR_PANEL once carried either `resubmitted` or `grade`, never both.
    resubmitted = notice_from_row(NoticeKind.READY_FOR_PANEL, {**ids, "resubmitted": True})
    assert resubmitted == typed.ReadyForPanel(to="", **ids, grade=None, resubmitted=True)
    graded = notice_from_row(NoticeKind.READY_FOR_PANEL, {**ids, "grade": "good"})
    assert graded == typed.ReadyForPanel(to="", **ids, grade=Grade.GOOD)
    moved = notice_from_row(
        NoticeKind.DEADLINE_MOVED, {**ids, "step": "action-2", "due": "2026-11-30T17:30:00+00:00"}
    )
    assert isinstance(moved, typed.DeadlineMoved) and moved.step == action_step(2)
    assert moved.due == datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
    alert = notice_from_row(
        NoticeKind.CASE_OF_CONCERN,
        {**ids, "role": "qa_manager", "raised_by": "moderator", "plan_due": None},
    )
    assert alert == typed.CaseOfConcernRaised(
        to="", **ids, role=Role.QA_MANAGER, raised_by=Role.MODERATOR, plan_due=None
    )
    assert alert.urgent and alert.email
    with pytest.raises(KeyError):
        notice_from_row(NoticeKind.ACTION_ASSIGNED, {**ids, "due": "2026-11-30"})
    with pytest.raises(ValueError):
        notice_from_row(NoticeKind.NUDGE, {**ids, "step": "nope", "due": "x", "at": "y"})


# ------------------------------------------------------------ section cards


def test_section_card_is_prefilled_with_what_is_saved(scenes: Scenes) -> None:
    card = section_card(scenes.filled, scenes.template, "involvement")
    inputs = _inputs(card)
    assert inputs["grade"]["value"] == "good"
    assert [c["title"] for c in inputs["grade"]["choices"]] == [
        "Outstanding",
        "Good",
        "Requires Improvement",
        "Inadequate",
    ]
    assert inputs["evidence"]["value"] == EVIDENCE and inputs["impact"]["value"] == IMPACT
    assert inputs["evidence"]["isMultiline"] and inputs["evidence"]["maxLength"] == 10_000
    assert inputs["q.child_seen"]["value"] == "yes"
    assert inputs["q.child_seen_alone"]["style"] == "compact"
    assert [c["value"] for c in inputs["q.child_seen_alone"]["choices"]] == ["yes", "no", "na"]
    assert inputs["q.child_seen"]["label"] == "Limiting judgement: Has the child been seen?"
    # The template's prompts label the boxes.
    assert inputs["evidence"]["label"] == scenes.template.section("involvement").evidence_prompt
    # Every page of the form counts, not only the graded sections.
    assert "Page 6 of 17" in " ".join(_texts(card))
    [save, pause, evidence, impact] = card["actions"]
    assert (save["verb"], save["title"], save["data"]["section"]) == (
        "answer_section",
        "Save and next",
        "involvement",
    )
    assert (pause["verb"], pause["title"]) == ("save_and_pause", "Save and pause")
    # Long answers may be typed in the chat instead.
    assert [(a["verb"], a["data"]["field"]) for a in (evidence, impact)] == [
        ("type_answer", "evidence"),
        ("type_answer", "impact"),
    ]
    assert "associatedInputs" in evidence and evidence["associatedInputs"] == "none"


def test_guidance_is_collapsed_behind_a_button(scenes: Scenes) -> None:
    card = section_card(scenes.filled, scenes.template, "decision-making")
    [box] = [n for n in _walk(card) if n.get("id") == "guidance"]
    assert box["isVisible"] is False
    # "Show guidance" shows it and turns into "Hide guidance", which hides it again.
    show, hide = (n for n in _walk(card) if n.get("id") in ("guidance-show", "guidance-hide"))
    assert (show.get("isVisible", True), hide["isVisible"]) == (True, False)
    assert [a["title"] for a in show["actions"] + hide["actions"]] == [
        "Show guidance",
        "Hide guidance",
    ]
    for toggle in show["actions"] + hide["actions"]:
        assert toggle["type"] == "Action.ToggleVisibility"
        assert toggle["targetElements"] == [
            {"elementId": "guidance"},
            {"elementId": "guidance-show"},
            {"elementId": "guidance-hide"},
        ]
    prompts = scenes.template.section("decision-making").prompts
    assert {f"{p}" for p in prompts} <= set(_texts(box))
    assert "Page 7 of 17" in " ".join(_texts(card))


def test_details_section_shows_allocation_read_only_and_conditions(scenes: Scenes) -> None:
    card = section_card(scenes.filled, scenes.template, "about")
    inputs = _inputs(card)
    assert "grade" not in inputs and "evidence" not in inputs
    assert "q.child_id" not in inputs and "q.auditor" not in inputs  # from the allocation
    texts = _texts(card)
    assert "1000001" in texts and "auditor1@council.example" in texts
    assert "Only if the answer to 'Audited previously?' is Yes" in texts
    assert inputs["q.audited_previously"]["value"] == "yes"
    assert inputs["q.age_band"]["value"] == "0"
    assert inputs["q.audit_date"]["type"] == "Input.Date"


def test_section_card_for_a_submitted_audit_is_read_only(scenes: Scenes) -> None:
    card = section_card(scenes.submitted, scenes.template, "risk")
    assert not _inputs(card) and "actions" not in card
    assert words.not_editable(Status.SUBMITTED) in _texts(card)


def test_receipt_has_no_buttons() -> None:
    card = receipt_card("Saved: 3. Decision making", [("Grade", "Good")])
    assert not _of_type(card, "Action.")
    assert _texts(card) == ["Saved: 3. Decision making", "Grade: ", "Good"]


def test_section_receipt_lines_say_what_was_saved_never_the_words(scenes: Scenes) -> None:
    lines = section_receipt_lines(scenes.filled, "risk", scenes.template)
    assert lines == [
        ("Grade", "Good"),
        ("Limiting judgement: Are risks identified and being addressed?", "Yes"),
        ("Limiting judgement: Is the child's welfare safeguarded?", "Yes"),
        ("Evidence", f"saved ({len(EVIDENCE):,} characters)"),
        ("Impact", f"saved ({len(IMPACT):,} characters)"),
    ]
    # Without the template: the grade, how many other answers and the lengths.
    assert section_receipt_lines(scenes.filled, "risk") == [
        ("Grade", "Good"),
        ("Other answers", "2 given"),
        ("Evidence", f"saved ({len(EVIDENCE):,} characters)"),
        ("Impact", f"saved ({len(IMPACT):,} characters)"),
    ]
    # A details section: choices and dates shown, typed text by its length only.
    summary = section_receipt_lines(scenes.filled, "case-summary", scenes.template)
    typed = scenes.filled.answers["case-summary"].values["summary"]
    assert ("Tell me about this child/young person", f"saved ({len(typed)} characters)") in summary
    assert not any(label == "Grade" for label, _ in summary)
    about = dict(section_receipt_lines(scenes.filled, "about", scenes.template))
    assert about["Audited previously?"] == "Yes"
    assert about["Audit date"] == "3 Nov 2026"
    assert about["If Yes, when?"] == "saved (29 characters)"
    assert "Auditor's name" not in about  # filled in from the allocation, not saved here
    # Nothing saved yet: nothing to say.
    assert section_receipt_lines(scenes.allocated, "risk", scenes.template) == []


def test_section_receipt_lines_never_echo_free_text(scenes: Scenes) -> None:
    """Whatever was typed (and it names the child), a receipt holds none of it."""
    audit = scenes.moderating
    typed = {
        value
        for answer in audit.answers.values()
        for value in (answer.evidence, answer.impact, *answer.values.values())
        if isinstance(value, str) and len(value) > 3
    }
    for section in scenes.template.sections:
        for template in (scenes.template, None):
            lines = section_receipt_lines(audit, section.id, template)
            dumped = json.dumps(receipt_card("Saved", lines), ensure_ascii=False)
            assert NAME not in dumped and "**bold**" not in dumped, section.id
            assert not any(value in shown for _, shown in lines for value in typed), section.id


# ------------------------------------------------------ review and submission


def test_review_lists_what_is_missing_and_offers_no_submit(scenes: Scenes) -> None:
    card = review_card(scenes.allocated, scenes.template, scenes.policy)
    texts = _texts(card)
    assert words.STILL_TO_DO in texts
    assert (
        "1. Risk is identified, responded to and reduced in a timely way: grade; evidence; "
        "impact; Are risks identified and being addressed?; Is the child's welfare safeguarded?"
    ) in texts
    assert "Family feedback: the audit will not be accepted without feedback" in texts
    assert Verb.SUBMIT not in {a["verb"] for a in _of_type(card, "Action.Execute")}


def test_review_offers_submit_when_everything_is_answered(scenes: Scenes) -> None:
    card = review_card(scenes.filled, scenes.template, scenes.policy)
    assert words.READY_TO_SUBMIT in _texts(card)
    assert card["actions"][0]["verb"] == Verb.SUBMIT
    assert "grade_reason" not in _inputs(card)


def test_review_asks_for_a_reason_when_a_limiting_judgement_is_not_met(scenes: Scenes) -> None:
    card = review_card(scenes.reason_needed, scenes.template, scenes.policy)
    reason = _inputs(card)["grade_reason"]
    assert reason["isRequired"] is True and reason["maxLength"] == 4_000
    texts = " ".join(_texts(card))
    assert "Has the child been seen alone?" in texts and "give your reason" in texts
    assert card["actions"][0]["verb"] == Verb.SUBMIT


def test_review_refuses_an_outstanding_that_the_sections_do_not_support(scenes: Scenes) -> None:
    card = review_card(scenes.outstanding, scenes.template, scenes.policy)
    assert "Change the grades before you submit" in " ".join(_texts(card))
    assert Verb.SUBMIT not in {a["verb"] for a in _of_type(card, "Action.Execute")}


# --------------------------------------------------------------- moderation


def test_moderation_card_shows_the_auditors_work_and_the_decision_so_far(scenes: Scenes) -> None:
    card = moderation_card(scenes.moderating, scenes.template, "risk")
    texts = _texts(card)
    assert "Good" in " ".join(texts) and any(t.startswith(NAME) for t in texts)
    inputs = _inputs(card)
    assert inputs["decision"]["value"] == "regrade" and inputs["decision"]["isRequired"]
    assert inputs["grade"]["value"] == "requires_improvement"
    assert inputs["reason"]["value"].startswith("No visit to")
    [save, _overall] = card["actions"]
    assert save["data"] == {"verb": "moderate_section", "audit_id": A1, "section": "risk"}


def test_the_overall_section_is_not_moderated_section_by_section(scenes: Scenes) -> None:
    with pytest.raises(ValueError):
        moderation_card(scenes.moderating, scenes.template, "final-judgement")


def test_moderation_summary_lists_sections_and_flags_inadequate(scenes: Scenes) -> None:
    texts = _texts(moderation_summary_card(scenes.moderating, scenes.template))
    assert (
        "1. Risk is identified, responded to and reduced in a timely way: Good → Requires Improvement"
        in texts
    )
    assert (
        "2. Children, young people and families are appropriately involved: agreed (Good)" in texts
    )
    assert "3. Decision making is effective and timely: not moderated yet" in texts
    flagged = _texts(moderation_summary_card(scenes.concern, scenes.template))
    assert words.FLAGGED_INADEQUATE in flagged and "12. Final judgement" in flagged


def test_moderation_complete_notice_lists_the_regrades(scenes: Scenes) -> None:
    card = notice_card(
        NoticeKind.MODERATION_COMPLETE, payload_of(_first(scenes, NoticeKind.MODERATION_COMPLETE))
    )
    assert (
        "1. Risk is identified, responded to and reduced in a timely way: Good → Requires Improvement"
        in _texts(card)
    )


# ------------------------------------------------- allocation, concern, actions


def test_allocation_says_what_to_do_first_for_each_role(scenes: Scenes) -> None:
    auditor = _texts(allocation_card(scenes.allocated, Role.AUDITOR, DUE))
    assert any("book the session with the social worker" in t for t in auditor)
    assert "23 Nov 2026, 17:30 (UK time)" in auditor
    social_worker = _texts(allocation_card(scenes.allocated, Role.SOCIAL_WORKER, DUE))
    assert any("alongside the auditor" in t for t in social_worker)
    moderator = _texts(allocation_card(scenes.allocated, Role.MODERATOR, DUE))
    assert any("after the auditor submits it" in t for t in moderator)
    iro = allocation_card(
        scenes.allocated, Role.IRO, scenes.allocated.deadlines["iro_comments"].due_at
    )
    assert "5 Nov 2026, 09:00 (UK time)" in _texts(iro)
    assert iro["actions"][0]["verb"] == Verb.IRO_COMMENTS
    assert _inputs(iro)["comments"]["isRequired"] is True
    with pytest.raises(ValueError):
        allocation_card(scenes.allocated, Role.QA_MANAGER, DUE)


def test_case_of_concern_alert_is_urgent(scenes: Scenes) -> None:
    card = case_of_concern_alert_card(scenes.concern, Role.SERVICE_MANAGER)
    assert card["body"][0]["style"] == "attention"
    texts = _texts(card)
    assert "1000002" in texts and "the auditor" in texts
    assert "3 Nov 2026, 09:00 (UK time)" in texts  # 24 hours after submission
    [button] = card["actions"]
    assert button["data"] == {"verb": "open_audit", "audit_id": A2, "card": "plan"}
    qa = case_of_concern_alert_card(scenes.concern, Role.QA_MANAGER)
    assert "card" not in qa["actions"][0]["data"]


def test_plan_card_is_a_management_decision(scenes: Scenes) -> None:
    card = plan_card(scenes.concern)
    inputs = _inputs(card)
    assert inputs["plan"]["isRequired"] and inputs["owner"]["style"] == "email"
    assert words.MANAGEMENT_DECISION in _texts(card)
    assert card["actions"][0]["verb"] == Verb.CONFIRM_PLAN


def test_sign_off_keeps_the_return_reason_apart(scenes: Scenes) -> None:
    card = sign_off_card(scenes.action_done, 1)
    sign_off, show = card["actions"]
    assert sign_off["verb"] == Verb.SIGN_OFF_ACTION and sign_off["associatedInputs"] == "none"
    assert sign_off["data"] == {"verb": "sign_off_action", "audit_id": A2, "action": 1}
    assert show["type"] == "Action.ShowCard"
    inner = show["card"]
    assert _inputs(inner)["reason"]["isRequired"] is True
    assert inner["actions"][0]["verb"] == Verb.RETURN_ACTION
    assert not _inputs({"body": card["body"]})  # nothing to fill in to sign off
    assert any(t.startswith(f"Met {NAME}") for t in _texts(card))  # the owner's evidence


def test_action_completion_asks_for_evidence(scenes: Scenes) -> None:
    card = action_completion_card(scenes.concern, 1)
    assert _inputs(card)["evidence"]["isRequired"] is True
    assert card["actions"][0]["data"] == {"verb": "complete_action", "audit_id": A2, "action": 1}
    done = action_completion_card(scenes.action_done, 1)
    assert "actions" not in done


def test_panel_and_close(scenes: Scenes) -> None:
    panel = panel_card(scenes.panel_agreed)
    outcome = _inputs(panel)["outcome"]
    assert [c["value"] for c in outcome["choices"]] == ["agreed", "returned"]
    assert panel["actions"][0]["verb"] == Verb.PANEL
    close = close_card(scenes.panel_agreed)
    assert "Good" in _texts(close) and close["actions"][0]["verb"] == Verb.CLOSE_AUDIT


def test_family_feedback_choices_are_the_workflows(scenes: Scenes) -> None:
    card = family_feedback_card(scenes.filled)
    sought = _inputs(card)["sought_from"]
    assert sought["isMultiSelect"] is True and sought["value"] == "parent,carer"
    assert tuple(c["value"] for c in sought["choices"]) == FEEDBACK_SOURCES
    assert _inputs(card)["summary"]["maxLength"] == 4_000


# ----------------------------------------------------- nudges and escalations


def test_nudge_wording() -> None:
    soon = _texts(
        nudge_card(A1, "1000001", "audit_completion", DUE, False, now=DUE - timedelta(days=2))
    )
    assert "Reminder: audit" in soon
    assert "Due in 2 days, by 23 Nov 2026, 17:30 (UK time)" in soon
    late = _texts(
        nudge_card(A1, "1000001", "iro_comments", START, True, now=START + timedelta(hours=5))
    )
    assert "Overdue: IRO/CP chair comments" in late
    assert "Overdue since 2 Nov 2026, 09:00 (UK time) (5 hours ago)" in late
    action = nudge_card(A2, "1000002", "action-1", DUE, False)
    assert action["actions"][0]["data"] == {
        "verb": "open_audit",
        "audit_id": A2,
        "card": "action",
        "action": 1,
    }


def test_escalation_says_what_is_late_since_when_and_whose_it_is() -> None:
    texts = _texts(
        escalation_card(A1, "1000001", "moderation", "moderator1@council.example", DUE, DUE)
    )
    assert "moderation" in texts and "moderator1@council.example" in texts
    assert "Overdue since 23 Nov 2026, 17:30 (UK time)" in texts


def test_my_audits_lists_overdue_first_with_open_buttons(scenes: Scenes) -> None:
    rows = _rows(scenes)
    card = my_audits_card(rows)
    opens = [a["data"] for a in _of_type(card, "Action.Execute")]
    assert {d["verb"] for d in opens} == {"open_audit"}
    overdue = sorted((r for r in rows if r.overdue), key=lambda r: r.next_due or DUE)
    assert overdue and opens[0]["audit_id"] == overdue[0].audit_id
    assert "Nothing due" in _texts(card)


# ------------------------------------------------------------ the big cards


def _long(seed: str) -> str:
    # Curly quotes and accents, as pasted from Word, cost 6 bytes each on the wire.
    return (f"{seed} ‘café’ – " * 1_000)[:10_000]


def test_the_biggest_section_card_still_fits(scenes: Scenes) -> None:
    audit = scenes.filled.model_copy(deep=True)
    for section_id in ("involvement", "about", "case-summary"):
        answer = audit.answers[section_id]
        if section_id == "involvement":
            answer.evidence, answer.impact = _long("evidence"), _long("impact")
        else:
            for q in scenes.template.section(section_id).questions:
                if q.type.value == "text" and not q.prefill:
                    answer.values[q.id] = _long(q.id)
    for section_id in ("involvement", "about", "case-summary"):
        card = section_card(audit, scenes.template, section_id)
        validate(card)
        assert size_of(card) < MAX_CARD_BYTES, section_id
        # The boxes are still there: an empty one keeps the saved answer.
        assert _inputs(card)
    card = section_card(audit, scenes.template, "involvement")
    assert any("too long to show" in t for t in _texts(card))


def test_the_biggest_moderation_receipt_and_summary_cards_still_fit(scenes: Scenes) -> None:
    audit = scenes.moderating.model_copy(deep=True)
    audit.answers["risk"].evidence = _long("evidence")
    audit.answers["risk"].impact = _long("impact")
    audit.grade_reason = _long("reason")
    assert audit.moderation is not None
    audit.moderation.sections["risk"].reason = _long("because")
    for card in (
        moderation_card(audit, scenes.template, "risk"),
        moderation_summary_card(audit, scenes.template),
        receipt_card(
            "Saved", [("Evidence", _long("e")), ("Impact", _long("i")), ("More", _long("m"))]
        ),
    ):
        validate(card)
        assert size_of(card) < MAX_CARD_BYTES


def test_my_audits_with_hundreds_of_audits_still_fits() -> None:
    rows = [
        MyAuditRow(
            f"202611-{i:03d}", f"{1000000 + i}", "auditor", "In progress", "audit", DUE, i % 3 == 0
        )
        for i in range(300)
    ]
    card = my_audits_card(rows)
    validate(card)
    assert size_of(card) < MAX_CARD_BYTES
    assert any(t.startswith("…and ") for t in _texts(card))


def test_the_biggest_sign_off_card_still_fits(scenes: Scenes) -> None:
    audit = scenes.action_done.model_copy(deep=True)
    audit.actions[0].text = _long("action")
    audit.actions[0].evidence = _long("done")
    for card in (sign_off_card(audit, 1), action_completion_card(audit, 1)):
        validate(card)
        assert size_of(card) < MAX_CARD_BYTES


def test_many_agreed_actions_still_fit(scenes: Scenes) -> None:
    audit = scenes.with_action.model_copy(deep=True)
    first = audit.actions[0]
    audit.actions = [
        first.model_copy(update={"number": n, "text": _long("action")[:4_000]})
        for n in range(1, 12)
    ]
    card = agreed_actions_card(audit, scenes.template)
    validate(card)
    assert size_of(card) < MAX_CARD_BYTES


# ------------------------------------------------------------ button data


def test_action_data() -> None:
    assert action_data(Verb.ANSWER_SECTION, A1, section="risk", card=None) == {
        "verb": "answer_section",
        "audit_id": A1,
        "section": "risk",
    }
    assert action_data(Verb.MY_AUDITS, None) == {"verb": "my_audits"}
    with pytest.raises(ValueError):
        action_data(Verb.SUBMIT, None)
    with pytest.raises(ValueError):
        action_data(Verb.SUBMIT, A1, audit_id="202611-999")


def test_verbs_are_snake_case_and_distinct() -> None:
    assert [v.value for v in Verb] == [v.name.lower() for v in Verb]
    assert len({v.value for v in Verb}) == len(Verb)


def test_due_date_words_use_uk_time() -> None:
    summer = datetime(2026, 7, 1, 16, 30, tzinfo=UTC)
    assert words.when(summer) == "1 Jul 2026, 17:30 (UK time)"
    assert words.day(date(2026, 11, 9)) == "9 Nov 2026"


def test_every_golden_file_belongs_to_a_card() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(CARDS)


# ---------------------------------------------- what each golden file must say
#
# A golden file records whatever the code produced when it was written, bugs
# included (the social worker's feedback request once showed the family feedback
# wording). So each one is also read here for its key wording, written out by
# hand: the title, the main instruction, the buttons, the child's ID, and no
# child's name unless the card is the audit's own form showing what was typed.
# Regenerating a golden with UPDATE_GOLDEN=1 cannot change these.


class Says(NamedTuple):
    title: str
    says: tuple[str, ...]  # each is part of one line of text, or "[label]" of an input
    buttons: tuple[str, ...] = ()
    child: str | None = "1000001"
    typed: bool = False  # the form shows what the auditor typed, the child's name in it


_SECTION_BUTTONS = ("Show guidance", "Hide guidance", "Save and next", "Save and pause")
_GRADED_BUTTONS = (*_SECTION_BUTTONS, "Type evidence in chat", "Type impact in chat")
_RISK = "1. Risk is identified, responded to and reduced in a timely way"
_WELCOME = (
    "I help you carry out case file audits here in Teams.",
    "My messages show the child's ID only, never the child's name.",
    "status <child's ID> – where the audit for that child's ID is up to",
)
_ALLOCATED_AUDITOR = Says(
    "You have a case file audit to complete",
    (
        "Audit due: 23 Nov 2026, 17:30 (UK time)",
        "What to do first: book the session with the social worker and seek the family's feedback.",
    ),
    ("Start the audit", "Record family feedback"),
)
_IRO_REQUEST = Says(
    "Your comments are needed for a case file audit",
    (
        "Comments due: 5 Nov 2026, 09:00 (UK time)",
        "As the child's IRO/CP chair, please add your comments on the case before the "
        "deadline shown.",
        "[Your comments]",
    ),
    ("Add comments",),
)
_CONCERN = (
    "Raised by: the auditor",
    "Plan due: 3 Nov 2026, 09:00 (UK time)",
    "The service manager must make sure there is a plan in place",
)
_FAMILY_FEEDBACK = (
    "Seek feedback from the child or young person, parents or carers before you complete "
    "the audit: it will not be accepted without it.",
    "[Feedback sought from]",
    "[Summary of the feedback]",
    "[Or, if it could not be sought: why not]",
)
_NEW_ACTION = (
    "Action 1",
    "Person responsible: tm2@council.example",
    "Complete by: 9 Nov 2026",
    "Status: Open",
    "Add an action",
    "[The action: what will be done, by whom, by when and why (SMART)]",
    "[Person responsible (their e-mail address)]",
)
_PANEL = (
    "Moderated grade: Good",
    "Record the panel's findings: agree the audit so it can be closed, or return it.",
    "[The panel's findings]",
)
_STAFF_FEEDBACK = (
    "Final grade: Good",
    "Please reply by: 16 Nov 2026, 17:30 (UK time)",
    "The QA team asks for your feedback about this audit report.",
    "1. Have you discussed it in supervision with your manager (date)?",
    "2. What are your learning points from that audit?",
    "3. What have you changed on your practice as a result of this audit?",
    "4. Have you completed the recommended actions?",
    "5. If your audit has been graded Requires Improvement or Inadequate, please add your "
    "improvement plan.",
    "6. What are your considerations in relation to the service user's feedback received",
    # Each of Bristol's six questions has a box of its own.
    "[1. Have you discussed it in supervision with your manager (date)?]",
    "[6. What are your considerations in relation to the service user's feedback received "
    "(if on the audit)?]",
)

GOLDEN_SAYS: dict[str, Says] = {
    "welcome": Says("Welcome to auditbot", ("Hello.", *_WELCOME), ("My audits", "Help"), None),
    "welcome-named": Says(
        "Welcome to auditbot", ("Hello Ava.", *_WELCOME), ("My audits", "Help"), None
    ),
    "help": Says(
        "What you can type",
        (
            "help – what I can do and the words I understand",
            "status <child's ID> – where the audit for that child's ID is up to",
            "You can also use the buttons on my cards; they do the same.",
        ),
        ("My audits",),
        None,
    ),
    "status": Says(
        "Audit 202611-001 · child's ID 1000001",
        ("Stage: Allocated", "IRO/CP chair comments: Due in 3 days", "Audit: Due in 21 days"),
        ("Open my part",),
    ),
    "help-qa": Says(
        "What you can type",
        (
            "help – what I can do and the words I understand",
            "report – QA staff: this month's audit report",
            "tracker – QA staff: every audit with its state and next deadline",
        ),
        ("My audits",),
        None,
    ),
    "my-audits": Says(
        "Your audits",
        (
            "Audit 202611-002 · child's ID 1000002",
            "You are the auditor · Waiting for moderation",
            "Next: case of concern plan – Overdue since 3 Nov 2026, 09:00 (UK time)",
            "You are the moderator · Allocated",
            "Next: Nothing due",
        ),
        ("Open",) * 4,
        "1000002",
    ),
    "my-audits-empty": Says("Your audits", ("You have no audits at the moment.",), (), None),
    "allocation-auditor": _ALLOCATED_AUDITOR,
    "allocation-social-worker": Says(
        "A case file audit of your work with a child",
        (
            "Audit due: 23 Nov 2026, 17:30 (UK time)",
            "You will complete the audit alongside the auditor",
            "There is nothing to do in auditbot yet.",
        ),
    ),
    "allocation-moderator": Says(
        "You will moderate a case file audit",
        (
            "Audit due: No deadline set",
            "You will moderate this audit after the auditor submits it.",
        ),
    ),
    "allocation-iro": _IRO_REQUEST,
    "family-feedback-empty": Says("Family feedback", _FAMILY_FEEDBACK, ("Save feedback",)),
    "family-feedback": Says("Family feedback", _FAMILY_FEEDBACK, ("Save feedback",), typed=True),
    "family-feedback-submitted": Says(
        "Family feedback",
        (
            "This audit is waiting for moderation: the answers can no longer be changed.",
            "Feedback sought from: Parent, Carer",
            "Summary of the feedback",
        ),
        typed=True,
    ),
    "section-about": Says(
        "About this audit",
        (
            "Auditor's name: auditor1@council.example",
            "Child/Young Person's ID number: 1000001",
            "[Audit date]",
            "[Audited previously?]",
            "Only if the answer to 'Audited previously?' is Yes",
        ),
        _SECTION_BUTTONS,
    ),
    "section-empty": Says(
        "2. Children, young people and families are appropriately involved",
        (
            "Page 6 of 17",
            "[Limiting judgement: Has the child been seen?]",
            "[Evidence – What records have you considered? (bullet point/list)]",
            "[Grade for this area of practice]",
        ),
        _GRADED_BUTTONS,
    ),
    "section-involvement": Says(
        "2. Children, young people and families are appropriately involved",
        ("Page 6 of 17", "[Limiting judgement: Has the child been seen alone?]"),
        _GRADED_BUTTONS,
        typed=True,
    ),
    "section-decision-making": Says(
        "3. Decision making is effective and timely",
        ("Page 7 of 17", "[Limiting judgement: Is there effective management oversight?]"),
        _GRADED_BUTTONS,
        typed=True,
    ),
    "section-submitted": Says(
        _RISK,
        (
            "This audit is waiting for moderation: the answers can no longer be changed.",
            "Grade: Good",
        ),
        typed=True,
    ),
    "type-evidence": Says(
        _RISK,
        (f"Type the evidence for '{_RISK}' as your next message (up to 10,000 characters).",),
    ),
    "review-missing": Says(
        "Check and submit",
        (
            "Overall grade: Not graded yet",
            "Still to do before you can submit:",
            "Family feedback: the audit will not be accepted without feedback",
        ),
        # Every place with something missing has its own button (17 here).
        ("Open",) * 17 + ("Agreed actions", "Back to the audit"),
    ),
    "review-ready": Says(
        "Check and submit",
        (
            "Overall grade: Good",
            "Everything is answered. Submit the audit for moderation when you are ready.",
        ),
        ("Submit for moderation", "Agreed actions", "Back to the audit"),
    ),
    "review-reason": Says(
        "Check and submit",
        (
            "Limiting judgements not met:",
            "You can keep this grade if you give your reason; the moderator will see it.",
            "[Your reason for this overall grade]",
        ),
        ("Submit for moderation", "Agreed actions", "Back to the audit"),
        "1000003",
    ),
    "review-refused": Says(
        "Check and submit",
        (
            "Overall grade: Outstanding",
            "An overall Outstanding needs every section graded Outstanding",
            "Change the grades before you submit.",
        ),
        ("Agreed actions", "Back to the audit"),
        "1000004",
    ),
    "iro-comments": Says(
        "Comments from the IRO/CP chair",
        (
            "Comments due: 5 Nov 2026, 09:00 (UK time)",
            "Add your comments on this child's case as their IRO/CP chair.",
            "You have added comments 1 time. You can add more.",
            "[Your comments]",
        ),
        ("Add comments",),
    ),
    "moderation-risk": Says(
        f"Moderation: {_RISK}",
        ("Section 1 of 11", "Auditor's grade: Good", "Auditor's evidence", "[Your decision]"),
        ("Save and next", "Overall judgement"),
        typed=True,
    ),
    "moderation-plans": Says(
        "Moderation: 7. Quality of plans",
        (
            "Section 7 of 11",
            "Limiting judgement: Is the plan progressing without drift or delay? Yes",
            "[New grade (if you change it)]",
        ),
        ("Save and next", "Overall judgement"),
        typed=True,
    ),
    "moderation-summary": Says(
        "14. Moderation",
        (
            "Auditor's overall grade: Good",
            f"{_RISK}: Good → Requires Improvement",
            "2. Children, young people and families are appropriately involved: agreed (Good)",
            "9 sections still to moderate.",
            "[Your overall judgement]",
        ),
        ("Complete moderation",),
    ),
    "moderation-summary-inadequate": Says(
        "14. Moderation",
        (
            "Auditor's overall grade: Inadequate",
            "Graded Inadequate by the auditor:",
            "11 sections still to moderate.",
        ),
        ("Complete moderation",),
        "1000002",
    ),
    "case-of-concern-service-manager": Says(
        "Case of concern: audit judged Inadequate", _CONCERN, ("Record the plan",), "1000002"
    ),
    "case-of-concern-qa-manager": Says(
        "Case of concern: audit judged Inadequate", _CONCERN, ("Open the audit",), "1000002"
    ),
    "plan": Says(
        "Case of concern: the plan",
        (
            "Plan due: 3 Nov 2026, 09:00 (UK time)",
            "[The plan: how the actions will be taken forward and the child kept safe]",
            "[Who will carry it out (their e-mail address)]",
            "The plan is recorded as a management decision.",
        ),
        ("Confirm the plan",),
        "1000002",
    ),
    "panel": Says(
        "QA panel",
        (*_PANEL, "The moderator changed 1 section grade."),
        ("Record the panel's findings",),
    ),
    "close": Says(
        "Close the audit",
        (
            "Final grade: Good",
            "The QA panel agreed this audit. Close it to file it and tell everyone involved.",
        ),
        ("Close the audit",),
    ),
    "reaudit": Says(
        "Short Audit Form",
        ("Moderated grade: ", "[Re-audit grade]", "[Findings]"),
        ("Save the re-audit",),
        "1000002",
    ),
    "reaudit-second-auditor": Says(
        "Short Audit Form",
        (
            "[Re-audit grade]",
            "[Findings]",
            "The re-audit is by a second auditor, not the audit's own auditor",
            "[Second auditor (who re-audited the case)]",
        ),
        ("Save the re-audit",),
        "1000002",
    ),
    "actions-review": Says(
        "Review of the agreed actions",
        ("Action 1", "Status: Open", "[Your update, added as a case direction]"),
        ("Save as a case direction",),
        "1000002",
        typed=True,  # the actions as the auditor wrote them
    ),
    "agreed-actions-reaudit": Says(
        "Actions required from the re-audit",
        _NEW_ACTION,
        ("Add the action", "Back to the re-audit"),
        "1000002",
        typed=True,
    ),
    "agreed-actions": Says(
        "13. Agreed actions to achieve good outcomes for child/young person",
        _NEW_ACTION,
        ("Add the action", "Check and submit"),
        "1000002",
        typed=True,
    ),
    "agreed-actions-moderator": Says(
        "15. Additional Actions",
        _NEW_ACTION,
        ("Add the action", "Overall judgement"),
        "1000002",
        typed=True,
    ),
    "action-completion": Says(
        "Action 1",
        ("Status: Open", "[Evidence that it is done]"),
        ("Mark as complete",),
        "1000002",
        typed=True,
    ),
    "sign-off": Says(
        "Sign off action 1",
        (
            "Status: Marked complete, waiting for sign-off",
            "Marked complete by: tm2@council.example",
            "Check the evidence. Sign the action off, or return it if it is not done.",
            "[Why it is not done yet]",
        ),
        ("Sign off", "Return it", "Return the action"),
        "1000002",
        typed=True,
    ),
    "nudge": Says(
        "Reminder: audit",
        (
            "Due in 21 days, by 23 Nov 2026, 17:30 (UK time)",
            "Complete the audit with the social worker, record the family's feedback and "
            "submit it for moderation.",
        ),
        ("Open the audit",),
    ),
    "nudge-overdue": Says(
        "Overdue: IRO/CP chair comments",
        (
            "Overdue since 2 Nov 2026, 09:00 (UK time) (1 day ago)",
            "Add your comments on the case as the child's IRO/CP chair.",
        ),
        ("Open the audit",),
    ),
    "nudge-action": Says(
        "Reminder: action 1",
        (
            "Due by 23 Nov 2026, 17:30 (UK time)",
            "Complete the agreed action and record the evidence, so it can be signed off.",
        ),
        ("Open the action",),
        "1000002",
    ),
    "escalation": Says(
        "Escalation: a deadline has passed",
        (
            "Overdue since 23 Nov 2026, 17:30 (UK time)",
            "Late: moderation",
            "Who owns it: moderator1@council.example",
        ),
        ("Open the audit",),
    ),
    "escalation-later": Says(
        "Escalation: a deadline has passed",
        (
            "Overdue since 3 Nov 2026, 09:00 (UK time)",
            "Late: IRO/CP chair comments",
            "Who owns it: iro1@council.example",
            "It was due: 2 Nov 2026, 09:00 (UK time)",
        ),
        ("Open the audit",),
    ),
    "receipt": Says("Family feedback saved", ("Sought from: Parent, Carer",), (), None),
    # The notices, one per kind the workflow sends.
    "notice-allocated": _ALLOCATED_AUDITOR,
    "notice-iro_comments_requested": _IRO_REQUEST,
    "notice-iro_comments_added": Says(
        "The IRO/CP chair has added comments",
        ("Open the audit to read them.",),
        ("Open the audit",),
    ),
    "notice-checklist_requested": Says(
        "Child Journey Audit Checklist",
        (
            "The audit is due by: 16 Nov 2026, 17:30 (UK time)",
            "Please complete this before the audit session with your auditor.",
        ),
        ("Open the checklist",),
        "1000005",
    ),
    "notice-checklist_done": Says(
        "The practitioner has completed the checklist",
        ("Child Journey Audit Checklist",),
        (),
        "1000005",
    ),
    "notice-ready_for_moderation": Says(
        "An audit is ready for you to moderate",
        ("Moderation due: 10 Nov 2026, 17:30 (UK time)", "Auditor's overall grade: Good"),
        ("Moderate the audit",),
    ),
    "notice-moderation_complete": Says(
        "Moderation is complete",
        (
            "Moderated grade: Good",
            "Grades the moderator changed:",
            f"{_RISK}: Good → Requires Improvement",
        ),
        ("Open the audit",),
    ),
    "notice-ready_for_panel": Says("QA panel", _PANEL, ("Record the panel's findings",)),
    "notice-returned": Says(
        "The QA panel has returned an audit to you",
        (
            "Audit due: 10 Nov 2026, 17:30 (UK time)",
            "Open the audit to see what the panel needs, then submit it again.",
        ),
        ("Open the audit",),
    ),
    "notice-reaudit_requested": Says(
        "Case of concern: a re-audit for you",
        ("Re-audit due: ", "Carry out the re-audit and record what you found."),
        ("Open the audit",),
        "1000002",
    ),
    "notice-ready_to_close": Says(
        "A moderated audit is ready to share and close",
        (
            "Final grade: Good",
            "Please close it by: 9 Nov 2026, 17:30 (UK time)",
            "Check the moderated audit, then close it: it is filed and shared with the social "
            "worker",
        ),
        ("Close the audit",),
        "1000005",
    ),
    "notice-closed": Says("Audit closed", ("Final grade: Good",)),
    "notice-feedback_requested": Says(
        "Staff feedback about this audit report", _STAFF_FEEDBACK, ("Send feedback",), "1000005"
    ),
    "notice-case_of_concern": Says(
        "Case of concern: audit judged Inadequate", _CONCERN, ("Record the plan",), "1000002"
    ),
    "notice-plan_confirmed": Says(
        "Case of concern: the plan is confirmed",
        ("The service manager has recorded the plan as a management decision.",),
        ("Open the audit",),
        "1000002",
    ),
    "notice-reaudit_recorded": Says(
        "Case of concern: re-audit recorded",
        ("Re-audit grade: Requires Improvement",),
        (),
        "1000002",
    ),
    "notice-case_of_concern_closed": Says(
        "Case of concern closed", ("Audit: 202611-002",), (), "1000002"
    ),
    "notice-action_assigned": Says(
        "You are responsible for an agreed action",
        (
            "Action: 1",
            "Complete by: 9 Nov 2026",
            "Complete the agreed action and record the evidence, so it can be signed off.",
        ),
        ("Open the action",),
        "1000002",
    ),
    "notice-action_to_sign_off": Says(
        "An action is ready for you to sign off", ("Action: 1",), ("Open the action",), "1000002"
    ),
    "notice-action_signed_off": Says("Your action is signed off", ("Action: 1",), (), "1000002"),
    "notice-action_returned": Says(
        "Your action has been returned",
        ("Action: 1", "Open the action to see what is still needed."),
        ("Open the action",),
        "1000002",
    ),
    "notice-deadline_moved": Says(
        "A deadline has moved",
        ("Deadline for: QA closure", "New deadline: 20 Nov 2026, 17:30 (UK time)"),
        ("Open the audit",),
    ),
    "notice-reassigned_to": Says(
        "You are now the social worker/PA for an audit", (), ("Open the audit",), "1000002"
    ),
    "notice-reassigned_away": Says(
        "You are no longer the social worker/PA for an audit",
        ("There is nothing more for you to do on it.",),
        (),
        "1000002",
    ),
    "notice-nudge": Says(
        "Reminder: IRO/CP chair comments",
        (
            "Due in 2 days, by 5 Nov 2026, 09:00 (UK time)",
            "Add your comments on the case as the child's IRO/CP chair.",
        ),
        ("Open the audit",),
    ),
    "notice-escalation": Says(
        "Escalation: a deadline has passed",
        (
            "Overdue since 5 Nov 2026, 09:00 (UK time)",
            "Late: IRO/CP chair comments",
            "Who owns it: iro1@council.example",
        ),
        ("Open the audit",),
    ),
}


def _golden(name: str) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return card


def _lines(card: dict[str, Any]) -> list[str]:
    """Every line of text on the card, inner cards too, and each input as '[label]'."""
    shown = []
    for node in _walk(card):
        if node.get("type") == "RichTextBlock":
            shown.append("".join(run["text"] for run in node["inlines"]))
        elif str(node.get("type", "")).startswith("Input.") and node.get("label"):
            shown.append(f"[{node['label']}]")
    return shown


def _titles(card: dict[str, Any]) -> list[str]:
    return [
        n["title"]
        for n in _walk(card)
        if n.get("type") in ("Action.Execute", "Action.ShowCard", "Action.ToggleVisibility")
    ]


def test_every_golden_file_has_its_key_wording_written_out() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(GOLDEN_SAYS)


@pytest.mark.parametrize("name", sorted(GOLDEN_SAYS))
def test_golden_file_says_what_the_card_is_for(name: str) -> None:
    expected, card = GOLDEN_SAYS[name], _golden(name)
    shown = _lines(card)
    headings = [
        run["text"]
        for node in _walk(card)
        if node.get("type") == "RichTextBlock"
        for run in node["inlines"]
        if run.get("size") == "large"
    ]
    assert headings[:1] == [expected.title]
    for words_ in expected.says:
        assert any(words_ in line for line in shown), f"{name} does not say {words_!r}"
    assert _titles(card) == list(expected.buttons)
    dumped = json.dumps(card, ensure_ascii=False)
    if expected.child is not None:
        assert expected.child in dumped
    if not expected.typed:
        assert NAME not in dumped and "Jo " not in dumped


def test_the_feedback_requests_never_mix_their_wording() -> None:
    """The social worker's feedback on the audit and the family's feedback are two cards."""
    staff = " ".join(_lines(_golden("notice-feedback_requested")))
    family = " ".join(_lines(_golden("family-feedback-empty")))
    assert "Family feedback" not in staff and "Seek feedback" not in staff
    assert "Staff feedback" not in family and "supervision" not in family
    assert words.PRACTITIONER_FEEDBACK_TITLE != words.FAMILY_FEEDBACK_TITLE
    assert words.PRACTITIONER_FEEDBACK_INTRO != words.FAMILY_FEEDBACK_INTRO


# ------------------------------------------------------------ cards/words.py

WORDS = Path(words.__file__)


def _scopes(tree: ast.AST) -> Iterator[tuple[str, list[ast.stmt]]]:
    yield "module", getattr(tree, "body", [])
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.body


def _defined(body: list[ast.stmt]) -> Iterator[tuple[str, int]]:
    """The names a scope binds directly: assignments (tuples unpacked), defs and classes."""
    for node in body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node.lineno
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    yield name.id, node.lineno


def _duplicates(source: str) -> list[str]:
    found = []
    for scope, body in _scopes(ast.parse(source)):
        seen: dict[str, int] = {}
        for name, line in _defined(body):
            if name in seen:
                found.append(f"{scope}: {name} on lines {seen[name]} and {line}")
            seen.setdefault(name, line)
    return found


def test_no_word_is_defined_twice() -> None:
    """A second FEEDBACK_TITLE once replaced the first without a sound."""
    assert _duplicates(WORDS.read_text(encoding="utf-8")) == []
    assert _duplicates("A = 1\ndef f() -> None: ...\nA = 2\n") == ["module: A on lines 1 and 3"]
    assert _duplicates("class C:\n    T = 'a'\n    T = 'b'\n") == ["C: T on lines 2 and 3"]
    assert _duplicates("def f():\n    pass\ndef f():\n    pass\n") == ["module: f on lines 1 and 3"]


def test_every_word_is_final() -> None:
    """So mypy also refuses a second assignment to any of them."""
    tree = ast.parse(WORDS.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign):
            raise AssertionError(f"line {node.lineno}: annotate it Final")
        if isinstance(node, ast.AnnAssign):
            final = node.annotation
            if isinstance(final, ast.Subscript):
                final = final.value
            assert isinstance(final, ast.Name) and final.id == "Final", node.lineno


def test_every_missing_item_on_the_review_is_a_button_that_opens_it(scenes: Scenes) -> None:
    card = review_card(scenes.allocated, scenes.template, scenes.policy)
    rows = [n for n in _walk(card) if n.get("type") == "ColumnSet"]
    opened = {}
    for row in rows:
        [said] = _texts(row)
        [action] = _of_type(row, "Action.Execute")
        assert action["title"] == "Open" and action["verb"] == "open_audit"
        opened[said.split(":")[0]] = {k: v for k, v in action["data"].items() if k != "verb"}
    assert opened["Family feedback"] == {"audit_id": "202611-001", "card": "family_feedback"}
    risk = "1. Risk is identified, responded to and reduced in a timely way"
    assert opened[risk] == {"audit_id": "202611-001", "card": "section", "section": "risk"}
    assert opened["About this audit"]["section"] == "about"
    assert len(opened) == 17  # one per place, not one per missing answer
