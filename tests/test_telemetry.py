"""Traces and metrics: the use case, the outbox send, the Graph call and the timer fire make
spans (and duration metrics) that carry no answer text, name or address; checked with the
OpenTelemetry SDK's in-memory exporter and reader against the real app and the sandbox."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from auditbot.serve import serving
from audits import commands as c
from audits import telemetry
from tests.support.apps import started_app
from tests.support.council import allocate_sample
from tests.support.people import AUDITOR, IRO
from tests.support.teams import Teams

EXPORTER = InMemorySpanExporter()
READER = InMemoryMetricReader()


@pytest.fixture(scope="module", autouse=True)
def providers():
    # The global providers can be set once per process; the proxies made at import time
    # (audits.telemetry) follow them.
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))
    assert isinstance(trace.get_tracer_provider(), TracerProvider), "another test set one"


async def test_spans_and_metrics_carry_no_text_or_names(sandbox, tmp_path):
    EXPORTER.clear()
    comment = "Sam's mother says the visits stopped in March"
    async with started_app(tmp_path, sandbox.env()) as app:
        [audit] = await allocate_sample(app.service, 1)
        await app.dispatcher.drain()
        await app.service.execute(IRO, audit.id, c.AddIroComments(comment))
        await app.dispatcher.drain()
        app.service.clock.advance(timedelta(days=40))
        await app.runner.tick()
        await app.dispatcher.drain()
    spans = EXPORTER.get_finished_spans()
    names = {s.name for s in spans}
    for needed in (
        telemetry.USE_CASE,
        telemetry.OUTBOX_SEND,
        telemetry.GRAPH_CALL,
        telemetry.TIMER_FIRE,
    ):
        assert needed in names, (needed, names)
    cases = {s.attributes["auditbot.use_case"] for s in spans if s.name == telemetry.USE_CASE}
    assert {"Allocate", "AddIroComments"} <= cases
    sends = [s for s in spans if s.name == telemetry.OUTBOX_SEND]
    assert {s.attributes[telemetry.OUTCOME] for s in sends} >= {"sent"}
    assert {s.attributes["auditbot.channel"] for s in sends} >= {"graph"}
    calls = [s for s in spans if s.name == telemetry.GRAPH_CALL]
    assert all(
        s.attributes["auditbot.operation"].startswith(
            ("GET /", "POST /", "PATCH /", "PUT /", "DELETE /")
        )
        for s in calls
    )
    assert any(s.attributes["auditbot.operation"] == "POST /v1.0/users/{}/events" for s in calls)
    fired = [s for s in spans if s.name == telemetry.TIMER_FIRE]
    assert {s.attributes[telemetry.OUTCOME] for s in fired} & {"fired", "superseded", "cancelled"}

    everything = json.dumps(
        [dict(s.attributes or {}) | {"name": s.name} for s in spans]
        + [
            dict(point.attributes)
            for rm in READER.get_metrics_data().resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
            for point in m.data.data_points
        ]
    )
    for secret in ("@", "council.example", "Sam", "visits stopped", "1234567"):
        assert secret not in everything, secret
    durations = {
        m.name
        for rm in READER.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    assert f"{telemetry.OUTBOX_SEND}.duration" in durations
    assert f"{telemetry.GRAPH_CALL}.duration" in durations


def test_a_failure_is_recorded_by_its_type_not_its_message():
    EXPORTER.clear()
    with pytest.raises(ValueError), telemetry.span(telemetry.USE_CASE, {"auditbot.use_case": "X"}):
        raise ValueError("ava.auditor@council.example has no account")
    [span] = EXPORTER.get_finished_spans()
    assert span.attributes[telemetry.OUTCOME] == "ValueError"
    assert not span.events  # no exception event with its message
    assert "council.example" not in json.dumps(dict(span.attributes))


async def test_a_turn_makes_a_server_span_with_its_kind_and_outcome_only(app, connector):
    """A message and a refused tenant through the real bot server: each turn is one SERVER
    span with the activity's type and its outcome, and nothing of what was said."""
    EXPORTER.clear()
    async with serving(app, "127.0.0.1", 0) as server:
        teams = Teams(server, connector)
        await teams.install(AUDITOR)
        await teams.say(AUDITOR, "my audits about Sam Smith 1234567")
        await teams.post(
            teams.activity(AUDITOR, tenant="another-tenant", type="message", text="hi")
        )
    turns = [s for s in EXPORTER.get_finished_spans() if s.name == telemetry.TURN]
    assert all(s.kind is trace.SpanKind.SERVER for s in turns)
    seen = [
        (s.attributes["auditbot.activity.type"], s.attributes[telemetry.OUTCOME]) for s in turns
    ]
    assert ("message", "answered") in seen, seen
    assert ("installationUpdate", "answered") in seen, seen
    assert ("message", "tenant refused") in seen, seen
    everything = json.dumps([dict(s.attributes or {}) for s in turns])
    for secret in ("@", "Sam", "1234567", "my audits"):
        assert secret not in everything, secret
