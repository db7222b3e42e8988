"""The stuck detector's gauges on ``/metrics`` (CAPABILITIES §7), measured at each scrape:
enrollments stuck past the threshold (confirmed on their aggregates; at most 10,000), how
long the oldest of them is overdue, and how long ago a scheduler last scanned."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.runtime import Runtime
from projections.stuck import SCAN_LIMIT, detector


class StuckCollector(Collector):
    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self.runtime = runtime

    def describe(self) -> list[Any]:
        return []  # registering must not scan: the names are known only when collected

    def collect(self) -> Iterator[Any]:
        rt = self.runtime()
        seconds = rt.settings.stuck_after_seconds
        report = detector(rt.read_models, rt.app).find(None, timedelta(seconds=seconds),
                                                       limit=1)
        overdue = GaugeMetricFamily(
            "dripline_enrollments_overdue", "Active enrollments overdue by more than "
            f"older_than seconds, confirmed on their aggregates (at most {SCAN_LIMIT:,})",
            labels=["older_than"])
        overdue.add_metric([str(seconds)], min(report.total, SCAN_LIMIT))
        yield overdue
        oldest = GaugeMetricFamily(
            "dripline_enrollment_oldest_overdue_seconds", "How long the oldest stuck "
            "enrollment is overdue (0: none is stuck)")
        oldest.add_metric([], report.items[0]["overdue_seconds"] if report.items else 0)
        yield oldest
        age = report.scheduler_heartbeat_age_seconds
        if age is not None:  # no sample until a scheduler has ever scanned here
            heartbeat = GaugeMetricFamily(
                "dripline_scheduler_heartbeat_age_seconds", "Seconds since a scheduler "
                "last scanned for due enrollments")
            heartbeat.add_metric([], age)
            yield heartbeat
