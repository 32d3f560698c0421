"""Traces and metrics through the OpenTelemetry API: the turn, the use case, the outbox send,
the Graph call and the timer fire.

Only the API, as with `logging`: until an entry point installs an SDK (auditbot.telemetry,
when APPLICATIONINSIGHTS_CONNECTION_STRING is set, or a test's in-memory exporter) every
span is a no-op. Attributes carry kinds, verbs, channels, outcomes, status codes and counts:
never answer text, a name or an address. Exceptions are recorded by their type alone (their
messages may name people), so spans are made with record_exception off.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import metrics, trace
from opentelemetry.metrics import Histogram
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACER = trace.get_tracer("auditbot")
METER = metrics.get_meter("auditbot")

# The spans, and the counter and duration histogram each also feeds.
TURN = "auditbot.turn"
USE_CASE = "auditbot.use_case"
OUTBOX_SEND = "auditbot.outbox.send"
GRAPH_CALL = "auditbot.graph.call"
TIMER_FIRE = "auditbot.timer.fire"
OUTCOME = "auditbot.outcome"

Attribute = str | int | bool
_histograms: dict[str, Histogram] = {}


def _duration(name: str) -> Histogram:
    if name not in _histograms:
        _histograms[name] = METER.create_histogram(
            f"{name}.duration", unit="ms", description=f"How long each {name} took"
        )
    return _histograms[name]


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, Attribute] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span]:
    """A span and its duration (ms). Set OUTCOME on it to say how it ended; an exception
    sets it to the exception's type."""
    attributes = dict(attributes or {})
    start = time.perf_counter()
    with TRACER.start_as_current_span(
        name,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        outcome: dict[str, Attribute] = {}
        try:
            yield current
        except BaseException as exc:
            outcome[OUTCOME] = type(exc).__name__
            current.set_attribute(OUTCOME, type(exc).__name__)
            current.set_status(Status(StatusCode.ERROR))
            raise
        finally:
            if not outcome:
                ended = getattr(current, "attributes", None) or {}
                if OUTCOME in ended:
                    outcome[OUTCOME] = ended[OUTCOME]
            _duration(name).record((time.perf_counter() - start) * 1000, {**attributes, **outcome})
