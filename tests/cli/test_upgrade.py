"""A store written by Dripline 0.1 (``tests/fixtures/store-0.1.db.gz``, made by that version:
two sequences, four contacts, enrollments mid-journey, one exited on a reply) is refused by
every role with one line saying what to run; ``dripline upgrade`` brings it up to date once,
and then everything it held carries on: contact facts, applied event ids, enrollment slots,
open enrollments and their due steps, and read models rebuilt without duplicates."""

from __future__ import annotations

import gzip
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from domain.app_crm import CrmStatus
from domain.clock import ManualClock
from domain.crm import CrmEvent
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.e2e.server import dripline_command

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-0.1.db.gz"
NURTURE = UUID("f2581a1a-5fba-499b-a486-38959dc89967")  # "Lead Nurture" in the fixture
DUE = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)  # when its step 1 falls due
T = "acme"


def _dripline(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env["DRIPLINE_DATABASE_URL"] = url
    return subprocess.run([*dripline_command(), *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_a_0_1_store_is_refused_until_one_upgrade_then_carries_on(tmp_path: Path) -> None:
    database = tmp_path / "dripline.db"
    database.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    url = f"sqlite:///{database}"

    refused = _dripline(url, "projections", "status")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "dripline upgrade" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    upgraded = _dripline(url, "upgrade")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert "moved 3 contact and 4 slot streams" in upgraded.stdout
    again = _dripline(url, "upgrade")
    assert (again.returncode, "nothing to upgrade" in again.stdout) == (0, True), again.stdout

    runtime = bootstrap(Settings(database_url=url), clock=ManualClock(DUE))
    try:
        app = runtime.app
        # A CRM event applied by 0.1 is recognised when it comes again.
        ana = CrmEvent("evt-1", "contact_updated", T, "c-1", DUE, {"name": "Someone else"})
        assert app.record_crm_event(ana).status is CrmStatus.DUPLICATE
        # The enrollment slot moved with its contact: tagged again, c-1 is already in.
        tagged = app.record_crm_event(CrmEvent("evt-100", "tag_added", T, "c-1", DUE,
                                               {"tag_name": "cold-lead"}))
        assert tagged.enrolled == []
        assert "already enrolled" in tagged.skipped[0][1]
        # The open enrollments are in the due index: their next steps go out, rendered with
        # the facts 0.1 recorded.
        due = app.store.due_enrollments(DUE, 100)
        outcomes = app.execute_due([row.enrollment_id for row in due])
        assert sorted((o.contact_id, o.result.value) for o in outcomes) == [
            ("c-1", "requested"), ("c-3", "requested"), ("c-4", "requested")]
        runtime.catch_up()
        contents = {m["contact_id"]: m["content"] for m in runtime.queries.list_messages(
            T, sequence_id=NURTURE, limit=100).items if m["step_order"] == 1}
        assert contents == {"c-1": "Case study for Ana", "c-3": "Case study for "}
        # A reply finds its open enrollment through the index built by the upgrade.
        replied = app.record_crm_event(CrmEvent("evt-101", "contact_replied", T, "c-3", DUE,
                                                {"channel": "whatsapp"}))
        assert len(replied.exited) == 1
        runtime.catch_up()
        # The read models were rebuilt once per contact, not once per stream.
        listed = runtime.queries.list_enrollments(T, NURTURE, limit=100).items
        assert sorted((e["contact_id"], e["status"]) for e in listed) == [
            ("c-1", "active"), ("c-2", "exited"), ("c-3", "exited")]
        draft = app.create_sequence(T, {"name": "Again", "trigger_type": "tag_added",
                                        "trigger_data": {"tag_name": "cold-lead"},
                                        "steps": [{"order": 0, "name": "s",
                                                   "delay_amount": 1,
                                                   "delay_unit": "hours",
                                                   "message_template": {
                                                       "type": "text", "content": "x"}}]})
        activation = app.activate_sequence(T, draft.id, enroll_existing=True)
        assert activation.enrolled is not None
        assert sorted(e.contact_id for e in activation.enrolled.enrolled) == [
            "c-1", "c-2", "c-3"]
    finally:
        runtime.close()
