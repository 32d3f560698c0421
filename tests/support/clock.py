"""The tests' time."""

from __future__ import annotations

from datetime import UTC, datetime

# A Monday morning in term time, well clear of bank holidays.
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
