"""Smart-sending window and resume policy through HTTP: written, shown, listed, validated."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dripline.bootstrap import Runtime
from tests.api.conftest import V1, ok

WINDOW = {"hours": [9, 10, 11, 12, 13, 14, 15, 16, 17], "weekdays": ["mon", "tue", "wed"],
          "timezone": "Europe/Berlin"}


def test_window_and_resume_policy_round_trip(acme: TestClient, runtime: Runtime) -> None:
    created = ok(acme.post(f"{V1}/sequences", json={
        "name": "Office hours", "send_window": WINDOW, "resume_policy": "skip_missed"}), 201)
    assert created["send_window"] == WINDOW
    assert created["resume_policy"] == "skip_missed"
    runtime.catch_up()
    listed = ok(acme.get(f"{V1}/sequences"))["items"][0]
    assert listed["send_window"] == WINDOW
    assert listed["resume_policy"] == "skip_missed"

    changed = ok(acme.put(f"{V1}/sequences/{created['id']}",
                          json={"send_window": None, "resume_policy": "send_late"}))
    assert changed["send_window"] is None
    assert changed["resume_policy"] == "send_late"
    runtime.catch_up()
    listed = ok(acme.get(f"{V1}/sequences"))["items"][0]
    assert listed["send_window"] is None
    assert listed["resume_policy"] == "send_late"


def test_defaults_when_not_given(acme: TestClient) -> None:
    created = ok(acme.post(f"{V1}/sequences", json={"name": "Plain"}), 201)
    assert created["send_window"] is None
    assert created["resume_policy"] == "send_late"


def test_bad_windows_are_422_naming_the_field(acme: TestClient) -> None:
    for window, field in (({"hours": [24]}, "hours"), ({"hours": []}, "hours"),
                          ({"hours": [9], "weekdays": ["someday"]}, "weekdays"),
                          ({"hours": [9], "timezone": "Mars/Olympus"}, "timezone")):
        answer = acme.post(f"{V1}/sequences", json={"name": "x", "send_window": window})
        assert answer.status_code == 422, answer.text
        assert field in answer.text
