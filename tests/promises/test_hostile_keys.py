"""A tenant id is a plain name: ``DRIPLINE_API_KEYS`` naming a tenant such as ``acme/x``
stops ``dripline serve`` and ``dripline api`` at startup (status 2, one line naming the
setting and the tenant, no traceback). Otherwise tenant ``acme/x``'s contact ``y`` and
tenant ``acme``'s contact ``x/y`` would be one and the same contact."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import START_TIMEOUT, Server, dripline_command, free_port, poll

API = "/api/v1"


@dataclass
class Launch:
    """A role that either stopped by itself (``exit_code``) or is serving (``server``)."""

    exit_code: int | None
    output: str
    server: Server | None


def launch(role: str, folder: Path, api_keys: str) -> Launch:
    """Start ``dripline <role>`` on a SQLite file of its own; wait until it exits or serves."""
    port, database = free_port(), folder / "dripline.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env.update(DRIPLINE_DATABASE_URL=f"sqlite:///{database}", DRIPLINE_API_KEYS=api_keys,
               PYTHONUNBUFFERED="1")
    log = folder / f"{role}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*dripline_command(), role, "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    server = Server(process, f"http://127.0.0.1:{port}", database, log)

    def settled() -> bool | None:
        if process.poll() is not None:
            return True
        try:
            return httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200 or None
        except httpx.TransportError:
            return None

    try:
        poll(settled, f"dripline {role} to exit or serve", timeout=START_TIMEOUT, interval=0.1)
    except BaseException:
        server.stop()
        raise
    if process.poll() is not None:
        return Launch(process.returncode, server.output(), None)
    return Launch(None, server.output(), server)


def _greeting_for_acme_x(base: str) -> str:
    """The collision, told through the API: what tenant ``acme/x``'s contact ``y`` is
    greeted with after tenant ``acme`` described its own contact ``x/y``."""
    with (httpx.Client(base_url=base, headers={"Authorization": "Bearer k1"}) as acme_x,
          httpx.Client(base_url=base, headers={"Authorization": "Bearer k2"}) as acme):
        _named(acme_x, "acme/x", "y", "Alice")
        _named(acme, "acme", "x/y", "Mallory")
        created: Any = acme_x.post(f"{API}/automation/sequences", json={
            "name": "Hello", "steps": [{"order": 0, "name": "Hi", "message_template": {
                "content": "Hi {{contact.name}}"}}]})
        sequence = created.json()["id"]
        acme_x.post(f"{API}/automation/sequences/{sequence}/activate").raise_for_status()
        acme_x.post(f"{API}/automation/sequences/{sequence}/enroll",
                    json={"contact_id": "y"}).raise_for_status()

        def greeting() -> str | None:
            page = acme_x.get(f"{API}/automation/messages", params={"contact_id": "y"}).json()
            return str(page["items"][0]["content"]) if page.get("items") else None

        return poll(greeting, "acme/x's message to y", timeout=30)


def _named(client: httpx.Client, tenant: str, contact: str, name: str) -> None:
    posted = client.post(f"{API}/events", json={
        "event_id": f"evt-{contact}", "type": "contact_updated", "tenant_id": tenant,
        "contact_id": contact, "occurred_at": "2026-01-01T00:00:00Z", "data": {"name": name}})
    assert posted.status_code == 202, posted.text


def _refusal_line(output: str) -> str:
    lines = [line for line in output.splitlines() if "DRIPLINE_API_KEYS" in line]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("role", ["serve", "api"])
def test_a_key_for_an_invalid_tenant_stops_the_server_at_startup(tmp_path: Path,
                                                                 role: str) -> None:
    started = launch(role, tmp_path, "acme/x:key1")
    if started.server is not None:
        started.server.stop()
    assert started.exit_code == 2, f"dripline {role} served tenant 'acme/x':\n{started.output}"
    assert "acme/x" in _refusal_line(started.output)
    assert "Traceback" not in started.output


def test_colliding_tenants_are_refused_before_anyone_can_read_another_tenants_contact(
        tmp_path: Path) -> None:
    started = launch("serve", tmp_path, "acme/x:k1,acme:k2")
    leaked = None
    if started.server is not None:
        try:
            leaked = _greeting_for_acme_x(started.server.base)
        finally:
            started.server.stop()
    assert started.exit_code == 2, (
        f"dripline serve accepted tenant 'acme/x'; its contact 'y' was greeted with "
        f"{leaked!r}, a name tenant 'acme' gave its own contact 'x/y'")
    assert "acme/x" in _refusal_line(started.output)
    assert "Traceback" not in started.output
