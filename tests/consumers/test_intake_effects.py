"""Each CRM event type, delivered through the Kafka handler, has its DESIGN 3.1 effect."""

from __future__ import annotations

from datetime import timedelta

from consumers.tracked import position, tracking_name
from domain.clock import ManualClock
from tests.consumers.scenario import contact, enrollment, sequence, stored
from tests.consumers.support import Harness


async def test_tag_added_records_the_tag_and_enrolls_in_the_matching_sequence(
        kafka: Harness, clock: ManualClock) -> None:
    cold = sequence(kafka.app, "tag_added", tag_id="t-cold")
    other = sequence(kafka.app, "tag_added", tag_id="t-warm")
    await kafka.send("tag_added", "c-1", clock(), tag_id="t-cold", tag_name="cold-lead")
    assert contact(kafka.app, "c-1").has_tag("cold-lead")
    assert enrollment(kafka.app, cold, "c-1") is not None
    assert enrollment(kafka.app, other, "c-1") is None
    assert position(kafka.app, tracking_name(kafka.settings.topic_crm_events, 0)) == 1


async def test_tag_removed_removes_the_tag(kafka: Harness, clock: ManualClock) -> None:
    await kafka.send("tag_added", "c-1", clock(), tag_id="t-1", tag_name="vip")
    await kafka.send("tag_removed", "c-1", clock(), tag_id="t-1", tag_name="vip")
    assert not contact(kafka.app, "c-1").has_tag("vip")


async def test_list_joined_and_form_submit_enroll(kafka: Harness, clock: ManualClock) -> None:
    on_list = sequence(kafka.app, "list_joined", list_id="l-1")
    on_form = sequence(kafka.app, "form_submit", form_id="f-1")
    await kafka.send("list_joined", "c-1", clock(), list_id="l-1", list_name="news")
    await kafka.send("form_submit", "c-2", clock(), form_id="f-1", fields={"a": "b"})
    assert contact(kafka.app, "c-1").lists == {"l-1": "news"}
    assert enrollment(kafka.app, on_list, "c-1") is not None
    assert enrollment(kafka.app, on_form, "c-2") is not None


async def test_pipeline_events_set_the_status_and_entering_enrolls(
        kafka: Harness, clock: ManualClock) -> None:
    on_pipeline = sequence(kafka.app, "pipeline_entered", pipeline_id="p-1")
    await kafka.send("pipeline_entered", "c-1", clock(), pipeline_id="p-1", status="new")
    await kafka.send("pipeline_status_changed", "c-1", clock(), pipeline_id="p-1",
                     status="won")
    assert contact(kafka.app, "c-1").pipelines == {"p-1": "won"}
    assert enrollment(kafka.app, on_pipeline, "c-1") is not None


async def test_contact_updated_changes_the_profile(kafka: Harness, clock: ManualClock) -> None:
    await kafka.send("contact_updated", "c-1", clock(), name="Ada", timezone="Europe/Berlin",
                     custom_fields={"plan": "pro"})
    mirror = contact(kafka.app, "c-1")
    assert (mirror.name, mirror.timezone, mirror.custom_fields) == (
        "Ada", "Europe/Berlin", {"plan": "pro"})


async def test_reply_exits_where_the_sequence_says_so(kafka: Harness, clock: ManualClock) -> None:
    exits = sequence(kafka.app, "tag_added", exit_on_reply=True, tag_id="t-1")
    stays = sequence(kafka.app, "tag_added", exit_on_reply=False, tag_id="t-1")
    await kafka.send("tag_added", "c-1", clock(), tag_id="t-1")
    clock.advance(timedelta(minutes=5))
    await kafka.send("contact_replied", "c-1", clock(), channel="email", message_id="m")
    left, kept = enrollment(kafka.app, exits, "c-1"), enrollment(kafka.app, stays, "c-1")
    assert left is not None
    assert (left.status, left.exit_reason) == ("exited", "contact_replied")
    assert kept is not None
    assert kept.status == "active"


async def test_unsubscribe_and_delete_exit_everything(kafka: Harness, clock: ManualClock) -> None:
    seq = sequence(kafka.app, "tag_added", tag_id="t-1")
    await kafka.send("tag_added", "c-1", clock(), tag_id="t-1")
    await kafka.send("tag_added", "c-2", clock(), tag_id="t-1")
    await kafka.send("contact_unsubscribed", "c-1", clock())
    await kafka.send("contact_deleted", "c-2", clock())
    one, two = enrollment(kafka.app, seq, "c-1"), enrollment(kafka.app, seq, "c-2")
    assert one is not None
    assert one.exit_reason == "contact_unsubscribed"
    assert two is not None
    assert two.exit_reason == "contact_deleted"
    assert contact(kafka.app, "c-1").is_suppressed("email")


async def test_delivery_feedback_is_recorded_on_the_message(
        kafka: Harness, clock: ManualClock) -> None:
    seq = sequence(kafka.app, "tag_added", tag_id="t-1")
    await kafka.send("tag_added", "c-1", clock(), tag_id="t-1")
    await kafka.send("tag_added", "c-2", clock(), tag_id="t-1")
    clock.advance(timedelta(hours=2))
    first, second = enrollment(kafka.app, seq, "c-1"), enrollment(kafka.app, seq, "c-2")
    assert first is not None
    assert second is not None
    outcomes = kafka.app.execute_due([first.id, second.id])
    delivered, failed = (o.message_id for o in outcomes)
    assert delivered
    assert failed
    await kafka.send("message_delivered", "c-1", clock(), message_id=delivered)
    await kafka.send("message_failed", "c-2", clock(), message_id=failed, error="bounced",
                     permanent=True)
    first, second = enrollment(kafka.app, seq, "c-1"), enrollment(kafka.app, seq, "c-2")
    assert first is not None
    assert first.messages[delivered]["status"] == "delivered"
    assert second is not None
    assert second.messages[failed]["status"] == "failed"


async def test_unknown_types_are_ignored_but_their_position_recorded(
        kafka: Harness, clock: ManualClock) -> None:
    before = stored(kafka.app)
    await kafka.send("invoice_paid", "c-1", clock(), amount=3)
    assert stored(kafka.app) == before
    assert kafka.dead == []
    assert position(kafka.app, tracking_name(kafka.settings.topic_crm_events, 0)) == 1


async def test_the_same_event_twice_has_one_effect(kafka: Harness, clock: ManualClock) -> None:
    seq = sequence(kafka.app, "tag_added", tag_id="t-1")
    await kafka.send("tag_added", "c-1", clock(), event_id="evt-x", tag_id="t-1")
    after_first = stored(kafka.app)
    await kafka.send("tag_added", "c-1", clock(), event_id="evt-x", tag_id="t-1")
    assert stored(kafka.app) == after_first
    assert enrollment(kafka.app, seq, "c-1", number=2) is None
    assert kafka.intake.stats.outcomes["duplicate"] == 1
