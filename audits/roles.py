"""Who is who: roles on an audit, standing roles from the roles file, and people's ids."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from audits.errors import InvalidInput
from audits.yamlfile import load_model

_UPN = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
)


def person(text: str) -> str:
    """A person as we store them: their e-mail address / UPN in lower case."""
    value = str(text).strip().lower()
    if len(value) > 254 or not _UPN.match(value):
        raise InvalidInput(f"'{text}' is not an e-mail address or user principal name")
    return value


def _person_or_value_error(text: str) -> str:
    try:
        return person(text)
    except InvalidInput as exc:
        raise ValueError(str(exc)) from exc


Person = Annotated[str, AfterValidator(_person_or_value_error)]


class Role(StrEnum):
    AUDITOR = "auditor"
    SOCIAL_WORKER = "social_worker"
    IRO = "iro"
    MODERATOR = "moderator"
    TEAM_MANAGER = "team_manager"
    SERVICE_MANAGER = "service_manager"
    QA_OFFICER = "qa_officer"
    QA_MANAGER = "qa_manager"
    HEAD_OF_SERVICE = "head_of_service"
    PANEL = "panel"
    ACTION_OWNER = "action_owner"
    # Swindon: "the relevant team HoS and Director ... and HoS for Practice,
    # Performance and QA" are told of an overall Inadequate; "QA Inbox" gets the audit.
    DIRECTOR = "director"
    HOS_PRACTICE_QA = "hos_practice_qa"
    QA_INBOX = "qa_inbox"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.AUDITOR: "auditor",
    Role.SOCIAL_WORKER: "social worker/PA",
    Role.IRO: "IRO/CP chair",
    Role.MODERATOR: "moderator",
    Role.TEAM_MANAGER: "team manager",
    Role.SERVICE_MANAGER: "service manager",
    Role.QA_OFFICER: "QA officer",
    Role.QA_MANAGER: "QA manager",
    Role.HEAD_OF_SERVICE: "head of service",
    Role.PANEL: "QA panel member",
    Role.ACTION_OWNER: "person responsible for the action",
    Role.DIRECTOR: "director",
    Role.HOS_PRACTICE_QA: "head of service for practice, performance and QA",
    Role.QA_INBOX: "QA inbox",
}

# Roles held by the people of the roles file, not by the allocation: each with the
# key of the roles file that names them.
STANDING_ROLE_KEYS = {
    Role.QA_OFFICER: "qa_officers",
    Role.QA_MANAGER: "qa_managers",
    Role.PANEL: "panel",
    Role.HEAD_OF_SERVICE: "heads_of_service",
    Role.DIRECTOR: "directors",
    Role.HOS_PRACTICE_QA: "hos_practice_qa",
    Role.QA_INBOX: "qa_inbox",
}

# The people named on each audit at allocation, in the allocation CSV's order.
AUDIT_ROLES = (
    Role.SOCIAL_WORKER,
    Role.AUDITOR,
    Role.IRO,
    Role.MODERATOR,
    Role.TEAM_MANAGER,
    Role.SERVICE_MANAGER,
)


class StandingRoles(BaseModel):
    """Roles that are not per audit, from the file named by AUDITBOT_ROLES_FILE."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    qa_officers: tuple[Person, ...] = ()
    qa_managers: tuple[Person, ...] = ()
    panel: tuple[Person, ...] = ()
    # strand id -> head of service for that service area
    heads_of_service: dict[str, Person] = Field(default_factory=dict)
    # strand id -> the director for that service area (Swindon: Corporate Parenting,
    # or Safeguarding and Support)
    directors: dict[str, Person] = Field(default_factory=dict)
    # The head of service for practice, performance and QA.
    hos_practice_qa: Person | None = None
    # The QA team's shared mailbox: told by e-mail, never in Teams.
    qa_inbox: Person | None = None

    def has(self, role: Role) -> bool:
        """Whether the roles file names anyone in this standing role (always True for
        a role the allocation gives)."""
        match role:
            case Role.QA_OFFICER:
                return bool(self.qa_officers)
            case Role.QA_MANAGER | Role.PANEL:
                # The QA managers sit on the panel and are told an audit is ready for it.
                return bool(self.qa_managers)
            case Role.HEAD_OF_SERVICE:
                return bool(self.heads_of_service)
            case Role.DIRECTOR:
                return bool(self.directors)
            case Role.HOS_PRACTICE_QA:
                return self.hos_practice_qa is not None
            case Role.QA_INBOX:
                return self.qa_inbox is not None
        return True

    def holds(self, who: str, role: Role, strand: str | None = None) -> bool:
        match role:
            case Role.QA_OFFICER:
                return who in self.qa_officers
            case Role.QA_MANAGER:
                return who in self.qa_managers
            case Role.PANEL:
                return who in self.panel or who in self.qa_managers
            case Role.HEAD_OF_SERVICE:
                if strand is None:
                    return who in self.heads_of_service.values()
                return self.heads_of_service.get(strand) == who
            case Role.DIRECTOR:
                if strand is None:
                    return who in self.directors.values()
                return self.directors.get(strand) == who
            case Role.HOS_PRACTICE_QA:
                return who == self.hos_practice_qa
        return False

    @property
    def qa_staff(self) -> tuple[str, ...]:
        return self.qa_officers + self.qa_managers


def load_standing_roles(path: Path) -> StandingRoles:
    return load_model(StandingRoles, path)
