"""Abuse of the bot endpoint: forged and stale tokens, other tenants, junk activities and
card data, and typed markup. Everything goes through the real aiohttp endpoint; the
only stand-ins are at the network edge (a Bot Framework token issuer, a Bot Connector)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import docx
import jwt
import pytest
import sqlalchemy as sa
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from application.inputs import MAX_FIELD
from auditbot.app import App
from audits import commands as c
from audits.model import Audit
from bot import signing_keys
from bot.handler import AuditBot
from bot.server import BotCredentials, create_web_app, make_adapter
from cards.actions import Card, Verb
from reports.audit_document import render_audit_document
from store import contacts, idempotency, schema, trail, typed_answers
from tests.support.council import DIRECTORY, allocate_sample
from tests.support.factories import fill_audit
from tests.support.fake_connector import FakeConnector
from tests.support.people import AUDITOR, IRO, MOD, QA_MANAGER, QA_OFFICER, STRANGER
from tests.support.teams import TENANT, object_id

APP_ID = "00000000-0000-0000-0000-00000000b0e7"
BOT_FRAMEWORK = "https://api.botframework.com"

# What people type that a renderer could take for formatting or code.
MARKUP = (
    "${child.name} {{DATE(2026-11-02T09:00:00Z, SHORT)}} <script>alert(1)</script> "
    "**bold** _it_ [link](http://x) # heading <b>html</b>"
)
# Tables whose rows only the people's own actions may change: audits and all that hangs
# off them. Turns may still store a conversation, a refusal, or a question awaiting text.
AUDIT_TABLES = sorted(
    t.name
    for t in schema.metadata.sorted_tables
    if t.name not in ("conversations", "refusals", "awaiting_text")
)


# ------------------------------------------------------------- network edges


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey
    endorsements: tuple[str, ...] = ("msteams",)

    @classmethod
    def new(cls, kid: str, endorsements: tuple[str, ...] = ("msteams",)) -> SigningKey:
        return cls(
            kid, rsa.generate_private_key(public_exponent=65537, key_size=2048), endorsements
        )

    def jwk(self) -> dict[str, Any]:
        found: dict[str, Any] = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return found | {"kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)}


class Issuer:
    """Plays the Bot Framework's token issuer: OpenID metadata and the JWKS it points to.

    Served from its own thread, so that it stands apart from the bot's event loop, as
    the real one does.
    """

    def __init__(self) -> None:
        self.trusted = SigningKey.new("trusted")
        self.not_for_teams = SigningKey.new("webchat-only", endorsements=("webchat",))
        self.unknown = SigningKey.new("unknown")  # never published
        keys = {"keys": [self.trusted.jwk(), self.not_for_teams.jwk()]}
        issuer = self
        # "ok"; "hold": the metadata waits until `release` is set; "fail": it answers 500.
        self.mode, self.release, self.metadata_fetches = "ok", threading.Event(), 0
        self.fetching = threading.Event()  # set at the first metadata request
        self.holding = False  # a metadata request is being held ("hold")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.endswith("openidconfiguration"):
                    issuer.metadata_fetches += 1
                    issuer.fetching.set()
                    if issuer.mode == "hold":
                        issuer.holding = True
                        issuer.release.wait(60)
                        issuer.holding = False
                    if issuer.mode == "fail":
                        self.send_response(500)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                documents = {
                    "/v1/.well-known/openidconfiguration": {
                        "issuer": BOT_FRAMEWORK,
                        "jwks_uri": f"{issuer.base}/v1/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                    "/v1/keys": keys,
                }
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.metadata_url = f"{self.base}/v1/.well-known/openidconfiguration"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def token(self, service_url: str, key: SigningKey | None = None, **claims: Any) -> str:
        """A token as the Bot Connector sends it; `claims` override or (None) remove."""
        key = key or self.trusted
        now = int(time.time())
        payload = {
            "iss": BOT_FRAMEWORK,
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
        } | claims
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key.private, algorithm="RS256", headers={"kid": key.kid})

    def unsigned(self, service_url: str) -> str:
        """The same claims with `alg: none` and no signature."""
        header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": self.trusted.kid}).encode())
        body = self.token(service_url).split(".")[1]
        return f"{header}.{body}."


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    running = Issuer()
    running.thread.start()
    yield running
    running.http.shutdown()
    running.http.server_close()


@contextlib.asynccontextmanager
async def endpoint(app: App, credentials: BotCredentials) -> AsyncIterator[str]:
    """The bot's real web app, built as `auditbot serve` builds it, minus the outbox runner
    (which would write to the database on its own)."""
    adapter = make_adapter(credentials)
    bot = AuditBot(app.services, frozenset({TENANT}), adapter)
    runner = web.AppRunner(create_web_app(adapter, bot))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/messages"  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


class Teams:
    """Plays Teams: posts activities, with or without a token."""

    def __init__(self, url: str, connector: FakeConnector) -> None:
        self.url, self.connector, self.n = url, connector, 0

    def activity(self, who: str | None, tenant: str = TENANT, **fields: Any) -> dict[str, Any]:
        self.n += 1
        sender: dict[str, Any] = {"id": f"29:{who}", "name": "Someone"}
        if who is not None:
            sender["aadObjectId"] = object_id(who)
        return {
            "id": f"act-{self.n}",
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": sender,
            "conversation": {
                "id": f"a:{who}",
                "conversationType": "personal",
                "tenantId": tenant,
            },
            "recipient": {"id": f"28:{APP_ID}", "name": "auditbot"},
            "channelData": {"tenant": {"id": tenant}},
            "locale": "en-GB",
            "timestamp": "2026-11-02T09:00:00.000Z",
            **fields,
        }

    def execute(
        self, who: str | None, data: Any, card_id: str = "card-1", **fields: Any
    ) -> dict[str, Any]:
        verb = data.get("verb") if isinstance(data, dict) else None
        return self.activity(
            who,
            type="invoke",
            name="adaptiveCard/action",
            replyToId=card_id,
            value={"action": {"type": "Action.Execute", "verb": verb, "data": data}},
            **fields,
        )

    async def post(self, body: Any = None, token: str | None = None, raw: bytes | None = None):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = token
        data = raw if raw is not None else json.dumps(body).encode()
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, data=data, headers=headers) as response,
        ):
            text = await response.text()
            return response.status, (json.loads(text) if text.startswith("{") else text)


async def _rows(app: App, tables: list[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (or of `tables`), to compare before and after."""
    async with app.db.reading() as conn:
        return {
            t.name: sorted(
                (tuple(map(repr, r)) for r in (await conn.execute(sa.select(t))).all()),
            )
            for t in schema.metadata.sorted_tables
            if tables is None or t.name in tables
        }


