"""Fixtures of the integration tests: an application on a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from tests.integration.factories import another_app


@pytest.fixture
def pg_app(postgres_url: str, clock: ManualClock) -> Iterator[DriplineApp]:
    """The application on a fresh PostgreSQL database of its own."""
    with another_app(postgres_url, clock) as app:
        yield app
