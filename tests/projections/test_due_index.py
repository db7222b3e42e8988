"""The scheduler's due scan reads the partial index on due time, also at 1,000,000 open
enrollments (filled straight into the table: the plan, not the projection, is on trial)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dripline.bootstrap import Runtime
from projections.due_plan import EPOCH, explain_due, fill_due, live_due_table

ROWS = 1_000_000


@pytest.mark.slow
def test_the_due_scan_uses_the_due_time_index_at_a_million_rows(runtime: Runtime) -> None:
    db = runtime.read_models.db
    fill_due(db, ROWS)
    now = EPOCH + timedelta(days=3)

    plan = explain_due(db, now)
    index = f"{live_due_table(db)}_by_due_at"
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan
    assert f"SCAN {live_due_table(db)}\n" not in plan + "\n", plan  # SQLite's full scan
    assert "TEMP B-TREE" not in plan, plan  # SQLite: rows come in index order, no sort
    assert "Sort" not in plan, plan  # PostgreSQL: likewise

    due = runtime.queries.due_enrollments(now, limit=500)
    assert len(due) == 500
    assert [d.due_at for d in due] == sorted(d.due_at for d in due)
    assert due[0].due_at == EPOCH + timedelta(seconds=1)
