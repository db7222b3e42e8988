"""The rounds of the pause/resume race test (see ``test_pause_resume_race``): a busy
sequence that fills one long scheduler batch, and, each round, a fresh sequence paused before
the projector saw its one enrollment and resumed while the scheduler is frozen part-way
through that batch."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from tests.e2e.server import poll
from tests.promises.role_processes import (
    V1,
    Role,
    immediate_sequence,
    messages_of,
    metric_total,
    ok,
    projection_lag,
)

SEQUENCES = f"{V1}/automation/sequences"
BATCH = 500  # the scheduler's batch: one enrollment of the paused sequence and the busy ones
CHAIN = 10  # zero-delay steps of the busy sequence, all executed within the one batch
QUIET_TIMEOUT = 60.0  # seconds, for a batch to be executed and listed
SETTLE_TIMEOUT = 20.0  # seconds, for the last resumed enrollments' steps after the rounds
BLOCKED = 5.0  # seconds after which a request is taken to wait for a frozen role's lock
T = TypeVar("T")


class Rounds:
    def __init__(self, http: httpx.Client, project: Role, schedule: Role,
                 metrics_port: int) -> None:
        self.http, self.project, self.schedule = http, project, schedule
        self.metrics = f"http://127.0.0.1:{metrics_port}/metrics"
        self.busy = active_sequence(http, "Busy", CHAIN)
        self.busy_contacts = 0
        self.disturbed = False  # a request of this round had to thaw the roles

    def time_one_batch(self) -> float:
        """Seconds from thawing the scheduler to the end of one full batch of busy
        enrollments (a cold scheduler's: an upper bound; the rounds steer from there)."""
        # Read while it answers: a frozen scheduler serves no metrics either.
        batches = poll(self._batches, "the scheduler's metrics", timeout=QUIET_TIMEOUT,
                       interval=0.1)
        self.schedule.freeze()
        self._fill_the_batch(BATCH)
        self.schedule.thaw()
        started = time.monotonic()
        # Or until they are all requested already: an engine that executes a first step
        # due at once while enrolling leaves the scheduler nothing to do.
        poll(lambda: (self._batches() or 0) > batches or self._busy_requested() or None,
             "the scheduler's batch", timeout=QUIET_TIMEOUT, interval=0.05)
        elapsed = time.monotonic() - started
        self._wait_until_busy_requested()
        return elapsed

    def resume_during_a_batch(self, n: int, freeze_after: float) -> tuple[dict[str, Any], str]:
        """One round (as told in ``test_pause_resume_race``): the enrollment of the sequence
        paused and resumed, and where the freeze fell (early, inside, late)."""
        sequence = active_sequence(self.http, f"Paused {n}", 1)
        self.disturbed = False
        self.schedule.freeze()
        self.project.freeze()
        enrollment: dict[str, Any] = self._answer(lambda: ok(self.http.post(
            f"{SEQUENCES}/{sequence['id']}/enroll", json={"contact_id": f"p-{n}"}), 201))
        self._answer(lambda: ok(self.http.post(f"{SEQUENCES}/{sequence['id']}/pause")))
        self._fill_the_batch(BATCH - 1)
        disturbed = self.disturbed
        self.schedule.thaw()
        # Not a wait for a due step: this places the next freeze inside the batch.
        time.sleep(freeze_after)
        self.schedule.freeze()
        self.disturbed = False
        self._answer(lambda: ok(self.http.post(f"{SEQUENCES}/{sequence['id']}/resume")))
        # A scheduler frozen while saving holds the store's write lock: the resume waited
        # for it, and came after the batch.
        late = self.disturbed
        self.schedule.thaw()
        self._wait_until_busy_requested()
        if disturbed:
            return enrollment, "disturbed"
        return enrollment, "late" if late else self._landing(enrollment["id"])

    def _answer(self, request: Callable[[], T]) -> T:
        """What ``request`` answers. Should it wait on a lock held by a frozen role (frozen
        while saving, say), both roles are thawed to let it through, and the round is
        marked disturbed."""
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(request)
            try:
                return answer.result(timeout=BLOCKED)
            except TimeoutError:
                self.disturbed = True
                self.schedule.thaw()
                self.project.thaw()
                return answer.result()

    def _landing(self, enrollment_id: str) -> str:
        status = ok(self.http.get(f"{V1}/automation/enrollments/{enrollment_id}"))["status"]
        if status == "paused":
            return "inside"
        history = ok(self.http.get(f"{V1}/automation/enrollments/{enrollment_id}/history"))
        return "late" if any("paused" in e["type"] for e in history["items"]) else "early"

    def _fill_the_batch(self, contacts: int) -> None:
        """Enroll ``contacts`` new contacts in the busy sequence; returns once the projector
        (thawed if frozen) has put them on the due list."""
        first = self.busy_contacts
        self.busy_contacts += contacts
        contact_ids = [f"b-{i}" for i in range(first, self.busy_contacts)]
        bulk = self._answer(lambda: ok(self.http.post(
            f"{SEQUENCES}/{self.busy['id']}/enroll/bulk", json={"contact_ids": contact_ids})))
        assert bulk["enrolled_count"] == contacts, bulk
        self.project.thaw()
        poll(lambda: projection_lag(self.http) == 0 or None, "the read models to catch up",
             timeout=QUIET_TIMEOUT, interval=0.05)

    def _wait_until_busy_requested(self) -> None:
        """Every busy step so far is requested and listed: the batch is saved and the
        scheduler idle again."""
        poll(lambda: self._busy_requested() or None, "the busy sequence's message requests",
             timeout=QUIET_TIMEOUT, interval=0.1)

    def _busy_requested(self) -> bool:
        page = ok(self.http.get(f"{V1}/automation/messages",
                                params={"sequence_id": self.busy["id"], "limit": 1}))
        return bool(page["total"] >= self.busy_contacts * CHAIN)

    def _batches(self) -> float | None:
        """Batches the scheduler has executed; None while its metrics port is not up."""
        try:
            page = httpx.get(self.metrics, timeout=10)
        except httpx.TransportError:
            return None
        return metric_total(page.text, "dripline_scheduler_batches_total")


def active_sequence(http: httpx.Client, name: str, steps: int) -> dict[str, Any]:
    draft = ok(http.post(SEQUENCES, json=immediate_sequence(
        name, {"trigger_type": "manual"}, steps)), 201)
    activated: dict[str, Any] = ok(http.post(f"{SEQUENCES}/{draft['id']}/activate"))
    return activated


def unfinished_once_quiet(http: httpx.Client,
                           enrollments: list[dict[str, Any]]) -> dict[str, str]:
    """Each enrollment that is paused or whose one step is not requested, once nothing
    moves any more (bounded): contact id -> its status."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        unfinished = {}
        for enrollment in enrollments:
            status = ok(http.get(f"{V1}/automation/enrollments/{enrollment['id']}"))["status"]
            requested = any(m["enrollment_id"] == enrollment["id"] for m in messages_of(
                http, sequence_id=enrollment["sequence_id"]))
            if status == "paused" or not requested:
                unfinished[enrollment["contact_id"]] = status
        if not unfinished or time.monotonic() > deadline:
            return unfinished
        time.sleep(0.2)
