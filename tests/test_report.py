"""The monthly QA report, its files, the chat cards and the CLI, on a hand-computed month.

The month is built once per database backend through the real use cases with a
fixed clock: October 2026 has 2 audits (one a case of concern re-audited in
November), November 2026 has 20 across the four strands and three teams, with
regrades up and down, a late and three missing IRO/CP chair comments, late and
missed moderation, two cases of concern (one plan late) and overdue actions.
Every expected figure below was counted by hand from the plan in `MONTH`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import io
import json
import os
import shutil
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from openpyxl import load_workbook

from application.queries import Queries, summary_of
from application.service import AuditService
from auditbot.app import App
from auditbot.cli import main
from auditbot.cli_reports import COMMANDS
from audits import commands as c
from audits.catalog import load_catalog
from audits.clock import FixedClock
from audits.errors import InvalidInput
from audits.grades import Grade
from audits.model import Status
from audits.roles import load_standing_roles
from audits.workdays import WorkingCalendar
from audits.workflow import Allocation
from cards import validate
from cards.actions import Verb
from cards.report import report_card
from cards.tracker import TrackerFilters, tracker_card
from reports.build import build_report
from reports.bundle import file_names, render_report_files
from reports.charts import render_charts
from reports.export import export_audits
from reports.figures import AuditReport, Tally
from reports.monthly import compute_report, report_cycles
from reports.period import Period
from reports.prose import team_summary
from reports.workbook import SHEETS
from sandbox import RunningSandbox, start_sandbox
from store.db import Database
from store.report_rows import read_report_rows
from tests.support.allocations import rows
from tests.support.apps import started_app
from tests.support.council import ROLES_FILE
from tests.support.database import BACKENDS, POSTGRES_URL, postgres_schema
from tests.support.factories import fill_audit, moderate_audit
from tests.support.people import QA_MANAGER, people

GOLDEN = Path(__file__).parent / "golden" / "cards" / "report"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

OCT = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
NOV = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday; UK time is UTC in November
AS_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NAME = "Jo Bloggs"  # typed into free text; must never reach a report, export or card

OUT, G, RI, INAD = Grade.OUTSTANDING, Grade.GOOD, Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE
HP, CWCF, CE, CWD = (
    "help-and-protection",
    "children-we-care-for",
    "care-experienced",
    "children-with-disabilities",
)
ST1, CIC, LC = "Safeguarding Team 1", "Children in Care Team", "Leaving Care Team"
TEMPLATE = "swindon-practice-evaluation"
ALL_OUTSTANDING = "all"


@dataclass(frozen=True)
class Plan:
    strand: str
    team: str
    overall: Grade | None = None  # the auditor's; None: never submitted
    sections: dict[str, Grade] | str = field(default_factory=dict)
    regrade: dict[str, Grade] = field(default_factory=dict)
    moderated: Grade | None = None  # None: not moderated
    action_due: date | None = None


# November's sample, audit 202611-NNN for key NNN.
MONTH: dict[int, Plan] = {
    1: Plan(HP, ST1, OUT, ALL_OUTSTANDING, moderated=OUT),
    2: Plan(HP, ST1, G, moderated=G),
    3: Plan(HP, ST1, G, regrade={"risk": RI}, moderated=RI),
    4: Plan(HP, ST1, RI, moderated=RI, action_due=date(2026, 11, 13)),
    5: Plan(HP, CIC, INAD, {"risk": INAD}, moderated=INAD, action_due=date(2026, 11, 9)),
    6: Plan(CWCF, CIC, G, moderated=G),
    7: Plan(CWCF, CIC, G, regrade={"plans": OUT}, moderated=G),
    8: Plan(CWCF, CIC, RI, {"plans": RI}, {"plans": G}, G, date(2026, 12, 11)),
    9: Plan(CWCF, CIC, G, moderated=G),
    10: Plan(CE, LC, G, moderated=G),
    11: Plan(CE, LC, RI, regrade={"risk": INAD}, moderated=INAD, action_due=date(2026, 11, 20)),
    12: Plan(CE, LC, G, moderated=G),
    13: Plan(CWD, ST1, G, moderated=G),  # moderated late
    14: Plan(CWD, CIC, RI, moderated=RI, action_due=date(2026, 11, 16)),  # moderated late
    15: Plan(CWD, LC, G),  # never moderated
    16: Plan(HP, LC, G),  # never moderated
    17: Plan(CE, LC, G),  # IRO/CP chair late; submitted late
    18: Plan(HP, ST1),
    19: Plan(CWCF, CIC),
    20: Plan(CWD, LC),
}


def nov(n: int) -> str:
    return f"202611-{n:03d}"


@dataclass
class Scenario:
    url: str
    engine_options: dict[str, Any]

    def database(self) -> Database:
        return Database(self.url, **self.engine_options)


async def _build_month(db: Database) -> None:
    shipped = load_catalog()
    # A council's own variant of Swindon's policy that takes a reason when the family's
    # feedback could not be sought (Swindon's own refuses: "The audit will not be
    # accepted without feedback"), so the month has such an audit to count.
    swindon = shipped.policy("swindon").model_copy(update={"family_feedback_reason_accepted": True})
    catalog = dataclasses.replace(shipped, policies={**shipped.policies, "swindon": swindon})
    template = catalog.template(TEMPLATE)
    clock = FixedClock(OCT)
    service = AuditService(
        db=db,
        catalog=catalog,
        calendar=WorkingCalendar(),
        standing=load_standing_roles(ROLES_FILE),
        clock=clock,
    )

    def at(when: datetime) -> None:
        clock.advance(when - clock.now())

    def alloc(child: str, n: int, strand: str, team: str) -> Allocation:
        return Allocation(child, strand, team, people(n), TEMPLATE, "swindon")

    async def run(who: str, audit_id: str, command: Any) -> None:
        await service.execute(who, audit_id, command)

    async def complete(n: int, audit_id: str, plan: Plan) -> None:
        """Answers, records feedback and actions, and submits, as the auditor."""
        p = people(n)
        assert plan.overall is not None
        sections = (
            {s.id: OUT for s in template.graded_sections}
            if plan.sections == ALL_OUTSTANDING
            else dict(plan.sections)
        )
        assert isinstance(sections, dict)
        await fill_audit(
            service, audit_id, p.auditor, template, grades=sections, overall=plan.overall
        )
        if n == 6:  # feedback from the child and the carer instead of a parent
            await run(
                p.auditor,
                audit_id,
                c.RecordFamilyFeedback(
                    sought_from=("child", "carer"), summary=f"{NAME} likes the visits."
                ),
            )
        if plan.action_due:
            await run(
                p.auditor,
                audit_id,
                c.AddAction(
                    f"Visit {NAME} weekly and update the plan", p.team_manager, plan.action_due
                ),
            )
        await run(p.auditor, audit_id, c.Submit())

    async def moderate(n: int, audit_id: str, plan: Plan) -> None:
        assert plan.moderated is not None
        await moderate_audit(
            service, audit_id, people(n).moderator, template, plan.moderated, plan.regrade
        )

    # October: one Good (risk Requires Improvement), one Inadequate case of concern.
    await service.allocate(
        QA_MANAGER, rows(alloc("2000001", 21, HP, ST1), alloc("2000002", 22, CWCF, CIC))
    )
    at(OCT + timedelta(days=1))
    await run(people(21).iro, "202610-001", c.AddIroComments(f"{NAME} is settled."))
    await complete(21, "202610-001", Plan(HP, ST1, G, {"risk": RI}))
    await complete(
        22, "202610-002", Plan(CWCF, CIC, INAD, {"risk": INAD}, action_due=date(2026, 10, 30))
    )
    await run(
        people(22).service_manager,
        "202610-002",
        c.ConfirmPlan(f"Keep {NAME} safe", people(22).team_manager),
    )
    at(OCT + timedelta(days=2))
    await moderate(21, "202610-001", Plan(HP, ST1, moderated=G))
    await moderate(22, "202610-002", Plan(CWCF, CIC, moderated=INAD))

    # November.
    at(NOV)
    await service.allocate(
        QA_MANAGER, rows(*(alloc(f"30000{n:02d}", n, p.strand, p.team) for n, p in MONTH.items()))
    )
    at(NOV + timedelta(days=1))  # Tue 3 Nov 09:00: comments for 1-16 within 72 hours
    for n in range(1, 17):
        await run(people(n).iro, nov(n), c.AddIroComments(f"Comments on {NAME}'s plan."))
    for n in range(1, 17):
        await complete(n, nov(n), MONTH[n])
    at(NOV + timedelta(days=1, hours=6))  # the plan for 5 within 24 hours
    await run(
        people(5).service_manager,
        nov(5),
        c.ConfirmPlan(f"Visit {NAME} daily", people(5).team_manager),
    )
    at(NOV + timedelta(days=2))  # Wed 4 Nov: moderation of 1-12 on time (11 becomes a concern)
    for n in range(1, 13):
        await moderate(n, nov(n), MONTH[n])
    at(NOV + timedelta(days=3))  # Thu 5 Nov: the panel agrees 1 and 2
    for n in (1, 2):
        await run(QA_MANAGER, nov(n), c.RecordPanel("agreed", "Consistent"))
    at(NOV + timedelta(days=4))  # Fri 6 Nov: 1 closed on time; action of 5 done and signed off
    await run(QA_MANAGER, nov(1), c.CloseAudit())
    await run(people(5).team_manager, nov(5), c.CompleteAction(1, "Visited, plan updated"))
    await run(people(5).service_manager, nov(5), c.SignOffAction(1))
    at(NOV + timedelta(days=4, hours=1))  # 17's IRO/CP chair late; 11's plan late
    await run(people(17).iro, nov(17), c.AddIroComments("Late comments."))
    await run(people(11).service_manager, nov(11), c.ConfirmPlan("A plan", people(11).team_manager))
    at(NOV + timedelta(days=8))  # Tue 10 Nov: 2 closed late (due Mon 9 Nov 17:30)
    await run(QA_MANAGER, nov(2), c.CloseAudit())
    at(NOV + timedelta(days=9))  # Wed 11 Nov: 13 and 14 moderated late (due Tue 10 Nov 17:30)
    for n in (13, 14):
        await moderate(n, nov(n), MONTH[n])
    at(NOV + timedelta(days=14))  # Mon 16 Nov: October's case of concern re-audited
    await run(QA_MANAGER, "202610-002", c.RecordReaudit("requires improvement", f"{NAME} safer"))
    at(NOV + timedelta(days=21))  # Mon 23 Nov: 11's action done late (due 20 Nov)
    await run(people(11).team_manager, nov(11), c.CompleteAction(1, "Done"))
    at(NOV + timedelta(days=22))  # Tue 24 Nov: 17 submitted late, feedback could not be sought
    await fill_audit(service, nov(17), people(17).auditor, template, overall=G)
    await run(
        people(17).auditor,
        nov(17),
        c.RecordFamilyFeedback(not_sought_reason=f"{NAME}'s family were away"),
    )
    await run(people(17).auditor, nov(17), c.Submit())
    at(NOV + timedelta(days=23))  # Wed 25 Nov: 5 re-audited, then its concern closed
    await run(QA_MANAGER, nov(5), c.RecordReaudit("requires improvement", "Better"))
    at(NOV + timedelta(days=24))
    await run(QA_MANAGER, nov(5), c.CloseCaseOfConcern("Actions embedded"))


@pytest.fixture(scope="module")
def sqlite_month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The month in a SQLite file, built once: the figures' tests read it, and the CLI
    and filing run on copies of it (they need a file to copy, so they run on SQLite only)."""
    file = tmp_path_factory.mktemp("month") / "auditbot.db"

    async def make() -> None:
        db = Database(f"sqlite+aiosqlite:///{file}")
        await db.ensure_schema()
        await _build_month(db)
        await db.dispose()

    asyncio.run(make())
    return file


