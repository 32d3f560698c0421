"""Each framework's audit through chat: Bristol and Stage 1 from allocation to closure,
Swindon with its refusals, the Shropshire practitioner's checklist first, an Early Help
Inadequate to its coordinator, a Youth Justice Inadequate with no re-audit interval.

Everyone presses the buttons on the cards the bot sends them, as in Teams; the bot
runs with its runner and outbox against the Microsoft 365 sandbox, so the deadlines
are checked on the owners' Outlook calendars and the filed Word document is read
back from SharePoint.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
import pytest

from auditbot.app import App, build
from auditbot.serve import BotServer, serving
from audits import commands as c
from audits.allocation_csv import parse_allocation_csv
from audits.clock import FixedClock
from audits.grades import Grade
from audits.model import Audit, Status
from audits.workflow import SYSTEM
from cards import words
from cards.actions import Verb
from graph.provisioning import setup_tracker
from sandbox import RunningSandbox
from store import contacts
from tests.support.apps import settings
from tests.support.council import SAMPLE, allocation_csv
from tests.support.factories import fill_audit, moderate_audit
from tests.support.fake_connector import FakeConnector
from tests.support.people import AUDITOR, IRO, MOD, QA_MANAGER, QA_OFFICER, SW
from tests.support.teams import (
    TENANT,
    Teams,
    has_button,
    has_card_mentioning,
    object_id,
    until,
    walk,
)

CHILD = SAMPLE[0][0]


def _uk(text: str) -> datetime:
    """'15 Dec 2026 17:30' in UK time (GMT in winter) as UTC."""
    return datetime.strptime(text, "%d %b %Y %H:%M").replace(tzinfo=UTC)


async def _council(
    sandbox: RunningSandbox, tmp_path: Path, connector: FakeConnector, start: str
) -> AsyncIterator[tuple[App, BotServer, Teams]]:
    env = {
        **sandbox.env(),
        "AUDITBOT_ALLOWED_TENANTS": TENANT,
        "AUDITBOT_MAIL_SENDER": "auditbot@council.example",  # the sandbox's shared mailbox
    }
    app = build(settings(tmp_path, env), clock=FixedClock(_uk(start)))
    async with serving(app, "127.0.0.1", 0) as server:
        assert app.graph is not None
        await setup_tracker(app.graph)  # as the admin does, before the first allocation
        yield app, server, Teams(server, connector)
    await app.close()


@pytest.fixture
async def bristol(sandbox, tmp_path, connector) -> AsyncIterator[tuple[App, BotServer, Teams]]:
    # Tuesday 1 December 2026: 35 working days cross Christmas, Boxing Day and New Year.
    async for council in _council(sandbox, tmp_path, connector, "01 Dec 2026 09:00"):
        yield council


@pytest.fixture
async def stage123(sandbox, tmp_path, connector) -> AsyncIterator[tuple[App, BotServer, Teams]]:
    async for council in _council(sandbox, tmp_path, connector, "25 Nov 2026 10:00"):
        yield council


async def _allocate(app: App, template: str, policy: str) -> Audit:
    """The first sample child, with the framework named in the CSV's own columns."""
    header, first = allocation_csv(1).splitlines()
    text = f"{header},template,policy\n{first},{template},{policy}\n"
    [outcome] = await app.service.allocate(SYSTEM, parse_allocation_csv(text, app.catalog))
    return outcome.audit


def _move_to(app: App, server: BotServer, when: str) -> None:
    clock = app.service.clock
    assert isinstance(clock, FixedClock)
    clock.advance(_uk(when) - clock.now())
    server.runner.wake()


async def _calendar(app: App, upn: str) -> dict[str, str]:
    """Subject → end (UK time, winter) of each event on someone's Outlook calendar."""
    assert app.graph is not None
    found = await app.graph.client.users.by_user_id(upn).events.get()
    return {
        e.subject: e.end.date_time[:16]
        for e in (found.value if found and found.value else [])
        if e.subject and e.end and e.end.date_time
    }


async def _on_calendar(app: App, upn: str, subject: str, end: str) -> None:
    async def there() -> bool:
        return (await _calendar(app, upn)).get(subject) == end

    try:
        await until(there, seconds=20)
    except AssertionError:
        has = await _calendar(app, upn)
        raise AssertionError(f"{upn}: wanted {subject} at {end}, has {has}") from None


