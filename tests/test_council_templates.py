"""The other councils' audit tools: they load, every question can be answered,
their cards are valid and fit Teams, their Word documents carry the councils'
own headings (golden text, UPDATE_GOLDEN=1 rewrites it), and
`auditbot templates check` explains what is wrong with a file."""

from __future__ import annotations

import io
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
import pytest
import yaml
from docx.table import Table

from auditbot.cli import main
from audits import commands as c
from audits.catalog import SHIPPED, Catalog, load_catalog
from audits.errors import ConfigError, InvalidInput
from audits.grades import GradeRule
from audits.model import Audit, SectionAnswer, Status
from audits.policies import Policy, RuleAction
from audits.roles import StandingRoles
from audits.templates import AnswerType, Question, load_template
from audits.workdays import WorkingCalendar
from audits.workflow import SYSTEM, Context, allocate, apply
from cards import MAX_CARD_BYTES, review_card, section_card, size_of, validate
from cards.form import GUIDANCE_ID
from reports.audit_document import render_audit_document
from tests.support.allocations import allocation, rows
from tests.support.factories import fill_audit, sample_value
from tests.support.people import QA_MANAGER, people
from tests.test_templates import _answers_showing

NEW = [
    "bristol-child-case-audit",
    "good-practice-audit",
    "child-journey-audit",
    "swindon-early-help",
    "swindon-youth-justice",
]
ALL = sorted({*NEW, "swindon-practice-evaluation"})
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AUDITOR = people(1).auditor  # of allocation(), the audit under test
GOLDEN = Path(__file__).parent / "golden" / "documents"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

# The councils' own headings, as each form prints them.
HEADINGS = {
    "bristol-child-case-audit": [
        "Child Case Audit Form",
        "Main referral factors",
        "File recording",
        "Service user feedback",
        "1. Assessment/Mapping",
        "2. Child's plan",
        "3. Purposeful Interventions",
        "4. Reviews",
        "5. Risk management",
        "7. Impact – What does it all mean for the child?",
        "Based on Ofsted grade descriptors has the service provision over the last 12 months been:",
        "Action Plan for Improvement",
        "Moderation",
    ],
    "good-practice-audit": [
        "1. Assessment",
        "2. Planning",
        "3. Intervention",
        "4. Review",
        "5. Reflection and Supervision",
        "6. Comments and Actions",
        "Stage 2 Reflective discussion by Moderator – Have we made a difference for the child/ young person?",
    ],
    "child-journey-audit": [
        "1. Case records",
        "3. Plans and Planning",
        "4. Meetings and Reviews",
        "5. Visits",
        "6. Management Oversight and Supervision",
        "8. Voice of the Child",
    ],
    "swindon-early-help": [
        "Family Service – Audit Tool",
        "1. Consent",
        "2. Early Help Assessment",
        "3. Early Help Plan",
        "4. Review Plan",
        "5. Direct Work",
        "6. Closure",
        "Coordinator's Scoring and Rationale",
        "1. Management oversight",
        "2. Closure",
        "Auditor's Scoring and Rationale",
        "Recommended actions that the senior/family worker has agreed to do through being "
        "involved in the Audit and reflecting on their practice",
    ],
    "swindon-youth-justice": [
        "ASPIRE Impact Audit Form",
        "Brief 'pen picture' of child",
        "1. Recording",
        "2. Engagement",
        "3. Assessment",
        "4. Risk of Serious Harm and Safety and wellbeing",
        "5. Planning",
        "6. Implementation and delivery",
        "7. Review (post court cases only)",
        "7.1 Joint Working (OOCD Cases only)",
        "8. Child in custody/Resettlement (if applicable)",
        "9. Management and supervision",
        "10. Outcomes",
        "What is your judgement of quality of practice based on this audit?",
        "Action Plan from this audit",
    ],
}


# ------------------------------------------------------------ building audits


def _ctx(catalog: Catalog, template_id: str, policy: Policy | None = None) -> Context:
    return Context(
        actor=AUDITOR,
        now=START,
        template=catalog.template(template_id),
        policy=policy or catalog.policy("swindon"),
        calendar=WorkingCalendar(),
        standing=StandingRoles(),
    )