@pytest.fixture(scope="module", params=BACKENDS)
def month(request: pytest.FixtureRequest) -> Iterator[Scenario]:
    if request.param == "sqlite":
        file = request.getfixturevalue("sqlite_month")
        yield Scenario(f"sqlite+aiosqlite:///{file}", {})
        return
    schema = postgres_schema()

    async def make_pg() -> Scenario:
        db = await schema.__aenter__()
        await _build_month(db)
        await db.dispose()
        assert POSTGRES_URL
        options = {"connect_args": {"server_settings": {"search_path": schema.name}}}
        return Scenario(POSTGRES_URL, options)

    yield asyncio.run(make_pg())
    asyncio.run(schema.__aexit__(None, None, None))


@pytest.fixture
async def db(month: Scenario) -> AsyncIterator[Database]:
    database = month.database()
    yield database
    await database.dispose()


@pytest.fixture
async def report(db: Database) -> AuditReport:
    return await build_report(db, Period.parse_month("2026-11"), load_catalog(), AS_AT)


# ------------------------------------------------------------------- figures


def tally(o: int = 0, g: int = 0, ri: int = 0, i: int = 0) -> Tally:
    return Tally(o, g, ri, i)


async def test_sample_and_judgements_by_strand(report: AuditReport) -> None:
    s = report.sample
    assert report.audit_ids == tuple(nov(n) for n in range(1, 21))
    assert (s.allocated, s.completed, s.moderated, s.closed) == (20, 17, 14, 2)
    assert s.by_strand == (
        ("Help and protection", 7),
        ("Children We Care For", 5),
        ("Care Experienced Young People", 4),
        ("Children with Disabilities", 4),
    )
    assert dict(s.by_status) == {
        "Allocated": 3,
        "Waiting for moderation": 3,
        "Waiting for QA panel": 12,
        "Closed": 2,
    }
    rows = {r.strand: r for r in report.judgements.rows}
    assert rows[HP].auditor == tally(1, 3, 1, 1) and rows[HP].moderated == tally(1, 1, 2, 1)
    assert rows[CWCF].auditor == tally(0, 3, 1) and rows[CWCF].moderated == tally(0, 4)
    assert rows[CE].auditor == tally(0, 3, 1) and rows[CE].moderated == tally(0, 2, 0, 1)
    assert rows[CWD].auditor == tally(0, 2, 1) and rows[CWD].moderated == tally(0, 1, 1)
    assert report.judgements.auditor_total == tally(1, 11, 4, 1)
    assert report.judgements.moderated_total == tally(1, 8, 3, 2)
    # Final: moderated where moderated (1-14), the auditor's for 15-17.
    assert report.judgements.final == tally(1, 11, 3, 2)
    assert report.percent_good_or_better == 70.6  # 12 of 17