async def _off_calendar(app: App, upn: str, subject: str) -> None:
    async def gone() -> bool:
        return subject not in await _calendar(app, upn)

    await until(gone, seconds=20)


def _answers(card: dict[str, Any], grade: str) -> dict[str, str]:
    """What a conscientious person types into the empty inputs of a card."""
    typed: dict[str, str] = {}
    for node in walk(card.get("body", [])):
        kind = str(node.get("type", ""))
        if not kind.startswith("Input.") or node.get("value") not in (None, ""):
            continue
        if kind == "Input.ChoiceSet":
            values = [choice["value"] for choice in node.get("choices", [])]
            preferred = [v for v in (grade, "yes", "good", "agree") if v in values]
            typed[node["id"]] = preferred[0] if preferred else values[0]
        elif kind == "Input.Date":
            typed[node["id"]] = "2026-11-20"
        elif kind == "Input.Number":
            typed[node["id"]] = str(node.get("max", 7))
        elif kind == "Input.Toggle":
            typed[node["id"]] = str(node.get("valueOn", "true"))
        else:
            typed[node["id"]] = "Seen in the case notes and discussed with the worker."
    return typed


async def _save_each_in_turn(teams: Teams, who: str, grade: str) -> dict[str, Any]:
    """Fills and saves the card `who`'s last press opened while it has "Save and next"
    (each save opens the next card); returns the card it ends on. Nudges may arrive in
    the chat meanwhile: only the answers to the presses are followed."""
    for _ in range(60):
        card, card_id = teams.answer_card(who)
        if not has_button(card, words.SAVE_AND_NEXT):
            return card
        reply = await teams.press(who, words.SAVE_AND_NEXT, _answers(card, grade), (card, card_id))
        assert reply["type"] == "application/vnd.microsoft.card.adaptive", reply
    raise AssertionError(f"{who} was still saving cards after 60")


async def _answer_the_audit(teams: Teams, overall: str) -> None:
    """The auditor starts from the allocation card and saves every section in turn."""
    # The allocation card comes through the outbox: wait for it.
    await until(lambda: has_card_mentioning(teams.connector, AUDITOR, words.START_AUDIT))
    await teams.press(AUDITOR, words.START_AUDIT)
    card = await _save_each_in_turn(teams, AUDITOR, overall)
    assert has_button(card, words.SUBMIT) or has_button(card, words.BACK_TO_AUDIT), card


async def _record_family_feedback(teams: Teams) -> None:
    await teams.press(AUDITOR, words.RECORD_FEEDBACK)
    typed = {"sought_from": "parent,child", "summary": "Mum feels listened to; 7 out of 10."}
    reply = await teams.press(AUDITOR, words.SAVE_FEEDBACK, typed)
    assert reply["type"] == "application/vnd.microsoft.card.adaptive", reply


async def _submit(app: App, teams: Teams, audit: Audit) -> None:
    """The auditor answers every section, records the family's feedback and submits;
    the audit's deadline leaves their calendar."""
    await _answer_the_audit(teams, "good")
    await _record_family_feedback(teams)
    await teams.press(AUDITOR, words.SUBMIT)
    assert await _status(app, audit) is Status.SUBMITTED
    await _off_calendar(app, AUDITOR, f"Audit {CHILD} – audit due")


async def _moderate(app: App, teams: Teams, audit: Audit) -> None:
    """The moderator, from the card that told them, works through every section."""
    await until(lambda: has_card_mentioning(teams.connector, MOD, words.MODERATE))
    await teams.press(MOD, words.MODERATE)
    await _save_each_in_turn(teams, MOD, "good")
    card, card_id = teams.last_card(MOD, words.COMPLETE_MODERATION)
    reply = await teams.press(
        MOD, words.COMPLETE_MODERATION, _answers(card, "good"), card=(card, card_id)
    )
    assert reply["type"] == "application/vnd.microsoft.card.adaptive", reply
    assert await _status(app, audit) is Status.MODERATED


