"""The ``contacts`` model and the application's lookups: auto-enrollment by trigger, the
activation workflow's "enroll existing", and exits on reply, all through the read models."""

from __future__ import annotations

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.projections.support import active_sequence, crm, step


def test_a_sequence_activated_a_moment_ago_auto_enrolls_on_the_next_crm_event(
        runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    sequence = active_sequence(app, trigger=("tag_added", {"tag_id": "t-1"}))
    # No explicit catch_up: the lookups catch up before they answer (embedded mode).
    outcome = app.record_crm_event(crm("tag_added", "c-9", at=clock(), tag_id="t-1",
                                       tag_name="cold"))
    assert len(outcome.enrolled) == 1
    replied = app.record_crm_event(crm("contact_replied", "c-9", at=clock(),
                                       channel="whatsapp", message_id="m"))
    assert replied.exited == outcome.enrolled
    runtime.catch_up()
    [row] = runtime.queries.contact_enrollments("acme", "c-9")
    assert (row["sequence_id"], row["exit_reason"]) == (str(sequence.id), "contact_replied")


def test_enroll_existing_finds_the_contacts_whose_facts_match_the_trigger(
        runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    facts: list[tuple[str, str, dict[str, object]]] = [
             ("tag_added", "tagged", {"tag_id": "t-1", "tag_name": "vip"}),
             ("tag_added", "other-tag", {"tag_id": "t-2", "tag_name": "vip"}),
             ("tag_added", "untagged", {"tag_id": "t-1", "tag_name": "vip"}),
             ("tag_removed", "untagged", {"tag_id": "t-1", "tag_name": "vip"}),
             ("list_joined", "listed", {"list_id": "l-1", "list_name": "news"}),
             ("form_submit", "former", {"form_id": "f-1", "fields": {}}),
             ("pipeline_entered", "piped", {"pipeline_id": "p-1", "status": "new"}),
             ("tag_added", "deleted", {"tag_id": "t-1", "tag_name": "vip"}),
             ("contact_deleted", "deleted", {}),
             ("tag_added", "elsewhere", {"tag_id": "t-1", "tag_name": "vip"})]
    for type_, contact, data in facts:
        tenant = "other" if contact == "elsewhere" else "acme"
        app.record_crm_event(crm(type_, contact, tenant, at=clock(), **data))
    head = app.recorder.max_notification_id() or 0

    def match(tenant: str, trigger: str, data: dict[str, str]) -> list[str]:
        # The answer includes every fact recorded up to ``head``, projected or not yet.
        return app.lookups.contacts_matching_trigger(tenant, trigger, data, head)

    assert match("acme", "tag_added", {"tag_id": "t-1"}) == ["tagged"]
    assert match("acme", "tag_added", {"tag_name": "vip"}) == ["other-tag", "tagged"]
    assert match("acme", "list_joined", {"list_id": "l-1", "list_name": "x"}) == ["listed"]
    assert match("acme", "form_submit", {"form_id": "f-1"}) == ["former"]
    assert match("acme", "pipeline_entered", {"pipeline_id": "p-1"}) == ["piped"]

    draft = app.create_sequence("acme", {"name": "VIPs", "trigger_type": "tag_added",
                                         "trigger_data": {"tag_id": "t-1"},
                                         "steps": [step(0)]})
    activation = app.activate_sequence("acme", draft.id, enroll_existing=True)
    assert activation.enrolled is not None
    assert [e.contact_id for e in activation.enrolled.enrolled] == ["tagged"]