async def test_moderation_agreement_by_section_and_direction(report: AuditReport) -> None:
    a = report.agreement
    assert (a.audits_moderated, a.overall_agreed, a.overall_up, a.overall_down) == (14, 11, 1, 2)
    assert a.overall_rate == 78.6
    assert a.audits_regraded == 4  # 3, 7, 8 and 11
    sections = {x.section: x for x in a.sections}
    assert len(sections) == 11
    assert (sections["risk"].agreed, sections["risk"].up, sections["risk"].down) == (12, 0, 2)
    assert (sections["plans"].agreed, sections["plans"].up, sections["plans"].down) == (12, 2, 0)
    others = [x for sid, x in sections.items() if sid not in ("risk", "plans")]
    assert all((x.moderated, x.agreed, x.regraded) == (14, 14, 0) for x in others)
    assert (a.section_decisions, a.section_agreed, a.section_rate) == (154, 150, 97.4)


async def test_timeliness_of_every_step(report: AuditReport) -> None:
    steps = {
        s.step: (s.on_time, s.late, s.missed, s.waiting, s.rate) for s in report.timeliness.steps
    }
    assert steps == {
        "iro_comments": (16, 1, 3, 0, 80.0),
        "audit_completion": (16, 1, 3, 0, 80.0),
        "moderation": (12, 2, 2, 1, 75.0),
        "closure": (1, 1, 0, 0, 50.0),
        "coc_plan": (1, 1, 0, 0, 50.0),
        "reaudit": (1, 0, 0, 1, 100.0),
        "action": (1, 1, 2, 1, 25.0),
    }
    labels = {s.step: s.label for s in report.timeliness.steps}
    assert labels["iro_comments"] == "IRO/CP chair comments within 72 hours"
    assert labels["coc_plan"] == "Case of concern plans within 24 hours"
    actions = report.timeliness.actions
    assert (actions.total, actions.open, actions.completed, actions.signed_off) == (5, 3, 1, 1)
    assert actions.overdue == report.actions_overdue == 2  # 4 and 14
    assert report.iro_on_time_rate == 80.0


