"""The promise tests reuse the fixtures of the API tests (the application over a real runtime,
clients holding a tenant's key) and of the broker tests (the real Tansu broker, topics of a
test's own)."""

from __future__ import annotations

import pytest

from tests.api.conftest import acme, api
from tests.kafka.conftest import kafka_settings, tansu

__all__ = ["acme", "api", "kafka_settings", "tansu"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tansu" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)
