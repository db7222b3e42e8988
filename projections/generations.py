"""Which copy ("generation") of each read model's tables is live, which is being rebuilt,
and how far each has read the notification log.

``rm_state`` holds one row per (model, generation). Its ``position`` is the model's tracking
position: it changes only in the transaction that writes the model's rows, and that
transaction first locks the row, so two runners never apply the same events (exactly once,
however many processes project). A rebuild writes a new generation beside the live one and
switches in the same transaction as its last batch; queries read only the live one.

Each generation also records the ``fingerprint`` of the code that built it (the model's
version, DDL and topics). A new version whose model changed its shape finds the old
generation at start-up and replaces it by an empty one, live at position 0, that the
projector fills from the start of the log: the old tables could be neither read by the new
queries nor fed by the new handlers, and events of a newly followed topic behind the old
position would never be applied. Reads are partial until it has caught up; a read given
``?after=`` waits for it as for any lag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from projections.db import ReadDb, Tx
from projections.models.base import ReadModel

STATE_DDL = ("CREATE TABLE IF NOT EXISTS rm_state (name TEXT NOT NULL, "
             "generation INTEGER NOT NULL, status TEXT NOT NULL, position BIGINT NOT NULL, "
             "fingerprint TEXT, PRIMARY KEY (name, generation))")
_INSERT = ("INSERT INTO rm_state (name, generation, status, position, fingerprint) "
           "VALUES (%s, %s, %s, 0, %s)")
_SETUP_LOCK = 726_473_001  # any constant: serialises schema setup across processes


@dataclass(frozen=True)
class Generation:
    name: str
    generation: int
    status: str  # live | building
    position: int
    fingerprint: str | None = None  # None: built before fingerprints were recorded


def _generation(r: dict[str, Any]) -> Generation:
    return Generation(r["name"], r["generation"], r["status"], r["position"],
                      r.get("fingerprint"))


def setup(db: ReadDb, models: list[ReadModel]) -> None:
    """Create the state table and, for a model seen for the first time, generation 1; replace
    generations built for another shape of a model (see the module's docstring)."""
    with db.transaction() as tx:
        if db.is_postgres:
            tx.execute("SELECT pg_advisory_xact_lock(%s)", [_SETUP_LOCK])
        tx.execute(db.ddl(STATE_DDL))
        _add_fingerprint_column(db, tx)
        for model in models:
            _settle(db, tx, model)


def _add_fingerprint_column(db: ReadDb, tx: Tx) -> None:
    """``rm_state`` made before fingerprints were recorded lacks the column."""
    if db.is_postgres:
        found = tx.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                           "current_schema() AND table_name = 'rm_state' "
                           "AND column_name = 'fingerprint'")
    else:
        found = tx.execute("SELECT 1 FROM pragma_table_info('rm_state') "
                           "WHERE name = 'fingerprint'")
    if not found:
        tx.execute("ALTER TABLE rm_state ADD COLUMN fingerprint TEXT")


def _settle(db: ReadDb, tx: Tx, model: ReadModel) -> None:
    """Keep the model's generations built for its current fingerprint, drop the others, and
    make sure one is live (a new, empty one if need be)."""
    current = model.fingerprint
    seen = [_generation(r) for r in tx.execute(
        "SELECT * FROM rm_state WHERE name = %s ORDER BY generation", [model.name])]
    kept = []
    for g in seen:
        if g.fingerprint is None and _is_first_shape(db, tx, model, g.generation):
            # Recorded before fingerprints existed, by a model still in its first shape
            # (at that change only ``due_enrollments`` gained a topic, ``enrollment.migrated``,
            # which no store held yet): current. Stamped, so later changes are noticed.
            tx.execute("UPDATE rm_state SET fingerprint = %s WHERE name = %s "
                       "AND generation = %s", [current, model.name, g.generation])
        elif g.fingerprint != current:
            tx.execute("DELETE FROM rm_state WHERE name = %s AND generation = %s",
                       [model.name, g.generation])
            drop_tables(tx, model, g.generation)
            continue
        kept.append(g)
    if not any(g.status == "live" for g in kept):
        # A number never used before: a dropped generation's name is not reused.
        number = max((g.generation for g in seen), default=0) + 1
        create_tables(db, tx, model, number)
        tx.execute(_INSERT, [model.name, number, "live", current])


def _is_first_shape(db: ReadDb, tx: Tx, model: ReadModel, generation: int) -> bool:
    """Can a generation recorded without a fingerprint be kept? Only for a model whose
    version is still 1 and whose tables there have the columns this code makes (compared
    with a probe generation 0, a number never used, made and dropped in this transaction)."""
    if model.version != 1:
        return False
    create_tables(db, tx, model, 0, indexes=False)
    try:
        return all(_columns(db, tx, table) == _columns(db, tx, model.tables(0)[base])
                   for base, table in model.tables(generation).items())
    finally:
        drop_tables(tx, model, 0)


