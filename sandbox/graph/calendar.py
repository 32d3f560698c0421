"""Outlook calendar: events on a person's default calendar.

`transactionId` is what makes a retried POST safe: Exchange creates nothing new for a
transactionId it has seen for that mailbox and answers with the event it already has.
"""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import quote

from sandbox.graph.core import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Params,
    Router,
    collection,
    ok,
    require_text,
)
from sandbox.graph.users import find_user
from sandbox.state import Json, Store, now_iso

_USER = r"/users/(?P<user>[^/]+)"
# /users/{id}/events and /users/{id}/calendar/events are the same default calendar.
_EVENTS = _USER + r"(?:/calendar)?/events"
# Set by the server and never taken from a client's body.
_READ_ONLY = ("id", "createdDateTime", "lastModifiedDateTime", "changeKey", "iCalUId")


def register(router: Router) -> None:
    router.add("GET", _EVENTS, list_events)
    router.add("POST", _EVENTS, create_event)
    router.add("GET", _EVENTS + r"/(?P<event>[^/]+)", get_event)
    router.add("PATCH", _EVENTS + r"/(?P<event>[^/]+)", update_event)
    router.add("DELETE", _EVENTS + r"/(?P<event>[^/]+)", delete_event)


def list_events(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"], "ErrorInvalidUser")
    return collection([request.selected(event) for event in store.events(user["id"])])


def create_event(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"], "ErrorInvalidUser")
    body = request.json()
    require_text(body, "subject", "start", "end")
    _check_times(body)
    transaction_id = body.get("transactionId")
    if transaction_id:
        existing = store.event_by_transaction(user["id"], str(transaction_id))
        if existing is not None:
            # Even one the person has deleted in Outlook: its id then names no event.
            return ok({k: v for k, v in existing.items() if not k.startswith("_")}, 201)
    now = now_iso()
    event: Json = {
        "body": {"contentType": "text", "content": ""},
        "categories": [],
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 15,
        "showAs": "busy",
        "importance": "normal",
        "sensitivity": "normal",
        "isAllDay": False,
        **{key: value for key, value in body.items() if key not in _READ_ONLY},
        "id": "AAMk" + secrets.token_urlsafe(33),
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "changeKey": secrets.token_urlsafe(12),
        "iCalUId": "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
        "organizer": {
            "emailAddress": {"name": user["displayName"], "address": user["userPrincipalName"]}
        },
        "webLink": f"{request.base_url}/people/{quote(user['userPrincipalName'])}/calendar",
    }
    store.add_event(user["id"], event)
    return ok(event, 201)


def get_event(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"], "ErrorInvalidUser")
    return ok(request.selected(_find_event(store, user, params["event"])))


def update_event(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"], "ErrorInvalidUser")
    event = _find_event(store, user, params["event"])
    changes = {k: v for k, v in request.json().items() if k not in _READ_ONLY}
    _check_times(changes)
    event.update(changes)
    event["lastModifiedDateTime"] = now_iso()
    event["changeKey"] = secrets.token_urlsafe(12)
    store.save_event(user["id"], event)
    return ok(event)


def delete_event(store: Store, request: GraphRequest, params: Params) -> GraphResponse:
    user = find_user(store, params["user"], "ErrorInvalidUser")
    if not store.delete_event(user["id"], params["event"]):
        raise _not_found()
    return GraphResponse(204)


def _find_event(store: Store, user: Json, event_id: str) -> Json:
    event = store.event(user["id"], event_id)
    if event is None:
        raise _not_found()
    return event


def _not_found() -> GraphError:
    # What Exchange answers for an event id that names no event on the calendar, as after
    # the person deleted it in Outlook (https://learn.microsoft.com/graph/api/event-update,
    # https://learn.microsoft.com/graph/api/event-delete: 404 Not Found;
    # https://learn.microsoft.com/graph/errors: the error code in the body).
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def _check_times(body: Json) -> None:
    for name in ("start", "end"):
        if name in body:
            value = body[name]
            if not isinstance(value, dict) or not value.get("dateTime"):
                raise GraphError(
                    400,
                    "ErrorInvalidRequest",
                    f"'{name}' must be a dateTimeTimeZone with a dateTime.",
                )
