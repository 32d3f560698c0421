"""Deadline arithmetic on the dates that break it: weekends, Christmas and New Year
2026-27, Easter 2027, the early May bank holiday, the clock changes of March and
October, an allocation late in the evening and one on a Saturday.

Each expected instant was worked out by hand from a wall calendar and the England
and Wales bank holidays (Fri 25 Dec 2026, Mon 28 Dec 2026 for Boxing Day, Fri 1 Jan
2027, Good Friday 26 Mar 2027, Easter Monday 29 Mar 2027, Mon 3 May 2027); the UK
is on GMT (UTC+0) until Sun 29 Mar 2026 / Sun 28 Mar 2027 and from Sun 25 Oct 2026,
on BST (UTC+1) in between. The comment beside each says why.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audits.policies import Duration
from audits.workdays import UK, WorkingCalendar


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def uk(text: str) -> datetime:
    """'2026-03-20 10:00' read as UK wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=UK)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WEEKS = [
    # Swindon's 6-week short audit, moderated Fri 20 Mar 2026 10:00 GMT: due Fri 1 May
    # at 10:00 BST, which is 09:00Z (adding 42 x 24 hours gave 11:00 BST).
    (6, uk("2026-03-20 10:00"), z("2026-05-01 09:00")),
    # Bristol's 8-week re-audit, moderated Mon 14 Sep 2026 14:00 BST (13:00Z): due Mon
    # 9 Nov at 14:00 GMT, 14:00Z, across the October change.
    (8, uk("2026-09-14 14:00"), z("2026-11-09 14:00")),
    # Across Christmas and New Year (no change of clocks): Wed 23 Dec 2026 15:00 ->
    # Wed 3 Feb 2027 15:00; weeks do not skip bank holidays.
    (6, uk("2026-12-23 15:00"), z("2027-02-03 15:00")),
    # Across Easter 2027 and its clock change (Sun 28 Mar): Wed 3 Mar 2027 09:30 GMT
    # -> Wed 14 Apr 09:30 BST (08:30Z).
    (6, uk("2027-03-03 09:30"), z("2027-04-14 08:30")),
    # Late in the evening across October 2026: Mon 5 Oct 23:30 BST (22:30Z) -> Mon 16
    # Nov 23:30 GMT, still Monday in the UK (not Tuesday 00:30).
    (6, uk("2026-10-05 23:30"), z("2026-11-16 23:30")),
    # A Saturday, across the March 2027 change: Sat 13 Mar 11:00 GMT -> Sat 8 May
    # 11:00 BST (10:00Z); the early May bank holiday plays no part.
    (8, uk("2027-03-13 11:00"), z("2027-05-08 10:00")),
]


@pytest.mark.parametrize(("weeks", "start", "expected"), WEEKS, ids=str)
def test_weeks_land_at_the_same_uk_time_of_day(calendar, weeks, start, expected):
    due = Duration(weeks=weeks).after(start, calendar)
    assert due == expected
    assert due.astimezone(UK).time() == start.time()
    assert (due.astimezone(UK).date() - start.date()).days == 7 * weeks


@pytest.mark.parametrize(("weeks", "start", "expected"), WEEKS, ids=str)
def test_weeks_before_a_deadline_go_back_to_the_same_uk_time(calendar, weeks, start, expected):
    assert Duration(weeks=weeks).before(expected, calendar) == start.astimezone(UTC)


def test_days_are_uk_calendar_days_too(calendar):
    # 30 days from Thu 22 Oct 2026 12:00 BST (11:00Z): Sat 21 Nov 12:00 GMT (12:00Z).
    assert Duration(days=30).after(uk("2026-10-22 12:00"), calendar) == z("2026-11-21 12:00")


def test_hours_stay_exact_clock_hours(calendar):
    # A case of concern raised Sat 24 Oct 2026 20:00 BST (19:00Z): 24 hours on is
    # 19:00Z on Sunday, 19:00 GMT: the hour the clocks went back is counted.
    assert Duration(hours=24).after(uk("2026-10-24 20:00"), calendar) == z("2026-10-25 19:00")


