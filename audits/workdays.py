"""Working days: Monday to Friday in Europe/London, without England and Wales bank holidays.

Deadlines are stored as UTC instants and shown in UK time. A deadline of
"N working days" falls at the close of business on the Nth working day
after the day it starts from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

UK = ZoneInfo("Europe/London")
CLOSE_OF_BUSINESS = time(17, 30)
OPENING = time(9, 0)


class WorkingCalendar:
    def __init__(self, closes: time = CLOSE_OF_BUSINESS, opens: time = OPENING) -> None:
        # England and Wales share their bank holidays; subdivision ENG gives them.
        self._bank_holidays = holidays.country_holidays("GB", subdiv="ENG")
        self.closes = closes
        self.opens = opens

    def is_bank_holiday(self, day: date) -> bool:
        return day in self._bank_holidays

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_bank_holiday(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The Nth working day after `day` (n=0: `day` itself, or the next working day)."""
        if n < 0:
            raise ValueError("n must not be negative")
        current = day
        if n == 0:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            return current
        while n:
            current += timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_working_day(current)
        return count

    def local_date(self, instant: datetime) -> date:
        return as_utc(instant).astimezone(UK).date()

    def close_of(self, day: date) -> datetime:
        """Close of business on `day`, as a UTC instant."""
        return datetime.combine(day, self.closes, tzinfo=UK).astimezone(UTC)

    def after_working_days(self, start: datetime, n: int) -> datetime:
        return self.close_of(self.add_working_days(self.local_date(start), n))

    def is_working_time(self, instant: datetime) -> bool:
        local = as_utc(instant).astimezone(UK)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def next_working_time(self, instant: datetime) -> datetime:
        """`instant` if it is within working hours, else the next opening."""
        if self.is_working_time(instant):
            return as_utc(instant)
        local = as_utc(instant).astimezone(UK)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.opens:
            return datetime.combine(day, self.opens, tzinfo=UK).astimezone(UTC)
        nxt = self.add_working_days(day, 1)
        return datetime.combine(nxt, self.opens, tzinfo=UK).astimezone(UTC)


def wall_clock_days_after(instant: datetime, days: int) -> datetime:
    """The same UK wall-clock time `days` calendar days on (negative: back), as UTC.

    A deadline in days or weeks lands at the time of day it started, whatever the
    clocks did in between: allocated at 10:00 on 20 March (GMT), 6 weeks on is 10:00
    on 1 May (BST), 09:00Z, not 10:00Z. A time the clocks skip (01:30 on the last
    Sunday of March) is read as the hour after; one they repeat (01:30 on the last
    Sunday of October) as the first of the two.
    """
    local = as_utc(instant).astimezone(UK)
    day = local.date() + timedelta(days=days)
    wall = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=UK)
    return wall.astimezone(UTC)


def wall_clock_months_after(instant: datetime, months: int) -> datetime:
    """The same UK wall-clock time on the same day `months` calendar months on (negative:
    back), or on the last day of a shorter month (31 January + 1 month: 28 February)."""
    local = as_utc(instant).astimezone(UK)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    day = date(year, month, min(local.day, last))
    wall = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=UK)
    return wall.astimezone(UTC)


def as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give a time zone")
    return instant.astimezone(UTC)


def uk_time(instant: datetime) -> str:
    """How a deadline is shown to a person: '23 Nov 2026, 17:30'."""
    local = as_utc(instant).astimezone(UK)
    return f"{local.day} {local:%b %Y, %H:%M}"
