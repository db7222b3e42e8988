"""One round of the bulk-enroll workload (``python -m bench bulk-enroll``, cases in
``bench/workloads.py``): a fresh database, a one-step sequence created and activated, and
only the enrolling timed: N new contacts in one ``enroll_many`` call, or in one
``POST .../enroll/bulk`` through the HTTP API app in process.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from domain.clock import ManualClock
from dripline.bootstrap import bootstrap
from dripline.settings import Settings

TENANT = "bench"
SEQUENCE = {
    "name": "bench: bulk enroll",
    "steps": [{"order": 0, "name": "hello", "delay_amount": 1, "delay_unit": "days",
               "message_template": {"type": "text", "content": "Hi {{contact.name}}"}}],
}


def one_round(url: str, contacts: int, via: str = "core") -> float:
    """Seconds taken to enroll ``contacts`` new contacts on ``url`` in one call: the core's
    ``enroll_many`` (``via="core"``), or ``POST .../enroll/bulk`` through the HTTP API app
    in process (``via="http"``: JSON parsing, validation and the response included)."""
    runtime = bootstrap(Settings(database_url=url),
                        clock=ManualClock(datetime(2026, 11, 29, 9, 0, tzinfo=UTC)))
    try:
        app = runtime.app
        sequence = app.create_sequence(TENANT, SEQUENCE)
        app.activate_sequence(TENANT, sequence.id)
        ids = [f"contact-{i:05d}" for i in range(contacts)]
        if via == "http":
            enrolled, skipped, seconds = _through_http(runtime, str(sequence.id), ids)
        else:
            started = time.perf_counter()
            result = app.enroll_many(TENANT, sequence.id, ids)
            seconds = time.perf_counter() - started
            enrolled, skipped = len(result.enrolled), len(result.skipped)
    finally:
        runtime.close()
    if enrolled != contacts or skipped:
        raise SystemExit(f"expected {contacts} enrolled, got {enrolled} (skipped {skipped}): "
                         "the benchmark is not measuring what it says")
    return seconds


def _through_http(runtime: Any, sequence_id: str, ids: list[str]) -> tuple[int, int, float]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import ApiKeys

    client = TestClient(create_app(runtime, api_keys=ApiKeys.parse(f"{TENANT}:bench-key")))
    started = time.perf_counter()
    answer = client.post(f"/api/v1/automation/sequences/{sequence_id}/enroll/bulk",
                         json={"contact_ids": ids},
                         headers={"Authorization": "Bearer bench-key"})
    seconds = time.perf_counter() - started
    answer.raise_for_status()
    body = answer.json()
    return int(body["enrolled_count"]), int(body["skipped_count"]), seconds
