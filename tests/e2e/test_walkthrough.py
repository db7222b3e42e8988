"""The README walkthrough, request for request, against a real ``dripline serve``."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

from dripline.keys import key_file
from dripline.settings import Settings
from tests.e2e.readme import README, Request, body_of, expand, parse
from tests.e2e.server import Server

INTRODUCTION = ("Hi there, I saw you\u2019re interested in Dripline. "
                "Would you like to schedule a demo?")


def send(request: Request, variables: dict[str, str]) -> httpx.Response:
    response = httpx.request(
        request.method, expand(request.url, variables),
        headers={k: expand(v, variables) for k, v in request.headers.items()},
        content=(body_of(request, variables) or "").encode() or None, timeout=10)
    assert response.is_success, f"{request.method} {request.url}: {response.status_code} " \
                                f"{response.text}"
    if request.capture and request.extract:
        # The README keeps a value with `python3 -c '...'`: run that very program.
        picked = subprocess.run([sys.executable, "-c", request.extract], input=response.text,
                                capture_output=True, text=True, check=True)
        variables[request.capture] = picked.stdout.strip()
    return response


def test_the_walkthrough_starts_from_what_make_serve_gives() -> None:
    walkthrough = parse(README.read_text())
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert walkthrough.exports["DRIPLINE"] == f"http://{defaults['host']}:{defaults['port']}"
    generated = key_file(Settings.model_construct(database_url=defaults["database_url"]))
    assert generated is not None
    assert walkthrough.exports["KEY"] == f"$(cat {Path(generated).name})"
    first_block = README.read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert [c for c in commands if c] == ["make serve", "make test"]


def test_readme_walkthrough(server: Server, api_key: str) -> None:
    walkthrough = parse(README.read_text())
    create, activate, tag_added, messages, reply, enrollments = walkthrough.requests
    variables = {"DRIPLINE": server.base, "KEY": api_key}

    assert send(create, variables).status_code == 201
    assert variables["SEQ"]
    assert send(activate, variables).json()["status"] == "active"

    tagged = send(tag_added, variables)
    assert tagged.status_code == 202
    [result] = tagged.json()["results"]
    assert result["outcome"] == "applied"
    [enrollment_id] = result["enrolled"]

    # Pasted at once, with no waiting of our own: `after=head` shows the final state.
    [message] = send(messages, variables).json()["items"]
    assert message["message_id"] == f"{enrollment_id}:0:1"
    assert message["content"] == INTRODUCTION
    assert message["sequence_id"] == variables["SEQ"]
    assert message["status"] == "requested"

    # The README's timestamps come from `date`, to the second: the reply, pasted right after
    # the tag, happened at or after the moment the contact entered (CRM time), so it counts.
    replied = send(reply, variables).json()
    assert replied["results"][0]["exited"] == [enrollment_id]

    [enrollment] = send(enrollments, variables).json()["items"]
    assert enrollment["status"] == "exited"
    assert enrollment["id"] == enrollment_id
    assert enrollment["exit_reason"] == "contact_replied"
    assert enrollment["next_scheduled_at"] is None
    assert len(send(messages, variables).json()["items"]) == 1


def test_walkthrough_bodies_expand_like_the_shell() -> None:
    walkthrough = parse(README.read_text())
    at = datetime(2026, 3, 29, 1, 30, 5, tzinfo=UTC)
    body = body_of(walkthrough.requests[2], {}, now=lambda: at)
    assert body is not None
    assert '"occurred_at": "2026-03-29T01:30:05Z"' in body
    assert walkthrough.requests[0].body is not None
    assert "$(" not in walkthrough.requests[0].body  # quoted here-document: taken literally
