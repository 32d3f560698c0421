"""The tests' council: its standing roles file, its four sample children and their
allocation CSV, and the people its Microsoft 365 directory knows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from application.service import AuditService
from audits.allocation_csv import REQUIRED, AllocationRow, parse_allocation_csv
from audits.catalog import SHIPPED, Catalog
from audits.model import Audit
from audits.templates import Template
from audits.workflow import SYSTEM
from tests.support.people import AUDITOR, IRO, MOD, QA_MANAGER, SM, STRANGER, SW, TM

ROLES_FILE = Path(__file__).with_name("roles.yaml")

HEADER = ",".join(REQUIRED)
# One month's sample: child_id, strand, team, then the people in the header's order
# (social worker, auditor, IRO/CP chair, moderator, team manager, service manager).
SAMPLE = (
    ("1234567", "Help and protection", "Safeguarding Team 1", SW, AUDITOR, IRO, MOD, TM, SM),
    (
        "2345678",
        "Children We Care For",
        "Children in Care Team",
        "sid.worker@council.example",
        "alex.atm@council.example",
        IRO,
        MOD,
        TM,
        SM,
    ),
    (
        "3456789",
        "Care Experienced Young People",
        "Leaving Care Team",
        "pat.pa@council.example",
        "gus.group@council.example",
        "ian.chair@council.example",
        "mona.mod@council.example",
        "ted.lead@council.example",
        "sue.manager@council.example",
    ),
    (
        "4567890",
        "Children with Disabilities",
        "Disabled Children's Team",
        "dee.worker@council.example",
        AUDITOR,
        "ian.chair@council.example",
        "mona.mod@council.example",
        "ted.lead@council.example",
        "sue.manager@council.example",
    ),
)
# Who the directory knows in the bot's tests: the first two children's people, the QA
# manager and a stranger.
DIRECTORY = sorted({*SAMPLE[0][3:], *SAMPLE[1][3:], QA_MANAGER, STRANGER})


def allocation_csv(*children: int) -> str:
    """The allocation CSV of those sample children (1 to 4; all four when none are named)."""
    chosen = [SAMPLE[n - 1] for n in children or range(1, len(SAMPLE) + 1)]
    return "\n".join([HEADER, *(",".join(row) for row in chosen)]) + "\n"


def many_csv(n: int) -> str:
    """n allocation rows, each a different child, with the sample's people in turn."""
    rows = [(f"{7000001 + i}", *SAMPLE[i % len(SAMPLE)][1:]) for i in range(n)]
    return "\n".join([HEADER, *(",".join(row) for row in rows)]) + "\n"


def sample_rows(catalog: Catalog, *children: int) -> list[AllocationRow]:
    """Those sample children's allocation rows, parsed as an upload is."""
    return parse_allocation_csv(allocation_csv(*children), catalog)


async def allocate_sample(service: AuditService, *children: int) -> list[Audit]:
    """Allocates those sample children (as the system does, from an upload)."""
    outcomes = await service.allocate(SYSTEM, sample_rows(service.catalog, *children))
    return [o.audit for o in outcomes]


SWINDON_TOOL = "swindon-practice-evaluation"


def with_own_questions(catalog: Catalog, template_id: str = SWINDON_TOOL) -> Catalog:
    """The catalog as a council has it that turns on the tool's own questions (the
    Swindon tool's seven limiting judgements, auditbot's own, off as shipped)."""
    raw = yaml.safe_load(
        (SHIPPED / "templates" / f"{template_id}.yaml").read_text(encoding="utf-8")
    )
    template = Template.model_validate({**raw, "own_questions": True})
    return dataclasses.replace(catalog, templates={**catalog.templates, template_id: template})
