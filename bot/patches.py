"""Every change this project makes to a library's own code, in one place, applied by `apply()`.

`bot.server.make_adapter` calls `apply()` before it makes the adapter, so every adapter
(the app's, a test's, a bench's) runs on the patched libraries; nothing is patched at
import. Each patch says what it saves, as measured (the CPU figures with bench/submit.py,
a card submit at 20 concurrent users, and by timing the call alone).
`tests/test_patches.py` checks, for each, that the library still has the shape the
patch relies on, so an upgrade that moves it fails a test instead of silently undoing
the saving or breaking a send. The versions they were written against are bounded in
pyproject.toml.
"""

from __future__ import annotations

import json
from typing import Any

from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from msrest.serialization import Serializer
from msrest.universal_http.requests import ClientRetryPolicy

from bot import signing_keys
from cards import Built

# msrest's own, kept to fall back on and for the tests to compare against.
MSREST_SERIALIZE_OBJECT = Serializer.serialize_object
MSREST_SAFE_CODES: list[int] = list(ClientRetryPolicy.safe_codes)
BOTBUILDER_GET_OPEN_ID_METADATA = JwtTokenExtractor.get_open_id_metadata


def apply() -> None:
    """Applies every patch; applying twice changes nothing more."""
    _retry_policy_codes_as_a_set()
    _cards_serialised_as_plain_json()
    _signing_keys_read_without_blocking()


def _retry_policy_codes_as_a_set() -> None:
    # botbuilder makes a Bot Connector client for every reply and proactive card
    # (bot.server keeps them, but a new service URL or audience makes one), and
    # msrest builds its retry policy by testing 999 status codes against this
    # 500-item list: 5-7 ms of CPU each time, more than the rest of a turn. The
    # same codes as a frozenset give the same policy at once.
    ClientRetryPolicy.safe_codes = frozenset(MSREST_SAFE_CODES)  # type: ignore[assignment]


def _cards_serialised_as_plain_json() -> None:
    # msrest copies an attachment's content (an Adaptive Card: plain JSON) one value at a
    # time in Python before every send: about 1 ms for a 300-node card, more than
    # storing the answer. A built card (`cards.Built`, frozen) goes out as it is; any
    # other tree of plain JSON is copied by the json module (about 0.1 ms).
    Serializer.serialize_object = _plain_json_at_once  # type: ignore[method-assign]


def _plain_json_at_once(self: Serializer, attr: Any, **kwargs: Any) -> Any:
    if isinstance(attr, Built):  # plain JSON, and frozen: nothing can change it
        return attr
    if type(attr) in (dict, list):
        try:
            return json.loads(json.dumps(attr, allow_nan=False))
        except (TypeError, ValueError):
            pass  # something that is not plain JSON inside: msrest's own way
    return MSREST_SERIALIZE_OBJECT(self, attr, **kwargs)


def _signing_keys_read_without_blocking() -> None:
    # botbuilder reads the Bot Connector's signing keys with blocking `requests` calls
    # and no timeout, inside the request: a slow endpoint stalled every request of the
    # process (a /healthz waited 3.7 s) and, while it failed, each request tried again
    # (8.1 s for eight). bot.signing_keys reads them on the event loop with a timeout,
    # one fetch at a time, and remembers a failure for a while.
    JwtTokenExtractor.get_open_id_metadata = staticmethod(signing_keys.keys_for)


def skip_client_side_validation(client: Any) -> None:
    """Stops a Bot Connector client re-checking outgoing activities against the schema.

    msrest walks the whole card for the schema's constraints on every send; ours are
    built from checked models. `client_side_validation` is an attribute of msrest's
    Serializer, which the generated ConnectorClient keeps as `_serialize`.
    """
    client._serialize.client_side_validation = False
