"""Our own error types for Microsoft 365 calls; the outbox decides on these what to do next."""

from __future__ import annotations


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


class GraphNotConfigured(GraphError):
    """auditbot has no Microsoft 365 settings."""
