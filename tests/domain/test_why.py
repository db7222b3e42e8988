"""The why view's reasons from the events alone (``domain.why``): the deferrals that other
capabilities record as ``enrollment.rescheduled`` with a reason of their own (frequency cap,
throttle) explain themselves with what they recorded; old ``Rescheduled`` events (no
reason) mean the send window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.enrollment import Enrollment
from domain.why import Context, explain
from domain.why_timeline import masked

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _explained(reason: str, detail: dict[str, Any] | None) -> Any:
    e = Enrollment.start(id=uuid4(), tenant_id="acme", sequence_id=uuid4(), contact_id="c-1",
                         number=1, step_order=0, due_at=NOW, source="manual", at=NOW,
                         nominal_due_at=NOW)
    e.reschedule(NOW + timedelta(hours=3), NOW, reason=reason, detail=detail)
    events = list(e.collect_events())
    ctx = Context(revision=None, contact_timezone=None, migrating_to=None, now=NOW,
                  stuck_after=timedelta(seconds=300))
    return explain(e, events, ctx)


@pytest.mark.parametrize(("reason", "detail"), [
    ("frequency_cap", {"rule_index": 1, "count": 3, "limit": 3}),
    ("throttle", {"channel": "email", "minute": "2026-11-29T09:00Z", "limit": 100}),
])
def test_a_deferral_by_a_cap_or_a_throttle_says_so_with_its_detail_until_its_due_time(
        reason: str, detail: dict[str, Any]) -> None:
    explained = _explained(reason, detail)
    assert explained.waiting.reason == reason
    assert explained.waiting.detail == detail
    assert explained.waiting.until == NOW + timedelta(hours=3)
    assert explained.waiting.since == NOW
    assert explained.timeline[-1].data == {"due_at": "2026-11-29T12:00:00Z",
                                           "reason": reason, "detail": detail}


def test_an_old_rescheduled_event_without_a_reason_means_the_send_window() -> None:
    stored = Enrollment.Rescheduled.__dataclass_fields__
    assert stored["reason"].default == "send_window"
    assert stored["detail"].default is None
    explained = _explained("send_window", None)
    assert explained.waiting.reason == "send_window"
    assert explained.waiting.detail["timezone"] == "UTC"


def test_addresses_and_phone_numbers_in_recorded_text_are_masked() -> None:
    assert masked("550 <ana.l@example.com> unknown; call +49 170 1234567") == (
        "550 <[email]> unknown; call [number]")