# ------------------------------------------------------------- authentication

BAD_TOKENS = [
    "missing",
    "not bearer",
    "not a jwt",
    "alg none",
    "signature stripped",
    "expired",
    "not yet valid",
    "wrong audience",
    "no audience",
    "wrong issuer",
    "unknown key",
    "forged with a trusted key id",
    "key not endorsed for teams",
    "another service url",
]


def bad_header(case: str, issuer: Issuer, service_url: str) -> str | None:
    def bearer(token: str) -> str:
        return f"Bearer {token}"

    now = int(time.time())
    match case:
        case "missing":
            return None
        case "not bearer":
            return f"Basic {issuer.token(service_url)}"
        case "not a jwt":
            return "Bearer not.a.jwt"
        case "alg none":
            return bearer(issuer.unsigned(service_url))
        case "signature stripped":
            header, body, _ = issuer.token(service_url).split(".")
            return bearer(f"{header}.{body}.")
        case "expired":
            return bearer(issuer.token(service_url, exp=now - 3600, nbf=now - 7200))
        case "not yet valid":
            return bearer(issuer.token(service_url, nbf=now + 3600, exp=now + 7200))
        case "wrong audience":
            return bearer(issuer.token(service_url, aud="11111111-2222-3333-4444-555555555555"))
        case "no audience":
            return bearer(issuer.token(service_url, aud=None))
        case "wrong issuer":
            return bearer(issuer.token(service_url, iss="https://sts.evil.example/"))
        case "unknown key":
            return bearer(issuer.token(service_url, key=issuer.unknown))
        case "forged with a trusted key id":
            forged = SigningKey(issuer.trusted.kid, issuer.unknown.private)
            return bearer(issuer.token(service_url, key=forged))
        case "key not endorsed for teams":
            return bearer(issuer.token(service_url, key=issuer.not_for_teams))
        case "another service url":
            return bearer(issuer.token("https://smba.evil.example/"))
    raise AssertionError(case)


