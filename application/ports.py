"""What the application asks of Microsoft 365: small protocols, plain data, our errors.

The application owns these ports; the msgraph-sdk implementation
(`graph.client.MsGraph`) sits behind them at the edge and turns SDK errors into
the `GraphError` types below, on which the outbox decides what to do next.
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
    display_name: str = ""  # what cards and documents show for the person


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


class GraphError(Exception):
    """A Graph call failed. `retry_after` is the server's Retry-After, in seconds, if it sent one."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class GraphThrottled(GraphError):
    """429 or 503: wait for Retry-After, then try again."""


class GraphUnavailable(GraphError):
    """A transient failure (network, timeout, 5xx): retry with backoff."""


class GraphRejected(GraphError):
    """The request itself is wrong (4xx): retrying will not help."""


class GraphNotFound(GraphRejected):
    pass