async def _filed_text(app: App, audit: Audit, stage: str) -> str:
    assert app.graph is not None
    year, month = audit.cycle.split("-")
    path = f"{year}/{month}/{CHILD}/audit-{audit.id}-{stage}.docx"
    drive = await app.graph.client.sites.by_site_id("sandbox-site").drive.get()
    assert drive is not None and drive.id
    content = (
        await app.graph.client.drives.by_drive_id(drive.id)
        .items.by_drive_item_id(f"root:/{path}:")
        .content.get()
    )
    assert content
    document = docx.Document(io.BytesIO(content))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


async def _filed(app: App, audit: Audit, stage: str) -> str:
    found: list[str] = []

    async def there() -> bool:
        try:
            found.append(await _filed_text(app, audit, stage))
        except Exception:
            return False
        return True

    await until(there, seconds=30)
    return found[-1]


async def _status(app: App, audit: Audit) -> Status:
    return (await app.service.get(audit.id)).status


async def test_a_bristol_audit_from_allocation_to_the_social_workers_feedback(bristol, connector):
    app, server, teams = bristol
    for who in (AUDITOR, SW, MOD, QA_OFFICER):
        await teams.install(who)
    audit = await _allocate(app, "bristol-child-case-audit", "bristol")
    await until(lambda: has_card_mentioning(connector, AUDITOR, CHILD))
    # Within 10 working days: the auditor's session, desktop review and family feedback.
    await _on_calendar(app, AUDITOR, f"Audit {CHILD} – audit due", "2026-12-15T17:30")
    assert not any("IRO" in s for s in await _calendar(app, IRO))

    _move_to(app, server, "15 Dec 2026 16:00")  # each step takes its full time
    await _submit(app, teams, audit)
    # Within 10 working days the moderator reviews against the Ofsted grade descriptions.
    await _on_calendar(app, MOD, f"Audit {CHILD} – moderation due", "2026-12-31T17:30")

    _move_to(app, server, "31 Dec 2026 16:00")
    await _moderate(app, teams, audit)
    # Within 5 working days QA shares the moderated audit (New Year's Day skipped).
    await _on_calendar(app, QA_OFFICER, f"Audit {CHILD} – QA closure due", "2027-01-08T17:30")

    _move_to(app, server, "08 Jan 2027 16:00")
    await until(lambda: has_card_mentioning(connector, QA_OFFICER, words.CLOSE_AUDIT))
    await teams.press(QA_OFFICER, words.CLOSE_AUDIT)
    assert await _status(app, audit) is Status.CLOSED
    # The social worker's feedback: 35 working days from day 1.
    feedback = f"Audit {CHILD} – your feedback on the audit due"
    await _on_calendar(app, SW, feedback, "2027-01-22T17:30")

    await until(lambda: has_card_mentioning(connector, SW, words.SEND_FEEDBACK))
    # Bristol's six staff feedback questions, each in its own box.
    answers = {
        "discussed": "Yes, with my manager on 14 January",
        "learning": "Record the child's views in their words",
        "changed": "I write the plan with the family",
        "actions_done": "Yes",
        "service_user_feedback": "Mum wants more notice of visits",
    }
    await teams.press(SW, words.SEND_FEEDBACK, answers)
    given = await app.service.get(audit.id)
    assert given.practitioner_feedback is not None
    assert given.practitioner_feedback.values == answers
    await _off_calendar(app, SW, feedback)

    text = await _filed(app, audit, "closed")
    assert "Child Case Audit" in text
    assert "What would it take to move this case to Good" in text


