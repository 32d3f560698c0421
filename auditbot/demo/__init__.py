"""Demo data: a month's sample taken through the Swindon process, so there is something to see."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from application.service import AuditService
from auditbot.app import App, build
from auditbot.demo.playground import DemoPerson, display_name, write_config
from auditbot.settings import Settings
from audits import commands as c
from audits.allocation_csv import parse_allocation_csv
from audits.clock import MovableClock
from audits.errors import AuditError
from audits.grades import Grade
from audits.model import Audit
from audits.templates import AnswerType, Question, Template
from audits.workdays import uk_time
from audits.workflow import Outcome

HERE = Path(__file__).parent
SAMPLE_CSV = HERE / "allocation.csv"
ROLES_FILE = HERE / "roles.yaml"
DEMO_DB = Path("var/demo.db")
DEMO_SANDBOX = Path("var/demo-sandbox")
MAIL_SENDER = "auditbot@council.example"
BOT_PORT = 3978
QA_MANAGER = "maya.qamanager@council.example"


def sample_value(q: Question, today: date) -> Any:
    """A plausible answer of the right type, for demo data and tests."""
    match q.type:
        case AnswerType.YES_NO | AnswerType.YES_NO_NA:
            return "yes"
        case AnswerType.CHOICE:
            return q.options[0].id
        case AnswerType.MULTI_CHOICE:
            return [q.options[0].id]
        case AnswerType.DATE:
            return today.isoformat()
        case AnswerType.NUMBER:
            return q.min if q.min is not None else 0
        case AnswerType.GRADE:
            return Grade.GOOD.value
        case AnswerType.PERSON:
            return "someone@council.example"
    return f"Demo answer to: {q.text.splitlines()[0][:40]}"


async def fill_audit(
    service: AuditService,
    audit_id: str,
    auditor: str,
    template: Template,
    grades: dict[str, Grade] | None = None,
    overall: Grade = Grade.GOOD,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Answers every section of the tool as the auditor, through the real use cases."""
    today = service.calendar.local_date(service.clock.now())
    grades = grades or {}
    overrides = overrides or {}
    for section in template.sections:
        values: dict[str, Any] = {}
        for q in section.questions:
            if q.prefill:
                continue
            values[q.id] = overrides.get(section.id, {}).get(q.id, sample_value(q, today))
        # Drop answers to questions whose condition is not met (e.g. "If Yes, when?").
        values = {
            k: v
            for k, v in values.items()
            if all(
                values.get(dep) == want for dep, want in (section.question(k).when or {}).items()
            )
        }
        graded = section.kind.value == "graded"
        grade = (
            overall
            if section.id == template.overall_section
            else grades.get(section.id, Grade.GOOD)
        )
        await service.execute(
            auditor,
            audit_id,
            c.AnswerSection(
                section=section.id,
                grade=grade.value if graded else None,
                evidence="Case notes, assessment and plan for the last 6 months"
                if graded
                else None,
                impact="The child is safer and their plan is moving on" if graded else None,
                values=values,
            ),
        )
    await service.execute(
        auditor,
        audit_id,
        c.RecordFamilyFeedback(
            sought_from=("parent",),
            summary="Mother said the social worker listens and visits often.",
        ),
    )


def run_demo(
    settings: Settings,
    port: int | None = None,
    serve: bool = True,
    *,
    you: str | None = None,
    bot_port: int = BOT_PORT,
    playground: bool = True,
    playground_port: int | None = None,
    keep: bool = False,
) -> int:
    """Loads the demo month into a fresh var/demo.db, with a fresh Microsoft 365 sandbox
    (with `keep`, carries on with the ones there from the last run); then, unless
    `serve` is False, serves the bot (and the Playground as `you`) until stopped by
    Ctrl-C or SIGTERM."""
    from auditbot.demo.playground import PLAYGROUND_PORT, demo_person

    try:
        person = demo_person(you)
    except ValueError as exc:
        print(f"auditbot: {exc}", file=sys.stderr)
        return 2
    keep = keep and DEMO_DB.is_file()
    if not keep:
        for path in (DEMO_DB, Path(f"{DEMO_DB}-wal"), Path(f"{DEMO_DB}-shm")):
            path.unlink(missing_ok=True)
        shutil.rmtree(DEMO_SANDBOX, ignore_errors=True)
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    options = _Options(
        port, serve, person, bot_port, playground, playground_port or PLAYGROUND_PORT, keep
    )
    try:
        return asyncio.run(_demo(settings, DEMO_SANDBOX.resolve(), options))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("Demo stopped.", flush=True)
        return 0


