"""Fixtures for the integration tests against a real broker. Outside CI a broker that cannot
start skips them; with ``CI=true`` it fails them, so CI never passes without running them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from consumers.settings import KafkaSettings
from tests.conftest import IN_CI
from tests.kafka.broker import Tansu, start_tansu


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tansu]:
    try:
        broker = start_tansu(Path(tmp_path_factory.mktemp("tansu")))
    except Exception as error:  # no binary, cannot exec, never listened
        message = f"the Tansu broker could not start: {error}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def kafka_settings(tansu: Tansu) -> KafkaSettings:
    """Topic names and group of this test alone (the broker is shared by the session)."""
    run = uuid4().hex[:8]
    return KafkaSettings(
        kafka_bootstrap_servers=tansu.bootstrap, kafka_group_id=f"intake-{run}",
        topic_crm_events=f"crm.events.{run}", topic_messages=f"dripline.messages.{run}",
        topic_domain_events=f"dripline.events.{run}",
        topic_dead_letters=f"crm.events.dlq.{run}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tansu" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kafka)
