"""The statistics of an A/B test (``domain.trials``): maturity and the window of success,
the pooled two-proportion z-test against known values, Bonferroni over arms and looks, and
the looks that are too thin to count."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from domain import trials
from domain.trials import Member, Tally

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def member(arm: str, exposed: timedelta | None, replied: timedelta | None = None,
           by_winner: bool = False) -> Member:
    return Member(arm=arm, by_winner=by_winner,
                  exposed_at=T0 + exposed if exposed is not None else None,
                  successes={"reply": T0 + replied if replied is not None else None})


def test_only_matured_split_exposures_count_and_a_success_must_fall_in_the_window() -> None:
    members = [member("A", timedelta(0), timedelta(hours=1)),
               member("A", timedelta(0), timedelta(hours=73)),  # too late
               member("A", timedelta(hours=2), timedelta(hours=3)),  # not matured at 73 h
               member("A", None),  # assigned, never exposed
               member("A", timedelta(0), timedelta(hours=1), by_winner=True),
               member("B", timedelta(0))]
    got = trials.tally(["A", "B"], members, "reply", WINDOW, T0 + timedelta(hours=73))
    assert got["A"] == Tally(assigned=5, exposures=4, matured=2, successes=1)
    assert got["B"] == Tally(assigned=1, exposures=1, matured=1, successes=0)


def test_a_success_before_the_exposure_is_not_the_arms() -> None:
    # converted at step 0 (goal without exit), exposed to the experiment's step 1 later
    members = [member("A", timedelta(hours=5), timedelta(hours=1)),
               member("A", timedelta(hours=5), timedelta(hours=5)),  # the same instant counts
               member("B", timedelta(0))]
    got = trials.tally(["A", "B"], members, "reply", WINDOW, T0 + timedelta(hours=80))
    assert got["A"] == Tally(assigned=2, exposures=2, matured=2, successes=1)


def test_the_pooled_z_test_gives_the_textbook_p_value() -> None:
    # 30/300 against 90/300: pooled 0.2, z = 0.2 / sqrt(0.16 * 2/300) = 6.124
    z = 0.2 / math.sqrt(0.2 * 0.8 * (2 / 300))
    assert trials.p_value(90, 300, 30, 300) == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert trials.p_value(50, 100, 50, 100) == 1.0
    assert trials.p_value(0, 100, 0, 100) == 1.0  # nothing can differ
    # 60/500 vs 40/500: pooled 0.1, z = 0.04 / sqrt(0.09 * 2/500) = 2.108, p = 0.0350
    assert trials.p_value(60, 500, 40, 500) == pytest.approx(0.0350, abs=5e-5)


def _tallies(*pairs: tuple[int, int]) -> dict[str, Tally]:
    return {key: Tally(assigned=n, exposures=n, matured=n, successes=s)
            for key, (s, n) in zip("ABC", pairs, strict=False)}


def test_bonferroni_over_arms_and_looks_decides_the_winner() -> None:
    # p = 0.035: below alpha, but not below 0.05 / (1 * 7).
    look = trials.look(_tallies((60, 500), (40, 500)), alpha=0.05, max_looks=7)
    assert (look.result, look.best) == (trials.NOT_SIGNIFICANT, "A")
    assert look.p_values["B"] == pytest.approx(0.0350, abs=5e-5)
    one_look = trials.look(_tallies((60, 500), (40, 500)), alpha=0.05, max_looks=1)
    assert one_look.result == trials.SIGNIFICANT
    # Three arms: the best must beat both, at 0.05 / (2 * 1).
    three = trials.look(_tallies((90, 300), (30, 300), (80, 300)), alpha=0.05, max_looks=1)
    assert (three.result, three.best) == (trials.NOT_SIGNIFICANT, "A")
    assert set(three.p_values) == {"B", "C"}
    assert three.counts == {"A": {"exposures": 300, "successes": 90},
                            "B": {"exposures": 300, "successes": 30},
                            "C": {"exposures": 300, "successes": 80}}


def test_a_look_with_fewer_than_five_successes_or_failures_is_insufficient() -> None:
    for pairs in (((4, 300), (90, 300)), ((296, 300), (90, 300))):
        look = trials.look(_tallies(*pairs), alpha=0.05, max_looks=7)
        assert (look.result, look.best, look.p_values) == (trials.INSUFFICIENT, None, {})
    looks = [{"result": trials.INSUFFICIENT}, {"result": trials.NOT_SIGNIFICANT}]
    assert trials.counted_looks(looks) == 1
    trial = {"winner": None, "looks": looks}
    assert trials.status(trial, max_looks=1) == "inconclusive"
    assert trials.status(trial, max_looks=2) == "running"
    assert trials.status({**trial, "winner": "A"}, max_looks=2) == "concluded"


def test_a_tie_goes_to_the_arm_listed_first() -> None:
    look = trials.look(_tallies((50, 250), (50, 250)), alpha=0.05, max_looks=7)
    assert (look.best, look.p_values) == ("A", {"B": 1.0})
