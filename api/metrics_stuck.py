"""The stuck detector's gauges on ``/metrics`` (CAPABILITIES §7): enrollments stuck past the
threshold (counted in the read model, at most 10,000, the oldest 100 confirmed on their
aggregates), how long the oldest of them is overdue, and how long ago a scheduler last
scanned. Measured at most every 30 s by the injected clock: scrapes in between get the last
measure. A measure that fails is logged and leaves these gauges out of that scrape."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.runtime import Runtime
from projections.stuck import SAMPLE, SCAN_LIMIT, Gauges, detector

FRESH_FOR = timedelta(seconds=30)  # a measure is reused for this long
log = logging.getLogger("dripline.metrics")


class StuckCollector(Collector):
    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self.runtime = runtime
        self._last: tuple[datetime, int, Gauges] | None = None  # (measured at, threshold, …)

    def describe(self) -> list[Any]:
        return []  # registering must not scan: the names are known only when collected

    def _measure(self, rt: Runtime, seconds: int) -> Gauges:
        now = rt.app.clock()
        if self._last is not None:
            at, threshold, gauges = self._last
            if threshold == seconds and at <= now < at + FRESH_FOR:
                return gauges
        gauges = detector(rt.read_models, rt.app).gauges(timedelta(seconds=seconds))
        self._last = (now, seconds, gauges)
        return gauges

    def collect(self) -> Iterator[Any]:
        rt = self.runtime()
        seconds = rt.settings.stuck_after_seconds
        try:
            gauges = self._measure(rt, seconds)
        except Exception:  # the rest of the scrape must not fail with it
            log.exception("the stuck detector's gauges could not be measured")
            return
        overdue = GaugeMetricFamily(
            "dripline_enrollments_overdue", "Active enrollments overdue by more than "
            f"older_than seconds (the oldest {SAMPLE} confirmed on their aggregates; at most "
            f"{SCAN_LIMIT:,})", labels=["older_than"])
        overdue.add_metric([str(seconds)], gauges.overdue)
        yield overdue
        oldest = GaugeMetricFamily(
            "dripline_enrollment_oldest_overdue_seconds", "How long the oldest stuck "
            "enrollment is overdue (0: none is stuck)")
        oldest.add_metric([], gauges.oldest_overdue_seconds)
        yield oldest
        age = gauges.scheduler_heartbeat_age_seconds
        if age is not None:  # no sample until a scheduler has ever scanned here
            heartbeat = GaugeMetricFamily(
                "dripline_scheduler_heartbeat_age_seconds", "Seconds since a scheduler "
                "last scanned for due enrollments")
            heartbeat.add_metric([], age)
            yield heartbeat
