"""A read model whose shape changed between versions: each generation records the fingerprint
of the code that built it; at start-up a generation built for another shape is replaced by an
empty one that catches up from the start of the log, a generation from before fingerprints is
kept only if the model is still in its first shape, and a projector never writes a generation
built for another shape."""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import UUID

import pytest

from domain.clock import ManualClock
from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings
from projections import replay
from projections.checksum import checksum
from projections.generations import Generation, all_generations
from projections.projector import StaleGenerationError
from projections.read_models import ReadModels
from tests.projections.support import active_sequence, execute_step

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-0.1.db.gz"
NURTURE = UUID("f2581a1a-5fba-499b-a486-38959dc89967")  # "Lead Nurture" in the fixture
# Changed at revisions (CAPABILITIES §8), and at engagement (§2: opens and clicks).
CHANGED = {"sequences", "enrollments", "sequence_stats", "messages"}


def checksums(read_models: ReadModels) -> dict[str, str]:
    return {m.name: checksum(read_models.db, m) for m in read_models.models}


def states(read_models: ReadModels) -> dict[str, Generation]:
    return {g.name: g for g in all_generations(read_models.db)}


def _tables(read_models: ReadModels) -> set[str]:
    sql = ("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
           if read_models.db.is_postgres else
           "SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r["name"] for r in read_models.db.read(sql)}


@pytest.fixture
def projected(runtime: Runtime, clock: ManualClock) -> Runtime:
    """Two sequences with enrollments on their way, projected."""
    sequence = active_sequence(runtime.app, steps=2)
    enrolled = runtime.app.enroll_many("acme", sequence.id, ["a", "b", "c"]).enrolled
    execute_step(runtime.app, enrolled[0].id, clock(), last_order=1)
    active_sequence(runtime.app, tenant="beta", name="Other")
    runtime.catch_up()
    return runtime


@pytest.fixture
def restart(projected: Runtime) -> Iterator[Callable[[], ReadModels]]:
    """The read models of a process started next on the same database (its setup runs)."""
    made: list[ReadModels] = []

    def start() -> ReadModels:
        other = ReadModels(projected.settings.database_url)
        other.attach(projected.app)
        made.append(other)
        return other

    yield start
    for other in made:
        other.close()


def test_a_generation_built_by_another_version_is_refused_then_replaced_on_restart(
        projected: Runtime, restart: Callable[[], ReadModels]) -> None:
    read_models = projected.read_models
    before = checksums(read_models)
    with read_models.db.transaction() as tx:
        tx.execute("UPDATE rm_state SET fingerprint = 'v9:elsewhere' WHERE name = 'sequences'")
    projected.app.create_sequence("acme", {"name": "Later"})

    with pytest.raises(StaleGenerationError, match="sequences"):
        projected.catch_up()  # this process never writes tables made for another shape
    lag = {s.name: s.lag for s in read_models.status()}
    assert lag.pop("sequences") > 0
    assert set(lag.values()) == {0}  # the others went on

    other = restart()
    after = states(other)
    assert (after["sequences"].generation, after["sequences"].position) == (2, 0)
    assert after["sequences"].fingerprint == other.model("sequences").fingerprint
    assert "rm_sequences_g1" not in _tables(other)
    assert {n: (g.generation, g.position > 0) for n, g in after.items() if n != "sequences"} == (
        dict.fromkeys(set(after) - {"sequences"}, (1, True)))
    other.catch_up()
    assert {s["name"] for s in other.queries.list_sequences("acme").items} == {
        "Welcome", "Later"}
    rebuilt = checksums(other)
    assert rebuilt != before  # one sequence more
    replay.rebuild(other, "sequences")
    assert checksums(other) == rebuilt


def test_generations_from_before_fingerprints_are_kept_only_if_still_in_their_first_shape(
        projected: Runtime, restart: Callable[[], ReadModels]) -> None:
    read_models = projected.read_models
    before = checksums(read_models)
    positions = {g.name: g.position for g in all_generations(read_models.db)}
    # The state table as versions before fingerprints made it.
    with read_models.db.transaction() as tx:
        tx.execute(read_models.db.ddl(
            "CREATE TABLE rm_state_old (name TEXT NOT NULL, generation INTEGER NOT NULL, "
            "status TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (name, generation))"))
        tx.execute("INSERT INTO rm_state_old SELECT name, generation, status, position "
                   "FROM rm_state")
        tx.execute("DROP TABLE rm_state")
        tx.execute("ALTER TABLE rm_state_old RENAME TO rm_state")

    other = restart()
    after = states(other)
    assert {n: (g.generation, g.position) for n, g in after.items()} == {
        n: (2, 0) if n in CHANGED else (1, positions[n]) for n in positions}
    assert {n: g.fingerprint for n, g in after.items()} == {
        m.name: m.fingerprint for m in other.models}
    other.catch_up()
    assert checksums(other) == before


def test_a_store_projected_by_0_1_gets_its_changed_read_models_rebuilt_from_old_events(
        tmp_path: Path) -> None:
    """The 0.1 fixture: events without revisions, read models of 0.1's shapes. Sequences,
    enrollments and stats (revisions) and messages (0.1 had no ``message_senders``) are
    replaced; old events load as revision 1 and count as 0.1 counted them, by step id now."""
    database = tmp_path / "dripline.db"
    database.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    with sqlite3.connect(database) as old:
        old.row_factory = sqlite3.Row
        counted_by_0_1 = {r["step_order"]: (r["reached"], r["requested"]) for r in old.execute(
            "SELECT * FROM rm_stats_steps_g1 WHERE sequence_id = ?", [str(NURTURE)])}
    runtime = bootstrap(Settings(database_url=f"sqlite:///{database}"), check_store=False)
    try:
        read_models, q = runtime.read_models, runtime.queries
        after = states(read_models)
        assert {n for n, g in after.items() if g.generation == 2} == CHANGED
        assert {after[n].position for n in ("contacts", "due_enrollments")} == {35}
        assert not {"rm_sequences_g1", "rm_stats_steps_g1"} & _tables(read_models)
        runtime.catch_up()

        sequence = runtime.app.get_sequence("acme", NURTURE)
        row = q.get_sequence("acme", NURTURE)
        assert row is not None
        assert (row["revision"], row["draft_revision"]) == (1, None)
        assert row["steps"] == [s.to_dict() for s in sequence.steps]
        listed = q.list_enrollments("acme", NURTURE).items
        assert {e["revision"] for e in listed} == {1}
        assert q.revision_counts("acme", NURTURE) == {1: 2}
        stats = q.sequence_stats("acme", NURTURE)
        assert stats is not None
        ids = {s.order: str(s.id) for s in sequence.steps}
        assert [(s["step_id"], s["step_order"]) for s in stats["steps"]] == [
            (ids[o], o) for o in sorted(ids)]
        assert {s["step_order"]: (s["reached"], s["message_requested"])
                for s in stats["steps"] if s["step_order"] in counted_by_0_1} == counted_by_0_1
        assert all(s["reached"] == 0 for s in stats["steps"]
                   if s["step_order"] not in counted_by_0_1)

        live = checksums(read_models)
        replay.rebuild_many(read_models, read_models.names())
        assert checksums(read_models) == live
    finally:
        runtime.close()
