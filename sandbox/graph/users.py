"""Directory: GET /users/{id | userPrincipalName}, GET /users?$filter=..., and the
mailbox settings Exchange keeps for a user."""

from __future__ import annotations

import re

from sandbox.graph.core import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Params,
    Router,
    collection,
    matches_filter,
    ok,
    parse_eq_filter,
)
from sandbox.state import Json, Store

# `proxyAddresses/any(x:x eq 'smtp:someone@council.example')`, any lambda variable name.
_ANY_PROXY = re.compile(
    r"\s*proxyAddresses/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*\)\s*"
)
_OR = re.compile(r"\s+or\s+")


def register(router: Router) -> None:
    router.add("GET", r"/users", list_users)
    router.add("GET", r"/users/(?P<user>[^/]+)", get_user)
    router.add("GET", r"/users/(?P<user>[^/]+)/mailboxSettings", mailbox_settings)


def find_user(store: Store, ref: str, code: str = "Request_ResourceNotFound") -> Json:
    """The user named in a path, by object id or UPN. Mailbox endpoints report a missing
    person with Exchange's code, the directory with Entra's, as Graph does.

    Only the id or the userPrincipalName names a user in a path
    (https://learn.microsoft.com/en-us/graph/api/user-get: `GET /users/{id |
    userPrincipalName}`): an e-mail address that is not the UPN is not found, which is
    why people are looked up by `mail` or `proxyAddresses` with $filter instead."""
    user = store.user(ref)
    if user is None:
        message = (
            f"Resource '{ref}' does not exist or one of its queried reference-property"
            " objects are not present."
        )
        if code == "ErrorInvalidUser":
            message = f"The requested user '{ref}' is invalid."
        raise GraphError(404, code, message)
    return user


def public(user: Json) -> Json:
    """The user as Graph shows it: without the sandbox's own notes (keys starting '_')."""
    return {key: value for key, value in user.items() if not key.startswith("_")}


def get_user(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    return ok(request.selected(public(find_user(store, params["user"]))))


def list_users(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    users = store.users()
    text = request.param("filter")
    if text:
        users = [user for user in users if _matches(user, text)]
    return collection([request.selected(public(user)) for user in users])


def _matches(user: Json, text: str) -> bool:
    """`a eq 'x'`, `proxyAddresses/any(p:p eq 'smtp:x')`, or several of them joined by
    `or`. Entra compares names and addresses without regard to case
    (https://learn.microsoft.com/en-us/graph/aad-advanced-queries: proxyAddresses
    supports `eq` inside `any` by default, as `mail` does `eq`)."""
    return any(_matches_one(user, part) for part in _OR.split(text.strip()))


def _matches_one(user: Json, text: str) -> bool:
    proxy = _ANY_PROXY.fullmatch(text)
    if proxy is not None:
        wanted = proxy["value"].replace("''", "'").lower()
        return any(str(a).lower() == wanted for a in user.get("proxyAddresses") or [])
    prop, value = parse_eq_filter(text)
    return matches_filter({k: _fold(v) for k, v in public(user).items()}, prop, value.lower())


def mailbox_settings(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    """GET /users/{id}/mailboxSettings: what Exchange keeps for a mailbox
    (https://learn.microsoft.com/en-us/graph/api/user-get-mailboxsettings). An account
    with no Exchange Online mailbox answers 404 MailboxNotEnabledForRESTAPI, as Graph
    does for accounts without a licence or with an on-premises mailbox."""
    user = find_user(store, params["user"], "ErrorInvalidUser")
    require_mailbox(user)
    return ok(
        request.selected(
            {
                "timeZone": "GMT Standard Time",
                "language": {"locale": "en-GB", "displayName": "English (United Kingdom)"},
                "userPurpose": "shared"
                if "shared" in str(user.get("jobTitle", "")).lower()
                else "user",
            }
        )
    )


def require_mailbox(user: Json) -> None:
    if not user.get("_mailbox", True):
        raise GraphError(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        )


def _fold(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
