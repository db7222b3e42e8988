"""The composition root: builds a process's objects from settings. Nothing is built at import
time; tests call ``bootstrap`` with other settings and a manual clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.app_base import Settings as CoreSettings
from domain.application import DriplineApp
from domain.clock import Clock, system_clock
from domain.unit_of_work import AggregateCache
from dripline.settings import Settings
from projections.queries import Queries
from projections.read_models import ReadModels
from projections.storage.upgrade import StoreUpgradeNeededError, check_format
from projections.storage.urls import eventsourcing_env, schema_lock


@dataclass
class Runtime:
    settings: Settings
    app: DriplineApp
    read_models: ReadModels

    @property
    def queries(self) -> Queries:
        return self.read_models.queries

    def catch_up(self) -> None:
        """Project everything recorded so far (read-your-writes; tests)."""
        self.read_models.catch_up()

    def close(self) -> None:
        self.app.close()
        self.read_models.close()


def bootstrap(settings: Settings | None = None, *, clock: Clock = system_clock,
              catch_up_lookups: bool = True, cache_size: int = 20_000,
              check_store: bool = True) -> Runtime:
    """``catch_up_lookups``: the one read-model lookup (contacts matching a trigger, for
    ``enroll_existing``) may project the ``contacts`` model in this process to reach the
    position it needs (positions are locked, so this never double counts); without it, it
    waits for a ``dripline project`` process. ``cache_size``: aggregates kept between units of
    work (0: none). ``check_store``: refuse a store written by Dripline 0.1 until
    ``dripline upgrade`` has run (only the upgrade itself opens one)."""
    settings = settings or Settings()
    with schema_lock(settings.database_url):
        read_models = ReadModels(settings.database_url)
        env = eventsourcing_env(settings.database_url, pool_size=settings.postgres_pool_size,
                                max_overflow=settings.postgres_max_overflow)
        app = DriplineApp(env=env, clock=clock,
                          lookups=read_models.lookups(catch_up=catch_up_lookups),
                          cache=AggregateCache(cache_size) if cache_size else None,
                          settings=CoreSettings(reply_attribution=timedelta(
                              days=settings.reply_attribution_days)))
    if check_store:
        try:
            check_format(app.recorder)
        except StoreUpgradeNeededError:
            app.close()
            read_models.close()
            raise
    read_models.attach(app)
    return Runtime(settings=settings, app=app, read_models=read_models)
