"""A/B testing, the winner (CAPABILITIES §1, acceptance checks 2, 3, 4 and 6), over HTTP on
the test's clock with the scheduler role run as a deployment runs it (every 5 minutes).

A step-1 test with 300 exposures per arm, replies to 10 % of A's and 30 % of B's step-1
messages: once the exposures have matured (72 h) the next evaluation concludes B, by
``auto``, with the p-values it used; new enrollments get B, and an A enrollment still before
step 1 receives A's content there. With equal rates, seven looks end ``inconclusive`` and the
split goes on. A manual conclusion may name the worse arm, once. After ``dripline replay
--all`` the experiments view is byte for byte what it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from dripline.cli import app as cli
from tests.api.conftest import V1, envelope, ok
from tests.promises.ab_support import ab_sequence, expected_arm, experiment, experiment_view
from tests.promises.support import (
    EVENTS,
    let_time_pass,
    message_requests,
    post_event,
    stamp,
    step,
)

WEIGHTS = {"A": 50, "B": 50}
DAY = timedelta(days=1)
STEPS = [step(0, "Welcome"), step(1, "Original", minutes=1440)]


def _by_arm(sequence_id: str, per_arm: int, skip: int = 0) -> dict[str, list[str]]:
    """``per_arm`` contacts the documented split puts in each arm (the test's own formula)."""
    found: dict[str, list[str]] = {"A": [], "B": []}
    i = skip
    while min(len(v) for v in found.values()) < per_arm:
        contact = f"p-{i}"
        arm = found[expected_arm("acme", sequence_id, "subject-test", contact, WEIGHTS)]
        if len(arm) < per_arm:
            arm.append(contact)
        i += 1
    return found


def _enroll(client: TestClient, sequence_id: str, contacts: list[str]) -> dict[str, str]:
    done = ok(client.post(f"{V1}/sequences/{sequence_id}/enroll/bulk",
                          json={"contact_ids": contacts}))
    assert done["enrolled_count"] == len(contacts)
    return {e["contact_id"]: e["enrollment_id"] for e in done["enrolled"]}


def _reply(client: TestClient, clock: ManualClock, enrollments: dict[str, str],
           contacts: list[str]) -> None:
    """Replies naming each contact's step-1 message, half an hour after it was sent."""
    when = stamp(clock() - timedelta(minutes=30))
    batch = [envelope(f"reply-{c}", "contact_replied", c,
                      {"channel": "whatsapp", "message_id": f"{enrollments[c]}:1:1"}, at=when)
             for c in contacts]
    answer = ok(client.post(EVENTS, json=batch), 202)
    assert {r["outcome"] for r in answer["results"]} == {"applied"}, answer


def _experiment_started(client: TestClient, runtime: Runtime, clock: ManualClock,
                        reply_share: tuple[float, float], per_arm: int,
                        **auto_winner: Any) -> tuple[str, dict[str, list[str]]]:
    """The sequence, ``per_arm`` contacts per arm enrolled and exposed at step 1 a day
    later, and replies to the given shares of A's and B's step-1 messages."""
    sequence = ab_sequence(client, STEPS, tested=1, **auto_winner)
    sid = sequence["id"]
    arms = _by_arm(sid, per_arm)
    enrollments = _enroll(client, sid, arms["A"] + arms["B"])
    let_time_pass(runtime, clock, DAY + timedelta(hours=1))
    for arm, share in zip("AB", reply_share, strict=True):
        _reply(client, clock, enrollments, arms[arm][:round(per_arm * share)])
    view = experiment_view(client, runtime, sid)
    assert [(a["key"], a["assigned"], a["exposures"], a["matured"]) for a in view["arms"]] == [
        ("A", per_arm, per_arm, 0), ("B", per_arm, per_arm, 0)]
    return sid, arms


def _new_enrollment(client: TestClient, sid: str, contact: str) -> dict[str, Any]:
    return dict(ok(client.post(f"{V1}/sequences/{sid}/enroll",
                               json={"contact_id": contact}), 201))


def test_b_wins_on_its_own_once_the_exposures_matured(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sid, _ = _experiment_started(acme, runtime, clock, (0.10, 0.30), per_arm=300,
                                 min_exposures_per_arm=300)
    exposed_at = clock() - timedelta(hours=1)
    # Enrolled before the winner, in arm A: it reaches step 1 after the conclusion.
    late_a = _by_arm(sid, 1, skip=10_000)["A"][0]
    clock.set(exposed_at + timedelta(hours=71))
    assert _new_enrollment(acme, sid, late_a)["assignments"] == {
        "subject-test": {"arm": "A", "by": "split"}}
    let_time_pass(runtime, clock, timedelta(minutes=55))  # still short of 72 h
    assert experiment_view(acme, runtime, sid)["status"] == "running"
    assert experiment_view(acme, runtime, sid)["looks"] == []

    let_time_pass(runtime, clock, timedelta(minutes=10))  # past 72 h by at most 5 minutes
    view = experiment_view(acme, runtime, sid)
    assert (view["status"], view["winner"], view["concluded_by"]) == ("concluded", "B", "auto")
    [first] = view["looks"]
    assert (first["n"], first["result"], first["best"]) == (1, "significant", "B")
    assert first["counts"] == {"A": {"exposures": 300, "successes": 30},
                               "B": {"exposures": 300, "successes": 90}}
    assert 0 < first["p_values"]["A"] < 0.05 / 7
    assert {a["key"]: a["p_value_vs_best"] for a in view["arms"]} == {
        "A": first["p_values"]["A"], "B": None}
    assert {a["key"]: a["rate"] for a in view["arms"]} == {"A": 0.1, "B": 0.3}

    # A contact the split would put in A now gets the winner.
    newcomer = _by_arm(sid, 1, skip=20_000)["A"][0]
    assert _new_enrollment(acme, sid, newcomer)["assignments"] == {
        "subject-test": {"arm": "B", "by": "winner"}}
    let_time_pass(runtime, clock, DAY + timedelta(minutes=10))
    [_, step1] = message_requests(acme, runtime, newcomer)
    assert (step1["variant"], step1["content"]) == ("B", "Hi B")
    [_, step1] = message_requests(acme, runtime, late_a)
    assert (step1["variant"], step1["content"]) == ("A", "Hi A")
    # The step's funnel per arm: 300 exposed each, one more of A (late) and B (newcomer).
    stats = ok(acme.get(f"{V1}/sequences/{sid}/stats"))
    assert stats["steps"][0]["variants"] == []
    assert [(v["variant"], v["message_requested"], v["replied"], v["rates"]["reply_rate"])
            for v in stats["steps"][1]["variants"]] == [("A", 301, 30, 0.1),
                                                       ("B", 301, 90, 0.299)]


def test_equal_rates_end_inconclusive_and_the_split_goes_on_and_replay_changes_nothing(
        acme: TestClient, runtime: Runtime, clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sid, _ = _experiment_started(acme, runtime, clock, (0.2, 0.2), per_arm=250,
                                 evaluate_every_hours=1, min_exposures_per_arm=250)
    let_time_pass(runtime, clock, timedelta(hours=71), every=timedelta(hours=1))
    let_time_pass(runtime, clock, timedelta(hours=7))
    view = experiment_view(acme, runtime, sid)
    assert (view["status"], view["winner"]) == ("inconclusive", None)
    assert [x["result"] for x in view["looks"]] == ["not_significant"] * 7
    assert [x["n"] for x in view["looks"]] == list(range(1, 8))
    for contact, arm in (("q-1", None), ("q-2", None)):
        got = _new_enrollment(acme, sid, contact)["assignments"]["subject-test"]
        assert got == {"arm": expected_arm("acme", sid, "subject-test", contact, WEIGHTS),
                       "by": "split"}, arm

    runtime.catch_up()
    before = acme.get(f"{V1}/sequences/{sid}/experiments").content
    monkeypatch.setenv("DRIPLINE_DATABASE_URL", runtime.settings.database_url)
    result = CliRunner().invoke(cli, ["replay", "--all"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "experiment_stats: rebuilt to position" in result.output
    assert acme.get(f"{V1}/sequences/{sid}/experiments").content == before


def test_a_manual_conclusion_may_name_the_worse_arm_once(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = ab_sequence(acme, STEPS, tested=1)
    sid = sequence["id"]
    url = f"{V1}/sequences/{sid}/experiments/subject-test/conclude"
    unknown = acme.post(url, json={"winner": "C"})
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["winner"]
    done = ok(acme.post(url, json={"winner": "A"}))
    assert (done["status"], done["winner"], done["concluded_by"]) == ("concluded", "A",
                                                                        "manual")
    newcomer = _by_arm(sid, 1)["B"][0]
    assert _new_enrollment(acme, sid, newcomer)["assignments"] == {
        "subject-test": {"arm": "A", "by": "winner"}}
    assert acme.post(url, json={"winner": "B"}).status_code == 409
    assert acme.post(f"{V1}/sequences/{sid}/experiments/nope/conclude",
                     json={"winner": "A"}).status_code == 404


class _Interleaved:
    """The read-model lookups of the runtime, but a second evaluator takes its look while
    the first one is reading the experiment's members: two schedulers at once."""

    def __init__(self, runtime: Runtime) -> None:
        self.inner, self.runtime, self.raced = runtime.app.lookups, runtime, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def experiment_counts(self, *args: Any) -> Any:
        if not self.raced:
            self.raced = True
            assert self.runtime.app.experiments.evaluate_due() == 1  # the other one wins
        return self.inner.experiment_counts(*args)


def test_two_evaluators_at_once_record_one_look(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sid, _ = _experiment_started(acme, runtime, clock, (0.2, 0.2), per_arm=250,
                                 min_exposures_per_arm=250)
    clock.set(clock() + timedelta(hours=72))
    runtime.catch_up()
    racing = _Interleaved(runtime)
    runtime.app.lookups = racing
    try:
        assert runtime.app.experiments.evaluate_due() == 0  # met the other on the version
    finally:
        runtime.app.lookups = racing.inner
    assert racing.raced
    assert [x["n"] for x in experiment_view(acme, runtime, sid)["looks"]] == [1]


class _FirstTimesOut:
    """The runtime's lookups, but reading the first experiment's counts times out."""

    def __init__(self, runtime: Runtime) -> None:
        self.inner, self.failed = runtime.app.lookups, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def experiment_counts(self, *args: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise TimeoutError("the read model did not answer")
        return self.inner.experiment_counts(*args)


def test_an_experiment_that_fails_does_not_starve_the_others(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    started = [ab_sequence(acme, STEPS, tested=1, min_exposures_per_arm=10)["id"]
               for _ in range(2)]
    for sid in started:
        arms = _by_arm(sid, 10)
        _enroll(acme, sid, arms["A"] + arms["B"])
    let_time_pass(runtime, clock, DAY + timedelta(hours=1))
    clock.set(clock() + timedelta(hours=72))
    runtime.catch_up()
    failing = _FirstTimesOut(runtime)
    runtime.app.lookups = failing
    try:
        assert runtime.app.experiments.evaluate_due() == 1  # the other one's look
    finally:
        runtime.app.lookups = failing.inner
    assert failing.failed
    looks = sorted(len(experiment_view(acme, runtime, sid)["looks"]) for sid in started)
    assert looks == [0, 1]


def test_a_quiet_test_records_its_thin_look_once_and_looks_leave_the_trigger_epoch(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sid = ab_sequence(acme, STEPS, tested=1, min_exposures_per_arm=10,
                      evaluate_every_hours=1)["id"]
    arms = _by_arm(sid, 10)
    enrolled = clock()
    enrollments = _enroll(acme, sid, arms["A"] + arms["B"])
    let_time_pass(runtime, clock, DAY + timedelta(hours=1))
    runtime.catch_up()  # the looks read the read model as it is
    epoch = runtime.app.store.trigger_view(["acme"]).epochs.get("acme")
    let_time_pass(runtime, clock, timedelta(hours=75), every=timedelta(hours=1))
    looks = experiment_view(acme, runtime, sid)["looks"]
    assert [(x["n"], x["result"]) for x in looks] == [(1, "insufficient")]
    assert runtime.app.store.trigger_view(["acme"]).epochs.get("acme") == epoch
    # A reply arriving late (within its window, CRM time) changes the counts: recorded.
    c = arms["B"][0]
    late = envelope("reply-late", "contact_replied", c,
                    {"channel": "whatsapp", "message_id": f"{enrollments[c]}:1:1"},
                    at=stamp(enrolled + DAY + timedelta(hours=2)))
    assert ok(acme.post(EVENTS, json=[late]), 202)["results"][0]["outcome"] == "applied"
    runtime.catch_up()
    let_time_pass(runtime, clock, timedelta(hours=1))
    looks = experiment_view(acme, runtime, sid)["looks"]
    assert [x["counts"]["B"]["successes"] for x in looks] == [0, 1]


def test_a_conversion_before_the_exposure_is_not_the_arms(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    goal = {"event_type": "custom_event", "match": {"name": "purchase"},
            "exit_on_goal": False, "attribution_window_hours": 24}
    draft = ok(acme.post(f"{V1}/sequences", json={"name": "AB", "steps": STEPS,
                                                  "goal": goal}), 201)
    test = experiment(draft["steps"][1]["id"], metric="conversion")
    ok(acme.put(f"{V1}/sequences/{draft['id']}", json={"experiments": [test]}))
    sid = ok(acme.post(f"{V1}/sequences/{draft['id']}/activate"))["id"]
    arms = _by_arm(sid, 1)
    _enroll(acme, sid, arms["A"] + arms["B"])
    let_time_pass(runtime, clock, timedelta(hours=1))  # step 0 sent
    for contact in arms["A"] + arms["B"]:  # converted at step 0: the enrollment goes on
        post_event(acme, f"buy-{contact}", "custom_event", contact, {"name": "purchase"},
                   clock() - timedelta(minutes=1))
    let_time_pass(runtime, clock, DAY + timedelta(hours=25))  # step 1 exposed, matured
    view = experiment_view(acme, runtime, sid)
    assert [(a["key"], a["exposures"], a["matured"], a["successes"])
            for a in view["arms"]] == [("A", 1, 1, 0), ("B", 1, 1, 0)]


def test_best_observed_concludes_the_best_arm_by_fallback_after_the_last_look(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    # 50/250 against 60/250: p = 0.28, no winner on the one look allowed.
    sid, _ = _experiment_started(acme, runtime, clock, (0.2, 0.24), per_arm=250,
                                 min_exposures_per_arm=250, max_looks=1,
                                 fallback="best_observed")
    clock.set(clock() + timedelta(hours=72))
    let_time_pass(runtime, clock, timedelta(minutes=10))
    view = experiment_view(acme, runtime, sid)
    assert [(x["n"], x["result"], x["best"]) for x in view["looks"]] == [
        (1, "not_significant", "B")]
    assert (view["status"], view["winner"], view["concluded_by"]) == (
        "concluded", "B", "fallback")
    newcomer = _by_arm(sid, 1, skip=10_000)["A"][0]
    assert _new_enrollment(acme, sid, newcomer)["assignments"] == {
        "subject-test": {"arm": "B", "by": "winner"}}
