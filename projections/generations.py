"""Which copy ("generation") of each read model's tables is live, which is being rebuilt,
and how far each has read the notification log.

``rm_state`` holds one row per (model, generation). Its ``position`` is the model's tracking
position: it changes only in the transaction that writes the model's rows, and that
transaction first locks the row, so two runners never apply the same events (exactly once,
however many processes project). A rebuild writes a new generation beside the live one and
switches in the same transaction as its last batch; queries read only the live one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from projections.db import ReadDb, Tx
from projections.models.base import ReadModel

STATE_DDL = ("CREATE TABLE IF NOT EXISTS rm_state (name TEXT NOT NULL, "
             "generation INTEGER NOT NULL, status TEXT NOT NULL, position BIGINT NOT NULL, "
             "PRIMARY KEY (name, generation))")
_SETUP_LOCK = 726_473_001  # any constant: serialises schema setup across processes


@dataclass(frozen=True)
class Generation:
    name: str
    generation: int
    status: str  # live | building
    position: int


def setup(db: ReadDb, models: list[ReadModel]) -> None:
    """Create the state table and, for a model seen for the first time, generation 1."""
    with db.transaction() as tx:
        if db.is_postgres:
            tx.execute("SELECT pg_advisory_xact_lock(%s)", [_SETUP_LOCK])
        tx.execute(db.ddl(STATE_DDL))
        for model in models:
            known = tx.execute("SELECT generation FROM rm_state WHERE name = %s", [model.name])
            if not known:
                create_tables(db, tx, model, 1)
                tx.execute("INSERT INTO rm_state VALUES (%s, 1, 'live', 0)", [model.name])


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
    return [Generation(r["name"], r["generation"], r["status"], r["position"]) for r in rows]


def live_generation(db: ReadDb, name: str) -> Generation:
    rows = db.read("SELECT * FROM rm_state WHERE name = %s AND status = 'live'", [name])
    if not rows:
        raise LookupError(f"read model {name!r} has no live generation; run setup")
    r = rows[0]
    return Generation(r["name"], r["generation"], r["status"], r["position"])


def lock(db: ReadDb, tx: Tx, name: str, generation: int) -> Generation | None:
    """The generation's state, locked until the transaction ends (None if it is gone)."""
    suffix = " FOR UPDATE" if db.is_postgres else ""  # SQLite: BEGIN IMMEDIATE locked it all
    rows = tx.execute("SELECT * FROM rm_state WHERE name = %s AND generation = %s" + suffix,
                      [name, generation])
    if not rows:
        return None
    r = rows[0]
    return Generation(r["name"], r["generation"], r["status"], r["position"])


def lock_all(db: ReadDb, tx: Tx, wanted: Sequence[Generation]) -> list[Generation]:
    """Their states, locked until the transaction ends (those gone are left out). One
    statement, locking in name order: the order is the same for every runner, so two
    never wait on each other in a cycle."""
    suffix = " FOR UPDATE" if db.is_postgres else ""  # SQLite: BEGIN IMMEDIATE locked it all
    keys = " OR ".join(["(name = %s AND generation = %s)"] * len(wanted))
    rows = tx.execute(f"SELECT * FROM rm_state WHERE {keys} ORDER BY name, generation{suffix}",
                      [v for g in wanted for v in (g.name, g.generation)])
    return [Generation(r["name"], r["generation"], r["status"], r["position"]) for r in rows]


def set_positions(tx: Tx, moves: Sequence[tuple[Generation, int]]) -> None:
    """Store each locked generation's new position (in one round trip on PostgreSQL)."""
    changed = [[position, g.name, g.generation] for g, position in moves
               if position != g.position]
    if changed:
        tx.executemany("UPDATE rm_state SET position = %s WHERE name = %s AND generation = %s",
                       changed)


def start_building(db: ReadDb, model: ReadModel) -> Generation:
    """A new, empty generation to rebuild into; or the unfinished one, to resume it."""
    with db.transaction() as tx:
        if db.is_postgres:
            tx.execute("SELECT pg_advisory_xact_lock(%s)", [_SETUP_LOCK])
        rows = tx.execute("SELECT * FROM rm_state WHERE name = %s ORDER BY generation",
                          [model.name])
        for r in rows:
            if r["status"] == "building":
                return Generation(r["name"], r["generation"], r["status"], r["position"])
        number = max((r["generation"] for r in rows), default=0) + 1
        create_tables(db, tx, model, number, indexes=False)
        tx.execute("INSERT INTO rm_state VALUES (%s, %s, 'building', 0)", [model.name, number])
        return Generation(model.name, number, "building", 0)


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