@dataclass(frozen=True)
class _Options:
    sandbox_port: int | None
    serve: bool
    you: DemoPerson
    bot_port: int
    playground: bool
    playground_port: int
    keep: bool  # carry on with the last run's demo data


def _stop_on_sigterm() -> None:
    """SIGTERM stops the demo as Ctrl-C does: the main task is cancelled, so every
    `finally` runs (the Playground's group, the bot, the sandbox are stopped)."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, task.cancel)


async def _demo(settings: Settings, state: Path, options: _Options) -> int:
    from sandbox import DEFAULT_PORT, start_sandbox

    _stop_on_sigterm()
    print("Starting the Microsoft 365 sandbox...", flush=True)
    port = options.sandbox_port
    sandbox = await start_sandbox(state, port=DEFAULT_PORT if port is None else port)
    try:
        settings = Settings.model_validate(
            {
                **settings.model_dump(by_alias=True),
                **sandbox.env(),
                "AUDITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{DEMO_DB}",
                "AUDITBOT_ROLES_FILE": str(settings.roles_file or ROLES_FILE),
                "AUDITBOT_MAIL_SENDER": settings.mail_sender or MAIL_SENDER,
                "AUDITBOT_DEMO": True,
            }
        )
        # The story began three weeks ago and ends now: what people do next is today.
        now = datetime.now(UTC)
        clock = MovableClock(now if options.keep else now - STORY_LENGTH)
        app = build(settings, clock=clock)
        try:
            await app.start()
            # The sandbox site is new, as a council's is: make the tracker list first,
            # as the deploy guide's `auditbot setup sharepoint` does.
            if app.graph is not None:
                from graph.provisioning import setup_tracker

                await setup_tracker(app.graph)
            if options.keep:
                print(f"Carrying on with the demo data in {DEMO_DB}...", flush=True)
                story = await _kept_story(app, clock)
            else:
                print("Loading the demo month (three weeks of audits, up to now)...", flush=True)
                story = await _story(app, clock, now)
            await app.dispatcher.drain()
            write_config(options.you)
            _print_what_to_try(sandbox.base_url, story.shown)
            await _print_who_has_what(app, options.you)
            if options.serve:
                await _serve_bot(app, options, story)
        finally:
            await app.close()
    finally:
        await sandbox.stop()
    return 0


def _print_what_to_try(sandbox_url: str, shown: str) -> None:
    env = f"AUDITBOT_DATABASE_URL=sqlite+aiosqlite:///{DEMO_DB} AUDITBOT_ROLES_FILE={ROLES_FILE}"
    print("Demo data loaded into", DEMO_DB)
    print(f"Microsoft 365 sandbox: {sandbox_url}/  (calendars, files, tracker, mail)")
    print("Try:")
    print(f"  {env} .venv/bin/auditbot audits")
    print(f"  {env} .venv/bin/auditbot show {shown}")
    print(f"  {env} .venv/bin/auditbot audits --overdue")


async def _print_who_has_what(app: App, you: DemoPerson) -> None:
    """One line per demo person: who they are, their part, what waits for them now."""
    from auditbot.demo.playground import DEMO_PEOPLE, display_name

    print(
        "Who has what to do now (be any of them in the Playground: make demo AS=<role>,"
        " or auditbot demo --as <role>):"
    )
    width = max(len(display_name(p.upn)) for p in DEMO_PEOPLE)
    alias = max(len(p.alias) for p in DEMO_PEOPLE) + len("AS=")
    for person in DEMO_PEOPLE:
        rows = (await app.services.queries.my_audits(person.upn)).rows
        waiting = [
            f"child's ID {r.child_id}: {r.next_step_title}"
            + (f" {uk_time(r.next_due)}" if r.next_due else "")
            + (" (overdue)" if r.overdue else "")
            for r in rows
            if r.next_step_title
        ]
        mark = "*" if person == you else " "
        print(
            f" {mark}{display_name(person.upn):<{width}}  {'AS=' + person.alias:<{alias}}  "
            f"{person.role}: {'; '.join(waiting) or 'nothing waiting now'}"
        )
    print(f"  (* you, in the Playground: {display_name(you.upn)}, {you.role})", flush=True)


async def _serve_bot(app: App, options: _Options, story: Story) -> None:
    from auditbot.demo.playground import start_playground
    from auditbot.serve import serving

    print("Starting the bot...", flush=True)
    async with serving(app, "127.0.0.1", options.bot_port) as server:
        bot = f"http://127.0.0.1:{server.port}"
        print(f"Bot: {bot}/api/messages (anonymous, for local clients)")
        print(clock_example(app, bot, story.just_allocated), flush=True)
        playground = (
            await start_playground(f"{bot}/api/messages", options.playground_port)
            if options.playground
            else None
        )
        try:
            if playground is not None:
                taken = (
                    f" (port {options.playground_port} was busy, so it took {playground.port})"
                    if playground.port != options.playground_port
                    else ""
                )
                you = options.you
                print(
                    f"Agents Playground: {playground.url}{taken}  (you are"
                    f" {display_name(you.upn)}, {you.role}; type 'my audits')"
                )
            print("Everything keeps running; press Ctrl-C to stop.", flush=True)
            await asyncio.Event().wait()
        finally:
            if playground is not None:
                await playground.stop()


def clock_example(app: App, bot: str, audit: Audit) -> str:
    """The `/dev/clock` command that shows the just-allocated audit's IRO/CP chair's 72
    hours run out: a nudge, the overdue notice and the QA officer's escalation. How many
    hours depends on when the demo starts: reminders go out in working hours."""
    import math

    from audits.reminders import ReminderKind

    waiting = app.service
    reminders = waiting.reminders(audit)
    escalation = next(
        (r for r in reminders if r.step == "iro_comments" and r.kind is ReminderKind.ESCALATION),
        None,
    )
    if escalation is None or escalation.at <= waiting.clock.now():
        # Carried on (--keep) after the IRO/CP chair commented, or after the clock moved.
        return (
            "Move time on (demo only), e.g. by a day:\n"
            f'  curl -X POST {bot}/dev/clock -d \'{{"advance": "PT24H"}}\''
        )
    ahead = escalation.at - waiting.clock.now() + timedelta(minutes=1)
    hours = max(1, math.ceil(ahead.total_seconds() / 3600))
    return (
        "Move time on (demo only): the IRO/CP chair's 72 hours on child's ID"
        f" {audit.child_id} run out (a nudge, then the QA officer's"
        f" escalation, {uk_time(escalation.at)}):\n"
        f'  curl -X POST {bot}/dev/clock -d \'{{"advance": "PT{hours}H"}}\''
    )


STORY_LENGTH = timedelta(days=21)
# What the story leaves overdue on purpose: the case of concern's IRO/CP chair never
# commented (escalated to QA). Every other open deadline is still to come.
STORY_OVERDUE = frozenset({("2345678", "iro_comments")})


@dataclass(frozen=True)
class Story:
    shown: str  # the id of the audit worth showing (closed after a regrade)
    just_allocated: Audit  # allocated as the story ends, now


async def _kept_story(app: App, clock: MovableClock) -> Story:
    """The story as the last run left it. The clock never goes back behind what was
    recorded then (the last run's clock may have been moved on)."""
    rows = await app.service.list()
    by_child = {r.child_id: r.id for r in rows}
    latest = [h.at for r in rows for h in await app.service.history(r.id)]
    if latest:
        clock.advance(max(max(latest) - clock.now(), timedelta(0)))
    try:
        shown, waiting = by_child["1234567"], by_child["4567890"]
    except KeyError:
        raise AuditError(f"{DEMO_DB} is not the demo's: run the demo without --keep") from None
    return Story(shown, await app.service.get(waiting))


async def _story(app: App, clock: MovableClock, end: datetime) -> Story:
    """Takes the sample through the process, from `end - STORY_LENGTH` to `end` (now).
    The last audit is allocated at `end`."""
    service, template = app.service, app.catalog.template("swindon-practice-evaluation")
    rows = parse_allocation_csv(SAMPLE_CSV.read_text(encoding="utf-8"), app.catalog)
    began = clock.now()

    def at(moment: datetime) -> None:
        """Moves the story's clock on to `moment` (never back)."""
        clock.advance(max(moment - clock.now(), timedelta(0)))

    outcomes = await service.allocate(QA_MANAGER, rows[:3])
    good, concern, returned = (o.audit for o in outcomes)

    # IRO/CP chair comments: one in time, one late.
    at(began + timedelta(hours=30))
    await service.execute(
        good.participants.iro,
        good.id,
        c.AddIroComments("Child's views are clear in reviews; plan is progressing."),
    )
    at(began + timedelta(hours=90))
    await service.execute(
        returned.participants.iro,
        returned.id,
        c.AddIroComments("Pathway plan needs updating before the next review."),
    )

    # A Good audit, one section regraded by the moderator, closed after the panel.
    at(began + timedelta(days=5))
    await fill_audit(service, good.id, good.participants.auditor, template)
    await service.execute(
        good.participants.auditor,
        good.id,
        c.AddAction(
            "Update the chronology with the last three months of visits",
            good.participants.social_worker,
            service.calendar.local_date(clock.now()) + timedelta(days=28),
        ),
    )
    await service.execute(good.participants.auditor, good.id, c.Submit())
    at(began + timedelta(days=7))
    await moderate_audit(
        service,
        good.id,
        good.participants.moderator,
        template,
        regrade={"identity": Grade.REQUIRES_IMPROVEMENT},
        overall=Grade.GOOD,
    )
    await service.execute(QA_MANAGER, good.id, c.RecordPanel("agreed", "Consistent grades."))
    at(began + timedelta(days=8))
    await service.execute(QA_MANAGER, good.id, c.CloseAudit())

    # Inadequate: the case of concern, the service manager's plan, the short re-audit.
    at(end - timedelta(days=4))
    await fill_audit(
        service,
        concern.id,
        concern.participants.auditor,
        template,
        grades={"risk": Grade.INADEQUATE},
        overall=Grade.INADEQUATE,
        overrides={"involvement": {"child_seen_alone": "no"}},
    )
    await service.execute(
        concern.participants.auditor,
        concern.id,
        c.AddAction(
            "Hold a strategy discussion about the risks within five working days",
            concern.participants.team_manager,
            service.calendar.local_date(clock.now()) + timedelta(days=7),
        ),
    )
    await service.execute(concern.participants.auditor, concern.id, c.Submit())
    at(end - timedelta(days=4) + timedelta(hours=6))
    await service.execute(
        concern.participants.service_manager,
        concern.id,
        c.ConfirmPlan(
            "Strategy discussion booked; visits weekly until the review.",
            concern.participants.team_manager,
        ),
    )
    await moderate_audit(
        service,
        concern.id,
        concern.participants.moderator,
        template,
        regrade={},
        overall=Grade.INADEQUATE,
    )

    # Returned by the panel for more evidence.
    at(end - timedelta(days=3))
    await fill_audit(
        service,
        returned.id,
        returned.participants.auditor,
        template,
        grades={"independence": Grade.REQUIRES_IMPROVEMENT},
        overall=Grade.REQUIRES_IMPROVEMENT,
    )
    await service.execute(
        returned.participants.auditor,
        returned.id,
        c.AddAction(
            "Update the pathway plan with the young person before the review",
            returned.participants.social_worker,
            service.calendar.local_date(clock.now()) + timedelta(days=21),
        ),
    )
    await service.execute(returned.participants.auditor, returned.id, c.Submit())
    at(end - timedelta(days=2))
    await moderate_audit(
        service,
        returned.id,
        returned.participants.moderator,
        template,
        regrade={},
        overall=Grade.REQUIRES_IMPROVEMENT,
    )
    at(end - timedelta(hours=2))
    await service.execute(
        QA_MANAGER,
        returned.id,
        c.RecordPanel("returned", "Please add evidence for the accommodation grade."),
    )

    # Just allocated, now: its IRO/CP chair's 72 hours start today.
    at(max(end, datetime.now(UTC)))  # the story took a moment of real time too
    [waiting] = await service.allocate(QA_MANAGER, rows[3:])
    return Story(good.id, waiting.audit)


async def moderate_audit(
    service: AuditService,
    audit_id: str,
    moderator: str,
    template: Template,
    overall: Grade,
    regrade: dict[str, Grade] | None = None,
) -> Outcome:
    """Moderates every section as the moderator (agreeing unless regraded), then completes."""
    regrade = regrade or {}
    for section in template.graded_sections:
        if section.id == template.overall_section:
            continue
        decision = (
            c.ModerateSection(
                section.id,
                agree=False,
                grade=regrade[section.id].value,
                reason="The evidence recorded does not support this grade.",
            )
            if section.id in regrade
            else c.ModerateSection(section.id, agree=True)
        )
        await service.execute(moderator, audit_id, decision)
    return await service.execute(
        moderator,
        audit_id,
        c.CompleteModeration(
            grade=overall.value,
            evidence="Read the audit and the case file.",
            impact="Agreed with the auditor after a reflective discussion.",
        ),
    )
