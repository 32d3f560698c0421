"""The monthly sample as a CSV file: every row checked before anything is written.

Header (a contract: README, "The monthly sample"): child_id,strand,team,social_worker,auditor,iro,moderator,
team_manager,service_manager, then optionally due, template, policy. People
are e-mail addresses / UPNs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from audits.catalog import Catalog
from audits.errors import AuditError
from audits.model import Participants
from audits.roles import AUDIT_ROLES, person
from audits.workflow import Allocation, check_allocation

REQUIRED = ("child_id", "strand", "team", *(r.value for r in AUDIT_ROLES))
OPTIONAL = ("due", "template", "policy")
MAX_ROWS = 2000


@dataclass(frozen=True)
class AllocationRow:
    line: int
    allocation: Allocation


class AllocationRefused(AuditError):
    """Nothing was allocated; `problems` holds (line, reason) for each bad row."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"nothing allocated: {count} problem{'s' if count != 1 else ''} in the file\n"
            + "\n".join(f"line {line}: {reason}" if line else reason for line, reason in problems)
        )


def parse_allocation_csv(text: str, catalog: Catalog) -> list[AllocationRow]:
    text = text.removeprefix("\ufeff")  # Excel writes a byte order mark
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise AllocationRefused([(0, "the file is empty")]) from None
    except csv.Error as exc:
        raise AllocationRefused([(1, f"not a readable CSV file ({exc})")]) from None
    problems: list[tuple[int, str]] = []
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    missing = [h for h in REQUIRED if h not in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if unknown:
        problems.append((1, f"unknown column(s): {', '.join(unknown)}"))
    if missing:
        problems.append((1, f"missing column(s): {', '.join(missing)}"))
    if repeated:
        problems.append((1, f"column(s) given twice: {', '.join(repeated)}"))
    if problems:
        problems.append(
            (1, f"the header must be: {','.join(REQUIRED)} (optional: {','.join(OPTIONAL)})")
        )
        raise AllocationRefused(problems)

    rows: list[AllocationRow] = []
    first_line_of_child: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append((line, f"more than {MAX_ROWS} rows; split the file"))
                break
            if len(record) != len(header):
                problems.append((line, f"expected {len(header)} values, found {len(record)}"))
                continue
            values = {h: v.strip() for h, v in zip(header, record, strict=True)}
            try:
                row = AllocationRow(line, _allocation(values, catalog))
            except AuditError as exc:
                problems.append((line, str(exc)))
                continue
            child = row.allocation.child_id
            if child in first_line_of_child:
                problems.append(
                    (
                        line,
                        f"child {child} is already in this file (line {first_line_of_child[child]})",
                    )
                )
                continue
            first_line_of_child[child] = line
            rows.append(row)
    except csv.Error as exc:
        problems.append((reader.line_num, f"not a readable CSV line ({exc})"))
    if not rows and not problems:
        problems.append((0, "the file has a header but no audits"))
    if problems:
        raise AllocationRefused(problems)
    return rows


def _allocation(values: dict[str, str], catalog: Catalog) -> Allocation:
    named = catalog.template(values["template"]) if values.get("template") else None
    # A row naming a tool but no policy runs the tool's own process.
    policy_id = values.get("policy") or (named.policy if named else None)
    policy = catalog.policy(policy_id or catalog.default_policy)
    template = named or catalog.template(policy.default_template)
    people = {}
    for role in AUDIT_ROLES:
        raw = values[role.value]
        if not raw:
            raise _Bad(f"{role.label} is missing")
        try:
            people[role.value] = person(raw)
        except AuditError as exc:
            raise _Bad(f"{role.label}: {exc}") from None
    due = None
    if values.get("due"):
        try:
            due = date.fromisoformat(values["due"])
        except ValueError:
            raise _Bad(f"due '{values['due']}' is not a date (use YYYY-MM-DD)") from None
    if not values["child_id"]:
        raise _Bad("child_id is missing")
    return check_allocation(
        Allocation(
            child_id=values["child_id"],
            strand=values["strand"],
            team=values["team"],
            participants=Participants(**people),
            template=template.id,
            policy=policy.id,
            due=due,
        ),
        template,
    )


class _Bad(AuditError):
    pass
