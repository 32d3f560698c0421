"""The aiohttp app: POST /api/messages through botbuilder's CloudAdapter, GET /healthz."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    CertificateServiceClientCredentialsFactory,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)

from bot import patches
from bot.handler import AuditBot
from bot.signing_keys import FAILURE_PAUSE, KeysUnavailable

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # an activity carrying a card submit is far below this
# Activities and card data are a few levels deep; botbuilder and msrest walk them
# recursively, so a deeply nested body would end in a RecursionError.
MAX_DEPTH = 64


@dataclass(frozen=True)
class BotCredentials:
    """The Azure Bot registration. No app id: anonymous, for local clients only."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "SingleTenant"
    APP_TENANTID: str = ""
    # Where the Bot Connector publishes the keys that sign its requests; empty for
    # Microsoft's own. Tests point it at a local issuer; production leaves it empty.
    OPENID_METADATA_URL: str = ""
    # Where the bot's own token for the Bot Connector is fetched; empty for Microsoft's
    # (login.microsoftonline.com). Tests point it at a local port.
    LOGIN_URL: str = ""
    # A certificate instead of APP_PASSWORD (botbuilder's certificate app credentials):
    # its private key and certificate, PEM, and its SHA-1 thumbprint.
    CERTIFICATE_PRIVATE_KEY: str = ""
    CERTIFICATE_PUBLIC: str = ""
    CERTIFICATE_THUMBPRINT: str = ""


def _credentials_factory(credentials: BotCredentials) -> ServiceClientCredentialsFactory | None:
    """botbuilder's certificate factory when the bot has a certificate; None leaves the
    choice to botbuilder's configuration (password, or UserAssignedMSI's managed identity)."""
    if not credentials.CERTIFICATE_PRIVATE_KEY:
        return None
    return CertificateServiceClientCredentialsFactory(
        credentials.CERTIFICATE_THUMBPRINT,
        credentials.CERTIFICATE_PRIVATE_KEY,
        credentials.APP_ID,
        credentials.APP_TENANTID if credentials.APP_TYPE == "SingleTenant" else None,
        credentials.CERTIFICATE_PUBLIC or None,
    )


@dataclass(frozen=True)
class _PublicCloud:
    """botbuilder's "parameterized" configuration: once one endpoint is given, all must be.

    Every value is the public cloud's, as botbuilder's built-in default uses, except
    where the channel's signing keys are published.
    """

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str = (
        AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
    )
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str = (
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
    )
    OAUTH_URL: str = AuthenticationConstants.OAUTH_URL
    CALLER_ID: str = CallerIdConstants.public_azure_channel
    VALIDATE_AUTHORITY: bool = True


class _Refusing(BotFrameworkAuthentication):
    """Any failure to authenticate a request is a 401.

    botbuilder turns only PermissionError into 401; a token that is expired, badly
    signed, signed by a key it has never seen, or not a JWT at all raises something
    else from PyJWT or from its key lookup, which would surface as a 500.
    """

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._clients: OrderedDict[tuple[str, str, str | None], ConnectorClient] = OrderedDict()
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except (PermissionError, KeysUnavailable):
            raise
        except Exception as exc:
            log.warning("refused a request whose token is not valid: %s", type(exc).__name__)
            raise PermissionError("the request's token is not valid") from exc
        if result.connector_factory is not None:  # the client for replies within the turn
            result.connector_factory = self._shared(
                result.connector_factory, result.claims_identity
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        try:
            return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)
        except PermissionError:
            raise
        except Exception as exc:
            raise PermissionError("the request's token is not valid") from exc

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._shared(self._inner.create_connector_factory(claims_identity), claims_identity)

    def _shared(self, inner: ConnectorFactory, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        app_id = JwtTokenValidation.get_app_id_from_claims(claims_identity.claims) or ""
        return _SharedClients(inner, app_id, self._clients)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # Made for every turn and never used (the bot signs no one in), at the cost of
        # an HTTP session each time: one per app is kept.
        app_id = JwtTokenValidation.get_app_id_from_claims(claims_identity.claims) or ""
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            if len(self._token_clients) < _SharedClients.KEEP:
                self._token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> object:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        audience: str = self._inner.get_originating_audience()
        return audience

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        try:
            return await self._inner.authenticate_channel_request(auth_header)
        except PermissionError:
            raise
        except Exception as exc:
            raise PermissionError("the request's token is not valid") from exc


class _SharedClients(ConnectorFactory):
    """One Bot Connector client per app, service URL and audience, kept and reused.

    botbuilder makes a new client for every reply and proactive card, and never closes
    it: each builds an msrest configuration and an HTTP session that opens its own
    connection, which cost more CPU than the rest of a send and memory until collected.
    A client refreshes its own token, so keeping it is safe."""

    KEEP = 32  # service URLs in use are a handful (one per region)

    def __init__(
        self,
        inner: ConnectorFactory,
        app_id: str,
        clients: OrderedDict[tuple[str, str, str | None], ConnectorClient],
    ) -> None:
        self._inner, self._app_id, self._clients = inner, app_id, clients

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            patches.skip_client_side_validation(client)
            self._clients[key] = client
            while len(self._clients) > self.KEEP:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return client


def _authentication(credentials: BotCredentials) -> BotFrameworkAuthentication:
    if not credentials.APP_ID:
        log.warning(
            "MicrosoftAppId is not set: the bot accepts UNAUTHENTICATED requests. "
            "Use this only with a local client such as the Agents Playground."
        )
        # botbuilder allows an empty app id only for the multi-tenant type.
        anonymous = BotCredentials(APP_TYPE="MultiTenant")
        return _Refusing(ConfigurationBotFrameworkAuthentication(anonymous))
    factory = _credentials_factory(credentials)
    if not (credentials.OPENID_METADATA_URL or credentials.LOGIN_URL):
        return _Refusing(
            ConfigurationBotFrameworkAuthentication(credentials, credentials_factory=factory)
        )
    configuration = _PublicCloud(
        APP_ID=credentials.APP_ID,
        APP_PASSWORD=credentials.APP_PASSWORD,
        APP_TYPE=credentials.APP_TYPE,
        APP_TENANTID=credentials.APP_TENANTID,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=(
            credentials.OPENID_METADATA_URL
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        ),
        TO_CHANNEL_FROM_BOT_LOGIN_URL=(
            credentials.LOGIN_URL or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
        ),
    )
    return _Refusing(
        ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=factory)
    )