async def test_trend_over_the_last_six_months(report: AuditReport) -> None:
    assert [p.cycle for p in report.trend] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert all(p.rate("iro_comments") is None for p in report.trend[:4])
    october, november = report.trend[4], report.trend[5]
    # October: one IRO/CP chair commented, the other never did.
    assert (october.rate("iro_comments"), october.rate("audit_completion")) == (50.0, 100.0)
    assert october.rate("moderation") == 100.0
    assert [november.rate(s) for s in ("iro_comments", "audit_completion", "moderation")] == [
        80.0,
        80.0,
        75.0,
    ]


async def test_themes_show_the_weakest_areas_and_the_change_since_last_month(
    report: AuditReport,
) -> None:
    themes = report.themes
    assert themes.previous_label == "October 2026"
    by_id = {t.section: t for t in themes.sections}
    risk = by_id["risk"]
    assert risk.grades == tally(1, 13, 1, 2)  # 1 Outstanding; 3 RI, 5 and 11 Inadequate
    assert risk.previous == tally(0, 0, 1, 1)  # October: RI and Inadequate
    assert (risk.percent_good_or_better, risk.previous.percent_good_or_better) == (82.4, 0.0)
    assert risk.change == 82.4
    assert by_id["plans"].grades == tally(2, 15)  # 1, and 7 regraded up; 8 regraded up to Good
    assert by_id["involvement"].grades == tally(1, 16)
    assert by_id["involvement"].change == 0.0
    assert [t.section for t in themes.weakest] == ["risk"]
    assert themes.weakest_first[0].section == "risk"
    assert [t.section for t in themes.strongest] == ["involvement", "decision-making", "assessment"]


async def test_cases_of_concern_and_reaudit_outcomes(report: AuditReport) -> None:
    assert report.cases_of_concern == 2
    concerns = {c.audit_id: c for c in report.concerns}
    assert list(concerns) == ["202610-002", nov(5), nov(11)]
    october = concerns["202610-002"]  # an earlier sample's, re-audited in November
    assert october.cycle == "2026-10" and october.closed_at is None
    assert [g for _, g in october.reaudits] == [RI]
    five, eleven = concerns[nov(5)], concerns[nov(11)]
    assert (five.raised_by, five.plan_on_time, five.latest_reaudit) == ("auditor", True, RI)
    assert five.closed_at == NOV + timedelta(days=24)
    assert (eleven.raised_by, eleven.plan_on_time, eleven.reaudits) == ("moderator", False, ())
    assert eleven.reaudit_due == NOV + timedelta(days=2, weeks=6)


async def test_family_feedback_and_team_self_assessment(report: AuditReport) -> None:
    f = report.feedback
    assert (f.audits, f.sought, f.not_sought, f.not_recorded) == (20, 16, 1, 3)
    assert dict(f.by_source) == {
        "Child": 1,
        "Young person": 0,
        "Parent": 15,
        "Carer": 1,
        "Other": 0,
    }
    teams = {t.team: t for t in report.teams}
    assert list(teams) == [CIC, LC, ST1]
    st1, cic, lc = teams[ST1], teams[CIC], teams[LC]
    assert (st1.allocated, st1.completed, st1.moderated, st1.final) == (6, 5, 5, tally(1, 2, 2))
    assert (st1.overall_agreed, st1.sections_regraded, st1.iro_on_time, st1.iro_due) == (4, 1, 5, 6)
    assert (st1.deadlines_overdue, st1.actions, st1.actions_overdue) == (2, 1, 1)
    assert (cic.allocated, cic.completed, cic.moderated, cic.final) == (7, 6, 6, tally(0, 4, 1, 1))
    assert (cic.overall_agreed, cic.sections_regraded, cic.cases_of_concern) == (5, 2, 1)
    assert (cic.actions, cic.actions_overdue, cic.deadlines_overdue) == (3, 1, 2)
    assert (lc.allocated, lc.completed, lc.moderated, lc.final) == (7, 6, 3, tally(0, 5, 0, 1))
    assert (lc.iro_on_time, lc.iro_due, lc.deadlines_overdue, lc.actions_overdue) == (5, 7, 4, 0)
    assert team_summary(st1) == (
        "6 audits in the sample, 5 completed and 5 moderated. Grades: 1 Outstanding, 2 Good, "
        "2 Requires Improvement (60% Good or better). The moderator agreed 4 of 5 overall "
        "grades and changed 1 section grade. IRO/CP chair comments on time in 5 of 6. "
        "1 agreed action, 1 overdue. 2 audit deadlines overdue."
    )


async def test_a_quarter_takes_its_three_months(db: Database) -> None:
    quarter = await build_report(db, Period.parse_quarter("2026-Q4"), load_catalog(), AS_AT)
    assert quarter.period.cycles == ("2026-10", "2026-11", "2026-12")
    assert quarter.sample.allocated == 22
    assert quarter.judgements.final == tally(
        1, 12, 3, 3
    )  # November's plus October's Good, Inadequate
    assert quarter.cases_of_concern == 3
    assert quarter.themes.previous_label == "Quarter 3 2026 (July to September)"


