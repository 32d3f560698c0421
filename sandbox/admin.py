"""Controls for tests and demos: change faults and grants, read the request log, reset the data
(which also restarts a seeded fault pattern, so a scenario can be replayed).

No authentication, so they refuse anyone not on this machine (the server binds to
127.0.0.1 only; the check is a second line in case it is ever exposed)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from sandbox.context import context_of
from sandbox.state import Store

_LOCAL = ("127.0.0.1", "::1")
AdminHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def register(app: web.Application) -> None:
    app.router.add_get("/_sandbox/faults", _local_only(get_faults))
    app.router.add_post("/_sandbox/faults", _local_only(set_faults))
    app.router.add_get("/_sandbox/grants", _local_only(get_grants))
    app.router.add_post("/_sandbox/grants", _local_only(set_grants))
    app.router.add_get("/_sandbox/requests", _local_only(get_requests))
    app.router.add_delete("/_sandbox/requests", _local_only(clear_requests))
    app.router.add_post("/_sandbox/reset", _local_only(reset))
    app.router.add_post("/_sandbox/clock", _local_only(advance_clock))
    app.router.add_post(
        "/_sandbox/users/{user}/events/{event}/delete-as-user", _local_only(delete_event_as_user)
    )


def _local_only(handler: AdminHandler) -> AdminHandler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if request.remote not in _LOCAL:
            return web.json_response({"error": "admin endpoints are local only"}, status=403)
        return await handler(request)

    return guarded


async def get_faults(request: web.Request) -> web.StreamResponse:
    return web.json_response(context_of(request).faults.to_dict())


async def set_faults(request: web.Request) -> web.StreamResponse:
    faults = context_of(request).faults
    try:
        changes = json.loads(await request.read() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("send a JSON object of fault settings")
        faults.update(changes)
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(faults.to_dict())


async def get_grants(request: web.Request) -> web.StreamResponse:
    return web.json_response(context_of(request).graph.grants.to_dict())


async def set_grants(request: web.Request) -> web.StreamResponse:
    grants = context_of(request).graph.grants
    try:
        changes = json.loads(await request.read() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("send a JSON object of grants")
        grants.update(changes)
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(grants.to_dict())


async def get_requests(request: web.Request) -> web.StreamResponse:
    return web.json_response({"requests": list(context_of(request).graph.log)})


async def clear_requests(request: web.Request) -> web.StreamResponse:
    context_of(request).graph.log.clear()
    return web.Response(status=204)


async def reset(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    context.store.reset()
    context.graph.log.clear()
    context.injector.restart()
    return web.json_response({"reset": True})


async def advance_clock(request: web.Request) -> web.StreamResponse:
    """{"advance_s": N}: the sandbox's clock moves N seconds on (budgets' windows)."""
    try:
        body = json.loads(await request.read() or b"{}")
        seconds = float(body["advance_s"]) if isinstance(body, dict) else -1.0
        if seconds < 0:
            raise ValueError
    except (ValueError, TypeError, KeyError):
        return web.json_response(
            {"error": 'send {"advance_s": N}, N seconds, not negative'}, status=400
        )
    context_of(request).injector.advance(seconds)
    return web.json_response({"advanced_s": seconds})


async def delete_event_as_user(request: web.Request) -> web.StreamResponse:
    """The person deletes an event from their calendar, as they would in Outlook."""
    user, event = request.match_info["user"], request.match_info["event"]
    if not delete_as_user(context_of(request).store, user, event):
        return web.json_response({"error": f"{user} has no event {event}"}, status=404)
    return web.Response(status=204)


def delete_as_user(store: Store, user_ref: str, event_id: str) -> bool:
    """Deleting in Outlook moves the event to Deleted Items: it leaves the calendar and
    its id no longer names a calendar event, so Graph answers 404 ErrorItemNotFound
    to a PATCH or DELETE of it. The mailbox still remembers the event's transactionId,
    so only a POST with a new transactionId puts the deadline back."""
    user = store.user(user_ref)
    return user is not None and store.delete_event_as_user(str(user["id"]), event_id)
