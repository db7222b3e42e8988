from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.clock import ManualClock
from tests.consumers.support import Harness, harness


@pytest.fixture
async def kafka(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with harness(sqlite_url, clock) as h:
        yield h