async def test_the_store_reads_the_rows_and_the_report_is_computed_from_them_alone(
    db: Database, report: AuditReport
) -> None:
    november = Period.parse_month("2026-11")
    rows = await read_report_rows(db, report_cycles(november), before="2026-11")
    assert tuple(rows.by_cycle) == report_cycles(november)  # every month, even an empty one
    assert {c: len(g) for c, g in rows.by_cycle.items() if g} == {"2026-10": 2, "2026-11": 20}
    assert tuple(a.id for a in rows.by_cycle["2026-11"]) == report.audit_ids
    assert rows.earlier_concerns == ()  # October's is among the months read
    assert compute_report(november, rows, load_catalog(), AS_AT) == report
    june = Period.parse_month("2027-06")
    rows = await read_report_rows(db, report_cycles(june), before="2027-06")
    assert not any(rows.by_cycle.values())
    assert [a.id for a in rows.earlier_concerns] == ["202610-002", nov(5), nov(11)]
    later = compute_report(june, rows, load_catalog(), AS_AT)
    assert [c.audit_id for c in later.concerns] == ["202610-002", nov(11)]  # nov(5) was closed


def test_periods_are_read_strictly() -> None:
    assert Period.parse("2026-10").cycles == ("2026-10",)
    assert Period.parse("2026-q1").cycles == ("2026-01", "2026-02", "2026-03")
    assert Period.parse_month("2026-01").previous().key == "2025-12"
    assert Period.parse_quarter("2026-Q1").previous().key == "2025-Q4"
    for bad in ("2026-13", "2026-00", "26-10", "2026-1", "october"):
        with pytest.raises(InvalidInput, match="not a month"):
            Period.parse_month(bad)
    with pytest.raises(InvalidInput, match="not a quarter"):
        Period.parse_quarter("2026-Q5")


# -------------------------------------------------------------------- files


def _workbook_rows(content: bytes, sheet: str) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content))
    return [tuple(r) for r in book[sheet].iter_rows(values_only=True)]


async def test_workbook_has_a_sheet_per_table_with_the_figures(report: AuditReport) -> None:
    content = render_report_files(report).workbook
    assert load_workbook(io.BytesIO(content)).sheetnames == list(SHEETS)
    summary = dict(r for r in _workbook_rows(content, "Summary")[1:])
    assert summary["Audits allocated"] == 20 and summary["Audits completed"] == 17
    assert summary["Good or better (%)"] == 70.6
    assert summary["Overall grade agreed by the moderator (%)"] == 78.6
    assert summary["IRO/CP chair comments on time (%)"] == 80.0
    assert summary["Cases of concern in the sample"] == 2
    assert summary["Agreed actions overdue"] == 2
    auditor = _workbook_rows(content, "Auditor grades")
    assert auditor[0] == (
        "Strand",
        "Outstanding",
        "Good",
        "Requires Improvement",
        "Inadequate",
        "Total",
    )
    assert auditor[1] == ("Help and protection", 1, 3, 1, 1, 6)
    assert auditor[-1] == ("Total", 1, 11, 4, 1, 17)
    assert _workbook_rows(content, "Moderated grades")[-1] == ("Total", 1, 8, 3, 2, 14)
    agreement = {r[0]: r[1:] for r in _workbook_rows(content, "Moderation agreement")[1:]}
    assert agreement["1. Risk is identified, responded to and reduced in a timely way"] == (
        14,
        12,
        0,
        2,
        85.7,
    )
    assert agreement["Overall judgement"] == (14, 11, 1, 2, 78.6)
    timeliness = {r[0]: r[1:] for r in _workbook_rows(content, "Timeliness")[1:]}
    assert timeliness["Moderation within 5 working days"] == (12, 2, 2, 1, 75.0)
    assert timeliness["Agreed actions done by their date"] == (1, 1, 2, 1, 25.0)
    trend = _workbook_rows(content, "Timeliness trend")
    assert trend[-1] == ("Nov 2026", 80.0, 80.0, 75.0)
    assert trend[1] == ("Jun 2026", None, None, None)
    themes = _workbook_rows(content, "Themes")
    assert themes[1][:8] == (
        "1. Risk is identified, responded to and reduced in a timely way",
        1,
        13,
        1,
        2,
        82.4,
        0.0,
        82.4,
    )
    concerns = _workbook_rows(content, "Cases of concern")
    assert [r[0] for r in concerns[1:]] == ["202610-002", nov(5), nov(11)]
    assert concerns[2][8] == "Yes" and concerns[3][8] == "No"  # plan on time
    feedback = dict(_workbook_rows(content, "Family feedback")[1:])
    assert feedback["Sought and recorded"] == 16 and feedback["From: Parent"] == 15
    teams = {r[0]: r for r in _workbook_rows(content, "Teams")[1:]}
    assert teams[ST1][1:4] == (6, 5, 5) and teams[LC][-2] == 1
    assert teams[ST1][-1].startswith("6 audits in the sample")
    actions = dict(_workbook_rows(content, "Actions")[1:])
    assert actions == {
        "All": 5,
        "Open": 3,
        "Overdue": 2,
        "Completed, awaiting sign-off": 1,
        "Signed off": 1,
    }


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


