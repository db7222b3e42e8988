"""Fixtures of the step-execution tests: the application on an in-memory SQLite store with a
manual clock (days pass in milliseconds), with and without read-model lookups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from projections.storage.env import memory_env
from tests.execution.support import StoreLookups

MEMORY = memory_env()


@pytest.fixture
def app(clock: ManualClock) -> Iterator[DriplineApp]:
    """The application as deployed: lookups find triggers and open enrollments at once."""
    application = DriplineApp(env=MEMORY, clock=clock)
    application.lookups = StoreLookups(application)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def bare_app(clock: ManualClock) -> Iterator[DriplineApp]:
    """No read models at all: whatever must happen has to be found at send time."""
    application = DriplineApp(env=MEMORY, clock=clock)
    try:
        yield application
    finally:
        application.close()
