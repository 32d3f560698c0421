"""The test support is what it says: an audit made at a stage is at that stage in the
database, and the council's people, roles file and sample agree with each other."""

from __future__ import annotations

import pytest

from audits.grades import Grade
from audits.model import Status
from audits.roles import load_standing_roles
from tests.support import people
from tests.support.council import DIRECTORY, ROLES_FILE, SAMPLE, sample_rows
from tests.support.factories import STAGES, advance, make_audit

REACHED = {
    "allocated": Status.ALLOCATED,
    "filled": Status.IN_PROGRESS,
    "submitted": Status.SUBMITTED,
    "moderated": Status.MODERATED,
    "panel_agreed": Status.PANEL_AGREED,
    "closed": Status.CLOSED,
}


@pytest.mark.parametrize("stage", STAGES)
async def test_make_audit_stores_an_audit_at_each_stage(service, stage):
    made = await make_audit(service, stage)
    stored = await service.get(made.id)
    assert made.status is stored.status is REACHED[stage]
    if stage != "allocated":
        assert set(stored.answers) == {
            s.id for s in service.catalog.template(made.template).sections
        }


async def test_advance_goes_on_from_where_the_audit_stands(service):
    submitted = await make_audit(
        service,
        "submitted",
        grade=Grade.REQUIRES_IMPROVEMENT,
        action="Update the chronology with the last three months of visits",
        iro_comments="On track",
    )
    assert [a.text for a in submitted.actions] == [
        "Update the chronology with the last three months of visits"
    ]
    assert [c.text for c in submitted.iro_comments] == ["On track"]
    closed = await advance(service, submitted, "closed", grade=Grade.REQUIRES_IMPROVEMENT)
    assert closed.status is Status.CLOSED
    assert closed.submissions == 1  # not filled or submitted again


def test_the_councils_people_roles_and_sample_agree(catalog):
    standing = load_standing_roles(ROLES_FILE)
    assert standing.qa_officers == (people.QA_OFFICER,)
    assert standing.qa_managers == (people.QA_MANAGER,)
    assert set(standing.heads_of_service.values()) == {
        people.HEAD_OF_SERVICE,
        people.HEAD_OF_SERVICE_CARE,
    }
    [first, *_] = sample_rows(catalog)
    assert first.allocation.child_id == SAMPLE[0][0]
    p = first.allocation.participants
    assert (p.auditor, p.social_worker, p.iro, p.moderator, p.team_manager) == (
        people.AUDITOR,
        people.SW,
        people.IRO,
        people.MOD,
        people.TM,
    )
    assert p.service_manager == people.SM
    assert people.STRANGER in DIRECTORY
    assert not any(people.STRANGER in row for row in SAMPLE)
