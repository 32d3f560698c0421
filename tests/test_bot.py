"""The bot through its real HTTP endpoint, with Teams activities and a fake Bot Connector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from application.people import know_people
from auditbot.app import App, build
from auditbot.serve import BotServer, serving
from auditbot.settings import Settings
from audits import commands as c
from audits.clock import FixedClock, MovableClock
from audits.grades import Grade
from audits.model import Status
from cards import validate
from cards.actions import Verb
from store import contacts, outbox_queue, trail, typed_answers
from tests.support.clock import START
from tests.support.council import DIRECTORY, ROLES_FILE, allocate_sample
from tests.support.factories import make_audit
from tests.support.fake_connector import FakeConnector
from tests.support.people import (
    AUDITOR,
    IRO,
    MOD,
    QA_MANAGER,
    QA_OFFICER,
    SM,
    STRANGER,
    TM,
    name_of,
)
from tests.support.teams import TENANT, Teams, conversation, has_card_mentioning, object_id, until


@pytest.fixture
async def server(app: App) -> AsyncIterator[BotServer]:
    async with serving(app, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def teams(server: BotServer, connector: FakeConnector) -> Teams:
    return Teams(server, connector)


async def test_malformed_requests_get_400_not_500(teams):
    assert (await teams.post(None, raw=b"{not json"))[0] == 400
    assert (await teams.post([1, 2]))[0] == 400
    assert (await teams.post({"text": "no type"}))[0] == 400


async def test_install_welcomes_and_help_answers(teams, connector):
    await teams.install(AUDITOR)  # membersAdded and installationUpdate: one welcome
    welcomes = [c for c in connector.cards_to(conversation(AUDITOR)) if "I help you" in str(c)]
    assert len(welcomes) == 1
    await teams.say(AUDITOR, "help")
    await teams.say(AUDITOR, "what is this")
    cards = connector.cards_to(conversation(AUDITOR))
    assert len(cards) == 3
    assert all(card["version"] == "1.5" for card in cards)


async def test_help_shows_each_person_what_they_can_use(teams, connector):
    """The report and the tracker are for QA staff: only they see them in help."""
    seen = {}
    for who in (AUDITOR, QA_MANAGER):
        await teams.install(who)
        await teams.say(who, "help")
        seen[who] = str(teams.answer_card(who)[0])
    assert "my audits" in seen[AUDITOR] and "status <child's ID>" in seen[AUDITOR]
    assert "tracker" not in seen[AUDITOR] and "report" not in seen[AUDITOR]
    assert "tracker" in seen[QA_MANAGER] and "report" in seen[QA_MANAGER]


async def test_status_says_where_the_audit_is_up_to(teams, connector, app):
    """`status <child's ID>` shows the stage, each open step with who has it and when,
    and a button to the person's own part; not the form itself."""
    [audit] = await allocate_sample(app.service, 1)
    await teams.install(IRO)
    await teams.say(IRO, f"status {audit.child_id}")
    card, _ = teams.answer_card(IRO)
    validate(card)
    shown = str(card)
    assert audit.child_id in shown and "Stage" in shown and "Allocated" in shown
    assert f"– with {name_of(AUDITOR)}" in shown and f"– with {name_of(IRO)}" in shown
    assert AUDITOR not in shown  # by name, not by address
    assert "Open my part" in shown
    assert not [n for n in _inputs(card)]  # nothing to fill in here


def _inputs(node):
    if isinstance(node, dict):
        own = [node] if str(node.get("type", "")).startswith("Input.") else []
        return own + [i for v in node.values() for i in _inputs(v)]
    if isinstance(node, list):
        return [i for v in node for i in _inputs(v)]
    return []


async def test_my_audits_lists_what_waits_for_a_standing_role(teams, connector, app):
    """The QA manager is named on no audit, but a moderated audit waits for the QA panel:
    `my audits` lists it (it used to say "You have no audits"), and Open shows the
    panel's card."""
    audit = await make_audit(app.service, "moderated")
    assert not audit.participants.roles_of(QA_MANAGER)
    await teams.install(QA_MANAGER)
    await teams.say(QA_MANAGER, "my audits")
    listed = str(teams.answer_card(QA_MANAGER)[0])
    assert audit.child_id in listed and "QA panel" in listed
    assert "You have no audits" not in listed
    await teams.execute(QA_MANAGER, {"verb": Verb.OPEN_AUDIT, "audit_id": audit.id})
    panel = str(teams.answer_card(QA_MANAGER)[0])
    assert "The panel's findings" in panel


