"""The tables. Alembic migrations in `store/migrations/` create and change them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores UTC; always gives back an aware UTC datetime (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant: datetime = value
        if instant.tzinfo is None:
            return instant.replace(tzinfo=UTC)
        return instant.astimezone(UTC)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

audits = sa.Table(
    "audits",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("child_id", sa.String(32), nullable=False),
    sa.Column("cycle", sa.String(7), nullable=False),
    sa.Column("strand", sa.String(64), nullable=False),
    sa.Column("team", sa.String(200), nullable=False),
    sa.Column("template", sa.String(64), nullable=False),
    sa.Column("policy", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("auditor_grade", sa.String(32)),
    sa.Column("moderated_grade", sa.String(32)),
    sa.Column("case_of_concern", sa.Boolean, nullable=False, default=False),
    sa.Column("state", JSONType, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # One audit per child in each monthly sample.
    sa.UniqueConstraint("child_id", "cycle"),
    sa.Index("ix_audits_cycle_team", "cycle", "team"),  # the month and team filters
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("audit_id", sa.String(32), sa.ForeignKey("audits.id"), primary_key=True),
    sa.Column("role", sa.String(32), primary_key=True),
    sa.Column("person", sa.String(254), primary_key=True),
    sa.Index("ix_participants_person", "person"),
)

deadlines = sa.Table(
    "deadlines",
    metadata,
    sa.Column("audit_id", sa.String(32), sa.ForeignKey("audits.id"), primary_key=True),
    sa.Column("step", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(254), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("done_at", UTCDateTime),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_deadlines_open_due", "done_at", "due_at"),
    sa.Index("ix_deadlines_owner_open", "owner", "done_at"),
)

history = sa.Table(
    "history",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("audit_id", sa.String(32), sa.ForeignKey("audits.id"), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(254), nullable=False),
    sa.Column("command", sa.String(64), nullable=False),
    sa.Column("what", sa.String(200), nullable=False),
    sa.Column("old", JSONType),
    sa.Column("new", JSONType),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("channel", sa.String(32), nullable=False),
    # Rows of one lane are sent in order: a row waits while an earlier one of its lane is pending.
    sa.Column("lane", sa.String(300), nullable=False, server_default=""),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("audit_id", sa.String(32), index=True),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False, default=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("available_at", UTCDateTime, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("last_error", sa.String(500)),
    sa.Index("ix_outbox_ready", "status", "available_at"),
    sa.Index("ix_outbox_lane", "lane", "status", "id"),
)

timers = sa.Table(
    "timers",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("audit_id", sa.String(32), index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("step", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(254), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", UTCDateTime),
    sa.Column("fired_at", UTCDateTime),
    sa.Column("payload", JSONType, nullable=False),
    sa.Index("ix_timers_due", "status", "due_at"),
)

# People as the directory knows them: the allocation's addresses and their Entra object ids.
people = sa.Table(
    "people",
    metadata,
    sa.Column("upn", sa.String(254), primary_key=True),
    sa.Column("object_id", sa.String(64), unique=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("resolved_at", UTCDateTime, nullable=False),
)

# The name the directory gives each address, shown on cards and documents instead of the
# address. Kept apart from `people`: a name is only for showing, never for matching.
display_names = sa.Table(
    "display_names",
    metadata,
    sa.Column("address", sa.String(254), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# A Teams conversation reference per person (filled by the bot), for proactive messages.
conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("object_id", sa.String(64), primary_key=True),
    sa.Column("upn", sa.String(254), index=True),
    sa.Column("reference", JSONType, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# The Outlook event that stands for each deadline, so it can be moved or removed.
calendar_events = sa.Table(
    "calendar_events",
    metadata,
    sa.Column("audit_id", sa.String(32), sa.ForeignKey("audits.id"), primary_key=True),
    sa.Column("step", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(254), nullable=False),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Made again this many times after its owner deleted it in Outlook: a part of the
    # next one's transactionId, so a retried re-creation never makes two.
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
)

# Each Word document filed into SharePoint.
filings = sa.Table(
    "filings",
    metadata,
    sa.Column("audit_id", sa.String(32), sa.ForeignKey("audits.id"), primary_key=True),
    sa.Column("stage", sa.String(32), primary_key=True),
    sa.Column("path", sa.String(400), nullable=False),
    sa.Column("item_id", sa.String(200), nullable=False),
    sa.Column("web_url", sa.String(1000), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("filed_at", UTCDateTime, nullable=False),
)

# The SharePoint tracker list item of each audit.
tracker_items = sa.Table(
    "tracker_items",
    metadata,
    sa.Column("audit_id", sa.String(32), sa.ForeignKey("audits.id"), primary_key=True),
    sa.Column("item_id", sa.String(200), nullable=False),
    sa.Column("synced_at", UTCDateTime, nullable=False),
)

# Commands already applied, by the id of the Teams activity or card that carried them:
# a redelivered activity or a second press of the same card is not applied twice.
processed = sa.Table(
    "processed",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("audit_id", sa.String(32)),
    sa.Column("at", UTCDateTime, nullable=False),
)

# Attempts refused for want of a role: who tried what on which audit, for QA to see.
refusals = sa.Table(
    "refusals",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(254), nullable=False),
    sa.Column("audit_id", sa.String(32)),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
)

# A question the bot asked that takes a typed answer: the person's next message answers it.
awaiting_text = sa.Table(
    "awaiting_text",
    metadata,
    sa.Column("person", sa.String(254), primary_key=True),
    sa.Column("audit_id", sa.String(32), nullable=False),
    sa.Column("verb", sa.String(64), nullable=False),
    sa.Column("asked_at", UTCDateTime, nullable=False),
    # What the typed text answers beyond the verb, e.g. {"section": "risk", "field": "evidence"}.
    sa.Column("detail", JSONType),
)

# Each time a person opened an audit: who, when, which audit, from where ("card": a
# button in Teams; "chat": `status` or `resume` typed; "cli": `auditbot show`). Appended to only.
access_trail = sa.Table(
    "access_trail",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("person", sa.String(254), nullable=False),
    # No foreign key: the trail outlives an audit deleted under the retention rule.
    sa.Column("audit_id", sa.String(32), nullable=False, index=True),
    sa.Column("via", sa.String(16), nullable=False),
)

# What the retention rule deleted: which audit (its id and cycle, never the child's name or
# an answer), when, under which rule, by whom. The child's ID is kept so that a later
# subject access request can be told the records existed and were deleted.
retention_records = sa.Table(
    "retention_records",
    metadata,
    sa.Column("audit_id", sa.String(32), primary_key=True),
    sa.Column("child_id", sa.String(32), nullable=False, index=True),
    sa.Column("cycle", sa.String(7), nullable=False),
    sa.Column("closed_at", UTCDateTime, nullable=False),
    sa.Column("rule", sa.String(200), nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=False),
    sa.Column("deleted_by", sa.String(254), nullable=False),
    # What went: row counts by table, and the SharePoint paths of the documents deleted.
    sa.Column("what", JSONType, nullable=False),
)
