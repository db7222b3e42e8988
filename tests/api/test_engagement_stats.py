"""Opens, clicks and replies over HTTP (CAPABILITIES §2, acceptance checks 1 to 4):
posted as CRM events, read back in a sequence's stats (per step and in ``engagement``, with
rates over deliveries) and in the message list (``opened_at``, ``clicked_at``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, envelope, ok

EVENTS = "/api/v1/events"
AT = "2026-11-29T09:00:00Z"  # the test clock's time: the messages were sent at once
STEP = {"order": 0, "name": "hello", "delay_amount": 0, "delay_unit": "minutes",
        "message_template": {"type": "text", "content": "hi", "channel": "email"}}
COUNTERS = ("message_requested", "delivered", "opened", "opened_machine", "clicked",
            "clicked_bot")


def _post(client: TestClient, event_id: str, kind: str, message: dict[str, Any],
          status: int = 202, **data: Any) -> Any:
    return ok(client.post(EVENTS, json=envelope(
        event_id, kind, message["contact_id"], {"message_id": message["message_id"], **data},
        at=AT)), status)


def _outcome(answer: Any) -> str:
    [result] = answer["results"]
    return str(result["outcome"])


def _sent(acme: TestClient, runtime: Runtime, contacts: int) -> tuple[str, list[Any]]:
    """A one-step sequence whose step is due at once, ``contacts`` contacts enrolled: their
    messages, in contact order."""
    sequence = build_sequence(acme, {"name": "Engagement", "steps": [STEP]})
    ids = [f"c-{n}" for n in range(contacts)]
    enrolled = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll/bulk",
                            json={"contact_ids": ids}))
    assert enrolled["enrolled_count"] == contacts
    runtime.catch_up()
    listed = ok(acme.get(f"{V1}/messages", params={"sequence_id": sequence["id"]}))
    messages = sorted(listed["items"], key=lambda m: int(m["contact_id"][2:]))
    assert [m["contact_id"] for m in messages] == ids
    return str(sequence["id"]), messages


def _stats(acme: TestClient, runtime: Runtime, sequence_id: str, **params: Any) -> Any:
    runtime.catch_up()
    return ok(acme.get(f"{V1}/sequences/{sequence_id}/stats", params=params))


def _counts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[k] for k in COUNTERS)


def test_ten_messages_six_delivered_three_opened_two_clicked(
        acme: TestClient, runtime: Runtime) -> None:
    sequence_id, messages = _sent(acme, runtime, 10)
    for n, message in enumerate(messages[:6]):
        _post(acme, f"delivered-{n}", "message_delivered", message)
    # Opens on three of the delivered ones, the third by a machine (a privacy proxy).
    _post(acme, "open-0", "message_opened", messages[0])
    _post(acme, "open-1", "message_opened", messages[1])
    _post(acme, "open-2", "message_opened", messages[2], machine=True)
    # Clicks on both human-opened ones; a second link of one of them changes no count.
    _post(acme, "click-0", "message_clicked", messages[0], url="https://acme.example/a")
    _post(acme, "click-1", "message_clicked", messages[1], url="https://acme.example/a")
    _post(acme, "click-0b", "message_clicked", messages[0], url="https://acme.example/b")
    # A reply naming no message: the contact's latest message, c-3's only one.
    ok(acme.post(EVENTS, json=envelope("reply-3", "contact_replied", "c-3",
                                       {"channel": "email"}, at="2026-11-29T09:05:00Z")), 202)

    stats = _stats(acme, runtime, sequence_id)
    [step] = stats["steps"]
    assert _counts(step) == (10, 6, 2, 1, 2, 0)
    assert step["rates"] == {"base": "delivered", "open_rate": 0.333, "click_rate": 0.333,
                             "click_to_open": 1.0, "reply_rate": 0.167,
                             "unsubscribe_rate": 0.0}
    assert (step["replied"], step["avg_seconds_to_first_reply"]) == (1, 300.0)
    assert stats["engagement"] == {"sent": 10, "delivered": 6, "opened": 2,
                                   "opened_machine": 1, "clicked": 2, "clicked_bot": 0,
                                   "replied": 1, "unsubscribed": 0,
                                   "avg_seconds_to_first_reply": 300.0,
                                   "rates": step["rates"]}
    assert _stats(acme, runtime, sequence_id, revision=1)["engagement"] == stats["engagement"]

    listed = ok(acme.get(f"{V1}/messages", params={"sequence_id": sequence_id, "limit": 50}))
    shown = {m["contact_id"]: (m["status"], m["opened_at"], m["clicked_at"])
             for m in listed["items"]}
    assert shown["c-0"] == ("delivered", "2026-11-29T09:00:00Z", "2026-11-29T09:00:00Z")
    assert shown["c-2"] == ("delivered", None, None)  # a machine's open is no human's
    assert shown["c-9"] == ("requested", None, None)
    replied = {m["contact_id"]: m["replied_at"] for m in listed["items"] if m["replied_at"]}
    assert replied == {"c-3": "2026-11-29T09:05:00Z"}


def test_a_bot_click_and_rates_before_any_delivery(acme: TestClient, runtime: Runtime) -> None:
    sequence_id, messages = _sent(acme, runtime, 4)
    stats = _stats(acme, runtime, sequence_id)
    assert stats["engagement"]["rates"] == {"base": "sent", "open_rate": 0.0,
                                            "click_rate": 0.0, "click_to_open": None,
     "reply_rate": 0.0, "unsubscribe_rate": 0.0}
    _post(acme, "bot", "message_clicked", messages[0], url="https://acme.example/a", bot=True)
    stats = _stats(acme, runtime, sequence_id)
    assert _counts(stats["steps"][0]) == (4, 1, 0, 0, 0, 1)  # delivered by the bot's click
    assert stats["engagement"]["rates"] == {"base": "delivered", "open_rate": 0.0,
                                            "click_rate": 0.0, "click_to_open": None,
     "reply_rate": 0.0, "unsubscribe_rate": 0.0}


def test_a_repeated_open_is_a_duplicate_whatever_its_event_id(
        acme: TestClient, runtime: Runtime) -> None:
    sequence_id, messages = _sent(acme, runtime, 2)
    _post(acme, "delivered", "message_delivered", messages[0])
    assert _outcome(_post(acme, "open", "message_opened", messages[0])) == "applied"
    before = _stats(acme, runtime, sequence_id)

    assert _outcome(_post(acme, "open", "message_opened", messages[0])) == "duplicate"
    assert _outcome(_post(acme, "open-again", "message_opened", messages[0])) == "duplicate"
    after = _stats(acme, runtime, sequence_id)
    assert after == before
    assert _counts(after["steps"][0]) == (2, 1, 1, 0, 0, 0)


def test_a_click_on_an_undelivered_message_delivers_it(
        acme: TestClient, runtime: Runtime) -> None:
    sequence_id, messages = _sent(acme, runtime, 3)
    _post(acme, "delivered", "message_delivered", messages[0])
    before = _stats(acme, runtime, sequence_id)["steps"][0]

    _post(acme, "click", "message_clicked", messages[1], url="https://acme.example/a")
    after = _stats(acme, runtime, sequence_id)["steps"][0]
    assert (after["delivered"], after["clicked"]) == (before["delivered"] + 1, 1)
    assert after["rates"] == {"base": "delivered", "open_rate": 0.0, "click_rate": 0.5,
                              "click_to_open": None,
     "reply_rate": 0.0, "unsubscribe_rate": 0.0}
    # A delivery reported afterwards is not counted again.
    assert _outcome(_post(acme, "late", "message_delivered", messages[1])) == "duplicate"
    assert _stats(acme, runtime, sequence_id)["steps"][0]["delivered"] == 2
    [message] = ok(acme.get(f"{V1}/messages", params={"contact_id": "c-1"}))["items"]
    assert (message["status"], message["opened_at"], message["clicked_at"]) == (
        "delivered", None, "2026-11-29T09:00:00Z")


def test_an_open_naming_another_tenants_message_is_refused(
        acme: TestClient, globex: TestClient, runtime: Runtime) -> None:
    sequence_id, messages = _sent(acme, runtime, 1)
    foreign = ok(globex.post(EVENTS, json=envelope(
        "theirs", "message_opened", "c-0", {"message_id": messages[0]["message_id"]},
        tenant="globex", at=AT)), 422)
    assert foreign["field"] == "data.message_id"
    stats = _stats(acme, runtime, sequence_id)
    assert _counts(stats["steps"][0]) == (1, 0, 0, 0, 0, 0)
    [message] = ok(acme.get(f"{V1}/messages", params={"contact_id": "c-0"}))["items"]
    assert (message["status"], message["opened_at"]) == ("requested", None)


def test_the_enrollment_list_shows_the_version_an_open_made(acme: TestClient,
                                                            runtime: Runtime) -> None:
    sequence_id, messages = _sent(acme, runtime, 1)
    _post(acme, "delivered-first", "message_delivered", messages[0])  # completes it
    _post(acme, "open-after", "message_opened", messages[0])
    runtime.catch_up()
    [listed] = ok(acme.get(f"{V1}/sequences/{sequence_id}/enrollments"))["items"]
    shown = ok(acme.get(f"{V1}/enrollments/{listed['id']}"))
    assert listed["version"] == shown["version"]  # an If-Match taken from the list holds
