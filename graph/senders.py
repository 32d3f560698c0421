"""The senders that carry outbox rows into Microsoft 365: calendar events, filed
documents, tracker items, e-mail and Teams app installs.

Each one makes Microsoft 365 match what the store says now, so a row sent
twice or late does no harm. Graph errors become the dispatcher's RetryLater
or GiveUp here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from application.effects import CALENDAR, FILE, GRAPH, INSTALL, REPORT, TRACKER, tracker_fields
from application.ports import (
    AppInstaller,
    Calendar,
    CalendarEvent,
    Files,
    GraphError,
    GraphNotFound,
    GraphRejected,
    GraphThrottled,
    GraphUnavailable,
    Mail,
    Tracker,
)
from audits.catalog import Catalog
from audits.clock import Clock
from audits.model import Audit
from audits.wording import case_of_concern_mail, event_body, event_subject, qa_inbox_mail
from audits.workdays import WorkingCalendar
from audits.workflow import notice_from_row
from audits.workflow.notices import CaseOfConcernRaised, Closed, ModerationComplete
from scheduling.dispatcher import GiveUp, RetryLater, Sender
from store import audit_rows, contacts, m365_items, outbox_queue
from store.db import Database
from store.outbox_queue import OutboxItem, OutboxRow

log = logging.getLogger(__name__)
EVENT_LENGTH = timedelta(minutes=30)
CATEGORY = "auditbot"
MAILBOX_WAITS = 5  # times a copy to the QA inbox waits for the audit's document


class Microsoft365(Calendar, Files, Tracker, Mail, AppInstaller, Protocol):
    pass


@dataclass
class M365Senders:
    db: Database
    catalog: Catalog
    graph: Microsoft365
    clock: Clock
    calendar: WorkingCalendar
    chat_link: str | None = None

    def senders(self) -> dict[str, Sender]:
        return {
            f"{GRAPH}:{CALENDAR}": self._guarded(self.sync_calendar),
            f"{GRAPH}:{FILE}": self._guarded(self.file_document),
            f"{GRAPH}:{TRACKER}": self._guarded(self.sync_tracker),
            f"{GRAPH}:{INSTALL}": self._guarded(self.install_app),
            f"{GRAPH}:{REPORT}": self._guarded(self.file_report),
            "email": self._guarded(self.send_email),
        }

    @staticmethod
    def _guarded(send: Callable[[OutboxRow], Awaitable[None]]) -> Sender:
        async def guarded(row: OutboxRow) -> None:
            try:
                await send(row)
            except GraphThrottled as exc:
                raise RetryLater(str(exc), exc.retry_after) from exc
            except GraphRejected as exc:
                raise GiveUp(str(exc)) from exc
            except (GraphUnavailable, GraphError) as exc:
                raise RetryLater(str(exc), exc.retry_after) from exc

        return guarded

    async def sync_calendar(self, row: OutboxRow) -> None:
        """One event per open deadline, on its owner's calendar, at its due time."""
        audit_id, step = row.payload["audit_id"], row.payload["step"]
        async with self.db.reading() as conn:
            deadline = await audit_rows.deadline_of(conn, audit_id, step)
            known = await m365_items.calendar_event(conn, audit_id, step)
            audit = await audit_rows.load_audit(conn, audit_id)
        wanted = deadline if deadline is not None and deadline.done_at is None else None
        if known is not None and (wanted is None or known.owner != wanted.owner):
            await self.graph.delete_event(await self._mailbox(known.owner), known.event_id)
            async with self.db.transaction() as conn:
                await m365_items.forget_calendar_event(conn, audit_id, step)
            known = None
        if wanted is None:
            return
        event = self._event(audit, step, wanted.due_at, urgent=wanted.urgent)
        mailbox = await self._mailbox(wanted.owner)
        # The same owner, deadline and generation always give the same transaction id,
        # so a retry after a lost answer finds the first event instead of making another.
        transaction = f"auditbot-{audit_id}-{step}-{wanted.owner}-{wanted.due_at:%Y%m%d%H%M}"
        generation = 0
        if known is not None:
            if known.due_at == wanted.due_at:
                return
            generation = known.generation
            try:
                await self.graph.update_event(mailbox, known.event_id, event)
                event_id = known.event_id
            except GraphNotFound:
                # The owner deleted it in Outlook: the deadline goes back on their
                # calendar as a new event, under a transaction id not used before (the
                # mailbox still remembers the deleted event's), the same on every retry
                # until the new event is stored.
                generation += 1
                log.info("calendar event deleted by its owner: made again")
                event_id = await self.graph.create_event(
                    mailbox, event, f"{transaction}-g{generation}"
                )
        else:
            event_id = await self.graph.create_event(mailbox, event, transaction)
        async with self.db.transaction() as conn:
            await m365_items.save_calendar_event(
                conn,
                audit_id,
                step,
                wanted.owner,
                event_id,
                wanted.due_at,
                self.clock.now(),
                generation,
            )

    async def _mailbox(self, address: str) -> str:
        """How Graph names a person's mailbox: their object id where it is known. Graph's
        `/users/{x}` takes only an id or a UPN, and the address an allocation gave may
        be a mail address that is not the UPN."""
        async with self.db.reading() as conn:
            return await contacts.object_id_of(conn, address) or address

    def _event(self, audit: Audit, step: str, due_at: Any, urgent: bool) -> CalendarEvent:
        return CalendarEvent(
            subject=event_subject(audit.child_id, step),
            body_html=event_body(audit.id, audit.child_id, step, due_at, self.chat_link),
            start=due_at - EVENT_LENGTH,
            end=due_at,
            reminder_minutes=60 if urgent else 24 * 60,
            category=CATEGORY,
        )

    async def file_document(self, row: OutboxRow) -> None:
        """The audit as it was at that stage, as a Word file at a path that never changes."""
        payload = row.payload
        audit = Audit.model_validate(payload["snapshot"])
        template = self.catalog.template(audit.template)
        stage = payload["stage"]
        # About 0.2 s of CPU: kept off the event loop that also answers chats.
        # Imported on the first filing: python-docx and lxml are 17 MB resident and a
        # fifth of a second at start-up that a bot with nothing to file need not pay.
        from reports.audit_document import render_audit_document

        async with self.db.reading() as conn:  # people are shown by name
            names = await contacts.names_of(conn, audit.people())
        content = await asyncio.to_thread(render_audit_document, audit, template, stage, names)
        year, month = audit.cycle.split("-")
        path = f"{year}/{month}/{audit.child_id}/audit-{audit.id}-{stage}.docx"
        filed = await self.graph.upload(path, content)
        async with self.db.transaction() as conn:
            await m365_items.save_filing(
                conn,
                audit.id,
                stage,
                path,
                filed.item_id,
                filed.web_url,
                payload["version"],
                self.clock.now(),
            )
            # The tracker links to the newest document.
            await outbox_queue.enqueue_items(
                conn,
                [
                    OutboxItem(
                        key=f"{audit.id}:filed:{stage}:v{payload['version']}:tracker",
                        channel=GRAPH,
                        kind=TRACKER,
                        recipient="",
                        lane=f"tracker:{audit.id}",
                        payload={"audit_id": audit.id},
                        audit_id=audit.id,
                    )
                ],
                self.clock.now(),
            )

    async def sync_tracker(self, row: OutboxRow) -> None:
        audit_id = row.payload["audit_id"]
        async with self.db.reading() as conn:
            audit = await audit_rows.load_audit(conn, audit_id)
            filing = await m365_items.latest_filing(conn, audit_id)
            names = await contacts.names_of(conn, audit.people())
        template = self.catalog.template(audit.template)
        fields = {
            **tracker_fields(audit, template, names),
            "Document": filing.web_url if filing else None,
        }
        item_id = await self.graph.upsert(audit_id, fields)
        async with self.db.transaction() as conn:
            await m365_items.save_tracker_item(conn, audit_id, item_id, self.clock.now())

    async def send_email(self, row: OutboxRow) -> None:
        try:
            notice = notice_from_row(row.kind, row.payload)
        except (KeyError, ValueError) as exc:
            raise GiveUp(f"no e-mail is written for '{row.kind}': {exc}") from exc
        if isinstance(notice, ModerationComplete | Closed):
            subject, body = await self._copy_to_mailbox(row, notice)
        elif isinstance(notice, CaseOfConcernRaised):
            subject, body = case_of_concern_mail(
                notice.audit_id, notice.child_id, notice.plan_due, self.chat_link, plan=notice.plan
            )
        else:
            raise GiveUp(f"no e-mail is written for '{row.kind}'")
        await self.graph.send(row.recipient, subject, body)

    async def _copy_to_mailbox(
        self, row: OutboxRow, notice: ModerationComplete | Closed
    ) -> tuple[str, str]:
        """The QA inbox's copy of the audit: a link to its document as filed. The
        document is filed by a row of its own; wait a little for it, then send anyway."""
        async with self.db.reading() as conn:
            filing = await m365_items.latest_filing(conn, notice.audit_id)
        if filing is None and row.attempts < MAILBOX_WAITS:
            raise RetryLater("the audit's document is not filed yet", after=60)
        what = "moderation complete" if isinstance(notice, ModerationComplete) else "closed"
        grade = notice.grade.label if notice.grade else None
        return qa_inbox_mail(
            notice.audit_id,
            notice.child_id,
            what,
            grade,
            filing.web_url if filing else None,
            self.chat_link,
        )

    async def install_app(self, row: OutboxRow) -> None:
        person = row.payload["person"]
        async with self.db.reading() as conn:
            if await contacts.has_conversation(conn, person):
                return
        await self.graph.install_for(await self._mailbox(person))

    async def file_report(self, row: OutboxRow) -> None:
        """A QA report's file, at its period's path (replacing the one filed before)."""
        payload = row.payload
        content = base64.b64decode(payload["content"])
        if hashlib.sha256(content).hexdigest() != payload["sha256"]:
            raise GiveUp(f"the report file for {payload['path']} is damaged in the outbox")
        filed = await self.graph.upload(payload["path"], content)
        log.info("report filed at %s", filed.path)