@pytest.mark.parametrize(
    ("n", "start", "expected"),
    [
        # Christmas and New Year 2026-27 from Mon 21 Dec: Tue 22 (1), Wed 23 (2),
        # Thu 24 (3), Tue 29 (4), Wed 30 (5), Thu 31 (6), Mon 4 Jan (7), Tue 5 (8),
        # Wed 6 (9), Thu 7 (10); 17:30 GMT.
        (10, uk("2026-12-21 10:00"), z("2027-01-07 17:30")),
        # Easter 2027 from Wed 24 Mar: Thu 25 (1), Tue 30 (2), Wed 31 (3), Thu 1 Apr (4),
        # Fri 2 (5); 17:30 BST is 16:30Z.
        (5, uk("2027-03-24 11:00"), z("2027-04-02 16:30")),
        # Early May 2027 from Fri 30 Apr: Tue 4 May (1), Wed 5 (2).
        (2, uk("2027-04-30 09:00"), z("2027-05-05 16:30")),
        # Allocated on Sat 7 Nov 2026: Mon 9 (1) ... Fri 13 (5), Mon 16 (6) ... Fri 20 (10).
        (10, uk("2026-11-07 10:00"), z("2026-11-20 17:30")),
        # Late on Thu 22 Oct 2026 (23:30 BST, 22:30Z): the count starts from Thursday.
        (1, uk("2026-10-22 23:30"), z("2026-10-23 16:30")),
        # 23:30Z that Thursday is 00:30 BST on Friday 23: Mon 26 (1), in GMT.
        (1, z("2026-10-22 23:30"), z("2026-10-26 17:30")),
        # Across the October change: Fri 23 Oct 2026 -> Mon 26 (1) ... Fri 30 (5), GMT.
        (5, uk("2026-10-23 12:00"), z("2026-10-30 17:30")),
        # Across the March 2026 change: Fri 27 Mar (GMT) -> Mon 30 (1), 17:30 BST.
        (1, uk("2026-03-27 12:00"), z("2026-03-30 16:30")),
    ],
    ids=str,
)
def test_working_days_on_the_dates_that_break_them(calendar, n, start, expected):
    assert Duration(working_days=n).after(start, calendar) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # "Within the first 3 weeks of each calendar month": allocated Mon 15 Mar 2027,
        # the 21st is a Sunday, so Fri 19 Mar 17:30 GMT; never next month's 21st.
        (uk("2027-03-15 09:00"), z("2027-03-19 17:30")),
        # Allocated on Sat 20 Mar 2027: Fri 19 has gone, so Wed 21 Apr, 17:30 BST.
        (uk("2027-03-20 10:00"), z("2027-04-21 16:30")),
        # Allocated Tue 22 Dec 2026: Thu 21 Jan 2027, over Christmas and New Year.
        (uk("2026-12-22 10:00"), z("2027-01-21 17:30")),
        # Allocated late on Wed 21 Oct 2026 (23:30 BST): that day's 17:30 has passed;
        # Sat 21 Nov -> Fri 20 Nov 17:30 GMT.
        (uk("2026-10-21 23:30"), z("2026-11-20 17:30")),
        # Allocated on the 21st itself in working hours: that day, 17:30 BST.
        (uk("2027-04-21 10:00"), z("2027-04-21 16:30")),
        # Allocated on the early May bank holiday, Mon 3 May 2027: Fri 21 May, 17:30 BST.
        (uk("2027-05-03 10:00"), z("2027-05-21 16:30")),
    ],
    ids=str,
)
def test_first_three_weeks_of_the_month(calendar, start, expected):
    assert Duration(day_of_month=21).after(start, calendar) == expected


def test_a_lead_time_is_a_council_option_off_by_default(calendar):
    # With the product's own lead of 5 working days set, Mon 15 Mar 2027 moves to April.
    start = uk("2027-03-15 09:00")
    assert Duration(day_of_month=21, lead_working_days=5).after(start, calendar) == z(
        "2027-04-21 16:30"
    )
    assert Duration(day_of_month=21).lead_working_days == 0


@pytest.mark.parametrize(
    ("months", "start", "expected"),
    [
        # Bristol's "within 1 month": Mon 14 Dec 2026 10:00 -> Thu 14 Jan 2027 10:00.
        (1, uk("2026-12-14 10:00"), z("2027-01-14 10:00")),
        # Sun 31 Jan 2027 -> the last day of February, Sun 28 Feb.
        (1, uk("2027-01-31 16:00"), z("2027-02-28 16:00")),
        # Across the March 2027 change: Sun 14 Mar 09:00 GMT -> Wed 14 Apr 09:00 BST.
        (1, uk("2027-03-14 09:00"), z("2027-04-14 08:00")),
        # Across the October 2026 change and a year end: 12 months.
        (12, uk("2026-10-01 12:00"), z("2027-10-01 11:00")),
    ],
    ids=str,
)
def test_months_land_on_the_same_day_and_uk_time(calendar, months, start, expected):
    assert Duration(months=months).after(start, calendar) == expected
    assert Duration(months=months).describe() == f"{months} month{'s' if months > 1 else ''}"