async def test_other_tenants_are_not_served(teams, connector, app):
    await teams.post(teams.activity(AUDITOR, tenant="evil-tenant", type="message", text="help"))
    assert connector.sent == []
    async with app.db.reading() as conn:
        assert await contacts.conversation_of(conn, AUDITOR) is None


async def test_allocation_cards_wait_for_the_conversation(teams, connector, app):
    [audit] = await allocate_sample(app.service, 1)
    await asyncio.sleep(1.5)
    assert connector.sent == []  # nobody has opened the bot yet
    await teams.install(AUDITOR)
    await until(lambda: has_card_mentioning(connector, AUDITOR, audit.child_id))


async def test_a_held_card_that_no_longer_applies_is_not_sent(teams, connector, app):
    """The IRO/CP chair's request waits for their chat; meanwhile their comments are
    recorded (by the QA team, say). When they open the chat at last, they are not asked
    for comments they have given: the held request is dropped, the welcome still comes."""
    [audit] = await allocate_sample(app.service, 1)

    async def held() -> bool:  # the runner has tried, and found no chat
        async with app.db.reading() as conn:
            rows = await outbox_queue.outbox_rows(conn)
        mine = [r for r in rows if r.recipient == IRO and r.channel == "teams"]
        return bool(mine) and all(r.attempts >= 1 for r in mine)

    await until(held)
    await app.service.execute(IRO, audit.id, c.AddIroComments("Plan on track."))
    await teams.install(IRO)

    async def all_done() -> bool:
        async with app.db.reading() as conn:
            rows = await outbox_queue.outbox_rows(conn)
        mine = [r for r in rows if r.recipient == IRO and r.channel == "teams"]
        done = (outbox_queue.OutboxStatus.SENT, outbox_queue.OutboxStatus.DROPPED)
        return all(r.status in done for r in mine)

    await until(all_done)
    shown = str(connector.cards_to(conversation(IRO)))
    assert "I help you" in shown  # the welcome
    assert "Your comments are needed" not in shown


async def test_a_whole_audit_in_chat(teams, connector, app):
    [audit] = await allocate_sample(app.service, 1)
    template = app.catalog.template(audit.template)
    for who in (AUDITOR, IRO, MOD, QA_MANAGER):
        await teams.install(who)

    body = await teams.execute(
        IRO,
        {
            "verb": Verb.IRO_COMMENTS,
            "audit_id": audit.id,
            "comments": "Plan on track; child's views heard.",
        },
    )
    assert body["type"] == "application/vnd.microsoft.card.adaptive"

    await _answer_everything(teams, app, audit, overall="good")

    # The same card pressed twice is applied once.
    again = await teams.execute(
        AUDITOR,
        {
            "verb": Verb.ANSWER_SECTION,
            "audit_id": audit.id,
            "section": "risk",
            "grade": "inadequate",
        },
        card_id="section-4",
    )
    assert again["type"] == "application/vnd.microsoft.activity.message"
    assert (await app.service.get(audit.id)).answers["risk"].grade is Grade.GOOD

    await teams.execute(
        AUDITOR,
        {
            "verb": Verb.FAMILY_FEEDBACK,
            "audit_id": audit.id,
            "sought_from": "parent,child",
            "summary": "Feels listened to",
        },
    )
    submitted = await teams.execute(
        AUDITOR, {"verb": Verb.SUBMIT, "audit_id": audit.id}, card_id="review"
    )
    assert submitted["type"] == "application/vnd.microsoft.card.adaptive", submitted
    assert (await app.service.get(audit.id)).status is Status.SUBMITTED

    # Someone else's audit: refused, nothing written.
    refused = await teams.execute(
        STRANGER,
        {
            "verb": Verb.MODERATE_SECTION,
            "audit_id": audit.id,
            "section": "risk",
            "decision": "agree",
        },
        card_id="x",
    )
    assert refused["type"] == "application/vnd.microsoft.activity.message"
    assert (await app.service.get(audit.id)).moderation is None
    async with app.db.reading() as conn:
        [attempt] = await trail.refusal_rows(conn)
    assert (attempt.actor, attempt.audit_id, attempt.action) == (
        STRANGER,
        audit.id,
        "moderate_section",
    )

    for n, section in enumerate(template.graded_sections):
        if section.id == template.overall_section:
            continue
        data = {
            "verb": Verb.MODERATE_SECTION,
            "audit_id": audit.id,
            "section": section.id,
            "decision": "agree",
        }
        if section.id == "identity":
            data |= {
                "decision": "regrade",
                "grade": "requires_improvement",
                "reason": "Identity not explored",
            }
        # The moderator's client falls back to Action.Submit: the bot updates the card.
        await teams.submit(MOD, data, card_id=f"mod-{n}")
    assert any(s.method == "PUT" for s in connector.sent)
    await teams.execute(
        MOD,
        {
            "verb": Verb.COMPLETE_MODERATION,
            "audit_id": audit.id,
            "grade": "good",
            "evidence": "Read the file",
            "impact": "Agreed",
        },
    )
    await teams.execute(
        QA_MANAGER, {"verb": Verb.PANEL, "audit_id": audit.id, "outcome": "agreed", "notes": ""}
    )
    await teams.execute(QA_MANAGER, {"verb": Verb.CLOSE_AUDIT, "audit_id": audit.id})
    closed = await app.service.get(audit.id)
    assert closed.status is Status.CLOSED
    assert closed.moderation.sections["identity"].grade is Grade.REQUIRES_IMPROVEMENT
    # The auditor hears of the regrade through a proactive card.
    await until(lambda: has_card_mentioning(connector, AUDITOR, "Requires Improvement"))


