"""Allocations made up for tests: one child's, with numbered people, and the rows an
upload would give."""

from __future__ import annotations

from audits.allocation_csv import AllocationRow
from audits.workflow import Allocation
from tests.support.people import people


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