def _allocated(catalog: Catalog, template_id: str, policy: Policy | None = None) -> Audit:
    ctx = replace(_ctx(catalog, template_id, policy), actor=SYSTEM)
    wanted = replace(allocation(), template=template_id)
    return allocate("202611-001", wanted, ctx).audit


def _sample_values(section: Any, ctx: Context) -> dict[str, Any]:
    """As `fill_audit` answers a section: a sample for every question shown."""
    values = {q.id: sample_value(q, START.date()) for q in section.questions if not q.prefill}
    return {
        k: v
        for k, v in values.items()
        if all(values.get(d) == w for d, w in (section.question(k).when or {}).items())
    }


def _filled(catalog: Catalog, template_id: str, policy: Policy | None = None) -> Audit:
    """Every section answered with samples and graded Good, family feedback recorded."""
    ctx = _ctx(catalog, template_id, policy)
    audit = _allocated(catalog, template_id, policy)
    for section in ctx.template.sections:
        graded = section.kind.value == "graded"
        command = c.AnswerSection(
            section=section.id,
            grade="good" if graded else None,
            evidence="Case notes, assessment and plan for the last 6 months" if graded else None,
            impact="The child is safer and their plan is moving on" if graded else None,
            values=_sample_values(section, ctx),
        )
        audit = apply(audit, command, ctx).audit
    feedback = c.RecordFamilyFeedback(("parent",), "Mother said the worker listens.")
    return apply(audit, feedback, ctx).audit


def _answer(audit: Audit, ctx: Context, section_id: str, **values: Any) -> Audit:
    return apply(audit, c.AnswerSection(section=section_id, values=values), ctx).audit


# ------------------------------------------------------------------- loading


@pytest.mark.parametrize("path", sorted((SHIPPED / "templates").glob("*.yaml")), ids=str)
def test_every_built_in_template_loads(path: Path) -> None:
    template = load_template(path)
    assert template.id == path.stem
    assert template.sections and template.graded_sections


def test_the_catalog_offers_every_council_tool(catalog: Catalog) -> None:
    assert set(NEW) <= set(catalog.templates)


@pytest.mark.parametrize("template_id", ALL)
def test_no_tool_asks_for_a_childs_name(catalog: Catalog, template_id: str) -> None:
    template = catalog.template(template_id)
    texts = [q.text for s in template.sections for q in s.questions]
    texts += [q.text for q in template.checklist.questions] if template.checklist else []
    asks_name = re.compile(r"child(?:'s|ren's)?(?:/children's)?\s+(?:name|initials)", re.I)
    assert not [t for t in texts if asks_name.search(t)]


# ------------------------------------------------------------ the councils' own forms


def test_bristol_form(catalog: Catalog) -> None:
    bristol = catalog.template("bristol-child-case-audit")
    recording = bristol.section("file-recording")
    assert [q.id for q in recording.questions] == [
        "demographics",
        "genogram",
        "chronology",
        "case_notes",
        "case_summary",
        "flags",
        "closure_summary",
    ]
    for q in recording.questions:
        assert [o.label for o in q.options] == ["Good", "Requires update", "Incomplete"]
    feedback = bristol.section("service-user-feedback")
    scales = [q for q in feedback.questions if q.id.endswith("_scaling")]
    assert [q.id for q in scales] == ["parent1_scaling", "parent2_scaling", "young_person_scaling"]
    for q in scales:
        assert (q.type, q.min, q.max) == (AnswerType.NUMBER, 0, 10)
        assert q.parse("7") == 7
        with pytest.raises(InvalidInput, match="at most 10"):
            q.parse("11")
        with pytest.raises(InvalidInput, match="at least 0"):
            q.parse("-1")
    assert [s.id for s in bristol.graded_sections] == [
        "file-recording",
        "assessment",
        "plan",
        "interventions",
        "reviews",
        "risk-management",
        "supervision",
        "impact",
        "overall",
    ]
    assert len(bristol.section("assessment").questions) == 8
    assert bristol.section("assessment").evidence_label == "Strengths"
    assert bristol.section("assessment").impact_label == "Areas for improvement"
    assert (
        "What would it take to move this case to Good" in bristol.section("overall").impact_prompt
    )
    assert bristol.section("referral").question("first_response_timely").text == (
        "Was the decision by First Response timely (made in 24 hours)?"
    )
    assert bristol.moderation.prompt == "Moderators' Findings"


