"""Microsoft Graph through the msgraph-sdk, authenticated through MSAL (graph.credentials).

Production and the local sandbox differ only in the settings (Graph URL,
authority, client id and secret, and a CA file for the sandbox's certificate):
the same SDK calls run in tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import requests
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from msgraph.generated.drives.item.items.item.create_upload_session.create_upload_session_post_request_body import (
    CreateUploadSessionPostRequestBody,
)
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.drive_item import DriveItem
from msgraph.generated.models.drive_item_uploadable_properties import (
    DriveItemUploadableProperties,
)
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.field_value_set import FieldValueSet
from msgraph.generated.models.free_busy_status import FreeBusyStatus
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.list_item import ListItem
from msgraph.generated.models.message import Message
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.user_scope_teams_app_installation import (
    UserScopeTeamsAppInstallation,
)
from msgraph.generated.sites.item.lists.item.items.items_request_builder import (
    ItemsRequestBuilder,
)
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory
from opentelemetry.trace import SpanKind

from application.ports import (
    CalendarEvent,
    DirectoryUser,
    FiledDocument,
    GraphError,
    GraphNotFound,
    GraphRejected,
    GraphThrottled,
    GraphUnavailable,
)
from audits import telemetry
from graph.credentials import CertificateError, SignIn
from graph.mailboxes import MailboxGates
from graph.settings import GraphSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
SIMPLE_UPLOAD_LIMIT = 4 * 1024 * 1024  # Graph's limit for a single PUT of content
UPLOAD_CHUNK = 320 * 1024 * 10  # upload session chunks must be multiples of 320 KiB
_ERRORS: dict[str, Any] = {"XXX": ODataError}
BATCH_SIZE = 20  # Graph takes at most 20 requests in one $batch
DIRECTORY_RETRIES = 8


class _MsalTokenProvider(AccessTokenProvider):
    """Client credentials from MSAL, cached by MSAL, fetched off the event loop."""

    def __init__(self, settings: GraphSettings) -> None:
        self._settings = settings
        self._sign_in = SignIn(settings)
        self._hosts = AllowedHostsValidator([urlsplit(settings.graph_url).hostname or ""])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        try:
            result = await asyncio.to_thread(self._acquire)
        except CertificateError as exc:
            raise GraphRejected(f"the certificate cannot be used: {exc}") from exc
        except (requests.RequestException, ValueError) as exc:
            raise GraphUnavailable(f"cannot reach the token endpoint: {exc}") from exc
        if "access_token" not in result:
            raise GraphRejected(
                f"token refused: {result.get('error')}: "
                f"{str(result.get('error_description', '')).splitlines()[0][:200]}"
            )
        return str(result["access_token"])

    def _acquire(self) -> dict[str, Any]:
        # MSAL's constructor fetches the authority's metadata over blocking HTTP,
        # so it is built here, off the event loop, on first use.
        return self._sign_in.acquire()

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


# The path segments Graph's own API names: any other segment (a person's address, an id, a
# file name) is left out of telemetry as "{}".
_GRAPH_WORDS = frozenset(
    {
        "v1.0", "beta", "$batch", "users", "events", "calendar", "sites", "lists", "items",
        "fields", "columns", "drive", "drives", "root", "children", "content",
        "createUploadSession", "sendMail", "teamwork", "installedApps", "mailboxSettings",
        "applications", "servicePrincipals",
    }
)  # fmt: skip


def graph_operation(request: httpx.Request) -> str:
    """GET /users/{}/events and the like: what was asked, naming no one."""
    segments = [s for s in request.url.path.split("/") if s]
    words = [s if s in _GRAPH_WORDS else "{}" for s in segments]
    return f"{request.method} /{'/'.join(words)}"


class _TracedTransport(httpx.AsyncBaseTransport):
    """Every Graph request as a client span (and its duration), by operation and status."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with telemetry.span(
            telemetry.GRAPH_CALL,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": request.method,
                "auditbot.operation": graph_operation(request),
            },
        ) as span:
            response = await self._inner.handle_async_request(request)
            span.set_attribute("http.response.status_code", response.status_code)
            span.set_attribute(telemetry.OUTCOME, str(response.status_code))
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class MsGraph:
    """One GraphServiceClient per process: directory, calendar, files, tracker, mail, app installs."""

    def __init__(self, settings: GraphSettings) -> None:
        self.settings = settings
        self._tokens = _MsalTokenProvider(settings)
        auth = BaseBearerTokenAuthenticationProvider(self._tokens)
        # Retries are the outbox's job (it honours Retry-After without holding a worker).
        middleware = [
            m
            for m in KiotaClientFactory.get_default_middleware(None)
            if not isinstance(m, RetryHandler)
        ]
        http = httpx.AsyncClient(
            transport=_TracedTransport(httpx.AsyncHTTPTransport(verify=_tls(settings.ca_bundle))),
            timeout=httpx.Timeout(30.0),
        )
        self._http = GraphClientFactory.create_with_custom_middleware(middleware, client=http)
        self._adapter = GraphRequestAdapter(auth, client=self._http)
        self._adapter.base_url = settings.graph_url.rstrip("/")
        self.client = GraphServiceClient(request_adapter=self._adapter)
        # Outlook's limits are per mailbox: 4 at once and a 10-minute budget for each.
        self.outlook = MailboxGates()
        self._drive_id: str | None = None

    async def close(self) -> None:
        await self._http.aclose()

    # ------------------------------------------------------------- directory

    async def resolve(self, upns: list[str]) -> dict[str, DirectoryUser | None]:
        """Looks people up 20 at a time, one `$batch` request each."""
        found: dict[str, DirectoryUser | None] = {}
        for start in range(0, len(upns), BATCH_SIZE):
            found |= await self._resolve_batch(upns[start : start + BATCH_SIZE])
        return found

    async def _resolve_batch(self, chunk: list[str]) -> dict[str, DirectoryUser | None]:
        """Someone is waiting at the allocation: throttled lookups are retried a few times."""
        found: dict[str, DirectoryUser | None] = {}
        pending = chunk
        for attempt in range(DIRECTORY_RETRIES):
            answers = await self._lookup(pending)
            throttled = [upn for upn in pending if _status(answers.get(upn)) in (429, 503)]
            for upn in pending:
                if upn not in throttled:
                    found[upn] = _directory_user(upn, answers.get(upn))
            if not throttled:
                return found
            if attempt == DIRECTORY_RETRIES - 1:
                raise _translate(
                    429, {}, None, f"the directory is busy: {len(throttled)} not looked up"
                )
            waits = [_retry_after(answers[upn].get("headers") or {}) or 1.0 for upn in throttled]
            await asyncio.sleep(min(max(waits), 10.0))
            pending = throttled
        raise AssertionError("unreachable")  # pragma: no cover

    async def _lookup(self, chunk: list[str]) -> dict[str, dict[str, Any]]:
        """Each person's answer (status, headers, body), by UPN or object id first; an
        address not found that way is looked for as a mail address or an alias, since a
        council's e-mail addresses are not always its UPNs (and `/users/{x}` takes only
        an id or a UPN)."""
        answers = await self._batch(
            {upn: f"/users/{quote(upn)}?$select={_USER_FIELDS}" for upn in chunk}
        )
        by_mail = [a for a in chunk if "@" in a and _status(answers.get(a)) == 404]
        if by_mail:
            found = await self._batch({a: _by_mail_url(a) for a in by_mail})
            for address, answer in found.items():
                answers[address] = _first_user(answer)
        return answers

    async def _batch(self, urls: dict[str, str]) -> dict[str, dict[str, Any]]:
        """One `$batch` of GETs: each key's answer (status, headers, body).

        Sent through the SDK's request adapter (auth, middleware) as raw JSON:
        msgraph-core's batch response classes drop the bodies we need.
        """
        keys = list(urls)
        batch = {
            "requests": [
                {"id": str(n), "method": "GET", "url": urls[key]} for n, key in enumerate(keys)
            ]
        }
        request = RequestInformation(Method.POST, "{+baseurl}/$batch")
        request.headers.try_add("Accept", "application/json")
        request.set_stream_content(json.dumps(batch).encode(), "application/json")
        raw = await _call(self._adapter.send_primitive_async(request, "bytes", _ERRORS))
        answers = {str(r.get("id")): r for r in json.loads(raw or b"{}").get("responses", [])}
        return {key: answers[str(n)] for n, key in enumerate(keys) if str(n) in answers}

    # -------------------------------------------------------------- calendar

    async def create_event(self, user: str, event: CalendarEvent, transaction_id: str) -> str:
        body = _event(event)
        # Graph returns the first event again for a repeated transactionId: retries are safe.
        body.transaction_id = transaction_id
        events = self.client.users.by_user_id(user).events
        request = events.to_post_request_information(body)
        # The answer is read as raw JSON for its id: parsing it into the SDK's Event
        # model costs more CPU than the rest of the send (about 15 ms an event).
        async with self.outlook.slot(user):
            created = await self._json(request)
        event_id = created.get("id")
        if not event_id:
            raise GraphUnavailable("Graph created an event but returned no id")
        return str(event_id)

    async def update_event(self, user: str, event_id: str, event: CalendarEvent) -> None:
        patch = self.client.users.by_user_id(user).events.by_event_id(event_id)
        request = patch.to_patch_request_information(_event(event))
        async with self.outlook.slot(user):
            await self._json(request)

    async def _json(self, request: RequestInformation) -> dict[str, Any]:
        """Sends through the SDK (auth, middleware, errors) and reads the answer as raw
        JSON: parsing it into the SDK's models costs more CPU than the rest of the send
        (about 15 ms for an event or a list item), on the loop that also answers chats."""
        raw = await _call(self._adapter.send_primitive_async(request, "bytes", _ERRORS))
        found = json.loads(raw) if raw else {}
        return found if isinstance(found, dict) else {}

    async def delete_event(self, user: str, event_id: str) -> None:
        async with self.outlook.slot(user):
            try:
                await _call(
                    self.client.users.by_user_id(user).events.by_event_id(event_id).delete()
                )
            except GraphNotFound:
                log.info("calendar event already gone")

    # ----------------------------------------------------------------- files

    async def _drive(self) -> str:
        if self._drive_id is None:
            drive = await _call(self.client.sites.by_site_id(self.settings.site_id).drive.get())
            if drive is None or drive.id is None:
                raise GraphRejected(
                    f"SharePoint site '{self.settings.site_id}' has no document library"
                )
            self._drive_id = drive.id
        return self._drive_id

    async def upload(self, path: str, content: bytes) -> FiledDocument:
        drive = await self._drive()
        item_ref = self.client.drives.by_drive_id(drive).items.by_drive_item_id(f"root:/{path}:")
        if len(content) <= SIMPLE_UPLOAD_LIMIT:
            item = await _call(item_ref.content.put(content))
        else:
            item = await self._upload_in_chunks(item_ref, path, content)
        if item is None or item.id is None:
            raise GraphUnavailable("SharePoint stored the file but returned no item")
        return FiledDocument(item_id=item.id, web_url=item.web_url or "", path=path)

    async def _upload_in_chunks(self, item_ref: Any, path: str, content: bytes) -> DriveItem | None:
        request = CreateUploadSessionPostRequestBody(
            item=DriveItemUploadableProperties(
                additional_data={"@microsoft.graph.conflictBehavior": "replace"},
                name=path.rsplit("/", 1)[-1],
            )
        )
        session = await _call(item_ref.create_upload_session.post(request))
        if session is None or not session.upload_url:
            raise GraphUnavailable("SharePoint gave no upload URL")
        # The upload URL is pre-authorised: it must be sent no bearer token.
        async with httpx.AsyncClient(
            verify=self.settings.ca_bundle or True, timeout=httpx.Timeout(60.0)
        ) as http:
            total = len(content)
            for start in range(0, total, UPLOAD_CHUNK):
                chunk = content[start : start + UPLOAD_CHUNK]
                end = start + len(chunk) - 1
                response = await _http_call(
                    http.put(
                        session.upload_url,
                        content=chunk,
                        headers={"Content-Range": f"bytes {start}-{end}/{total}"},
                    )
                )
                if response.status_code in (200, 201):
                    data = response.json()
                    return DriveItem(id=data.get("id"), web_url=data.get("webUrl"))
        raise GraphUnavailable("the upload session ended without a file")

    # --------------------------------------------------------------- tracker

    async def upsert(self, audit_id: str, fields: dict[str, Any]) -> str:
        items = (
            self.client.sites.by_site_id(self.settings.site_id)
            .lists.by_list_id(self.settings.tracker_list)
            .items
        )
        query = ItemsRequestBuilder.ItemsRequestBuilderGetQueryParameters(
            expand=["fields"], filter=f"fields/AuditId eq '{_odata_literal(audit_id)}'"
        )
        found = await self._json(
            items.to_get_request_information(RequestConfiguration(query_parameters=query))
        )
        existing = [
            i["id"] for i in found.get("value") or [] if isinstance(i, dict) and i.get("id")
        ]
        values = FieldValueSet(additional_data={"AuditId": audit_id, **fields})
        if existing:
            item_id = str(existing[0])
            fields_of = items.by_list_item_id(item_id).fields
            await self._json(fields_of.to_patch_request_information(values))
            return item_id
        created = await self._json(items.to_post_request_information(ListItem(fields=values)))
        if not created.get("id"):
            raise GraphUnavailable("SharePoint created a tracker item but returned no id")
        return str(created["id"])

    # ------------------------------------------------------------------ mail

    async def send(self, to: str, subject: str, body_html: str) -> None:
        sender = self.settings.mail_sender
        if not sender:
            raise GraphRejected("no AUDITBOT_MAIL_SENDER is set: e-mail cannot be sent")
        message = Message(
            subject=subject,
            body=ItemBody(content_type=BodyType.Html, content=body_html),
            to_recipients=[Recipient(email_address=EmailAddress(address=to))],
        )
        async with self.outlook.slot(sender):
            await _call(
                self.client.users.by_user_id(sender).send_mail.post(
                    SendMailPostRequestBody(message=message, save_to_sent_items=True)
                )
            )

    # ------------------------------------------------------------ app installs

    async def install_for(self, user: str) -> None:
        app_id = self.settings.teams_app_id
        if not app_id:
            raise GraphRejected("no AUDITBOT_TEAMS_APP_ID is set: the app cannot be installed")
        root = self.settings.graph_url.rstrip("/")
        installation = UserScopeTeamsAppInstallation(
            additional_data={"teamsApp@odata.bind": f"{root}/appCatalogs/teamsApps/{app_id}"}
        )
        try:
            await _call(
                self.client.users.by_user_id(user).teamwork.installed_apps.post(installation)
            )
        except GraphRejected as exc:
            if exc.status != 409:  # 409: already installed, which is what we wanted
                raise


