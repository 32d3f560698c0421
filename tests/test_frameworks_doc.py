"""docs/frameworks.md read against the shipped policies: every step of every
framework with who acts, when, from what, and the seed's line; every rule with its
setting and its source or the note that it is a council option. Every step and
every rule a shipped policy file sets carries a source or is a council option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from audits.catalog import SHIPPED, load_catalog
from audits.policies import Policy, Step
from audits.roles import Role

DOC = Path(__file__).parents[1] / "docs" / "frameworks.md"

FRAMEWORKS = {
    "swindon": "Swindon monthly case file audits",
    "early-help": "Swindon Early Help",
    "youth-justice": "Swindon Youth Justice Service",
    "bristol": "Bristol case file audits",
    "stage123": "Audit for Good Practice, Stages 1, 2 and 3",
    "shropshire": "Shropshire Child Journey audits",
}

# What a policy file holds that is not a rule of the process.
_NOT_RULES = {
    "id",
    "name",
    "source",
    "default_template",
    "steps",
    "sources",
    "council_options",
    "role_readings",
}


# When each step's clock starts, in the QA team's words.
STARTS = {
    "allocation": "allocation",
    "submission": "submission for moderation",
    "moderation": "moderation",
    "panel": "the QA panel",
    "alert": "the Inadequate judgement",
    "agreed": "the action being agreed",
    "closure": "closure",
}


def late_of(step: Step) -> str:
    """Who else is told when the step's deadline has passed."""
    return ", ".join(e.to.label for e in step.escalations) or "nobody"


def when_of(step: Step) -> str:
    return step.deadline.describe() if step.deadline else "no deadline"


def render_setting(policy: Policy, name: str) -> str:
    value = getattr(policy, name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k.value}: {v.value}" for k, v in value.items()) or "none"
    if isinstance(value, tuple):
        return ", ".join(str(getattr(v, "value", v)) for v in value) or "none"
    return str(getattr(value, "value", value))


def _sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = re.split(r"^## .*\(`([a-z0-9-]+)`\)\s*$", text, flags=re.M)
    return dict(zip(found[1::2], found[2::2], strict=True))


def _rows(section: str) -> dict[str, list[str]]:
    rows = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([a-z_]+)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [cell.strip() for cell in m.group(2).split(" | ")]
    return rows


def test_the_document_has_a_section_per_shipped_policy():
    assert set(_sections()) == set(load_catalog().policies) == set(FRAMEWORKS)


@pytest.mark.parametrize("policy_id", sorted(FRAMEWORKS))
def test_each_step_in_the_document_is_the_policys(policy_id):
    policy = load_catalog().policy(policy_id)
    rows = _rows(_sections()[policy_id])
    every = {s.value for s in (*policy.steps, *policy.steps_off)}
    steps = {k: v for k, v in rows.items() if k in every | {"action"}}
    assert set(steps) == every
    for step_id, step in (*policy.steps.items(), *policy.steps_off.items()):
        who, when, starts, late, source = rows[step_id.value]
        expected = (step.actor.label, when_of(step), STARTS[step.starts], late_of(step))
        assert (who, when, starts, late) == expected, step_id
        if step.enabled:
            assert source == step.source, step_id
        else:
            assert source == f"**off** (council option): {step.council_option}", step_id


@pytest.mark.parametrize("policy_id", sorted(FRAMEWORKS))
def test_each_rule_in_the_document_is_the_policys(policy_id):
    policy = load_catalog().policy(policy_id)
    rows = _rows(_sections()[policy_id])
    for name in set(policy.sources) | set(policy.council_options):
        setting, note = rows[name]
        assert setting == render_setting(policy, name), name
        if name in policy.council_options:
            assert "council option" in note and policy.council_options[name] in note, name
        if name in policy.sources:
            assert policy.sources[name] in note, name


@pytest.mark.parametrize("policy_id", sorted(FRAMEWORKS))
def test_every_step_and_rule_of_a_shipped_policy_has_a_source(policy_id):
    path = SHIPPED / "policies" / f"{policy_id}.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    policy = load_catalog().policy(policy_id)
    for step_id, step in policy.steps.items():
        assert step.source and step.source.strip(), f"{policy_id}: steps.{step_id.value}"
        assert "|" not in step.source, "a | would break the table in docs/frameworks.md"
    for step_id, step in policy.steps_off.items():
        # A step the framework does not describe: shipped off, marked auditbot's own.
        assert step.council_option and "auditbot's own" in step.council_option, step_id
        assert "|" not in step.council_option, "a | would break the table"
    for note in (*policy.sources.values(), *policy.council_options.values()):
        assert "|" not in note, "a | would break the table in docs/frameworks.md"
    rules = set(raw) - _NOT_RULES
    unsourced = rules - set(policy.sources) - set(policy.council_options)
    assert not unsourced, f"{policy_id}: rules with no source and not a council option"
    for name in set(policy.sources) | set(policy.council_options):
        assert name in Policy.model_fields and name not in _NOT_RULES, name


@pytest.mark.parametrize("policy_id", sorted(FRAMEWORKS))
def test_each_role_reading_in_the_document_is_the_policys(policy_id):
    """Who holds a role in the framework's words, where the reading is auditbot's own:
    listed for the council to confirm, and nothing listed that the policy lacks."""
    policy = load_catalog().policy(policy_id)
    rows = _rows(_sections()[policy_id])
    # `panel` is a role and a rule: a rule's row is not a role's.
    names = {r.value for r in Role} - set(Policy.model_fields)
    roles = {k: v for k, v in rows.items() if k in names}
    assert set(roles) == {r.value for r in policy.role_readings}
    assert not set(policy.role_readings) - {Role(n) for n in names}
    for role, reading in policy.role_readings.items():
        assert roles[role.value] == [role.label, reading], role


def test_the_role_readings_to_confirm_are_the_ones_the_product_made():
    catalog = load_catalog()
    assert "coordinator" in catalog.policy("early-help").role_readings[Role.TEAM_MANAGER]
    stage123 = catalog.policy("stage123").role_readings
    assert "group manager" in stage123[Role.AUDITOR]
    assert "practice manager" in stage123[Role.TEAM_MANAGER]
    assert "QA SW" in catalog.policy("bristol").role_readings[Role.QA_OFFICER]


@pytest.mark.parametrize("policy_id", sorted(FRAMEWORKS))
def test_no_source_points_to_a_file(policy_id):
    """A policy cites its council's document by name and section, never by a path a
    maintainer would not have: no relative path out of the repository, no absolute path,
    no file of the documents' folder."""
    text = (SHIPPED / "policies" / f"{policy_id}.yaml").read_text(encoding="utf-8")
    assert not re.search(r"\.\./|(?<![\w:])/work/|\bseeds/", text), policy_id


def test_each_template_names_a_shipped_policy_whose_default_tool_it_is():
    catalog = load_catalog()
    for template in catalog.templates.values():
        assert template.policy in catalog.policies, template.id
        assert catalog.policy(template.policy).default_template == template.id


def test_the_policy_example_in_templates_md_is_a_valid_policy():
    text = (DOC.parent / "templates.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    [example] = [b for b in blocks if "\nsteps:" in b]
    policy = Policy.model_validate(yaml.safe_load(example))
    assert policy.id == "riverside" and all(step.source for step in policy.steps.values())
    assert set(policy.sources) | set(policy.council_options) >= {
        k for k in yaml.safe_load(example) if k not in _NOT_RULES
    }
