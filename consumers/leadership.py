"""One active copy of a role that must not run twice at once (the relay): copies started for
availability wait, and the first to take a PostgreSQL advisory lock leads until it stops or
dies (its session ends and the lock with it). SQLite means one process: it always leads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg

from projections.storage.urls import is_postgres, postgres_params

log = logging.getLogger("dripline.leadership")


@contextlib.asynccontextmanager
async def leadership(database_url: str, key: int, stop: asyncio.Event,
                     poll_seconds: float = 1.0) -> AsyncIterator[bool]:
    """Yields True once this process leads, or False if ``stop`` came first."""
    if not is_postgres(database_url):
        yield True
        return
    conninfo = psycopg.conninfo.make_conninfo(**postgres_params(database_url))
    conn = await asyncio.to_thread(_connect, conninfo)
    try:
        leading = False
        while not stop.is_set() and not leading:
            leading = await asyncio.to_thread(_try_lock, conn, key)
            if not leading:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
        if leading:
            log.info("leading (advisory lock %d)", key)
        yield leading
    finally:
        await asyncio.to_thread(conn.close)


def _connect(conninfo: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(conninfo, autocommit=True)


def _try_lock(conn: psycopg.Connection[tuple[object, ...]], key: int) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
    return bool(row and row[0])
