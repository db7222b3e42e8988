"""One batch's writes, gathered in memory and sent at its end in a few ``executemany`` calls.

A read-modify-write per event costs two round trips to PostgreSQL; over a batch of a
thousand events most rows are touched more than once, so a batch reads each row once, keeps
changing it in memory and writes it back once, and adds counters up before writing them.
Everything still commits in the batch's one transaction, with its tracking position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from projections.cursors import Row
from projections.db import Tx


class RowBuffer:
    """Rows of one table by primary key: read at most once per batch, written back at its
    end (upsert), or deleted."""

    def __init__(self, tx: Tx, table: str, key: str) -> None:
        self.tx, self.table, self.key = tx, table, key
        self.rows: dict[str, Row | None] = {}
        self.dirty: dict[str, None] = {}  # insertion-ordered set: flush in a stable order
        self.gone: dict[str, None] = {}

    def prefetch(self, keys: Iterable[object]) -> None:
        missing = list(dict.fromkeys(str(k) for k in keys if str(k) not in self.rows))
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            for row in self.tx.execute(f"SELECT * FROM {self.table} WHERE {self.key} "
                                       f"IN ({marks})", chunk):
                self.rows[str(row[self.key])] = row
            for key in chunk:
                self.rows.setdefault(key, None)

    def get(self, key: object) -> Row | None:
        self.prefetch([key])
        row = self.rows[str(key)]
        return dict(row) if row is not None else None

    def put(self, key: object, row: Row) -> None:
        self.rows[str(key)] = row
        self.dirty[str(key)] = None
        self.gone.pop(str(key), None)

    def delete(self, key: object) -> None:
        self.rows[str(key)] = None
        self.gone[str(key)] = None
        self.dirty.pop(str(key), None)

    def flush(self) -> None:
        if self.gone:
            self.tx.executemany(f"DELETE FROM {self.table} WHERE {self.key} = %s",
                                [[k] for k in self.gone])
        rows = [r for r in (self.rows[k] for k in self.dirty) if r is not None]
        if rows:
            columns = list(rows[0])
            sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != self.key)
            self.tx.executemany(
                f"INSERT INTO {self.table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))}) "
                f"ON CONFLICT ({self.key}) DO UPDATE SET {sets}",
                [[r[c] for c in columns] for r in rows])
        self.dirty, self.gone = {}, {}


class Counters:
    """Counters of one table added up over the batch. ``create``: a missing row is created
    with these counters (upsert); otherwise the row must exist and is updated."""

    def __init__(self, tx: Tx, table: str, keys: Sequence[str], counters: Sequence[str],
                 *, create: bool) -> None:
        self.tx, self.table, self.keys, self.counters = tx, table, keys, counters
        self.create = create
        self.deltas: dict[tuple[Any, ...], dict[str, float]] = {}

    def add(self, key: Sequence[Any], counter: str, amount: float = 1) -> None:
        row = self.deltas.setdefault(tuple(str(k) if not isinstance(k, int) else k
                                           for k in key), dict.fromkeys(self.counters, 0))
        row[counter] += amount

    def flush(self) -> None:
        if not self.deltas:
            return
        adds = ", ".join(f"{c} = {self.table}.{c} + %s" for c in self.counters)
        if self.create:
            columns = [*self.keys, *self.counters]
            self.tx.executemany(
                f"INSERT INTO {self.table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))}) "
                f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET "
                + ", ".join(f"{c} = {self.table}.{c} + excluded.{c}" for c in self.counters),
                [[*k, *d.values()] for k, d in self.deltas.items()])
        else:
            where = " AND ".join(f"{k} = %s" for k in self.keys)
            self.tx.executemany(f"UPDATE {self.table} SET {adds} WHERE {where}",
                                [[*d.values(), *k] for k, d in self.deltas.items()])
        self.deltas = {}


class Batch:
    """What a model's handlers write through during one batch: the transaction itself for
    plain statements, and buffers that are flushed (in the order they were first asked
    for) just before the batch's tracking position is stored."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self._buffers: dict[str, RowBuffer | Counters] = {}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.tx.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.tx.executemany(sql, rows)

    def rows(self, table: str, key: str) -> RowBuffer:
        found = self._buffers.setdefault(table, RowBuffer(self.tx, table, key))
        assert isinstance(found, RowBuffer)
        return found

    def counters(self, table: str, keys: Sequence[str], counters: Sequence[str], *,
                 create: bool) -> Counters:
        found = self._buffers.setdefault(
            table, Counters(self.tx, table, keys, counters, create=create))
        assert isinstance(found, Counters)
        return found

    def flush(self) -> None:
        for buffer in self._buffers.values():
            buffer.flush()
