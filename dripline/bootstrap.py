"""The composition root: builds a process's objects from settings. Nothing is built at import
time; tests call ``bootstrap`` with other settings and a manual clock."""

from __future__ import annotations

from dataclasses import dataclass

from domain.application import DriplineApp
from domain.clock import Clock, system_clock
from dripline.persistence import eventsourcing_env
from dripline.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    app: DriplineApp

    def close(self) -> None:
        self.app.close()


def bootstrap(settings: Settings | None = None, *, clock: Clock = system_clock) -> Runtime:
    settings = settings or Settings()
    app = DriplineApp(env=eventsourcing_env(settings.database_url), clock=clock)
    return Runtime(settings=settings, app=app)