def test_good_practice_limiting_judgements(catalog: Catalog) -> None:
    tool = catalog.template("good-practice-audit")
    assert [s.title for s in tool.graded_sections] == [
        "Assessment",
        "Planning",
        "Intervention",
        "Review",
        "Reflection and Supervision",
        "Comments and Actions",
    ]
    limiting = [(s.id, q.id, q.type.value) for s, q in tool.limiting_judgements]
    assert limiting == [
        ("assessment", "child_seen", "yes_no"),
        ("assessment", "child_seen_alone", "yes_no_na"),
        ("assessment", "child_voice", "yes_no"),
        ("intervention", "child_seen", "yes_no"),
        ("intervention", "child_seen_alone", "yes_no_na"),
        ("intervention", "child_voice", "yes_no"),
    ]
    for _, q in tool.limiting_judgements:
        assert q.met_by == ("yes", "na")
    seen_alone = tool.section("assessment").question("child_seen_alone")
    assert "under 5 or has a profound disability" in (seen_alone.guidance or "")
    # Every question is Yes/No (NA only where neither fits) but the "if not, why" box.
    for s in tool.graded_sections:
        assert {q.type for q in s.questions} <= {AnswerType.YES_NO, AnswerType.YES_NO_NA}
    assert (
        tool.section("assessment")
        .prompts[0]
        .startswith(
            "A 'Good' assessment will investigate and consider: Each child's developmental needs"
        )
    )


def _refusing(policy: Policy) -> Policy:
    rules = {**policy.grade_rules, GradeRule.GOOD_NEEDS_LIMITING_JUDGEMENTS: RuleAction.REFUSE}
    return policy.model_copy(update={"grade_rules": rules})


def test_good_with_a_limiting_judgement_not_met_is_refused_with_the_reason(
    catalog: Catalog,
) -> None:
    policy = _refusing(catalog.policy("swindon"))
    ctx = _ctx(catalog, "good-practice-audit", policy)
    audit = _filled(catalog, "good-practice-audit", policy)
    audit = _answer(audit, ctx, "intervention", child_seen_alone="no")
    with pytest.raises(InvalidInput) as refused:
        apply(audit, c.Submit(grade_reason="The family would not allow it"), ctx)
    assert str(refused.value) == (
        "An overall Good needs every limiting judgement met; not met: "
        "Child Seen Alone: was the child seen alone?. Change the grades first."
    )
    # NA (under five, or a profound disability) counts as met.
    audit = _answer(audit, ctx, "intervention", child_seen_alone="na")
    assert apply(audit, c.Submit(), ctx).audit.status is Status.SUBMITTED


