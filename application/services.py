"""What the routes are given: the use cases, the queries, access, people, navigation.

Built once by the composition root (`auditbot.app`) and shared by every turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from application.access import Access
from application.navigation import Navigator
from application.people import People
from application.queries import Queries
from application.service import AlreadyApplied, AuditService
from application.views import ReceiptView, Reply, View
from audits import commands as c
from audits.catalog import Catalog
from audits.clock import Clock
from audits.errors import AuditError
from audits.model import AUDITOR_EDITABLE, Audit, SectionAnswer
from audits.workflow import missing_in_section
from cards import words
from cards.actions import Verb
from cards.form import section_receipt_lines


@dataclass(frozen=True)
class Press:
    """One card press (or a typed answer standing for one). `data` is untrusted."""

    person: str
    data: Mapping[str, Any]
    key: str | None = None  # the card or activity: the same key is applied once
    typed: bool = False  # typed in the chat rather than put in the card

    @property
    def verb(self) -> Verb | None:
        try:
            return Verb(str(self.data.get("verb")))
        except ValueError:
            return None

    @property
    def verb_name(self) -> str:
        return str(self.data.get("verb"))[:40]

    @property
    def audit_id(self) -> str:
        return str(self.data.get("audit_id") or "")


@dataclass
class Services:
    service: AuditService
    queries: Queries
    access: Access
    people: People
    navigator: Navigator

    @classmethod
    def of(cls, service: AuditService) -> Services:
        return cls(
            service=service,
            queries=Queries(service.db, service.catalog, service.clock, service.standing),
            access=Access(service.db, service.clock, service.standing),
            people=People(service.db, service.clock, service.directory),
            navigator=Navigator(service.catalog, service.standing),
        )

    @property
    def catalog(self) -> Catalog:
        return self.service.catalog

    @property
    def clock(self) -> Clock:
        return self.service.clock

    async def named_on(self, press: Press) -> Audit:
        """The audit the press is about, if the person is named on it (else NotAllowed)."""
        audit = await self.queries.audit(press.audit_id)
        self.access.must_be_named(press.person, audit)
        return audit

    async def save(
        self,
        press: Press,
        command_of: Callable[[Mapping[str, Any]], c.Command],
        then: Callable[[Audit], View | None] | None = None,
        *,
        answered: bool = False,
    ) -> Reply:
        """Applies the command the card's data asks for; the card becomes a receipt and
        `then` says what follows. A second press of the same card changes nothing.

        Bad input is refused only once the person is known to be named on the audit; a
        save checks that on the audit it loads to change. With `answered`, the question
        waiting for the person's typed answer is answered in the same transaction."""
        try:
            command = command_of(press.data)
        except AuditError:
            await self.named_on(press)
            raise
        try:
            outcome = await self.service.execute(
                press.person,
                press.audit_id,
                command,
                key=f"{press.key}:{press.verb_name}" if press.key else None,
                check=partial(self.access.must_be_named, press.person),
                answered_by=press.person if answered else None,
            )
        except AlreadyApplied:
            # Saved before (a second press, or a redelivery after a crash that may have
            # lost the card that followed): what followed then is shown again.
            audit = await self.queries.audit(press.audit_id)
            return Reply(text=words.ALREADY_SAVED, follow_up=then(audit) if then else None)
        audit = outcome.audit
        lines = receipt_lines(audit, command, self.catalog)
        complete = not any(label == words.STILL_TO_GIVE for label, _ in lines)
        receipt = ReceiptView(outcome.message, lines, complete)
        return Reply(replace=receipt, follow_up=then(audit) if then else None)


def receipt_lines(
    audit: Audit, command: c.Command, catalog: Catalog
) -> tuple[tuple[str, str], ...]:
    """What was saved, never the words typed: they may name the child."""
    lines = [
        (words.AUDIT, words.RECEIPT_AUDIT.format(audit_id=audit.id, child_id=audit.child_id)),
        (words.STATUS, audit.status.label),
    ]
    if isinstance(command, c.AnswerSection):
        template = catalog.template(audit.template)
        lines += section_receipt_lines(audit, command.section, template)
        section = template.section(command.section)
        left = missing_in_section(section, audit.answers.get(section.id) or SectionAnswer())
        if left and audit.status in AUDITOR_EDITABLE:
            lines.append((words.STILL_TO_GIVE, "; ".join(m.what for m in left)))
    return tuple(lines)
