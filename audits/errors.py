"""Our error types. Each carries a message a social worker or an admin can act on."""

from __future__ import annotations


class AuditError(Exception):
    """Base of every refusal the domain makes. `str(error)` is shown to the user."""


class ConfigError(AuditError):
    """A template, policy or roles file is wrong: names the file, the place, the problem."""


class InvalidInput(AuditError):
    """An answer or a command's data is not acceptable."""


class NotAllowed(AuditError):
    """The person does not hold the role this needs on this audit."""


class WrongState(AuditError):
    """The audit is not at a stage where this can be done."""


class NotFound(AuditError):
    """No such audit, action or step."""


class Conflict(AuditError):
    """Someone else changed the audit first; nothing was saved."""


class Incomplete(AuditError):
    """Submission refused: lists everything still missing."""

    def __init__(self, what: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(what + ":\n" + "\n".join(f"- {m}" for m in missing))
