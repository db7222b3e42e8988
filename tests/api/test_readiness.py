"""Readiness follows the database: ready while it answers, 503 once it is gone."""

from __future__ import annotations

from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ApiKeys
from domain.clock import ManualClock
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.conftest import ADMIN_URL


def test_readyz_is_503_when_the_database_is_gone(postgres_url: str,
                                                 clock: ManualClock) -> None:
    runtime = bootstrap(Settings(database_url=postgres_url), clock=clock)
    try:
        with TestClient(create_app(runtime, api_keys=ApiKeys.parse("t:k"))) as client:
            assert client.get("/readyz").json() == {"status": "ready"}
            with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{postgres_url.rsplit("/", 1)[1]}" WITH (FORCE)')
            gone = client.get("/readyz")
            assert gone.status_code == 503
            assert gone.headers["content-type"] == "application/problem+json"
            assert client.get("/healthz").status_code == 200
    finally:
        runtime.close()


def test_readyz_is_503_when_the_sqlite_file_is_gone(tmp_path: Path, clock: ManualClock) -> None:
    database = tmp_path / "dripline.db"
    runtime = bootstrap(Settings(database_url=f"sqlite:///{database}"), clock=clock)
    try:
        with TestClient(create_app(runtime, api_keys=ApiKeys.parse("t:k"))) as client:
            assert client.get("/readyz").status_code == 200
            database.unlink()
            assert client.get("/readyz").status_code == 503
    finally:
        runtime.close()


def test_readyz_follows_the_kafka_broker_when_one_is_configured(
        tmp_path: Path, clock: ManualClock) -> None:
    """A real listening socket stands for the broker: ready while it accepts connections,
    503 once it is closed."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    settings = Settings(database_url=f"sqlite:///{tmp_path}/dripline.db",
                        kafka_bootstrap_servers=f"127.0.0.1:{port}")
    runtime = bootstrap(settings, clock=clock)
    try:
        with TestClient(create_app(runtime, api_keys=ApiKeys.parse("t:k"))) as client:
            assert client.get("/readyz").status_code == 200
            listener.close()
            down = client.get("/readyz")
            assert down.status_code == 503
            assert "Kafka" in down.json()["detail"]
    finally:
        listener.close()
        runtime.close()
