"""The SharePoint tracker list: its columns, as auditbot makes them and writes them.

SharePoint takes a list item's fields only by each column's internal name, and only
values of the column's type; the names here are fixed by auditbot (an admin may change
a column's display name, never its internal name). `auditbot setup sharepoint` makes
these columns, `auditbot doctor` checks them, and `application.effects.tracker_fields`
writes them: one table, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from audits.grades import Grade


class ColumnType(StrEnum):
    """Graph's column types (the facet of a columnDefinition) that the tracker uses."""

    TEXT = "text"
    NOTE = "note"  # text on several lines: no 255-character limit, cannot be indexed
    DATE_TIME = "dateTime"
    BOOLEAN = "boolean"
    CHOICE = "choice"

    @property
    def facet(self) -> str:
        return "text" if self is ColumnType.NOTE else self.value

    @property
    def words(self) -> str:
        return {
            ColumnType.TEXT: "text",
            ColumnType.NOTE: "text, several lines",
            ColumnType.DATE_TIME: "date and time",
            ColumnType.BOOLEAN: "yes/no",
            ColumnType.CHOICE: "choice",
        }[self]


@dataclass(frozen=True)
class TrackerColumn:
    name: str  # the internal name: what Graph's `fields` use
    display_name: str
    type: ColumnType
    indexed: bool = False
    choices: tuple[str, ...] = ()


GRADES = tuple(grade.label for grade in Grade)
AUDIT_ID = "AuditId"

# Title is every list's own first column; it is written, not made.
TITLE = TrackerColumn("Title", "Title", ColumnType.TEXT)
TRACKER_COLUMNS: tuple[TrackerColumn, ...] = (
    # Indexed: the bot finds an audit's item by it, and SharePoint filters only on
    # indexed columns (or with a header that "may fail randomly" on large lists).
    TrackerColumn(AUDIT_ID, "Audit", ColumnType.TEXT, indexed=True),
    TrackerColumn("ChildId", "Child's ID", ColumnType.TEXT),
    TrackerColumn("Strand", "Strand", ColumnType.TEXT),
    TrackerColumn("Team", "Team", ColumnType.TEXT),
    TrackerColumn("Auditor", "Auditor", ColumnType.TEXT),
    TrackerColumn("Moderator", "Moderator", ColumnType.TEXT),
    TrackerColumn("AuditorGrade", "Auditor's grade", ColumnType.CHOICE, choices=GRADES),
    TrackerColumn("ModeratedGrade", "Moderated grade", ColumnType.CHOICE, choices=GRADES),
    TrackerColumn("Status", "Status", ColumnType.TEXT),
    TrackerColumn("CaseOfConcern", "Case of concern", ColumnType.BOOLEAN),
    TrackerColumn("Allocated", "Allocated", ColumnType.DATE_TIME),
    TrackerColumn("Submitted", "Submitted", ColumnType.DATE_TIME),
    TrackerColumn("Moderated", "Moderated", ColumnType.DATE_TIME),
    TrackerColumn("Closed", "Closed", ColumnType.DATE_TIME),
    TrackerColumn("NextDeadline", "Next deadline", ColumnType.DATE_TIME),
    TrackerColumn("Document", "Document", ColumnType.NOTE),
)
WRITTEN_COLUMNS = (TITLE, *TRACKER_COLUMNS)
