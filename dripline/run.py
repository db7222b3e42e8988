"""The process roles (DESIGN 3.4): ``serve`` runs everything in one process; ``api`` and
``schedule`` run one role each, in as many copies as needed (``project``, ``consume`` and
``relay`` live in their own modules). Each builds its own objects through ``bootstrap`` (one
composition root per process) and stops cleanly on SIGTERM or Ctrl-C: the batch in hand is
finished, nothing half-done is committed."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import CollectorRegistry

from consumers.claims import claims_for
from consumers.due_signal import DueListener
from consumers.scheduler import Scheduler
from dripline.bootstrap import Runtime, bootstrap
from dripline.keys import ensure_api_keys
from dripline.metrics import (
    AggregateLoadCollector,
    ProjectionLagCollector,
    SchedulerCollector,
    serve_metrics,
)
from dripline.settings import Settings
from projections.heartbeats import Heartbeats
from projections.storage.urls import is_postgres

if TYPE_CHECKING:
    from api.auth import ApiKeys

log = logging.getLogger("dripline")


def _on_stop_signals(stop: Callable[[], None]) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop())


def _ignore() -> None:
    """Uvicorn handles SIGTERM/SIGINT while it serves, then re-raises the signal to the
    handler that was there before; with this one there, the re-raised signal lets the
    process finish its own shutdown (stop the scheduler, flush, close) and exit 0."""


def _keys_of(settings: Settings) -> ApiKeys:
    """The API keys, checked (``ApiKeysError`` names the bad one: the CLI prints it)."""
    from api.auth import ApiKeys

    return ApiKeys.parse(settings.api_keys or "")


def _http(runtime: Runtime, settings: Settings, generated_key: str | None,
          scheduler: Scheduler | None = None) -> uvicorn.Server:
    from api.app import create_app
    from api.auth import ApiKeys

    keys = _keys_of(settings)
    if generated_key:
        keys = ApiKeys(keys.by_key, generated_key=generated_key)
    app = create_app(runtime, api_keys=keys)
    registry = app.state.metrics.registry
    registry.register(ProjectionLagCollector(runtime.read_models.status))
    if scheduler is not None:
        registry.register(SchedulerCollector(scheduler))
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info",
                            timeout_graceful_shutdown=10, log_config=None)
    return uvicorn.Server(config)


def _announce(settings: Settings, generated_key: str | None) -> None:
    base = f"http://{settings.host}:{settings.port}"
    print(f"Dripline on {base}  (API {base}/api/v1, OpenAPI {base}/openapi.json)", flush=True)
    if generated_key:
        print("DRIPLINE_API_KEYS is not set; use this key for tenant 'default':\n"
              f"  Authorization: Bearer {generated_key}", flush=True)


class _KafkaRoles:
    """Intake and relay on their own event loop, in a thread of the serving process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, name="kafka", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from dripline.kafka_roles import run_intake, run_relay

        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        kafka, url = self.runtime.settings, self.runtime.settings.database_url
        await asyncio.gather(
            run_intake(kafka, url, clock=self.runtime.app.clock, stop=self.stop_event,
                       lookups=self.runtime.app.lookups),
            run_relay(kafka, url, stop=self.stop_event))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)


def serve(settings: Settings) -> None:
    """API, read models, scheduler (and, with Kafka configured, intake and relay) in one
    process: the embedded default."""
    settings, generated_key = ensure_api_keys(settings)
    _keys_of(settings)  # a key naming an impossible tenant stops the start, before any work
    runtime = bootstrap(settings)
    projections = runtime.read_models.runner(poll_interval=0.1)
    try:
        # Wired as a ``schedule`` process is: on PostgreSQL it then shares the work with
        # any ``dripline schedule`` copies and wakes on the due list's notifications.
        with scheduling(runtime, idle_seconds=0.2) as scheduler:
            scheduler_thread = threading.Thread(target=scheduler.run_forever,
                                                name="scheduler", daemon=True)
            kafka = _KafkaRoles(runtime) if settings.kafka_bootstrap_servers else None
            server = _http(runtime, settings, generated_key, scheduler)
            projections.start()
            scheduler_thread.start()
            if kafka is not None:
                kafka.start()
            _announce(settings, generated_key)
            _on_stop_signals(_ignore)
            try:
                server.run()  # returns after SIGTERM/SIGINT, once in-flight requests finished
            finally:
                scheduler.stop()
                scheduler_thread.join(15)
                if kafka is not None:
                    kafka.stop()
                projections.stop()
    finally:
        runtime.close()


def api(settings: Settings) -> None:
    if is_postgres(settings.database_url) and not settings.api_keys:
        # Copies of this role behind one load balancer must agree on the keys: a key made
        # up per process would work on one copy and be refused by the next.
        raise SystemExit("dripline api on PostgreSQL needs DRIPLINE_API_KEYS (tenant:key,...); "
                         "every copy must be started with the same keys")
    settings, generated_key = ensure_api_keys(settings)
    _keys_of(settings)
    # ``enroll_existing`` may project the contacts model here to reach the activation's
    # position: with no (or a lagging) ``dripline project``, it still finds every contact.
    runtime = bootstrap(settings)
    _announce(settings, generated_key)
    _on_stop_signals(_ignore)
    try:
        _http(runtime, settings, generated_key).run()
    finally:
        runtime.close()


@contextmanager
def scheduling(runtime: Runtime, **options: Any) -> Iterator[Scheduler]:
    """A scheduler as a ``schedule`` process runs it: on PostgreSQL it claims its batches (so
    copies share the work) and wakes on the event store's notifications (any commit may have
    made a step due); in every process it wakes when this process commits something."""
    claims = claims_for(runtime.settings.database_url)
    scheduler = Scheduler(runtime.app, claims=claims,
                          heartbeat=Heartbeats(runtime.read_models.db).beat, **options)
    channel = getattr(runtime.app.recorder, "channel_name", None)
    listener = (DueListener(runtime.read_models.db.conninfo, channel, scheduler.wake)
                if channel is not None else None)
    runtime.app.core.on_commit.append(scheduler.wake)
    if listener is not None:
        listener.start()
    try:
        yield scheduler
    finally:
        runtime.app.core.on_commit.remove(scheduler.wake)
        if listener is not None:
            listener.stop()
        if claims is not None:
            claims.close()


def schedule(settings: Settings, **options: Any) -> None:
    runtime = bootstrap(settings, catch_up_lookups=False)
    try:
        with scheduling(runtime, **options) as scheduler:
            registry = CollectorRegistry()
            registry.register(SchedulerCollector(scheduler))
            registry.register(AggregateLoadCollector(lambda: runtime.app.core.load_stats))
            serve_metrics(registry, settings.host, settings.metrics_port)
            # From another thread: a handler runs on the main thread, which may be holding
            # the lock of the very event ``stop`` sets (inside its wait).
            _on_stop_signals(lambda: threading.Thread(target=scheduler.stop).start())
            scheduler.run_forever()
    finally:
        runtime.close()