async def test_a_stage_1_audit_allocated_on_the_25th_through_to_closure(stage123, connector):
    app, server, teams = stage123
    for who in (AUDITOR, IRO, MOD, QA_MANAGER, QA_OFFICER):
        await teams.install(who)
    audit = await _allocate(app, "good-practice-audit", "stage123")
    # Stage 1 within the first three weeks of the next month; no IRO/CP chair step
    # (the guidance has none).
    await _on_calendar(app, AUDITOR, f"Audit {CHILD} – audit due", "2026-12-21T17:30")
    assert not any("IRO" in s for s in await _calendar(app, IRO))

    _move_to(app, server, "18 Dec 2026 10:00")
    await _submit(app, teams, audit)
    # Stage 2 "by the third week of each calendar month": Monday 21 December.
    await _on_calendar(app, MOD, f"Audit {CHILD} – moderation due", "2026-12-21T17:30")

    _move_to(app, server, "21 Dec 2026 10:00")
    await _moderate(app, teams, audit)
    await _off_calendar(app, MOD, f"Audit {CHILD} – moderation due")

    # No QA panel: the QA Team takes the moderated audit into Stage 3; no deadline.
    assert not await has_card_mentioning(connector, QA_MANAGER, words.RECORD_PANEL)
    await until(lambda: has_card_mentioning(connector, QA_OFFICER, words.CLOSE_AUDIT))
    assert not any("closure" in s for s in await _calendar(app, QA_OFFICER))
    await teams.press(QA_OFFICER, words.CLOSE_AUDIT)
    assert await _status(app, audit) is Status.CLOSED

    text = await _filed(app, audit, "closed")
    assert "Audit for Good Practice" in text or "Good Practice" in text
    for heading in ("Assessment", "Planning", "Intervention", "Review", "Reflection"):
        assert heading in text


async def test_someone_the_directory_does_not_know_is_welcomed_and_not_stored(bristol, connector):
    app, _, teams = bristol
    await teams.install("nobody@council.example")  # no such account in the sandbox
    await teams.say("nobody@council.example", "my audits")
    assert len(connector.cards_to("a:nobody@council.example")) >= 1  # welcomed all the same
    async with app.db.reading() as conn:
        assert await contacts.upn_of(conn, object_id("nobody@council.example")) is None
    await teams.install(QA_OFFICER)  # the QA officer is: found, and linked
    async with app.db.reading() as conn:
        assert await contacts.upn_of(conn, object_id(QA_OFFICER)) == QA_OFFICER
        assert await contacts.conversation_of(conn, QA_OFFICER) is not None


# ---------------------------------------------------- each framework's own process

QA_INBOX = "qa.inbox@council.example"


@pytest.fixture
async def winter(sandbox, tmp_path, connector) -> AsyncIterator[tuple[App, BotServer, Teams]]:
    # Tuesday 2 February 2027, GMT: calendar times read as UK time.
    async for council in _council(sandbox, tmp_path, connector, "02 Feb 2027 09:00"):
        yield council


def _said(reply: Any) -> str:
    """What a refusal said: the bot answers a refused press with a message."""
    assert reply["type"] == "application/vnd.microsoft.activity.message", reply
    return str(reply)


async def test_a_swindon_audit_with_its_refusals_deadlines_and_people(winter, connector):
    app, server, teams = winter
    for who in (AUDITOR, SW, IRO, MOD, QA_MANAGER, QA_OFFICER):
        await teams.install(who)
    audit = await _allocate(app, "swindon-practice-evaluation", "swindon")
    # The IRO/CP chair's 72 hours, and the auditor's 15 working days (a council option).
    await _on_calendar(app, IRO, f"Audit {CHILD} – IRO/CP chair comments due", "2027-02-05T09:00")
    await _on_calendar(app, AUDITOR, f"Audit {CHILD} – audit due", "2027-02-23T17:30")

    # "(The audit will not be accepted without feedback)": the card has no box for a
    # reason instead, and one sent all the same is refused.
    await teams.press(AUDITOR, words.RECORD_FEEDBACK)
    card, _ = teams.answer_card(AUDITOR)
    assert "not_sought_reason" not in {n.get("id") for n in walk(card.get("body", []))}
    refused = await teams.execute(
        AUDITOR,
        {
            "verb": Verb.FAMILY_FEEDBACK,
            "audit_id": audit.id,
            "not_sought_reason": "The family moved away",
        },
        card_id="family-feedback",
    )
    assert "will not be accepted without the family" in _said(refused)
    assert (await app.service.get(audit.id)).family_feedback is None

    _move_to(app, server, "19 Feb 2027 10:00")
    await _submit(app, teams, audit)
    await _on_calendar(app, MOD, f"Audit {CHILD} – moderation due", "2027-02-26T17:30")

    _move_to(app, server, "26 Feb 2027 10:00")
    await _moderate(app, teams, audit)
    await until(lambda: has_card_mentioning(connector, QA_MANAGER, words.RECORD_PANEL))
    await teams.press(QA_MANAGER, words.RECORD_PANEL, {"outcome": "agreed"})
    # "closes Audits ... within 2 working days of the Panel"
    await _on_calendar(app, QA_MANAGER, f"Audit {CHILD} – QA closure due", "2027-03-02T17:30")
    await teams.press(QA_MANAGER, words.CLOSE_AUDIT)
    assert await _status(app, audit) is Status.CLOSED
    # The QA inbox, a shared mailbox, is sent nothing in Teams.
    assert connector.cards_to(f"a:{QA_INBOX}") == []


