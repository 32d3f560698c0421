"""Teams app installation for a user: how the bot reaches people who never opened it."""

from __future__ import annotations

import base64
import re

from sandbox.constants import TENANT
from sandbox.graph.core import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Params,
    Router,
    apply_filter,
    collection,
    ok,
)
from sandbox.graph.users import find_user
from sandbox.state import Json, Store

_APPS = r"/users/(?P<user>[^/]+)/teamwork/installedApps"
_ONE = _APPS + r"/(?P<installation>[^/]+)"
# "…/appCatalogs/teamsApps/{id}" or the OData key form "…/teamsApps('{id}')".
_BIND = re.compile(r"/appCatalogs/teamsApps(?:/|\(')(?P<app>[^/'()]+)")


def register(router: Router) -> None:
    router.add("GET", _APPS, list_installed)
    router.add("POST", _APPS, install)
    router.add("GET", _ONE, get_installed)
    router.add("DELETE", _ONE, uninstall)
    router.add("GET", _ONE + r"/chat", installation_chat)


def install(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"])
    bind = str(request.json().get("teamsApp@odata.bind") or "")
    match = _BIND.search(bind)
    if match is None:
        raise GraphError(
            400,
            "BadRequest",
            "teamsApp@odata.bind must reference …/appCatalogs/teamsApps/{app-id}.",
        )
    app_id = match["app"]
    installation = _installation(user, app_id)
    if not store.install_app(user["id"], installation, app_id):
        raise GraphError(409, "Conflict", "App is already installed for this user.")
    # Graph answers 201 with no body; clients must not rely on one.
    return GraphResponse(201)


def list_installed(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"])
    return collection(apply_filter(request, store.installed_apps(user["id"])))


def get_installed(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"])
    return ok(_find(store, user, params["installation"]))


def uninstall(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"])
    if not store.uninstall_app(user["id"], params["installation"]):
        raise _not_found()
    return GraphResponse(204)


def installation_chat(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    """The one-to-one chat between the user and the bot: its id is the conversation id
    a bot needs to message someone proactively."""
    user = find_user(store, params["user"])
    installation = _find(store, user, params["installation"])
    app_id = installation["teamsApp"]["id"]
    return ok(
        {
            "id": f"19:{user['id']}_{app_id}@unq.gbl.spaces",
            "chatType": "oneOnOne",
            "tenantId": TENANT,
        }
    )


def _installation(user: Json, app_id: str) -> Json:
    # Graph's installation ids are base64 of the user and the app; derive them the same
    # way so a retried install names the same installation.
    raw = f"{user['id']}##{app_id}".encode()
    return {
        "id": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "teamsApp": {"id": app_id, "distributionMethod": "organization"},
        "teamsAppDefinition": {"id": f"{app_id}-definition", "teamsAppId": app_id},
    }


def _find(store: Store, user: Json, installation_id: str) -> Json:
    for installation in store.installed_apps(user["id"]):
        if installation["id"] == installation_id:
            return installation
    raise _not_found()


def _not_found() -> GraphError:
    return GraphError(404, "NotFound", "The app installation was not found.")