def test_a_policy_without_grade_rules_refuses_and_a_council_may_ask_for_a_reason(
    catalog: Catalog,
) -> None:
    raw = yaml.safe_load((SHIPPED / "policies" / "swindon.yaml").read_text(encoding="utf-8"))
    del raw["grade_rules"]
    default = Policy.model_validate(raw)
    assert default.grade_rules[GradeRule.GOOD_NEEDS_LIMITING_JUDGEMENTS] is RuleAction.REFUSE
    # Swindon's Appendix 6: Good means "All limiting judgements are met": refused.
    swindon = catalog.policy("swindon")
    assert swindon.grade_rules[GradeRule.GOOD_NEEDS_LIMITING_JUDGEMENTS] is RuleAction.REFUSE
    refusing = _ctx(catalog, "good-practice-audit", swindon)
    unmet = _answer(
        _filled(catalog, "good-practice-audit"), refusing, "assessment", child_voice="no"
    )
    with pytest.raises(InvalidInput, match="Change the grades first"):
        apply(unmet, c.Submit(grade_reason="Voice is clear in the later visits"), refusing)
    # A council's own policy may accept the grade with a written reason instead.
    rules = {**swindon.grade_rules, GradeRule.GOOD_NEEDS_LIMITING_JUDGEMENTS: RuleAction.REASON}
    reasoning = swindon.model_copy(update={"grade_rules": rules})
    ctx = _ctx(catalog, "good-practice-audit", reasoning)
    audit = _answer(_filled(catalog, "good-practice-audit"), ctx, "assessment", child_voice="no")
    with pytest.raises(InvalidInput, match="Give your reason to keep this grade"):
        apply(audit, c.Submit(), ctx)
    kept = apply(audit, c.Submit(grade_reason="Voice is clear in the later visits"), ctx)
    assert kept.audit.grade_reason == "Voice is clear in the later visits"


def test_child_journey_checklist_is_for_the_practitioner(catalog: Catalog) -> None:
    tool = catalog.template("child-journey-audit")
    assert tool.checklist is not None
    assert tool.checklist.title == "Child Journey Audit Checklist"
    assert tool.checklist.completed_by == "social_worker"
    assert len(tool.checklist.questions) >= 10
    for q in tool.checklist.questions:
        assert q.parse(sample_value(q, START.date())) is not None or not q.required
    assert catalog.template("swindon-practice-evaluation").checklist is None


def test_early_help_not_applicable_where_the_form_has_it(catalog: Catalog) -> None:
    tool = catalog.template("swindon-early-help")
    for section_id in ("review-plan", "closure", "management-closure"):
        grade = tool.section(section_id).question("grade")
        assert grade.parse("Not Applicable") == "not_applicable"
        assert grade.parse("Requires Improvement") == "requires_improvement"
    graded = [s.id for s in tool.graded_sections]
    assert graded == [
        "consent",
        "assessment",
        "plan",
        "direct-work",
        "management-oversight",
        "auditors-scoring",
    ]
    assert tool.section("consent").evidence_prompt == (
        "Evidence to support your judgement based on Family Service audit guidance"
    )
    assert (
        tool.section("consent").impact_prompt == "Please record any reflective conversations here"
    )


def test_youth_justice_is_graded_only_as_a_whole(catalog: Catalog) -> None:
    tool = catalog.template("swindon-youth-justice")
    assert [s.id for s in tool.graded_sections] == ["judgement"]
    assert tool.section("risk").question("rosh_classification").parse("Very High") == "very-high"
    custody = tool.section("custody")
    assert all(q.when == {"in_custody": "yes"} for q in custody.questions[1:])


# ---------------------------------------------------- every question is answerable


def _answers_to_try(q: Question) -> list[Any]:
    if q.type in (AnswerType.CHOICE, AnswerType.MULTI_CHOICE):
        return [o.id for o in q.options]
    if q.type is AnswerType.YES_NO_NA:
        return ["yes", "no", "na"]
    if q.type is AnswerType.YES_NO:
        return ["yes", "no"]
    if q.type is AnswerType.NUMBER:
        return [v for v in (q.min, q.max) if v is not None] or [sample_value(q, START.date())]
    return [sample_value(q, START.date())]


@pytest.mark.parametrize("template_id", NEW)
def test_every_question_can_be_shown_answered_and_stored(
    catalog: Catalog, template_id: str
) -> None:
    ctx = _ctx(catalog, template_id)
    audit = _allocated(catalog, template_id)
    template = ctx.template
    asked = 0
    for section in template.sections:
        for q in section.questions:
            if q.prefill:
                assert (audit.answers.get(section.id) or SectionAnswer()).values.get(q.id), q.id
                continue
            for answer in _answers_to_try(q):
                values = {**_answers_showing(section, q), q.id: answer}
                stored = _answer(audit, ctx, section.id, **values).answers[section.id]
                assert stored.values[q.id] == q.parse(answer) is not None, (section.id, q.id)
                asked += 1
    assert asked > len(template.sections)


