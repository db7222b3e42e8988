"""What every ``dripline`` command answers when PostgreSQL or Kafka cannot be reached: one
line naming the server it tried and exit status 2, never a traceback. ``run(app)`` wraps the
Typer app; ``require_kafka`` checks a broker before a command starts work that would only
fail later, in another thread or with half-open clients."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator

import psycopg
import typer
from aiokafka import AIOKafkaClient  # type: ignore[import-untyped]
from aiokafka.errors import (  # type: ignore[import-untyped]
    KafkaConnectionError,
    KafkaTimeoutError,
)
from pydantic import ValidationError

from api.auth import ApiKeysError
from dripline.settings import Settings
from projections.storage.upgrade import StoreUpgradeNeededError
from projections.storage.urls import is_postgres, postgres_params

UNREACHABLE = 2
# libpq waits over two minutes for an address that does not answer; aiokafka 40 s.
CONNECT_TIMEOUT_SECONDS = 5
# SQLSTATE classes of a server that cannot be used at all: connection exception, invalid
# authorization, unknown database, operator intervention (shutting down, starting up).
_CANNOT_CONNECT = ("08", "28", "3D", "57")


def run(app: typer.Typer) -> None:
    os.environ.setdefault("PGCONNECT_TIMEOUT", str(CONNECT_TIMEOUT_SECONDS))
    try:
        app()
    except Exception as error:
        line = unreachable(error) or misconfigured(error)
        if line is None:
            raise
        # Clients a failed start left half-open complain as they are collected; the line
        # below already says what happened.
        logging.getLogger("asyncio").disabled = True
        print(f"dripline: {line}", file=sys.stderr, flush=True)
        raise SystemExit(UNREACHABLE) from None


def unreachable(error: BaseException) -> str | None:
    """The line for an error that means a server could not be reached (None otherwise),
    looked for along the chain of causes and inside exception groups."""
    for each in _chain(error):
        if isinstance(each, psycopg.OperationalError) and (
                each.sqlstate is None or each.sqlstate[:2] in _CANNOT_CONNECT):
            return f"cannot use PostgreSQL at {_postgres()}: {_reason(each)}"
        if isinstance(each, KafkaConnectionError | KafkaTimeoutError):
            return f"cannot reach Kafka at {_kafka()}: {_reason(each)}"
    return None


def misconfigured(error: BaseException) -> str | None:
    """The line for a setting that cannot be used (None otherwise): what is wrong, and
    which variable to fix."""
    if isinstance(error, ApiKeysError | StoreUpgradeNeededError):
        return str(error)
    if isinstance(error, ValidationError):
        problems = "; ".join(f"DRIPLINE_{'_'.join(str(p) for p in e['loc']).upper()}: "
                             f"{e['msg']}" for e in error.errors())
        return f"invalid settings: {problems}"
    return None


def require_kafka(bootstrap: str) -> None:
    """Raise ``KafkaConnectionError`` unless a broker of ``bootstrap`` answers."""
    asyncio.run(_probe(bootstrap))


async def _probe(bootstrap: str) -> None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap,
                            request_timeout_ms=CONNECT_TIMEOUT_SECONDS * 1000)
    try:
        with _quiet("aiokafka"):  # it logs each failed address; the caller says it once
            await asyncio.wait_for(client.bootstrap(), CONNECT_TIMEOUT_SECONDS * 2)
    except (KafkaConnectionError, TimeoutError):
        raise KafkaConnectionError("no broker answered") from None
    finally:
        await client.close()


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        each = pending.pop()
        if id(each) in seen:
            continue
        seen.add(id(each))
        yield each
        if isinstance(each, BaseExceptionGroup):
            pending += each.exceptions
        pending += [e for e in (each.__cause__, each.__context__) if e is not None]


def _reason(error: BaseException) -> str:
    """The last clause of the first line: "Connection refused", "database "x" does not
    exist", "Unable to bootstrap from [...]"."""
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return first.rpartition(" failed: ")[2].removeprefix(f"{type(error).__name__}: ")


def _postgres() -> str:
    url = Settings().database_url
    if not is_postgres(url):
        return "DRIPLINE_DATABASE_URL"
    params = postgres_params(url)
    return f"{params['host']}:{params['port']} (DRIPLINE_DATABASE_URL)"


def _kafka() -> str:
    return f"{Settings().kafka_bootstrap_servers} (DRIPLINE_KAFKA_BOOTSTRAP_SERVERS)"


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    was = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = was