async def test_a_press_repeated_after_a_crash_shows_the_card_that_followed(teams, connector, app):
    """The answer was stored, then the process died before the next section's card went
    out; Teams (or the person) sends the press again: it is not applied twice, and the
    card that followed comes again, so the person can carry on."""
    [audit] = await allocate_sample(app.service, 1)
    await teams.install(AUDITOR)
    template = app.catalog.template(audit.template)
    first, second = template.graded_sections[0].id, template.graded_sections[1].id
    press = {
        "verb": Verb.ANSWER_SECTION,
        "audit_id": audit.id,
        "section": first,
        "grade": "good",
        "evidence": "Seen the plan",
    }
    await teams.execute(AUDITOR, press, card_id="section-card")
    followed, _ = teams.answer_card(AUDITOR)
    assert f'"section": "{second}"' in str(followed).replace("'", '"')
    connector.sent.clear()  # lost with the process

    again = await teams.execute(AUDITOR, {**press, "grade": "inadequate"}, card_id="section-card")
    assert again["value"] == "That card has already been saved."
    shown, _ = teams.answer_card(AUDITOR)
    assert shown == followed
    assert (await app.service.get(audit.id)).answers[first].grade is Grade.GOOD


async def test_resume_with_two_audits_allocated_the_same_day(teams, connector, app):
    """Two audits whose first steps are due at the same moment: resume opens the one with
    the lower id (it used to compare the audits themselves and fail)."""
    audits = await allocate_sample(app.service, 1, 4)  # Ava audits both children
    assert {a.participants.auditor for a in audits} == {AUDITOR}
    await teams.install(AUDITOR)
    await teams.say(AUDITOR, "resume")
    card, _ = teams.answer_card(AUDITOR)
    first = min(audits, key=lambda a: a.id)
    assert first.child_id in str(card) and "went wrong" not in str(card)


INVOKES = [
    "task/fetch",
    "task/submit",
    "composeExtension/query",
    "composeExtension/submitAction",
    "composeExtension/fetchTask",
    "signin/verifyState",
    "signin/tokenExchange",
    "config/fetch",
    "tab/fetch",
    "message/submitAction",
    "fileConsent/invoke",
    "actionableMessage/executeAction",
    "something/new",
]


