"""Fixed names of the sandbox tenant: what auditbot is configured with to reach it."""

from __future__ import annotations

import uuid

TENANT = "sandbox-tenant"
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
SITE_ID = "sandbox-site"
# The title auditbot gives the tracker list by default. The sandbox does not make it: a
# new site has no lists until auditbot's `setup sharepoint` makes one.
TRACKER_LIST = "audit-tracker"
DEFAULT_PORT = 8765

# Not part of the configuration auditbot needs, but visible in Graph responses.
DRIVE_ID = "sandbox-drive"
SITE_NAME = "Audits"
HOST = "127.0.0.1"
TOKEN_LIFETIME_SECONDS = 3600


def sandbox_user_id(user_principal_name: str) -> str:
    """The Entra object id the sandbox gives a person: stable across restarts and machines,
    so tests and demo data can name people by id without asking the sandbox first."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, user_principal_name.strip().lower()))