def _columns(db: ReadDb, tx: Tx, table: str) -> list[str]:
    if db.is_postgres:
        rows = tx.execute("SELECT column_name AS name FROM information_schema.columns "
                          "WHERE table_schema = current_schema() AND table_name = %s "
                          "ORDER BY ordinal_position", [table])
    else:
        rows = tx.execute("SELECT name FROM pragma_table_info(%s) ORDER BY cid", [table])
    return [str(r["name"]) for r in rows]


def _is_index(statement: str) -> bool:
    """A secondary index, which queries need and a rebuild does not: a rebuild creates it at
    the switch, over the finished table (one sort instead of an update per row written).
    Unique ones stay with their table: upserts rely on them."""
    return statement.lstrip().upper().startswith("CREATE INDEX")


def create_tables(db: ReadDb, tx: Tx, model: ReadModel, generation: int, *,
                  indexes: bool = True) -> None:
    tables = model.tables(generation)
    for statement in model.schema:
        if indexes or not _is_index(statement):
            tx.execute(db.ddl(statement.format(**tables)))


def create_indexes(tx: Tx, model: ReadModel, generation: int) -> None:
    tables = model.tables(generation)
    for statement in model.schema:
        if _is_index(statement):
            tx.execute(statement.format(**tables))  # no column types: the same on both


def drop_tables(tx: Tx, model: ReadModel, generation: int) -> None:
    for table in model.tables(generation).values():
        tx.execute(f"DROP TABLE IF EXISTS {table}")


def all_generations(db: ReadDb) -> list[Generation]:
    rows = db.read("SELECT * FROM rm_state ORDER BY name, generation")
    return [_generation(r) for r in rows]


def live_generation(db: ReadDb, name: str) -> Generation:
    rows = db.read("SELECT * FROM rm_state WHERE name = %s AND status = 'live'", [name])
    if not rows:
        raise LookupError(f"read model {name!r} has no live generation; run setup")
    return _generation(rows[0])


def lock(db: ReadDb, tx: Tx, name: str, generation: int) -> Generation | None:
    """The generation's state, locked until the transaction ends (None if it is gone)."""
    suffix = " FOR UPDATE" if db.is_postgres else ""  # SQLite: BEGIN IMMEDIATE locked it all
    rows = tx.execute("SELECT * FROM rm_state WHERE name = %s AND generation = %s" + suffix,
                      [name, generation])
    return _generation(rows[0]) if rows else None


def lock_all(db: ReadDb, tx: Tx, wanted: Sequence[Generation]) -> list[Generation]:
    """Their states, locked until the transaction ends (those gone are left out). One
    statement, locking in name order: the order is the same for every runner, so two
    never wait on each other in a cycle."""
    suffix = " FOR UPDATE" if db.is_postgres else ""  # SQLite: BEGIN IMMEDIATE locked it all
    keys = " OR ".join(["(name = %s AND generation = %s)"] * len(wanted))
    rows = tx.execute(f"SELECT * FROM rm_state WHERE {keys} ORDER BY name, generation{suffix}",
                      [v for g in wanted for v in (g.name, g.generation)])
    return [_generation(r) for r in rows]


def set_positions(tx: Tx, moves: Sequence[tuple[Generation, int]]) -> None:
    """Store each locked generation's new position (in one round trip on PostgreSQL)."""
    changed = [[position, g.name, g.generation] for g, position in moves
               if position != g.position]
    if changed:
        tx.executemany("UPDATE rm_state SET position = %s WHERE name = %s AND generation = %s",
                       changed)


def start_building(db: ReadDb, model: ReadModel) -> Generation:
    """A new, empty generation to rebuild into; or the unfinished one, to resume it (unless
    other code started it, for another shape: that one is dropped and started afresh)."""
    with db.transaction() as tx:
        if db.is_postgres:
            tx.execute("SELECT pg_advisory_xact_lock(%s)", [_SETUP_LOCK])
        rows = [_generation(r) for r in tx.execute(
            "SELECT * FROM rm_state WHERE name = %s ORDER BY generation", [model.name])]
        for g in rows:
            if g.status != "building":
                continue
            if g.fingerprint == model.fingerprint:
                return g
            tx.execute("DELETE FROM rm_state WHERE name = %s AND generation = %s",
                       [model.name, g.generation])
            drop_tables(tx, model, g.generation)
        number = max((g.generation for g in rows), default=0) + 1
        create_tables(db, tx, model, number, indexes=False)
        tx.execute(_INSERT, [model.name, number, "building", model.fingerprint])
        return Generation(model.name, number, "building", 0, model.fingerprint)


def switch_to(tx: Tx, model: ReadModel, g: Generation) -> None:
    """Make the rebuilt generation live (with its indexes) and drop the one it replaces,
    atomically."""
    create_indexes(tx, model, g.generation)
    old = tx.execute("SELECT generation FROM rm_state WHERE name = %s AND status = 'live'",
                     [model.name])
    for r in old:
        tx.execute("DELETE FROM rm_state WHERE name = %s AND generation = %s",
                   [model.name, r["generation"]])
        drop_tables(tx, model, r["generation"])
    tx.execute("UPDATE rm_state SET status = 'live' WHERE name = %s AND generation = %s",
               [model.name, g.generation])
