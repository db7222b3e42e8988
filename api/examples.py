"""OpenAPI examples: the seed's four real-world usage patterns, as request bodies."""

from __future__ import annotations

from typing import Any


def _step(order: int, name: str, amount: int, unit: str, **template: Any) -> dict[str, Any]:
    return {"order": order, "name": name, "delay_amount": amount, "delay_unit": unit,
            "message_template": {"type": "text", **template}}


WELCOME_ONBOARDING: dict[str, Any] = {
    "name": "Welcome Onboarding", "description": "5-step onboarding for new users",
    "trigger_type": "list_joined", "trigger_data": {"list_id": "l-new-users",
                                                    "list_name": "new-users"},
    "exit_on_reply": False,
    "steps": [
        _step(0, "Welcome Message", 0, "minutes",
              content="Welcome to Ventros CRM! 👋 We're excited to have you on board."),
        _step(1, "Setup Guide", 1, "days",
              content="Here's a quick guide to get you started: [link]"),
        _step(2, "Feature Highlight", 3, "days", type="media",
              content="Check out our most popular feature!",
              media_url="https://cdn.example.com/demo.mp4"),
        {**_step(3, "Check-in Message", 7, "days",
                 content="How's your experience so far? Reply if you need any help!"),
         "conditions": [{"type": "last_activity", "operator": "is_null",
                         "value": "last_reply_at"}]},
        _step(4, "Upgrade Offer", 14, "days", type="template",
              template_id="upgrade_offer_v1", variables={"discount_code": "UPGRADE20"}),
    ],
}

LEAD_NURTURE: dict[str, Any] = {
    "name": "Lead Nurture", "description": "Nurture cold leads to warm prospects",
    "trigger_type": "tag_added", "trigger_data": {"tag_name": "cold-lead"},
    "exit_on_reply": True,
    "steps": [
        _step(0, "Introduction", 5, "minutes",
              content="Hi {{contact.name}}, I saw you're interested in {{product}}. "
                      "Would you like to schedule a demo?",
              variables={"product": "Ventros CRM"}),
        _step(1, "Case Study", 2, "days",
              content="Here's how we helped {{company}} increase conversions by 50%: [link]",
              variables={"company": "Acme"}),
        _step(2, "Final Offer", 5, "days",
              content="Last chance! Book a demo this week and get 20% off your first month."),
    ],
}

RE_ENGAGEMENT: dict[str, Any] = {
    "name": "Win-back Sequence", "description": "Re-engage inactive contacts",
    "trigger_type": "manual", "trigger_data": {},
    "steps": [
        _step(0, "We Miss You", 0, "minutes",
              content="We noticed you haven't been around lately. Is everything okay?"),
        _step(1, "Special Offer", 3, "days",
              content="As a token of appreciation, here's 25% off your next purchase: CODE25"),
        _step(2, "Feedback Request", 7, "days",
              content="Would you mind sharing why you stopped using our service? [survey link]"),
        _step(3, "Final Goodbye", 14, "days",
              content="We're sad to see you go. If you ever need us, we're just a message away."),
    ],
}

WEBINAR_FOLLOW_UP: dict[str, Any] = {
    "name": "Webinar Follow-up", "description": "Follow up with webinar attendees",
    "trigger_type": "form_submit", "trigger_data": {"form_id": "f-webinar",
                                                    "form_name": "webinar-registration"},
    "steps": [
        _step(0, "Thank You", 1, "hours",
              content="Thanks for attending today's webinar! Here's the recording: [link]"),
        _step(1, "Additional Resources", 2, "days",
              content="Here are the slides and additional resources we mentioned: [link]"),
        {**_step(2, "Book Consultation", 5, "days",
                 content="Want to discuss how we can help you? "
                         "Book a free consultation: [calendar link]"),
         "conditions": [{"type": "custom_field", "operator": "greater_than", "value": "0",
                         "field": "engagement_score"}]},
    ],
}

SEQUENCES = {
    "welcome_onboarding": WELCOME_ONBOARDING,
    "lead_nurture": LEAD_NURTURE,
    "re_engagement": RE_ENGAGEMENT,
    "webinar_follow_up": WEBINAR_FOLLOW_UP,
}

SEQUENCE_EXAMPLES: dict[str, Any] = {
    key: {"summary": body["name"], "value": body} for key, body in SEQUENCES.items()
}

STEP_EXAMPLES: dict[str, Any] = {
    f"{key}_step_{i}": {"summary": f"{body['name']}: {step['name']}", "value": step}
    for key, body in SEQUENCES.items() for i, step in enumerate(body["steps"][:2])
}

STEPS_EXAMPLES: dict[str, Any] = {
    "new_arrangement": {
        "summary": "Keep two steps, swapping them, and add a new one between",
        "value": {"steps": [
            {**LEAD_NURTURE["steps"][2], "id": "5d0f4b8e-3c1a-4f7e-9b2d-0a6c8e1f2b3c",
             "order": 0},
            {**_step(1, "Reminder", 1, "days", content="Did you see my last message?")},
            {**LEAD_NURTURE["steps"][1], "id": "8a7b6c5d-4e3f-4a1b-8c9d-0e1f2a3b4c5d",
             "order": 2}]}},
    "from_a_template": {
        "summary": "One step written out, one copied from a step template",
        "value": {"steps": [
            _step(0, "Welcome", 0, "minutes", content="Welcome, {{contact.name}}!"),
            {"template_id": "builtin:check-in-if-no-reply", "order": 1,
             "overrides": {"delay_amount": 3, "delay_unit": "days"}}]}},
}

EVENT_EXAMPLES: dict[str, Any] = {
    "lead_nurture_tag": {"summary": "Lead nurture: the cold-lead tag enrolls the contact",
                         "value": {"event_id": "evt-123", "type": "tag_added",
                                   "tenant_id": "acme", "contact_id": "c-42",
                                   "occurred_at": "2026-11-29T10:00:00Z",
                                   "data": {"tag_id": "t-1", "tag_name": "cold-lead"}}},
    "webinar_form": {"summary": "Webinar follow-up: the registration form enrolls",
                     "value": [{"event_id": "evt-200", "type": "form_submit",
                                "tenant_id": "acme", "contact_id": "c-7",
                                "occurred_at": "2026-11-29T10:00:00Z",
                                "data": {"form_id": "f-webinar",
                                         "form_name": "webinar-registration",
                                         "fields": {"email": "ana@example.com"}}}]},
    "reply_exits": {"summary": "A reply exits sequences with exit_on_reply",
                    "value": {"event_id": "evt-124", "type": "contact_replied",
                              "tenant_id": "acme", "contact_id": "c-42",
                              "occurred_at": "2026-11-30T08:00:00Z",
                              "data": {"channel": "whatsapp", "message_id": "wamid-1"}}},
}
