"""Frequency cap decisions and the send ledger, on the domain objects directly: calendar days
on the days clocks change, and a ledger that keeps only what a window can still see and
survives a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from domain.caps import LEDGER_HORIZON, CapPolicy, CapRule
from domain.send_ledger import SendLedger
from domain.snapshots import Snapshot

BERLIN = ZoneInfo("Europe/Berlin")


def _calendar(limit: int = 1) -> CapPolicy:
    return CapPolicy((CapRule(None, limit, "calendar_day"),))


def test_a_calendar_day_on_the_day_clocks_go_forward_is_23_hours() -> None:
    # 2026-03-29 in Berlin runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z.
    sent = [(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "email")]
    [block] = _calendar().blocks(sent, "email", datetime(2026, 3, 29, 21, 0, tzinfo=UTC),
                                 BERLIN)
    assert block.frees_at == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert _calendar().blocks(sent, "email", block.frees_at, BERLIN) == []


def test_a_calendar_day_on_the_day_clocks_go_back_is_25_hours() -> None:
    # 2026-10-25 in Berlin runs from 2026-10-24T22:00Z to 2026-10-25T23:00Z.
    sent = [(datetime(2026, 10, 24, 22, 0, tzinfo=UTC), "email")]
    [block] = _calendar().blocks(sent, "email", datetime(2026, 10, 25, 22, 30, tzinfo=UTC),
                                 BERLIN)
    assert block.frees_at == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    # The instant before the local day began belongs to the day before.
    earlier = [(datetime(2026, 10, 24, 21, 59, tzinfo=UTC), "email")]
    assert _calendar().blocks(earlier, "email", datetime(2026, 10, 25, 1, tzinfo=UTC),
                              BERLIN) == []


def test_the_most_restrictive_rule_decides_and_a_channel_rule_counts_its_channel() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    policy = CapPolicy((CapRule(None, 3, "rolling_24h"), CapRule("sms", 1, 2)))
    sent = [(now - timedelta(hours=1), "sms"), (now - timedelta(minutes=5), "email")]
    [block] = policy.blocks(sent, "sms", now, BERLIN)
    assert (block.rule_index, block.count, block.limit) == (1, 1, 1)
    assert block.frees_at == now + timedelta(hours=1)  # the sms plus its 2-hour window
    assert policy.blocks(sent, "email", now, BERLIN) == []


def test_the_ledger_keeps_what_a_window_can_see_and_snapshots() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ledger = SendLedger.start("acme", "ana", start)
    sequence = uuid4()
    for day in range(60):
        ledger.count(f"m-{day}", sequence, "email", start + timedelta(days=day))
    last = start + timedelta(days=59)
    assert [at for at, _ in ledger.sends] == [
        start + timedelta(days=d) for d in range(60) if start + timedelta(days=d) > last
        - LEDGER_HORIZON]
    assert len(ledger.sends) == 31
    copy = Snapshot.take(ledger).mutate(None)
    assert isinstance(copy, SendLedger)
    assert (copy.sends, copy.version) == (ledger.sends, ledger.version)
