"""Who is writing, and the chat with each person.

A person is their Entra object id on every activity. The first time they write
(or their chat changes) their conversation is stored, so cards can reach them
later; who they are (their address) is known from an allocation or, for someone
no allocation has named yet (a QA officer, say), looked up in the directory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import AsyncConnection

from application.ports import Directory, DirectoryUser, GraphError
from audits.clock import Clock
from store import contacts, outbox_queue, typed_answers
from store.db import Database

log = logging.getLogger(__name__)

LOOK_AGAIN_SECONDS = 600.0  # someone the directory did not know is asked about again after
# Who an Entra object id is, kept between turns rather than read on every one. A
# renamed account is seen under its new address after this long at most.
KNOWN_SECONDS = 300.0


async def know_people(
    conn: AsyncConnection, found: Iterable[tuple[str, str, bool]], now: datetime
) -> None:
    """Stores who each (upn, object id, enabled) is. Someone who opened the bot before
    anyone knew them has their chat linked now, and the cards that waited for it go now."""
    for upn in await contacts.save_people(conn, found, now):
        await outbox_queue.send_waiting_now(conn, "teams", upn, now)


async def keep_conversation(
    conn: AsyncConnection, object_id: str, upn: str | None, reference: dict[str, Any], now: datetime
) -> bool:
    """Stores a person's conversation; True if it is new. Their cards waiting for a chat
    (or for a retry) go now."""
    is_new = await contacts.save_conversation(conn, object_id, upn, reference, now)
    if upn:
        await outbox_queue.send_waiting_now(conn, "teams", upn, now)
    return is_new


@dataclass(frozen=True)
class Expected:
    """A question the bot asked whose answer the person may simply type."""

    audit_id: str
    verb: str
    section: str | None = None
    field: str | None = None


MAX_PEOPLE_KEPT = 10_000  # people remembered in memory per process


class People:
    def __init__(self, db: Database, clock: Clock, directory: Directory | None) -> None:
        self.db, self.clock, self.directory = db, clock, directory
        # Bounded (least recently used go first), so that a flood of made-up identities
        # cannot grow them: object id -> the conversation stored / (address, until) /
        # when to ask the directory again.
        self._remembered: LRUCache[str, Hashable] = LRUCache(MAX_PEOPLE_KEPT)
        self._known: LRUCache[str, tuple[str, float]] = LRUCache(MAX_PEOPLE_KEPT)
        self._look_again: LRUCache[str, float] = LRUCache(MAX_PEOPLE_KEPT)

    async def remember(
        self, object_id: str, fingerprint: Hashable, reference: Callable[[], dict[str, Any]]
    ) -> None:
        """Stores the person's conversation when it is new or has changed (`fingerprint`
        says what it holds), not on every turn: a write each time would queue every
        message behind the others on SQLite. `reference` builds what is stored."""
        look_again = self._look_again.get(object_id)
        if self._remembered.get(object_id) == fingerprint and (
            look_again is None or time.monotonic() < look_again
        ):
            return
        async with self.db.reading() as conn:
            upn = await contacts.upn_of(conn, object_id)
        found = await self._look_up(object_id) if upn is None else None
        async with self.db.transaction() as conn:
            now = self.clock.now()
            if found is not None:
                upn = found.upn
                await know_people(conn, [(found.upn, found.id, found.enabled)], now)
                await contacts.save_names(conn, {found.upn: found.display_name}, now)
            await keep_conversation(conn, object_id, upn, reference(), now)
        self._remembered[object_id] = fingerprint
        if upn is None:  # not in the directory, or it could not be asked: later, again
            self._look_again[object_id] = time.monotonic() + LOOK_AGAIN_SECONDS
        else:
            self._look_again.pop(object_id, None)
            self._know(object_id, upn)

    async def names(self, addresses: Iterable[str]) -> dict[str, str]:
        """The directory's display names of these addresses, where known (lower case)."""
        wanted = [a for a in addresses if a]
        if not wanted:
            return {}
        async with self.db.reading() as conn:
            return await contacts.names_of(conn, wanted)

    async def who(self, object_id: str) -> str | None:
        """The person's address, or None for someone auditbot does not know."""
        known = self._known.get(object_id)
        if known is not None and time.monotonic() < known[1]:
            return known[0]
        async with self.db.reading() as conn:
            upn = await contacts.upn_of(conn, object_id)
        if upn is not None:
            self._know(object_id, upn)
        return upn

    async def _look_up(self, object_id: str) -> DirectoryUser | None:
        if self.directory is None:
            return None
        try:
            found = (await self.directory.resolve([object_id])).get(object_id)
        except GraphError as exc:
            log.warning("could not look up a new person in the directory: %s", exc)
            return None
        return found if found is not None and found.id == object_id else None

    def _know(self, object_id: str, upn: str) -> None:
        self._known[object_id] = (upn, time.monotonic() + KNOWN_SECONDS)

    # -------------------------------------------------------- typed answers

    async def expect_text(self, person: str, expected: Expected) -> None:
        """The person's next message answers this question (replacing any other)."""
        detail = (
            {"section": expected.section or "", "field": expected.field or ""}
            if expected.section
            else None
        )
        async with self.db.transaction() as conn:
            await typed_answers.await_text(
                conn, person, expected.audit_id, expected.verb, self.clock.now(), detail
            )

    async def expected_text(self, person: str) -> Expected | None:
        async with self.db.reading() as conn:
            awaited = await typed_answers.awaited_text(conn, person)
        if awaited is None:
            return None
        return Expected(
            awaited.audit_id,
            awaited.verb,
            awaited.detail.get("section"),
            awaited.detail.get("field", "evidence"),
        )

    async def answered(self, person: str) -> None:
        """The question waiting for this person was answered (or refused): asked once,
        answered once, so a later message is not taken for it."""
        async with self.db.transaction() as conn:
            await typed_answers.answered(conn, person)
