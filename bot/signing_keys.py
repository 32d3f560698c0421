"""The Bot Connector's signing keys, fetched without holding up the event loop.

botbuilder checks each request's token against keys it reads from an OpenID metadata
document. Its own reader (`botframework.connector.auth.jwt_token_extractor.
_OpenIdMetadata`) fetches them with blocking `requests` calls, without a timeout,
inside the request, and does not remember a failure: a slow endpoint stalled every
request of the process (a `/healthz` waited 3.7 s) and, while it failed, each unsigned
request tried again (8.1 s for eight). `SigningKeys` is the same reader made safe:

- fetched with aiohttp and a timeout, on the event loop (it waits, it never blocks);
- one fetch at a time per document: requests arriving meanwhile wait for that one;
- kept for a day, and fetched again (at most every five minutes) for a key id it has
  not seen, as botbuilder does (it waits an hour);
- a failed fetch is remembered for `FAILURE_PAUSE`: requests meanwhile are refused at
  once with `KeysUnavailable` (503 to the caller, so the Bot Connector sends again)
  instead of each waiting for the endpoint again.

`bot.patches.apply()` makes botbuilder use it (`keys_for`) for every metadata document
it reads, when the adapter is made. Written by hand because botbuilder offers no hook
for its key fetching but a class attribute.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdConfig
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 5.0  # seconds for the metadata document and the keys, each
KEEP_FOR = 24 * 3600.0
UNKNOWN_KEY_PAUSE = 300.0  # at most one refetch this often for a key id not seen
FAILURE_PAUSE = 30.0  # after a failed fetch, refuse at once for this long


class KeysUnavailable(Exception):
    """The signing keys cannot be read now; the request can be neither accepted nor
    refused on its merits. Try again later."""


class SigningKeys:
    """Drop-in for botbuilder's `_OpenIdMetadata`: `await get(key_id)`."""

    def __init__(self, url: str, timeout: float = FETCH_TIMEOUT) -> None:
        self.url, self.timeout = url, timeout
        self.keys: list[dict[str, Any]] = []
        self.fetched_at = float("-inf")  # time.monotonic() of the last good fetch
        self.failed_at = float("-inf")
        self.failure: str | None = None
        self._lock = asyncio.Lock()

    async def get(self, key_id: str | None) -> _OpenIdConfig | None:
        if time.monotonic() - self.fetched_at > KEEP_FOR:
            await self._refresh(need=True)
        key = self._find(key_id)
        if key is None and time.monotonic() - self.fetched_at > UNKNOWN_KEY_PAUSE:
            await self._refresh(need=False)
            key = self._find(key_id)
        return key

    async def _refresh(self, need: bool) -> None:
        """Fetches the keys; with `need` (none usable), a failure is raised."""
        started = time.monotonic()
        async with self._lock:
            if self.fetched_at >= started:  # another request fetched them meanwhile
                return
            if time.monotonic() - self.failed_at < FAILURE_PAUSE:
                if need:
                    raise KeysUnavailable(f"signing keys unavailable: {self.failure}")
                return
            try:
                self.keys = await self._fetch()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
                self.failed_at, self.failure = time.monotonic(), type(exc).__name__
                log.warning("could not read the Bot Connector's signing keys: %s", self.failure)
                if need:
                    raise KeysUnavailable(f"signing keys unavailable: {self.failure}") from exc
                return
            self.fetched_at, self.failure = time.monotonic(), None

    async def _fetch(self) -> list[dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout, trust_env=True) as http:
            async with http.get(self.url) as response:
                response.raise_for_status()
                jwks_uri = (await response.json(content_type=None))["jwks_uri"]
            async with http.get(jwks_uri) as response:
                response.raise_for_status()
                keys = (await response.json(content_type=None))["keys"]
        if not isinstance(keys, list):
            raise ValueError("'keys' is not a list")
        return keys

    def _find(self, key_id: str | None) -> _OpenIdConfig | None:
        for key in self.keys:
            if isinstance(key, dict) and key.get("kid") == key_id:
                public_key = RSAAlgorithm.from_jwk(json.dumps(key))
                return _OpenIdConfig(public_key, key.get("endorsements", []))
        return None


def keys_for(metadata_url: str) -> SigningKeys:
    """The reader of one metadata document, kept in botbuilder's own cache of readers."""
    cache = JwtTokenExtractor.metadataCache
    found = cache.get(metadata_url)
    if not isinstance(found, SigningKeys):
        found = cache[metadata_url] = SigningKeys(metadata_url)
    return found
