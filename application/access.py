"""Who may open and act on what. Card data is untrusted: every check reads the stored audit.

Whether the person is named on the audit is checked before anything else, since
even a refusal for bad input would tell a stranger about someone else's audit.
Every refusal of a person is recorded (who, when, which audit, what, why), and so is
every opening of an audit (who, when, which audit, from where: `opened`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from audits.clock import Clock
from audits.errors import NotAllowed
from audits.model import Audit
from audits.roles import StandingRoles
from audits.workflow import roles_of
from cards import words
from store import access_log, audit_rows, trail
from store.db import Database

log = logging.getLogger(__name__)


@dataclass
class Access:
    db: Database
    clock: Clock
    standing: StandingRoles

    def must_be_named(self, person: str, audit: Audit) -> None:
        """NotAllowed unless the person holds a role on the audit (standing roles too)."""
        if not roles_of(audit, person, self.standing):
            raise NotAllowed(f"Only the people named on audit {audit.id} can open it")

    def is_qa(self, person: str) -> bool:
        return person in self.standing.qa_staff

    def must_be_qa(self, person: str) -> None:
        if not self.is_qa(person):
            raise NotAllowed(words.QA_ONLY)

    async def refused(self, person: str, audit_id: str, doing: str, reason: str) -> None:
        """Records a refusal; the audit id is cut short, since it came from a card."""
        log.warning("refused %s on audit %s for %s", doing, audit_id[:32] or "-", person)
        async with self.db.transaction() as conn:
            await trail.record_refusal(conn, self.clock.now(), person, audit_id[:32], doing, reason)

    async def opened(self, person: str, audit_id: str, via: str) -> None:
        """Records that the person opened the audit (a card, `status` or `resume` in the
        chat, or `auditbot show`), in the access trail QA reads with `show --access`."""
        async with self.db.transaction() as conn:
            await access_log.record_access(conn, self.clock.now(), person, audit_id, via)

    async def trail(self, audit_id: str) -> list[access_log.Access]:
        """Who opened the audit, oldest first; NotFound for an audit that never existed
        and was not deleted under the retention rule."""
        async with self.db.reading() as conn:
            rows = await access_log.accesses(conn, audit_id)
            if not rows:
                await audit_rows.version_of(conn, audit_id)
            return rows
