"""Smart sending: a step due outside the sequence's send window moves to the next window
start, read in the contact's zone (fallback: the window's zone, then UTC), correct across DST
changes; and end to end, the enrollment's due times and the re-check at send time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.windows import WEEKDAYS, SendWindow, zone
from tests.execution.support import (
    TENANT,
    active_sequence,
    crm,
    execute_exactly_at,
    requests,
    run_out,
    step,
)

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = tuple(range(9, 17))  # 09:00 to 17:00


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
        second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


CASES = [
    # zone, hours, weekdays, due, expected — comments in local time
    # Berlin, spring forward on Sunday 2026-03-29: Friday 18:00 CET -> Monday 09:00 CEST.
    ("Europe/Berlin", OFFICE, WORKDAYS, utc(2026, 3, 27, 17), utc(2026, 3, 30, 7)),
    ("Europe/Berlin", OFFICE, WORKDAYS, utc(2026, 3, 30, 6, 59), utc(2026, 3, 30, 7)),
    ("Europe/Berlin", OFFICE, WORKDAYS, utc(2026, 3, 30, 14, 59), utc(2026, 3, 30, 14, 59)),
    ("Europe/Berlin", OFFICE, WORKDAYS, utc(2026, 3, 30, 15), utc(2026, 3, 31, 7)),
    # Berlin, fall back on Sunday 2026-10-25: Friday 18:00 CEST -> Monday 09:00 CET.
    ("Europe/Berlin", OFFICE, WORKDAYS, utc(2026, 10, 23, 16), utc(2026, 10, 26, 8)),
    # 02:00 does not exist in Berlin on 2026-03-29: the next 02:00 is on the 30th (CEST).
    ("Europe/Berlin", (2,), WEEKDAYS, utc(2026, 3, 28, 12), utc(2026, 3, 30, 0)),
    # ... and if Sunday 02:00 is the only slot, the next one is a fortnight later.
    ("Europe/Berlin", (2,), ("sun",), utc(2026, 3, 22, 10), utc(2026, 4, 5, 0)),
    ("Europe/Berlin", (2,), ("sun",), utc(2026, 3, 28, 10), utc(2026, 4, 5, 0)),
    # 02:00 happens twice on 2026-10-25: the first (CEST) is the window start ...
    ("Europe/Berlin", (2,), WEEKDAYS, utc(2026, 10, 24, 12), utc(2026, 10, 25, 0)),
    # ... and a step due in the repeated hour (02:30 CET) is inside the window.
    ("Europe/Berlin", (2,), WEEKDAYS, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 1, 30)),
    # New York, spring forward on 2026-03-08: Saturday 18:00 EST -> Sunday 09:00 EDT.
    ("America/New_York", OFFICE, WEEKDAYS, utc(2026, 3, 7, 23), utc(2026, 3, 8, 13)),
    ("America/New_York", (2,), WEEKDAYS, utc(2026, 3, 7, 12), utc(2026, 3, 9, 6)),
    # New York, fall back on 2026-11-01: Saturday 18:00 EDT -> Sunday 09:00 EST.
    ("America/New_York", OFFICE, WEEKDAYS, utc(2026, 10, 31, 22), utc(2026, 11, 1, 14)),
    ("America/New_York", (1,), WEEKDAYS, utc(2026, 10, 31, 12), utc(2026, 11, 1, 5)),
    # Sydney, fall back on Sunday 2026-04-05: Friday 18:00 AEDT -> Monday 09:00 AEST.
    ("Australia/Sydney", OFFICE, WORKDAYS, utc(2026, 4, 3, 7), utc(2026, 4, 5, 23)),
    # Sydney, spring forward on Sunday 2026-10-04: Friday 18:00 AEST -> Monday 09:00 AEDT.
    ("Australia/Sydney", OFFICE, WORKDAYS, utc(2026, 10, 2, 8), utc(2026, 10, 4, 22)),
]


@pytest.mark.parametrize(("tz", "hours", "weekdays", "due", "expected"), CASES)
def test_next_window_start_across_dst_changes(tz: str, hours: tuple[int, ...],
                                              weekdays: tuple[str, ...], due: datetime,
                                              expected: datetime) -> None:
    window = SendWindow(hours=hours, weekdays=weekdays, timezone=tz)
    assert window.next_allowed(due, None) == expected


def test_the_contacts_zone_comes_first_then_the_windows_then_utc() -> None:
    berlin = SendWindow(hours=OFFICE, weekdays=WORKDAYS, timezone="Europe/Berlin")
    due = utc(2026, 11, 30, 10)  # Monday: 11:00 in Berlin, 05:00 in New York
    assert berlin.next_allowed(due, "America/New_York") == utc(2026, 11, 30, 14)
    assert berlin.next_allowed(due, None) == due
    assert berlin.next_allowed(due, "Mars/Olympus_Mons") == due  # unknown zone: fallback
    nowhere = SendWindow(hours=OFFICE, weekdays=WORKDAYS, timezone=None)
    assert nowhere.next_allowed(utc(2026, 11, 30, 8), None) == utc(2026, 11, 30, 9)


# --- property: never early, always inside, never later than needed -----------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
         "America/Santiago", "America/Havana", "Asia/Kathmandu", "UTC"]
QUARTER = timedelta(minutes=15)


@cache
def transitions() -> list[datetime]:
    """Every UTC offset change of ZONES in 2026: where the hard cases are."""
    found = []
    for name in ZONES:
        tz, moment = ZoneInfo(name), utc(2026, 1, 1)
        offset = moment.astimezone(tz).utcoffset()
        while moment.year == 2026:
            moment += timedelta(minutes=30)
            if (now := moment.astimezone(tz).utcoffset()) != offset:
                found.append(moment)
                offset = now
    return found


anywhere = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1),
                        timezones=st.just(UTC))
near_dst = st.builds(lambda t, m: t + timedelta(minutes=m), st.sampled_from(transitions()),
                     st.integers(min_value=-3 * 1440, max_value=3 * 1440))
windows = st.builds(
    SendWindow,
    hours=st.sets(st.integers(0, 23), min_size=1).map(lambda h: tuple(sorted(h))),
    weekdays=st.sets(st.sampled_from(WEEKDAYS), min_size=1).map(
        lambda d: tuple(x for x in WEEKDAYS if x in d)),
    timezone=st.sampled_from([*ZONES, None]))


@settings(max_examples=150, deadline=None)
@given(window=windows, due=st.one_of(anywhere, near_dst),
       contact_tz=st.sampled_from([*ZONES, None, "Not/A_Zone"]))
def test_next_allowed_is_the_earliest_instant_inside_the_window(
        window: SendWindow, due: datetime, contact_tz: str | None) -> None:
    tz = zone(contact_tz) or zone(window.timezone) or ZoneInfo("UTC")
    result = window.next_allowed(due, contact_tz)
    assert result >= due
    local = result.astimezone(tz)
    assert local.hour in window.hours
    assert WEEKDAYS[local.weekday()] in window.weekdays
    # No allowed instant before it: check ``due`` and every quarter hour up to the result.
    moment = due
    while moment < result:
        assert not window.allows(moment, tz), moment
        moment = datetime.min.replace(tzinfo=UTC) + (
            (moment - datetime.min.replace(tzinfo=UTC)) // QUARTER + 1) * QUARTER


# --- end to end -----------------------------------------------------------------------------


def test_due_times_follow_the_contacts_zone(app: DriplineApp, clock: ManualClock) -> None:
    """Enrolled on Sunday 2026-11-29 09:00 UTC; the window is Berlin office hours, the
    contact lives in New York: 09:00 there is 14:00 UTC."""
    sequence_id = active_sequence(
        app, [step(0, "hello"), step(1, "again", amount=1, unit="days")],
        send_window={"hours": list(OFFICE), "weekdays": list(WORKDAYS),
                     "timezone": "Europe/Berlin"})
    crm(app, "contact_updated", "ny", timezone="America/New_York")
    e = app.enroll(TENANT, sequence_id, "ny")
    execute_exactly_at(app, clock, e.id, utc(2026, 11, 30, 14))
    execute_exactly_at(app, clock, e.id, utc(2026, 12, 1, 14))
    assert [r["due_at"] for r in requests(app, e.id)] == [
        utc(2026, 11, 30, 14).isoformat(), utc(2026, 12, 1, 14).isoformat()]
    berliner = app.enroll(TENANT, sequence_id, "no-zone")  # Tuesday 14:00 UTC = 15:00 CET
    # Inside the Berlin window: due at once, so sent on enrolling.
    assert requests(app, berliner.id)[0]["due_at"] == utc(2026, 12, 1, 14).isoformat()


def test_a_contact_who_moved_out_of_the_window_is_rescheduled_at_send_time(
        app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = active_sequence(app, [step(0, "hello", amount=1)],
                                  send_window={"hours": list(OFFICE)})
    e = app.enroll(TENANT, sequence_id, "traveller")  # Sunday 09:00 UTC: due 09:01, inside
    crm(app, "contact_updated", "traveller", timezone="Asia/Tokyo")  # 18:00 there
    clock.advance(timedelta(minutes=1))
    assert [o.result for o in app.execute_due([e.id])] == ["rescheduled"]
    assert requests(app, e.id) == []
    assert execute_exactly_at(app, clock, e.id, utc(2026, 11, 30, 0)).result == "requested"


def test_a_retry_is_sent_inside_the_window_too(app: DriplineApp, clock: ManualClock) -> None:
    clock.set(utc(2026, 11, 30, 16, 55))  # Monday, five minutes before the window closes
    sequence_id = active_sequence(app, [step(0, "hello"), step(1, "next", amount=1,
                                                               unit="days")],
                                  send_window={"hours": list(OFFICE)})
    e = app.enroll(TENANT, sequence_id, "c-1")
    app.execute_due([e.id])
    clock.set(utc(2026, 11, 30, 16, 59, 30))
    crm(app, "message_failed", "c-1", message_id=f"{e.id}:0:1", error="timeout")
    run_out(app, clock, [e.id], horizon=timedelta(days=3))
    retry = requests(app, e.id)[1]
    assert retry["attempt"] == 2
    assert datetime.fromisoformat(retry["created_at"]).hour in OFFICE
