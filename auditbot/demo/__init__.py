"""Demo data: a month's sample taken through the Swindon process, so there is something to see."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from application.service import AuditService
from auditbot.app import App, build
from auditbot.settings import Settings
from audits import commands as c
from audits.allocation_csv import parse_allocation_csv
from audits.clock import MovableClock
from audits.grades import Grade
from audits.templates import AnswerType, Question, Template
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


def run_demo(settings: Settings, port: int | None = None, serve: bool = True) -> int:
    """Loads the demo month into a fresh var/demo.db, with a fresh Microsoft 365 sandbox."""
    for path in (DEMO_DB, Path(f"{DEMO_DB}-wal"), Path(f"{DEMO_DB}-shm")):
        path.unlink(missing_ok=True)
    shutil.rmtree(DEMO_SANDBOX, ignore_errors=True)
    DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(_demo(settings, DEMO_SANDBOX.resolve(), port, serve))
    except KeyboardInterrupt:
        return 0


async def _demo(settings: Settings, state: Path, port: int | None, serve: bool) -> int:
    from sandbox import DEFAULT_PORT, start_sandbox

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
        # Start the story three weeks ago, so deadlines have passed and history has dates.
        clock = MovableClock(datetime.now(UTC) - timedelta(days=21))
        app = build(settings, clock=clock)
        try:
            await app.start()
            # The sandbox site is new, as a council's is: make the tracker list first,
            # as the deploy guide's `auditbot setup sharepoint` does.
            if app.graph is not None:
                from graph.provisioning import setup_tracker

                await setup_tracker(app.graph)
            shown = await _story(app, clock)
            await app.dispatcher.drain()
            _print_what_to_try(sandbox.base_url, shown)
            if serve:
                await _serve_bot(app)
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


async def _serve_bot(app: App) -> None:
    from auditbot.serve import serving

    async with serving(app, "127.0.0.1", BOT_PORT):
        print(f"Bot: http://127.0.0.1:{BOT_PORT}/api/messages (anonymous, for local clients)")
        print(
            "Move time on (demo only), e.g. to see the IRO/CP chair's 72 hours escalate:\n"
            f'  curl -X POST http://127.0.0.1:{BOT_PORT}/dev/clock -d \'{{"advance": "PT72H"}}\''
        )
        playground = await _start_playground()
        print("Everything keeps running; press Ctrl-C to stop.", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            if playground is not None and playground.returncode is None:
                playground.terminate()
                await playground.wait()


PLAYGROUND = Path("var/playground")
PLAYGROUND_PACKAGE = "@microsoft/m365agentsplayground"
PLAYGROUND_USER = "ava.auditor@council.example"  # who you are in the Playground


def playground_config(you: str, others: list[str]) -> str:
    """The Playground's users, with the object ids the sandbox directory gives them."""
    from sandbox import sandbox_user_id

    def person(upn: str, n: int, indent: str) -> str:
        first, _, last = upn.split("@")[0].partition(".")
        return (
            f"{indent}id: user-{n}\n{indent}name: {first.title()} {last.title()}\n"
            f"{indent}userPrincipleName: {upn}\n{indent}aadObjectId: {sandbox_user_id(upn)}\n"
            f"{indent}givenName: {first.title()}\n{indent}surname: {last.title()}\n"
            f"{indent}email: {upn}\n"
        )

    users = "".join("  - " + person(upn, n, "    ")[4:] for n, upn in enumerate(others, 1))
    return (
        'version: "0.1.1"\n'
        "tenantId: 6d3b0f1e-5a8c-4a7e-9c11-2f1a0c0de001\n"
        "bot:\n  id: 00000000-0000-0000-0000-00000000000011\n  name: auditbot\n"
        f"currentUser:\n{person(you, 0, '  ')}"
        f"users:\n{users}"
        "personalChat:\n  id: __PERSONAL_CHAT_ID__\n"
        "groupChat:\n  id: __GROUP_CHAT_ID__\n  name: Group Chat\n"
        "team:\n  id: team-id\n  name: QA Team\n"
        "  aadGroupId: 00000000-0000-0000-0000-000000000031\n"
        "  channels:\n    - id: channel-general-id\n      name: General\n"
    )