def make_adapter(credentials: BotCredentials) -> CloudAdapter:
    # The libraries' patches (bot.patches) go in before the first adapter: its
    # connector clients, serializer and key reader are the patched ones.
    patches.apply()
    adapter = CloudAdapter(_authentication(credentials))

    async def on_error(context, error: Exception) -> None:  # type: ignore[no-untyped-def]
        log.error("turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await context.send_activity(
                "Sorry, something went wrong. Nothing was lost; please try again."
            )
        except Exception:  # the connector itself may be what failed
            log.warning("could not tell the person that the turn failed")

    adapter.on_turn_error = on_error
    return adapter


def create_web_app(adapter: CloudAdapter, bot: AuditBot) -> web.Application:
    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "activity too large"}, status=413)
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return web.json_response({"error": "activity too large"}, status=413)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            log.warning("refused a request that is not JSON")
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if _too_deep(body):
            log.warning("refused a request nested too deep")
            return web.json_response({"error": "the activity is nested too deep"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            log.warning("refused a request that is not an activity")
            return web.json_response({"error": "the body is not an activity"}, status=400)
        problem = _envelope_problem(body)
        if problem:
            log.warning("refused a malformed activity: %s", problem)
            return web.json_response({"error": problem}, status=400)
        stranger = _not_teams(body)
        if stranger:
            log.warning("refused an activity that is not from Teams: %s", stranger)
            return web.json_response({"error": stranger}, status=403)
        try:
            response = await adapter.process(request, bot)
        except web.HTTPException as exc:
            return web.json_response({"error": exc.reason}, status=exc.status)
        except KeysUnavailable as exc:  # neither accepted nor refused: send it again later
            headers = {"Retry-After": str(int(FAILURE_PAUSE))}
            return web.json_response({"error": str(exc)}, status=503, headers=headers)
        except (TypeError, ValueError, KeyError, AttributeError):
            log.warning("refused a malformed activity", exc_info=True)
            return web.json_response({"error": "malformed activity"}, status=400)
        return response or web.Response(status=201)

    async def healthz(_: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def _too_deep(body: object) -> bool:
    """Whether JSON nests deeper than MAX_DEPTH (walked without recursion)."""
    level: list[object] = [body]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return any(isinstance(node, dict | list) for node in level)


# Envelope fields botbuilder relies on to answer: of another type, the turn would fail
# while answering (after the bot has run), or the invoke would get no answer at all.
_TEXT_FIELDS = ("id", "replyToId", "name", "channelId", "text", "locale", "action")
_OBJECT_FIELDS = ("from", "recipient", "channelData")


# Where Teams' Bot Connector lives: the public cloud and the US government clouds.
# Activities name it in `serviceUrl` and replies go there. Loopback is the Agents
# Playground's connector and the tests' (nothing there reaches a person).
# https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages
TEAMS_CONNECTOR_HOSTS = frozenset(
    {
        "smba.trafficmanager.net",
        "smba.infra.gcc.teams.microsoft.com",
        "smba.infra.gov.teams.microsoft.us",
        "smba.infra.dod.teams.microsoft.us",
    }
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _not_teams(body: dict[str, Any]) -> str | None:
    """Why an activity may not act for a person, or None: only Teams' own activities
    (`channelId` "msteams", sent from Teams' connector) carry a Teams user's identity.
    A token signed for another channel (Web Chat, Direct Line) proves nothing about
    `from.aadObjectId`."""
    if body.get("channelId") != "msteams":
        return (
            f"only Microsoft Teams may use this bot (channel '{str(body.get('channelId'))[:40]}')"
        )
    try:
        url = urlsplit(str(body.get("serviceUrl")))
        host = (url.hostname or "").lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return "the activity's serviceUrl is not a URL"
    if host in LOOPBACK_HOSTS or (url.scheme == "https" and host in TEAMS_CONNECTOR_HOSTS):
        return None
    return "the activity's serviceUrl is not Microsoft Teams' connector"


def _envelope_problem(body: dict[str, Any]) -> str | None:
    """Why an activity cannot be answered as Teams sends it, or None."""
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        return "'serviceUrl' must be an http(s) URL"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
        return "'conversation' must carry an id"
    for key in _TEXT_FIELDS:
        if body.get(key) is not None and not isinstance(body[key], str):
            return f"'{key}' must be text"
    for key in _OBJECT_FIELDS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            return f"'{key}' must be an object"
    sender = body.get("from") or {}
    if sender.get("aadObjectId") is not None and not isinstance(sender["aadObjectId"], str):
        return "'from.aadObjectId' must be text"
    return None
