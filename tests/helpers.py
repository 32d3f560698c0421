"""Small factories for tests: allocation rows and people."""

from __future__ import annotations

from audits.allocation_csv import AllocationRow
from audits.model import Participants
from audits.workflow import Allocation

QA_OFFICER = "quinn.qa@council.example"
QA_MANAGER = "maya.qamanager@council.example"
HEAD_OF_SERVICE = "hana.hos@council.example"


def people(n: int = 1) -> Participants:
    return Participants(
        social_worker=f"sw{n}@council.example",
        auditor=f"auditor{n}@council.example",
        iro=f"iro{n}@council.example",
        moderator=f"moderator{n}@council.example",
        team_manager=f"tm{n}@council.example",
        service_manager=f"sm{n}@council.example",
    )


def allocation(
    child: str = "1000001",
    n: int = 1,
    strand: str = "help-and-protection",
    due=None,
    template: str = "swindon-practice-evaluation",
    policy: str = "swindon",
) -> Allocation:
    return Allocation(
        child_id=child,
        strand=strand,
        team="Safeguarding Team 1",
        participants=people(n),
        template=template,
        policy=policy,
        due=due,
    )


def rows(*allocations: Allocation) -> list[AllocationRow]:
    return [AllocationRow(line=i + 2, allocation=a) for i, a in enumerate(allocations)]
