"""Time and delivery: the timers that fire deadlines and the outbox that sends.

`runner` wakes due timers (reminders, escalations, overdue steps) and turns
them into workflow commands; `dispatcher` claims outbox rows written in the
same transaction as the change that caused them and hands each to its
channel's sender (Teams cards, calendar, SharePoint, mail), retrying with
backoff until it is sent or given up. Both poll the database, so any number
of processes can share the work.
"""
