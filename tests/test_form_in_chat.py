"""The audit form as the auditor meets it in chat, through the real endpoint: what a
receipt says is still missing, the buttons on "Check and submit", the guidance toggle,
and the answer to a child's ID the person has no audit for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from auditbot.app import App
from auditbot.serve import serving
from cards import validate
from cards.actions import Verb
from tests.support.council import allocate_sample
from tests.support.fake_connector import FakeConnector
from tests.support.people import AUDITOR
from tests.support.teams import Teams


@pytest.fixture
async def teams(app: App, connector: FakeConnector) -> AsyncIterator[Teams]:
    async with serving(app, "127.0.0.1", 0) as running:
        yield Teams(running, connector)


def _walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for v in node.values() for n in _walk(v)]
    if isinstance(node, list):
        return [n for v in node for n in _walk(v)]
    return []


def _texts(node: Any) -> list[str]:
    return [
        "".join(run.get("text", "") for run in n["inlines"])
        for n in _walk(node)
        if n.get("type") == "RichTextBlock"
    ]


async def test_save_and_next_without_a_grade_says_what_is_left(teams, app):
    """The receipt says what the section still needs; coming back to the section later
    says why, rather than showing it as if nothing had happened."""
    await teams.install(AUDITOR)
    [audit] = await allocate_sample(app.service, 1)
    risk = app.catalog.template(audit.template).section("risk")
    answer = await teams.execute(
        AUDITOR,
        {
            "verb": Verb.ANSWER_SECTION,
            "audit_id": audit.id,
            "section": risk.id,
            "evidence": "Case notes May to October",
        },
    )
    receipt = answer["value"]
    validate(receipt)
    said = " ".join(_texts(receipt))
    assert "Still to give here: grade; impact" in said, said
    # "Save and next" still moves on: the next card is the section after it.
    following, _ = teams.answer_card(AUDITOR)
    assert risk.label not in str(following)

    await teams.execute(
        AUDITOR,
        {"verb": Verb.OPEN_AUDIT, "audit_id": audit.id, "card": "section", "section": risk.id},
    )
    again, _ = teams.answer_card(AUDITOR)
    shown = " ".join(_texts(again))
    assert risk.label in shown
    assert "Still to give here: grade; impact." in shown
    assert "You can save without it and come back." in shown

    # Given in full, the section's receipt says nothing is left.
    answer = await teams.execute(
        AUDITOR,
        {
            "verb": Verb.ANSWER_SECTION,
            "audit_id": audit.id,
            "section": risk.id,
            "grade": "good",
            "impact": "Visits weekly",
            **{f"q.{q.id}": "yes" for q in risk.questions if q.required},
        },
        card_id="card-2",
    )
    assert "Still to give here" not in str(answer["value"])


async def test_a_section_not_yet_saved_does_not_say_what_is_left(teams, app):
    """The first visit to a section (its allocation details filled in for the auditor)
    is not told off for what it has not been asked yet."""
    await teams.install(AUDITOR)
    await allocate_sample(app.service, 1)
    await teams.say(AUDITOR, "resume")
    first, _ = teams.answer_card(AUDITOR)
    assert _texts(first)[0] == "About this audit"
    assert "Still to give here" not in str(first)
    # The allocation's people are shown by name on the form, not by address.
    assert "Auditor's name: Ava Auditor" in _texts(first)
    assert AUDITOR not in str(first)


async def test_a_page_saved_empty_says_what_is_left_when_the_auditor_is_back(teams, app):
    """ "Save and next" on a page with nothing given: the receipt is not in the colour
    of success and says what is left; `resume` brings the auditor back there and says
    why."""
    await teams.install(AUDITOR)
    [audit] = await allocate_sample(app.service, 1)
    await teams.say(AUDITOR, "resume")
    _, card_id = teams.answer_card(AUDITOR)
    answer = await teams.execute(
        AUDITOR,
        {"verb": Verb.ANSWER_SECTION, "audit_id": audit.id, "section": "about"},
        card_id=card_id,
    )
    [heading, *_] = [n for n in _walk(answer["value"]) if n.get("type") == "TextRun"]
    assert heading["text"] == "Saved: About this audit" and heading["color"] == "warning"
    await teams.say(AUDITOR, "resume")
    again, _ = teams.answer_card(AUDITOR)
    assert _texts(again)[0] == "About this audit"
    assert "Still to give here: Audit date; Audited previously?; Age band." in " ".join(
        _texts(again)
    )


async def test_every_missing_item_on_check_and_submit_opens_its_place(teams, app):
    await teams.install(AUDITOR)
    [audit] = await allocate_sample(app.service, 1)
    await teams.execute(AUDITOR, {"verb": Verb.REVIEW, "audit_id": audit.id})
    review, _ = teams.answer_card(AUDITOR)
    validate(review)
    rows = {}
    for row in (n for n in _walk(review) if n.get("type") == "ColumnSet"):
        [said] = _texts(row)
        [action] = [n for n in _walk(row) if n.get("type") == "Action.Execute"]
        rows[said.split(":")[0]] = action["data"]
    assert "Family feedback" in rows
    # The family feedback button opens the family feedback card ...
    await teams.execute(AUDITOR, rows["Family feedback"], card_id="review")
    feedback, _ = teams.answer_card(AUDITOR)
    assert "Family feedback" in " ".join(_texts(feedback))
    assert any(n.get("id") == "sought_from" for n in _walk(feedback))
    # ... and a section's button that section.
    risk = app.catalog.template(audit.template).section("risk")
    await teams.execute(AUDITOR, rows[risk.label], card_id="review")
    section, _ = teams.answer_card(AUDITOR)
    assert _texts(section)[0] == risk.label


async def test_guidance_can_be_shown_and_hidden_again(teams, app):
    await teams.install(AUDITOR)
    [audit] = await allocate_sample(app.service, 1)
    await teams.execute(
        AUDITOR,
        {"verb": Verb.OPEN_AUDIT, "audit_id": audit.id, "card": "section", "section": "risk"},
    )
    card, _ = teams.answer_card(AUDITOR)
    toggles = [n for n in _walk(card) if n.get("type") == "Action.ToggleVisibility"]
    assert [t["title"] for t in toggles] == ["Show guidance", "Hide guidance"]
    template = app.catalog.template(audit.template)
    position = [s.id for s in template.sections].index("risk") + 1
    assert f"Page {position} of {len(template.sections)}" in " ".join(_texts(card))


async def test_no_audit_for_a_child_is_not_said_in_the_success_colour(teams, app):
    await teams.install(AUDITOR)
    await teams.say(AUDITOR, "status 9999999")
    [sent] = teams.answers(AUDITOR)
    assert sent.card is None
    assert sent.body["text"] == "You have no audit for child's ID 9999999."