async def test_charts_are_pngs_that_change_with_the_figures(
    report: AuditReport, db: Database
) -> None:
    charts = render_charts(report)
    for name, png in charts.items():
        width, height = _png_size(png)
        assert width > 400 and height > 200, name
        assert len(png) > 5_000, name
    october = await build_report(db, Period.parse_month("2026-10"), load_catalog(), AS_AT)
    other = render_charts(october)
    assert other.grades_by_strand != charts.grades_by_strand
    assert other.agreement_by_section != charts.agreement_by_section


def _docx_tables(content: bytes) -> list[list[list[str]]]:
    document = docx.Document(io.BytesIO(content))
    return [[[cell.text for cell in row.cells] for row in t.rows] for t in document.tables]


async def test_word_report_is_laid_out_like_the_template(report: AuditReport) -> None:
    made = render_report_files(report)
    document = docx.Document(io.BytesIO(made.word))
    text = "\n".join(p.text for p in document.paragraphs)
    headings = [
        p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"
    ]
    assert headings == [
        "1.0\tIntroduction",
        "2.0\tSample and judgements",
        "3.0\tFindings",
        "4.0 Conclusion",
        "5.0 Recommendations/Actions",
    ]
    tables = _docx_tables(made.word)
    title = tables[0]
    assert title[0] == [
        "Title / Subject:",
        "Report on Audits of Children’s Casework",
        "Date:",
        "30 November 2026",
    ]
    assert title[1][:2] == ["Report For:", "QAPIB on November 2026"]
    auditor, moderated = tables[1], tables[2]
    assert auditor[0] == ["Audit Grade", "Outstanding", "Good", "RI", "Inadequate", "Total"]
    assert auditor[1] == ["Help and protection", "1", "3", "1", "1", "6"]
    assert auditor[-1] == ["Total", "1", "11", "4", "1", "17"]
    assert moderated[-1] == ["Total", "1", "8", "3", "2", "14"]
    timeliness = next(t for t in tables if t[0][0] == "Deadline")
    assert ["IRO/CP chair comments within 72 hours", "16", "1", "3", "0", "80%"] in timeliness
    concerns = next(t for t in tables if t[0][0] == "Audit")
    assert [r[0] for r in concerns[1:]] == ["202610-002", nov(5), nov(11)]
    teams = next(t for t in tables if t[0][0] == "Team")
    assert [ST1, "6", "5", "5", "3 of 5", "4 of 5", "1", "0"] in teams
    themes = next(t for t in tables if t[0][0] == "Area of practice")
    assert themes[1][0].startswith("1. Risk") and themes[1][-3:] == ["82.4%", "0%", "+82.4 points"]
    assert "12 (70.6%) were judged Good or better" in text
    assert "Strengths –" in text and "Areas for improvement /development" in text
    assert "Signed" in text
    # The three charts are in it.
    with zipfile.ZipFile(io.BytesIO(made.word)) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert len(media) == 3
    assert file_names(report.period) == (
        "QAPIB-audit-report-2026-11.docx",
        "QAPIB-audit-report-2026-11.xlsx",
    )


def _all_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return "".join(
            z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml")
        )


async def test_nothing_anyone_typed_reaches_the_report_or_export(
    report: AuditReport, db: Database
) -> None:
    made = render_report_files(report)
    export = await export_audits(db, date(2026, 10, 1), date(2026, 11, 30), load_catalog())
    card = report_card(summary_of(report))
    for what, text in (
        ("word", _all_text(made.word)),
        ("workbook", _all_text(made.workbook)),
        ("csv", export.to_csv().decode("utf-8-sig")),
        ("xlsx export", _all_text(export.to_xlsx())),
        ("card", json.dumps(card)),
    ):
        assert NAME not in text and "Bloggs" not in text, what
        assert "Case notes, assessment and plan" not in text, what  # evidence
    assert "3000011" in _all_text(made.word)  # the child's ID is there


async def test_export_has_every_grade_of_every_audit(db: Database) -> None:
    export = await export_audits(db, date(2026, 11, 1), date(2026, 11, 30), load_catalog())
    assert len(export.rows) == 20
    rows = [dict(zip(export.columns, r, strict=True)) for r in export.rows]
    three = next(r for r in rows if r["audit_id"] == nov(3))
    assert three["child_id"] == "3000003" and three["status"] == "Waiting for QA panel"
    assert (three["risk auditor"], three["risk moderated"]) == ("Good", "Requires Improvement")
    assert (three["auditor_overall"], three["moderated_overall"]) == (
        "Good",
        "Requires Improvement",
    )
    assert three["plans moderated"] == "Good" and three["iro_comments_on_time"] == "Yes"
    eighteen = next(r for r in rows if r["audit_id"] == nov(18))
    assert eighteen["risk auditor"] is None and eighteen["submitted"] is None
    assert sum(1 for c in export.columns if c.endswith(" moderated")) == 11
    october = await export_audits(db, date(2026, 10, 1), date(2026, 10, 31), load_catalog())
    assert [r[0] for r in october.rows] == ["202610-001", "202610-002"]


# -------------------------------------------------------------------- cards


