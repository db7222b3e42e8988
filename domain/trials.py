"""The statistics of an A/B test (CAPABILITIES §1, rules 3-6), pure functions of the
experiment's members as the ``experiment_stats`` read model holds them and of a time.

An exposure *matures* ``window`` after it happened; a success counts when it happened within
that window, at or after the exposure (a conversion before the arm was seen is not the arm's).
Only matured exposures of enrollments assigned by the split enter a look. A look
compares the best arm (the highest rate; the first listed on a tie) with each other arm by a
two-sided pooled two-proportion z-test; the best wins iff every p-value is below
``alpha / ((k - 1) * max_looks)`` (Bonferroni over comparisons and looks). A look where an arm
has fewer than 5 successes or 5 failures is ``insufficient`` and does not count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MIN_OUTCOMES = 5  # successes and failures an arm needs for the normal approximation
INSUFFICIENT, SIGNIFICANT, NOT_SIGNIFICANT = "insufficient", "significant", "not_significant"


@dataclass(frozen=True)
class Member:
    """One enrollment in one experiment: its arm, and the times that matter."""

    arm: str
    by_winner: bool
    exposed_at: datetime | None
    successes: Mapping[str, datetime | None]  # metric -> first success (CRM time)


@dataclass
class Tally:
    assigned: int = 0
    exposures: int = 0
    matured: int = 0
    successes: int = 0

    @property
    def rate(self) -> float | None:
        return self.successes / self.matured if self.matured else None


def tally(arms: Sequence[str], members: Iterable[Member], metric: str, window: timedelta,
          now: datetime) -> dict[str, Tally]:
    """Per arm: assigned and exposed (all), matured and successful (split ones only)."""
    out = {arm: Tally() for arm in arms}
    for m in members:
        t = out.get(m.arm)
        if t is None:
            continue
        t.assigned += 1
        if m.exposed_at is None:
            continue
        t.exposures += 1
        end = m.exposed_at + window
        if m.by_winner or end > now:
            continue
        t.matured += 1
        success = m.successes.get(metric)
        if success is not None and m.exposed_at <= success <= end:
            t.successes += 1
    return out


def p_value(s1: int, n1: int, s2: int, n2: int) -> float:
    """Two-sided p of the pooled two-proportion z-test (1.0 when nothing can differ)."""
    if not n1 or not n2:
        return 1.0
    pooled = (s1 + s2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 1.0
    z = (s1 / n1 - s2 / n2) / spread
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Look:
    result: str
    best: str | None
    counts: dict[str, Any]
    p_values: dict[str, Any]


def look(tallies: Mapping[str, Tally], alpha: float, max_looks: int) -> Look:
    counts = {arm: {"exposures": t.matured, "successes": t.successes}
              for arm, t in tallies.items()}
    if any(t.successes < MIN_OUTCOMES or t.matured - t.successes < MIN_OUTCOMES
           for t in tallies.values()):
        return Look(INSUFFICIENT, None, counts, {})
    arms = list(tallies)
    best = max(arms, key=lambda a: (tallies[a].rate or 0.0, -arms.index(a)))
    b = tallies[best]
    p_values = {arm: p_value(b.successes, b.matured, t.successes, t.matured)
                for arm, t in tallies.items() if arm != best}
    threshold = alpha / ((len(arms) - 1) * max_looks)
    significant = all(p < threshold for p in p_values.values())
    return Look(SIGNIFICANT if significant else NOT_SIGNIFICANT, best, counts, p_values)


def counted_looks(looks: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for x in looks if x["result"] != INSUFFICIENT)


def status(trial: Mapping[str, Any], max_looks: int) -> str:
    if trial["winner"] is not None:
        return "concluded"
    return "inconclusive" if counted_looks(trial["looks"]) >= max_looks else "running"