@pytest.mark.parametrize("name", INVOKES)
async def test_every_other_invoke_is_answered_politely(teams, app, name):
    """Teams may send a bot invokes it does not offer: each gets 200 in the shape that
    invoke expects (a dialog's message, a message extension's message), never a 5xx."""
    await teams.install(AUDITOR)
    status, body = await teams.post(teams.activity(AUDITOR, type="invoke", name=name, value={}))
    assert status == 200, body
    if name.startswith("task/"):
        assert body["task"]["type"] == "message" and "help" in body["task"]["value"]
    elif name.startswith("composeExtension/"):
        assert body["composeExtension"]["type"] == "message"


async def test_connector_throttling_is_waited_out(teams, connector, app):
    await teams.install(AUDITOR)
    connector.throttle_next = 1  # the first proactive card meets a 429
    [audit] = await allocate_sample(app.service, 1)
    clock = app.service.clock
    assert isinstance(clock, FixedClock)
    await until(lambda: _throttled(app))
    assert not await has_card_mentioning(connector, AUDITOR, audit.child_id)
    clock.advance(timedelta(seconds=5))  # past the Retry-After
    await until(lambda: has_card_mentioning(connector, AUDITOR, audit.child_id))


async def _throttled(app: App) -> bool:
    async with app.db.reading() as conn:
        rows = await outbox_queue.outbox_rows(conn)
    return any("slow down" in (r.last_error or "") for r in rows)


async def _answer_everything(teams: Teams, app: App, audit, overall: str) -> None:
    template = app.catalog.template(audit.template)
    for n, section in enumerate(template.sections):
        data: dict[str, Any] = {
            "verb": Verb.ANSWER_SECTION,
            "audit_id": audit.id,
            "section": section.id,
        }
        if section.kind.value == "graded":
            grade = overall if section.id == template.overall_section else "good"
            data |= {"grade": grade, "evidence": "Case notes", "impact": "Unclear"}
        for q in section.questions:
            if q.prefill or (q.when and q.id != "practitioner"):
                continue
            data[f"q.{q.id}"] = (
                "no"
                if q.id == "audited_previously"
                else {
                    "yes_no": "yes",
                    "yes_no_na": "yes",
                    "date": "2026-11-02",
                    "choice": q.options[0].id if q.options else "",
                }.get(q.type.value, "Written answer")
            )
        reply = await teams.execute(AUDITOR, data, card_id=f"section-{n}")
        assert reply["type"] == "application/vnd.microsoft.card.adaptive", reply


async def test_a_case_of_concern_in_chat(teams, connector, app):
    [audit] = await allocate_sample(app.service, 1)
    await teams.install(SM)
    await _answer_everything(teams, app, audit, overall="inadequate")
    await teams.execute(
        AUDITOR,
        {
            "verb": Verb.FAMILY_FEEDBACK,
            "audit_id": audit.id,
            # Swindon: "The audit will not be accepted without feedback".
            "sought_from": "parent",
            "summary": "Mother said the plan is not helping yet",
        },
    )
    await teams.execute(
        AUDITOR,
        {
            "verb": Verb.ADD_ACTION,
            "audit_id": audit.id,
            "text": "Hold a strategy discussion about the risks this week",
            "owner": TM,
            "due": "2026-11-06",
        },
    )
    done = await teams.execute(AUDITOR, {"verb": Verb.SUBMIT, "audit_id": audit.id})
    assert done["type"] == "application/vnd.microsoft.card.adaptive", done
    # The service manager is alerted at once, in Teams.
    await until(lambda: has_card_mentioning(connector, SM, audit.child_id))
    alert = str(connector.cards_to(conversation(SM)))
    assert Verb.CONFIRM_PLAN.value in alert or Verb.OPEN_AUDIT.value in alert
    confirmed = await teams.execute(
        SM,
        {
            "verb": Verb.CONFIRM_PLAN,
            "audit_id": audit.id,
            "plan": "Strategy discussion on Friday; weekly visits until the review",
            "owner": TM,
        },
    )
    assert confirmed["type"] == "application/vnd.microsoft.card.adaptive", confirmed
    coc = (await app.service.get(audit.id)).case_of_concern
    assert coc is not None and coc.plan_by == SM


