"""The seed's four usage patterns, end to end on the application with a manual clock:
messages requested in order with rendered content, at their due times and never earlier,
conditions and exits applied at send time, completion after the last step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import SETTLE
from domain.errors import InvalidInputError
from tests.execution.support import (
    TENANT,
    active_sequence,
    contents,
    crm,
    enrollment,
    execute_exactly_at,
    history_types,
    requests,
    run_out,
    settle,
    step,
)

DAY = timedelta(days=1)
DEMO = "https://cdn.example.com/demo.mp4"
NO_REPLY = {"type": "last_activity", "operator": "is_null", "value": "last_reply_at"}


def onboarding(app: DriplineApp, on_fail: str = "skip", exit_on_reply: bool = False) -> UUID:
    """Pattern 1: welcome onboarding, five steps over 25 days."""
    return active_sequence(app, [
        step(0, "Welcome to Ventros CRM, {{ contact.name }}! 👋"),
        step(1, "Here's a quick guide to get you started: [link]", amount=1, unit="days"),
        step(2, amount=3, unit="days", message_template={
            "type": "media", "content": "Check out our most popular feature!",
            "media_url": DEMO}),
        step(3, "How's your experience so far? Reply if you need any help!", amount=7,
             unit="days", conditions=[NO_REPLY], on_condition_fail=on_fail),
        step(4, amount=14, unit="days", message_template={
            "type": "template", "template_id": "upgrade_offer_v1",
            "variables": {"discount_code": "UPGRADE20"}}),
    ], exit_on_reply=exit_on_reply)


def test_onboarding_requests_every_step_in_order_at_its_time(
        app: DriplineApp, clock: ManualClock) -> None:
    start = clock()
    sequence_id = onboarding(app)
    crm(app, "contact_updated", "c-1", name="Ana")
    e = app.enroll(TENANT, sequence_id, "c-1")
    assert len(requests(app, e.id)) == 1  # the welcome is due at once: sent on enrolling
    # Each step is due its delay after the previous one was executed.
    for offset in (1, 4, 11, 25):
        assert execute_exactly_at(app, clock, e.id, start + offset * DAY).result == "requested"
    done = settle(app, clock, e.id)
    assert (done.status, done.completed_at, done.next_scheduled_at) == (
        "completed", start + 25 * DAY + SETTLE, None)
    sent = requests(app, e.id)
    assert [r["step_order"] for r in sent] == [0, 1, 2, 3, 4]
    assert sent[0]["content"] == "Welcome to Ventros CRM, Ana! 👋"
    assert (sent[2]["type"], sent[2]["media_url"]) == ("media", DEMO)
    assert (sent[4]["type"], sent[4]["template_id"], sent[4]["variables"]) == (
        "template", "upgrade_offer_v1", {"discount_code": "UPGRADE20"})
    assert [r["due_at"] for r in sent] == [
        (start + d * DAY).isoformat() for d in (0, 1, 4, 11, 25)]
    sequence = app.get_sequence(TENANT, sequence_id)
    first = sent[0]
    assert first == {
        "message_id": f"{e.id}:0:1", "tenant_id": TENANT, "contact_id": "c-1",
        "sequence_id": str(sequence_id), "enrollment_id": str(e.id),
        "step_id": str(sequence.steps[0].id), "step_order": 0, "attempt": 1,
        "channel": "whatsapp", "type": "text", "content": "Welcome to Ventros CRM, Ana! 👋",
        "template_id": None, "variables": {}, "media_url": None,
        "due_at": start.isoformat(), "created_at": start.isoformat(), "variant": None}
    assert run_out(app, clock, [e.id]) == []


@pytest.mark.parametrize("on_fail", ["skip", "exit"])
def test_onboarding_check_in_once_the_contact_replied(
        app: DriplineApp, clock: ManualClock, on_fail: str) -> None:
    start = clock()
    crm(app, "contact_updated", "c-1", name="Ana")
    e = app.enroll(TENANT, onboarding(app, on_fail), "c-1")
    for offset in (1, 4):
        execute_exactly_at(app, clock, e.id, start + offset * DAY)
    clock.set(start + 6 * DAY)
    crm(app, "contact_replied", "c-1", channel="whatsapp", message_id=f"{e.id}:2:1")
    assert enrollment(app, e.id).status == "active"  # exit_on_reply is off here
    outcome = execute_exactly_at(app, clock, e.id, start + 11 * DAY)
    if on_fail == "skip":
        assert outcome.result == "skipped"
        assert "enrollment.step_skipped" in history_types(app, e.id)
        # The upsell keeps coming, 14 days after the skipped check-in.
        execute_exactly_at(app, clock, e.id, start + 25 * DAY)
        assert [r["step_order"] for r in requests(app, e.id)] == [0, 1, 2, 4]
        assert settle(app, clock, e.id).status == "completed"
    else:
        assert outcome.result == "exited"
        done = enrollment(app, e.id)
        assert (done.status, done.exit_reason) == ("exited", "condition_not_met")
        assert [r["step_order"] for r in requests(app, e.id)] == [0, 1, 2]
    assert run_out(app, clock, [e.id]) == []


def test_onboarding_out_of_office_reply_is_not_a_reply(app: DriplineApp,
                                                        clock: ManualClock) -> None:
    start = clock()
    crm(app, "contact_updated", "c-1", name="Ana")
    e = app.enroll(TENANT, onboarding(app, "exit", exit_on_reply=True), "c-1")
    for offset in (1, 4):
        execute_exactly_at(app, clock, e.id, start + offset * DAY)
    crm(app, "contact_replied", "c-1", channel="email", out_of_office=True)
    execute_exactly_at(app, clock, e.id, start + 11 * DAY)
    assert requests(app, e.id)[-1]["step_order"] == 3


@pytest.mark.parametrize("read_models", [True, False], ids=["lookups", "no_lookups"])
def test_onboarding_with_exit_on_reply_exits_on_the_reply(
        app: DriplineApp, bare_app: DriplineApp, clock: ManualClock, read_models: bool) -> None:
    # The open enrollments of a contact come from the write-side index, written with the
    # enrollment: with or without read models the reply exits at once.
    application = app if read_models else bare_app
    start = clock()
    crm(application, "contact_updated", "c-1", name="Ana")
    e = application.enroll(TENANT, onboarding(application, "skip", exit_on_reply=True), "c-1")
    clock.set(start + DAY / 2)
    crm(application, "contact_replied", "c-1", channel="whatsapp")
    assert run_out(application, clock, [e.id]) == []
    done = enrollment(application, e.id)
    assert (done.status, done.exit_reason) == ("exited", "contact_replied")
    assert len(requests(application, e.id)) == 1


def lead_nurture(app: DriplineApp) -> UUID:
    """Pattern 2: enrolled when the cold-lead tag is added; exits on reply."""
    return active_sequence(app, [
        step(0, amount=5, message_template={
            "type": "text",
            "content": "Hi {{contact.name}}, I saw you're interested in {{product}}. "
                       "Would you like to schedule a demo?",
            "variables": {"contact.name": "John", "product": "Ventros CRM"}}),
        step(1, "Here's how we helped {{ contact.company }} increase conversions by 50%: "
                "[link]", amount=2, unit="days"),
        step(2, "Last chance! Book a demo this week and get 20% off your first month.",
             amount=5, unit="days"),
    ], trigger_type="tag_added", trigger_data={"tag_name": "cold-lead"}, exit_on_reply=True)


def test_lead_nurture_seed_template_with_an_unknown_variable_is_refused(
        app: DriplineApp) -> None:
    with pytest.raises(InvalidInputError) as refused:
        app.create_sequence(TENANT, {"name": "seed as written", "steps": [
            step(0, "Here's how we helped {{company}} increase conversions by 50%")]})
    assert refused.value.field == "steps[0].message_template.content"
    assert "company" in refused.value.reason


def test_lead_nurture_enrolls_on_the_tag_and_exits_on_reply(app: DriplineApp,
                                                            clock: ManualClock) -> None:
    start = clock()
    lead_nurture(app)
    crm(app, "contact_updated", "maria", name="Maria", custom_fields={"company": "Globex"})
    crm(app, "contact_updated", "anon", custom_fields={"company": "Initech"})
    maria = crm(app, "tag_added", "maria", tag_name="cold-lead").enrolled
    anon = crm(app, "tag_added", "anon", tag_name="cold-lead").enrolled
    assert len(maria) == len(anon) == 1
    for enrollment_id in (*maria, *anon):
        execute_exactly_at(app, clock, enrollment_id, start + timedelta(minutes=5))
    # The dotted static variable is only the fallback for a fact the CRM has not told us.
    assert contents(app, maria[0]) == [
        "Hi Maria, I saw you're interested in Ventros CRM. Would you like to schedule a demo?"]
    assert contents(app, anon[0])[0].startswith("Hi John, I saw you're interested in Ventros")
    execute_exactly_at(app, clock, maria[0], start + timedelta(minutes=5) + 2 * DAY)
    assert contents(app, maria[0])[1].startswith("Here's how we helped Globex increase")
    clock.advance(timedelta(hours=3))
    crm(app, "contact_replied", "maria", channel="whatsapp", message_id=f"{maria[0]}:1:1")
    assert run_out(app, clock, maria) == []
    done = enrollment(app, maria[0])
    assert (done.status, done.exit_reason) == ("exited", "contact_replied")
    assert len(requests(app, maria[0])) == 2
    # The other lead, who did not reply, gets the whole sequence.
    run_out(app, clock, anon)
    assert len(requests(app, anon[0])) == 3
    assert enrollment(app, anon[0]).status == "completed"


def test_lead_nurture_reply_exits_at_once_without_read_models(
        bare_app: DriplineApp, clock: ManualClock) -> None:
    start = clock()
    sequence_id = lead_nurture(bare_app)
    crm(bare_app, "contact_updated", "maria", name="Maria", custom_fields={"company": "Globex"})
    e = bare_app.enroll(TENANT, sequence_id, "maria")
    execute_exactly_at(bare_app, clock, e.id, start + timedelta(minutes=5))
    crm(bare_app, "contact_replied", "maria", channel="sms")
    assert enrollment(bare_app, e.id).exit_reason == "contact_replied"
    assert run_out(bare_app, clock, [e.id]) == []
    assert len(requests(bare_app, e.id)) == 1


def test_re_engagement_runs_to_completion_for_every_contact(app: DriplineApp,
                                                            clock: ManualClock) -> None:
    """Pattern 3: manual enrollment, four steps over 24 days, executed as one batch."""
    start = clock()
    texts = ["We noticed you haven't been around lately. Is everything okay?",
             "As a token of appreciation, here's 25% off your next purchase: CODE25",
             "Would you mind sharing why you stopped using our service? [survey link]",
             "We're sad to see you go. If you ever need us, we're just a message away."]
    sequence_id = active_sequence(app, [
        step(i, text, amount=days, unit="days") for i, (text, days) in
        enumerate(zip(texts, (0, 3, 7, 14), strict=True))])
    ids = [e.id for e in app.enroll_many(TENANT, sequence_id, ["c-1", "c-2", "c-3"]).enrolled]
    due_times: list[datetime] = [start]  # the first step is due at once: sent on enrolling
    for offset in (3, 10, 24):
        moment = start + offset * DAY
        assert {enrollment(app, i).next_scheduled_at for i in ids} == {moment}
        clock.set(moment - timedelta(seconds=1))
        assert app.execute_due(ids) == []
        clock.set(moment)
        assert [o.result for o in app.execute_due(ids)] == ["requested"] * 3
        due_times.append(moment)
    clock.advance(SETTLE)
    assert [o.result for o in app.execute_due(ids)] == ["completed"] * 3
    for enrollment_id in ids:
        assert contents(app, enrollment_id) == texts
        assert [r["due_at"] for r in requests(app, enrollment_id)] == [
            d.isoformat() for d in due_times]
        assert enrollment(app, enrollment_id).status == "completed"
    assert run_out(app, clock, ids) == []


def webinar(app: DriplineApp, on_fail: str = "exit") -> UUID:
    """Pattern 4: enrolled on the webinar form; the consultation only for engaged contacts."""
    engaged = {"type": "custom_field", "operator": "greater_than", "value": "0",
               "field": "engagement_score"}
    return active_sequence(app, [
        step(0, "Thanks for attending today's webinar! Here's the recording: [link]",
             amount=1, unit="hours"),
        step(1, "Here are the slides and additional resources we mentioned: [link]",
             amount=2, unit="days"),
        step(2, "Want to discuss how we can help you? Book a free consultation: "
                "[calendar link]", amount=5, unit="days", conditions=[engaged],
             on_condition_fail=on_fail),
    ], trigger_type="form_submit", trigger_data={"form_id": "webinar-42"})


@pytest.mark.parametrize("on_fail", ["exit", "skip"])
def test_webinar_consultation_only_for_positive_engagement(
        app: DriplineApp, clock: ManualClock, on_fail: str) -> None:
    webinar(app, on_fail)
    people = ["engaged", "zero", "negative", "unknown", "text"]
    ids: dict[str, UUID] = {}
    for person in people:
        [ids[person]] = crm(app, "form_submit", person, form_id="webinar-42",
                            form_name="Webinar", fields={}).enrolled
    clock.advance(3 * DAY)
    scores: dict[str, Any] = {"engaged": 3, "zero": 0, "negative": -2, "text": "high"}
    for person, score in scores.items():
        crm(app, "contact_updated", person, custom_fields={"engagement_score": score})
    run_out(app, clock, list(ids.values()))
    assert [r["step_order"] for r in requests(app, ids["engaged"])] == [0, 1, 2]
    assert enrollment(app, ids["engaged"]).status == "completed"
    for person in people[1:]:
        assert [r["step_order"] for r in requests(app, ids[person])] == [0, 1], person
        done = enrollment(app, ids[person])
        if on_fail == "exit":
            assert (done.status, done.exit_reason) == ("exited", "condition_not_met")
        else:
            assert done.status == "completed"
            assert history_types(app, ids[person])[-2:] == [
                "enrollment.step_skipped", "sequence.enrollment_completed"]
