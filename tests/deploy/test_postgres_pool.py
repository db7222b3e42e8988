"""The event store's connection pool is sized by the typed settings
(``DRIPLINE_POSTGRES_POOL_SIZE``, ``DRIPLINE_POSTGRES_MAX_OVERFLOW``)."""

from __future__ import annotations

import pytest

from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from projections.storage.urls import eventsourcing_env

URL = "postgresql://dripline@db.example:5432/dripline"


def test_the_defaults_are_the_settings_defaults() -> None:
    env, defaults = eventsourcing_env(URL), Settings.model_fields
    assert env["POSTGRES_POOL_SIZE"] == str(defaults["postgres_pool_size"].default) == "2"
    assert env["POSTGRES_MAX_OVERFLOW"] == str(defaults["postgres_max_overflow"].default) == "8"


def test_the_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIPLINE_POSTGRES_POOL_SIZE", "5")
    monkeypatch.setenv("DRIPLINE_POSTGRES_MAX_OVERFLOW", "0")
    settings = Settings()
    assert (settings.postgres_pool_size, settings.postgres_max_overflow) == (5, 0)


def test_a_process_sizes_its_pool_from_its_settings(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIPLINE_POSTGRES_POOL_SIZE", raising=False)
    monkeypatch.delenv("DRIPLINE_POSTGRES_MAX_OVERFLOW", raising=False)
    runtime = bootstrap(Settings(database_url=postgres_url, postgres_pool_size=3,
                                 postgres_max_overflow=1))
    try:
        pool = runtime.app.recorder.datastore.pool  # type: ignore[attr-defined]
        assert (pool.min_size, pool.max_size) == (3, 4)
    finally:
        runtime.close()
