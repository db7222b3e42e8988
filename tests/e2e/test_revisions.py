"""Versioned sequences, black-box (CAPABILITIES §8, acceptance checks 1-6): a real
``dripline serve`` on SQLite and on PostgreSQL, and on PostgreSQL also ``dripline api``,
``project`` and ``schedule`` as separate processes (the migration then runs in the scheduler
process). Everything is driven over HTTP and the CLI, on the real clock: step 1 falls due a
minute after step 0, so the checks share that minute.

- Sequence A (checks 1 and 5): E1 waits at s1; revision 2 edits s1's text; two clients publish
  it with the same If-Match (one 200, one 412); E2, enrolled after, gets the new text, E1 the
  old one.
- Sequence B (checks 2 and 3): three enrollments wait at s1; revision 2 replaces s1 by s1'.
  Publishing without mapping s1 is a 422 naming ``migrate.step_map.<s1>``; a dry run with
  ``{s1: {to: s1'}}`` counts 3 and moves nobody; the real publish moves the three with their
  due times unchanged, their next message is s1''s, and no message id repeats.
- Sequence C (check 4): an enrollment waiting at s1 (s0 executed) mapped to s0 is a conflict
  and stays on revision 1.
- Check 6: after ``dripline replay --all`` the enrollments, the stats by step id and the
  revision lists read the same.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import dripline_command, poll
from tests.promises.role_processes import V1, Deployment, deployment, ok

SEQUENCES = f"{V1}/automation/sequences"
WAIT = 150.0  # seconds: s1 falls due a minute after s0, on a busy machine


def _steps() -> list[dict[str, Any]]:
    """s0 at once, s1 a minute later, s2 a day after that (never within the test)."""
    return [{"order": n, "name": f"s{n}", "delay_amount": [0, 1, 1][n],
             "delay_unit": ["minutes", "minutes", "days"][n],
             "message_template": {"type": "text", "content": f"step {n}"}} for n in range(3)]


def _live(http: httpx.Client, name: str) -> dict[str, Any]:
    draft = ok(http.post(SEQUENCES, json={"name": name, "steps": _steps()}), 201)
    return dict(ok(http.post(f"{SEQUENCES}/{draft['id']}/activate")))


def _enroll(http: httpx.Client, sequence: dict[str, Any], contact: str) -> dict[str, Any]:
    return dict(ok(http.post(f"{SEQUENCES}/{sequence['id']}/enroll",
                             json={"contact_id": contact}), 201))


def _enrollment(http: httpx.Client, enrollment_id: str) -> dict[str, Any]:
    return dict(ok(http.get(f"{V1}/automation/enrollments/{enrollment_id}")))


def _messages(http: httpx.Client, enrollment_id: str) -> list[dict[str, Any]]:
    found = ok(http.get(f"{V1}/automation/messages",
                        params={"enrollment_id": enrollment_id, "limit": 500}))["items"]
    return sorted(found, key=lambda m: (m["step_order"], m["attempt"]))


def _waiting_at_s1(http: httpx.Client, enrollment_id: str) -> None:
    poll(lambda: _enrollment(http, enrollment_id)["current_step_order"] == 1 or None,
         f"{enrollment_id} to wait at s1", timeout=WAIT)


def _content_at(http: httpx.Client, enrollment_id: str, order: int) -> str:
    def sent() -> str | None:
        for m in _messages(http, enrollment_id):
            if m["step_order"] == order:
                return str(m["content"])
        return None

    return poll(sent, f"the step {order} message of {enrollment_id}", timeout=WAIT,
                interval=0.5)


def _publish_twice(http: httpx.Client, url: str, version: int) -> list[int]:
    """Two clients publish at once, both having read ``version``."""
    codes: list[int] = []
    start = threading.Barrier(2)

    def publish() -> None:
        with httpx.Client(base_url=str(http.base_url), headers=dict(http.headers),
                          timeout=60) as other:
            start.wait()
            codes.append(other.post(url, json={}, headers={"If-Match": str(version)})
                         .status_code)

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def _snapshot(http: httpx.Client, sequences: list[dict[str, Any]]) -> dict[str, Any]:
    """What replay must rebuild identically: enrollments, stats by step id, revisions."""
    out: dict[str, Any] = {}
    for s in sequences:
        base = f"{SEQUENCES}/{s['id']}"
        enrollments = ok(http.get(f"{base}/enrollments", params={"limit": 500,
                                                                 "after": "head"}))["items"]
        stats = ok(http.get(f"{base}/stats", params={"after": "head"}))
        out[s["id"]] = {
            "enrollments": sorted(enrollments, key=lambda e: e["id"]),
            "stats": stats,
            "stats_r1": ok(http.get(f"{base}/stats", params={"revision": 1})),
            "revisions": ok(http.get(f"{base}/revisions"))["items"],
        }
    return out


def _start(roles: Deployment, split: bool, workers: bool = True) -> httpx.Client:
    """``serve``; or ``api``, with ``project`` and ``schedule`` beside it unless only reads
    are wanted (after the replay: the read models are rebuilt, nothing is due)."""
    if not split:
        return roles.start_api("serve")
    http = roles.start_api()
    if workers:
        roles.start("project")
        roles.start("schedule")
    return http


def _scenario(http: httpx.Client) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    a, b, c = (_live(http, name) for name in ("A", "B", "C"))
    e1 = _enroll(http, a, "a-1")["id"]
    waiting = [_enroll(http, b, f"b-{n}")["id"] for n in range(3)]
    ahead = _enroll(http, c, "c-1")["id"]
    for enrollment_id in (e1, *waiting, ahead):
        _waiting_at_s1(http, enrollment_id)  # s0 went out at once
    dues = {i: _enrollment(http, i)["next_scheduled_at"] for i in waiting}

    # Check 1 and 5: revision 2 of A changes s1's text; two publishes, one If-Match.
    a_base = f"{SEQUENCES}/{a['id']}"
    draft = ok(http.post(f"{a_base}/revisions", json={}), 201)
    s1 = a["steps"][1]["id"]
    ok(http.put(f"{a_base}/revisions/2/steps/{s1}", json={
        "message_template": {"type": "text", "content": "step 1, revised"}}))
    version = ok(http.get(f"{a_base}/revisions/2"))["version"]
    assert draft["status"] == "draft"
    assert _publish_twice(http, f"{a_base}/revisions/2/publish", version) == [200, 412]
    e2 = _enroll(http, a, "a-2")
    assert e2["revision"] == 2
    assert _enrollment(http, e1)["revision"] == 1

    # Checks 2 and 3: revision 2 of B replaces s1 by s1'.
    b_base = f"{SEQUENCES}/{b['id']}"
    b_s1 = b["steps"][1]["id"]
    ok(http.post(f"{b_base}/revisions", json={}), 201)
    ok(http.delete(f"{b_base}/revisions/2/steps/{b_s1}"))
    prime = ok(http.post(f"{b_base}/revisions/2/steps", json={
        "order": 1, "name": "s1 prime", "delay_amount": 1, "delay_unit": "minutes",
        "message_template": {"type": "text", "content": "step 1 prime"}}), 201)["step"]["id"]
    unmapped = ok(http.post(f"{b_base}/revisions/2/publish",
                            json={"migrate": {"step_map": {}}}), 422)
    assert f"migrate.step_map.{b_s1}" in str(unmapped)
    migrate = {"step_map": {b_s1: {"to": prime}}}
    dry = ok(http.post(f"{b_base}/revisions/2/publish", json={"migrate": migrate,
                                                               "dry_run": True}))
    assert dry["migration"]["planned"] == [{"from_step": b_s1, "to_step": prime, "count": 3}]
    assert all(_enrollment(http, i)["revision"] == 1 for i in waiting)
    ok(http.post(f"{b_base}/revisions/2/publish", json={"migrate": migrate}))
    poll(lambda: ok(http.get(f"{b_base}/revisions/2/migration"))["done"] or None,
         "the migration of B to finish", timeout=WAIT)
    progress = ok(http.get(f"{b_base}/revisions/2/migration"))
    assert (progress["migrated"], progress["conflicts"]) == (3, 0)
    for i in waiting:
        moved = _enrollment(http, i)
        assert (moved["revision"], moved["next_scheduled_at"]) == (2, dues[i])

    # Check 4: C's s1 mapped to s0, which the enrollment already executed.
    c_base = f"{SEQUENCES}/{c['id']}"
    ok(http.post(f"{c_base}/revisions", json={}), 201)
    c_steps = c["steps"]
    conflict = ok(http.post(f"{c_base}/revisions/2/publish", json={"migrate": {
        "step_map": {c_steps[1]["id"]: {"to": c_steps[0]["id"]}}}}))
    assert conflict["migration"]["conflicts"] == [{
        "enrollment_id": ahead, "from_step": c_steps[1]["id"], "to_step": c_steps[0]["id"]}]
    poll(lambda: ok(http.get(f"{c_base}/revisions/2/migration"))["done"] or None,
         "the migration of C to finish", timeout=WAIT)
    assert _enrollment(http, ahead)["revision"] == 1

    # The minute passes: each enrollment's s1 goes out with its revision's text.
    assert _content_at(http, e1, 1) == "step 1"
    assert _content_at(http, e2["id"], 1) == "step 1, revised"
    for i in waiting:
        assert _content_at(http, i, 1) == "step 1 prime"
        ids = [m["message_id"] for m in _messages(http, i)]
        assert len(ids) == len(set(ids)) == 2
    assert _content_at(http, ahead, 1) == "step 1"
    return [a, b, c], {"waiting": waiting}


@pytest.mark.parametrize(("store", "split"), [
    ("sqlite", False),
    pytest.param("postgres", False, marks=pytest.mark.postgres),
    pytest.param("postgres", True, marks=pytest.mark.postgres),
], ids=["serve-sqlite", "serve-postgres", "split-postgres"])
def test_revisions_acceptance(store: str, split: bool, tmp_path: Path,
                              request: pytest.FixtureRequest) -> None:
    url = (request.getfixturevalue("postgres_url") if store == "postgres"
           else f"sqlite:///{tmp_path / 'dripline.db'}")
    with deployment(url, tmp_path) as roles:
        http = _start(roles, split)
        sequences, _ = _scenario(http)
        before = _snapshot(http, sequences)
    replay = subprocess.run([*dripline_command(), "replay", "--all"], env=roles.env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    (tmp_path / "after").mkdir()
    with deployment(url, tmp_path / "after") as again:
        http = _start(again, split, workers=False)
        after = _snapshot(http, sequences)
    assert after == before
