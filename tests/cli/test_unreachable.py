"""Every command that needs PostgreSQL or Kafka answers one it cannot reach with one line
naming the address it tried, and exit status 2: never a traceback, never a long wait."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import dripline_command, free_port, start
from tests.kafka.broker import Tansu

# Seconds: a bound on a command that hangs, not a measurement. A server that accepts
# connections and never answers would hold libpq for 130 s and aiokafka for 40 s.
BOUND = 30

DATABASE_COMMANDS = [["serve"], ["api"], ["schedule"], ["project"], ["replay", "--all"],
                     ["projections", "status"], ["stream", "show", "c-42", "--tenant", "acme"]]
BROKER_COMMANDS = [["serve"], ["consume"], ["relay"], ["dlq", "list"],
                   ["dlq", "replay", "--all"]]


def dripline(args: list[str], folder: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """``dripline ARGS`` with its own SQLite file in ``folder`` unless told otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env |= {"DRIPLINE_DATABASE_URL": f"sqlite:///{folder}/dripline.db",
            "DRIPLINE_API_KEYS": "acme:a-key-for-the-test", "DRIPLINE_PORT": str(free_port())}
    env |= {f"DRIPLINE_{name.upper()}": value for name, value in settings.items()}
    return subprocess.run([*dripline_command(), *args], env=env, cwd=folder, text=True,
                          capture_output=True, timeout=BOUND, check=False)


def assert_one_line_naming(result: subprocess.CompletedProcess[str], address: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert [line for line in output.splitlines() if line.strip()] == [output.strip()], output
    assert address in output
    assert result.returncode == 2, output


@pytest.fixture
def closed() -> str:
    """An address nobody listens on: the port was free a moment ago."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture
def silent() -> Iterator[str]:
    """An address that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=" ".join)
def test_postgres_that_refuses(args: list[str], closed: str, tmp_path: Path) -> None:
    result = dripline(args, tmp_path, database_url=f"postgresql://postgres@{closed}/x")
    assert_one_line_naming(result, closed)


@pytest.mark.parametrize("args", BROKER_COMMANDS, ids=" ".join)
def test_kafka_that_refuses(args: list[str], closed: str, tmp_path: Path) -> None:
    result = dripline(args, tmp_path, kafka_bootstrap_servers=closed)
    assert_one_line_naming(result, closed)


@pytest.mark.parametrize("args", [["consume"], ["relay"]], ids=" ".join)
def test_postgres_that_refuses_a_kafka_role(args: list[str], closed: str, tansu: Tansu,
                                            tmp_path: Path) -> None:
    result = dripline(args, tmp_path, database_url=f"postgresql://postgres@{closed}/x",
                      kafka_bootstrap_servers=tansu.bootstrap)
    assert_one_line_naming(result, closed)


def test_postgres_that_never_answers(silent: str, tmp_path: Path) -> None:
    result = dripline(["projections", "status"], tmp_path,
                      database_url=f"postgresql://postgres@{silent}/x")
    assert_one_line_naming(result, silent)


def test_kafka_that_never_answers(silent: str, tmp_path: Path) -> None:
    assert_one_line_naming(dripline(["dlq", "list"], tmp_path,
                                    kafka_bootstrap_servers=silent), silent)


def test_serve_on_sqlite_still_starts(tmp_path: Path) -> None:
    server = start(tmp_path / "dripline.db", api_keys="acme:a-key-for-the-test")
    assert server.stop() == 0, server.output()
