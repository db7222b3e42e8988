"""The tenant's settings over HTTP (CAPABILITIES §4): read with an ETag, replaced field by
field with If-Match (a stale one is 412), and a wrong value is 422 naming its field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import V1, ok

SETTINGS = f"{V1}/settings"
CAP: dict[str, Any] = {"rules": [{"channel": None, "max_messages": 3, "window": "rolling_24h"},
                 {"channel": "whatsapp", "max_messages": 1, "window": "calendar_day"}],
       "on_cap": "defer", "max_defer_hours": 72}


def _put(client: TestClient, body: dict[str, Any], version: str) -> Any:
    return client.put(SETTINGS, json=body, headers={"If-Match": version})


def test_settings_are_read_and_replaced_field_by_field(acme: TestClient) -> None:
    first = acme.get(SETTINGS)
    assert ok(first) == {"timezone": None, "frequency_cap": None, "throttle": None,
                         "version": 0}
    assert first.headers["ETag"] == '"0"'
    done = _put(acme, {"timezone": "Europe/Berlin", "frequency_cap": CAP,
                       "throttle": {"email": {"per_minute": 600}}}, first.headers["ETag"])
    assert ok(done)["frequency_cap"] == CAP
    again = _put(acme, {"throttle": {"whatsapp": {"per_minute": 80}}}, done.headers["ETag"])
    now = ok(acme.get(SETTINGS))
    assert now == ok(again)
    assert (now["timezone"], now["frequency_cap"], now["throttle"]) == (
        "Europe/Berlin", CAP, {"whatsapp": {"per_minute": 80}})


def test_a_stale_if_match_is_412_and_changes_nothing(acme: TestClient) -> None:
    ok(_put(acme, {"timezone": "Europe/Berlin"}, '"0"'))
    stale = _put(acme, {"timezone": "Asia/Tokyo"}, '"0"')
    assert stale.status_code == 412, stale.text
    assert ok(acme.get(SETTINGS))["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(("body", "field"), [
    ({"frequency_cap": {"rules": [CAP["rules"][0], {**CAP["rules"][1], "window": "weekly"}]}},
     "frequency_cap.rules[1].window"),
    ({"frequency_cap": {"rules": [{"max_messages": 1, "window": {"rolling_hours": 721}}]}},
     "frequency_cap.rules[0].window.rolling_hours"),
    ({"frequency_cap": {"rules": [CAP["rules"][0]] * 11}}, "frequency_cap.rules"),
    ({"frequency_cap": {"rules": [], "on_cap": "drop"}}, "frequency_cap.on_cap"),
    ({"frequency_cap": {"rules": [{"max_messages": 0, "window": "calendar_day"}]}},
     "frequency_cap.rules[0].max_messages"),
    ({"throttle": {"email": {"per_minute": 100_001}}}, "throttle.email.per_minute"),
    ({"throttle": {"email": {"per_minute": 0}}}, "throttle.email.per_minute"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
])
def test_a_wrong_value_is_422_naming_its_field(acme: TestClient, body: dict[str, Any],
                                               field: str) -> None:
    answer = acme.put(SETTINGS, json=body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    named = problem.get("field") or [e["field"] for e in problem.get("errors", [])]
    assert field == named or field in named, problem
    assert ok(acme.get(SETTINGS))["version"] == 0
