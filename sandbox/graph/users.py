"""Directory: GET /users/{id | userPrincipalName} and GET /users?$filter=..."""

from __future__ import annotations

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


def register(router: Router) -> None:
    router.add("GET", r"/users", list_users)
    router.add("GET", r"/users/(?P<user>[^/]+)", get_user)


def find_user(store: Store, ref: str, code: str = "Request_ResourceNotFound") -> Json:
    """The user named in a path, by object id or UPN. Mailbox endpoints report a missing
    person with Exchange's code, the directory with Entra's, as Graph does."""
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


def get_user(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    return ok(request.selected(find_user(store, params["user"])))


def list_users(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    users = store.users()
    text = request.param("filter")
    if text:
        prop, value = parse_eq_filter(text)
        # Entra compares names and addresses without regard to case.
        users = [
            user
            for user in users
            if matches_filter({k: _fold(v) for k, v in user.items()}, prop, value.lower())
        ]
    return collection([request.selected(user) for user in users])


def _fold(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
