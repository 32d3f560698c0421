"""A reporting period: one month's sample or a quarter's three.

Audits belong to a period by their `cycle`, the month (UK time) in which
they were allocated: the month of the sample, as the QA team selects it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from audits.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _cycle(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    """`months` consecutive months starting at `year`-`month` (1 or 3 of them)."""

    year: int
    month: int
    months: int = 1

    @classmethod
    def parse_month(cls, text: str) -> Period:
        found = _MONTH.match(text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
            raise InvalidInput(f"'{text}' is not a month: use YYYY-MM, e.g. 2026-10")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def parse_quarter(cls, text: str) -> Period:
        found = _QUARTER.match(text.strip())
        if not found or int(found.group(1)) < 2000:
            raise InvalidInput(f"'{text}' is not a quarter: use YYYY-Qn, e.g. 2026-Q4")
        return cls(int(found.group(1)), (int(found.group(2)) - 1) * 3 + 1, 3)

    @classmethod
    def parse(cls, text: str) -> Period:
        """A month (2026-10) or a calendar quarter (2026-Q4)."""
        return cls.parse_quarter(text) if "q" in text.lower() else cls.parse_month(text)

    @classmethod
    def of_day(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def is_quarter(self) -> bool:
        return self.months == 3

    @property
    def cycles(self) -> tuple[str, ...]:
        return tuple(_cycle(*_shift(self.year, self.month, i)) for i in range(self.months))

    @property
    def key(self) -> str:
        """2026-11 or 2026-Q4: how the period is named in file names."""
        if self.is_quarter:
            return f"{self.year}-Q{(self.month - 1) // 3 + 1}"
        return _cycle(self.year, self.month)

    @property
    def label(self) -> str:
        """'November 2026', or 'Quarter 4 2026 (October to December)'."""
        if self.is_quarter:
            first, last = MONTH_NAMES[self.month - 1], MONTH_NAMES[self.month + 1]
            return f"Quarter {(self.month - 1) // 3 + 1} {self.year} ({first} to {last})"
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end_day(self) -> date:
        """The first day after the period."""
        year, month = _shift(self.year, self.month, self.months)
        return date(year, month, 1)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        year, month = _shift(self.year, self.month, -self.months)
        return Period(year, month, self.months)

    def trend(self, count: int) -> tuple[str, ...]:
        """The `count` months up to and including this period's last month, oldest first."""
        last_year, last_month = _shift(self.year, self.month, self.months - 1)
        return tuple(_cycle(*_shift(last_year, last_month, -i)) for i in range(count - 1, -1, -1))


def cycle_label(cycle: str) -> str:
    """'2026-11' -> 'Nov 2026'."""
    year, month = cycle.split("-")
    return f"{MONTH_NAMES[int(month) - 1][:3]} {year}"
