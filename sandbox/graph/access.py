"""What the app has been granted beyond its Graph permissions: the SharePoint sites
(`Sites.Selected`) and the mailboxes (Exchange's application access policy or RBAC
scope) it may use. Checked before any handler, so a refusal looks the same whether the
request came alone or inside a `$batch`.

A council grants both by hand (docs/deploy.md); the sandbox grants everything unless a
test takes a grant away (`RunningSandbox.grants`, or POST /_sandbox/grants).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.graph.core import GraphError, GraphRequest
from sandbox.graph.users import require_mailbox
from sandbox.state import Store

_SHAREPOINT = re.compile(r"/(?:sites|drives)(?:/|$)")
_MAILBOX = re.compile(
    r"/users/(?P<user>[^/]+)/(?:calendar|events|sendMail|mailFolders|messages|mailboxSettings)"
    r"(?:/|$)"
)


@dataclass
class Grants:
    # Sites.Selected gives an app no site until an admin grants it one
    # (https://learn.microsoft.com/en-us/graph/api/site-post-permissions); until then
    # every site, list and drive request is refused 403 accessDenied.
    site_granted: bool = True
    # An Exchange application access policy (or RBAC for Applications) limits the app to
    # some mailboxes; the rest answer 403 ErrorAccessDenied
    # (https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access#handling-api-errors).
    # None: every mailbox. Otherwise the UPNs (lower-case) the app may use.
    mailbox_scope: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def update(self, changes: Mapping[str, Any]) -> None:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown grant(s): {', '.join(sorted(unknown))}")
        if "site_granted" in changes:
            if not isinstance(changes["site_granted"], bool):
                raise ValueError("site_granted must be true or false")
            self.site_granted = changes["site_granted"]
        if "mailbox_scope" in changes:
            scope = changes["mailbox_scope"]
            if scope is not None and not (
                isinstance(scope, list) and all(isinstance(s, str) for s in scope)
            ):
                raise ValueError("mailbox_scope must be null or a list of addresses")
            self.mailbox_scope = None if scope is None else [s.lower() for s in scope]


def check_access(store: Store, grants: Grants, request: GraphRequest) -> None:
    """Raises Graph's refusal for a request the app has no grant for."""
    if _SHAREPOINT.match(request.path) and not grants.site_granted:
        raise GraphError(403, "accessDenied", "Access denied")
    mailbox = _MAILBOX.match(request.path)
    if mailbox is None:
        return
    user = store.user(mailbox["user"])
    if user is None:
        return  # the handler answers for someone who does not exist
    if grants.mailbox_scope is not None and user["userPrincipalName"] not in grants.mailbox_scope:
        raise GraphError(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
            "AccessPolicy settings.",
        )
    # An account without an Exchange Online mailbox has no calendar or mail to use.
    require_mailbox(user)
