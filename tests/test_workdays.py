"""Working days and deadlines around Christmas, New Year and Easter, 2026 to 2028.

Every expected date below was worked out by hand from a wall calendar and the
England and Wales bank holidays; the comment beside each says why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audits.policies import Duration
from audits.workdays import WorkingCalendar

UK = ZoneInfo("Europe/London")

BANK_HOLIDAYS = [
    # 2026
    date(2026, 1, 1),  # Thu, New Year's Day
    date(2026, 4, 3),  # Good Friday
    date(2026, 4, 6),  # Easter Monday
    date(2026, 5, 4),  # Early May
    date(2026, 5, 25),  # Spring
    date(2026, 8, 31),  # Summer
    date(2026, 12, 25),  # Fri, Christmas Day
    date(2026, 12, 28),  # Mon, Boxing Day falls on a Saturday: substitute
    # 2027
    date(2027, 1, 1),  # Fri, New Year's Day
    date(2027, 3, 26),  # Good Friday
    date(2027, 3, 29),  # Easter Monday
    date(2027, 5, 3),
    date(2027, 5, 31),
    date(2027, 8, 30),
    date(2027, 12, 27),  # Mon, Christmas Day falls on a Saturday: substitute
    date(2027, 12, 28),  # Tue, Boxing Day falls on a Sunday: substitute
    # 2028
    date(2028, 1, 3),  # Mon, New Year's Day falls on a Saturday: substitute
    date(2028, 4, 14),  # Good Friday
    date(2028, 4, 17),  # Easter Monday
    date(2028, 5, 1),
    date(2028, 5, 29),
    date(2028, 8, 28),
    date(2028, 12, 25),  # Mon, Christmas Day
    date(2028, 12, 26),  # Tue, Boxing Day
]


@pytest.mark.parametrize("day", BANK_HOLIDAYS, ids=str)
def test_bank_holidays_are_not_working_days(calendar, day):
    assert day.weekday() < 5  # a weekday, so only the holiday makes it a day off
    assert calendar.is_bank_holiday(day)
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 26),  # Sat, Boxing Day itself
        date(2026, 12, 27),  # Sun
        date(2027, 12, 25),  # Sat, Christmas Day itself
        date(2028, 1, 1),  # Sat, New Year's Day itself
        date(2028, 4, 16),  # Easter Sunday
    ],
    ids=str,
)
def test_weekends_are_not_working_days(calendar, day):
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 24),  # Thu, Christmas Eve is not a bank holiday
        date(2026, 12, 29),  # Tue after the Boxing Day substitute
        date(2027, 12, 24),  # Fri, Christmas Eve
        date(2027, 12, 29),  # Wed after both substitutes
        date(2028, 1, 4),  # Tue after the New Year substitute
        date(2026, 4, 2),  # Maundy Thursday
        date(2026, 4, 7),  # Tue after Easter Monday
    ],
    ids=str,
)
def test_days_around_the_holidays_are_working_days(calendar, day):
    assert calendar.is_working_day(day)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Christmas 2026: Thu 24 (1); Fri 25, Sat, Sun, Mon 28 off; Tue 29 (2).
        (date(2026, 12, 23), 2, date(2026, 12, 29)),
        # Tue 29, Wed 30, Thu 31 (3); Fri 1 Jan off, weekend; Mon 4 (4), Tue 5 (5).
        (date(2026, 12, 24), 5, date(2027, 1, 5)),
        # Fri 1 Jan 2027 off, then the weekend.
        (date(2026, 12, 31), 1, date(2027, 1, 4)),
        # Christmas 2027: weekend, Mon 27 and Tue 28 off; Wed 29 is the next.
        (date(2027, 12, 24), 1, date(2027, 12, 29)),
        # Fri 24 (1), Wed 29 (2), Thu 30 (3), Fri 31 (4); Sat 1, Sun 2, Mon 3 off; Tue 4 (5).
        (date(2027, 12, 23), 5, date(2028, 1, 4)),
        # Christmas 2028: weekend, Mon 25 and Tue 26 off.
        (date(2028, 12, 22), 1, date(2028, 12, 27)),
        # Weekend, then Mon 1 Jan 2029 is New Year's Day.
        (date(2028, 12, 29), 1, date(2029, 1, 2)),
        # Easter 2026: Fri 3 and Mon 6 off.
        (date(2026, 4, 2), 1, date(2026, 4, 7)),
        # Thu 2 (1), Tue 7 (2), Wed 8 (3).
        (date(2026, 4, 1), 3, date(2026, 4, 8)),
        # Easter 2027: Fri 26 and Mon 29 March off.
        (date(2027, 3, 25), 1, date(2027, 3, 30)),
        # Easter 2028: Tue 11 (1), Wed 12 (2), Thu 13 (3); Fri 14 - Mon 17 off; Tue 18 (4), Wed 19 (5).
        (date(2028, 4, 10), 5, date(2028, 4, 19)),
        # n=0 on a working day is that day.
        (date(2026, 12, 24), 0, date(2026, 12, 24)),
        # n=0 on a holiday rolls forward: Fri 25 Dec 2026 -> Tue 29.
        (date(2026, 12, 25), 0, date(2026, 12, 29)),
        # n=0 on Mon 27 Dec 2027 (substitute) -> Wed 29.
        (date(2027, 12, 27), 0, date(2027, 12, 29)),
        # n=0 on Sat 1 Jan 2028: Sun, then Mon 3 off -> Tue 4.
        (date(2028, 1, 1), 0, date(2028, 1, 4)),
        # n=0 on Good Friday 2028 -> Tue 18 April.
        (date(2028, 4, 14), 0, date(2028, 4, 18)),
    ],
    ids=str,
)
def test_add_working_days(calendar, start, n, expected):
    assert calendar.add_working_days(start, n) == expected


def test_add_working_days_refuses_a_negative_count(calendar):
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 12, 23), -1)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Winter (GMT): close of business 17:30 UK is 17:30Z. Tue 29 Dec as above.
        (datetime(2026, 12, 23, 10, 0, tzinfo=UTC), 2, datetime(2026, 12, 29, 17, 30, tzinfo=UTC)),
        # Summer (BST): Tue 2 June 2026 17:30 UK is 16:30Z.
        (datetime(2026, 6, 1, 10, 0, tzinfo=UTC), 1, datetime(2026, 6, 2, 16, 30, tzinfo=UTC)),
        # Across the March clock change (Sun 29 Mar 2026): starts in GMT on Thu 26;
        # Fri 27 (1), Mon 30 (2), which is in BST.
        (datetime(2026, 3, 26, 10, 0, tzinfo=UTC), 2, datetime(2026, 3, 30, 16, 30, tzinfo=UTC)),
        # Easter 2027 and the clock change (Sun 28 Mar) in one weekend: Thu 25 -> Tue 30.
        (datetime(2027, 3, 25, 12, 0, tzinfo=UTC), 1, datetime(2027, 3, 30, 16, 30, tzinfo=UTC)),
        # Back to GMT (Sun 25 Oct 2026): Fri 23 -> Mon 26 at 17:30Z.
        (datetime(2026, 10, 23, 12, 0, tzinfo=UTC), 1, datetime(2026, 10, 26, 17, 30, tzinfo=UTC)),
        # 23:30Z on Mon 30 March is already Tue 31 in the UK: the count starts from Tue.
        (datetime(2026, 3, 30, 23, 30, tzinfo=UTC), 1, datetime(2026, 4, 1, 16, 30, tzinfo=UTC)),
    ],
    ids=str,
)
def test_after_working_days_is_close_of_business_uk_as_utc(calendar, start, n, expected):
    due = calendar.after_working_days(start, n)
    assert due == expected
    assert due.utcoffset() == timedelta(0)
    assert due.astimezone(UK).strftime("%H:%M") == "17:30"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 12, 23), date(2026, 12, 29), 2),  # Thu 24, Tue 29
        (date(2026, 12, 24), date(2027, 1, 4), 4),  # Tue 29, Wed 30, Thu 31, Mon 4
        (date(2026, 12, 25), date(2026, 12, 29), 1),  # from a holiday: Tue 29
        (date(2027, 12, 24), date(2028, 1, 4), 4),  # Wed 29, Thu 30, Fri 31, Tue 4
        (date(2026, 4, 2), date(2026, 4, 7), 1),  # Easter 2026: Tue 7 only
        (date(2028, 4, 13), date(2028, 4, 17), 0),  # Good Friday to Easter Monday
        (date(2026, 12, 29), date(2026, 12, 29), 0),  # the same day
    ],
    ids=str,
)
def test_working_days_between(calendar, start, end, expected):
    assert calendar.working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 10, 9, 0, tzinfo=UTC), True),  # Tue 09:00 GMT: opening
        (datetime(2026, 11, 10, 8, 59, tzinfo=UTC), False),
        (datetime(2026, 11, 10, 17, 29, tzinfo=UTC), True),
        (datetime(2026, 11, 10, 17, 30, tzinfo=UTC), False),  # close of business
        (datetime(2026, 6, 9, 8, 0, tzinfo=UTC), True),  # 09:00 BST
        (datetime(2026, 6, 9, 16, 30, tzinfo=UTC), False),  # 17:30 BST
        (datetime(2026, 11, 7, 12, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 12, 28, 12, 0, tzinfo=UTC), False),  # Boxing Day substitute
    ],
    ids=str,
)
def test_is_working_time(calendar, instant, expected):
    assert calendar.is_working_time(instant) is expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # Within working hours: unchanged.
        (datetime(2026, 11, 10, 12, 0, tzinfo=UTC), datetime(2026, 11, 10, 12, 0, tzinfo=UTC)),
        # Fri 6 Nov 2026 18:00 GMT -> Mon 9 Nov 09:00 GMT.
        (datetime(2026, 11, 6, 18, 0, tzinfo=UTC), datetime(2026, 11, 9, 9, 0, tzinfo=UTC)),
        # Fri 5 June 2026 18:00 BST (17:00Z) -> Mon 8 June 09:00 BST (08:00Z).
        (datetime(2026, 6, 5, 17, 0, tzinfo=UTC), datetime(2026, 6, 8, 8, 0, tzinfo=UTC)),
        # Before opening on a working day: that day's opening (07:30 BST -> 09:00 BST).
        (datetime(2026, 6, 9, 6, 30, tzinfo=UTC), datetime(2026, 6, 9, 8, 0, tzinfo=UTC)),
        # Bank holiday Monday (Early May 2026, 10:00 BST) -> Tue 5 May 09:00 BST.
        (datetime(2026, 5, 4, 9, 0, tzinfo=UTC), datetime(2026, 5, 5, 8, 0, tzinfo=UTC)),
        # Early on Easter Monday 2026 -> Tue 7 April, not the Monday's opening.
        (datetime(2026, 4, 6, 6, 0, tzinfo=UTC), datetime(2026, 4, 7, 8, 0, tzinfo=UTC)),
        # Christmas Eve 2026 after close -> Tue 29 Dec 09:00 GMT.
        (datetime(2026, 12, 24, 18, 0, tzinfo=UTC), datetime(2026, 12, 29, 9, 0, tzinfo=UTC)),
    ],
    ids=str,
)
def test_next_working_time(calendar, instant, expected):
    assert calendar.next_working_time(instant) == expected


def test_hours_are_exact_clock_hours_across_a_clock_change(calendar):
    # Fri 27 Mar 2026 12:00 GMT + 72 hours = Mon 30 Mar 12:00Z, which is 13:00 BST.
    start = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    due = Duration(hours=72).after(start, calendar)
    assert due == datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    assert due.astimezone(UK).hour == 13


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        # Tue 29 Dec 2026: back over Mon 28, the weekend and Fri 25 to Thu 24 (1), Wed 23 (2).
        (datetime(2026, 12, 29, 17, 30, tzinfo=UTC), datetime(2026, 12, 23, 17, 30, tzinfo=UTC)),
        # Tue 7 Apr 2026 (BST): back over Easter to Thu 2 (1), Wed 1 (2); 17:30 BST.
        (datetime(2026, 4, 7, 16, 30, tzinfo=UTC), datetime(2026, 4, 1, 16, 30, tzinfo=UTC)),
        # Tue 31 Mar 2026 (BST) back to Mon 30 (1), Fri 27 (2), which is in GMT.
        (datetime(2026, 3, 31, 16, 30, tzinfo=UTC), datetime(2026, 3, 27, 17, 30, tzinfo=UTC)),
    ],
    ids=str,
)
def test_working_days_before(calendar, end, expected):
    assert Duration(working_days=2).before(end, calendar) == expected


WORKING_YEARS = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@given(day=WORKING_YEARS, n=st.integers(min_value=0, max_value=30))
def test_add_working_days_lands_on_a_working_day_n_working_days_on(day, n):
    calendar = WorkingCalendar()
    result = calendar.add_working_days(day, n)
    assert calendar.is_working_day(result)
    assert result >= day
    if n > 0:
        assert calendar.working_days_between(day, result) == n
