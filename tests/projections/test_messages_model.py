"""The ``messages`` read model: every request with its delivery status, and the funnel's
delivered and failed counts, from real delivery feedback recorded as CRM events."""

from __future__ import annotations

from datetime import timedelta

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.projections.support import active_sequence, crm, request_message


def test_message_requests_are_listed_with_their_delivery_status(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence = active_sequence(app, steps=1)
    alice = app.enroll("acme", sequence.id, "alice")
    bob = app.enroll("acme", sequence.id, "bob")
    carol = app.enroll("acme", sequence.id, "carol")
    clock.advance(timedelta(hours=1))
    sent = {e.contact_id: request_message(app, e.id, clock()) for e in (alice, bob, carol)}
    app.record_crm_event(crm("message_delivered", "alice", at=clock(),
                             message_id=sent["alice"]))
    app.record_crm_event(crm("message_failed", "bob", at=clock(), message_id=sent["bob"],
                             error="number unreachable", permanent=True))
    runtime.catch_up()

    page = q.list_messages("acme", sequence_id=sequence.id)
    by_contact = {m["contact_id"]: m for m in page.items}
    assert page.total == 3
    assert by_contact["alice"]["status"] == "delivered"
    assert (by_contact["bob"]["status"], by_contact["bob"]["error"]) == (
        "failed", "number unreachable")
    assert by_contact["carol"]["status"] == "requested"
    carols = q.list_messages("acme", contact_id="carol").items
    assert [m["message_id"] for m in carols] == [sent["carol"]]
    assert carols[0]["variables"] == {"name": "carol"}
    assert carols[0]["channel"] == "whatsapp"
    assert carols[0]["enrollment_id"] == str(carol.id)
    assert q.list_messages("acme", enrollment_id=alice.id).total == 1
    assert q.list_messages("other").total == 0

    stats = q.sequence_stats("acme", sequence.id)
    assert stats is not None
    [funnel] = stats["steps"]
    assert (funnel["message_requested"], funnel["delivered"], funnel["failed"]) == (3, 1, 1)
    assert stats["exits_by_reason"] == {"error": 1}  # a permanent failure ends it
