"""The write path's reads stay index probes on a big events table whose statistics are
missing (a young table; autovacuum late or off): the planner once chose a merge over the
whole table for them, seconds per batch at a million events. And no connection of ours
compiles queries with JIT (300 ms to save nothing on a 10 ms lookup)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings
from projections.storage.pg_store import OPEN_OF_CONTACTS, PgEventStore
from projections.storage.tables import ENROLLMENTS
from projections.storage.urls import postgres_params

EVENTS = 300_000


@pytest.fixture
def runtime(postgres_url: str) -> Iterator[Runtime]:
    built = bootstrap(Settings(database_url=postgres_url), catch_up_lookups=False)
    yield built
    built.close()


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(psycopg.conninfo.make_conninfo(**postgres_params(url)),
                           autocommit=True)


def test_reads_of_the_write_path_probe_the_index_without_statistics(
        runtime: Runtime, postgres_url: str) -> None:
    store = runtime.app.recorder
    assert isinstance(store, PgEventStore)
    with _connect(postgres_url) as conn:
        table = store.qualified_events
        # Three events for each of 100,000 streams, and no statistics about them.
        conn.execute(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                     "SELECT md5((g / 3)::text)::uuid, g % 3 + 1, 't', '\\x00' "
                     f"FROM generate_series(0, {EVENTS - 1}) g")
        conn.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [table])
        ids = [row[0] for row in conn.execute(
            f"SELECT DISTINCT originator_id FROM {table} LIMIT 500").fetchall()]
        for statement in (store.streams_statement, store.moved_statement):
            sql = statement.as_string(conn).replace("%b", "%s")
            with psycopg.ClientCursor(conn) as cur:
                cur.execute("EXPLAIN " + sql, [ids, [0] * len(ids)])
                plan = "\n".join(str(row[0]) for row in cur.fetchall())
            _probes(plan)


def test_the_open_enrollments_of_contacts_are_probes_without_statistics(
        runtime: Runtime, postgres_url: str) -> None:
    with _connect(postgres_url) as conn:
        # 300,000 open enrollments of one tenant, and no statistics about them.
        conn.execute(f"INSERT INTO {ENROLLMENTS} SELECT md5(g::text)::uuid::text, 'acme', "
                     f"md5((g % 7)::text)::uuid::text, 'c-' || g, 'active', now() "
                     f"FROM generate_series(1, {EVENTS}) g")
        conn.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [ENROLLMENTS])
        with psycopg.ClientCursor(conn) as cur:
            cur.execute("EXPLAIN " + OPEN_OF_CONTACTS.replace("%b", "%s"),
                        [[f"c-{n}" for n in range(0, 50_000, 10)], "acme"])
            plan = "\n".join(str(row[0]) for row in cur.fetchall())
        _probes(plan)
        assert "contact_id = x.contact_id" in plan, plan  # the contact is in the probe


def _probes(plan: str) -> None:
    assert "Nested Loop" in plan, plan
    for shape in ("Merge Join", "Hash Join", "Seq Scan"):
        assert shape not in plan, plan


def test_no_connection_of_ours_compiles_with_jit(runtime: Runtime) -> None:
    store = runtime.app.recorder
    assert isinstance(store, PgEventStore)
    with store.datastore.get_connection() as conn:
        assert conn.execute("SHOW jit").fetchone() == {"jit": "off"}
    assert runtime.read_models.db.read("SHOW jit") == [{"jit": "off"}]