def credentials(app_type: str, issuer: Issuer) -> BotCredentials:
    return BotCredentials(
        APP_ID=APP_ID,
        APP_PASSWORD="not-used-by-these-tests",
        APP_TYPE=app_type,
        APP_TENANTID=TENANT if app_type == "SingleTenant" else "",
        OPENID_METADATA_URL=issuer.metadata_url,
    )


def _iro_comments(teams: Teams, audit: Audit) -> dict[str, Any]:
    """A card action that writes: the IRO/CP chair's comments, answered in the HTTP reply."""
    data = {"verb": Verb.IRO_COMMENTS.value, "audit_id": audit.id, "comments": "On track."}
    return teams.execute(IRO, data, card_id="iro-card")


@pytest.mark.parametrize("app_type", ["SingleTenant", "MultiTenant"])
@pytest.mark.parametrize("case", BAD_TOKENS)
async def test_a_request_without_a_good_token_is_refused_and_changes_nothing(
    app: App, connector: FakeConnector, issuer: Issuer, app_type: str, case: str
) -> None:
    [audit] = await allocate_sample(app.service, 1)
    before = await _rows(app)
    async with endpoint(app, credentials(app_type, issuer)) as url:
        teams = Teams(url, connector)
        status, body = await teams.post(
            _iro_comments(teams, audit), token=bad_header(case, issuer, connector.url)
        )
    assert status == 401, body
    assert await _rows(app) == before  # no conversation, processed key, history or refusal
    assert connector.sent == []


@pytest.fixture
def own_issuer() -> Iterator[Issuer]:
    """An issuer of this test's own: its keys are fetched (and cached) afresh."""
    running = Issuer()
    running.thread.start()
    yield running
    running.release.set()
    running.http.shutdown()
    running.http.server_close()


async def test_a_slow_key_endpoint_holds_up_no_other_request(
    app: App, connector: FakeConnector, own_issuer: Issuer
) -> None:
    """While the signing keys are being fetched (the metadata endpoint hangs), the process
    still answers: /healthz, and the request waiting for the keys once they come."""
    own_issuer.mode = "hold"
    [audit] = await allocate_sample(app.service, 1)
    async with endpoint(app, credentials("SingleTenant", own_issuer)) as url:
        teams = Teams(url, connector)
        token = f"Bearer {own_issuer.token(connector.url)}"
        waiting = asyncio.create_task(teams.post(_iro_comments(teams, audit), token=token))
        assert await asyncio.to_thread(own_issuer.fetching.wait, 20)
        health = url.replace("/api/messages", "/healthz")
        timeout = aiohttp.ClientTimeout(total=20)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(health) as r:
            assert r.status == 200  # answered while the key fetch is still held
        assert own_issuer.holding and not waiting.done()  # the fetch is still held
        own_issuer.mode = "ok"
        own_issuer.release.set()
        status, body = await waiting
    assert status == 200, body
    assert own_issuer.metadata_fetches == 1


