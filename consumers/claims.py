"""Schedulers on one PostgreSQL database take disjoint work.

Every scheduler scans the same ``due_enrollments`` rows, oldest first. Without claims two of
them load the same enrollments, execute the same steps, and all but one lose the race at
save time: the second scheduler adds load and no throughput. So before executing a batch a
scheduler claims its enrollments with transaction-scoped advisory locks, skipping any another
scheduler holds, and keeps them until the batch is saved. A scheduler that dies releases its
claims with its session. Correctness never rests on the claims: the aggregate version still
decides every race (a claim can be released while the read model still shows the old row).

SQLite is one process and one scheduler: nothing to claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg

from projections.storage.urls import is_postgres, postgres_params

# The two-key advisory lock space (class, object) is separate from the one-key locks that
# the schema setup and the relay's leadership use; this class number is the schedulers'.
_CLAIM_CLASS = 0x5CED
_CLAIM = ("SELECT id FROM unnest(%s::text[]) AS u(id) "
          "WHERE pg_try_advisory_xact_lock(%s, hashtext(id)) LIMIT %s")


class Claims:
    """Advisory-lock claims over one connection of their own: ``claim`` opens a transaction
    that holds the locks it took, ``release`` ends it. A connection that broke (a database
    restart, a dropped session) is replaced at the next claim: its locks died with it."""

    def __init__(self, database_url: str) -> None:
        self._conninfo = psycopg.conninfo.make_conninfo(**postgres_params(database_url))
        self._conn: psycopg.Connection[Any] | None = None

    def claim(self, candidates: Sequence[UUID], limit: int) -> set[UUID]:
        """Lock up to ``limit`` of the candidates (taken in the order given) that no other
        scheduler holds; returns those."""
        if not candidates:
            return set()
        if self._conn is None or self._conn.broken or self._conn.closed:
            self._conn = psycopg.connect(self._conninfo, autocommit=False)
        rows = self._conn.execute(_CLAIM, [[str(c) for c in candidates], _CLAIM_CLASS,
                                           limit]).fetchall()
        return {UUID(row[0]) for row in rows}

    def release(self) -> None:
        if self._conn is None or self._conn.closed:
            return
        try:
            self._conn.rollback()  # the transaction only held locks: nothing to commit
        except psycopg.Error:
            self._conn.close()  # broken: its session, and so its locks, are gone

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def claims_for(database_url: str) -> Claims | None:
    return Claims(database_url) if is_postgres(database_url) else None
