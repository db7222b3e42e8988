"""End-to-end tests run ``dripline serve`` as a real process (see ``server.py``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server, start


@pytest.fixture
def api_key() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def server(tmp_path: Path, api_key: str) -> Iterator[Server]:
    """``dripline serve`` with one key for tenant "default" (the walkthrough's tenant)."""
    running = start(tmp_path / "dripline.db", api_keys=f"default:{api_key}")
    try:
        yield running
    finally:
        code = running.stop()
        assert code == 0, f"dripline serve exited with {code}:\n{running.output()}"
