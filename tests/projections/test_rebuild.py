"""Replay: a full rebuild equals the incrementally projected tables; while it runs the live
tables keep serving; an interrupted rebuild resumes; the CLI drives it."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from dripline.cli import app as cli
from projections import replay
from projections.checksum import checksum
from projections.db import ReadDb
from projections.generations import live_generation
from projections.models.base import ReadModel, table_name
from tests.projections.support import active_sequence
from tests.projections.workload import run_workload


@pytest.mark.slow
def test_a_full_rebuild_equals_the_incremental_read_models(
        runtime: Runtime, clock: ManualClock) -> None:
    events = run_workload(runtime.app, clock, contacts=2000, between=runtime.catch_up)
    assert events >= 10_000
    runtime.catch_up()
    read_models = runtime.read_models
    assert all(_engagement(read_models.db)), "the workload opens and clicks (§2)"
    templates = table_name("templates", live_generation(read_models.db, "templates").generation)
    assert read_models.db.read(f"SELECT COUNT(*) AS n FROM {templates}")[0]["n"] == 2  # §5
    incremental = {m.name: checksum(read_models.db, m) for m in read_models.models}
    indexed = {m.name: _indexes(read_models.db, m, 1) for m in read_models.models}
    read_models.projector.batch_size = 1000
    batches: list[str] = []
    finals = replay.rebuild_many(read_models, read_models.names(),
                                 lambda g, head: batches.append(g.name))
    for name in read_models.names():
        assert (finals[name].status, finals[name].generation,
                finals[name].position) == ("live", 2, events)
    rebuilt = {m.name: checksum(read_models.db, m) for m in read_models.models}
    assert rebuilt == incremental
    # One pass: every batch moved every model (none re-read the log after another).
    models = len(read_models.names())
    passes = [sorted(batches[i:i + models]) for i in range(0, len(batches), models)]
    assert passes == [sorted(read_models.names())] * len(passes)
    assert len(passes) <= -(-events // 1000)
    # The indexes left out while rebuilding were made at the switch.
    assert {m.name: _indexes(read_models.db, m, 2) for m in read_models.models} == indexed
    assert any(indexed.values())


def _engagement(db: ReadDb) -> list[int]:
    """The live tables' human and machine opens, human and bot clicks, and messages with a
    first open and a first click."""
    stats = table_name("stats_steps", live_generation(db, "sequence_stats").generation)
    messages = table_name("messages", live_generation(db, "messages").generation)
    [counts] = db.read(f"SELECT SUM(opened) AS a, SUM(opened_machine) AS b, SUM(clicked) AS c, "
                       f"SUM(clicked_bot) AS d FROM {stats}")
    [times] = db.read(f"SELECT COUNT(opened_at) AS a, COUNT(clicked_at) AS b FROM {messages}")
    return [int(v or 0) for v in (*counts.values(), *times.values())]


def _indexes(db: ReadDb, model: ReadModel, generation: int) -> list[str]:
    """The model's secondary indexes in that generation, named without the generation."""
    found = []
    for base, table in model.tables(generation).items():
        sql = ("SELECT indexname AS name FROM pg_indexes WHERE tablename = %s"
               if db.is_postgres else
               "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
               "AND sql IS NOT NULL")
        found += [f"{base}:{r['name'].removeprefix(table)}" for r in db.read(sql, [table])
                  if not r["name"].endswith("_pkey")]
    return sorted(found)


def test_a_rebuild_serves_the_live_tables_until_it_switches_and_resumes_when_interrupted(
        runtime: Runtime, clock: ManualClock) -> None:
    app, read_models = runtime.app, runtime.read_models
    sequence = active_sequence(app, steps=1)
    app.enroll_many("acme", sequence.id, [f"c-{n}" for n in range(40)])
    runtime.catch_up()
    read_models.projector.batch_size = 10
    model = read_models.model("enrollments")
    before = checksum(read_models.db, model)

    building = replay.rebuild(read_models, "enrollments", max_batches=1)  # "interrupted"
    assert building is not None
    assert (building.status, building.generation) == ("building", 2)
    assert 0 < building.position < (app.recorder.max_notification_id() or 0)
    assert runtime.queries.list_enrollments("acme", sequence.id).total == 40  # old, complete
    assert live_generation(read_models.db, "enrollments").generation == 1
    assert checksum(read_models.db, model) == before

    app.enroll("acme", sequence.id, "late-comer")
    runtime.catch_up()  # the live generation moves on meanwhile
    assert runtime.queries.list_enrollments("acme", sequence.id).total == 41
    resumed = replay.rebuild(read_models, "enrollments")  # picks up generation 2
    assert resumed is not None
    assert (resumed.status, resumed.generation) == ("live", 2)
    assert runtime.queries.list_enrollments("acme", sequence.id).total == 41


def test_the_cli_replays_every_model_and_reports_positions_and_lag(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    sequence = active_sequence(runtime.app, steps=1)
    runtime.app.enroll("acme", sequence.id, "c-1")
    monkeypatch.setenv("DRIPLINE_DATABASE_URL", runtime.settings.database_url)
    head = runtime.app.recorder.max_notification_id()

    before = CliRunner().invoke(cli, ["projections", "status"], terminal_width=200)
    assert before.exit_code == 0, before.output
    # The name column is as wide as the longest model name.
    assert re.search(rf"│ enrollments +│          1 │  live │        0 │ {head:>4} │ {head:>3} │",
                     before.output), before.output

    result = CliRunner().invoke(cli, ["replay", "--all"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "enrollments: rebuilt to position" in result.output
    assert runtime.queries.list_enrollments("acme", sequence.id).total == 1
    assert {s.generation for s in runtime.read_models.status()} == {2}
    assert {s.lag for s in runtime.read_models.status()} == {0}

    refused = CliRunner().invoke(cli, ["replay", "nonsense"])
    assert refused.exit_code == 2
