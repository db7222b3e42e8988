"""The engine's Prometheus metrics (DESIGN 3.4): steps executed and their lateness, CRM
events taken in, consumer lag, dead letters, projection lag. Each is read from the
component's own counters when scraped, so the hot paths carry no metrics code.

``dripline serve`` and ``dripline api`` expose them at ``/metrics`` with the HTTP metrics; the
worker roles (``schedule``, ``project``, ``consume``) on ``DRIPLINE_METRICS_PORT`` when set.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from api.metrics import AggregateLoadCollector
from consumers.scheduler import Scheduler

__all__ = ["AggregateLoadCollector", "ConsumerLagCollector", "IntakeCollector",
           "ProjectionLagCollector", "SchedulerCollector", "serve_metrics"]


class SchedulerCollector(Collector):
    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterator[Any]:
        stats = self.scheduler.stats
        steps = CounterMetricFamily("dripline_steps_executed", "Due enrollments executed, by "
                                    "outcome (requested, skipped, exited, ...)", labels=["result"])
        for result, count in sorted(stats.outcomes.items()):
            steps.add_metric([result], count)
        yield steps
        yield deferred_family(stats.deferred)
        yield CounterMetricFamily("dripline_scheduler_batches", "Scheduler batches executed",
                                  value=stats.batches)
        lateness = GaugeMetricFamily("dripline_step_lateness_seconds", "Requested minus due "
                                     "time over the last 10,000 requests", labels=["quantile"])
        recent = sorted(stats.lateness_seconds)
        if recent:
            for quantile in (0.5, 0.99):
                lateness.add_metric([str(quantile)],
                                    recent[min(int(quantile * len(recent)), len(recent) - 1)])
            lateness.add_metric(["mean"], statistics.fmean(recent))
        yield lateness


class ProjectionLagCollector(Collector):
    """How many events each read model is behind the event store (scraped live)."""

    def __init__(self, status: Callable[[], list[Any]]) -> None:
        self.status = status

    def collect(self) -> Iterator[Any]:
        lag = GaugeMetricFamily("dripline_projection_lag_events", "Events recorded but not yet "
                                "in the read model", labels=["model", "state"])
        position = GaugeMetricFamily("dripline_projection_position", "Last notification "
                                     "applied to the read model", labels=["model", "state"])
        for model in self.status():
            lag.add_metric([model.name, model.status], model.lag)
            position.add_metric([model.name, model.status], model.position)
        yield lag
        yield position


class IntakeCollector(Collector):
    def __init__(self, stats: Callable[[], Any]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Any]:
        stats = self.stats()
        if stats is None:
            return
        events = CounterMetricFamily("dripline_crm_events", "CRM events taken in from Kafka, by "
                                     "outcome", labels=["outcome"])
        for outcome, count in sorted(stats.outcomes.items()):
            events.add_metric([outcome], count)
        yield events
        yield CounterMetricFamily("dripline_crm_events_redelivered", "Records below the "
                                  "recorded position, dropped", value=stats.redelivered)
        yield CounterMetricFamily("dripline_dead_letters", "CRM events sent to the dead-letter "
                                  "topic", value=stats.dead_lettered)
        steps = CounterMetricFamily("dripline_steps_executed", "Steps executed by this process "
                                    "(here: first steps due at once, executed on enrolling), by "
                                    "outcome", labels=["result"])
        for result, count in sorted(stats.steps.items()):
            steps.add_metric([result], count)
        yield steps
        lifecycle = CounterMetricFamily(
            "dripline_message_events", "Message lifecycle events (delivered, failed, opened, "
            "clicked) taken in from Kafka, by type and outcome", labels=["type", "outcome"])
        for (kind, outcome), count in sorted(stats.message_events.items()):
            lifecycle.add_metric([kind, outcome], count)
        yield lifecycle
        yield deferred_family(stats.deferred)


def deferred_family(deferred: Mapping[str, int]) -> CounterMetricFamily:
    """Steps deferred, by reason: send_window, frequency_cap or throttle."""
    family = CounterMetricFamily("dripline_steps_deferred", "Steps deferred past their due "
                                 "time, by reason (send_window, frequency_cap, throttle)",
                                 labels=["reason"])
    for reason in ("frequency_cap", "send_window", "throttle"):
        family.add_metric([reason], deferred.get(reason, 0))
    return family


class ConsumerLagCollector(Collector):
    """Records on each assigned partition of ``crm.events`` not yet applied: the broker's high
    watermark (as last seen by the consumer's fetches) minus the position the database
    recorded for that partition."""

    def __init__(self, consumer: Callable[[], Any], applied: Callable[[str, int], int]) -> None:
        self.consumer = consumer
        self.applied = applied

    def collect(self) -> Iterator[Any]:
        lag = GaugeMetricFamily("dripline_consumer_lag_records", "CRM event records on the "
                                "topic not yet applied", labels=["topic", "partition"])
        consumer = self.consumer()
        if consumer is not None:
            for tp in sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition)):
                high = consumer.highwater(tp)
                if high is not None:
                    behind = max(high - self.applied(tp.topic, tp.partition), 0)
                    lag.add_metric([tp.topic, str(tp.partition)], behind)
        yield lag


def serve_metrics(registry: CollectorRegistry, host: str, port: int | None) -> None:
    """Expose ``registry`` on its own port (the worker roles, which have no HTTP API)."""
    if port:
        start_http_server(port, addr=host, registry=registry)
