"""Where Microsoft Graph is and how auditbot signs in to it (built from `auditbot.settings`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class GraphSettings:
    graph_url: str  # e.g. https://graph.microsoft.com/v1.0
    authority: str  # e.g. https://login.microsoftonline.com/<tenant>
    client_id: str
    site_id: str
    # How auditbot signs in (graph.credentials): secret, certificate, managed_identity
    # or federated.
    credential: str = "secret"
    client_secret: str | None = None
    certificate: str | None = None  # a PEM (key and certificate) or PFX file
    certificate_password: str | None = None
    managed_identity_client_id: str | None = None
    tracker_list: str = "audit-tracker"
    mail_sender: str | None = None
    teams_app_id: str | None = None
    ca_bundle: str | None = None  # the sandbox's certificate; None trusts the system's CAs
    # The resource whose token is asked for: Graph itself in production.
    scope: str = "https://graph.microsoft.com/.default"
