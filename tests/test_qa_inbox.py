"""The QA inbox, a shared mailbox: told by e-mail only, never in Teams, with a link to
the audit's document (Swindon: the audit "shared ... with SW/PA, Team Manager, QARO, SM
and QA Inbox"; Stage 2: "sending a copy of their moderation ... to the QA in box")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from audits.grades import Grade
from audits.roles import Role
from audits.wording import qa_inbox_mail
from audits.workflow import SYSTEM, payload_of
from audits.workflow.notices import CaseOfConcernRaised, Closed, ModerationComplete
from graph.senders import MAILBOX_WAITS, M365Senders
from scheduling.dispatcher import RetryLater
from store import m365_items
from store.outbox_queue import OutboxRow, OutboxStatus
from tests.support.allocations import allocation, rows

INBOX = "qa.inbox@council.example"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class _Mail:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, subject: str, body_html: str) -> None:
        self.sent.append((to, subject, body_html))


def _row(notice: Any, attempts: int = 0) -> OutboxRow:
    return OutboxRow(
        id=1,
        key="k",
        channel="email",
        lane=f"email:{INBOX}",
        kind=notice.kind.value,
        recipient=INBOX,
        audit_id=notice.audit_id,
        payload=payload_of(notice),
        urgent=False,
        status=OutboxStatus.PENDING,
        attempts=attempts,
        available_at=NOW,
        claimed_by=None,
        created_at=NOW,
        sent_at=None,
        last_error=None,
    )


def test_a_notice_to_a_mailbox_is_an_e_mail_only():
    closed = Closed(to=INBOX, audit_id="A1", child_id="1000001", role=Role.QA_INBOX, grade=None)
    assert closed.teams and not closed.email  # the default: Teams only
    inbox = Closed(
        to=INBOX,
        audit_id="A1",
        child_id="1000001",
        role=Role.QA_INBOX,
        grade=None,
        email=True,
        teams=False,
    )
    assert "teams" not in payload_of(inbox) and "email" not in payload_of(inbox)


def test_the_mail_names_the_audit_and_the_childs_id_and_links_the_document():
    subject, body = qa_inbox_mail(
        "202611-001", "1000001", "closed", "Good", "https://sp.example/a.docx", None
    )
    assert subject == "Audit 202611-001, child's ID 1000001: closed"
    assert 'href="https://sp.example/a.docx"' in body and "Overall grade: Good." in body
    _, without = qa_inbox_mail("202611-001", "1000001", "closed", None, None, None)
    assert "href" not in without and "filed in the audits library" in without


@pytest.mark.asyncio
async def test_the_copy_waits_for_the_document_then_links_it(service, catalog, calendar, clock):
    [o] = await service.allocate(SYSTEM, rows(allocation()))
    audit = o.audit
    mail = _Mail()
    senders = M365Senders(service.db, catalog, mail, clock, calendar)  # type: ignore[arg-type]
    notice = ModerationComplete(
        to=INBOX,
        audit_id=audit.id,
        child_id=audit.child_id,
        grade=Grade.GOOD,
        regraded=(),
        email=True,
        teams=False,
    )
    # Not filed yet: wait for the document's own row.
    with pytest.raises(RetryLater, match="not filed yet"):
        await senders.send_email(_row(notice))
    assert mail.sent == []
    # After waiting long enough, sent without the link.
    await senders.send_email(_row(notice, attempts=MAILBOX_WAITS))
    assert mail.sent[-1][0] == INBOX and "href" not in mail.sent[-1][2]
    # Filed: the link to the document.
    async with service.db.transaction() as conn:
        await m365_items.save_filing(
            conn, audit.id, "moderated", "Audits/a.docx", "item-1", "https://sp/a.docx", 1, NOW
        )
    await senders.send_email(_row(notice))
    to, subject, body = mail.sent[-1]
    assert to == INBOX
    assert subject == f"Audit {audit.id}, child's ID {audit.child_id}: moderation complete"
    assert 'href="https://sp/a.docx"' in body


@pytest.mark.asyncio
async def test_the_case_of_concern_mail_still_goes(service, catalog, calendar, clock):
    mail = _Mail()
    senders = M365Senders(service.db, catalog, mail, clock, calendar)  # type: ignore[arg-type]
    notice = CaseOfConcernRaised(
        to=INBOX,
        audit_id="A1",
        child_id="1000001",
        role=Role.QA_INBOX,
        raised_by=Role.AUDITOR,
        plan_due=None,
        teams=False,
    )
    await senders.send_email(_row(notice))
    assert mail.sent[0][1] == "Case of concern: audit A1, child's ID 1000001"