async def test_the_iro_can_simply_type_their_comments(teams, connector, app):
    await teams.install(IRO)
    [audit] = await allocate_sample(app.service, 1)
    # The request for comments arrives as a card; a plain reply answers it.
    await until(lambda: has_card_mentioning(connector, IRO, audit.child_id))
    await until(lambda: _awaiting(app, IRO))
    await teams.say(IRO, "Child's views are clear in reviews; the plan is on track.")
    comments = (await app.service.get(audit.id)).iro_comments
    assert [c.text for c in comments] == [
        "Child's views are clear in reviews; the plan is on track."
    ]
    # Only one answer per question: the next message is not taken as comments again.
    await teams.say(IRO, "thanks")
    assert len((await app.service.get(audit.id)).iro_comments) == 1


async def _awaiting(app: App, who: str) -> bool:
    async with app.db.reading() as conn:
        return await typed_answers.awaited_text(conn, who) is not None


async def test_the_auditor_can_type_evidence_and_impact_in_chat(teams, connector, app):
    await teams.install(AUDITOR)
    [audit] = await allocate_sample(app.service, 1)
    section = app.catalog.template(audit.template).graded_sections[0]
    ask = {"verb": Verb.TYPE_ANSWER, "audit_id": audit.id, "section": section.id}
    # The button opens a prompt below the card; the card itself is left as it was.
    answer = await teams.execute(AUDITOR, {**ask, "field": "evidence"})
    assert answer["type"] == "application/vnd.microsoft.activity.message", answer
    prompt = str(teams.answer_card(AUDITOR)[0])
    assert "next message" in prompt and audit.child_id in prompt
    await teams.say(AUDITOR, "Case notes from May to October; the plan of 3 October.")
    saved = (await app.service.get(audit.id)).answers[section.id]
    assert saved.evidence == "Case notes from May to October; the plan of 3 October."
    # A receipt, then the section's card again to carry on with the grade.
    receipt, again = [s.card for s in teams.answers(AUDITOR) if s.card]
    # The receipt says what was saved, never the words (they may name the child).
    assert "Case notes from May to October" not in str(receipt)
    assert "saved (54 characters)" in str(receipt)
    assert section.label in str(again)
    # Answered once: the next message is not evidence again.
    await teams.say(AUDITOR, "thanks")
    assert (await app.service.get(audit.id)).answers[section.id].evidence == saved.evidence

    # Too long: a clear message, nothing stored, and a shorter text still answers.
    await teams.execute(AUDITOR, {**ask, "field": "impact"})
    await teams.say(AUDITOR, "x" * 10_001)
    assert (await app.service.get(audit.id)).answers[section.id].impact is None
    assert "too long" in str(teams.answers(AUDITOR)).lower()
    await teams.say(AUDITOR, "Visits are now weekly and the child says she feels safer.")
    assert (await app.service.get(audit.id)).answers[section.id].impact.startswith("Visits")


async def test_only_the_auditor_may_type_answers(teams, connector, app):
    [audit] = await allocate_sample(app.service, 1)
    section = app.catalog.template(audit.template).graded_sections[0]
    ask = {"verb": Verb.TYPE_ANSWER, "audit_id": audit.id, "section": section.id}
    answer = await teams.execute(IRO, {**ask, "field": "evidence"})
    assert "auditor" in str(answer).lower()
    assert not await _awaiting(app, IRO)
    async with app.db.reading() as conn:
        refusals = await trail.refusal_rows(conn)
    assert [(r.actor, r.action) for r in refusals] == [(IRO, Verb.TYPE_ANSWER.value)]
    # A made-up section or field is refused too, and nothing waits for text.
    await teams.execute(AUDITOR, {**ask, "section": "nonsense", "field": "evidence"})
    await teams.execute(AUDITOR, {**ask, "field": "grade"})
    assert not await _awaiting(app, AUDITOR)


async def test_serve_has_no_clock_to_move_outside_demo_mode(teams, server):
    """/dev/clock is not mounted at all unless AUDITBOT_DEMO is set."""
    assert not any(
        getattr(r.resource, "canonical", "") == "/dev/clock" for r in server.web_app.router.routes()
    )
    async with aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{server.port}/dev/clock"
        async with http.post(url, json={"advance": "PT72H"}) as response:
            assert response.status == 404