def _golden(name: str, card: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == card, f"{name} differs from {path}"


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "TextRun" else []
        return own + [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def _actions(node: Any, kind: str) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == kind else []
        return own + [a for v in node.values() for a in _actions(v, kind)]
    if isinstance(node, list):
        return [a for v in node for a in _actions(v, kind)]
    return []


async def test_report_card_shows_the_headline_figures_and_links(db: Database) -> None:
    card = await _report_card(
        db,
        load_catalog(),
        AS_AT,
        "2026-11",
        word_url="https://sp.example/reports/2026-11/report.docx",
        workbook_url="https://sp.example/reports/2026-11/report.xlsx",
    )
    validate(card)
    texts = _texts(card)
    assert "Audit report: November 2026" in texts
    joined = "".join(texts)
    for expected in (
        "Audits completed: 17 of 20 (14 moderated)",
        "Good or better: 70.6% (12 of 17)",
        "Moderator agreed the overall grade: 78.6% (11 of 14)",
        "IRO/CP chair comments on time: 80% (16 of 20)",
        "Cases of concern: 2",
        "Agreed actions overdue: 2",
    ):
        assert expected in joined
    urls = [a["url"] for a in _actions(card, "Action.OpenUrl")]
    assert urls == [
        "https://sp.example/reports/2026-11/report.docx",
        "https://sp.example/reports/2026-11/report.xlsx",
    ]
    [tracker] = _actions(card, "Action.Execute")
    assert tracker["data"] == {"verb": "tracker_page", "page": 1}
    _golden("report-2026-11", card)
    unfiled = await _report_card(db, load_catalog(), AS_AT, "2026-11")
    validate(unfiled)
    assert not _actions(unfiled, "Action.OpenUrl")
    assert "The files are not in SharePoint yet." in _texts(unfiled)
    with pytest.raises(InvalidInput):
        await _report_card(db, load_catalog(), AS_AT, "2026-13")


async def _report_card(
    db: Database,
    catalog: Any,
    now: datetime,
    period: str | None = None,
    word_url: str | None = None,
    workbook_url: str | None = None,
) -> dict[str, Any]:
    """The report card as the bot shows it: the application's query, then the card."""
    summary = await Queries(db, catalog, FixedClock(now)).report(period)
    return report_card(summary, word_url, workbook_url)


async def _tracker_card(
    db: Database, now: datetime, filters: TrackerFilters | None = None, page: int = 1
) -> dict[str, Any]:
    """The tracker card as the bot shows it: the application's query, then the card."""
    filters = filters or TrackerFilters()
    found = await Queries(db, load_catalog(), FixedClock(now)).tracker(filters, page)
    return tracker_card(found.rows, filters, found.page, total=found.total)


def _row_ids(card: dict[str, Any]) -> list[str]:
    return [
        a["data"]["audit_id"]
        for a in _actions(card, "Action.Execute")
        if a["verb"] == "audit_details"
    ]


def _paging(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["title"]: a["data"]
        for a in _actions(card, "Action.Execute")
        if a["verb"] == "tracker_page"
    }


async def test_tracker_pages_ten_at_a_time_overdue_first(db: Database) -> None:
    first = await _tracker_card(db, AS_AT)
    validate(first)
    assert "Page 1 of 3 · 22 audits" in _texts(first)
    overdue = {"202610-002", nov(4), nov(14), nov(15), nov(16), nov(18), nov(19), nov(20)}
    assert len(_row_ids(first)) == 10 and set(_row_ids(first)[:8]) == overdue
    assert _texts(first).count("  Overdue") == 8
    assert _paging(first) == {"Next page": {"verb": "tracker_page", "page": 2}}
    second = await _tracker_card(db, AS_AT, page=2)
    assert set(_paging(second)) == {"Previous page", "Next page"}
    last = await _tracker_card(db, AS_AT, page=3)
    assert len(_row_ids(last)) == 2 and set(_paging(last)) == {"Previous page"}
    seen = _row_ids(first) + _row_ids(second) + _row_ids(last)
    assert sorted(seen) == sorted(["202610-001", "202610-002", *(nov(n) for n in range(1, 21))])
    for button in _actions(first, "Action.Execute"):
        assert button["fallback"]["data"] == button["data"]
        assert Verb(button["verb"]) in (Verb.TRACKER_PAGE, Verb.AUDIT_DETAILS)
    _golden("tracker-page-1", first)


async def test_tracker_filters(db: Database) -> None:
    team = TrackerFilters.parse(f'team="{LC}" overdue')
    card = await _tracker_card(db, AS_AT, team)
    validate(card)
    assert sorted(_row_ids(card)) == [nov(15), nov(16), nov(20)]
    assert f"Showing: team {LC}, overdue only" in _texts(card)
    concern = await _tracker_card(db, AS_AT, TrackerFilters.parse("concern"))
    # Overdue first, then by the next deadline; nothing due last.
    assert _row_ids(concern) == ["202610-002", nov(11), nov(5)]
    submitted = await _tracker_card(db, AS_AT, TrackerFilters.parse("status=submitted"))
    assert sorted(_row_ids(submitted)) == [nov(15), nov(16), nov(17)]
    _golden("tracker-submitted", submitted)
    # Paging keeps the filters; a button's data comes back as the same filters.
    everything = TrackerFilters(team=None, status=Status.MODERATED)
    moderated = await _tracker_card(db, AS_AT, everything)
    next_data = _paging(moderated)["Next page"]
    assert next_data == {"verb": "tracker_page", "page": 2, "status": "moderated"}
    assert TrackerFilters.from_data(next_data) == (everything, 2)
    assert TrackerFilters.from_data({"page": "x", "status": "moderated", "overdue": "yes"}) == (
        everything,
        1,
    )
    empty = await _tracker_card(db, AS_AT, TrackerFilters(team="No such team"))
    validate(empty)
    assert "No audits match." in _texts(empty)
    with pytest.raises(InvalidInput, match="not a tracker filter"):
        TrackerFilters.parse("colour=red")
    with pytest.raises(InvalidInput, match="not a status"):
        TrackerFilters.parse("status=lost")


# ---------------------------------------------------------------------- CLI


@pytest.fixture
def cli_env(sqlite_month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(sqlite_month, tmp_path / "cli.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("AUDITBOT_ROLES_FILE", raising=False)
    return tmp_path


def test_cli_report_writes_word_and_excel(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--month", "2026-11", "--out", "out"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "out/QAPIB-audit-report-2026-11.docx",
        "out/QAPIB-audit-report-2026-11.xlsx",
    ]
    assert out[2].startswith("November 2026: 20 audits, 17 completed")
    word = (cli_env / out[0]).read_bytes()
    assert _docx_tables(word)[1][-1] == ["Total", "1", "11", "4", "1", "17"]
    summary = dict(_workbook_rows((cli_env / out[1]).read_bytes(), "Summary")[1:])
    assert summary["Audits allocated"] == 20
    assert main(["report", "--quarter", "2026-Q4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "var/reports/QAPIB-audit-report-2026-Q4.docx"
    assert (cli_env / "var/reports/QAPIB-audit-report-2026-Q4.xlsx").is_file()


def test_cli_export_csv_and_xlsx(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
            "--out",
            "nov.csv",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == "nov.csv  (20 audits)"
    with open(cli_env / "nov.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 20
    eleven = next(r for r in rows if r["audit_id"] == nov(11))
    assert (eleven["risk auditor"], eleven["risk moderated"], eleven["final_grade"]) == (
        "Good",
        "Inadequate",
        "Inadequate",
    )
    assert eleven["case_of_concern"] == "Yes" and eleven["allocated"] == "2026-11-02 09:00"
    assert main(["export", "--from", "2026-10-01", "--to", "2026-11-30", "--format", "xlsx"]) == 0
    path = capsys.readouterr().out.split()[0]
    assert path == "var/reports/audits-2026-10-01-to-2026-11-30.xlsx"
    sheet = _workbook_rows((cli_env / path).read_bytes(), "Audits")
    assert len(sheet) == 23 and sheet[0][0] == "audit_id" and sheet[1][0] == "202610-001"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["report", "--month", "2026-13"],
            "auditbot: '2026-13' is not a month: use YYYY-MM, e.g. 2026-10",
        ),
        (
            ["report", "--quarter", "2026-Q5"],
            "auditbot: '2026-Q5' is not a quarter: use YYYY-Qn, e.g. 2026-Q4",
        ),
        (
            ["export", "--from", "2026-11-31", "--to", "2026-12-01"],
            "auditbot: --from '2026-11-31' is not a date: use YYYY-MM-DD",
        ),
        (
            ["export", "--from", "2026-12-01", "--to", "2026-11-01"],
            "auditbot: --to 2026-11-01 is before --from 2026-12-01",
        ),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_1(
    cli_env: Path, capsys: pytest.CaptureFixture[str], args: list[str], reason: str
) -> None:
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [reason]
    assert not (cli_env / "var" / "reports").exists()


# --------------------------------------------------------------- SharePoint


@pytest.fixture
async def filing_app(
    sqlite_month: Path, tmp_path: Path
) -> AsyncIterator[tuple[App, RunningSandbox]]:
    shutil.copy(sqlite_month, tmp_path / "bot.db")  # the database apps.settings names
    sandbox = await start_sandbox(tmp_path / "sandbox", port=0)
    async with started_app(tmp_path, sandbox.env(), clock=FixedClock(AS_AT)) as app:
        yield app, sandbox
    await sandbox.stop()


async def test_report_is_filed_to_sharepoint_at_one_path_per_month(
    filing_app: tuple[App, RunningSandbox], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = filing_app
    assert app.graph is not None and app.dispatcher is not None
    args = argparse.Namespace(month="2026-11", quarter=None, out=tmp_path / "out")
    assert await COMMANDS["report"](app, args) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[-2:] == [
        "filed to SharePoint: reports/2026-11/QAPIB-audit-report-2026-11.docx",
        "filed to SharePoint: reports/2026-11/QAPIB-audit-report-2026-11.xlsx",
    ]
    clock = app.service.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=1))  # a day later: the date in the report changes
    assert await COMMANDS["report"](app, args) == 0
    capsys.readouterr()
    drive = await app.graph.client.sites.by_site_id("sandbox-site").drive.get()
    assert drive is not None and drive.id is not None
    items = app.graph.client.drives.by_drive_id(drive.id).items
    listed = await items.by_drive_item_id("root:/reports/2026-11:").children.get()
    assert listed is not None
    assert sorted(i.name for i in listed.value or []) == [
        "QAPIB-audit-report-2026-11.docx",
        "QAPIB-audit-report-2026-11.xlsx",
    ]
    filed = await items.by_drive_item_id(
        "root:/reports/2026-11/QAPIB-audit-report-2026-11.docx:"
    ).content.get()
    local = (tmp_path / "out" / "QAPIB-audit-report-2026-11.docx").read_bytes()
    assert filed == local  # the second run's file replaced the first
    assert _docx_tables(filed)[0][0][3] == "1 December 2026"