async def _start_playground() -> asyncio.subprocess.Process | None:
    """The Microsoft 365 Agents Playground, a Teams-like client, where Node.js is present."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        print("Node.js is not installed: the Agents Playground is skipped.")
        return None
    cli = PLAYGROUND / "node_modules" / PLAYGROUND_PACKAGE / "cli.js"
    if not cli.exists():
        print("Installing the Agents Playground (first run only)...", flush=True)
        install = await asyncio.create_subprocess_exec(
            npm,
            "install",
            "--prefix",
            str(PLAYGROUND),
            "--no-audit",
            "--no-fund",
            PLAYGROUND_PACKAGE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if await install.wait() != 0:
            print("Could not install the Agents Playground: skipped.")
            return None
    # The Playground takes at most five other users: the people of the first audit.
    others = [
        "sam.social@council.example",
        "ira.iro@council.example",
        "mo.moderator@council.example",
        "sol.service@council.example",
        QA_MANAGER,
    ]
    (PLAYGROUND / ".m365agentsplayground.yml").write_text(
        playground_config(PLAYGROUND_USER, others)
    )
    # On a machine without a desktop the Playground exits when it cannot open a browser.
    bin_dir = PLAYGROUND / "bin"
    bin_dir.mkdir(exist_ok=True)
    opener = bin_dir / "xdg-open"
    opener.write_text("#!/bin/sh\nexit 0\n")
    opener.chmod(0o755)
    log = (PLAYGROUND / "playground.log").open("w")
    env = {**os.environ, "PATH": f"{bin_dir.resolve()}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = await asyncio.create_subprocess_exec(
        node,
        str(cli.resolve()),
        "start",
        "-e",
        f"http://127.0.0.1:{BOT_PORT}/api/messages",
        "-c",
        "msteams",
        "--disable-telemetry",
        cwd=str(PLAYGROUND),
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    print(
        f"Agents Playground: http://localhost:56150  (you are {PLAYGROUND_USER}, an auditor;"
        " type 'my audits')"
    )
    return process


async def _story(app: App, clock: MovableClock) -> str:
    """Takes the sample through the process; returns the id of the audit worth showing."""
    service, template = app.service, app.catalog.template("swindon-practice-evaluation")
    rows = parse_allocation_csv(SAMPLE_CSV.read_text(encoding="utf-8"), app.catalog)
    outcomes = await service.allocate(QA_MANAGER, rows)
    good, concern, returned, _waiting = (o.audit for o in outcomes)

    # IRO/CP chair comments: one in time, one late.
    clock.advance(timedelta(hours=30))
    await service.execute(
        good.participants.iro,
        good.id,
        c.AddIroComments("Child's views are clear in reviews; plan is progressing."),
    )
    clock.advance(timedelta(hours=60))
    await service.execute(
        returned.participants.iro,
        returned.id,
        c.AddIroComments("Pathway plan needs updating before the next review."),
    )

    # A Good audit, one section regraded by the moderator, closed after the panel.
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
    clock.advance(timedelta(days=2))
    await moderate_audit(
        service,
        good.id,
        good.participants.moderator,
        template,
        regrade={"identity": Grade.REQUIRES_IMPROVEMENT},
        overall=Grade.GOOD,
    )
    await service.execute(QA_MANAGER, good.id, c.RecordPanel("agreed", "Consistent grades."))
    clock.advance(timedelta(days=1))
    await service.execute(QA_MANAGER, good.id, c.CloseAudit())

    # Inadequate: the case of concern, the service manager's plan, the short re-audit.
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
    clock.advance(timedelta(hours=6))
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
    await moderate_audit(
        service,
        returned.id,
        returned.participants.moderator,
        template,
        regrade={},
        overall=Grade.REQUIRES_IMPROVEMENT,
    )
    await service.execute(
        QA_MANAGER,
        returned.id,
        c.RecordPanel("returned", "Please add evidence for the accommodation grade."),
    )
    return good.id


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
