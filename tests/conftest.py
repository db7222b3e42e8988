"""Shared fixtures: a manual clock, SQLite and PostgreSQL databases made and dropped per test.

PostgreSQL tests run against the server at ``DRIPLINE_TEST_POSTGRES_URL`` (default: the local
server with trust auth). Outside CI an unreachable server skips them; with ``CI=true`` it fails
them loudly, so CI never passes without having run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import psycopg
import pytest

from domain.clock import ManualClock
from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings

ADMIN_URL = os.environ.get("DRIPLINE_TEST_POSTGRES_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is not reachable at {ADMIN_URL}: {error}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"dripline_test_{uuid4().hex[:16]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/dripline.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def runtime(database_url: str, clock: ManualClock) -> Iterator[Runtime]:
    rt = bootstrap(Settings(database_url=database_url), clock=clock)
    try:
        yield rt
    finally:
        rt.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Any test that uses a PostgreSQL database is an integration test, marked as such.
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
