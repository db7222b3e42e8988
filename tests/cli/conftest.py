"""The CLI tests may use the session's Kafka-protocol broker (``tansu``)."""

from __future__ import annotations

from tests.kafka.conftest import pytest_collection_modifyitems, tansu

__all__ = ["pytest_collection_modifyitems", "tansu"]
