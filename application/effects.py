"""Which Microsoft 365 side effects a change to an audit calls for.

Pure: compares the audit before and after a command and returns outbox
items. Each item asks for the current state to be made true in Microsoft 365
("sync this deadline's event", "upsert this tracker item"), so a row sent
twice, late or after a newer one still leaves the right result.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audits.model import Audit, Deadline, Status
from audits.roles import Role
from audits.templates import Template
from store.outbox_queue import OutboxItem

GRAPH = "graph"
CALENDAR, FILE, TRACKER, INSTALL = "calendar", "file", "tracker", "install"
REPORT = "report"  # a QA report's file (Word or Excel), filed under REPORTS_FOLDER
REPORTS_FOLDER = "reports"
FILED_STAGES = {
    Status.SUBMITTED: "submitted",
    Status.MODERATED: "moderated",
    Status.CLOSED: "closed",
}


@dataclass(frozen=True)
class EffectsConfig:
    m365: bool = False  # Graph is configured: calendars, SharePoint, tracker
    install_app: bool = False  # a Teams app id is configured: install it for people


def tracker_fields(
    audit: Audit, template: Template | None = None, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The tracker list's fields for one audit (the document link is added when sent),
    by the columns' internal names (`application.tracker_list`), each a value of its
    column's type: dates as UTC ISO 8601, yes/no as booleans, null where there is none.
    The strand in the form's words (with its `template`), people by their `names` from
    the directory (by address where none is known)."""
    names = names or {}
    p = audit.participants
    moderated = audit.moderation.completed_at if audit.moderation else None
    next_deadline = audit.next_deadline()
    return {
        "Title": f"{audit.id} – {audit.child_id}",
        "AuditId": audit.id,
        "ChildId": audit.child_id,
        "Strand": template.strand_label(audit.strand) if template else audit.strand,
        "Team": audit.team,
        "Auditor": names.get(p.auditor.lower()) or p.auditor,
        "Moderator": names.get(p.moderator.lower()) or p.moderator,
        "AuditorGrade": audit.auditor_grade.label if audit.auditor_grade else None,
        "ModeratedGrade": audit.moderated_grade.label if audit.moderated_grade else None,
        "Status": audit.status.label,
        "CaseOfConcern": audit.case_of_concern is not None,
        "Allocated": _iso(audit.allocated_at),
        "Submitted": _iso(audit.submitted_at),
        "Moderated": _iso(moderated),
        "Closed": _iso(audit.closed_at),
        "NextDeadline": _iso(next_deadline.due_at) if next_deadline else None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _calendar_state(d: Deadline | None) -> tuple[str, Any] | None:
    return (d.owner, d.due_at) if d is not None and d.open else None


def effects_of(
    before: Audit | None, after: Audit, version: int, config: EffectsConfig
) -> list[OutboxItem]:
    if not config.m365:
        return []
    items: list[OutboxItem] = []
    audit_id = after.id

    def add(kind: str, lane: str, tag: str, payload: dict[str, Any], recipient: str = "") -> None:
        items.append(
            OutboxItem(
                key=f"{audit_id}:v{version}:{kind}:{tag}",
                channel=GRAPH,
                kind=kind,
                recipient=recipient,
                lane=lane,
                payload={"audit_id": audit_id, **payload},
                audit_id=audit_id,
            )
        )

    old = before.deadlines if before else {}
    for step in sorted(set(old) | set(after.deadlines)):
        was, now = _calendar_state(old.get(step)), _calendar_state(after.deadlines.get(step))
        if was != now:
            owner = now[0] if now else was[0] if was else ""
            add(CALENDAR, f"calendar:{audit_id}:{step}", step, {"step": step}, recipient=owner)

    stage = FILED_STAGES.get(after.status)
    if stage and (before is None or before.status is not after.status):
        add(
            FILE,
            f"files:{audit_id}",
            stage,
            {"stage": stage, "version": version, "snapshot": after.model_dump(mode="json")},
        )

    if before is None or tracker_fields(before) != tracker_fields(after):
        add(TRACKER, f"tracker:{audit_id}", "item", {})

    if before is None and config.install_app:
        notified = (Role.AUDITOR, Role.SOCIAL_WORKER, Role.IRO, Role.MODERATOR)
        for person in sorted({after.participants.of(r) or "" for r in notified} - {""}):
            items.append(
                OutboxItem(
                    key=f"install:{person}:{audit_id}",
                    channel=GRAPH,
                    kind=INSTALL,
                    recipient=person,
                    lane=f"install:{person}",
                    payload={"person": person},
                    audit_id=audit_id,
                )
            )
    return items


def report_path(period_key: str, name: str) -> str:
    """Where a report's file goes in the library: one path per period and file, never dated,
    so running the same month's report again replaces its files."""
    return f"{REPORTS_FOLDER}/{period_key}/{name}"


def report_filings(
    period_key: str, files: Mapping[str, bytes], made_at: datetime
) -> list[OutboxItem]:
    """An outbox row per file of a report. The file travels in the row (base64): what is
    filed is what was written locally, however late the row is sent. Rows for one path
    share a lane, so a newer run's file is uploaded after an older one's."""
    items = []
    for name, content in files.items():
        path = report_path(period_key, name)
        digest = hashlib.sha256(content).hexdigest()
        items.append(
            OutboxItem(
                key=f"{REPORT}:{path}:{made_at:%Y%m%dT%H%M%S%f}:{digest[:16]}",
                channel=GRAPH,
                kind=REPORT,
                recipient="",
                lane=f"{REPORT}:{path}",
                payload={
                    "path": path,
                    "sha256": digest,
                    "content": base64.b64encode(content).decode("ascii"),
                },
            )
        )
    return items
