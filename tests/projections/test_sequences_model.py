"""The ``sequences`` read model against the sequence events that change it."""

from __future__ import annotations

from dripline.bootstrap import Runtime
from projections import replay
from projections.checksum import checksum
from projections.queries import Page
from tests.projections.support import active_sequence, step


def test_a_sequence_is_listed_with_its_steps_status_and_version(runtime: Runtime) -> None:
    app = runtime.app
    draft = app.create_sequence("acme", {"name": "Onboarding", "description": "new users",
                                         "trigger_type": "tag_added",
                                         "trigger_data": {"tag_id": "t-1"},
                                         "steps": [step(0), step(1)]})
    app.update_sequence("acme", draft.id, {"name": "Onboarding v2"})
    _, third = app.add_step("acme", draft.id, step(2))
    app.remove_step("acme", draft.id, draft.steps[0].id)
    app.activate_sequence("acme", draft.id)
    runtime.catch_up()

    [row] = runtime.queries.list_sequences("acme").items
    current = app.get_sequence("acme", draft.id)
    assert row["id"] == str(draft.id)
    assert row["name"] == "Onboarding v2"
    assert row["status"] == "active"
    assert row["trigger_type"] == "tag_added"
    assert row["trigger_data"] == {"tag_id": "t-1"}
    assert [s["order"] for s in row["steps"]] == [1, 2]
    assert row["steps"][1]["id"] == str(third.id)
    assert row["version"] == current.version
    assert row["updated_at"] == current.updated_at


def test_sequences_filter_by_status_and_trigger_and_stay_in_their_tenant(
        runtime: Runtime) -> None:
    app = runtime.app
    tagged = active_sequence(app, trigger=("tag_added", {"tag_name": "vip"}), name="Tagged")
    manual = active_sequence(app, name="Manual")
    app.pause_sequence("acme", manual.id)
    draft = app.create_sequence("acme", {"name": "Draft"})
    deleted = app.create_sequence("acme", {"name": "Gone"})
    app.delete_sequence("acme", deleted.id)
    active_sequence(app, tenant="other", name="Other tenant's")
    runtime.catch_up()

    q = runtime.queries

    def ids(page: Page) -> set[str]:
        return {item["id"] for item in page.items}

    assert ids(q.list_sequences("acme")) == {str(tagged.id), str(manual.id), str(draft.id)}
    assert ids(q.list_sequences("acme", status="active")) == {str(tagged.id)}
    assert ids(q.list_sequences("acme", status="paused")) == {str(manual.id)}
    assert ids(q.list_sequences("acme", trigger_type="tag_added")) == {str(tagged.id)}
    page = q.list_sequences("acme", page=2, limit=2)
    assert (page.total, len(page.items)) == (3, 1)
    triggers = runtime.app.store.trigger_view(["acme", "other"]).sequences
    assert [t.sequence_id for t in triggers["acme"]] == [tagged.id]
    assert triggers["other"] == []


def test_a_change_of_a_setting_the_row_does_not_show_only_moves_its_version(
        runtime: Runtime) -> None:
    app = runtime.app
    draft = app.create_sequence("acme", {"name": "Receipts"})
    app.update_sequence("acme", draft.id, {"frequency_cap_exempt": True, "holdout_percent": 10})
    runtime.catch_up()

    [row] = runtime.queries.list_sequences("acme").items
    current = app.get_sequence("acme", draft.id)
    assert current.frequency_cap_exempt is True
    assert row["version"] == current.version


def test_a_replay_from_the_start_goes_past_frequency_cap_changes_and_equals_the_live_tables(
        runtime: Runtime) -> None:
    app, read_models = runtime.app, runtime.read_models
    draft = app.create_sequence("acme", {"name": "Receipts", "steps": [step(0)]})
    app.update_sequence("acme", draft.id, {"frequency_cap_exempt": True})
    app.activate_sequence("acme", draft.id)
    _, number = app.revisions.create_revision("acme", draft.id)
    app.revisions.update_revision("acme", draft.id, number,
                        {"frequency_cap_exempt": False, "exit_on_reply": False})
    app.revisions.publish_revision("acme", draft.id, number)  # after them, seen too
    runtime.catch_up()
    model = read_models.model("sequences")
    incremental = checksum(read_models.db, model)
    head = app.recorder.max_notification_id()

    rebuilt = replay.rebuild(read_models, "sequences")

    assert rebuilt is not None
    assert (rebuilt.status, rebuilt.generation, rebuilt.position) == ("live", 2, head)
    assert checksum(read_models.db, model) == incremental
    [row] = runtime.queries.list_sequences("acme").items
    current = app.get_sequence("acme", draft.id)
    assert (row["revision"], row["exit_on_reply"], row["version"]) == (
        number, False, current.version)
