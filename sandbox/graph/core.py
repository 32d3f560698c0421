"""The pieces every Graph endpoint shares: a request and response that do not depend on
aiohttp (so `$batch` can dispatch to the same handlers), Graph's error shape, and a small
router over paths relative to /v1.0."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.state import Json, Store, now_iso


@dataclass(frozen=True)
class GraphRequest:
    method: str
    path: str  # percent-decoded, relative to /v1.0, e.g. "/users/x/events"
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes
    app_id: str  # the client id the bearer token was issued to
    base_url: str  # "https://127.0.0.1:PORT", for links back to the sandbox

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        """An OData query option, with or without its `$` (Graph accepts both)."""
        value = self.query.get(f"${name}")
        return value if value is not None else self.query.get(name)

    def json(self) -> Json:
        try:
            data = json.loads(self.body or b"null")
        except ValueError:
            raise GraphError(400, "BadRequest", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise GraphError(400, "BadRequest", "The request body must be a JSON object.")
        return data

    def selected(self, resource: Json) -> Json:
        """Apply $select: the listed properties (and id) only, as Graph does."""
        select = self.param("select")
        if not select:
            return resource
        wanted = {name.strip() for name in select.split(",")} | {"id"}
        return {key: value for key, value in resource.items() if key in wanted}


@dataclass
class GraphResponse:
    status: int
    body: Any = None  # a JSON value, raw bytes, or None for no body
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class GraphError(Exception):
    """Raised by handlers; becomes Graph's `{"error": {"code", "message"}}` response."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> GraphResponse:
        return error_response(self.status, self.code, self.message, self.headers)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> GraphResponse:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": now_iso(), "request-id": str(uuid.uuid4())},
        }
    }
    return GraphResponse(status, body, dict(headers or {}))


def ok(body: Any = None, status: int = 200) -> GraphResponse:
    return GraphResponse(status, body)


def collection(values: list[Json]) -> GraphResponse:
    return GraphResponse(200, {"value": values})


Params = dict[str, str]
Handler = Callable[[Store, GraphRequest, Params], GraphResponse]


class Router:
    """Routes by regular expressions over the decoded path. Order matters only where
    patterns overlap; each module registers its own routes (`register(router)`)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    def dispatch(self, store: Store, request: GraphRequest) -> GraphResponse:
        path = request.path.rstrip("/") or "/"
        path_known = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if method in ("*", request.method):
                return handler(store, request, match.groupdict())
        if path_known:
            raise GraphError(
                405, "BadRequest", f"The method {request.method} is not allowed on {path}."
            )
        hint = (
            " (The path has '//': is there a trailing '/' on the base URL?)" if "//" in path else ""
        )
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path}'.{hint}")


_EQ_FILTER = re.compile(r"\s*(?P<prop>[A-Za-z_][\w/]*)\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*")


def parse_eq_filter(text: str) -> tuple[list[str], str]:
    """Parse the one $filter form the sandbox supports, `a/b eq 'value'`, into the
    property path and the value ('' inside the quotes is an escaped ')."""
    match = _EQ_FILTER.fullmatch(text)
    if match is None:
        raise GraphError(
            400,
            "invalidRequest",
            f"Unsupported $filter: {text!r}. The sandbox supports only \"<property> eq '<value>'\".",
        )
    return match["prop"].split("/"), match["value"].replace("''", "'")


def matches_filter(resource: Json, prop: list[str], value: str) -> bool:
    current: Any = resource
    for name in prop:
        if not isinstance(current, dict):
            return False
        current = current.get(name)
    if isinstance(current, bool):
        return str(current).lower() == value.lower()
    return current is not None and str(current) == value


def apply_filter(request: GraphRequest, resources: list[Json]) -> list[Json]:
    text = request.param("filter")
    if not text:
        return resources
    prop, value = parse_eq_filter(text)
    return [resource for resource in resources if matches_filter(resource, prop, value)]


def parameter(body: Json, name: str) -> Any:
    """An action parameter, matched without regard to case: Graph accepts both the
    `message` its documentation shows and the `Message` the msgraph-sdk sends."""
    folded = name.lower()
    for key, value in body.items():
        if key.lower() == folded:
            return value
    return None


def require_text(body: Json, *names: str, code: str = "ErrorInvalidRequest") -> None:
    missing = [name for name in names if not body.get(name)]
    if missing:
        raise GraphError(400, code, f"Missing required properties: {', '.join(missing)}.")
