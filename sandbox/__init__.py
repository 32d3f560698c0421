"""A local stand-in for Microsoft 365: the identity platform's token endpoint and the
Microsoft Graph v1.0 endpoints auditbot uses, over HTTPS, persisted under a state
directory, with fault injection, rate limits and read-only pages.

It imports nothing from the rest of auditbot, so it also runs alone:
`python -m sandbox --port 8765 --state-dir var/sandbox` (faults from SANDBOX_* variables).

Clients reach it unchanged, given `sandbox_env(port, state_dir)`:
- MSAL: `ConfidentialClientApplication(CLIENT_ID, client_credential=CLIENT_SECRET,
  authority=<AUDITBOT_AUTHORITY>, instance_discovery=False, http_client=session)` where
  `session` is a `requests.Session` with `trust_env = False` and `verify = <CA bundle>`.
  The constructor fetches the OpenID configuration, so when the sandbox runs on the same
  event loop (tests), build it with `asyncio.to_thread`.
- msgraph-sdk: `GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(provider),
  client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=<CA bundle>)))`, then
  `adapter.base_url = <AUDITBOT_GRAPH_URL>` (no trailing '/'), where `provider` is a kiota
  `AccessTokenProvider` whose `AllowedHostsValidator` names "127.0.0.1".
- A certificate instead of the secret: `sandbox_certificate_env(port, state_dir)` names the
  app's test certificate (private key and certificate in one PEM, made on first use and
  registered on the app); MSAL signs a client assertion with it, which the token endpoint
  checks as Entra does (sandbox/credentials.py).
- A managed identity instead: `sandbox_managed_identity_env(port, state_dir)` adds App
  Service's IDENTITY_ENDPOINT and IDENTITY_HEADER (GET /msi/token, read by MSAL); with
  `federated=True` the identity's api://AzureADTokenExchange token is the app's client
  assertion, trusted through the app's federated credential (sandbox/managed_identity.py).

Admin (local only, no token): GET/POST /_sandbox/faults, GET/POST /_sandbox/grants, GET/DELETE /_sandbox/requests,
POST /_sandbox/reset. Pages: /, /people, /people/{upn}/calendar, /files, /tracker, /mail.
"""

from sandbox.constants import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_PORT,
    SITE_ID,
    TENANT,
    TRACKER_LIST,
    sandbox_user_id,
)
from sandbox.faults import Faults
from sandbox.server import (
    RunningSandbox,
    run_sandbox,
    sandbox_certificate_env,
    sandbox_env,
    sandbox_managed_identity_env,
    start_sandbox,
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DEFAULT_PORT",
    "SITE_ID",
    "TENANT",
    "TRACKER_LIST",
    "Faults",
    "RunningSandbox",
    "run_sandbox",
    "sandbox_certificate_env",
    "sandbox_env",
    "sandbox_managed_identity_env",
    "sandbox_user_id",
    "start_sandbox",
]
