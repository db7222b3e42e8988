"""``dripline stream show``: a contact's history by the id its CRM gave it, with its tenant."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from domain import ids
from domain.clock import ManualClock
from domain.crm import CrmEvent
from dripline.bootstrap import bootstrap
from dripline.cli import app
from dripline.settings import Settings
from tests.conftest import START


@pytest.fixture
def store(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store where contact c-42 of tenant acme has a name, and the CLI pointed at it."""
    runtime = bootstrap(Settings(database_url=sqlite_url), clock=ManualClock(START))
    try:
        runtime.app.record_crm_event(CrmEvent(
            event_id="e-1", type="contact_updated", tenant_id="acme", contact_id="c-42",
            occurred_at=START, data={"name": "Ada Lovelace"}))
    finally:
        runtime.close()
    monkeypatch.setenv("DRIPLINE_DATABASE_URL", sqlite_url)
    return sqlite_url


def show(*args: str) -> tuple[int, str]:
    # Wide enough that the table does not wrap the values looked for.
    result = CliRunner().invoke(app, ["stream", "show", *args], terminal_width=300)
    return result.exit_code, result.output


def test_a_contact_is_shown_by_its_crm_id_and_tenant(store: str) -> None:
    code, output = show("c-42", "--tenant", "acme")
    assert code == 0, output
    assert "c-42" in output
    assert "Ada Lovelace" in output


def test_the_same_crm_id_in_another_tenant_is_another_contact(store: str) -> None:
    code, output = show("c-42", "--tenant", "globex")
    assert code == 1
    assert "no events" in output
    assert "Ada Lovelace" not in output


def test_a_crm_id_without_its_tenant_says_how_to_ask(store: str) -> None:
    code, output = show("c-42")
    assert code == 2
    assert "--tenant" in output


def test_an_aggregate_is_still_shown_by_its_uuid(store: str) -> None:
    code, output = show(str(ids.contact_id("acme", "c-42")))
    assert code == 0, output
    assert "Ada Lovelace" in output