async def test_in_demo_mode_moving_the_clock_brings_the_nudges_and_escalations(tmp_path, connector):
    settings = Settings.model_validate(
        {
            "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
            "AUDITBOT_ROLES_FILE": str(ROLES_FILE),
            "AUDITBOT_ALLOWED_TENANTS": TENANT,
            "AUDITBOT_DEMO": True,
        }
    )
    demo = build(settings, clock=MovableClock(START))
    await demo.start()
    async with demo.db.transaction() as conn:
        everyone = [*DIRECTORY, QA_OFFICER]
        await know_people(conn, [(p, object_id(p), True) for p in everyone], START)
        await contacts.save_names(conn, {p: name_of(p) for p in everyone}, START)
    async with serving(demo, "127.0.0.1", 0) as running:
        teams = Teams(running, connector)
        for who in (IRO, QA_OFFICER):
            await teams.install(who)
        [audit] = await allocate_sample(demo.service, 1)
        url = f"http://127.0.0.1:{running.port}/dev/clock"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json={"advance": "soon"}) as response:
                assert response.status == 400
            async with http.post(url, json={"advance": "PT72H"}) as response:
                assert response.status == 200
                moved = datetime.fromisoformat((await response.json())["now"])
        assert moved >= START + timedelta(hours=72)

        def late_for(who: str) -> Any:
            async def seen() -> bool:
                return any(
                    "Escalation" in str(c) or "Overdue" in str(c)
                    for c in connector.cards_to(conversation(who))
                )

            return seen

        await until(late_for(IRO))  # "Overdue: IRO/CP chair comments"
        await until(late_for(QA_OFFICER))  # the QA officer's escalation
        escalation = str(connector.cards_to(conversation(QA_OFFICER))[-1])
        # Who has the late step, by name (the card is drawn when it is sent).
        assert audit.child_id in escalation and name_of(IRO) in escalation
        assert IRO not in escalation
    await demo.close()


async def test_the_running_server_is_ready_once_its_runner_has_looked(server):
    async def ready() -> bool:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{server.port}/readyz"
            async with http.get(url) as response:
                return response.status == 200

    await until(ready)
    assert server.runner.heartbeat is not None


async def test_qa_staff_get_the_report_and_the_tracker_in_chat(teams, connector, app):
    audits = await allocate_sample(app.service, 1, 2)
    await teams.install(QA_MANAGER)
    await teams.install(AUDITOR)
    await teams.say(QA_MANAGER, "report")
    report = str(teams.answer_card(QA_MANAGER)[0])
    assert "2026-11" in report or "November 2026" in report
    await teams.say(QA_MANAGER, "report 2026-13")
    [reason] = teams.answers(QA_MANAGER)
    assert "2026-13" in str(reason.body) and reason.card is None  # a clear reason, no card
    await teams.say(QA_MANAGER, "tracker")
    tracker = teams.answer_card(QA_MANAGER)[0]
    assert all(a.child_id in str(tracker) for a in audits)
    await teams.say(QA_MANAGER, "tracker team=Nowhere")
    assert audits[0].child_id not in str(teams.answer_card(QA_MANAGER)[0])
    await teams.say(QA_MANAGER, "tracker sideways")
    assert "not a tracker filter" in str(teams.answers(QA_MANAGER))
    details = await teams.execute(
        QA_MANAGER, {"verb": Verb.AUDIT_DETAILS, "audit_id": audits[0].id}
    )
    assert details["type"] == "application/vnd.microsoft.activity.message"
    shown = str(teams.answer_card(QA_MANAGER)[0])
    # People by name, as the directory gives them; not their addresses.
    assert "Audit details" in shown and name_of(audits[0].participants.auditor) in shown
    assert audits[0].participants.auditor not in shown

    # Not for anyone else: refused, recorded, and nothing shown.
    for asked in ("report", "tracker"):
        await teams.say(AUDITOR, asked)
        answers = teams.answers(AUDITOR)
        assert answers and not any(s.card for s in answers), answers
        assert "Only the QA team" in str(answers), answers
    answer = await teams.execute(AUDITOR, {"verb": Verb.TRACKER_PAGE, "page": 2})
    assert "Only the QA team" in str(answer)
    async with app.db.reading() as conn:
        refused = await trail.refusal_rows(conn)
    assert [(r.actor, r.action) for r in refused] == [(AUDITOR, "tracker_page")]
