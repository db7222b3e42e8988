"""The shape of one engine in the drip and pace comparisons, and one round of it.

An engine starts what it needs (servers, workers) as children of the bench, enrolls N
contacts from the bench process, each with its first step's due time (all the same in drip,
spread at a steady rate in pace), and then the bench waits for every distinct send (3N in
drip, N in pace). An engine that cannot run raises ``Unavailable`` with the reason; the
report keeps it.
"""

from __future__ import annotations

import importlib
import tempfile
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import ADMIN_URL, Children, Plan, RssSampler, postgres_database
from bench.peers import sends


class Unavailable(Exception):  # noqa: N818 - a verdict on the engine, not a bug
    """This engine cannot run here (a package is missing, a binary does not start...)."""


class Engine(ABC):
    name: str = ""
    #: every setting changed from the engine's documented default, and why
    tuning: dict[str, Any] = {}  # noqa: RUF012 - overridden per subclass, never mutated

    _last_enroll_s: float | None = None

    #: the Python packages (import names) the engine needs
    requires: tuple[str, ...] = ()

    def check(self) -> None:
        """Raise ``Unavailable`` when the engine cannot run on this machine (by default: a
        package it requires is not installed)."""
        for module in self.requires:
            try:
                importlib.import_module(module)
            except ImportError as error:
                raise Unavailable(f"not installed: {error}") from error

    def versions(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        """Create the engine's schema and start its processes; return extra pids to sample
        (by role) that are not ``children``'s own."""

    #: a first guess of contacts enrolled per second, to set the first round's lead time
    enroll_rate: float = 1000.0

    @abstractmethod
    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        """Enroll ``len(dues)`` contacts (contact i's first step due at ``dues[i]``, epoch
        seconds, a moment after the enrolling is done) in a sequence of ``steps`` zero-delay
        steps."""

    def enroll_plan(self, url: str, plan: Plan, t0: float) -> None:
        """Enroll the plan's contacts, T0 being its first due time (epoch seconds). Only
        engines that say how override this for a plan with a gap between steps."""
        if plan.gap:
            raise Unavailable("this engine's bench code has no delay between steps")
        self.enroll(url, plan.dues(t0), plan.steps)

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Undo what ``start`` did outside the children (queues, keys)."""

    def run(self, contacts: int, timeout: float, admin_url: str = ADMIN_URL) -> dict[str, Any]:
        """One drip round (every first step due at T0) on a fresh database."""
        return self.run_plan(Plan(contacts, sends.STEPS), timeout, admin_url)

    def run_plan(self, plan: Plan, timeout: float, admin_url: str = ADMIN_URL
                 ) -> dict[str, Any]:
        """One round on a fresh database; a failure is returned, not raised. ``timeout``:
        seconds the engine may take past the last first-step due time."""
        try:
            self.check()
        except Unavailable as why:
            return {"status": "unavailable", "reason": str(why)}
        contacts = plan.contacts
        with tempfile.TemporaryDirectory(prefix=f"bench-{self.name}-") as tmp, \
                postgres_database(admin_url, prefix="drip") as url:
            children = Children(Path(tmp))
            t0 = time.time()
            rss = RssSampler(children, database=url.rsplit("/", 1)[1])
            try:
                sends.create(url)
                rss.extra = self.start(children, url, Path(tmp))
                with rss:
                    # Everyone is enrolled before T0, the first due time, so the round times
                    # executing, not enqueueing (timed on its own).
                    lead = 1.0 + 1.2 * (self._last_enroll_s or contacts / self.enroll_rate)
                    enrolling = time.time()
                    t0 = enrolling + lead
                    self.enroll_plan(url, plan, t0)
                    enrolled = time.time()
                    self._last_enroll_s = enrolled - enrolling
                    # drip: ``timeout`` from the end of enrolling plus the lead; pace:
                    # ``timeout`` past the last due time, exactly.
                    wait = (t0 + plan.span + timeout - time.time() if plan.paced
                            else timeout + lead)
                    sends.wait_until_sent(lambda: sends.distinct_sent(url), plan.total, wait,
                                          children.check_alive)
                    time.sleep(0.5)  # let a late duplicate show up before counting
                result = sends.measure(url, plan, t0)
                return {"status": "ok", "enroll_s": self._last_enroll_s,
                        "enrolled_before_t0": enrolled <= t0, **result,
                        "peak_rss_mb": rss.peak_mb}
            except Unavailable as why:
                return {"status": "unavailable", "reason": str(why)}
            except TimeoutError as why:
                ended = time.time() if plan.paced else None
                partial = (sends.measure(url, plan, t0, ended) if sends.distinct_sent(url)
                           else {})
                reason = (plan.shortfall(partial.get("missing", plan.total), timeout)
                          if plan.paced else str(why))
                return {"status": "timeout", "reason": reason, "enroll_s": self._last_enroll_s,
                        **partial, "peak_rss_mb": rss.peak_mb}
            except Exception as error:
                return {"status": "failed", "reason": f"{type(error).__name__}: {error}",
                        "trace": traceback.format_exc(limit=5)}
            finally:
                children.stop_all()
                self.stop()
