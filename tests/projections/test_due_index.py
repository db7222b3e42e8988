"""The due scans read the partial index on due time, also at 1,000,000 open enrollments
(filled straight into the tables: the plan, not the writing, is on trial): the scheduler's,
over the index written with the events, and the ``due_enrollments`` read model's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dripline.bootstrap import Runtime
from projections.due_plan import EPOCH, explain_due, fill_due, live_due_table
from projections.storage import scan_plan
from projections.storage.tables import ENROLLMENTS

ROWS = 1_000_000


def _uses_the_index(plan: str, index: str, table: str) -> None:
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan
    assert f"SCAN {table}\n" not in plan + "\n", plan  # SQLite's full scan
    assert "TEMP B-TREE" not in plan, plan  # SQLite: rows come in index order, no sort
    assert "Sort" not in plan, plan  # PostgreSQL: likewise


@pytest.mark.slow
def test_the_schedulers_scan_uses_the_due_time_index_at_a_million_rows(
        runtime: Runtime) -> None:
    url = runtime.settings.database_url
    scan_plan.fill_index(url, ROWS)
    now = scan_plan.EPOCH + timedelta(days=3)

    _uses_the_index(scan_plan.explain_scan(url, now), scan_plan.INDEX, ENROLLMENTS)

    due = runtime.app.store.due_enrollments(now, 500)
    assert len(due) == 500
    assert [d.due_at for d in due] == sorted(d.due_at for d in due if d.due_at)
    assert due[0].due_at == scan_plan.EPOCH + timedelta(seconds=1)
    assert {d.status for d in due} == {"active"}


@pytest.mark.slow
def test_the_read_models_due_query_uses_its_index_at_a_million_rows(runtime: Runtime) -> None:
    db = runtime.read_models.db
    fill_due(db, ROWS)
    now = EPOCH + timedelta(days=3)

    _uses_the_index(explain_due(db, now), f"{live_due_table(db)}_by_due_at",
                    live_due_table(db))

    due = runtime.queries.due_enrollments(now, limit=500)
    assert len(due) == 500
    assert [d.due_at for d in due] == sorted(d.due_at for d in due)
    assert due[0].due_at == EPOCH + timedelta(seconds=1)