async def test_a_shropshire_audit_waits_for_the_practitioners_checklist(winter, connector):
    app, _, teams = winter
    for who in (AUDITOR, SW, MOD, QA_MANAGER):
        await teams.install(who)
    audit = await _allocate(app, "child-journey-audit", "shropshire")
    await _on_calendar(app, AUDITOR, f"Audit {CHILD} – audit due", "2027-03-02T17:30")
    assert not any("IRO" in s for s in await _calendar(app, IRO))
    await until(lambda: has_card_mentioning(connector, SW, words.OPEN_CHECKLIST))

    await _answer_the_audit(teams, "good")
    await _record_family_feedback(teams)
    # "the practitioner ... completed the 'Child Journey Audit Checklist' prior to the
    # audit": the review card offers no Submit and says so; a Submit sent all the same
    # is refused.
    review, _ = teams.answer_card(AUDITOR)
    assert not has_button(review, words.SUBMIT)
    assert not has_button(review, words.SUBMIT_NO_MODERATION)
    assert "Child Journey Audit Checklist" in str(review)
    refused = await teams.execute(
        AUDITOR, {"verb": Verb.SUBMIT, "audit_id": audit.id}, card_id="review"
    )
    assert "Child Journey Audit Checklist" in str(refused)
    assert await _status(app, audit) is Status.IN_PROGRESS

    checklist, card_id = teams.last_card(SW, words.OPEN_CHECKLIST)
    await teams.press(SW, words.OPEN_CHECKLIST, card=(checklist, card_id))
    card, card_id = teams.answer_card(SW)
    await teams.press(SW, words.CHECKLIST_SAVE, _answers(card, "yes"), (card, card_id))
    assert (await app.service.get(audit.id)).checklist is not None

    # The review card, now with its Submit: there is no moderation, so it says so.
    await teams.say(AUDITOR, "resume")
    review, review_id = teams.answer_card(AUDITOR)
    assert not has_button(review, words.SUBMIT), review
    await teams.press(AUDITOR, words.SUBMIT_NO_MODERATION, card=(review, review_id))
    # The framework describes no moderation: the auditor's grades stand and the
    # findings go to the Quality, Performance and Assurance Manager.
    assert await _status(app, audit) is Status.MODERATED
    await _off_calendar(app, AUDITOR, f"Audit {CHILD} – audit due")
    assert not any("moderation" in s for s in await _calendar(app, MOD))
    assert not await has_card_mentioning(connector, MOD, CHILD)
    await until(lambda: has_card_mentioning(connector, QA_MANAGER, words.CLOSE_AUDIT))
    await teams.press(QA_MANAGER, words.CLOSE_AUDIT)
    assert await _status(app, audit) is Status.CLOSED


async def test_an_early_help_inadequate_goes_to_the_coordinator(winter, connector):
    app, _, teams = winter
    tm, sm = SAMPLE[0][7], SAMPLE[0][8]
    for who in (AUDITOR, SW, MOD, QA_OFFICER, tm, sm):
        await teams.install(who)
    audit = await _allocate(app, "swindon-early-help", "early-help")
    # 20 working days when the allocation gives no due date (a council option).
    await _on_calendar(app, AUDITOR, f"Audit {CHILD} – audit due", "2027-03-02T17:30")
    await _answer_the_audit(teams, "inadequate")
    await _record_family_feedback(teams)
    await teams.execute(AUDITOR, {"verb": Verb.SUBMIT, "audit_id": audit.id}, card_id="review")
    assert await _status(app, audit) is Status.SUBMITTED
    # "send it immediately to the relevant coordinator to oversee any actions required"
    await until(lambda: has_card_mentioning(connector, tm, "Inadequate"))
    assert not await has_card_mentioning(connector, sm, "Inadequate")
    # Neither the tool nor the framework gives the moderation a timescale.
    assert not any("moderation" in s for s in await _calendar(app, MOD))
    # The e-mail asks for no plan either: the framework has none.
    mails = await _sent_mail(app)
    [body] = [m.body.content for m in mails if m.subject.startswith("Case of concern")]
    assert "tracked until they are done" in body and "plan" not in body, body