@pytest.mark.asyncio
@pytest.mark.parametrize("template_id", NEW)
async def test_filled_through_the_use_cases_and_submitted(service, catalog, template_id) -> None:
    template = catalog.template(template_id)
    [outcome] = await service.allocate(
        QA_MANAGER, rows(replace(allocation(), template=template_id))
    )
    audit = outcome.audit
    assert audit.template == template_id
    await fill_audit(service, audit.id, audit.participants.auditor, template)
    submitted = await service.execute(audit.participants.auditor, audit.id, c.Submit())
    assert submitted.audit.status is Status.SUBMITTED


# ----------------------------------------------------------------------- cards


def _ids(node: Any) -> list[str]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("id"), str):
            found.append(node["id"])
        for value in node.values():
            found += _ids(value)
    elif isinstance(node, list):
        for value in node:
            found += _ids(value)
    return found


@pytest.mark.parametrize("template_id", NEW)
def test_section_cards_are_valid_and_fit_teams(catalog: Catalog, template_id: str) -> None:
    template = catalog.template(template_id)
    empty = _allocated(catalog, template_id)
    filled = _filled(catalog, template_id)
    for section in template.sections:
        for audit in (empty, filled):
            card = section_card(audit, template, section.id)
            validate(card)
            assert size_of(card) <= MAX_CARD_BYTES, (section.id, size_of(card))
            inputs = set(_ids(card))
            for q in section.questions:
                if not q.prefill:
                    assert f"q.{q.id}" in inputs, (section.id, q.id)
            if section.kind.value == "graded":
                assert {"grade", "evidence", "impact"} <= inputs
        # With nothing saved yet, the council's guidance is not left out to fit.
        if section.guidance or section.prompts or any(q.guidance for q in section.questions):
            assert GUIDANCE_ID in _ids(section_card(empty, template, section.id)), section.id
    review = review_card(filled, template, catalog.policy("swindon"))
    validate(review)
    assert size_of(review) <= MAX_CARD_BYTES


# ------------------------------------------------------------------- documents


def _document_lines(data: bytes) -> tuple[list[str], list[str]]:
    """Body text in order (a table row as its cells joined by ' | '), and the headings."""
    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    headings: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in block.rows)
            continue
        if block.style is not None and block.style.name.startswith("Heading"):
            headings.append(block.text)
        lines.append(block.text)
    return lines, headings


@pytest.mark.parametrize("template_id", NEW)
def test_document_has_the_councils_headings_and_matches_its_golden_text(
    catalog: Catalog, template_id: str
) -> None:
    template = catalog.template(template_id)
    ctx = _ctx(catalog, template_id)
    audit = apply(_filled(catalog, template_id), c.Submit(), ctx).audit
    lines, headings = _document_lines(render_audit_document(audit, template, "submitted"))

    assert lines[0] == template.name
    own = [s.label for s in template.sections] + [template.actions.title, template.moderation.title]
    assert [h for h in headings if h in own] == own
    for heading in HEADINGS[template_id]:
        assert heading in headings, heading
    for section in template.graded_sections:
        assert any(line.startswith(f"{section.evidence_label} | ") for line in lines)

    text = "\n".join(lines) + "\n"
    path = GOLDEN / f"{template_id}.txt"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == text, (
        f"{template_id} differs from {path}; if the change is intended, run with UPDATE_GOLDEN=1"
    )


def test_bristol_document_shows_strengths_areas_and_scaling(catalog: Catalog) -> None:
    template = catalog.template("bristol-child-case-audit")
    ctx = _ctx(catalog, template.id)
    audit = _answer(
        _filled(catalog, template.id), ctx, "service-user-feedback", parent1_scaling="8"
    )
    lines, _ = _document_lines(render_audit_document(audit, template, "submitted"))
    assert "Parent/carer 1 – 5) Scaling (0 to 10) | 8" in lines
    assert "Strengths | Case notes, assessment and plan for the last 6 months" in lines
    assert "Areas for improvement | The child is safer and their plan is moving on" in lines
    assert not any(line.startswith("Impact | ") for line in lines)