_USER_FIELDS = "id,userPrincipalName,accountEnabled,displayName"


def _by_mail_url(address: str) -> str:
    """Users whose mail, or one of whose addresses (proxyAddresses), is this one. Entra
    compares addresses without regard to case; `smtp:` matches primary and aliases."""
    literal = _odata_literal(address)
    query = f"mail eq '{literal}' or proxyAddresses/any(x:x eq 'smtp:{literal}')"
    return f"/users?$filter={quote(query)}&$select={_USER_FIELDS}"


def _first_user(answer: dict[str, Any]) -> dict[str, Any]:
    """A collection's answer as a single user's: 200 with the one found, or 404."""
    if _status(answer) != 200:
        return answer
    users = (answer.get("body") or {}).get("value") or []
    if not users:
        return {**answer, "status": 404, "body": {}}
    return {**answer, "body": users[0]}


def _status(answer: dict[str, Any] | None) -> int:
    return int(answer.get("status") or 0) if answer else 0


def _directory_user(upn: str, answer: dict[str, Any] | None) -> DirectoryUser | None:
    if answer is None:
        raise GraphUnavailable(f"the batch answer has nothing for {upn}")
    status = int(answer.get("status") or 0)
    if status == 404:
        return None
    if status >= 400:
        raise _translate(status, answer.get("headers") or {}, None, f"looking up {upn}")
    data = answer.get("body") or {}
    if not data.get("id"):
        return None
    return DirectoryUser(
        id=str(data["id"]),
        upn=str(data.get("userPrincipalName") or upn).lower(),
        enabled=data.get("accountEnabled") is not False,
        display_name=str(data.get("displayName") or ""),
    )