async def test_a_youth_justice_inadequate_has_no_re_audit_deadline(winter, connector):
    app, server, teams = winter
    sm = SAMPLE[0][8]
    for who in (AUDITOR, SW, MOD, QA_MANAGER, QA_OFFICER, sm):
        await teams.install(who)
    audit = await _allocate(app, "swindon-youth-justice", "youth-justice")
    await _on_calendar(app, AUDITOR, f"Audit {CHILD} – audit due", "2027-03-02T17:30")
    assert not any("IRO" in s for s in await _calendar(app, IRO))
    await _answer_the_audit(teams, "inadequate")
    await teams.execute(AUDITOR, {"verb": Verb.SUBMIT, "audit_id": audit.id}, card_id="review")
    assert await _status(app, audit) is Status.SUBMITTED
    await until(lambda: has_card_mentioning(connector, sm, "Inadequate"))
    _move_to(app, server, "16 Feb 2027 10:00")
    await _moderate(app, teams, audit)
    # The ASPIRE form "can be used to re-audit", at no stated interval: QA is asked to
    # close, and no re-audit deadline is put on the QA manager's calendar.
    await until(lambda: has_card_mentioning(connector, QA_OFFICER, words.CLOSE_AUDIT))
    assert "reaudit" not in (await app.service.get(audit.id)).deadlines
    assert not any("re-audit" in s for s in await _calendar(app, QA_MANAGER))
    # The QA manager is told the case is theirs to re-audit, and does it on the form.
    await until(lambda: has_card_mentioning(connector, QA_MANAGER, words.REAUDIT_REQUESTED))
    told = teams.last_card(QA_MANAGER, words.OPEN_AUDIT)
    assert words.REAUDIT_REQUESTED in str(told[0]) and "Re-audit due" not in str(told[0])
    await teams.press(QA_MANAGER, words.OPEN_AUDIT, card=told)
    form, form_id = teams.answer_card(QA_MANAGER)
    assert has_button(form, words.RECORD_REAUDIT), form
    typed = {"grade": "good", "findings": "The plan is followed and reviewed on time"}
    await teams.press(QA_MANAGER, words.RECORD_REAUDIT, typed, (form, form_id))
    coc = (await app.service.get(audit.id)).case_of_concern
    assert coc is not None and [r.grade.value for r in coc.reaudits] == ["good"]


# ------------------------------------- the re-audit and the actions review, in chat

SECOND_AUDITOR = SAMPLE[2][4]  # another sample's auditor: a deputy/group manager


