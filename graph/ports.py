"""What the rest of auditbot asks of Microsoft 365: small protocols and plain data.

The msgraph-sdk implementation (`graph.client.MsGraph`) sits behind these;
SDK errors become the types in `graph.errors` at that edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class DirectoryUser:
    id: str  # Entra object id
    upn: str
    enabled: bool


@dataclass(frozen=True)
class CalendarEvent:
    subject: str
    body_html: str
    start: datetime  # UTC
    end: datetime  # UTC
    reminder_minutes: int
    category: str


@dataclass(frozen=True)
class FiledDocument:
    item_id: str
    web_url: str
    path: str


class Directory(Protocol):
    async def resolve(self, upns: list[str]) -> dict[str, DirectoryUser | None]:
        """Each address's account, or None where there is no such account."""
        ...


class Calendar(Protocol):
    async def create_event(self, user: str, event: CalendarEvent, transaction_id: str) -> str: ...

    async def update_event(self, user: str, event_id: str, event: CalendarEvent) -> None: ...

    async def delete_event(self, user: str, event_id: str) -> None:
        """Deleting an event that is already gone is not an error."""
        ...


class Files(Protocol):
    async def upload(self, path: str, content: bytes) -> FiledDocument:
        """Creates or replaces the file at `path` in the audit library."""
        ...


class Tracker(Protocol):
    async def upsert(self, audit_id: str, fields: dict[str, Any]) -> str:
        """Creates or updates the tracker item whose AuditId is `audit_id`; returns its id."""
        ...


class Mail(Protocol):
    async def send(self, to: str, subject: str, body_html: str) -> None: ...


class AppInstaller(Protocol):
    async def install_for(self, user: str) -> None:
        """Installs the Teams app for a person; already installed is not an error."""
        ...


@dataclass(frozen=True)
class GraphSettings:
    graph_url: str  # e.g. https://graph.microsoft.com/v1.0
    authority: str  # e.g. https://login.microsoftonline.com/<tenant>
    client_id: str
    client_secret: str
    site_id: str
    tracker_list: str = "audit-tracker"
    mail_sender: str | None = None
    teams_app_id: str | None = None
    ca_bundle: str | None = None  # the sandbox's certificate; None trusts the system's CAs
    # The resource whose token is asked for: Graph itself in production.
    scope: str = "https://graph.microsoft.com/.default"
