"""`auditbot audits` and `auditbot show`: the commands that only read.

They open the database and read what they print. They build no app: no service, outbox,
timers, cards or Graph client, and no alembic when the schema is up to date. A QA officer
who types `auditbot audits` waits only for Python, SQLAlchemy and one query
(bench/startup.py measures it against a bare `import aiohttp`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from store.db import Database

if TYPE_CHECKING:
    from auditbot.settings import Settings
    from audits.model import Audit
    from audits.templates import Template
    from store.trail import HistoryEntry


@dataclass(frozen=True)
class Reading:
    """What a reading command has: the settings and the database, and the time now."""

    settings: Settings
    db: Database
    now: datetime


async def run_reading(
    settings: Settings, command: Callable[[Reading, argparse.Namespace], Awaitable[int]], args: Any
) -> int:
    db = Database(settings.database_url)
    try:
        await db.ensure_schema()
        return await command(Reading(settings, db, datetime.now(UTC)), args)
    finally:
        await db.dispose()


async def audits(r: Reading, args: argparse.Namespace) -> int:
    from store import audit_rows

    async with r.db.reading() as conn:
        rows = await audit_rows.list_audits(conn, r.now, status=args.status, overdue=args.overdue)
    if args.json:
        print(json.dumps([_row_json(row) for row in rows], indent=2))
        return 0
    if not rows:
        print("No audits.")
        return 0
    from audits.wording import step_title
    from audits.workdays import uk_time

    names = await _names(r, [row.next_owner for row in rows if row.next_owner])
    lines = [("AUDIT", "CHILD'S ID", "STATUS", "GRADE", "NEXT DEADLINE")]
    for row in rows:
        grade = _grade_label(row.moderated_grade or row.auditor_grade)
        owner = _person(row.next_owner or "", names)
        nxt = (
            (
                f"{step_title(row.next_step or '')} ({owner}) {uk_time(row.next_due)}"
                + ("  OVERDUE" if row.overdue else "")
            )
            if row.next_due
            else "-"
        )
        concern = " [case of concern]" if row.case_of_concern else ""
        lines.append((row.id, row.child_id, row.status.label, grade + concern, nxt))
    print("\n".join(columns(lines)))
    return 0


async def show(r: Reading, args: argparse.Namespace) -> int:
    from audits.errors import AuditError
    from store import access_log, audit_rows, trail

    if args.access:
        return await _show_access(r, args)
    if args.csv:
        raise AuditError("--csv goes with --access: `auditbot show --access AUDIT_ID --csv`")
    async with r.db.reading() as conn:
        audit = await audit_rows.load_audit(conn, args.audit_id)  # NotFound: one clear line
        history = await trail.audit_history(conn, args.audit_id)
    async with r.db.transaction() as conn:  # the access trail: who opened it, from where
        await access_log.record_access(conn, r.now, _viewer(r, args), audit.id, "cli")
    if args.json:
        print(
            json.dumps(
                {
                    "audit": audit.model_dump(mode="json"),
                    "history": [{**asdict(h), "at": h.at.isoformat()} for h in history],
                },
                indent=2,
            )
        )
        return 0
    from audits.catalog import load_catalog

    catalog = load_catalog(r.settings.config_dir, r.settings.default_policy)
    names = await _names(r, audit.people() | {h.actor for h in history})
    print(render_audit(catalog.template(audit.template), audit, history, r.now, names))
    return 0


def _viewer(r: Reading, args: argparse.Namespace) -> str:
    """Who the access trail records as opening an audit from the command line: --by,
    else AUDITBOT_OPERATOR, else the local account."""
    import getpass

    by: str | None = args.by or r.settings.operator
    if by:
        return by.strip().lower()
    try:
        return f"local account {getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid, e.g. in a container
        return "local account (unnamed)"


async def _show_access(r: Reading, args: argparse.Namespace) -> int:
    """The access trail of one audit: who opened it, when, from where (listing it is not
    opening the audit, so it is not recorded)."""
    import csv
    import sys

    from audits.workdays import uk_time
    from store import access_log, audit_rows

    async with r.db.reading() as conn:
        rows = await access_log.accesses(conn, args.audit_id)
        if not rows:  # NotFound for an audit that never existed
            await audit_rows.version_of(conn, args.audit_id)
    if args.json:
        print(json.dumps([{**asdict(a), "at": a.at.isoformat()} for a in rows], indent=2))
        return 0
    if args.csv:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["at", "person", "audit_id", "via"])
        out.writerows([a.at.isoformat(), a.person, a.audit_id, a.via] for a in rows)
        return 0
    if not rows:
        print(f"Nobody has opened audit {args.audit_id}.")
        return 0
    names = await _names(r, [a.person for a in rows])
    lines = [("WHEN (UK TIME)", "WHO", "FROM")]
    lines += [(uk_time(a.at), _person(a.person, names), a.via) for a in rows]
    print("\n".join(columns(lines)))
    return 0


COMMANDS: dict[str, Callable[[Reading, argparse.Namespace], Awaitable[int]]] = {
    "audits": audits,
    "show": show,
}


async def _names(r: Reading, addresses: Iterable[str]) -> dict[str, str]:
    """The directory's display names of these addresses, where the store has them."""
    from store import contacts

    async with r.db.reading() as conn:
        return await contacts.names_of(conn, addresses)


def _person(address: str, names: Mapping[str, str]) -> str:
    return names.get(address.lower()) or address


