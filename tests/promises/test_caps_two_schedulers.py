"""Two ``dripline schedule`` processes on PostgreSQL send to the same contacts at the same
moment (CAPABILITIES §4, acceptance check 4): 50 contacts enrolled in 5 sequences whose first
step falls due together, a cap of 2 messages per rolling 24 hours. The ledger of each contact
is written with each request, so the schedulers collide on it and the loser decides again:
no contact ever gets more than 2, and no message id is requested twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import free_port, poll
from tests.promises.role_processes import V1, deployment, messages_of, ok

SEQUENCES = f"{V1}/automation/sequences"
CONTACTS = [f"c-{n:02d}" for n in range(50)]
CAP = {"rules": [{"channel": None, "max_messages": 2, "window": "rolling_24h"}]}
# The first step is due a minute after enrolling: both schedulers are running by then.
DUE_TIMEOUT = 240.0


def _sequence(http: httpx.Client, n: int) -> str:
    draft = ok(http.post(SEQUENCES, json={"name": f"Sequence {n}", "steps": [
        {"order": 0, "name": "Hello", "delay_amount": 1, "delay_unit": "minutes",
         "message_template": {"type": "text", "content": f"Hello from {n}"}}]}), 201)
    ok(http.post(f"{SEQUENCES}/{draft['id']}/activate"))
    return str(draft["id"])


def _decided(http: httpx.Client, enrollment_ids: list[str]) -> list[dict[str, Any]] | None:
    """The messages, once every enrollment either requested its message or waits for the
    cap (a day away)."""
    messages = messages_of(http)
    sent = {m["enrollment_id"] for m in messages}
    for enrollment_id in set(enrollment_ids) - sent:
        e = ok(http.get(f"{V1}/automation/enrollments/{enrollment_id}"))
        if e["deferred_by"] != "frequency_cap":
            return None
    return messages


def _funnel(http: httpx.Client, sequences: list[str]) -> dict[str, int] | None:
    """The first steps' requests and deferrals added up, once they account for all 250."""
    steps = [ok(http.get(f"{SEQUENCES}/{s}/stats"))["steps"][0] for s in sequences]
    out = {"requested": sum(s["message_requested"] for s in steps),
           **{r: sum(s["deferred"][r] for s in steps) for r in ("frequency_cap", "throttle")}}
    return out if out["requested"] + out["frequency_cap"] >= 250 else None


def _counters(port: int, name: str) -> dict[str, float]:
    """A labelled counter of one scheduler's /metrics, by its only label's value."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {line.split('"', 2)[1]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line.startswith(f"{name}{{")}


def test_two_schedulers_never_take_a_contact_over_its_cap(postgres_url: str,
                                                          tmp_path: Path) -> None:
    with deployment(postgres_url, tmp_path) as roles:
        http = roles.start_api()
        ok(http.put(f"{V1}/automation/settings", json={"frequency_cap": CAP}))
        enrolled: list[str] = []
        sequences = [_sequence(http, n) for n in range(5)]
        for sequence_id in sequences:
            bulk = ok(http.post(f"{SEQUENCES}/{sequence_id}/enroll/bulk",
                                json={"contact_ids": CONTACTS}))
            enrolled += [e["enrollment_id"] for e in bulk["enrolled"]]
        assert len(enrolled) == 250
        roles.start("project")
        # Small batches: the two take turns through the same contacts' enrollments.
        ports = [free_port(), free_port()]
        for port in ports:
            roles.start("schedule", "--batch-size", "20", DRIPLINE_METRICS_PORT=str(port))
        messages = poll(lambda: _decided(http, enrolled),
                        "every step sent or deferred by the cap", timeout=DUE_TIMEOUT,
                        interval=2.0)
        deferred = sum(_counters(port, "dripline_steps_deferred_total").get("frequency_cap", 0)
                       for port in ports)
        executed = [_counters(port, "dripline_steps_executed_total") for port in ports]
        funnel = poll(lambda: _funnel(http, sequences), "the stats to count every step",
                      timeout=60.0, interval=0.5)

    per_contact = Counter(m["contact_id"] for m in messages)
    assert max(per_contact.values()) <= 2, per_contact.most_common(3)
    assert sorted(per_contact) == CONTACTS  # and each got its 2: nothing held back wrongly
    assert set(per_contact.values()) == {2}
    # One request per enrollment at most, 100 in all, and each scheduler sent some of them:
    # the two really worked through the same contacts at once.
    per_step = Counter((m["enrollment_id"], m["step_order"]) for m in messages)
    assert set(per_step.values()) == {1}
    assert len(messages) == 100
    assert all(e.get("requested", 0) > 0 for e in executed), executed
    assert sum(e.get("requested", 0) for e in executed) == 100, executed
    # Every step held back is counted once, by reason, in the metrics and in the stats.
    assert deferred == 150
    assert funnel == {"requested": 100, "frequency_cap": 150, "throttle": 0}
