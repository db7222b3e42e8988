"""Whatever order a contact's CRM events arrive in, however late, and whenever the scheduler
happens to run: once an exit event that counts for an enrollment has been applied, that
enrollment requests no further message, and in the end it has exited.

An exit event counts when it happened (CRM time) at or after the enrollment entered (the
trigger's CRM time): a reply that is not out-of-office (the sequence exits on reply), or an
unsubscribe from any channel. Hypothesis draws the events, their CRM times within two hours,
the arrival order, and the clock moves and scheduler runs between arrivals."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from api.app import create_app
from api.auth import ApiKeys
from domain.clock import ManualClock
from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings
from tests.api.conftest import ACME_KEY, KEYS, build_sequence
from tests.promises.support import (
    at,
    cold_lead_sequence,
    enrollment,
    message_requests,
    post_event,
    run_scheduler,
    step,
)

CONTACT = "ana"
CRM_START = at("10:00")  # every CRM time falls within the two hours after it
WIND_DOWN = [timedelta(minutes=35)] * 6  # each step (at most 20 minutes apart), then completion


@dataclass(frozen=True)
class CrmEvent:
    kind: str
    minute: int  # CRM time: minutes after CRM_START
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def occurred(self) -> datetime:
        return CRM_START + timedelta(minutes=self.minute)

    def counts_as_exit_since(self, entered: datetime) -> bool:
        leaves = (self.kind == "contact_unsubscribed" or (
            self.kind == "contact_replied" and not self.data["out_of_office"]))
        return leaves and self.occurred >= entered


@dataclass(frozen=True)
class Story:
    delays: list[int]  # minutes before each step
    events: list[CrmEvent]  # events[0] is the trigger
    arrival: list[int]  # indexes into events, in arrival order
    pauses: list[tuple[int, bool]]  # before each arrival: minutes passing, scheduler runs
    clock_start: int  # Dripline's clock at the start, minutes after CRM_START


COLD_LEAD = {"tag_id": "t-cold", "tag_name": "cold-lead"}
MINUTE = st.integers(min_value=0, max_value=120)
REPLIES = st.builds(CrmEvent, kind=st.just("contact_replied"), minute=MINUTE,
                    data=st.fixed_dictionaries({"channel": st.just("whatsapp"),
                                                "out_of_office": st.booleans()}))
UNSUBSCRIBES = st.builds(CrmEvent, kind=st.just("contact_unsubscribed"), minute=MINUTE,
                         data=st.one_of(st.just({}), st.fixed_dictionaries(
                             {"channel": st.sampled_from(["email", "whatsapp"])})))
UPDATES = st.builds(CrmEvent, kind=st.just("contact_updated"), minute=MINUTE,
                    data=st.fixed_dictionaries({"name": st.sampled_from(["Ana", "Ana Lima"])}))


@st.composite
def stories(draw: st.DrawFn) -> Story:
    trigger = CrmEvent("tag_added", draw(MINUTE), COLD_LEAD)
    others = draw(st.lists(st.one_of(REPLIES, UNSUBSCRIBES, UPDATES), min_size=1, max_size=4))
    events = [trigger, *others]
    pauses = draw(st.lists(st.tuples(st.integers(0, 40), st.booleans()),
                           min_size=len(events), max_size=len(events)))
    return Story(delays=draw(st.lists(st.integers(0, 20), min_size=2, max_size=3)),
                 events=events, arrival=draw(st.permutations(range(len(events)))),
                 pauses=pauses, clock_start=draw(st.integers(0, 150)))


def _tell(client: TestClient, runtime: Runtime, clock: ManualClock, story: Story
          ) -> tuple[list[str], dict[int, datetime]]:
    """Play the story; the enrollments it made, and when (Dripline's clock) each event was
    applied."""
    enrolled: list[str] = []
    applied: dict[int, datetime] = {}
    for index, (minutes, schedule) in zip(story.arrival, story.pauses, strict=True):
        clock.advance(timedelta(minutes=minutes))
        if schedule:
            run_scheduler(runtime)
        event = story.events[index]
        clock.set(max(clock(), event.occurred))  # nothing arrives before it happened
        result = post_event(client, f"evt-{index}", event.kind, CONTACT, event.data,
                            event.occurred)
        enrolled += result["enrolled"]
        applied[index] = clock()
        # Whatever happens next happens later than this event's arrival.
        clock.advance(timedelta(seconds=1))
    for pause in WIND_DOWN:
        clock.advance(pause)
        run_scheduler(runtime)
    return enrolled, applied


def _check(client: TestClient, runtime: Runtime, story: Story, enrolled: list[str],
           applied: dict[int, datetime]) -> None:
    entered = story.events[0].occurred  # the one trigger's CRM time
    first_exit = min((applied[i] for i, e in enumerate(story.events)
                      if e.counts_as_exit_since(entered)), default=None)
    if first_exit is None:
        return
    requests = message_requests(client, runtime, CONTACT)
    for enrollment_id in enrolled:
        late = [(m["message_id"], m["created_at"]) for m in requests
                if m["enrollment_id"] == enrollment_id
                and datetime.fromisoformat(m["created_at"]) > first_exit]
        assert late == [], f"requested after the exit applied at {first_exit}: {late}"
        ended = enrollment(client, enrollment_id)
        finished_first = (ended["status"] == "completed"
                          and datetime.fromisoformat(ended["completed_at"]) <= first_exit)
        assert ended["status"] == "exited" or finished_first, ended


# No "explain" phase: re-running the shrunk story many more times would only say which of
# its parts could vary, at a second of wall time per run.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
@given(story=stories())
# Tagged at 10:00, replied at 10:05, both reaching Dripline at 10:10: in either order.
@example(story=Story(delays=[0, 20], events=[
    CrmEvent("tag_added", 0, COLD_LEAD),
    CrmEvent("contact_replied", 5, {"channel": "whatsapp", "out_of_office": False})],
    arrival=[0, 1], pauses=[(0, True), (0, True)], clock_start=10))
@example(story=Story(delays=[0, 20], events=[
    CrmEvent("tag_added", 0, COLD_LEAD),
    CrmEvent("contact_replied", 5, {"channel": "whatsapp", "out_of_office": False})],
    arrival=[1, 0], pauses=[(0, True), (0, True)], clock_start=10))
def test_no_message_is_requested_after_an_exit_that_counts(story: Story) -> None:
    note(repr(story))  # the failure report prints drawn composites as blanks otherwise
    clock = ManualClock(CRM_START + timedelta(minutes=story.clock_start))
    with tempfile.TemporaryDirectory() as folder:
        runtime = bootstrap(Settings(database_url=f"sqlite:///{folder}/dripline.db"),
                            clock=clock)
        try:
            app = create_app(runtime, api_keys=ApiKeys.parse(KEYS))
            with TestClient(app, headers={"Authorization": f"Bearer {ACME_KEY}"}) as client:
                build_sequence(client, cold_lead_sequence(
                    *(step(i, f"Step {i}", minutes=m) for i, m in enumerate(story.delays))))
                enrolled, applied = _tell(client, runtime, clock, story)
                _check(client, runtime, story, enrolled, applied)
        finally:
            runtime.close()
