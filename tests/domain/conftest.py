"""Fixtures of the domain tests: the application on the in-memory store, with a manual clock
and lookups that answer from its own event log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from projections.storage.env import memory_env
from tests.domain.support import EventLogLookups


def make_app(clock: ManualClock, env: dict[str, str] | None = None) -> DriplineApp:
    app = DriplineApp(env=env or memory_env(), clock=clock)
    app.lookups = EventLogLookups(app)
    return app


@pytest.fixture
def app(clock: ManualClock) -> Iterator[DriplineApp]:
    application = make_app(clock)
    try:
        yield application
    finally:
        application.close()