# ---------------------------------------------------------------- the checklist field


def _tool_with(checklist: Any) -> dict[str, Any]:
    raw = yaml.safe_load(
        (SHIPPED / "templates" / "child-journey-audit.yaml").read_text(encoding="utf-8")
    )
    raw["checklist"] = checklist
    return raw


@pytest.mark.parametrize(
    ("checklist", "problem"),
    [
        (
            {"title": "C", "questions": []},
            "checklist.questions: Tuple should have at least 1 item after validation, not 0",
        ),
        (
            {
                "title": "C",
                "completed_by": "child",
                "questions": [{"id": "a", "type": "yes_no", "text": "A?"}],
            },
            "checklist.completed_by: Input should be 'social_worker', 'team_manager', 'auditor', "
            "'iro', 'moderator' or 'service_manager'",
        ),
        (
            {
                "title": "C",
                "questions": [{"id": "a", "type": "yes_no", "text": "A?", "limiting": True}],
            },
            "checklist: Value error, checklist question 'a' cannot be a limiting judgement",
        ),
        (
            {
                "title": "C",
                "questions": [
                    {"id": "a", "type": "text", "text": "A", "when": {"b": "yes"}},
                    {"id": "b", "type": "yes_no", "text": "B?"},
                ],
            },
            "checklist: Value error, question 'a' depends on 'b', which is not an earlier "
            "question of this checklist",
        ),
    ],
    ids=["empty", "unknown-person", "limiting", "later-question"],
)
def test_a_broken_checklist_is_refused(tmp_path: Path, checklist: Any, problem: str) -> None:
    path = tmp_path / "child-journey-audit.yaml"
    path.write_text(yaml.safe_dump(_tool_with(checklist)), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_template(path)
    assert str(refused.value) == f"{path}: {problem}"


# ------------------------------------------------------------- templates check


SMALL_TOOL = """\
id: riverside-case-audit
name: Riverside Case Audit
overall_section: overall
sections:
  - id: about
    kind: details
    title: About this audit
    questions:
      - {id: child_id, type: text, prefill: child_id, text: "Child's ID"}
      - {id: seen_alone, type: yes_no_na, limiting: true, text: "Was the child seen alone?"}
  - id: overall
    number: 1
    kind: graded
    title: Overall judgement
actions: {title: Agreed actions}
moderation: {title: Moderation, prompt: "What is your judgement?"}
"""


def test_check_a_good_file_prints_ok(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    path = tmp_path / "riverside-case-audit.yaml"
    path.write_text(SMALL_TOOL, encoding="utf-8")
    assert main(["templates", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "ok: riverside-case-audit (Riverside Case Audit), 2 sections, 2 questions\n"
    assert err == ""


def test_check_the_built_in_files(capsys, monkeypatch) -> None:
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    files = [*sorted((SHIPPED / "templates").glob("*.yaml")), SHIPPED / "policies" / "swindon.yaml"]
    assert main(["templates", "check", *map(str, files)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(files) + 1
    assert (
        "ok: child-journey-audit (Shropshire Child Journey Audit), 12 sections, 18 questions, "
        "pre-audit checklist of 13 questions" in out
    )
    # The Swindon tool's seven limiting judgements are auditbot's own: off as shipped.
    assert any(
        line.startswith("ok: swindon-practice-evaluation")
        and line.endswith(", 7 questions of auditbot's own off (own_questions)")
        for line in out
    ), out
    assert out[-2] == (
        "ok: swindon (Swindon monthly case file audit), policy with 7 steps, "
        "default audit tool swindon-practice-evaluation"
    )
    # No roles file in this test: the check says the roles were not checked.
    assert out[-1].startswith("roles not checked: AUDITBOT_ROLES_FILE is not set")


def test_check_a_broken_file_names_every_problem(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    broken = SMALL_TOOL.replace("overall_section: overall", "overall_section: verdict")
    broken = broken.replace("type: yes_no_na", "type: maybe")
    broken = broken.replace(', prompt: "What is your judgement?"}', "}")
    broken += "colour: red\n"
    path = tmp_path / "riverside-case-audit.yaml"
    path.write_text(broken, encoding="utf-8")
    assert main(["templates", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}: sections[0 'about'].questions[1 'seen_alone'].type: Input should be 'text', "
        "'yes_no', 'yes_no_na', 'choice', 'multi_choice', 'date', 'person', 'grade' or 'number'",
        f"{path}: moderation.prompt: Field required",
        f"{path}: colour: Extra inputs are not permitted",
        f"{path}: (top level): overall_section 'verdict' is not a section",
        "4 problems found",
    ]


def test_check_names_a_wrong_file_name_and_an_unknown_default_template(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    tool = tmp_path / "riverside.yaml"
    tool.write_text(SMALL_TOOL, encoding="utf-8")
    policy = yaml.safe_load((SHIPPED / "policies" / "swindon.yaml").read_text(encoding="utf-8"))
    policy_path = tmp_path / "riverside-process.yaml"
    policy_path.write_text(
        yaml.safe_dump(policy | {"id": "riverside-process", "default_template": "riverside-tool"}),
        encoding="utf-8",
    )
    assert main(["templates", "check", str(tool), str(policy_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        f"{tool}: id: 'riverside-case-audit' must match the file name 'riverside' "
        "(name the file riverside-case-audit.yaml)"
    )
    assert err[1].startswith(
        f"{policy_path}: default_template: 'riverside-tool' is not an audit tool (known: "
    )
    assert "riverside-case-audit" in err[1] and "swindon-early-help" in err[1]


def test_check_a_policy_against_the_councils_folder(tmp_path: Path, capsys, monkeypatch) -> None:
    config = tmp_path / "config"
    (config / "templates").mkdir(parents=True)
    (config / "templates" / "riverside-case-audit.yaml").write_text(SMALL_TOOL, encoding="utf-8")
    policy = yaml.safe_load((SHIPPED / "policies" / "swindon.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "riverside.yaml"
    path.write_text(
        yaml.safe_dump(policy | {"id": "riverside", "default_template": "riverside-case-audit"}),
        encoding="utf-8",
    )
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    assert main(["templates", "check", str(path)]) == 1
    capsys.readouterr()
    monkeypatch.setenv("AUDITBOT_CONFIG_DIR", str(config))
    assert main(["templates", "check", str(path)]) == 0
    assert capsys.readouterr().out.startswith("ok: riverside (Swindon monthly case file audit)")
    # And the catalog agrees: the council's folder makes the policy usable.
    (config / "policies").mkdir()
    (config / "policies" / "riverside.yaml").write_text(path.read_text(encoding="utf-8"))
    assert load_catalog(extra=config).policy("riverside").default_template == "riverside-case-audit"


def test_check_a_file_that_is_neither(tmp_path: Path, capsys) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text("title: My notes\n", encoding="utf-8")
    assert main(["templates", "check", str(path)]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}: (top level): neither an audit tool (it has no 'sections') "
        "nor a process policy (it has no 'steps')"
    )


def test_check_unreadable_files(tmp_path: Path, capsys) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("id: x\nname: [unclosed\nsections: 1\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    assert main(["templates", "check", str(bad_yaml), str(missing)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{bad_yaml}: line 3: not valid YAML")
    assert err[1] == f"{missing}: cannot be read (No such file or directory)"
    assert err[2] == "2 problems found"


def test_check_names_the_steps_a_policy_has_off(capsys, monkeypatch) -> None:
    monkeypatch.delenv("AUDITBOT_CONFIG_DIR", raising=False)
    monkeypatch.delenv("AUDITBOT_ROLES_FILE", raising=False)
    policy = SHIPPED / "policies" / "shropshire.yaml"
    assert main(["templates", "check", str(policy)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "ok: shropshire (Shropshire Child Journey audit), policy with 3 steps and off "
        "(council options): moderation, coc_plan, default audit tool child-journey-audit"
    )
