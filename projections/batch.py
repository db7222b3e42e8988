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
from projections.db import BulkTx

_KEYS: dict[object, str] = {}  # id -> its text: every model keys its rows by the same ids


def _key(value: object) -> str:
    if isinstance(value, str):
        return value
    text = _KEYS.get(value)
    if text is None:
        if len(_KEYS) >= 50_000:
            _KEYS.clear()
        text = _KEYS[value] = str(value)
    return text


class RowBuffer:
    """Rows of one table by primary key: read at most once per batch, written back at its
    end (upsert), or deleted."""

    def __init__(self, tx: BulkTx, table: str, key: str) -> None:
        self.tx, self.table, self.key = tx, table, key
        self.rows: dict[str, Row | None] = {}
        self.dirty: dict[str, None] = {}  # insertion-ordered set: flush in a stable order
        self.gone: dict[str, None] = {}

    def prefetch(self, keys: Iterable[object]) -> None:
        rows = self.rows
        missing = [k for k in dict.fromkeys(map(_key, keys)) if k not in rows]
        if not missing:
            return
        for row in self.tx.rows_by_key(self.table, self.key, missing):
            rows[_key(row[self.key])] = row
        for key in missing:
            rows.setdefault(key, None)

    def get(self, key: object) -> Row | None:
        k = _key(key)
        if k not in self.rows:
            self.prefetch([k])
        row = self.rows[k]
        return dict(row) if row is not None else None

    def put(self, key: object, row: Row) -> None:
        k = _key(key)
        self.rows[k] = row
        self.dirty[k] = None
        self.gone.pop(k, None)

    def delete(self, key: object) -> None:
        k = _key(key)
        self.rows[k] = None
        self.gone[k] = None
        self.dirty.pop(k, None)

    def flush(self) -> None:
        if self.gone:
            self.tx.delete(self.table, self.key, list(self.gone))
        rows = [r for r in (self.rows[k] for k in self.dirty) if r is not None]
        if rows:
            self.tx.upsert(self.table, self.key, rows)
        self.dirty, self.gone = {}, {}


class Counters:
    """Counters of one table added up over the batch. ``create``: a missing row is created
    with these counters (upsert); otherwise the row must exist and is updated."""

    def __init__(self, tx: BulkTx, table: str, keys: Sequence[str], counters: Sequence[str],
                 *, create: bool) -> None:
        self.tx, self.table, self.keys, self.counters = tx, table, keys, counters
        self.create = create
        self.deltas: dict[tuple[Any, ...], dict[str, float]] = {}

    def add(self, key: Sequence[Any], counter: str, amount: float = 1) -> None:
        row = self.deltas.get(key := tuple(k if isinstance(k, int) else _key(k) for k in key))
        if row is None:
            row = self.deltas[key] = dict.fromkeys(self.counters, 0)
        row[counter] += amount

    def flush(self) -> None:
        if not self.deltas:
            return
        self.tx.add(self.table, self.keys, self.counters,
                    [{**dict(zip(self.keys, k, strict=True)), **d}
                     for k, d in self.deltas.items()], create=self.create)
        self.deltas = {}


class Batch:
    """What a model's handlers write through during one batch: the transaction itself for
    plain statements, and buffers that are flushed (in the order they were first asked
    for) just before the batch's tracking position is stored."""

    def __init__(self, tx: BulkTx) -> None:
        self.tx = tx
        self._buffers: dict[str, RowBuffer | Counters] = {}
        self._deferred: list[tuple[str, Sequence[Any]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.tx.execute(sql, params)

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write sent at the end of the batch, in order with the other deferred writes,
        all at once (PostgreSQL: pipelined). Only for a model that never reads back what
        it writes within a batch."""
        self._deferred.append((sql, params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.tx.executemany(sql, rows)

    def rows(self, table: str, key: str) -> RowBuffer:
        found = self._buffers.get(table)
        if found is None:
            found = self._buffers[table] = RowBuffer(self.tx, table, key)
        if not isinstance(found, RowBuffer):
            raise TypeError(f"{table} is buffered as counters, not rows")
        return found

    def counters(self, table: str, keys: Sequence[str], counters: Sequence[str], *,
                 create: bool) -> Counters:
        found = self._buffers.get(table)
        if found is None:
            found = self._buffers[table] = Counters(self.tx, table, keys, counters,
                                                    create=create)
        if not isinstance(found, Counters):
            raise TypeError(f"{table} is buffered as rows, not counters")
        return found

    def flush(self) -> None:
        for buffer in self._buffers.values():
            buffer.flush()
        if self._deferred:
            self.tx.execute_all(self._deferred)
            self._deferred = []
