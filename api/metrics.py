"""Prometheus metrics, one registry per application instance (tests build many apps)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("dripline_http_requests_total", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.message_events = Counter(
            "dripline_message_events_total", "Message lifecycle events (delivered, failed, "
            "opened, clicked) taken in, by type and outcome", ["type", "outcome"],
            registry=self.registry)
        self.latency = Histogram("dripline_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ["method", "route"],
                                 registry=self.registry)


class MetricsMiddleware:
    """Counts every answer by route template (not raw path: ids would explode the labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = _template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(
                time.perf_counter() - started)


def _template(scope: Scope) -> str:
    # The router records the matched route in the (shared) scope once it has routed.
    return str(getattr(scope.get("route"), "path", "unmatched"))


class AggregateLoadCollector(Collector):
    """Stored events decoded to rebuild aggregates, by kind (a snapshot counts as one): what
    loading costs. With snapshots and the aggregate cache it grows with the events applied,
    not with the length of the streams they land in."""

    def __init__(self, stats: Callable[[], Any]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Any]:
        replayed = CounterMetricFamily(
            "dripline_aggregate_events_replayed", "Stored events decoded to rebuild "
            "aggregates (snapshots count as one), by aggregate", labels=["aggregate"])
        for kind, count in sorted(self.stats().replayed.items()):
            replayed.add_metric([kind], count)
        yield replayed
