"""Replies and unsubscribes attributed to the message they answer (CAPABILITIES §2 rule 4):
the message the event names if it is one of the tenant's; else the contact's latest message
request (on the event's channel, if it names one) within the attribution window before it;
else none. Out-of-office replies never; the first attributed reply per message only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.crm import CrmEvent
from domain.enrollment import Enrollment
from domain.errors import InvalidInputError
from tests.execution.support import (
    TENANT,
    active_sequence,
    crm,
    enrollment,
    events_of,
    run_out,
    step,
)


def two_messages(app: DriplineApp, clock: ManualClock, contact: str = "c-1",
                 ) -> tuple[UUID, list[str]]:
    """Two steps a day apart, both requested (sms, then email); their message ids."""
    sequence_id = active_sequence(app, [
        step(0, "hi", message_template={"type": "text", "content": "hi", "channel": "sms"}),
        step(1, "again", amount=1, unit="days",
             message_template={"type": "text", "content": "again", "channel": "email"})],
        exit_on_reply=False)
    enrolled = app.enroll(TENANT, sequence_id, contact).id
    clock.advance(timedelta(days=1))
    app.execute_due([enrolled])
    messages = sorted(enrollment(app, enrolled).messages,
                      key=lambda m: enrollment(app, enrolled).messages[m]["step_order"])
    return enrolled, messages


def attributed(app: DriplineApp, enrolled: UUID) -> list[tuple[str, str]]:
    return [(e.message_id, e.by) for e in events_of(app, enrolled, Enrollment.ReplyAttributed)]


def test_a_reply_naming_a_message_goes_to_it(app: DriplineApp, clock: ManualClock) -> None:
    enrolled, (first, _) = two_messages(app, clock)
    crm(app, "contact_replied", "c-1", message_id=first, channel="sms")
    assert attributed(app, enrolled) == [(first, "message_id")]
    crm(app, "contact_replied", "c-1", message_id=first, channel="sms")
    assert attributed(app, enrolled) == [(first, "message_id")]  # the first reply only


def test_a_reply_naming_none_goes_to_the_latest_message_on_its_channel(
        app: DriplineApp, clock: ManualClock) -> None:
    enrolled, (sms, email) = two_messages(app, clock)
    crm(app, "contact_replied", "c-1", channel="sms")
    assert attributed(app, enrolled) == [(sms, "last_message")]
    crm(app, "contact_replied", "c-1")  # no channel: the latest of any
    assert attributed(app, enrolled) == [(sms, "last_message"), (email, "last_message")]


def test_a_foreign_or_unknown_message_id_falls_back_to_the_latest(
        app: DriplineApp, clock: ManualClock) -> None:
    enrolled, (_, email) = two_messages(app, clock)
    crm(app, "contact_replied", "c-1", message_id="00000000-0000-0000-0000-000000000000:0:1")
    assert attributed(app, enrolled) == [(email, "last_message")]


def test_nothing_is_attributed_past_the_window_nor_out_of_office(
        app: DriplineApp, clock: ManualClock) -> None:
    enrolled, _ = two_messages(app, clock)
    crm(app, "contact_replied", "c-1", out_of_office=True)
    assert attributed(app, enrolled) == []
    clock.advance(timedelta(days=7, seconds=1))
    crm(app, "contact_replied", "c-1")
    assert attributed(app, enrolled) == []


def test_an_unsubscribe_is_attributed_and_still_exits(app: DriplineApp,
                                                      clock: ManualClock) -> None:
    enrolled, (_, email) = two_messages(app, clock)
    crm(app, "contact_unsubscribed", "c-1", channel="email")
    [event] = events_of(app, enrolled, Enrollment.UnsubscribeAttributed)
    assert (event.message_id, event.by) == (email, "last_message")
    assert enrollment(app, enrolled).exit_reason == "contact_unsubscribed"


def test_a_reply_is_attributed_across_sequences_to_the_latest(
        app: DriplineApp, clock: ManualClock) -> None:
    first, _ = two_messages(app, clock)
    clock.advance(timedelta(hours=1))
    later = active_sequence(app, [step(0, "other")], exit_on_reply=False)
    second = app.enroll(TENANT, later, "c-1").id
    run_out(app, clock, [second], horizon=timedelta(minutes=1))
    crm(app, "contact_replied", "c-1")
    assert attributed(app, first) == []
    [(message, by)] = attributed(app, second)
    assert by == "last_message"
    assert message.startswith(str(second))


def test_a_bad_message_id_rejects_an_unsubscribe_before_it_takes_effect(
        app: DriplineApp, clock: ManualClock) -> None:
    enrolled, _ = two_messages(app, clock)
    with pytest.raises(InvalidInputError) as caught:
        crm(app, "contact_unsubscribed", "c-1", channel="email", message_id="x" * 501)
    assert caught.value.field == "data.message_id"
    assert enrollment(app, enrolled).status == "active"


def test_a_reply_dated_near_year_one_is_not_attributed_and_breaks_nothing(
        app: DriplineApp, clock: ManualClock) -> None:
    enrolled, _ = two_messages(app, clock)
    app.record_crm_event(CrmEvent(event_id="ancient", type="contact_replied", tenant_id=TENANT,
                                  contact_id="c-1", data={"channel": "sms"},
                                  occurred_at=datetime(1, 1, 2, tzinfo=UTC)))
    assert attributed(app, enrolled) == []
