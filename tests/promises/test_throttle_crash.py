"""A throttled burst survives ``kill -9`` of the scheduler (CAPABILITIES §4, acceptance check
5, with real processes on PostgreSQL and the real clock): 300 enrollments fall due together
under an email throttle of 100 a minute; the scheduler is killed in the middle of the burst
and started again. Every UTC minute holds at most 100 requests, all 300 are requested by the
third minute's end in the order they fell due, and none is dropped or requested twice.

The acceptance check speaks of 1,000 over ten minutes; this is the same burst, scaled to
three real minutes so that it can run in CI (the 1,000-enrollment shape runs in-process with
the injected clock: ``test_throttle``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from tests.e2e.server import poll
from tests.promises.role_processes import V1, deployment, messages_of, ok

SEQUENCES = f"{V1}/automation/sequences"
CONTACTS = [f"c-{n:03d}" for n in range(300)]
PER_MINUTE = 100


def test_a_throttled_burst_survives_a_killed_scheduler(postgres_url: str,
                                                       tmp_path: Path) -> None:
    with deployment(postgres_url, tmp_path) as roles:
        http = roles.start_api()
        ok(http.put(f"{V1}/automation/settings",
                    json={"throttle": {"email": {"per_minute": PER_MINUTE}}}))
        draft = ok(http.post(SEQUENCES, json={"name": "Launch", "steps": [
            {"order": 0, "name": "Launch day", "delay_amount": 1, "delay_unit": "minutes",
             "message_template": {"type": "text", "content": "We launched",
                                  "channel": "email"}}]}), 201)
        ok(http.post(f"{SEQUENCES}/{draft['id']}/activate"))
        bulk = ok(http.post(f"{SEQUENCES}/{draft['id']}/enroll/bulk",
                            json={"contact_ids": CONTACTS}))
        enrolled = [e["enrollment_id"] for e in bulk["enrolled"]]
        assert len(enrolled) == len(CONTACTS)
        roles.start("project")
        roles.start("schedule")
        # Mid-burst: the first minute's share went out, the rest hold reserved slots.
        poll(lambda: len(messages_of(http)) >= 150 or None, "half of the burst",
             timeout=240.0, interval=0.5)
        killed = roles.roles.pop("schedule")
        killed.process.kill()
        assert killed.process.wait(30) == -9
        roles.start("schedule")
        messages = poll(lambda: ((found := messages_of(http)) and len(found) >= 300 and found)
                        or None, "the whole burst", timeout=300.0, interval=1.0)
        due = {e: datetime.fromisoformat(ok(http.get(f"{V1}/automation/enrollments/{e}"))[
            "enrolled_at"]) + timedelta(minutes=1) for e in enrolled}

    # None dropped, none twice: one request per enrollment's step, 300 in all.
    per_step = Counter((m["enrollment_id"], m["step_order"]) for m in messages)
    assert per_step == {(e, 0): 1 for e in enrolled}
    assert len(messages) == 300
    created = {m["enrollment_id"]: datetime.fromisoformat(m["created_at"]) for m in messages}
    per_minute = Counter(c.replace(second=0, microsecond=0) for c in created.values())
    assert max(per_minute.values()) <= PER_MINUTE, sorted(per_minute.items())
    burst_due = min(due.values())
    # By the end of the third minute (a slot is taken again, at once, if the scheduler
    # reaches it a moment after its minute ended).
    assert max(created.values()) <= burst_due + timedelta(minutes=3, seconds=10)
    by_request = sorted(created, key=lambda e: (created[e], due[e], e))
    assert by_request == sorted(created, key=lambda e: (due[e], e))  # in due order
