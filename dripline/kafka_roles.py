"""Entry points of the Kafka process roles: ``run_intake`` (``dripline consume``) and
``run_relay`` (``dripline relay``). Each builds its own objects (one composition root per
process) and runs until ``stop`` is set or the process gets SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry

from consumers.intake import Intake
from consumers.kafka_app import build_edge
from consumers.leadership import leadership
from consumers.relay import Relay, relay_positions
from consumers.settings import KafkaSettings
from consumers.tracked import position, tracking_name
from domain.application import DriplineApp
from domain.clock import Clock, system_clock
from domain.lookups import Lookups
from domain.unit_of_work import AggregateCache
from dripline.settings import Settings
from projections.read_models import ReadModels
from projections.storage.upgrade import check_format
from projections.storage.urls import eventsourcing_env, schema_lock

log = logging.getLogger("dripline.kafka")
RELAY_LOCK = 726_473_010  # the advisory lock whose holder is the one publishing relay


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)


async def run_intake(kafka: KafkaSettings, database_url: str, *, clock: Clock = system_clock,
                     lookups: Lookups | None = None, stop: asyncio.Event | None = None,
                     middlewares: Sequence[Any] = (),
                     metrics: CollectorRegistry | None = None) -> Intake:
    """Consume ``crm.events`` until stopped; returns the intake (its stats) at the end."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    app, read_models = await asyncio.to_thread(_intake_app, database_url, clock, lookups)
    holder: list[Intake] = []
    edge = build_edge(kafka, intake=lambda: holder[0] if holder else None,
                      middlewares=middlewares)
    holder.append(Intake(app, edge.publish_dead_letters, tenants=kafka.tenants,
                         max_attempts=kafka.intake_max_attempts))
    if metrics is not None:
        from dripline.metrics import ConsumerLagCollector, IntakeCollector

        metrics.register(IntakeCollector(lambda: holder[0].stats))
        metrics.register(ConsumerLagCollector(
            edge.listener.consumer,
            lambda topic, partition: position(app, tracking_name(topic, partition))))
    edge.listener.app = lambda: app
    try:
        await edge.broker.start()
        log.info("intake consuming %s as group %s", kafka.topic_crm_events,
                 kafka.kafka_group_id)
        await stop.wait()
    finally:
        await edge.broker.stop()
        app.close()
        if read_models is not None:
            read_models.close()
    return holder[0]


def _intake_app(database_url: str, clock: Clock,
                lookups: Lookups | None) -> tuple[DriplineApp, ReadModels | None]:
    """The intake's application. Its decisions read aggregates and the write-side indexes;
    the only read-model lookup (contacts matching a trigger) serves ``enroll_existing``,
    which the intake never runs, but it gets one anyway so the application is whole."""
    with schema_lock(database_url):
        app = DriplineApp(env=eventsourcing_env(database_url), clock=clock,
                          cache=AggregateCache())
        check_format(app.recorder)
        if lookups is not None:
            app.lookups = lookups
            return app, None
        read_models = ReadModels(database_url)
    read_models.attach(app)
    app.lookups = read_models.lookups(catch_up=True)
    return app, read_models


async def run_relay(kafka: KafkaSettings, database_url: str, *,
                    stop: asyncio.Event | None = None) -> Relay | None:
    """Publish the event store's message requests and domain events until stopped. Several
    copies may be started: one leads at a time (the others wait to take over), since two
    relays publishing at once would duplicate every record."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    async with leadership(database_url, RELAY_LOCK, stop) as leading:
        if not leading:
            return None
        return await _relay(kafka, database_url, stop)


async def _relay(kafka: KafkaSettings, database_url: str, stop: asyncio.Event) -> Relay:
    env = eventsourcing_env(database_url)
    app = await asyncio.to_thread(_relay_app, env, database_url)
    positions = await asyncio.to_thread(relay_positions, env)
    edge = build_edge(kafka)
    relay = Relay(app, positions, edge.send, batch_size=kafka.relay_batch_size)
    try:
        await edge.broker.start()
        await relay.run(stop)
    finally:
        await edge.broker.stop()
        app.close()
    return relay


def _relay_app(env: dict[str, str], database_url: str) -> DriplineApp:
    with schema_lock(database_url):
        app = DriplineApp(env=env)
    check_format(app.recorder)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m dripline.kafka_roles intake|relay``, configured by ``DRIPLINE_*``."""
    role = (list(argv) if argv is not None else sys.argv[1:] or ["intake"])[0]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    kafka, database_url = KafkaSettings(), Settings().database_url
    if role == "intake":
        asyncio.run(run_intake(kafka, database_url))
    elif role == "relay":
        asyncio.run(run_relay(kafka, database_url))
    else:
        raise SystemExit(f"unknown role {role!r}: intake or relay")


if __name__ == "__main__":
    main()