async def test_bristol_re_audit_and_actions_review_are_done_on_their_cards(bristol, connector):
    """Bristol: "Actions ... must be reviewed by the Service Manager within 1 month and
    update added as a case direction"; "In 8 weeks, if audit graded Inadequate ... 2nd
    Auditor to re-audit ... Re-audit to be sent to QA SW ... and to be sent to TM and
    allocated worker". Each person gets there from the reminder in their chat and saves
    on the card; the QA SW's re-audit by the audit's own auditor is refused."""
    app, server, teams = bristol
    tm, sm = SAMPLE[0][7], SAMPLE[0][8]
    for who in (AUDITOR, SW, MOD, QA_OFFICER, tm, sm):
        await teams.install(who)
    audit = await _allocate(app, "bristol-child-case-audit", "bristol")
    template = app.catalog.template(audit.template)
    # The audit and its moderation through the same use cases the cards call.
    graded = [s.id for s in template.graded_sections if s.id != template.overall_section]
    await fill_audit(
        app.service,
        audit.id,
        AUDITOR,
        template,
        grades={graded[0]: Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
    )
    action = c.AddAction("Hold a strategy discussion this week with the team", tm, "2026-12-11")
    await app.service.execute(AUDITOR, audit.id, action)
    await app.service.execute(AUDITOR, audit.id, c.Submit())
    await moderate_audit(app.service, audit.id, MOD, template, Grade.INADEQUATE)

    # The service manager's review: 1 month from moderation, same UK time.
    await _on_calendar(
        app, sm, f"Audit {CHILD} – review of the agreed actions due", "2027-01-01T09:00"
    )
    _move_to(app, server, "30 Dec 2026 10:00")
    await until(lambda: has_card_mentioning(connector, sm, words.todo("actions_review")))
    await teams.press(sm, words.OPEN_AUDIT, card=teams.last_card(sm, words.OPEN_AUDIT))
    review, review_id = teams.answer_card(sm)
    assert has_button(review, words.SAVE_CASE_DIRECTION), review
    update = "Strategy discussion held; plan updated with the family"
    await teams.press(sm, words.SAVE_CASE_DIRECTION, {"update": update}, (review, review_id))
    reviewed = await app.service.get(audit.id)
    assert [r.text for r in reviewed.actions_reviews] == [update]
    assert not reviewed.deadlines["actions_review"].open

    # The re-audit, 8 weeks after moderation, logged by the QA SW: told at moderation,
    # reminded before it is due.
    assert await has_card_mentioning(connector, QA_OFFICER, words.REAUDIT_REQUESTED)
    _move_to(app, server, "25 Jan 2027 10:00")
    reminder = words.nudge_title("reaudit", False)
    await until(lambda: has_card_mentioning(connector, QA_OFFICER, reminder))
    await teams.press(
        QA_OFFICER, words.OPEN_AUDIT, card=teams.last_card(QA_OFFICER, words.OPEN_AUDIT)
    )
    form, form_id = teams.answer_card(QA_OFFICER)
    assert "Re-audit, if Inadequate (not with worker)" in str(form)
    assert has_button(form, words.RECORD_REAUDIT), form
    # The re-audit form's own "Actions required | Responsibility | By when".
    await teams.press(QA_OFFICER, words.REAUDIT_ADD_ACTIONS, card=(form, form_id))
    actions, actions_id = teams.answer_card(QA_OFFICER)
    assert words.REAUDIT_ACTIONS_TITLE in str(actions) and has_button(
        actions, words.BACK_TO_REAUDIT
    )
    new = {
        "text": "Review the safety plan with the family by Friday",
        "owner": tm,
        "due": "2027-02-05",
    }
    await teams.press(QA_OFFICER, words.ADD_ACTION, new, (actions, actions_id))
    added = (await app.service.get(audit.id)).actions
    assert [(a.text, a.owner, a.stage.value) for a in added][-1] == (
        new["text"],
        tm,
        "case_of_concern",
    )
    await teams.press(QA_OFFICER, words.BACK_TO_REAUDIT, card=(actions, actions_id))
    form, form_id = teams.answer_card(QA_OFFICER)
    assert has_button(form, words.RECORD_REAUDIT), form
    typed = {
        "grade": "requires_improvement",
        "findings": "Actions followed up: the plan is SMART, visits are on time",
    }
    refused = await teams.press(
        QA_OFFICER, words.RECORD_REAUDIT, {**typed, "auditor": AUDITOR}, (form, form_id)
    )
    assert "not the audit's own auditor" in _said(refused)
    assert not (await app.service.get(audit.id)).case_of_concern.reaudits  # type: ignore[union-attr]
    await teams.press(
        QA_OFFICER, words.RECORD_REAUDIT, {**typed, "auditor": SECOND_AUDITOR}, (form, form_id)
    )
    coc = (await app.service.get(audit.id)).case_of_concern
    assert coc is not None and [(r.grade.value, r.auditor) for r in coc.reaudits] == [
        ("requires_improvement", SECOND_AUDITOR)
    ]
    # "sent to TM and allocated worker"
    for who in (tm, SW):
        await until(lambda who=who: has_card_mentioning(connector, who, words.REAUDIT_RECORDED))


async def _sent_mail(app: App) -> list[Any]:
    """What the bot's mailbox has sent, once the outbox has nothing left to send now."""
    await app.dispatcher.drain()
    assert app.graph is not None
    sent = (
        await app.graph.client.users.by_user_id("auditbot@council.example")
        .mail_folders.by_mail_folder_id("sentitems")
        .messages.get()
    )
    return list(sent.value or []) if sent else []
