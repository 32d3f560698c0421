"""The Graph pipeline: faults and limits, then the handler, then the request log.

One path for every request, whether it came over HTTP or inside a `$batch`, so a fault
inside a batch looks exactly like the same fault on a single request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections import deque
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sandbox.faults import FaultInjector
from sandbox.graph import calendar, files, lists, mail, teams, users
from sandbox.graph.access import Grants, check_access
from sandbox.graph.core import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Router,
    error_response,
    ok,
)
from sandbox.state import Json, Store, now_iso

GRAPH_PREFIX = "/v1.0"
BATCH_LIMIT = 20
REQUEST_LOG_SIZE = 10_000
# Exchange limits requests per app per mailbox (concurrency and a 10-minute budget:
# https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits); SharePoint
# has its own outages and budget.
_OUTLOOK = re.compile(r"/users/(?P<mailbox>[^/]+)/(?:calendar/)?(?:events|sendMail)(?:/|$)")
_SHAREPOINT = re.compile(r"/(?:sites|drives|_upload)(?:/|$)")


class GraphService:
    def __init__(self, store: Store, injector: FaultInjector) -> None:
        self.store = store
        self.injector = injector
        self.grants = Grants()
        self.graph = Router()
        for module in (users, calendar, mail, teams, files, lists):
            module.register(self.graph)
        self.uploads = Router()
        files.register_uploads(self.uploads)
        # For tests and the QA pages: what clients asked for and what they got back.
        self.log: deque[Json] = deque(maxlen=REQUEST_LOG_SIZE)

    async def graph_request(self, request: GraphRequest) -> GraphResponse:
        if request.path == "/$batch":
            if request.method != "POST":
                response = error_response(405, "BadRequest", "$batch accepts only POST.")
            else:
                response = await self._batch(request)
            self.record(request.method, GRAPH_PREFIX + request.path, response.status)
            return response
        return await self._serve(request, self.graph, GRAPH_PREFIX)

    async def upload_request(self, request: GraphRequest) -> GraphResponse:
        return await self._serve(request, self.uploads, "")

    def record(self, method: str, path: str, status: int, batch: bool = False) -> None:
        self.log.append(
            {"method": method, "path": path, "status": status, "time": now_iso(), "batch": batch}
        )

    async def _serve(
        self, request: GraphRequest, router: Router, prefix: str, batch: bool = False
    ) -> GraphResponse:
        response = await self._apply_faults_and_dispatch(request, router)
        self.record(request.method, prefix + request.path, response.status, batch)
        return response

    async def _apply_faults_and_dispatch(
        self, request: GraphRequest, router: Router
    ) -> GraphResponse:
        faults = self.injector
        mailbox = self._mailbox(request.path)
        # The Outlook slot is held through the injected latency: that latency is what
        # stands in for Exchange's own service time, during which the slot is busy.
        with faults.outlook_slot(request.app_id, mailbox) as admitted:
            over_budget = None
            if admitted and mailbox is not None:
                over_budget = faults.outlook_budget_refusal(request.app_id, mailbox)
            await faults.delay()
            refusal = None
            if _SHAREPOINT.match(request.path):
                refusal = faults.sharepoint_refusal()
            refusal = refusal or faults.random_refusal()
            if refusal is None and not admitted:
                refusal = faults.outlook_refusal()
            refusal = refusal or over_budget
            if refusal is not None:
                return error_response(
                    refusal.status,
                    refusal.code,
                    refusal.message,
                    {"Retry-After": refusal.retry_after},
                )
            try:
                if router is self.graph:
                    check_access(self.store, self.grants, request)
                return router.dispatch(self.store, request)
            except GraphError as error:
                return error.response()

    def _mailbox(self, path: str) -> str | None:
        """Whose mailbox an Outlook request uses (the user's object id, however the path
        names them), or None for a request that is not Outlook's."""
        found = _OUTLOOK.match(path)
        if found is None:
            return None
        ref = found.group("mailbox")
        user = self.store.user(ref)
        return str(user["id"]) if user is not None else ref.lower()

    # -- $batch ---------------------------------------------------------------

    async def _batch(self, outer: GraphRequest) -> GraphResponse:
        try:
            items = _batch_items(outer.json())
            requests = [_inner_request(outer, item) for item in items]
        except GraphError as error:
            return error.response()
        if any(item.get("dependsOn") for item in items):
            responses = await self._run_in_order(items, requests)
        else:
            # Graph runs independent requests of a batch in parallel, which is why a
            # batch of many calendar writes meets the mailbox concurrency limit.
            responses = list(await asyncio.gather(*(self._inner(r) for r in requests)))
        return ok(
            {
                "responses": [
                    _batch_response(str(item["id"]), response)
                    for item, response in zip(items, responses, strict=True)
                ]
            }
        )

    async def _run_in_order(
        self, items: list[Json], requests: list[GraphRequest | GraphError]
    ) -> list[GraphResponse]:
        status_by_id: dict[str, int] = {}
        responses: list[GraphResponse] = []
        for item, request in zip(items, requests, strict=True):
            failed = [
                dep for dep in item.get("dependsOn") or [] if status_by_id.get(str(dep), 0) >= 400
            ]
            if failed:
                response = error_response(
                    424, "FailedDependency", f"Depends on failed request(s) {', '.join(failed)}."
                )
            else:
                response = await self._inner(request)
            status_by_id[str(item["id"])] = response.status
            responses.append(response)
        return responses

    async def _inner(self, request: GraphRequest | GraphError) -> GraphResponse:
        if isinstance(request, GraphError):
            return request.response()
        return await self._serve(request, self.graph, GRAPH_PREFIX, batch=True)


