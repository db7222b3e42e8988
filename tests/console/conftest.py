"""One real ``dripline serve`` on a temporary SQLite file per test module, the data the
screens show made through the public API, and one headless Chromium for the session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.console.browser import ARGS, CHROMIUM, Guarded, require_chromium
from tests.e2e.server import Server, poll, start

KEY = "console-key-0123456789"
V1 = "/api/v1/automation"
STEPS = [
    {"order": 0, "name": "Introduction", "delay_amount": 0, "delay_unit": "minutes",
     "message_template": {"type": "text", "channel": "email",
                          "content": "Hi {{contact.name}}, would you like a demo?"}},
    {"order": 1, "name": "Case Study", "delay_amount": 2, "delay_unit": "days",
     "message_template": {"type": "text", "channel": "email",
                          "content": "Here is how we helped {{contact.name}}."}},
    {"order": 2, "name": "Final Offer", "delay_amount": 5, "delay_unit": "days",
     "message_template": {"type": "text", "channel": "email",
                          "content": "Last chance: 20% off your first month."}},
]


@dataclass
class World:
    server: Server
    api: httpx.Client
    active: dict[str, Any]  # "Lead Nurture", active, with enrollments and feedback
    draft: dict[str, Any]  # "Onboarding", a draft with three steps

    @property
    def base(self) -> str:
        return self.server.base

    def get(self, path: str, **params: Any) -> Any:
        answer = self.api.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


def _ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def make_sequence(api: httpx.Client, name: str, activate: bool) -> dict[str, Any]:
    sequence = _ok(api.post(f"{V1}/sequences", json={
        "name": name, "trigger_type": "tag_added", "trigger_data": {"tag_name": "cold-lead"},
        "exit_on_reply": True, "steps": STEPS}), 201)
    if activate:
        sequence = _ok(api.post(f"{V1}/sequences/{sequence['id']}/activate",
                                headers={"If-Match": str(sequence["version"])}))
    return dict(sequence)


def make_ab_test(api: httpx.Client, name: str) -> dict[str, Any]:
    """An active sequence whose first step tests two contents, A and B (experiment "opener")."""
    draft = make_sequence(api, name, activate=False)
    text = {"type": "text", "channel": "whatsapp"}
    _ok(api.put(f"{V1}/sequences/{draft['id']}", json={"experiments": [{
        "id": "opener", "kind": "content", "step_id": draft["steps"][0]["id"], "metric": "reply",
        "arms": [{"key": "A", "weight": 50, "message_template": {**text, "content": "Hi A"}},
                 {"key": "B", "weight": 50, "message_template": {**text, "content": "Hi B"}}],
        "auto_winner": {}}]}))
    return dict(_ok(api.post(f"{V1}/sequences/{draft['id']}/activate")))


def feedback(api: httpx.Client, sequence: dict[str, Any]) -> None:
    """Four contacts enrolled; their first messages requested; three delivered, two opened,
    one clicked; one contact replied (and so left)."""
    contacts = [f"c-{n}" for n in range(4)]
    _ok(api.post(f"{V1}/sequences/{sequence['id']}/enroll/bulk",
                 json={"contact_ids": contacts}))

    def requested() -> list[Any] | None:
        items = _ok(api.get(f"{V1}/messages", params={"sequence_id": sequence["id"],
                                                      "after": "head"}))["items"]
        return items if len(items) == len(contacts) else None

    messages = sorted(poll(requested, "the first messages", timeout=30),
                      key=lambda m: m["contact_id"])
    events: list[tuple[str, str, dict[str, Any]]] = []
    for m in messages[:3]:
        events.append(("message_delivered", m["contact_id"], {"message_id": m["message_id"]}))
    for m in messages[:2]:
        events.append(("message_opened", m["contact_id"], {"message_id": m["message_id"]}))
    events.append(("message_clicked", messages[0]["contact_id"],
                   {"message_id": messages[0]["message_id"], "url": "https://example.com/a"}))
    events.append(("contact_replied", messages[1]["contact_id"], {"channel": "email"}))
    for n, (kind, contact, data) in enumerate(events):
        _ok(api.post("/api/v1/events", json={
            "event_id": f"console-{n}", "type": kind, "tenant_id": "default",
            "contact_id": contact, "occurred_at": messages[0]["created_at"], "data": data}), 202)


@contextmanager
def serving(database: Path) -> Iterator[World]:
    """`dripline serve` on ``database`` with the screens' data, stopped by its pid after."""
    server = start(database, api_keys=f"default:{KEY}")
    try:
        with httpx.Client(base_url=server.base, timeout=30,
                          headers={"Authorization": f"Bearer {KEY}"}) as api:
            active = make_sequence(api, "Lead Nurture", activate=True)
            feedback(api, active)
            draft = make_sequence(api, "Onboarding", activate=False)
            yield World(server, api, active, draft)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serving(tmp_path_factory.mktemp("console") / "dripline.db") as made:
        yield made


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: while Playwright's sync API is open it holds an asyncio
    # loop running in this thread, and a later test of the same worker that runs its own
    # loop (asyncio.run) would fail.
    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def console(browser: Browser, world: World) -> Iterator[Guarded]:
    """A signed-in browser context on the module's server."""
    guarded = Guarded.open(browser, world.base, KEY)
    yield guarded
    guarded.close()
