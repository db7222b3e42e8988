"""Dripline's roles as real processes on one PostgreSQL database: ``dripline api`` on a free
port of 127.0.0.1, ``dripline schedule`` and ``dripline project`` beside it. Each is started
with its own ``DRIPLINE_*`` environment and stopped by its pid with SIGTERM; a role may be
frozen (SIGSTOP) and thawed (SIGCONT) to make it lag behind the others."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import START_TIMEOUT, dripline_command, free_port, poll, terminate

TENANT, KEY = "acme", "acme-key-0123456789"
# What each worker role prints once it is at work.
_AT_WORK = {"schedule": "scheduler started", "project": "projecting "}
V1 = "/api/v1"


class Role:
    """One running ``dripline <role>`` process."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.process = subprocess.Popen([*dripline_command(), name, *args], env=env,
                                            stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> int:
        """SIGTERM by pid (thawed first: a frozen process would not act on it)."""
        if self.process.poll() is None:
            self.thaw()
        return terminate(self.process, self.name, self.output)


class Deployment:
    """The roles started so far, and an HTTP client of the API holding the tenant's key."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
        self.env.update(DRIPLINE_DATABASE_URL=database_url, DRIPLINE_API_KEYS=f"{TENANT}:{KEY}",
                        PYTHONUNBUFFERED="1")
        self.roles: dict[str, Role] = {}
        self._client: httpx.Client | None = None

    def start(self, name: str, *args: str, **env: str) -> Role:
        """Start the role; a worker role is waited for until it says it is at work (or has
        exited), so that a test never stops one still starting up (it would die of the
        signal instead of exiting 0)."""
        key = name if name not in self.roles else f"{name}-{len(self.roles)}"  # a second copy
        role = Role(name, list(args), {**self.env, **env}, self.folder / f"{key}.log")
        self.roles[key] = role
        marker = _AT_WORK.get(name)
        if marker is not None:
            poll(lambda: (marker in role.output() or not role.alive()) or None,
                 f"dripline {name} to be at work", timeout=START_TIMEOUT, interval=0.1)
        return role

    def start_api(self, role_name: str = "api") -> httpx.Client:
        """``dripline api`` (or ``serve``) on a free port; returns once it answers
        ``/readyz``."""
        port = free_port()
        role = self.start(role_name, "--host", "127.0.0.1", "--port", str(port))
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool | None:
            if not role.alive():
                raise AssertionError(f"dripline {role_name} exited:\n{role.output()[-3000:]}")
            try:
                return httpx.get(f"{base}/readyz", timeout=2).status_code == 200 or None
            except httpx.TransportError:
                return None

        poll(ready, f"dripline {role_name} to be ready", timeout=START_TIMEOUT, interval=0.1)
        self._client = httpx.Client(base_url=base, timeout=60,
                                    headers={"Authorization": f"Bearer {KEY}"})
        return self._client

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{role.output()[-3000:]}"
                         for name, role in self.roles.items())

    def stop_all(self) -> dict[str, int | str]:
        """Every role's exit code, or why it would not stop (each is stopped regardless)."""
        if self._client is not None:
            self._client.close()
        codes: dict[str, int | str] = {}
        # The API last: the workers' shutdown does not need it, and its log stays complete.
        for name, role in reversed(self.roles.items()):
            try:
                codes[name] = role.stop()
            except AssertionError as refused:
                codes[name] = str(refused)
        return codes


@contextmanager
def deployment(database_url: str, folder: Path) -> Iterator[Deployment]:
    """Roles started inside the block are all stopped when it ends, and must exit 0."""
    running = Deployment(database_url, folder)
    try:
        yield running
    finally:
        codes = running.stop_all()
    failed = {name: code for name, code in codes.items() if code != 0}
    assert not failed, f"roles exited with {failed}:\n{running.logs()}"


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of an answer that must have ``status``; the body is shown if not."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def immediate_sequence(name: str, trigger: dict[str, Any], steps: int = 1) -> dict[str, Any]:
    """A draft whose ``steps`` steps are all due at once (zero delay, no send window)."""
    return {"name": name, **trigger, "steps": [
        {"order": n, "name": f"step {n}", "delay_amount": 0, "delay_unit": "minutes",
         "message_template": {"type": "text", "content": f"Hi {{{{contact.name}}}}, #{n}",
                              "variables": {"contact.name": "there"}}}
        for n in range(steps)]}


def tag_added(event_id: str, contact_id: str, tag: str) -> dict[str, Any]:
    return {"event_id": event_id, "type": "tag_added", "tenant_id": TENANT,
            "contact_id": contact_id, "occurred_at": _now(),
            "data": {"tag_id": f"t-{tag}", "tag_name": tag}}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def projection_lag(http: httpx.Client) -> int:
    """Events recorded but not yet in the live read models, from the API's ``/metrics``."""
    text = http.get("/metrics").text
    return int(sum(sample.value for family in text_string_to_metric_families(text)
                   for sample in family.samples
                   if sample.name == "dripline_projection_lag_events"
                   and sample.labels.get("state") == "live"))


def metric_total(text: str, name: str) -> float:
    """The sum of every sample called ``name`` in a Prometheus text page."""
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples if sample.name == name)


def messages_of(http: httpx.Client, **query: str) -> list[dict[str, Any]]:
    """Every message request the query matches, page after page."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = ok(http.get(f"{V1}/automation/messages",
                           params={**query, "limit": 500, "page": page}))
        found += body["items"]
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1
