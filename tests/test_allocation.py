"""Allocation from CSV: every row checked first; one bad row and nothing is allocated."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from auditbot.demo import SAMPLE_CSV
from audits.allocation_csv import AllocationRefused, parse_allocation_csv
from audits.errors import NotAllowed
from audits.workflow import SYSTEM
from store.schema import audits, history, outbox, timers
from tests.support.allocations import allocation, rows
from tests.support.people import QA_OFFICER

HEADER = "child_id,strand,team,social_worker,auditor,iro,moderator,team_manager,service_manager"
ROW = (
    "{child},Help and protection,Team 1,sw@council.example,aud@council.example,"
    "iro@council.example,mod@council.example,tm@council.example,sm@council.example"
)


def _csv(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def _problems(text: str, catalog) -> list[tuple[int, str]]:
    with pytest.raises(AllocationRefused) as refused:
        parse_allocation_csv(text, catalog)
    return refused.value.problems


def test_sample_csv_parses(catalog):
    parsed = parse_allocation_csv(SAMPLE_CSV.read_text(), catalog)
    assert [r.allocation.child_id for r in parsed] == ["1234567", "2345678", "3456789", "4567890"]
    assert parsed[1].allocation.strand == "children-we-care-for"  # label -> id
    assert parsed[0].allocation.policy == "swindon"
    assert parsed[0].allocation.template == "swindon-practice-evaluation"


def test_optional_columns_and_byte_order_mark(catalog):
    text = "\ufeff" + _csv(
        ROW.format(child="77") + ",2026-12-01,swindon-practice-evaluation,swindon",
        header=HEADER + ",due,template,policy",
    )
    [row] = parse_allocation_csv(text, catalog)
    assert row.allocation.due == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(0, "the file is empty")]),
        (_csv(header=HEADER), [(0, "the file has a header but no audits")]),
        (
            _csv(ROW.format(child="1"), header=HEADER + ",colour"),
            [(1, "unknown column(s): colour")],
        ),
        (_csv(header=HEADER.replace(",iro", "")), [(1, "missing column(s): iro")]),
        (_csv(ROW.format(child="1") + ",extra"), [(2, "expected 9 values, found 10")]),
        (
            _csv(ROW.format(child="1").replace("aud@council.example", "Ava Auditor")),
            [(2, "auditor: 'Ava Auditor' is not an e-mail address or user principal name")],
        ),
        (
            _csv(ROW.format(child="1").replace("mod@council.example", "aud@council.example")),
            [(2, "the auditor and the moderator must be different people")],
        ),
        (
            _csv(ROW.format(child="1").replace("aud@council.example", "sw@council.example")),
            [(2, "the social worker cannot audit their own case")],
        ),
        (
            _csv(ROW.format(child="1"), ROW.format(child="1")),
            [(3, "child 1 is already in this file (line 2)")],
        ),
        (
            _csv(ROW.format(child="1").replace("Help and protection", "Fostering")),
            [
                (
                    2,
                    "'Fostering' is not a strand of this audit tool (help-and-protection, "
                    "children-we-care-for, care-experienced, children-with-disabilities)",
                )
            ],
        ),
        (
            _csv(ROW.format(child="Jo Bloggs")),
            [(2, "'Jo Bloggs' is not a child's ID number (letters and digits)")],
        ),
        (
            _csv(ROW.format(child="1") + ",,bristol-form,", header=HEADER + ",due,template,policy"),
            [
                (
                    2,
                    "unknown audit tool 'bristol-form' (known: bristol-child-case-audit, "
                    "child-journey-audit, good-practice-audit, swindon-early-help, "
                    "swindon-practice-evaluation, swindon-youth-justice)",
                )
            ],
        ),
        (
            _csv(ROW.format(child="1") + ",,,leeds", header=HEADER + ",due,template,policy"),
            [
                (
                    2,
                    "unknown policy 'leeds' (known: bristol, early-help, shropshire, stage123, "
                    "swindon, youth-justice)",
                )
            ],
        ),
        (
            _csv(ROW.format(child="1") + ",next week,,", header=HEADER + ",due,template,policy"),
            [(2, "due 'next week' is not a date (use YYYY-MM-DD)")],
        ),
        (
            _csv(ROW.format(child="1").replace("tm@council.example", "")),
            [(2, "team manager is missing")],
        ),
        (_csv('1,"Help and protection,Team 1'), [(2, "expected 9 values, found 2")]),
    ],
)
def test_bad_files_are_refused_with_line_and_reason(text, expected, catalog):
    problems = _problems(text, catalog)
    assert problems[: len(expected)] == expected


def test_every_bad_row_is_reported_not_just_the_first(catalog):
    text = _csv(
        ROW.format(child="1"),
        ROW.format(child="2").replace("sm@council.example", "not-an-email"),
        ROW.format(child="3"),
        ROW.format(child="4").replace("mod@council.example", "aud@council.example"),
    )
    assert [line for line, _ in _problems(text, catalog)] == [3, 5]


async def _counts(service) -> dict[str, int]:
    async with service.db.reading() as conn:
        return {
            t.name: (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
            for t in (audits, history, outbox, timers)
        }


async def test_child_already_sampled_this_month_refuses_whole_file(service):
    await service.allocate(SYSTEM, rows(allocation("1000001")))
    before = await _counts(service)
    with pytest.raises(AllocationRefused) as refused:
        await service.allocate(SYSTEM, rows(allocation("1000002", n=2), allocation("1000001", n=3)))
    assert refused.value.problems == [(3, "child 1000001 already has audit 202611-001 in 2026-11")]
    assert await _counts(service) == before


async def test_due_date_in_the_past_writes_nothing(service):
    with pytest.raises(Exception, match="is not after today"):
        await service.allocate(
            SYSTEM, rows(allocation("1000002"), allocation("1000003", due=date(2026, 10, 1)))
        )
    assert (await _counts(service))["audits"] == 0


async def test_only_qa_staff_allocate(service):
    with pytest.raises(NotAllowed):
        await service.allocate("auditor1@council.example", rows(allocation()))
    [outcome] = await service.allocate(QA_OFFICER, rows(allocation()))
    assert outcome.audit.allocated_by == QA_OFFICER


async def test_allocation_writes_state_history_outbox_and_timers_together(service):
    [outcome] = await service.allocate(SYSTEM, rows(allocation("1000001")))
    counts = await _counts(service)
    # Ten reminders: six for the IRO's 72 hours, four for the audit itself.
    assert counts == {"audits": 1, "history": len(outcome.changes), "outbox": 4, "timers": 10}
    audit = await service.get(outcome.audit.id)
    assert audit.answers["about"].values["child_id"] == "1000001"
    assert audit.answers["about"].values["qaro"] == "iro1@council.example"
    assert audit.cycle == "2026-11" and audit.id == "202611-001"


async def test_a_month_allocates_past_999_audits(service):
    """1,200 audits in a month: the numbers go on past 999 (the string maximum of the ids
    would give 1000 again after "202611-999" and the next upload would fail)."""
    first = await service.allocate(
        SYSTEM, rows(*(allocation(f"{2000000 + i}") for i in range(1000)))
    )
    assert first[998].audit.id == "202611-999" and first[999].audit.id == "202611-1000"
    second = await service.allocate(
        SYSTEM, rows(*(allocation(f"{3000000 + i}") for i in range(200)))
    )
    assert [o.audit.id for o in second[:2]] == ["202611-1001", "202611-1002"]
    assert second[-1].audit.id == "202611-1200"
    assert (await _counts(service))["audits"] == 1200