def columns(lines: Sequence[Sequence[str]], gap: int = 2) -> list[str]:
    """Rows laid out in columns as wide as their widest cell, `gap` spaces apart."""
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]
    return [
        "".join(
            cell if n == len(row) - 1 else cell.ljust(widths[n] + gap) for n, cell in enumerate(row)
        )
        for row in lines
    ]


def _row_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "child_id": r.child_id,
        "cycle": r.cycle,
        "strand": r.strand,
        "team": r.team,
        "status": r.status.value,
        "auditor_grade": r.auditor_grade,
        "moderated_grade": r.moderated_grade,
        "case_of_concern": r.case_of_concern,
        "next_deadline": {"step": r.next_step, "owner": r.next_owner, "due": r.next_due.isoformat()}
        if r.next_due
        else None,
        "overdue": r.overdue,
    }


def _grade_label(value: str | None) -> str:
    from audits.grades import Grade

    return Grade(value).label if value else "-"


def render_audit(
    template: Template,
    audit: Audit,
    history: list[HistoryEntry],
    now: datetime,
    names: Mapping[str, str] | None = None,
) -> str:
    """The audit as `show` prints it; people by name and address (`names` from the
    directory) where the name is known."""
    from audits.roles import Role
    from audits.templates import SectionKind
    from audits.workdays import uk_time

    names = names or {}

    def who(address: str) -> str:
        name = names.get(address.lower())
        return f"{name} <{address}>" if name else address

    out: list[str] = []
    add = out.append
    add(f"Audit {audit.id} — child's ID {audit.child_id}")
    add(
        f"  {template.name} · policy {audit.policy} · {template.strand_label(audit.strand)} · {audit.team}"
    )
    add(
        f"  Status: {audit.status.label}"
        + (f" · auditor's grade {audit.auditor_grade.label}" if audit.auditor_grade else "")
        + (f" · moderated grade {audit.moderated_grade.label}" if audit.moderated_grade else "")
    )
    add("People")
    people = [
        (Role(role).label, who(address))
        for role, address in audit.participants.model_dump().items()
        if address
    ]
    out += (f"  {line}" for line in columns(people))
    add("Deadlines (UK time)")
    deadlines = []
    for d in sorted(audit.deadlines.values(), key=lambda d: d.due_at):
        state = (
            f"{'stopped' if d.stopped else 'done'} {uk_time(d.done_at)}"
            if d.done_at
            else ("OVERDUE" if d.due_at < now else "open")
        )
        deadlines.append((d.step, who(d.owner), uk_time(d.due_at), state))
    out += (f"  {line}" for line in columns(deadlines)) if deadlines else []
    add("Answers")
    for section in template.sections:
        answer = audit.answers.get(section.id)
        if answer is None:
            continue
        add(f"  {section.label}")
        if section.kind is SectionKind.GRADED:
            add(f"    Grade: {answer.grade.label if answer.grade else '-'}")
            add(f"    Evidence: {answer.evidence or '-'}")
            add(f"    Impact: {answer.impact or '-'}")
        for q in section.questions:
            if q.id in answer.values:
                add(f"    {q.text.splitlines()[0]}: {answer.values[q.id]}")
    if audit.family_feedback:
        fb = audit.family_feedback
        add("Family feedback")
        add(
            f"  {fb.summary or 'Not sought: ' + (fb.not_sought_reason or '')}"
            + (f" (from {', '.join(fb.sought_from)})" if fb.sought_from else "")
        )
    for c in audit.iro_comments:
        add(f"IRO/CP chair comments ({uk_time(c.at)}{', late' if c.late else ''}): {c.text}")
    if audit.moderation:
        m = audit.moderation
        add(f"Moderation{' (complete)' if m.completed_at else ' (in progress)'}")
        for sid, dec in m.sections.items():
            change = (
                "agreed"
                if dec.agreed
                else (
                    f"regraded {dec.auditor_grade.label if dec.auditor_grade else '-'} → {dec.grade.label}"
                )
            )
            add(
                f"  {template.section(sid).label}: {change}"
                + (f" — {dec.reason}" if dec.reason else "")
            )
        if m.overall:
            add(f"  {template.moderation.title}: {m.overall.label}")
    for p in audit.panel:
        add(f"QA panel {uk_time(p.at)}: {p.outcome.value}" + (f" — {p.notes}" if p.notes else ""))
    if audit.actions:
        add("Actions")
        for a in audit.actions:
            add(
                f"  {a.number}. {a.text} — {who(a.owner)}, by {a.due.isoformat()} [{a.status.value}]"
            )
    if audit.case_of_concern:
        coc = audit.case_of_concern
        add(
            f"Case of concern (opened {uk_time(coc.opened_at)}, raised by the {coc.raised_by.label})"
        )
        if coc.plan:
            add(f"  Plan ({who(coc.plan_owner or '')}): {coc.plan}")
        for r in coc.reaudits:
            add(f"  Re-audit {uk_time(r.at)}: {r.grade.label}")
        if coc.closed_at:
            add(f"  Closed {uk_time(coc.closed_at)}")
    add("History")
    rows = [
        (uk_time(h.at), who(h.actor), f"{h.what}: {_short(h.old)} → {_short(h.new)}")
        for h in history
    ]
    out += (f"  {line}" for line in columns(rows)) if rows else []
    return "\n".join(out)


def _short(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
