"""Audit tools as data: the shipped Swindon tool, answers, broken files and the catalog."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from audits.catalog import SHIPPED, load_catalog
from audits.errors import ConfigError, InvalidInput
from audits.model import SectionAnswer
from audits.roles import StandingRoles
from audits.templates import Question, Section, load_template
from audits.workdays import WorkingCalendar
from audits.workflow import SYSTEM, Context, allocate, missing_for_submission
from audits.workflow.answering import _applies
from tests.support.allocations import allocation
from tests.support.council import with_own_questions

SWINDON_FILE = SHIPPED / "templates" / "swindon-practice-evaluation.yaml"
GRADED = [
    "risk",
    "involvement",
    "decision-making",
    "assessment",
    "coordination",
    "identity",
    "plans",
    "permanency",
    "reviews",
    "living-arrangements",
    "independence",
    "final-judgement",
]


@pytest.fixture
def swindon(catalog):
    return catalog.template("swindon-practice-evaluation")


@pytest.fixture
def swindon_own(catalog):
    """The Swindon tool with its own questions (the seven limiting judgements) on."""
    return with_own_questions(catalog).template("swindon-practice-evaluation")


# ------------------------------------------------------------ the Swindon tool


def test_swindon_sections_in_the_forms_order(swindon):
    assert [s.id for s in swindon.sections] == [
        "about",
        "practitioner",
        "case-summary",
        "checks",
        *GRADED,
        "sharing",
    ]
    assert [s.id for s in swindon.graded_sections] == GRADED
    assert [s.number for s in swindon.graded_sections] == list(range(1, 13))
    assert swindon.overall_section == "final-judgement"
    assert (swindon.actions.number, swindon.moderation.number) == (13, 14)
    assert swindon.moderation.additional_actions_number == 15


def test_swindon_asks_no_limiting_judgement_the_councils_form_does_not(swindon):
    # The seven are auditbot's own (not on the council's form): off as shipped.
    assert swindon.limiting_judgements == ()
    assert not swindon.own_questions
    assert "involvement.child_seen" in swindon.own_questions_off
    assert len(swindon.own_questions_off) == 7


def test_swindon_limiting_judgements_when_a_council_turns_them_on(swindon_own):
    assert [(s.id, q.id) for s, q in swindon_own.limiting_judgements] == [
        ("risk", "risks_addressed"),
        ("risk", "welfare_safeguarded"),
        ("involvement", "child_seen"),
        ("involvement", "child_seen_alone"),
        ("involvement", "child_voice"),
        ("decision-making", "management_oversight"),
        ("plans", "no_drift"),
    ]


def test_swindon_wording(swindon):
    assert all(s.prompts for s in swindon.graded_sections)
    risk = swindon.section("risk")
    assert risk.label == "1. Risk is identified, responded to and reduced in a timely way"
    assert "criminal exploitation" in risk.prompts
    assert (
        "If the child/young person has an EHCP, can you see evidence of agencies working "
        "effectively in partnership to improve outcomes?" in swindon.section("coordination").prompts
    )
    plans = swindon.section("plans")
    assert plans.number == 7
    assert (
        "If the child/young person has an EHCP, is the current plan evident in the file? (attachments)."
        in plans.prompts
    )
    assert (
        "Does the CIN/CP/Care Plan align to the EHCP and reflect child's aspirations?"
        in plans.prompts
    )
    assert swindon.section("checks").question("ehcp").text == "Does the child have an EHCP?"
    assert swindon.moderation.prompt == "What is your judgement?"


# ---------------------------------------------------- every question is asked


def _answers_showing(section: Section, q: Question, seen: tuple[str, ...] = ()) -> dict:
    """Answers to the other questions of `section` under which `q` is shown.

    Fails if `q` depends on itself, on contradictory answers, or on an answer
    its controlling question would never store.
    """
    values: dict = {}
    for other_id, wanted in (q.when or {}).items():
        assert other_id not in (q.id, *seen), f"'{q.id}' depends on itself"
        other = section.question(other_id)
        assert other.parse(wanted) == wanted, f"'{q.id}': '{other_id}' never stores {wanted!r}"
        for k, v in {**_answers_showing(section, other, (*seen, q.id)), other_id: wanted}.items():
            assert values.setdefault(k, v) == v, (
                f"'{q.id}' needs '{k}' both {values[k]!r} and {v!r}"
            )
    return values


def test_every_question_can_be_shown(swindon):
    conditional = 0
    for section in swindon.sections:
        for q in section.questions:
            assert _applies(q, SectionAnswer(values=_answers_showing(section, q))), q.id
            conditional += q.when is not None
    assert conditional, "no conditional question was checked"


@pytest.fixture
def empty_audit(catalog, swindon):
    ctx = Context(
        actor=SYSTEM,
        now=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        template=swindon,
        policy=catalog.policy("swindon"),
        calendar=WorkingCalendar(),
        standing=StandingRoles(),
    )
    return allocate("A-1", allocation(), ctx).audit


def test_every_required_question_is_needed_for_submission(catalog, swindon, empty_audit):
    policy = catalog.policy("swindon")
    missing = missing_for_submission(empty_audit, swindon, policy)
    for section in swindon.sections:
        for q in section.questions:
            line = f"{section.label}: {q.text}"
            if q.prefill or not q.required:
                assert line not in missing
                continue
            # Show the question (a conditional one needs its controlling answer).
            before = empty_audit.answers.get(section.id) or SectionAnswer()
            shown = SectionAnswer(values={**before.values, **_answers_showing(section, q)})
            audit = empty_audit.model_copy(
                update={"answers": {**empty_audit.answers, section.id: shown}}
            )
            assert line in missing_for_submission(audit, swindon, policy)
            assert (line in missing) is (q.when is None)
    for section in swindon.graded_sections:
        assert f"{section.label}: grade" in missing


# ---------------------------------------------------------------- answers


def _q(type: str, **kw) -> Question:
    return Question(id="q", text="The question", type=type, **kw)


@pytest.mark.parametrize(
    ("question", "given", "stored"),
    [
        (_q("yes_no"), "YES", "yes"),
        (_q("yes_no"), " no ", "no"),
        (_q("yes_no_na"), "N/A", "na"),
        (_q("yes_no_na"), "NA", "na"),
        (_q("grade"), "Requires Improvement", "requires_improvement"),
        (_q("date"), "2026-02-28", "2026-02-28"),
        (_q("text"), "x" * 20_000, "x" * 20_000),
        (_q("choice", options=[{"id": "21-plus", "label": "21+"}]), "21-plus", "21-plus"),
    ],
)
def test_answers_accepted(question, given, stored):
    assert question.parse(given) == stored


@pytest.mark.parametrize(
    ("question", "given", "message"),
    [
        (_q("yes_no"), "N/A", "The question: answer YES / NO"),
        (_q("yes_no"), "maybe", "The question: answer YES / NO"),
        (_q("yes_no_na"), "y", "The question: answer YES / NO / NA"),
        (
            _q("choice", options=[{"id": "0", "label": "0"}, {"id": "21-plus", "label": "21+"}]),
            "22",
            "The question: choose one of 0, 21+",
        ),
        (_q("date"), "31/02/2026", "The question: '31/02/2026' is not a date (use YYYY-MM-DD)"),
        (_q("date"), "2026-02-31", "The question: '2026-02-31' is not a date (use YYYY-MM-DD)"),
        (
            _q("grade"),
            "Excellent",
            "The question: 'Excellent' is not a grade: "
            "use Outstanding, Good, Requires Improvement or Inadequate",
        ),
        (_q("text"), "x" * 20_001, "The question: too long (at most 20000 characters)"),
    ],
)
def test_answers_refused(question, given, message):
    with pytest.raises(InvalidInput) as refused:
        question.parse(given)
    assert str(refused.value) == message


# ---------------------------------------------------------- broken templates


def _swindon_yaml() -> dict:
    # Its own questions on: the broken-file checks reach the limiting judgements.
    return {**yaml.safe_load(SWINDON_FILE.read_text(encoding="utf-8")), "own_questions": True}


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def _unknown_type(t):
    t["sections"][4]["questions"][1]["type"] = "essay"


def _duplicate_section(t):
    t["sections"].append(dict(t["sections"][4]))


def _unknown_overall(t):
    t["overall_section"] = "verdict"


def _choice_without_options(t):
    del t["sections"][0]["questions"][10]["options"]


def _limiting_text(t):
    t["sections"][4]["questions"][0]["type"] = "text"


def _unknown_key(t):
    t["sections"][4]["questions"][0]["colour"] = "red"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            _unknown_type,
            "sections[4 'risk'].questions[1 'welfare_safeguarded'].type: Input should be "
            "'text', 'yes_no', 'yes_no_na', 'choice', 'multi_choice', 'date', 'person', "
            "'grade' or 'number'",
        ),
        (_duplicate_section, "(top level): Value error, section ids used twice: risk"),
        (_unknown_overall, "(top level): Value error, overall_section 'verdict' is not a section"),
        (
            _choice_without_options,
            "sections[0 'about'].questions[10 'age_band']: Value error, "
            "a choice question needs options",
        ),
        (
            _limiting_text,
            "sections[4 'risk'].questions[0 'risks_addressed']: Value error, "
            "a limiting judgement must be a yes_no or yes_no_na question",
        ),
        (
            _unknown_key,
            "sections[4 'risk'].questions[0 'risks_addressed'].colour: "
            "Extra inputs are not permitted",
        ),
    ],
    ids=[
        "unknown-type",
        "duplicate-section",
        "unknown-overall",
        "choice-without-options",
        "limiting-text",
        "unknown-key",
    ],
)
def test_broken_template_names_file_place_and_problem(tmp_path, change, problem):
    data = _swindon_yaml()
    change(data)
    path = _write(tmp_path / "broken.yaml", data)
    with pytest.raises(ConfigError) as refused:
        load_template(path)
    assert str(refused.value) == f"{path}: {problem}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id: x\nname: [unclosed\nsections: 1\n", "line 3: not valid YAML"),
        ("- id: x\n", "expected a mapping at the top level"),
    ],
    ids=["invalid-yaml", "list"],
)
def test_unreadable_template(tmp_path, text, problem):
    path = _write(tmp_path / "broken.yaml", text)
    with pytest.raises(ConfigError) as refused:
        load_template(path)
    assert str(refused.value).startswith(f"{path}: {problem}")


def test_missing_template_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError) as refused:
        load_template(path)
    assert str(refused.value) == f"{path}: cannot be read (No such file or directory)"


# ----------------------------------------------------------------- catalog


def _council_tool(tmp_path: Path, file_name: str = "council-tool") -> Path:
    tool = _swindon_yaml() | {"id": "council-tool", "name": "Council Audit Tool"}
    return _write(tmp_path / "templates" / f"{file_name}.yaml", tool)


def _swindon_policy(tmp_path: Path, **changes) -> Path:
    policy = yaml.safe_load((SHIPPED / "policies" / "swindon.yaml").read_text(encoding="utf-8"))
    return _write(tmp_path / "policies" / "swindon.yaml", policy | changes)


def test_council_folder_adds_a_tool_and_replaces_a_policy(tmp_path):
    _council_tool(tmp_path)
    _swindon_policy(tmp_path, name="Our own process", default_template="council-tool")
    catalog = load_catalog(extra=tmp_path)
    assert sorted(catalog.templates) == sorted([*load_catalog().templates, "council-tool"])
    assert catalog.template("council-tool").name == "Council Audit Tool"
    assert catalog.policy("swindon").name == "Our own process"
    assert catalog.policy("swindon").default_template == "council-tool"


def test_file_name_must_match_id(tmp_path):
    path = _council_tool(tmp_path, file_name="other-name")
    with pytest.raises(ConfigError) as refused:
        load_catalog(extra=tmp_path)
    assert str(refused.value) == f"{path}: id 'council-tool' must match the file name 'other-name'"


def test_policy_default_template_must_be_known(tmp_path):
    _swindon_policy(tmp_path, default_template="nope")
    with pytest.raises(
        ConfigError, match=r"policies/swindon.yaml: default_template: 'nope' is not an audit tool"
    ):
        load_catalog(extra=tmp_path)


def test_default_policy_must_be_known():
    with pytest.raises(
        ConfigError,
        match=r"the default policy 'nope' is unknown \(known: bristol, early-help, shropshire, stage123, swindon, youth-justice\)",
    ):
        load_catalog(default_policy="nope")


def test_council_folder_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="the configuration folder does not exist"):
        load_catalog(extra=tmp_path / "missing")


def test_choice_accepts_the_words_on_the_option(swindon):
    age_band = swindon.section("about").question("age_band")
    assert age_band.parse("21+") == "21-plus"
    assert age_band.parse("21-plus") == "21-plus"


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ({"later": "yes"}, "depends on 'later', which is not an earlier question"),
        ({"first": "Yes please"}, "'Yes please' is not an answer to 'first'"),
        ({"first": "YES"}, "write the answer to 'first' as 'yes'"),
        ({"notes": "x"}, "can depend only on a yes/no or choice question"),
    ],
)
def test_conditions_must_be_answerable(tmp_path, when, problem):
    data = _swindon_yaml()
    data["sections"][1]["questions"] = [
        {"id": "first", "text": "First?", "type": "yes_no"},
        {"id": "notes", "text": "Notes", "type": "text"},
        {"id": "shown", "text": "Shown?", "type": "text", "when": when},
        {"id": "later", "text": "Later?", "type": "yes_no"},
    ]
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_template(_write(tmp_path / "swindon-practice-evaluation.yaml", data))
