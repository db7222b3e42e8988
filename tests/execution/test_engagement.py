"""Opens and clicks of a message (CAPABILITIES §2): recorded on the enrollment that asked for
it, also after it ended; the first of each kind only (a machine open and a bot click apart
from a human's); an open or click of a message not yet reported delivered delivers it."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.app_crm import CrmStatus
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import Enrollment
from domain.errors import InvalidInputError
from tests.execution.support import TENANT, active_sequence, crm, enrollment, events_of, step


def sent(app: DriplineApp, contact: str = "c-1") -> tuple[UUID, str]:
    sequence_id = active_sequence(app, [step(0, "hello"), step(1, "later", amount=1,
                                                                unit="days")])
    enrolled = app.enroll(TENANT, sequence_id, contact).id
    [message_id] = enrollment(app, enrolled).messages
    return enrolled, message_id


def test_an_open_is_recorded_once_and_a_machine_open_apart(app: DriplineApp) -> None:
    enrolled, message_id = sent(app)
    assert crm(app, "message_opened", "c-1", message_id=message_id, machine=True).status \
        is CrmStatus.APPLIED
    assert crm(app, "message_opened", "c-1", message_id=message_id, machine=True).status \
        is CrmStatus.DUPLICATE
    assert crm(app, "message_opened", "c-1", message_id=message_id).status is CrmStatus.APPLIED
    assert crm(app, "message_opened", "c-1", message_id=message_id).status \
        is CrmStatus.DUPLICATE
    opens = events_of(app, enrolled, Enrollment.MessageOpened)
    assert [o.machine for o in opens] == [True, False]


def test_an_open_of_an_undelivered_message_delivers_it(app: DriplineApp) -> None:
    enrolled, message_id = sent(app)
    crm(app, "message_clicked", "c-1", message_id=message_id, url="https://x.test/a")
    [delivered] = events_of(app, enrolled, Enrollment.MessageDelivered)
    assert delivered.implied is True
    assert enrollment(app, enrolled).messages[message_id]["status"] == "delivered"
    # A delivery reported afterwards is a duplicate, and so is the same link again.
    assert crm(app, "message_delivered", "c-1", message_id=message_id).status \
        is CrmStatus.DUPLICATE
    assert crm(app, "message_clicked", "c-1", message_id=message_id,
               url="https://x.test/a").status is CrmStatus.DUPLICATE


def test_clicks_count_the_first_per_link_and_the_first_per_kind(app: DriplineApp) -> None:
    enrolled, message_id = sent(app)
    for url, bot in (("https://x.test/a", True), ("https://x.test/b", False),
                     ("https://x.test/c", False)):
        crm(app, "message_clicked", "c-1", message_id=message_id, url=url, bot=bot)
    clicks = events_of(app, enrolled, Enrollment.MessageClicked)
    assert [(c.url, c.bot, c.first) for c in clicks] == [
        ("https://x.test/a", True, True), ("https://x.test/b", False, True),
        ("https://x.test/c", False, False)]


def test_engagement_lands_after_the_enrollment_ended(app: DriplineApp) -> None:
    enrolled, message_id = sent(app)
    app.exit_enrollment(TENANT, enrolled)
    assert crm(app, "message_opened", "c-1", message_id=message_id).status is CrmStatus.APPLIED
    assert enrollment(app, enrolled).status == "exited"


def test_an_open_of_the_last_message_completes_the_enrollment(app: DriplineApp,
                                                             clock: ManualClock) -> None:
    sequence_id = active_sequence(app, [step(0, "only")])
    enrolled = app.enroll(TENANT, sequence_id, "c-9").id
    [message_id] = enrollment(app, enrolled).messages
    crm(app, "message_opened", "c-9", message_id=message_id)
    assert enrollment(app, enrolled).status == "completed"  # it arrived: nothing can fail


def test_bad_lifecycle_events_are_rejected_naming_the_field(app: DriplineApp) -> None:
    _, message_id = sent(app)
    for kind, data, field in (
            ("message_opened", {"message_id": message_id, "machine": "yes"}, "data.machine"),
            ("message_clicked", {"message_id": message_id}, "data.url"),
            ("message_clicked", {"message_id": message_id, "url": "x" * 2001}, "data.url"),
            ("message_opened", {"message_id": "nope:0:1"}, "data.message_id")):
        with pytest.raises(InvalidInputError) as caught:
            crm(app, kind, "c-1", **data)
        assert caught.value.field == field


def test_a_human_click_after_a_link_scanner_counts(app: DriplineApp) -> None:
    enrolled, message_id = sent(app)
    url = "https://x.test/offer"
    assert crm(app, "message_clicked", "c-1", message_id=message_id, url=url,
               bot=True).status is CrmStatus.APPLIED
    assert crm(app, "message_clicked", "c-1", message_id=message_id, url=url).status \
        is CrmStatus.APPLIED
    clicks = events_of(app, enrolled, Enrollment.MessageClicked)
    assert [(c.bot, c.first) for c in clicks] == [(True, True), (False, True)]


def test_link_scanners_cannot_use_up_a_humans_clicks(app: DriplineApp) -> None:
    enrolled, message_id = sent(app)
    for n in range(50):
        crm(app, "message_clicked", "c-1", message_id=message_id, url=f"https://x.test/{n}",
            bot=True)
    assert crm(app, "message_clicked", "c-1", message_id=message_id,
               url="https://x.test/51").status is CrmStatus.APPLIED
    clicks = events_of(app, enrolled, Enrollment.MessageClicked)
    assert [(c.bot, c.first) for c in clicks][-1] == (False, True)