def _batch_items(body: Json) -> list[Json]:
    items = body.get("requests")
    if not isinstance(items, list) or not items:
        raise GraphError(400, "BadRequest", "A batch needs a non-empty 'requests' array.")
    if len(items) > BATCH_LIMIT:
        raise GraphError(
            400, "BadRequest", f"The batch has {len(items)} requests; the limit is {BATCH_LIMIT}."
        )
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not all(item.get(k) for k in ("id", "method", "url")):
            raise GraphError(400, "BadRequest", "Each batch request needs id, method and url.")
        if str(item["id"]) in seen:
            raise GraphError(400, "BadRequest", f"Duplicate batch request id {item['id']}.")
        seen.add(str(item["id"]))
    return items


def _inner_request(outer: GraphRequest, item: Json) -> GraphRequest | GraphError:
    """A batch entry as a request of its own, with the batch's caller and credentials.
    A malformed entry fails alone, as in Graph, rather than failing the whole batch."""
    parts = urlsplit(str(item["url"]))
    path = unquote(parts.path)
    if path.startswith(GRAPH_PREFIX + "/"):
        path = path[len(GRAPH_PREFIX) :]
    if not path.startswith("/"):
        path = "/" + path
    if path == "/$batch":
        return GraphError(400, "BadRequest", "A batch cannot contain another batch.")
    headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    return GraphRequest(
        method=str(item["method"]).upper(),
        path=path,
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        headers=headers,
        body=_inner_body(item.get("body")),
        app_id=outer.app_id,
        base_url=outer.base_url,
    )


def _inner_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        # Graph carries non-JSON bodies in a batch as base64.
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return body.encode()
    return json.dumps(body).encode()


def _batch_response(item_id: str, response: GraphResponse) -> Json:
    result: Json = {"id": item_id, "status": response.status, "headers": dict(response.headers)}
    if response.body is None:
        return result
    result["headers"]["Content-Type"] = response.content_type
    if isinstance(response.body, bytes):
        result["body"] = base64.b64encode(response.body).decode()
    else:
        result["body"] = response.body
    return result