def _tls(ca_bundle: str | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


def _odata_literal(value: str) -> str:
    return value.replace("'", "''")


def _event(event: CalendarEvent) -> Event:
    return Event(
        subject=event.subject,
        body=ItemBody(content_type=BodyType.Html, content=event.body_html),
        start=DateTimeTimeZone(date_time=_naive_utc(event.start), time_zone="UTC"),
        end=DateTimeTimeZone(date_time=_naive_utc(event.end), time_zone="UTC"),
        is_reminder_on=True,
        reminder_minutes_before_start=event.reminder_minutes,
        categories=[event.category],
        show_as=FreeBusyStatus.Free,
    )


def _naive_utc(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%S")


async def _call(awaitable: Awaitable[T]) -> T:
    """Runs one SDK call and turns its failures into our error types."""
    try:
        return await awaitable
    except APIError as exc:
        raise _translate(
            exc.response_status_code, exc.response_headers or {}, _code(exc), str(exc)
        ) from exc
    except httpx.TimeoutException as exc:
        raise GraphUnavailable(f"Graph did not answer in time: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise GraphUnavailable(f"cannot reach Graph: {type(exc).__name__}: {exc}") from exc


async def _http_call(awaitable: Awaitable[httpx.Response]) -> httpx.Response:
    try:
        response = await awaitable
    except httpx.TransportError as exc:
        raise GraphUnavailable(f"cannot reach SharePoint: {type(exc).__name__}") from exc
    if response.status_code >= 400:
        raise _translate(
            response.status_code,
            dict(response.headers),
            None,
            f"upload failed: {response.text[:200]}",
        )
    return response


def _code(exc: APIError) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None) if error is not None else None


def _translate(status: int | None, headers: Any, code: str | None, message: str) -> GraphError:
    retry_after = _retry_after(headers)
    text = f"{status} {code or ''}: {message}".strip()
    if status in (429, 503):
        return GraphThrottled(text, status, code, retry_after)
    if status is None or status >= 500 or status == 408:
        return GraphUnavailable(text, status, code, retry_after)
    if status == 404:
        return GraphNotFound(text, status, code)
    return GraphRejected(text, status, code)


def _retry_after(headers: Any) -> float | None:
    value = None
    for key in ("Retry-After", "retry-after"):
        if headers and key in headers:
            value = headers[key]
            break
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
