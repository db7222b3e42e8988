"""Opens and clicks in the read models (CAPABILITIES §2), from CRM events applied by the
application: ``sequence_stats`` counts the messages a human opened and clicked, and the
machine and bot ones apart, with rates over deliveries (implied ones included);
``messages`` shows when a human first opened and clicked each; a message sent before a
migration counts on its own revision; and a replay makes the same rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from domain.clock import ManualClock
from domain.crm import CrmEvent
from dripline.bootstrap import Runtime
from projections import replay
from projections.checksum import checksum
from tests.projections.support import active_sequence, crm, execute_step

HOUR = timedelta(hours=1)
BERLIN = timezone(timedelta(hours=1))
NO_RATES = {"base": "sent", "open_rate": None, "click_rate": None, "click_to_open": None,
     "reply_rate": None, "unsubscribe_rate": None}


def _engagement(entry: dict[str, Any]) -> tuple[int, ...]:
    return tuple(entry[k] for k in ("delivered", "opened", "opened_machine", "clicked",
                                    "clicked_bot"))


def _record(runtime: Runtime, *events: CrmEvent) -> list[str]:
    return [runtime.app.record_crm_event(e).status.value for e in events]


def test_opens_and_clicks_are_counted_per_message_with_rates_and_first_times(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence = active_sequence(app, steps=2)
    enrolled = {c: app.enroll("acme", sequence.id, c).id for c in "abcd"}
    clock.advance(HOUR)
    sent = {c: execute_step(app, e, clock(), last_order=1) for c, e in enrolled.items()}
    clock.advance(3 * HOUR)
    opened_at = datetime(2026, 11, 29, 11, 30, tzinfo=BERLIN)  # the CRM's own time and zone
    clicked_at = opened_at + timedelta(minutes=2)

    def at(moment: datetime, kind: str, contact: str, **data: Any) -> CrmEvent:
        return crm(kind, contact, at=moment, message_id=sent[contact], **data)

    outcomes = _record(
        runtime,
        at(clock(), "message_delivered", "a"), at(clock(), "message_delivered", "b"),
        # a: a machine open, then a human one; a human click of two links; a bot click.
        at(opened_at - HOUR, "message_opened", "a", machine=True),
        at(opened_at, "message_opened", "a"),
        at(opened_at + HOUR, "message_opened", "a"),  # a second human open: nothing
        at(clicked_at, "message_clicked", "a", url="https://x.example/1"),
        at(clicked_at + HOUR, "message_clicked", "a", url="https://x.example/2"),
        at(clicked_at + HOUR, "message_clicked", "a", url="https://x.example/3", bot=True),
        # b: only a machine open and a bot click (a link scanner, say).
        at(opened_at, "message_opened", "b", machine=True),
        at(clicked_at, "message_clicked", "b", url="https://x.example/1", bot=True),
        # c: never reported delivered, but clicked: delivered (implied), clicked, not opened.
        at(clicked_at, "message_clicked", "c", url="https://x.example/1"))
    assert outcomes == ["applied"] * 4 + ["duplicate"] + ["applied"] * 6
    runtime.catch_up()

    stats = q.sequence_stats("acme", sequence.id)
    assert stats is not None
    first, second = stats["steps"]
    assert (first["message_requested"], *_engagement(first)) == (4, 3, 1, 2, 2, 2)
    assert first["rates"] == {"base": "delivered", "open_rate": 0.333, "click_rate": 0.667,
                              "click_to_open": 2.0,
     "reply_rate": 0.0, "unsubscribe_rate": 0.0}
    assert (second["message_requested"], *_engagement(second)) == (0, 0, 0, 0, 0, 0)
    assert second["rates"] == NO_RATES
    assert stats["engagement"] == {
        "sent": 4, "delivered": 3, "opened": 1, "opened_machine": 2, "clicked": 2,
        "clicked_bot": 2, "replied": 0, "unsubscribed": 0,
        "avg_seconds_to_first_reply": None, "rates": first["rates"]}

    messages = {m["contact_id"]: m for m in q.list_messages(
        "acme", sequence_id=sequence.id).items}
    assert {c: (m["status"], m["opened_at"], m["clicked_at"]) for c, m in messages.items()} == {
        "a": ("delivered", opened_at, clicked_at),
        "b": ("delivered", None, None),  # machines and bots only
        "c": ("delivered", None, clicked_at),
        "d": ("requested", None, None)}
    assert messages["a"]["opened_at"].tzinfo == UTC
    assert messages["c"]["updated_at"] == clock()


def test_rates_are_over_sends_until_something_is_delivered(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence = active_sequence(app, steps=1)
    enrolled = [app.enroll("acme", sequence.id, c).id for c in ("a", "b", "c")]
    runtime.catch_up()
    stats = q.sequence_stats("acme", sequence.id)
    assert stats is not None
    assert stats["engagement"] == {"sent": 0, "delivered": 0, "opened": 0,
                                   "opened_machine": 0, "clicked": 0, "clicked_bot": 0,
                                   "replied": 0, "unsubscribed": 0,
                                   "avg_seconds_to_first_reply": None, "rates": NO_RATES}

    clock.advance(HOUR)
    sent = [execute_step(app, e, clock(), last_order=0) for e in enrolled]
    _record(runtime, crm("message_opened", "a", at=clock(), message_id=sent[0],
                         machine=True))
    runtime.catch_up()
    stats = q.sequence_stats("acme", sequence.id)
    assert stats is not None
    # A machine open implies the delivery, but is in no rate.
    assert stats["steps"][0]["rates"] == {"base": "delivered", "open_rate": 0.0,
                                          "click_rate": 0.0, "click_to_open": None,
     "reply_rate": 0.0, "unsubscribe_rate": 0.0}
    [failed] = _record(runtime, crm("message_failed", "b", at=clock(), message_id=sent[1],
                                    error="unreachable", permanent=True))
    assert failed == "applied"
    runtime.catch_up()
    stats = q.sequence_stats("acme", sequence.id)
    assert stats is not None
    assert (stats["engagement"]["sent"], stats["engagement"]["delivered"]) == (3, 1)


def test_a_message_sent_before_a_migration_counts_on_its_own_revision(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence = active_sequence(app, steps=2)
    enrollment = app.enroll("acme", sequence.id, "a").id
    clock.advance(HOUR)
    before = execute_step(app, enrollment, clock(), last_order=1)
    _, number = app.revisions.create_revision("acme", sequence.id)
    app.revisions.publish_revision("acme", sequence.id, number, {"step_map": {}})
    while app.revisions.run_migrations():
        pass
    assert app.get_enrollment("acme", enrollment).revision == 2
    clock.advance(HOUR)
    after = execute_step(app, enrollment, clock(), last_order=1)
    _record(runtime, crm("message_opened", "a", at=clock(), message_id=before),
            crm("message_clicked", "a", at=clock(), message_id=after, url="https://x.example"))
    runtime.catch_up()

    def funnel(revision: int | None) -> tuple[Any, ...]:
        stats = q.sequence_stats("acme", sequence.id, revision)
        assert stats is not None
        e = stats["engagement"]
        return (tuple((s["step_order"], s["delivered"], s["opened"], s["clicked"])
                      for s in stats["steps"]),
                (e["sent"], e["delivered"], e["opened"], e["clicked"]))

    assert funnel(1) == (((0, 1, 1, 0), (1, 0, 0, 0)), (1, 1, 1, 0))
    assert funnel(2) == (((0, 0, 0, 0), (1, 1, 0, 1)), (1, 1, 0, 1))
    assert funnel(None) == (((0, 1, 1, 0), (1, 1, 0, 1)), (2, 2, 1, 1))


def test_a_replay_makes_the_engagement_rows_projected_as_it_happened(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence = active_sequence(app, steps=1)
    enrolled = {c: app.enroll("acme", sequence.id, c).id for c in ("a", "b", "c")}
    clock.advance(HOUR)
    sent = {c: execute_step(app, e, clock(), last_order=0) for c, e in enrolled.items()}
    runtime.catch_up()  # projected in several batches, as it happens
    _record(runtime, crm("message_opened", "a", at=clock(), message_id=sent["a"], machine=True),
            crm("message_opened", "a", at=clock(), message_id=sent["a"]))
    runtime.catch_up()
    _record(runtime, crm("message_clicked", "b", at=clock(), message_id=sent["b"],
                         url="https://x.example", bot=True),
            crm("message_clicked", "b", at=clock(), message_id=sent["b"],
                url="https://x.example/2"),
            crm("message_delivered", "c", at=clock(), message_id=sent["c"]))
    runtime.catch_up()
    read_models = runtime.read_models
    models = [read_models.model(n) for n in ("sequence_stats", "messages")]
    live = [checksum(read_models.db, m) for m in models]
    stats = q.sequence_stats("acme", sequence.id)
    messages = q.list_messages("acme", sequence_id=sequence.id).items
    assert stats is not None
    assert _engagement(stats["engagement"]) == (3, 1, 1, 1, 1)

    replay.rebuild_many(read_models, [m.name for m in models])
    assert [checksum(read_models.db, m) for m in models] == live
    assert q.sequence_stats("acme", sequence.id) == stats
    assert q.list_messages("acme", sequence_id=sequence.id).items == messages