async def test_a_failing_key_endpoint_is_asked_once_and_requests_are_refused_at_once(
    app: App, connector: FakeConnector, own_issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The metadata endpoint fails: eight requests at once share one fetch, each gets
    503 (to be sent again) and changes nothing; once it is back, requests are served."""
    monkeypatch.setattr(signing_keys, "FAILURE_PAUSE", 0.5)
    own_issuer.mode = "fail"
    [audit] = await allocate_sample(app.service, 1)
    before = await _rows(app)
    async with endpoint(app, credentials("SingleTenant", own_issuer)) as url:
        teams = Teams(url, connector)
        token = f"Bearer {own_issuer.token(connector.url)}"
        answers = await asyncio.gather(
            *(teams.post(_iro_comments(teams, audit), token=token) for _ in range(8))
        )
        assert [status for status, _ in answers] == [503] * 8, answers
        assert own_issuer.metadata_fetches == 1
        assert await _rows(app) == before and connector.sent == []
        own_issuer.mode = "ok"
        await asyncio.sleep(0.6)
        status, body = await teams.post(_iro_comments(teams, audit), token=token)
    assert status == 200, body
    assert own_issuer.metadata_fetches == 2


@pytest.mark.parametrize("case", ["webchat", "directline", "no channel", "not teams' connector"])
async def test_only_teams_activities_act_for_a_person(
    app: App, connector: FakeConnector, issuer: Issuer, case: str
) -> None:
    """A token validly signed by a key endorsed for another channel (here Web Chat), or a
    Teams activity whose serviceUrl is not Teams' connector, writes nothing in anyone's
    name: 403, nothing stored, nothing sent."""
    [audit] = await allocate_sample(app.service, 1)
    before = await _rows(app)
    async with endpoint(app, credentials("SingleTenant", issuer)) as url:
        teams = Teams(url, connector)
        activity = _iro_comments(teams, audit)
        service_url, key = connector.url, issuer.not_for_teams
        match case:
            case "webchat" | "directline":
                activity["channelId"] = case
            case "no channel":
                del activity["channelId"]
            case _:
                service_url, key = "https://smba.evil.example/teams/", issuer.trusted
                activity["serviceUrl"] = service_url
        token = f"Bearer {issuer.token(service_url, key=key)}"
        status, body = await teams.post(activity, token=token)
    assert status == 403, body
    assert await _rows(app) == before
    assert connector.sent == []
    assert [c.text for c in (await app.service.get(audit.id)).iro_comments] == []


@pytest.mark.parametrize("app_type", ["SingleTenant", "MultiTenant"])
async def test_a_correctly_signed_request_is_served(
    app: App, connector: FakeConnector, issuer: Issuer, app_type: str
) -> None:
    [audit] = await allocate_sample(app.service, 1)
    async with endpoint(app, credentials(app_type, issuer)) as url:
        teams = Teams(url, connector)
        token = f"Bearer {issuer.token(connector.url)}"
        status, body = await teams.post(_iro_comments(teams, audit), token=token)
        assert status == 200, body
        assert body["type"] == "application/vnd.microsoft.card.adaptive", body
        # The same token and card again: authenticated, but applied once.
        status, again = await teams.post(_iro_comments(teams, audit), token=token)
        assert status == 200 and again["value"] == "That card has already been saved.", again
    assert [c.text for c in (await app.service.get(audit.id)).iro_comments] == ["On track."]
    async with app.db.reading() as conn:
        assert await contacts.conversation_of(conn, IRO) is not None
        assert await idempotency.was_processed(conn, f"card:a:{IRO}:iro-card:iro_comments")


async def test_a_signed_request_from_another_tenant_is_not_served(
    app: App, connector: FakeConnector, issuer: Issuer
) -> None:
    [audit] = await allocate_sample(app.service, 1)
    before = await _rows(app)
    async with endpoint(app, credentials("MultiTenant", issuer)) as url:
        teams = Teams(url, connector)
        foreign = _iro_comments(teams, audit)
        foreign["conversation"]["tenantId"] = foreign["channelData"]["tenant"]["id"] = "evil"
        status, body = await teams.post(foreign, token=f"Bearer {issuer.token(connector.url)}")
    assert status == 200 and body["statusCode"] == 403, body
    assert await _rows(app) == before
    assert connector.sent == []


# ---------------------------------------------------------------- other tenants


@pytest.fixture
async def anonymous(app: App, connector: FakeConnector) -> AsyncIterator[Teams]:
    """No app id: unauthenticated, as with a local client such as the Agents Playground."""
    async with endpoint(app, BotCredentials()) as url:
        yield Teams(url, connector)


async def test_another_tenant_is_refused_and_nothing_is_written(
    app: App, connector: FakeConnector, anonymous: Teams
) -> None:
    [audit] = await allocate_sample(app.service, 1)
    teams = anonymous
    before = await _rows(app)
    activities = [
        teams.activity(AUDITOR, tenant="evil", type="installationUpdate", action="add"),
        teams.activity(AUDITOR, tenant="evil", type="message", text="my audits"),
        teams.activity(
            IRO,
            tenant="evil",
            type="message",
            value={"verb": Verb.IRO_COMMENTS.value, "audit_id": audit.id, "comments": "x"},
            replyToId="card-1",
        ),
    ]
    for activity in activities:
        status, body = await teams.post(activity)
        assert status in (200, 201), body
    status, body = await teams.post(_iro_comments(teams, audit) | _tenant("evil"))
    assert status == 200 and body["statusCode"] == 403, body
    # The tenant is the one channelData names, as Teams sends it: an activity naming
    # one only in its conversation is not served, not even for the allowed tenant.
    for tenant in ("evil", TENANT):
        no_channel_data = teams.activity(AUDITOR, tenant=tenant, type="message", text="help")
        del no_channel_data["channelData"]
        assert (await teams.post(no_channel_data))[0] in (200, 201)
    # The code refuses other tenants before anything is stored: not even a refusal row
    # (the person is unknown to us: nothing to attribute it to).
    assert await _rows(app) == before
    assert connector.sent == []


def _tenant(tenant: str) -> dict[str, Any]:
    return {
        "conversation": {"id": f"a:{IRO}", "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
    }


# --------------------------------------------------------------------- fuzzing

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
HUGE = st.sampled_from(["x" * 20_000, "é" * 11_000, "\u0000" * 100, "\ud83d\ude00" * 5_000])
DATA_KEYS = [
    "section",
    "grade",
    "evidence",
    "impact",
    "comments",
    "decision",
    "reason",
    "action",
    "card",
    "outcome",
    "notes",
    "plan",
    "owner",
    "text",
    "due",
    "summary",
    "sought_from",
    "not_sought_reason",
    "grade_reason",
    "q.practitioner",
    "q.audited_previously",
]
SECTIONS = ["risk", "identity", "plans", "overall", "no-such-section", ""]


@st.composite
def card_data(draw: st.DrawFn, audit_ids: list[str]) -> Any:
    """What a card submit may carry: anything, but mostly near what our cards send."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    data: dict[str, Any] = {}
    odd = draw(st.integers(0, 3)) == 0  # a quarter of the time, odd verbs and ids
    data["verb"] = draw(
        st.sampled_from(["delete_audit", "", "ANSWER_SECTION", "answer_section "]) | JSON
        if odd
        else st.sampled_from([v.value for v in Verb])
    )
    if draw(st.integers(0, 5)):
        data["audit_id"] = draw(
            st.sampled_from(["202611-999", "../etc/passwd", "", "' OR 1=1 --"]) | JSON
            if odd
            else st.sampled_from(audit_ids)
        )
    for key in draw(st.lists(st.sampled_from(DATA_KEYS), max_size=5, unique=True)):
        data[key] = draw(
            st.sampled_from(SECTIONS)
            | st.sampled_from(["good", "inadequate", "agree", "regrade", "1", "section"])
            | st.text(max_size=40)
            | (HUGE | JSON if draw(st.integers(0, 2)) == 0 else st.nothing())
        )
    return data


ACTORS = [STRANGER, AUDITOR, "nobody@elsewhere.example", None]  # AUDITOR: not on audit 2


@st.composite
def activities(draw: st.DrawFn, teams: Teams, audit_ids: list[str]) -> dict[str, Any]:
    who = draw(st.sampled_from(ACTORS))
    data = draw(card_data(audit_ids))
    shape = draw(
        st.sampled_from(
            ["execute", "execute", "submit", "submit", "invoke junk", "text", "mangled"]
        )
    )
    if shape == "execute":
        activity = teams.execute(who, data, card_id=f"card-{draw(st.integers(0, 3))}")
    elif shape == "submit":
        activity = teams.activity(who, type="message", value=data, replyToId="card-1")
    elif shape == "invoke junk":
        activity = teams.activity(
            who,
            type="invoke",
            name=draw(st.sampled_from(["adaptiveCard/action", "task/fetch", "", "x" * 500])),
            value=draw(JSON | st.fixed_dictionaries({"action": JSON})),
        )
    elif shape == "text":
        text = draw(st.sampled_from(["help", "my audits", "resume", "status 1234567"]) | JSON)
        activity = teams.activity(who, type="message", text=text)
    else:
        activity = teams.execute(who, data)
        for key in draw(
            st.lists(
                st.sampled_from(
                    [
                        "from",
                        "conversation",
                        "recipient",
                        "channelData",
                        "id",
                        "value",
                        "serviceUrl",
                        "replyToId",
                        "name",
                        "channelId",
                        "timestamp",
                    ]
                ),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ):
            activity[key] = draw(JSON)
    return activity


def _expects_refusal(activity: dict[str, Any], audit_ids: list[str]) -> bool:
    """Whether the bot must log a refusal: a known person asking, whatever else the data
    says, to open or change an audit they hold no role on (every fuzzed actor is such one)."""
    sender = activity.get("from")
    if not (isinstance(sender, dict) and sender.get("aadObjectId") in _KNOWN):
        return False
    if activity.get("channelId") != "msteams":  # refused before anyone is looked up
        return False
    channel_data = activity.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    if not (isinstance(tenant, dict) and tenant.get("id") == TENANT):
        return False  # not the allowed tenant (as channelData names it): refused unseen
    if activity.get("type") == "invoke" and activity.get("name") == "adaptiveCard/action":
        value = activity.get("value")
        action = value.get("action") if isinstance(value, dict) else None
        data = action.get("data") if isinstance(action, dict) else None
    elif activity.get("type") == "message" and isinstance(activity.get("value"), dict):
        data = activity["value"]
    else:
        return False
    if not isinstance(data, dict) or not data.get("verb"):
        return False
    try:
        verb = Verb(str(data["verb"]))
    except ValueError:
        return False
    if verb in QA_VIEWS:  # the tracker and an audit's details: QA staff only, any audit id
        return sender.get("aadObjectId") not in _QA
    return data.get("audit_id") in audit_ids and verb not in (Verb.HELP, Verb.MY_AUDITS)


QA_VIEWS = (Verb.TRACKER_PAGE, Verb.AUDIT_DETAILS)
_QA = {object_id(QA_MANAGER), object_id(QA_OFFICER)}


_KNOWN = {object_id(p) for p in DIRECTORY}


class Target:
    """What the fuzzer aims at (a short repr: hypothesis prints it with each failure)."""

    def __init__(self, app: App, teams: Teams, audit_id: str) -> None:
        self.app, self.teams = app, teams
        self.audit_id = audit_id  # alex.atm's audit: AUDITOR and the stranger hold no role on it

    def __repr__(self) -> str:
        return f"Target(audit_id={self.audit_id!r})"


@pytest.fixture
async def target(app: App, anonymous: Teams) -> Target:
    [audit] = await allocate_sample(app.service, 2)
    return Target(app, anonymous, audit.id)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_junk_activities_and_card_data_never_fail_or_write(
    target: Target, data: st.DataObject
) -> None:
    app, teams, audit_id = target.app, target.teams, target.audit_id
    activity = data.draw(activities(teams, [audit_id]), label="activity")
    before = await _rows(app, AUDIT_TABLES)
    async with app.db.reading() as conn:
        refused_before = len(await trail.refusal_rows(conn))
    status, body = await teams.post(activity)
    event(f"HTTP {status}")
    assert status < 500, body
    assert await _rows(app, AUDIT_TABLES) == before
    async with app.db.reading() as conn:
        refused = (await trail.refusal_rows(conn))[refused_before:]
    # A 400 is a body refused at the door (not an activity as Teams sends it): the bot
    # never ran. Otherwise a person with no role on the audit leaves a refusal behind.
    if status != 400 and _expects_refusal(activity, [audit_id]):
        event("refused for want of a role")
        sent = _card_data(activity)
        [row] = refused
        refused_on = (
            str(sent.get("audit_id") or "")[:32] or None
            if sent["verb"] in {v.value for v in QA_VIEWS}
            else audit_id
        )
        assert (row.actor, row.audit_id, row.action) == (
            _upn(activity),
            refused_on,
            str(sent["verb"]),
        )
    else:
        assert refused == []


def _card_data(activity: dict[str, Any]) -> dict[str, Any]:
    if activity["type"] == "invoke":
        found: dict[str, Any] = activity["value"]["action"]["data"]
        return found
    value: dict[str, Any] = activity["value"]
    return value


def _upn(activity: dict[str, Any]) -> str:
    return next(p for p in DIRECTORY if object_id(p) == activity["from"]["aadObjectId"])


async def test_malformed_bodies_are_refused_without_a_500(anonymous: Teams) -> None:
    teams = anonymous
    deep = b'{"type": "message", "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for raw in (
        deep,
        b'{"type": "message", "value": {"verb": "help", "x": ' + b"[" * 100 + b"]" * 100 + b"}}",
        b'{"type": "message", "text": "' + b"x" * 300_000 + b'"}',
        b"\xff\xfe not utf-8",
        b'{"type": "message", "text": "\\ud800"}',
        b"null",
        b'{"type": 5}',
        b'{"type": "invoke", "name": "adaptiveCard/action", "value": []}',
    ):
        status, _ = await teams.post(raw=raw)
        assert status < 500, raw[:80]
    # Envelopes no Bot Connector sends: refused before the bot runs, so an invoke
    # never goes unanswered because the answer had nowhere to go.
    execute = teams.execute(STRANGER, {"verb": "help"})
    for broken in (
        {"serviceUrl": [{"a": 1}]},
        {"serviceUrl": None},
        {"serviceUrl": "file:///etc/passwd"},
        {"conversation": {}},
        {"conversation": None},
        {"id": {}},
        {"replyToId": 5},
        {"from": "someone"},
        {"from": {"id": "29:x", "aadObjectId": ["not", "text"]}},
        {"channelData": []},
    ):
        status, body = await teams.post(execute | broken)
        assert status == 400, (broken, body)


async def test_a_stranger_cannot_open_someone_elses_audit(
    app: App, connector: FakeConnector, anonymous: Teams
) -> None:
    [audit] = await allocate_sample(app.service, 1)
    template = app.catalog.template(audit.template)
    await fill_audit(app.service, audit.id, AUDITOR, template)
    secret = "Case notes, assessment and plan"  # the evidence fill_audit writes
    teams = anonymous
    asks = [
        {"verb": Verb.OPEN_AUDIT.value, "audit_id": audit.id},
        {"verb": Verb.START_AUDIT.value, "audit_id": audit.id},
        {"verb": Verb.REVIEW.value, "audit_id": audit.id},
    ] + [
        {
            "verb": Verb.OPEN_AUDIT.value,
            "audit_id": audit.id,
            "card": card.value,
            "section": "risk",
            "action": "1",
        }
        for card in Card
    ]
    # Nor save into it: with good data, with data too long (refused as not theirs,
    # not as too long), or by typing in chat.
    save = {"verb": Verb.ANSWER_SECTION.value, "audit_id": audit.id, "section": "risk"}
    saves = [
        save | {"grade": "inadequate", "evidence": "A stranger's view.", "impact": "None."},
        save | {"grade": "good", "q.risks_addressed": "x" * (MAX_FIELD + 1)},
        {
            "verb": Verb.TYPE_ANSWER.value,
            "audit_id": audit.id,
            "section": "risk",
            "field": "evidence",
        },
    ]
    before = (await app.service.get(audit.id)).answers
    for data in asks + saves:
        status, body = await teams.post(teams.execute(STRANGER, data))
        assert status == 200, body
        assert body["type"] == "application/vnd.microsoft.activity.message", (data, body)
        assert body["value"] == f"Only the people named on audit {audit.id} can open it", body
    assert (await app.service.get(audit.id)).answers == before
    assert not any(
        secret in json.dumps(s.body) or audit.child_id in json.dumps(s.body) for s in connector.sent
    )
    async with app.db.reading() as conn:
        refused = await trail.refusal_rows(conn)
        # Nor is the stranger's next message taken as the IRO/CP chair's comments.
        assert await typed_answers.awaited_text(conn, STRANGER) is None
    assert [(r.actor, r.audit_id, r.action) for r in refused] == [
        (STRANGER, audit.id, data["verb"]) for data in asks + saves
    ]
    # The people on the audit still open it.
    status, body = await teams.post(teams.execute(AUDITOR, asks[-1] | {"card": "section"}))
    assert status == 200 and body["value"] == "Opened below.", body
    assert secret in json.dumps(connector.sent[-1].body)


# --------------------------------------------------------------- typed markup


def _of_type(node: Any, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith(prefix):
            found.append(node)
        for value in node.values():
            found += _of_type(value, prefix)
    elif isinstance(node, list):
        for value in node:
            found += _of_type(value, prefix)
    return found


def _shown(card: dict[str, Any]) -> list[str]:
    """The texts a card shows for reading; fails if any could be read as Markdown."""
    assert not _of_type(card, "TextBlock") and not _of_type(card, "FactSet")
    texts = [run["text"] for run in _of_type(card, "TextRun")]
    for text in texts:
        assert "${" not in text and "{{" not in text, text
    return [t.replace("\u2060", "") for t in texts]


async def test_typed_markup_is_shown_as_typed_in_cards_and_in_the_document(
    app: App, connector: FakeConnector, anonymous: Teams
) -> None:
    [audit] = await allocate_sample(app.service, 1)
    template = app.catalog.template(audit.template)
    await fill_audit(app.service, audit.id, AUDITOR, template)
    teams = anonymous

    answer = {
        "verb": Verb.ANSWER_SECTION.value,
        "audit_id": audit.id,
        "section": "risk",
        "grade": "good",
        "evidence": MARKUP,
        "impact": f"Impact: {MARKUP}",
    }
    status, receipt = await teams.post(teams.execute(AUDITOR, answer, card_id="risk-card"))
    assert status == 200 and receipt["type"] == "application/vnd.microsoft.card.adaptive"
    # The receipt echoes no typed text at all; the cards that show it show it as typed.
    assert "alert(1)" not in json.dumps(receipt["value"])

    await app.service.execute(AUDITOR, audit.id, c.Submit())
    status, _ = await teams.post(
        teams.execute(
            MOD,
            {"verb": "open_audit", "audit_id": audit.id, "card": "moderation", "section": "risk"},
        )
    )
    assert status == 200
    moderation = connector.sent[-1].card
    assert moderation is not None and MARKUP in _shown(moderation)

    submitted = await app.service.get(audit.id)
    document = docx.Document(io.BytesIO(render_audit_document(submitted, template, "submitted")))
    words = [p.text for p in document.paragraphs] + [
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    ]
    # python-docx writes text literally: no Markdown, HTML or field codes are interpreted.
    assert any(MARKUP in w for w in words)
    assert any(f"Impact: {MARKUP}" in w for w in words)
